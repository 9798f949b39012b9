"""CSV exports of the reports: for a spreadsheet (``spreadsheet_csv``: one row per report,
Vietnamese headers, decimal commas, a BOM, the default) and for machines (``to_csv``: one
row per answer, ``--plain``)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from bot.domain import Person, Report
from bot.i18n import _
from bot.plan.model import COMMUNE_ID, Plan, Question
from bot.plan.periods import parse_period

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


def village_names(plan: Plan) -> dict[str, str]:
    """Whose report each stored village id is, as a table shows it: a village's name, and
    the commune's (``plan.commune``) for the commune's own reports (``COMMUNE_ID``). The
    one map every export reads; a village no longer in the plan is absent (callers show its
    id). Not made spreadsheet-safe: the caller does."""
    names = {village.id: village.name for village in plan.villages}
    names[COMMUNE_ID] = plan.commune
    return names


def village_label(names: Mapping[str, str], village_id: str) -> str:
    """A stored village id as a table shows it: its name from ``village_names``, or the id
    itself for a village no longer in the plan."""
    return names.get(village_id, village_id)


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
    names = village_names(plan)
    for report in reports:
        try:
            form = plan.form(report.form_id)
            questions = {q.id: q for q in form.questions}
        except KeyError:
            questions = {}
        for question_id, value in report.answers.items():
            question = questions.get(question_id)
            yield [
                report.period,
                spreadsheet_safe(village_label(names, report.village_id)),
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


# What a spreadsheet CSV begins with so that Excel reads it as UTF-8 (without it, Excel
# takes the bytes for the machine's code page and shows Vietnamese letters garbled).
BOM = "\ufeff"
# The separator Excel expects where the decimal mark is a comma (Vietnamese settings): a
# comma would split every decimal number in two.
SPREADSHEET_DELIMITER = ";"


def question_header(question: Question) -> str:
    """A question's column header: its label with its unit (``Tổng số hộ (hộ)``)."""
    return f"{question.label} ({question.unit})" if question.unit else question.label


def spreadsheet_value(question: Question | None, value: Any) -> str:
    """A value as a Vietnamese spreadsheet reads it: numbers with a decimal comma and no
    grouping (``12,5``, ``1240``), yes/no as ``Có``/``Không``, a file's id, a text or a
    choice as given, made spreadsheet-safe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("Có") if value else _("Không")
    if question is not None and question.numeric:
        return plain_value(question, value).replace(".", ",")
    return plain_value(question, value)


def _period_label(key: str) -> str:
    """``tháng 11/2026`` for ``2026-11``: a spreadsheet would turn the key into a date."""
    try:
        return parse_period(key).label()
    except ValueError:
        return key


def spreadsheet_csv(plan: Plan, reports: Iterable[Report], people: dict[int, Person]) -> str:
    """The reports as a CSV that Excel opens right with Vietnamese settings: a BOM,
    ``;``-separated, one row per report (period, village, form, version, when and by whom),
    then one column per question of the forms exported, headed by its label and unit; an
    answer to a question no longer in the plan goes under its id, at the end."""
    reports = list(reports)
    present = {r.form_id for r in reports}
    questions: dict[str, Question | None] = {}
    forms: dict[str, str] = {}
    for form in plan.forms:
        forms[form.id] = form.title
        if form.id in present:
            for question in form.questions:
                questions.setdefault(question.id, question)
    for report in reports:
        for question_id in report.answers:
            questions.setdefault(question_id, None)
    header = [_("Kỳ"), _("Thôn"), _("Biểu mẫu"), _("Phiên bản"), _("Gửi lúc"), _("Người gửi")]
    header += [question_header(q) if q else question_id for question_id, q in questions.items()]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=SPREADSHEET_DELIMITER, lineterminator="\r\n")
    writer.writerow([spreadsheet_safe(h) for h in header])
    names = village_names(plan)
    for report in reports:
        row = [
            _period_label(report.period),
            spreadsheet_safe(village_label(names, report.village_id)),
            spreadsheet_safe(forms.get(report.form_id, report.form_id)),
            str(report.version),
            f"{report.submitted_at.astimezone(plan.tz):%d/%m/%Y %H:%M}",
            spreadsheet_safe(person_label(people.get(report.submitted_by), report.submitted_by)),
        ]
        row += [
            spreadsheet_value(q, report.answers.get(question_id))
            for question_id, q in questions.items()
        ]
        writer.writerow(row)
    return BOM + buffer.getvalue()
