"""Commune figures for the digest: indicators against targets, and who reported when.

Pure functions over the latest answers of each village; storage supplies the rows. A
commune form's figures stand on the commune's one report (stored under COMMUNE_ID); a
change target (``decrease >= 1``) is measured against the baseline: the indicator's own
``baseline``, else the indicator computed over the villages' baseline-form answers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from bot.i18n import DAY, _, format_date, format_number
from bot.plan.model import COMMUNE_ID, DEFAULT_MIN_COVERAGE, Indicator, Plan
from bot.plan.periods import Period
from bot.reports.numbers import stored_number

# village id -> question id -> stored answer (numbers as strings, yes/no as bools)
VillageAnswers = Mapping[str, Mapping[str, Any]]

HUNDRED = Decimal(100)


def indicator_measure(indicator: Indicator, answers: VillageAnswers) -> tuple[Decimal | None, int]:
    """The commune's value of an indicator (None when no village gave what it needs) and
    how many villages it stands on (its coverage):

    - ratio: the sum of numerators over the sum of denominators, across the villages
      that gave both, in % — never an average of village percentages; it stands on the
      villages that gave both numbers;
    - share_yes: the % of the villages that answered the question that answered yes; it
      stands on the villages that answered;
    - sum: the sum over the villages that answered, which it stands on.
    """
    if indicator.kind == "ratio":
        numerator_id, denominator_id = indicator.questions
        top = bottom = Decimal(0)
        counted = 0
        for village in answers.values():
            numerator = stored_number(village.get(numerator_id))
            denominator = stored_number(village.get(denominator_id))
            if numerator is None or denominator is None:
                continue
            top += numerator
            bottom += denominator
            counted += 1
        if counted == 0 or bottom == 0:
            return None, counted
        return top / bottom * HUNDRED, counted
    (question_id,) = indicator.questions
    if indicator.kind == "share_yes":
        given: list[bool] = [
            value for v in answers.values() if isinstance(value := v.get(question_id), bool)
        ]
        if not given:
            return None, 0
        return Decimal(sum(given)) / Decimal(len(given)) * HUNDRED, len(given)
    values = [
        n for n in (stored_number(v.get(question_id)) for v in answers.values()) if n is not None
    ]
    return (sum(values, Decimal(0)) if values else None), len(values)


def indicator_value(indicator: Indicator, answers: VillageAnswers) -> Decimal | None:
    """The commune's value of an indicator, or None when no village gave what it needs
    (see ``indicator_measure``)."""
    return indicator_measure(indicator, answers)[0]


def baseline_measure(
    indicator: Indicator, baselines: VillageAnswers, villages: Sequence[str]
) -> tuple[Decimal | None, int]:
    """The commune's baseline of an indicator and the villages it stands on: the plan's
    ``baseline`` figure (standing on every village, ``len(villages)``), else the indicator
    computed the same way over the baseline-form answers of ``villages`` (read through
    ``baseline_from``), else ``(None, 0)``."""
    if indicator.baseline is not None:
        return indicator.baseline, len(villages)
    if not indicator.baseline_from or len(indicator.baseline_from) != len(indicator.questions):
        return None, 0
    keep = set(villages)
    given = {v: a for v, a in baselines.items() if v in keep}
    return indicator_measure(replace(indicator, questions=indicator.baseline_from), given)


@dataclass(frozen=True)
class IndicatorFigure:
    """One indicator of one period: its value, the villages it stands on (``counted`` of
    ``total``), and last period's value with the villages that one stood on.

    Whether the target is met is said only when the figure stands on enough villages: every
    one for a sum (a part of the commune cannot be held against the whole commune's target),
    at least ``min_coverage`` % of them for a ratio or a share. The change from last period
    is given only when both periods stand on enough villages.

    ``commune``: a commune form's figure, standing on the commune's own report (``total``
    is 1). For a change target, ``baseline`` is the reference figure, standing on
    ``baseline_counted`` of ``baseline_total`` villages (enough of them, by the same rule,
    for the change to be said and judged)."""

    indicator: Indicator
    value: Decimal | None
    previous: Decimal | None
    counted: int = 0
    total: int = 0
    previous_counted: int = 0
    min_coverage: Decimal = DEFAULT_MIN_COVERAGE
    commune: bool = False
    baseline: Decimal | None = None
    baseline_counted: int = 0
    baseline_total: int = 0

    def enough(self, counted: int, total: int | None = None) -> bool:
        """Whether ``counted`` of the ``total`` villages (default: the figure's) are enough
        for a verdict."""
        total = self.total if total is None else total
        if total <= 0:
            return False
        if self.indicator.kind == "sum":
            return counted >= total
        return Decimal(counted) * HUNDRED >= self.min_coverage * Decimal(total)

    @property
    def changes(self) -> bool:
        """The target is on the change from the baseline (``decrease >= 1``)."""
        target = self.indicator.target
        return target is not None and target.direction is not None

    @property
    def baseline_known(self) -> bool:
        """There is a baseline, standing on enough villages (the plan's own figure does)."""
        if self.baseline is None:
            return False
        if self.indicator.baseline is not None:
            return True
        return self.enough(self.baseline_counted, self.baseline_total)

    @property
    def since_baseline(self) -> Decimal | None:
        """The value minus the baseline (percentage points for ratios and shares), when the
        figure is complete and the baseline known."""
        if not self.complete or not self.baseline_known:
            return None
        assert self.value is not None and self.baseline is not None
        return self.value - self.baseline

    @property
    def complete(self) -> bool:
        """There is a value and it stands on enough villages for a verdict."""
        return self.value is not None and self.enough(self.counted)

    @property
    def reached(self) -> bool | None:
        """The value against the target, whatever it stands on (None: no value or target); a
        change target, the change from the baseline against it (None: no baseline known)."""
        target = self.indicator.target
        if self.value is None or target is None:
            return None
        if target.direction is not None:
            if not self.baseline_known:
                return None
            assert self.baseline is not None
            return target.met(target.change(self.value, self.baseline))
        return target.met(self.value)

    @property
    def met(self) -> bool | None:
        """Whether the target is met; None when there is no target, no value, or the value
        stands on too few villages to say."""
        return self.reached if self.complete else None

    @property
    def change(self) -> Decimal | None:
        """Change from the previous period (percentage points for ratios and shares), when
        both periods stand on enough villages."""
        if not self.complete or self.previous is None or not self.enough(self.previous_counted):
            return None
        assert self.value is not None
        return self.value - self.previous

    @property
    def is_percentage(self) -> bool:
        return self.indicator.kind in ("ratio", "share_yes")

    @property
    def unit(self) -> str | None:
        """The figure's unit as the digest writes it: ``%`` for ratios and shares, the
        question's (or the indicator's) unit for a sum."""
        return "%" if self.is_percentage else self.indicator.unit


def indicator_figures(
    plan: Plan,
    form_id: str,
    current: VillageAnswers,
    previous: VillageAnswers,
    villages: Sequence[str] | None = None,
    baselines: VillageAnswers | None = None,
) -> list[IndicatorFigure]:
    """Every indicator computed from one form's answers, with last period's value, each
    standing on the answers of ``villages`` (default: the plan's villages, or the commune
    alone for a commune form; answers of a village no longer in the plan do not count);
    for a change target, its baseline (``baseline_measure`` over ``baselines``, the
    villages' latest baseline-form answers)."""
    commune = plan.form(form_id).level == "commune"
    every = [v.id for v in plan.villages]
    if villages is not None:
        wanted = list(villages)
    else:
        wanted = [COMMUNE_ID] if commune else every
    keep = set(wanted)
    now = {v: a for v, a in current.items() if v in keep}
    before = {v: a for v, a in previous.items() if v in keep}
    figures = []
    for indicator in plan.form_indicators(form_id):
        value, counted = indicator_measure(indicator, now)
        last, last_counted = indicator_measure(indicator, before)
        baseline, baseline_counted = None, 0
        if indicator.target is not None and indicator.target.direction is not None:
            baseline, baseline_counted = baseline_measure(indicator, baselines or {}, every)
        figures.append(
            IndicatorFigure(
                indicator,
                value,
                last,
                counted,
                len(wanted),
                last_counted,
                plan.min_coverage,
                commune=commune,
                baseline=baseline,
                baseline_counted=baseline_counted,
                baseline_total=len(every),
            )
        )
    return figures


@dataclass(frozen=True)
class Reporting:
    """Who sent one form's report for one period, and who sent it on time."""

    period: Period
    due: datetime  # the end of the due day, in the plan's timezone
    expected: tuple[str, ...]  # village ids
    first_sent: Mapping[str, datetime]  # village id -> when its first version was sent

    @property
    def reported(self) -> list[str]:
        return [v for v in self.expected if v in self.first_sent]

    @property
    def missing(self) -> list[str]:
        return [v for v in self.expected if v not in self.first_sent]

    @property
    def on_time(self) -> list[str]:
        return [v for v in self.reported if self.first_sent[v] <= self.due]

    @property
    def late(self) -> list[str]:
        return [v for v in self.reported if self.first_sent[v] > self.due]


def reporting(
    plan: Plan, form_id: str, period: Period, first_sent: Mapping[str, datetime]
) -> Reporting:
    """Who reported ``period``: every village is expected for a village form, the commune
    alone (COMMUNE_ID) for a commune form, no one for a baseline form (never due), and no
    one in periods outside the plan's dates."""
    form = plan.form(form_id)
    due_day = period.end if form.baseline else period.due_date(form.due)
    tz = ZoneInfo(plan.timezone)
    due = datetime.combine(due_day, datetime.max.time(), tzinfo=tz)
    outside = (plan.starts is not None and period.end < plan.starts) or (
        plan.ends is not None and period.start > plan.ends
    )
    if outside or form.baseline:
        expected: tuple[str, ...] = ()
    elif form.level == "commune":
        expected = (COMMUNE_ID,)
    else:
        expected = tuple(v.id for v in plan.villages)
    return Reporting(period, due, expected, dict(first_sent))


@dataclass(frozen=True)
class FormSection:
    """One form's period in a digest."""

    form_id: str
    reporting: Reporting
    figures: list[IndicatorFigure]
    answers: VillageAnswers  # the latest answers of each village that reported
    final: bool = False  # a period that has ended: its final figures


@dataclass(frozen=True)
class Unreachable:
    """Someone the bot can no longer reach (they blocked it), for the digest."""

    name: str
    village: str | None
    since: datetime


_OPS = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "==": "="}
# A list of villages longer than this is folded: counted, and named by the few left out.
FOLD_AFTER = 5


def village_list(
    ids: Sequence[str], names: Mapping[str, str], among: Sequence[str] | None = None
) -> str:
    """Villages for a line of the digest: their names when there are at most
    ``FOLD_AFTER``; else counted and, when ``among`` (the villages they are taken from)
    leaves out at most ``FOLD_AFTER``, named by those (``18 thôn, tất cả trừ Thôn 1``,
    ``cả 19 thôn``); else counted, then named."""
    shown = [names.get(v, v) for v in ids]
    if len(ids) <= FOLD_AFTER:
        return ", ".join(shown)
    if among is not None:
        chosen = set(ids)
        others = [names.get(v, v) for v in among if v not in chosen]
        if not others:
            return _("cả {count} thôn").format(count=len(ids))
        if len(others) <= FOLD_AFTER:
            return _("{count} thôn, tất cả trừ {names}").format(
                count=len(ids), names=", ".join(others)
            )
    return _("{count} thôn: {names}").format(count=len(ids), names=", ".join(shown))


def coverage_text(counted: int, total: int) -> str:
    """What a figure stands on: ``18/19 thôn``."""
    return _("{counted}/{total} thôn").format(counted=counted, total=total)


def amount_text(value: Decimal, unit: str | None) -> str:
    """A figure in the digest's units: percentages to one decimal (``87,5%``), other
    amounts to two with their unit (``4.833 ha``)."""
    if unit == "%":
        return format_number(value.quantize(Decimal("0.1")).normalize()) + "%"
    text = format_number(value.quantize(Decimal("0.01")).normalize())
    return f"{text} {unit}" if unit else text


def figure_coverage(figure: IndicatorFigure) -> str:
    """What a figure stands on: ``18/19 thôn``, or the commune's own report."""
    if figure.commune:
        return _("số liệu của xã")
    return coverage_text(figure.counted, figure.total)


def change_amount(figure: IndicatorFigure, change: Decimal) -> str:
    """A change's size in the figure's units, without its sign: ``1,3 điểm %`` for a ratio
    or a share (percentage points), ``12 ha`` for a sum."""
    if figure.is_percentage:
        points = format_number(abs(change).quantize(Decimal("0.1")).normalize())
        return _("{points} điểm %").format(points=points)
    return amount_text(abs(change), figure.unit)


def target_text(figure: IndicatorFigure) -> str | None:
    """The figure's target as the digest writes it (``≥ 95%``; a change target ``giảm ≥ 1
    điểm %``), or None."""
    target = figure.indicator.target
    if target is None:
        return None
    op = _OPS.get(target.op, target.op)
    if target.direction is not None:
        word = _("giảm") if target.direction == "decrease" else _("tăng")
        return f"{word} {op} {change_amount(figure, target.value)}"
    return f"{op} {amount_text(target.value, figure.unit)}"


def baseline_text(figure: IndicatorFigure) -> str | None:
    """A change target's baseline and the change from it: ``năm 2023: 4,5%, giảm 1,3
    điểm %``; None when it cannot be said (no baseline known, a figure not complete)."""
    change = figure.since_baseline
    if change is None or figure.baseline is None:
        return None
    year = figure.indicator.baseline_year
    when = _("năm {year}").format(year=year) if year is not None else _("năm làm mốc")
    if change < 0:
        moved = _("giảm {amount}").format(amount=change_amount(figure, change))
    elif change > 0:
        moved = _("tăng {amount}").format(amount=change_amount(figure, change))
    else:
        moved = _("không đổi")
    return _("{when}: {value}, {change}").format(
        when=when, value=amount_text(figure.baseline, figure.unit), change=moved
    )


def verdict_text(figure: IndicatorFigure) -> str | None:
    """``đạt``, ``chưa đạt``, ``chưa đủ số liệu (1/19 thôn)`` or, for a change target with
    no baseline known, ``chưa có số liệu năm làm mốc``; None without a target or a value."""
    if figure.indicator.target is None or figure.value is None:
        return None
    if not figure.complete:
        return _("chưa đủ số liệu ({coverage})").format(coverage=figure_coverage(figure))
    if figure.changes and not figure.baseline_known:
        return _("chưa có số liệu năm làm mốc")
    return _("đạt") if figure.met else _("chưa đạt")


def _figure_line(figure: IndicatorFigure) -> str:
    indicator = figure.indicator
    if figure.value is None:
        return _("- {title}: chưa có số liệu").format(title=indicator.title)
    line = f"- {indicator.title}: {amount_text(figure.value, figure.unit)}"
    coverage = figure_coverage(figure)
    target = target_text(figure)
    baseline = baseline_text(figure)
    if target is None:
        line += f" ({coverage})"
    elif baseline is not None:
        line += " " + _("({coverage}; {baseline}; mục tiêu {target}): {mark}").format(
            coverage=coverage, baseline=baseline, target=target, mark=verdict_text(figure)
        )
    elif figure.complete:
        line += " " + _("({coverage}; mục tiêu {target}): {mark}").format(
            coverage=coverage, target=target, mark=verdict_text(figure)
        )
    else:
        line += " " + _("(mục tiêu {target}): {mark}").format(
            target=target, mark=verdict_text(figure)
        )
    change = figure.change
    if change is not None:
        sign = "+" if change > 0 else ""
        if figure.is_percentage:
            amount = format_number(change.quantize(Decimal("0.1")).normalize())
            line += "; " + _("{sign}{change} điểm phần trăm so với kỳ trước").format(
                sign=sign, change=amount
            )
        else:
            line += "; " + _("{sign}{change} so với kỳ trước").format(
                sign=sign, change=amount_text(change, figure.unit)
            )
    return line


def render_digest(
    plan: Plan,
    sections: list[FormSection],
    today: date,
    unreachable: Sequence[Unreachable] = (),
    nominations: str | None = None,
    corrections: str | None = None,
    scoreboard: str | None = None,
) -> str:
    """The digest as text, paragraphs separated by blank lines (for splitting);
    ``corrections`` (the reports corrected after sending) follows the forms' sections,
    ``scoreboard`` (the board's short section) the nominations."""
    names = {v.id: v.name for v in plan.villages}
    paragraphs = [
        _("TỔNG HỢP THI ĐUA – {commune}\n{date}").format(
            commune=plan.commune, date=format_date(today, "long")
        )
    ]
    for section in sections:
        form = plan.form(section.form_id)
        status = section.reporting
        heading = _("{form} – kỳ {period} (hạn {due})").format(
            form=form.title,
            period=status.period.label(),
            due=format_date(status.due.date(), DAY),
        )
        if section.final:
            heading += " – " + _("số liệu cuối kỳ")
        if form.level == "commune":
            lines = [heading, *_commune_reporting(status, today)]
        else:
            lines = _village_reporting(heading, status, names, today)
        paragraphs.append("\n".join(lines))
        if section.figures:
            figure_lines = [_("Chỉ tiêu:")]
            figure_lines += [_figure_line(figure) for figure in section.figures]
            paragraphs.append("\n".join(figure_lines))
    if corrections:
        paragraphs.append(corrections)
    if nominations:
        paragraphs.append(nominations)
    if scoreboard:
        paragraphs.append(scoreboard)
    if unreachable:
        lines = [_("Không liên lạc được (đã chặn bot hoặc bỏ tài khoản):")]
        for person in unreachable:
            who = f"{person.name} ({person.village})" if person.village else person.name
            lines.append(
                "- "
                + _("{who}, từ {date}").format(
                    who=who, date=format_date(person.since.astimezone(plan.tz).date(), DAY)
                )
            )
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


def _commune_reporting(status: Reporting, today: date) -> list[str]:
    """A commune form's reporting: the commune is its one expected reporter."""
    if COMMUNE_ID not in status.expected:
        return []
    if COMMUNE_ID not in status.first_sent:
        return [_("Báo cáo của xã: chưa gửi (0/1)")]
    if today <= status.due.date():
        return [_("Báo cáo của xã: đã gửi (1/1)")]
    if COMMUNE_ID in status.late:
        return [_("Báo cáo của xã: đã gửi (1/1), gửi muộn")]
    return [_("Báo cáo của xã: đã gửi (1/1), đúng hạn")]


def _village_reporting(
    heading: str, status: Reporting, names: Mapping[str, str], today: date
) -> list[str]:
    """A village form's reporting: how many villages reported, on time, late, missing."""
    total = len(status.expected)
    lines = [
        heading,
        _("Đã báo cáo: {done}/{total} thôn").format(done=len(status.reported), total=total),
    ]
    if today > status.due.date():
        lines.append(
            _("Đúng hạn: {done}/{total} thôn").format(done=len(status.on_time), total=total)
        )
        if status.late:
            lines.append(_("Gửi muộn: {names}").format(names=village_list(status.late, names)))
    if status.missing:
        lines.append(
            _("Chưa báo cáo: {names}").format(
                names=village_list(status.missing, names, status.expected)
            )
        )
    return lines
