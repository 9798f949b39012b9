"""Commune figures for the digest: indicators against targets, and who reported when.

Pure functions over the latest answers of each village; storage supplies the rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from bot.i18n import DAY, _, format_date, format_number
from bot.plan.model import DEFAULT_MIN_COVERAGE, Indicator, Plan
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


@dataclass(frozen=True)
class IndicatorFigure:
    """One indicator of one period: its value, the villages it stands on (``counted`` of
    ``total``), and last period's value with the villages that one stood on.

    Whether the target is met is said only when the figure stands on enough villages: every
    one for a sum (a part of the commune cannot be held against the whole commune's target),
    at least ``min_coverage`` % of them for a ratio or a share. The change from last period
    is given only when both periods stand on enough villages."""

    indicator: Indicator
    value: Decimal | None
    previous: Decimal | None
    counted: int = 0
    total: int = 0
    previous_counted: int = 0
    min_coverage: Decimal = DEFAULT_MIN_COVERAGE

    def enough(self, counted: int) -> bool:
        """Whether ``counted`` of the ``total`` villages are enough for a verdict."""
        if self.total <= 0:
            return False
        if self.indicator.kind == "sum":
            return counted >= self.total
        return Decimal(counted) * HUNDRED >= self.min_coverage * Decimal(self.total)

    @property
    def complete(self) -> bool:
        """There is a value and it stands on enough villages for a verdict."""
        return self.value is not None and self.enough(self.counted)

    @property
    def reached(self) -> bool | None:
        """The value against the target, whatever it stands on (None: no value or target)."""
        if self.value is None or self.indicator.target is None:
            return None
        return self.indicator.target.met(self.value)

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
) -> list[IndicatorFigure]:
    """Every indicator computed from one form's answers, with last period's value, each
    standing on the answers of ``villages`` (default: the plan's villages; answers of a
    village no longer in the plan do not count)."""
    wanted = [v.id for v in plan.villages] if villages is None else list(villages)
    keep = set(wanted)
    now = {v: a for v, a in current.items() if v in keep}
    before = {v: a for v, a in previous.items() if v in keep}
    figures = []
    for indicator in plan.form_indicators(form_id):
        value, counted = indicator_measure(indicator, now)
        last, last_counted = indicator_measure(indicator, before)
        figures.append(
            IndicatorFigure(
                indicator,
                value,
                last,
                counted,
                len(wanted),
                last_counted,
                plan.min_coverage,
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
    """Who reported ``period``: every village is expected, except in periods outside the
    plan's dates, where none is."""
    form = plan.form(form_id)
    due_day = period.due_date(form.due)
    tz = ZoneInfo(plan.timezone)
    due = datetime.combine(due_day, datetime.max.time(), tzinfo=tz)
    outside = (plan.starts is not None and period.end < plan.starts) or (
        plan.ends is not None and period.start > plan.ends
    )
    expected = () if outside else tuple(v.id for v in plan.villages)
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


def target_text(figure: IndicatorFigure) -> str | None:
    """The figure's target as the digest writes it (``≥ 95%``), or None."""
    target = figure.indicator.target
    if target is None:
        return None
    op = _OPS.get(target.op, target.op)
    return f"{op} {amount_text(target.value, figure.unit)}"


def verdict_text(figure: IndicatorFigure) -> str | None:
    """``đạt``, ``chưa đạt`` or ``chưa đủ số liệu (1/19 thôn)``; None without a target
    or a value."""
    if figure.indicator.target is None or figure.value is None:
        return None
    if not figure.complete:
        return _("chưa đủ số liệu ({coverage})").format(
            coverage=coverage_text(figure.counted, figure.total)
        )
    return _("đạt") if figure.met else _("chưa đạt")


def _figure_line(figure: IndicatorFigure) -> str:
    indicator = figure.indicator
    if figure.value is None:
        return _("- {title}: chưa có số liệu").format(title=indicator.title)
    line = f"- {indicator.title}: {amount_text(figure.value, figure.unit)}"
    coverage = coverage_text(figure.counted, figure.total)
    target = target_text(figure)
    if target is None:
        line += f" ({coverage})"
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
) -> str:
    """The digest as text, paragraphs separated by blank lines (for splitting);
    ``corrections`` (the reports corrected after sending) follows the forms' sections."""
    names = {v.id: v.name for v in plan.villages}
    paragraphs = [
        _("TỔNG HỢP THI ĐUA – {commune}\n{date}").format(
            commune=plan.commune, date=format_date(today, "long")
        )
    ]
    for section in sections:
        form = plan.form(section.form_id)
        status = section.reporting
        total = len(status.expected)
        heading = _("{form} – kỳ {period} (hạn {due})").format(
            form=form.title,
            period=status.period.label(),
            due=format_date(status.due.date(), DAY),
        )
        if section.final:
            heading += " – " + _("số liệu cuối kỳ")
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
        paragraphs.append("\n".join(lines))
        if section.figures:
            figure_lines = [_("Chỉ tiêu:")]
            figure_lines += [_figure_line(figure) for figure in section.figures]
            paragraphs.append("\n".join(figure_lines))
    if corrections:
        paragraphs.append(corrections)
    if nominations:
        paragraphs.append(nominations)
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
