"""The digest's PNG chart: indicators against targets, and each village's reporting over the
last periods. Rendered with matplotlib's Agg backend (no screen needed)."""

from __future__ import annotations

import io
import threading

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.colors import ListedColormap

from bot.i18n import _, format_number
from bot.outputs.digest import IndicatorFigure, Reporting
from bot.plan.model import Plan

MISSING, LATE, ON_TIME = 0, 1, 2
MAX_VILLAGE_ROWS = 60
_PYPLOT = threading.Lock()
COLOURS = ListedColormap(["#d9534f", "#f0ad4e", "#5cb85c"])


def _state(village: str, status: Reporting) -> int:
    return ON_TIME if village in status.on_time else LATE if village in status.late else MISSING


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


def build_chart(plan: Plan, figures: list[IndicatorFigure], history: list[Reporting]) -> bytes:
    """A PNG with two panels. ``history`` is oldest first (one form's last periods).
    Safe to call from worker threads: pyplot's global state is used by one at a time."""
    with _PYPLOT:
        return _build_chart(plan, figures, history)


def _build_chart(plan: Plan, figures: list[IndicatorFigure], history: list[Reporting]) -> bytes:
    shown = [f for f in figures if f.value is not None and f.indicator.target is not None]
    villages = list(history[-1].expected) if history else [v.id for v in plan.villages]
    total_villages = len(villages)
    if total_villages > MAX_VILLAGE_ROWS:
        villages = _worst(villages, history)
    names = {v.id: v.name for v in plan.villages}
    height = max(4.0, 0.35 * max(len(shown), len(villages)) + 1.5)
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(13, height), gridspec_kw={"width_ratios": [3, 2]}
    )
    fig.suptitle(f"{plan.title} – {plan.commune}", fontsize=12)

    # Indicators: % of target reached (a ratio of 97,5 % against ≥ 100 % is 97,5).
    labels, reached, colours = [], [], []
    for figure in shown:
        target = figure.indicator.target
        assert target is not None and figure.value is not None
        share = float(figure.value / target.value * 100) if target.value else 100.0
        labels.append(figure.indicator.title)
        reached.append(share)
        colours.append("#5cb85c" if figure.met else "#d9534f")
    if labels:
        positions = range(len(labels))
        left.barh(list(positions), reached, color=colours)
        left.axvline(100, color="black", linewidth=1)
        left.set_yticks(list(positions), labels, fontsize=8)
        left.invert_yaxis()
        for y, value in zip(positions, reached, strict=True):
            left.text(value, y, f" {format_number(round(value, 1))}%", va="center", fontsize=7)
    else:
        left.text(0.5, 0.5, _("Chưa có số liệu"), ha="center", va="center")
        left.set_yticks([])
    left.set_title(
        _("Chỉ tiêu: phần trăm đạt được so với mục tiêu (vạch đen = mục tiêu)"), fontsize=10
    )

    # Reporting: villages × periods, missing / late / on time.
    grid = [[_state(v, status) for status in history] for v in villages]
    if history:
        right.imshow(grid, cmap=COLOURS, vmin=0, vmax=2, aspect="auto")
        right.set_xticks(range(len(history)), [s.period.key for s in history], fontsize=8)
        right.set_yticks(range(len(villages)), [names.get(v, v) for v in villages], fontsize=8)
    title = _("Báo cáo của các thôn: xanh đúng hạn, vàng muộn, đỏ chưa gửi")
    if len(villages) < total_villages:
        title += "\n" + _("({shown} thôn báo cáo kém nhất trong {total} thôn)").format(
            shown=len(villages), total=total_villages
        )
    right.set_title(title, fontsize=10)

    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return buffer.getvalue()
