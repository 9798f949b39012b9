"""CSV export: one row per answer of each report."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from bot.domain import Person, Report
from bot.plan.model import Plan, Question

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
# A text starting with one of these can be taken for a formula by a spreadsheet (OWASP,
# "CSV Injection"): a tab or a carriage return first is skipped by some, leaving the rest.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def plain_value(question: Question | None, value: Any) -> str:
    """A value in machine form: ``12.5``, ``1234``, ``yes``/``no``, a file's id; a text or
    a choice as given, made spreadsheet-safe."""
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


def looks_like_formula(text: str) -> bool:
    """Whether a spreadsheet could take ``text`` for a formula: it starts with one of
    ``FORMULA_STARTS``. The one rule for every export, CSV and XLSX."""
    return text.startswith(FORMULA_STARTS)


def spreadsheet_safe(text: str) -> str:
    """``text`` for a CSV field: with a ``'`` in front when it looks like a formula, so a
    spreadsheet shows it rather than runs it (OWASP), and every line break a line feed: the
    csv module quotes a field holding a line feed but not one holding a lone carriage
    return, which a spreadsheet takes for the end of the row, starting a new row — and a
    new field, maybe a formula — with what follows."""
    safe = "'" + text if looks_like_formula(text) else text
    return safe.replace("\r\n", "\n").replace("\r", "\n")


def person_label(person: Person | None, person_id: int) -> str:
    """Who sent a report: their name and channel ids (``Nguyễn An (telegram:101)``), or
    ``#id`` for someone no longer known. Not made spreadsheet-safe: the caller does."""
    if person is None:
        return f"#{person_id}"
    where = ", ".join(f"{i.channel}:{i.user_id}" for i in person.identities)
    if person.is_console:
        where = where or "console"
    return f"{person.name} ({where})" if where else person.name


def report_rows(
    plan: Plan, reports: Iterable[Report], people: dict[int, Person]
) -> Iterable[list[str]]:
    """One CSV row per answer; every text a person typed or chose, and their name, made
    spreadsheet-safe. Numbers stay in machine form (``-5`` is a number, not a formula)."""
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
                spreadsheet_safe(village.name if village else report.village_id),
                report.form_id,
                question_id,
                plain_value(question, value),
                (question.unit or "") if question else "",
                str(report.version),
                report.submitted_at.astimezone(plan.tz).isoformat(timespec="seconds"),
                spreadsheet_safe(
                    person_label(people.get(report.submitted_by), report.submitted_by)
                ),
            ]


def to_csv(plan: Plan, reports: Iterable[Report], people: dict[int, Person]) -> str:
    """The reports as CSV text, a header row first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(report_rows(plan, reports, people))
    return buffer.getvalue()
