"""What a village's achievement report is pre-filled with, read from storage: its reports
due in the board's window (sent or not, on time or not) and its good deeds accepted in the
window, with their history.

The same rules as the board's (``bot.scoring.rules``): the reports due are
``rules.due_reports``; a report counts as sent when its first version was sent by the end
of the scoring date, on time when that was by the end of its due day in the plan's
timezone; a good deed counts when the secretariat accepted it (an ``accepted`` event)
within the window, so a nomination closed as not eligible never appears.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time

from bot.domain import NominationEvent
from bot.outputs.digest import reporting
from bot.outputs.dossier import GoodDeed, ReportDue, VillageRecord
from bot.plan.model import Plan
from bot.scoring import rules
from bot.scoring.board import Board
from storage.repository import Transaction


def _aware(moment: datetime) -> datetime:
    """A stored moment as an aware datetime (a naive one is UTC, as stored)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def village_records(
    tx: Transaction, plan: Plan, board: Board, village_ids: Sequence[str]
) -> dict[str, VillageRecord]:
    """village id -> its record for the board's year and scoring date, for each of
    ``village_ids`` in that order."""
    window = rules.window(plan, board.year, board.as_of)
    sent_by = rules.sent_by(plan, window)
    since = datetime.combine(window.start, time(0), tzinfo=plan.tz)
    until = datetime.combine(window.end, time.max, tzinfo=plan.tz)
    wanted = set(village_ids)
    reports: dict[str, list[ReportDue]] = {v: [] for v in village_ids}
    for form, period in rules.due_reports(plan, window):
        first_sent = {
            village: _aware(moment)
            for village, moment in (await tx.first_sent(form.id, period.key)).items()
            if village in wanted and _aware(moment) <= sent_by
        }
        status = reporting(plan, form.id, period, first_sent)
        on_time = set(status.on_time)
        for village in village_ids:
            reports[village].append(
                ReportDue(
                    form.title,
                    period,
                    period.due_date(form.due),
                    first_sent.get(village),
                    village in on_time,
                )
            )
    deeds: dict[str, list[GoodDeed]] = {v: [] for v in village_ids}
    for nomination in await tx.nominations():
        if nomination.village_id not in wanted:
            continue
        events = await tx.nomination_events(nomination_id=nomination.id)
        accepted = [e for e in events if e.action == "accepted" and since <= _aware(e.at) <= until]
        if not accepted:
            continue
        history: tuple[NominationEvent, ...] = tuple(
            sorted((e for e in events if _aware(e.at) <= until), key=lambda e: _aware(e.at))
        )
        deeds[nomination.village_id].append(GoodDeed(nomination, accepted[0].at, history))
    for items in deeds.values():
        items.sort(key=lambda deed: (_aware(deed.accepted_at), deed.nomination.id))
    return {
        village: VillageRecord(village, tuple(reports[village]), tuple(deeds[village]))
        for village in village_ids
    }
