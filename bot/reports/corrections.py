"""Reports corrected after sending.

A head may correct a report already sent until the plan's ``corrections_days`` after its
period's due day (``open_for_corrections``); each correction is a new version, the old
ones kept. The secretariat's digest lists the reports that got a new version since a
moment, with what changed: storage finds them (``Transaction.corrected_reports``), and
``corrections_of`` and ``corrections_paragraph`` say what changed, purely.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from bot.domain import Report
from bot.i18n import DAY, _, format_date
from bot.plan.model import Form, Plan, Question
from bot.plan.periods import Period, parse_period
from bot.reports.answers import answer_number, answer_text
from bot.text import shortened

SHOWN_CHANGES = 4  # the changes a digest line names; the others are counted


def corrections_until(plan: Plan, form: Form, period: Period) -> date:
    """The last day a report of ``period`` may be corrected: its due day, plus the plan's
    ``corrections_days``."""
    return period.due_date(form.due) + timedelta(days=plan.corrections_days)


def open_for_corrections(plan: Plan, form: Form, period: Period, today: date) -> bool:
    """Whether a report of ``period`` already sent may be corrected on ``today`` (the plan's
    local date)."""
    return today <= corrections_until(plan, form, period)


@dataclass(frozen=True)
class Change:
    question_id: str
    before: Any
    after: Any


@dataclass(frozen=True)
class Correction:
    """A report given a new version: from ``before`` (the version that stood) to
    ``version`` (the latest), sent at ``submitted_at``, and the answers that changed."""

    village_id: str
    form_id: str
    period: str
    before: int
    version: int
    submitted_at: datetime
    changes: tuple[Change, ...]


def corrections_of(pairs: list[tuple[Report, Report]]) -> list[Correction]:
    """The corrections of ``Transaction.corrected_reports(since)`` (for each report, the
    version that stood at ``since`` and the latest), in its order, each with the answers
    that differ between the two."""
    found = []
    for old, new in pairs:
        keys = list(new.answers) + [k for k in old.answers if k not in new.answers]
        changes = tuple(
            Change(key, old.answers.get(key), new.answers.get(key))
            for key in keys
            if old.answers.get(key) != new.answers.get(key)
        )
        found.append(
            Correction(
                new.village_id,
                new.form_id,
                new.period,
                old.version,
                new.version,
                new.submitted_at,
                changes,
            )
        )
    return found


def corrections_paragraph(plan: Plan, corrections: list[Correction], since: datetime) -> str | None:
    """The digest's paragraph on corrections, in the current locale: one line per report
    corrected since ``since`` (village, form, period, versions, day, what changed); None
    when there was none."""
    if not corrections:
        return None
    day = format_date(since.astimezone(plan.tz).date(), DAY)
    lines = [_("Báo cáo đã gửi được sửa lại từ ngày {day}:").format(day=day)]
    for correction in corrections:
        lines.append("- " + correction_line(plan, correction))
    return "\n".join(lines)


def correction_line(plan: Plan, correction: Correction) -> str:
    """``Thôn 3 · Báo cáo tháng kỳ tháng 10/2026: phiên bản 1 → 2 (ngày 20/11/2026):
    Tổng số hộ 412 hộ → 420 hộ``."""
    village = plan.village(correction.village_id)
    form = next((f for f in plan.forms if f.id == correction.form_id), None)
    try:
        period = parse_period(correction.period).label()
    except ValueError:
        period = correction.period
    head = _("{village} · {form} kỳ {period}: phiên bản {before} → {version} (ngày {day})").format(
        village=village.name if village else correction.village_id,
        form=form.title if form else correction.form_id,
        period=period,
        before=correction.before,
        version=correction.version,
        day=format_date(correction.submitted_at.astimezone(plan.tz).date(), DAY),
    )
    if not correction.changes:
        return head + ": " + _("không đổi câu trả lời nào")
    questions = {q.id: q for q in form.questions} if form else {}
    shown = [
        _("{label} {before} → {after}").format(
            label=questions[c.question_id].label if c.question_id in questions else c.question_id,
            before=_value(questions.get(c.question_id), c.before),
            after=_value(questions.get(c.question_id), c.after),
        )
        for c in correction.changes[:SHOWN_CHANGES]
    ]
    more = len(correction.changes) - SHOWN_CHANGES
    if more > 0:
        shown.append(_("và {count} câu khác").format(count=more))
    return head + ": " + "; ".join(shown)


def _value(question: Question | None, value: Any) -> str:
    """An answer as a digest line shows it; never raises, whatever was stored."""
    if value is None:
        return _("(bỏ qua)")
    if isinstance(value, bool | dict) or answer_number(question, value) is not None:
        return answer_text(question, value)
    return "“" + shortened(str(value), 40) + "”"
