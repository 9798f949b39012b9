"""CSV export: one row per answer of each report."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from bot.domain import Person, Report
from bot.plan import Plan, Question

COLUMNS = (
    "period",
    "village",
    "form",
    "question",
    "value",
    "unit",
    "version",
    "submitted_at",
    "submitted_by",
)
FORMULA_STARTS = ("=", "+", "-", "@")


def plain_value(question: Question | None, value: Any) -> str:
    """A value in machine form: ``12.5``, ``1234``, ``yes``/``no``, text as typed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if question is not None and question.numeric:
        number = Decimal(str(value))
        return (
            format(number.normalize(), "f")
            if number != number.to_integral_value()
            else str(number.quantize(Decimal(1)))
        )
    if isinstance(value, dict):
        return str(value.get("file_id", ""))
    return spreadsheet_safe(str(value))


def spreadsheet_safe(text: str) -> str:
    """A text a spreadsheet shows rather than runs as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def person_label(person: Person | None, person_id: int) -> str:
    if person is None:
        return f"#{person_id}"
    where = ", ".join(f"{i.channel}:{i.user_id}" for i in person.identities)
    if person.is_console:
        where = where or "console"
    return f"{person.name} ({where})" if where else person.name


def report_rows(
    plan: Plan, reports: Iterable[Report], people: dict[int, Person]
) -> Iterable[list[str]]:
    for report in reports:
        village = plan.village(report.village_id)
        try:
            form = plan.form(report.form_id)
            questions = {q.id: q for q in form.questions}
        except KeyError:
            questions = {}
        for question_id, value in report.answers.items():
            question = questions.get(question_id)
            yield [
                report.period,
                village.name if village else report.village_id,
                report.form_id,
                question_id,
                plain_value(question, value),
                (question.unit or "") if question else "",
                str(report.version),
                report.submitted_at.astimezone(plan.tz).isoformat(timespec="seconds"),
                person_label(people.get(report.submitted_by), report.submitted_by),
            ]


def to_csv(plan: Plan, reports: Iterable[Report], people: dict[int, Person]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(report_rows(plan, reports, people))
    return buffer.getvalue()
