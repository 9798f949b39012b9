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

from bot.i18n import _, format_date, format_number
from bot.plan.model import Indicator, Plan
from bot.plan.periods import Period
from bot.reports.numbers import stored_number

# village id -> question id -> stored answer (numbers as strings, yes/no as bools)
VillageAnswers = Mapping[str, Mapping[str, Any]]

HUNDRED = Decimal(100)


def indicator_value(indicator: Indicator, answers: VillageAnswers) -> Decimal | None:
    """The commune's value of an indicator, or None when no village gave what it needs.

    - ratio: the sum of numerators over the sum of denominators, across the villages
      that gave both, in % — never an average of village percentages;
    - share_yes: the % of the villages that answered the question that answered yes;
    - sum: the sum over the villages that answered.
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
            return None
        return top / bottom * HUNDRED
    (question_id,) = indicator.questions
    if indicator.kind == "share_yes":
        given: list[bool] = [
            value for v in answers.values() if isinstance(value := v.get(question_id), bool)
        ]
        if not given:
            return None
        return Decimal(sum(given)) / Decimal(len(given)) * HUNDRED
    values = [
        n for n in (stored_number(v.get(question_id)) for v in answers.values()) if n is not None
    ]
    return sum(values, Decimal(0)) if values else None


@dataclass(frozen=True)
class IndicatorFigure:
    indicator: Indicator
    value: Decimal | None
    previous: Decimal | None

    @property
    def met(self) -> bool | None:
        if self.value is None or self.indicator.target is None:
            return None
        return self.indicator.target.met(self.value)

    @property
    def change(self) -> Decimal | None:
        """Change from the previous period (percentage points for ratios and shares)."""
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def is_percentage(self) -> bool:
        return self.indicator.kind in ("ratio", "share_yes")


def indicator_figures(
    plan: Plan, form_id: str, current: VillageAnswers, previous: VillageAnswers
) -> list[IndicatorFigure]:
    """Every indicator computed from one form's answers, with last period's value."""
    figures = []
    for indicator in plan.form_indicators(form_id):
        figures.append(
            IndicatorFigure(
                indicator,
                indicator_value(indicator, current),
                indicator_value(indicator, previous),
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


def _amount(value: Decimal, percentage: bool, unit: str | None) -> str:
    if percentage:
        return format_number(value.quantize(Decimal("0.1")).normalize()) + "%"
    text = format_number(value.quantize(Decimal("0.01")).normalize())
    return f"{text} {unit}" if unit else text


def _figure_line(figure: IndicatorFigure, unit: str | None) -> str:
    indicator = figure.indicator
    if figure.value is None:
        return _("- {title}: chưa có số liệu").format(title=indicator.title)
    line = f"- {indicator.title}: {_amount(figure.value, figure.is_percentage, unit)}"
    if indicator.target is not None:
        target = _amount(indicator.target.value, figure.is_percentage, unit)
        mark = _("đạt") if figure.met else _("chưa đạt")
        line += " " + _("(mục tiêu {op} {target}): {mark}").format(
            op=_OPS.get(indicator.target.op, indicator.target.op), target=target, mark=mark
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
                sign=sign, change=_amount(change, False, unit)
            )
    return line


def render_digest(
    plan: Plan,
    sections: list[FormSection],
    today: date,
    unreachable: Sequence[Unreachable] = (),
    nominations: str | None = None,
) -> str:
    """The digest as text, paragraphs separated by blank lines (for splitting)."""
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
            due=format_date(status.due.date(), "dd/MM/y"),
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
                lines.append(
                    _("Gửi muộn: {names}").format(names=", ".join(names[v] for v in status.late))
                )
        if status.missing:
            lines.append(
                _("Chưa báo cáo: {names}").format(
                    names=", ".join(names.get(v, v) for v in status.missing)
                )
            )
        paragraphs.append("\n".join(lines))
        if section.figures:
            units = {q.id: q.unit for q in form.questions}
            figure_lines = [_("Chỉ tiêu:")]
            for figure in section.figures:
                unit = (
                    units.get(figure.indicator.questions[0])
                    if figure.indicator.kind == "sum"
                    else None
                )
                figure_lines.append(_figure_line(figure, unit))
            paragraphs.append("\n".join(figure_lines))
    if nominations:
        paragraphs.append(nominations)
    if unreachable:
        lines = [_("Không liên lạc được (đã chặn bot hoặc bỏ tài khoản):")]
        for person in unreachable:
            who = f"{person.name} ({person.village})" if person.village else person.name
            lines.append(
                "- "
                + _("{who}, từ {date}").format(
                    who=who, date=format_date(person.since.astimezone(plan.tz).date(), "dd/MM/y")
                )
            )
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)
