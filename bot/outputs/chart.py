"""The digest's PNG chart: each indicator's value against its target, in the digest's own
units, and each village's reporting over the last periods.

``chart_data`` decides everything the chart shows (pure, tested on its own); ``build_chart``
draws it with matplotlib's Agg backend (no screen needed)."""

from __future__ import annotations

import io
import textwrap
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from bot.i18n import N_, _
from bot.outputs.digest import (
    IndicatorFigure,
    Reporting,
    amount_text,
    coverage_text,
    target_text,
    verdict_text,
)
from bot.plan.model import Plan

# A village's report for one period, as the grid paints it.
MISSING, LATE, ON_TIME, NOT_DUE, NOT_EXPECTED = 0, 1, 2, 3, 4
# What each state is called, in the chart's legend and on the web page alike.
STATE_LABELS = {
    ON_TIME: N_("Đúng hạn"),
    LATE: N_("Gửi muộn"),
    MISSING: N_("Chưa gửi, đã quá hạn"),
    NOT_DUE: N_("Chưa gửi, chưa đến hạn"),
    NOT_EXPECTED: N_("Ngoài thời gian kế hoạch"),
}
STATE_COLOURS = ("#d9534f", "#f0ad4e", "#5cb85c", "#e3e3e3", "#ffffff")
COLOURS = ListedColormap(list(STATE_COLOURS))
# An indicator's bar: its target met, not met, or too few villages to say.
MET, NOT_MET, NOT_ENOUGH, NO_DATA = "met", "not_met", "not_enough", "no_data"
BAR_COLOURS = {MET: "#5cb85c", NOT_MET: "#d9534f", NOT_ENOUGH: "#9e9e9e", NO_DATA: "#9e9e9e"}
TARGET_COLOUR = "black"

MAX_VILLAGE_ROWS = 60
DPI = 110
WIDTH = 13.0  # inches
# Titles are wrapped to these many characters, which their panels hold at their font size.
SUPTITLE_WIDTH = 110
LEFT_TITLE_WIDTH = 60
RIGHT_TITLE_WIDTH = 44
LABEL_WIDTH = 30  # an indicator's name beside its bar
_PYPLOT = threading.Lock()


def wrap(text: str, width: int) -> str:
    """``text`` on lines of at most ``width`` characters (a longer word stays whole)."""
    return "\n".join(textwrap.wrap(text, width, break_long_words=False)) or text


@dataclass(frozen=True)
class Bar:
    """One indicator: its value and target in its own unit, and what the chart writes."""

    label: str  # the indicator's title, wrapped
    value: float | None
    target: float | None
    status: str  # MET, NOT_MET, NOT_ENOUGH or NO_DATA
    text: str  # beside the bar: value and target, then the verdict and the coverage


@dataclass(frozen=True)
class BarGroup:
    """The indicators of one unit, drawn on one axis in that unit (``%``, ``ha``…)."""

    unit: str | None
    axis_label: str
    bars: tuple[Bar, ...]
    limit: float  # the axis runs from 0 to this


@dataclass(frozen=True)
class Grid:
    """Villages (rows) by periods (columns, oldest first), each cell a state."""

    periods: tuple[str, ...]
    villages: tuple[str, ...]  # names
    states: tuple[tuple[int, ...], ...]
    total_villages: int


@dataclass(frozen=True)
class ChartData:
    title: str
    indicators_title: str
    groups: tuple[BarGroup, ...]
    bar_legend: tuple[tuple[str, str], ...]  # (label, colour); the target's line is added
    grid_title: str
    grid: Grid
    grid_legend: tuple[tuple[str, str], ...]  # (label, colour) of the states the grid holds
    size: tuple[float, float]  # inches; the PNG is ``size`` × ``DPI`` pixels

    @property
    def pixels(self) -> tuple[int, int]:
        return round(self.size[0] * DPI), round(self.size[1] * DPI)


def cell_state(village: str, status: Reporting, today: date) -> int:
    """On time, late, not yet due (the period's due day has not passed), missing, or not
    expected (a period outside the plan's dates)."""
    if village not in status.expected:
        return NOT_EXPECTED
    sent = status.first_sent.get(village)
    if sent is not None:
        return ON_TIME if sent <= status.due else LATE
    if today <= status.due.date():
        return NOT_DUE
    return MISSING


def _worst(villages: list[str], history: list[Reporting]) -> list[str]:
    """The ``MAX_VILLAGE_ROWS`` villages with the most missing, then late, reports, kept in
    the plan's order: a chart of 2,000 rows would help no one."""
    on_time = [set(status.on_time) for status in history]
    late = [set(status.late) for status in history]

    def shortfall(village: str) -> int:
        return sum(
            0 if village in good else 1 if village in slow else 2
            for good, slow in zip(on_time, late, strict=True)
        )

    ranked = sorted(range(len(villages)), key=lambda i: -shortfall(villages[i]))
    keep = sorted(ranked[:MAX_VILLAGE_ROWS])
    return [villages[i] for i in keep]


