"""Build the digest from storage: one section per form's period, figures against targets,
the people the bot cannot reach, and the workbook and chart that go with it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from bot.domain import REVIEW, Nomination, NominationEvent
from bot.i18n import _
from bot.messages import OutgoingFile, Recipe, Reply
from bot.nominations.rules import WAITING_TOO_LONG_DAYS, digest_paragraph
from bot.outputs.chart import ChartData, build_chart, chart_data
from bot.outputs.digest import (
    FormSection,
    IndicatorFigure,
    Reporting,
    Unreachable,
    indicator_figures,
    render_digest,
    reporting,
)
from bot.outputs.workbook import NominationRow, build_workbook
from bot.plan.model import Plan
from bot.plan.periods import Period, parse_period
from bot.plan.schedule import DigestPeriod, digest_periods
from bot.reports.corrections import Correction, corrections_of, corrections_paragraph
from bot.scoring.board import Board
from bot.scoring.views import digest_section, shown_year
from handlers.nominations import NominationDesk
from handlers.scoreboard import load_board
from storage.repository import Storage, Transaction, people_names

T = TypeVar("T")
CHART_PERIODS = 6
# The digest lists the reports corrected after sending in the week before it (the weekly
# digest's week, so each correction reaches the secretariat in one weekly digest).
CORRECTIONS_DAYS = 7


def periods_for(plan: Plan, now: datetime, period: str | None = None) -> list[DigestPeriod]:
    """``period`` for the forms of its kind; else each form's current period, after the
    final figures of the one before when it ended in the last seven days (as the weekly
    digest has them)."""
    if period is None:
        return digest_periods(plan, now, weekly=True)
    wanted = parse_period(period)
    return [
        DigestPeriod(form.id, wanted, wanted.end < now.astimezone(plan.tz).date())
        for form in plan.forms
        if form.period == wanted.kind
    ]


async def digest_sections(
    plan: Plan,
    tx: Transaction,
    now: datetime,
    period: str | None = None,
    periods: list[DigestPeriod] | None = None,
    every_answer: bool = True,
    village: str | None = None,
) -> list[FormSection]:
    """One section per form's period: ``periods``, else each form's current period (or
    ``period``, for the forms of its kind). ``every_answer=False`` reads only the answers
    the indicators need (the text digest), not all a workbook shows. A baseline form has
    no section (it is never due); its answers give the baselines of change targets. With
    ``village``, the sections of that village alone: its answers, its reporting, its figures
    (a head's workbook on the web page)."""

    def mine(by_village: dict[str, T]) -> dict[str, T]:
        """Every village's entry, or only ``village``'s when one is asked for."""
        if village is None:
            return by_village
        return {v: entry for v, entry in by_village.items() if v == village}

    sections = []
    baselines = await change_baselines(plan, tx)
    for each in periods if periods is not None else periods_for(plan, now, period):
        if plan.form(each.form_id).baseline:
            continue
        needed = plan.indicator_questions(each.form_id)
        current = mine(
            await tx.period_answers(each.form_id, each.period.key, None if every_answer else needed)
        )
        previous = mine(await tx.period_answers(each.form_id, each.period.previous().key, needed))
        first = mine(await tx.first_sent(each.form_id, each.period.key))
        status = reporting(plan, each.form_id, each.period, first)
        if village is not None:
            status = replace(status, expected=tuple(v for v in status.expected if v == village))
        figures = indicator_figures(
            plan,
            each.form_id,
            current,
            previous,
            villages=None if village is None else [village],
            baselines=baselines,
        )
        sections.append(FormSection(each.form_id, status, figures, current, final=each.final))
    return sections


async def change_baselines(plan: Plan, tx: Transaction) -> dict[str, dict[str, Any]]:
    """The villages' latest baseline-form answers, read only when some change target
    measures its baseline from them (else empty)."""
    wanted = any(
        i.target is not None
        and i.target.direction is not None
        and i.baseline is None
        and i.baseline_from
        for i in plan.indicators
    )
    forms = [form.id for form in plan.forms if form.baseline]
    if not wanted or not forms:
        return {}
    return await tx.baseline_answers(forms)


async def unreachable_people(plan: Plan, tx: Transaction) -> list[Unreachable]:
    found = []
    for person in await tx.people(unreachable_only=True):
        if person.unreachable:
            village = plan.village(person.village_id or "") if person.village_id else None
            since = min(i.unreachable_at for i in person.identities if i.unreachable_at)
            found.append(Unreachable(person.name, village.name if village else None, since))
    return found


@dataclass(frozen=True)
class DigestData:
    """What a digest shows, read once; rendered per locale by ``render``."""

    sections: list[FormSection]
    history: list[tuple[str, list[Period]]]  # the chart's form, and its last periods
    first_sent: dict[str, dict[str, datetime]]  # period key -> village -> first sent
    unreachable: list[Unreachable]
    now: datetime
    new_nominations: list[Nomination] = field(default_factory=list)  # the last 7 days
    waiting_nominations: list[Nomination] = field(default_factory=list)  # review, > 7 days
    nominations: list[NominationRow] = field(default_factory=list)  # all, for the workbook
    corrections: list[Correction] = field(default_factory=list)  # since corrections_since
    corrections_since: datetime | None = None
    board: Board | None = None  # the scoreboard (``read_board``), for its section and sheet


async def read_board(plan: Plan, tx: Transaction, now: datetime) -> Board | None:
    """The scoreboard a digest shows: the board of ``shown_year`` as of the digest's day (the
    frozen one once the council froze it), read without recording anything, so that a
    read-only snapshot serves; None when the plan has no scoring or no report is due yet."""
    if plan.scoring is None:
        return None
    today = now.astimezone(plan.tz).date()
    year = shown_year(plan, today)
    if year is None:
        return None
    return await load_board(tx, plan, year, today, now, record=False)


async def read_digest(
    plan: Plan,
    tx: Transaction,
    now: datetime,
    period: str | None = None,
    periods: list[DigestPeriod] | None = None,
    text_only: bool = False,
) -> DigestData:
    """Everything a digest shows; ``text_only`` leaves out what only the workbook and the
    chart show (most answers, the reporting history)."""
    sections = await digest_sections(plan, tx, now, period, periods, not text_only)
    history: list[tuple[str, list[Period]]] = []
    first_sent: dict[str, dict[str, datetime]] = {}
    if sections and not text_only:
        # The chart follows the first village form, from its most recent period shown, back over
        # at most CHART_PERIODS periods: from the plan's start when it has one (no report
        # was expected before), else from the first period anyone reported.
        villages = [s for s in sections if plan.form(s.form_id).level != "commune"]
        form_id = (villages or sections)[0].form_id
        this = max(s.reporting.period for s in sections if s.form_id == form_id)
        shown = [this]
        while len(shown) < CHART_PERIODS:
            shown.insert(0, shown[0].previous())
        if plan.starts is not None:
            shown = [p for p in shown if p.end >= plan.starts] or [this]
        for each in shown:
            first_sent[each.key] = await tx.first_sent(form_id, each.key)
        if plan.starts is None:
            while len(shown) > 1 and not first_sent[shown[0].key]:
                del first_sent[shown.pop(0).key]
        history.append((form_id, shown))
    corrections_since = now - timedelta(days=CORRECTIONS_DAYS)
    corrections = corrections_of(await tx.corrected_reports(corrections_since))
    week_ago = now - timedelta(days=WAITING_TOO_LONG_DAYS)
    new = await tx.nominations(since=week_ago)
    waiting = [n for n in await tx.nominations(statuses=(REVIEW,)) if n.created_at < week_ago]
    rows: list[NominationRow] = []
    if not text_only:
        every = await tx.nominations()
        if every:
            names = await people_names(tx)
            events: dict[int, list[NominationEvent]] = {}
            for event in await tx.nomination_events():
                events.setdefault(event.nomination_id, []).append(event)
            rows = [NominationRow(n, events.get(n.id, []), names) for n in every]
    return DigestData(
        sections,
        history,
        first_sent,
        await unreachable_people(plan, tx),
        now,
        new,
        waiting,
        rows,
        corrections,
        corrections_since,
        await read_board(plan, tx, now),
    )


def digest_text(plan: Plan, data: DigestData) -> str:
    """The digest's text in the current locale."""
    return render_digest(
        plan,
        data.sections,
        data.now.astimezone(plan.tz).date(),
        data.unreachable,
        digest_paragraph(plan, data.new_nominations, data.waiting_nominations),
        corrections_paragraph(plan, data.corrections, data.corrections_since)
        if data.corrections_since is not None
        else None,
        digest_section(plan, data.board) if data.board is not None else None,
    )


def chart_input(plan: Plan, data: DigestData) -> tuple[list[IndicatorFigure], list[Reporting]]:
    """What the digest's chart is drawn from: the indicators (of the final period when a
    form shows two) and the first form's reporting by village over its last periods."""
    figures = []
    finals = {s.form_id for s in data.sections if s.final}
    for section in data.sections:
        if section.final or section.form_id not in finals:
            figures.extend(section.figures)
    history = [
        reporting(plan, form_id, each, data.first_sent[each.key])
        for form_id, shown in data.history
        for each in shown
    ]
    return figures, history


def digest_chart_data(plan: Plan, data: DigestData) -> ChartData:
    """Everything the digest's chart shows (``chart_data``), as of the digest's day."""
    figures, history = chart_input(plan, data)
    return chart_data(plan, figures, history, data.now.astimezone(plan.tz).date())


def digest_chart(plan: Plan, data: DigestData) -> bytes:
    """The digest's PNG (see ``chart_input``)."""
    figures, history = chart_input(plan, data)
    return build_chart(plan, figures, history, data.now.astimezone(plan.tz).date())


def digest_files(plan: Plan, data: DigestData) -> tuple[OutgoingFile, OutgoingFile]:
    day = f"{data.now.astimezone(plan.tz):%Y-%m-%d}"
    return (
        OutgoingFile(f"thidua-{day}.xlsx", digest_workbook(plan, data)),
        OutgoingFile(f"thidua-{day}.png", digest_chart(plan, data), is_image=True),
    )


def digest_workbook(plan: Plan, data: DigestData) -> bytes:
    return build_workbook(plan, data.sections, data.nominations, data.board)


def digest_reply(plan: Plan, data: DigestData) -> Reply:
    """The digest as it is sent: the text, then the workbook and the chart."""
    return Reply(digest_text(plan, data), files=digest_files(plan, data))


async def digest_in(plan: Plan, tx: Transaction, now: datetime, period: str | None = None) -> str:
    """The digest as text, read within the unit of work ``tx``."""
    return digest_text(plan, await read_digest(plan, tx, now, period, text_only=True))


async def chart_png(plan: Plan, tx: Transaction, now: datetime, period: str | None = None) -> bytes:
    return digest_chart(plan, await read_digest(plan, tx, now, period))


class Renderer:
    """Makes the replies whose making is heavy (``Recipe``: the digest, the workbook, the
    bulletin) when they are sent: the figures are read from a read-only snapshot (no unit of
    work waits for it) and computed and rendered in a worker thread (the event loop goes on),
    in the current locale."""

    def __init__(self, plan: Plan, storage: Storage, desk: NominationDesk) -> None:
        self.plan = plan
        self.storage = storage
        self.desk = desk

    async def __call__(self, recipe: Recipe, with_files: bool = True) -> list[Reply]:
        plan = self.plan
        if recipe.kind == "bulletin":
            async with self.storage.reading() as tx:
                text = await self.desk.bulletin(tx, self.desk.this_week(recipe.at))
            return [Reply(text)]
        text_only = recipe.kind == "digest" or not with_files
        async with self.storage.reading() as tx:
            data = await read_digest(plan, tx, recipe.at, recipe.period, text_only=text_only)
        if recipe.kind == "digest":
            return [Reply(await asyncio.to_thread(digest_text, plan, data))]
        title = _("Bảng tính tổng hợp các kỳ hiện tại:")
        if not with_files:
            return [Reply(title, files=(OutgoingFile(workbook_name(plan, recipe.at), b""),))]
        workbook = await asyncio.to_thread(digest_workbook, plan, data)
        return [Reply(title, files=(OutgoingFile(workbook_name(plan, recipe.at), workbook),))]

    async def render(self, replies: list[Reply], with_files: bool = True) -> list[Reply]:
        """``replies`` with every recipe made."""
        if all(reply.recipe is None for reply in replies):
            return replies
        made: list[Reply] = []
        for reply in replies:
            if reply.recipe is None:
                made.append(reply)
            else:
                made.extend(await self(reply.recipe, with_files))
        return made


def workbook_name(plan: Plan, at: datetime) -> str:
    return f"thidua-{at.astimezone(plan.tz):%Y-%m-%d}.xlsx"