def _bar(figure: IndicatorFigure) -> Bar:
    coverage = coverage_text(figure.counted, figure.total)
    target = target_text(figure)
    if figure.value is None:
        status, text = NO_DATA, _("chưa có số liệu")
    else:
        status = NOT_ENOUGH if not figure.complete else MET if figure.met else NOT_MET
        first = amount_text(figure.value, figure.unit)
        if target is not None:
            first = _("{value} (mục tiêu {target})").format(value=first, target=target)
        verdict = verdict_text(figure)
        second = verdict if status == NOT_ENOUGH else f"{verdict}, {coverage}"
        text = f"{first}\n{second}"
    goal = _goal(figure)
    return Bar(
        wrap(figure.indicator.title, LABEL_WIDTH),
        None if figure.value is None else float(figure.value),
        None if goal is None else float(goal),
        status,
        text,
    )


def _goal(figure: IndicatorFigure) -> Decimal | None:
    """Where the target's line is drawn, in the bar's own unit: the target's value, or for a
    change target the level that meets it (baseline − 1 for ``decrease >= 1``); None when
    there is no target or the change target's baseline is not known."""
    target = figure.indicator.target
    if target is None:
        return None
    if target.direction is None:
        return target.value
    if not figure.baseline_known or figure.baseline is None:
        return None
    if target.direction == "decrease":
        return figure.baseline - target.value
    return figure.baseline + target.value


def _groups(figures: Sequence[IndicatorFigure]) -> tuple[BarGroup, ...]:
    """The indicators that have a target, one group per unit, percentages first; a change
    target is drawn only once its baseline is known (its line is then the level that meets it)."""
    by_unit: dict[str | None, list[IndicatorFigure]] = {}
    for figure in figures:
        if _goal(figure) is not None:
            by_unit.setdefault(figure.unit, []).append(figure)
    units = sorted(by_unit, key=lambda u: u != "%")
    groups = []
    for unit in units:
        bars = tuple(_bar(f) for f in by_unit[unit])
        top = max(
            [b.value for b in bars if b.value is not None]
            + [b.target for b in bars if b.target is not None]
            + [100.0 if unit == "%" else 1.0]
        )
        if unit == "%":
            axis = _("Tỷ lệ (%); vạch đen: mục tiêu")
        elif unit:
            axis = _("{unit}; vạch đen: mục tiêu").format(unit=unit)
        else:
            axis = _("Số lượng; vạch đen: mục tiêu")
        # Room after the longest bar for its two lines of text.
        groups.append(BarGroup(unit, axis, bars, top * 1.75))
    return tuple(groups)


def chart_data(
    plan: Plan, figures: Sequence[IndicatorFigure], history: Sequence[Reporting], today: date
) -> ChartData:
    """What the chart shows. ``history`` is one form's periods, oldest first, as the digest
    chose them (from the plan's ``starts``, or the first period with any report); ``today``
    (in the plan's timezone) tells a period still running from one whose reports are missing.
    """
    history = list(history)
    villages = list(history[-1].expected) if history else [v.id for v in plan.villages]
    if not villages:
        villages = [v.id for v in plan.villages]
    total = len(villages)
    if total > MAX_VILLAGE_ROWS:
        villages = _worst(villages, history)
    names = {v.id: v.name for v in plan.villages}
    states = tuple(tuple(cell_state(v, status, today) for status in history) for v in villages)
    grid = Grid(
        tuple(status.period.key for status in history),
        tuple(names.get(v, v) for v in villages),
        states,
        total,
    )
    grid_title = _("Báo cáo của các thôn theo kỳ")
    if len(villages) < total:
        grid_title += " " + _("({shown} thôn báo cáo kém nhất trong {total} thôn)").format(
            shown=len(villages), total=total
        )
    present = {state for row in states for state in row}
    always = (ON_TIME, LATE, MISSING, NOT_DUE)
    grid_legend = tuple(
        (_(STATE_LABELS[state]), STATE_COLOURS[state])
        for state in (*always, NOT_EXPECTED)
        if state in always or state in present
    )

    groups = _groups(figures)
    bar_legend = (
        (_("Đạt mục tiêu"), BAR_COLOURS[MET]),
        (_("Chưa đạt"), BAR_COLOURS[NOT_MET]),
        (_("Chưa đủ số liệu để đánh giá"), BAR_COLOURS[NOT_ENOUGH]),
    )
    bar_rows = sum(len(g.bars) for g in groups) + 1.6 * len(groups)
    height = max(4.5, 0.42 * bar_rows + 2.2, 0.3 * len(villages) + 2.8)
    return ChartData(
        wrap(f"{plan.title} – {plan.commune}", SUPTITLE_WIDTH),
        wrap(_("Chỉ tiêu so với mục tiêu, theo đơn vị của bản tổng hợp"), LEFT_TITLE_WIDTH),
        groups,
        bar_legend,
        wrap(grid_title, RIGHT_TITLE_WIDTH),
        grid,
        grid_legend,
        (WIDTH, round(height, 2)),
    )


def build_chart(
    plan: Plan,
    figures: Sequence[IndicatorFigure],
    history: Sequence[Reporting],
    today: date | None = None,
) -> bytes:
    """The chart as a PNG. ``today`` defaults to the day after the last period's due day
    (every report not sent is missing). Safe to call from worker threads: pyplot's global
    state is used by one at a time."""
    if today is None:
        today = history[-1].due.date() + timedelta(days=1) if history else date.max
    data = chart_data(plan, figures, history, today)
    with _PYPLOT:
        fig = draw(data)
        try:
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", dpi=DPI)
        finally:
            plt.close(fig)
    return buffer.getvalue()


def draw(data: ChartData) -> Figure:
    """The chart's figure (the caller closes it; pyplot's state is not thread-safe)."""
    fig = plt.figure(figsize=data.size, layout="constrained")
    fig.suptitle(data.title, fontsize=12)
    rows = [len(g.bars) + 1.6 for g in data.groups] or [1.0]
    outer = fig.add_gridspec(1, 2, width_ratios=[3, 2])
    left_spec = outer[0].subgridspec(len(rows), 1, height_ratios=rows)
    lefts = [fig.add_subplot(left_spec[i]) for i in range(len(rows))]
    right = fig.add_subplot(outer[1])

    lefts[0].set_title(data.indicators_title, fontsize=10)
    if not data.groups:
        lefts[0].text(0.5, 0.5, _("Chưa có chỉ tiêu nào có mục tiêu"), ha="center", va="center")
        lefts[0].set_axis_off()
    for ax, group in zip(lefts, data.groups, strict=False):
        positions = list(range(len(group.bars)))
        ax.barh(
            positions,
            [b.value or 0.0 for b in group.bars],
            color=[BAR_COLOURS[b.status] for b in group.bars],
            height=0.6,
        )
        for y, bar in zip(positions, group.bars, strict=True):
            if bar.target is not None:
                ax.plot([bar.target, bar.target], [y - 0.42, y + 0.42], color=TARGET_COLOUR, lw=1.6)
            start = max(bar.value or 0.0, bar.target or 0.0)
            ax.text(start + group.limit * 0.01, y, bar.text, va="center", fontsize=7)
        ax.set_xlim(0, group.limit)
        ax.set_yticks(positions, [b.label for b in group.bars], fontsize=8)
        ax.set_ylim(len(group.bars) - 0.5, -0.5)
        ax.set_xlabel(group.axis_label, fontsize=8)
        ax.tick_params(axis="x", labelsize=7)
    if data.groups:
        handles = [Patch(color=colour, label=label) for label, colour in data.bar_legend]
        handles.append(Line2D([], [], color=TARGET_COLOUR, lw=1.6, label=_("Mục tiêu")))
        fig.legend(handles=handles, loc="outside lower left", ncol=4, fontsize=7, frameon=False)

    grid = data.grid
    if grid.periods:
        right.imshow(
            [list(row) for row in grid.states],
            cmap=COLOURS,
            vmin=0,
            vmax=len(STATE_COLOURS) - 1,
            aspect="auto",
            interpolation="nearest",
        )
        right.set_xticks(range(len(grid.periods)), grid.periods, fontsize=8)
        right.set_yticks(range(len(grid.villages)), grid.villages, fontsize=8)
        # thin white lines between cells, so that neighbouring cells read apart
        right.set_xticks([x - 0.5 for x in range(1, len(grid.periods))], minor=True)
        right.set_yticks([y - 0.5 for y in range(1, len(grid.villages))], minor=True)
        right.grid(which="minor", color="white", linewidth=1)
        right.tick_params(which="minor", length=0)
    else:
        right.set_xticks([])
        right.set_yticks([])
    right.set_title(data.grid_title, fontsize=10)
    fig.legend(
        handles=[
            Patch(facecolor=colour, edgecolor="#999999", label=label)
            for label, colour in data.grid_legend
        ],
        loc="outside lower right",
        ncol=3,
        fontsize=7,
        frameon=False,
    )
    return fig
