"""The scheduled work: daily reminders, the weekly digest and the monthly board message to
heads, queued to the outbox, and the nightly housekeeping.

A few jobs in all, whatever the number of people: each looks at the database when it runs
("which villages have not sent this period's report") and queues one message per person,
under a key that names it (``reminder:<person>:<form>:<period>:<kind>``), so a job that runs
twice — after a restart, or on two instances — queues nothing twice.

``Jobs`` holds what the jobs do, with time injected; ``Scheduler`` runs them on
APScheduler in the plan's timezone and catches up, at start, a run missed by less than
12 hours.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from bot.clock import Clock, clock_offset
from bot.domain import ROLE_CHAIR, ROLE_HEAD, ROLE_OFFICER, ROLE_SECRETARIAT, Person
from bot.i18n import _, use_locale
from bot.messages import Reply
from bot.outputs.digest import reporting
from bot.plan.model import COMMUNE_ID, Plan
from bot.plan.schedule import (
    DigestPeriod,
    ReminderDue,
    at_local,
    digest_periods,
    last_digest_time,
    last_reminder_time,
    reminders_on,
)
from bot.reports import reminders
from bot.scoring.views import shown_year
from handlers.board import head_view
from handlers.digest import digest_reply, periods_for, read_digest
from handlers.notify import queue_to
from handlers.scoreboard import load_board
from storage.repository import Storage, Transaction
from web.signin import DIGEST_LINK_VALID, WebLinks, digest_target

log = logging.getLogger(__name__)

# The secretariat and the chair of the Emulation & Commendation Council: told who is late,
# sent the digest (commune officers, ROLE_OFFICER, are reminded like the heads instead).
COUNCIL_ROLES = (ROLE_SECRETARIAT, ROLE_CHAIR)
CATCH_UP = timedelta(hours=12)
REMINDERS, DIGEST, HOUSEKEEPING = "reminders", "digest", "housekeeping"
EVENTS_KEPT = timedelta(days=3)  # Telegram keeps an unconfirmed update for 24 hours
OUTBOX_KEPT = timedelta(days=90)  # sent and failed messages, for looking into what happened
FAILURES_KEPT = timedelta(days=1)  # wrong invite codes (the lock-out looks back 3 hours)
FILES_KEPT = timedelta(days=7)  # a photo no draft, report or nomination refers to
WEB_KEPT = timedelta(days=2)  # web sign-in links and sessions past their end
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# The monthly board message to each head: on this day of every month, at the plan's
# reminder time (which the plan check keeps out of the quiet hours), when it has scoring.
BOARD = "board"
BOARD_DAY = 1


def last_board_time(plan: Plan, now: datetime) -> datetime:
    """The latest monthly board time <= now: BOARD_DAY of this month (or, before it comes,
    of last month) at the plan's reminder time, in the plan's timezone."""
    tz = plan.tz
    local = now.astimezone(tz)
    day = date(local.year, local.month, BOARD_DAY)
    occasion = at_local(day, plan.schedule.reminder_time, tz)
    if occasion.astimezone(UTC) > now.astimezone(UTC):
        day = (day - timedelta(days=1)).replace(day=BOARD_DAY)
        occasion = at_local(day, plan.schedule.reminder_time, tz)
    return occasion


def _week(moment: datetime) -> str:
    iso = moment.isocalendar()
    return f"{iso.year:04d}-W{iso.week:02d}"


class Jobs:
    def __init__(
        self,
        plan: Plan,
        storage: Storage,
        clock: Clock,
        queued: Callable[[], None] = lambda: None,
        web: WebLinks | None = None,
    ) -> None:
        self.plan = plan
        self.storage = storage
        self.clock = clock
        self.queued = queued  # told when something was queued (wakes the outbox)
        self.web = web  # the web page's links, when it is served: digests link to it

    # -- reminders ----------------------------------------------------------------------

    async def remind(self, occasion: datetime) -> int:
        """Queue the reminders of the day of ``occasion``; returns how many were queued."""
        day = occasion.astimezone(self.plan.tz).date()
        count = 0
        async with self.storage.transaction() as tx:
            dues = reminders_on(self.plan, day)
            if dues:
                people = await tx.people()
                heads = [p for p in people if p.role == ROLE_HEAD and p.village_id]
                officers = [p for p in people if p.role == ROLE_OFFICER]
                council = [p for p in people if p.role in COUNCIL_ROLES]
                drafts = await tx.drafts([p.id for p in heads + officers if p.reachable])
                for due in dues:
                    form = self.plan.form(due.form_id)
                    if form.baseline:  # filled once per village, never reminded
                        continue
                    reporters = officers if form.level == "commune" else heads
                    count += await self._remind_one(tx, due, reporters, council, drafts)
            await tx.set_meta(f"schedule:{REMINDERS}", occasion.isoformat())
        log.info("reminders for %s: %s queued", day, count)
        if count:
            self.queued()
        return count

    async def _remind_one(
        self,
        tx: Transaction,
        due: ReminderDue,
        heads: list[Person],
        officers: list[Person],
        drafts: dict[int, dict[str, Any]],
    ) -> int:
        """Remind ``heads`` (those who report ``due``'s form: village heads, or the commune
        officers for a commune form) whose village (or commune) has not sent it; after the
        due day, tell ``officers`` (the council) who is missing or late."""
        now = self.clock()
        status = reporting(
            self.plan, due.form_id, due.period, await tx.first_sent(due.form_id, due.period.key)
        )
        missing = status.missing
        commune = self.plan.form(due.form_id).level == "commune"

        def reports_for(person: Person) -> str:
            return COMMUNE_ID if commune else person.village_id or ""

        count = 0
        for head in heads:
            if reports_for(head) not in missing or head.reachable is None:
                continue
            key = f"reminder:{head.id}:{due.form_id}:{due.period.key}:{due.kind}"
            with use_locale(head.locale):
                reply = reminders.reminder(
                    self.plan,
                    due,
                    head.name,
                    reminders.reporter_name(self.plan, reports_for(head)),
                    reminders.draft_progress(self.plan, due, drafts.get(head.id)),
                )
            count += await queue_to(tx, key, head, reply, now)
        if not due.late:
            return count
        late = status.late
        if not missing and not late:
            return count
        with_head = {reports_for(h) for h in heads if h.reachable}
        without_head = [v for v in missing if v not in with_head]
        for officer in officers:
            key = f"late:{officer.id}:{due.form_id}:{due.period.key}:{due.kind}"
            with use_locale(officer.locale):
                reply = reminders.late_notice(self.plan, due, missing, late, without_head)
            count += await queue_to(tx, key, officer, reply, now)
        return count

    # -- the digest ---------------------------------------------------------------------

    async def weekly_digest(self, occasion: datetime) -> int:
        """Queue the weekly digest to every secretariat and chair member, once per week."""
        periods = digest_periods(self.plan, occasion, weekly=True)
        week = _week(occasion.astimezone(self.plan.tz))
        count = await self._digest(periods, lambda person: f"digest:{person.id}:{week}")
        async with self.storage.transaction() as tx:
            await tx.set_meta(f"schedule:{DIGEST}", occasion.isoformat())
        log.info("weekly digest %s: %s queued", week, count)
        return count

    async def digest_now(self, period: str | None = None) -> list[Person]:
        """Queue a digest of the current period (or ``period``) to every secretariat and chair
        member now (``thidua digest --send``); returns whom it was queued to."""
        now = self.clock()
        periods = periods_for(self.plan, now, period)
        stamp = now.isoformat()
        recipients: list[Person] = []

        def key(person: Person) -> str:
            recipients.append(person)
            return f"digest-now:{person.id}:{period or ''}:{stamp}"

        await self._digest(periods, key)
        return recipients

    async def _digest(self, periods: list[DigestPeriod], key: Callable[[Person], str]) -> int:
        now = self.clock()
        async with self.storage.transaction() as tx:
            officers = [
                (officer, key(officer))
                for officer in await tx.people()
                if officer.role in COUNCIL_ROLES and officer.reachable
            ]
            officers = [(o, k) for o, k in officers if not await tx.is_queued(k)]
        if not officers:
            return 0
        async with self.storage.reading() as tx:  # a long read: no unit of work waits for it
            data = await read_digest(self.plan, tx, now, periods=periods)
        # The workbook and the chart take a second of CPU: made outside the transaction
        # and off the event loop, so conversations go on meanwhile.
        rendered: dict[str, Reply] = {}
        for locale in sorted({officer.locale for officer, _key in officers}):
            with use_locale(locale):
                rendered[locale] = await asyncio.to_thread(digest_reply, self.plan, data)
        count = 0
        async with self.storage.transaction() as tx:
            for officer, message_key in officers:
                with use_locale(officer.locale):
                    title = _("Bảng tính và biểu đồ của bản tổng hợp:")
                reply = rendered[officer.locale]
                if self.web is not None:  # a link of its own to the digest's page
                    url = await self.web.link(
                        tx, officer, now, digest_target(now), valid=DIGEST_LINK_VALID
                    )
                    with use_locale(officer.locale):
                        line = _("Bản tổng hợp trên trang web (bảng tính, biểu đồ): {url}").format(
                            url=url
                        )
                    reply = replace(reply, text=f"{reply.text}\n\n{line}")
                count += await queue_to(tx, message_key, officer, reply, now, title)
        if count:
            self.queued()
        return count

    # -- the monthly board ---------------------------------------------------------------

    async def monthly_board(self, occasion: datetime) -> int:
        """Queue to every reachable head their village's board (``/bangdiem``'s message: its
        points, rank, the top three and what it lacks for the next grade), once per head and
        month (``board:<person>:<YYYY-MM>``), through the outbox (which holds it in the quiet
        hours). The board of ``shown_year`` as of the occasion's day (in January, last
        year's); nothing when the plan has no scoring or no report is due yet."""
        plan = self.plan
        local = occasion.astimezone(plan.tz)
        month = f"{local:%Y-%m}"
        now = self.clock()
        count = 0
        async with self.storage.transaction() as tx:
            year = shown_year(plan, local.date()) if plan.scoring is not None else None
            if year is not None:
                heads = [
                    (person, f"board:{person.id}:{month}")
                    for person in await tx.people()
                    if person.role == ROLE_HEAD
                    and person.reachable is not None
                    and plan.village(person.village_id or "") is not None
                ]
                heads = [(head, key) for head, key in heads if not await tx.is_queued(key)]
                if heads:
                    board = await load_board(tx, plan, year, local.date(), now)
                    on_board = {score.village.id for score in board.villages}
                    for head, key in heads:
                        village_id = head.village_id or ""
                        if village_id not in on_board:  # not on a board frozen before it came
                            continue
                        with use_locale(head.locale):
                            reply = head_view(plan, board, village_id)
                        count += await queue_to(tx, key, head, reply, now)
            await tx.set_meta(f"schedule:{BOARD}", occasion.isoformat())
        log.info("monthly board %s: %s queued", month, count)
        if count:
            self.queued()
        return count

    # -- housekeeping -------------------------------------------------------------------

    async def housekeeping(self) -> dict[str, int]:
        """Forget what no one needs any more: applied events past the time a platform may
        send them again, sent and failed messages after 90 days, wrong invite codes after a
        day, files nothing refers to after a week, web sign-in links and sessions two days after
        they ended. Run at start and every night."""
        now = self.clock()
        async with self.storage.transaction() as tx:
            done = {
                "events": await tx.forget_events(now - EVENTS_KEPT),
                "messages": await tx.forget_outbox(now - OUTBOX_KEPT),
                "invite failures": await tx.forget_invite_failures(now - FAILURES_KEPT),
                "files": await tx.forget_files(now - FILES_KEPT),
                "web sign-ins": await tx.forget_web(now - WEB_KEPT),
            }
        if any(done.values()):
            log.info(
                "housekeeping: forgot %s", ", ".join(f"{n} {what}" for what, n in done.items())
            )
        return done

    # -- catching up --------------------------------------------------------------------

    async def catch_up(self) -> None:
        """At start: run a job whose last time passed while the bot was down, if that was
        less than 12 hours ago; else log that it was skipped."""
        now = self.clock()
        schedule = self.plan.schedule
        missed = [(REMINDERS, last_reminder_time(schedule, now, self.plan.tz))]
        digest_at = last_digest_time(schedule, now, self.plan.tz)
        if digest_at is not None:
            missed.append((DIGEST, digest_at))
        if self.plan.scoring is not None:
            missed.append((BOARD, last_board_time(self.plan, now)))
        for name, occasion in missed:
            async with self.storage.transaction() as tx:
                done = await tx.meta(f"schedule:{name}")
            if done is not None and datetime.fromisoformat(done) >= occasion:
                continue
            if now - occasion > CATCH_UP:
                log.warning(
                    "%s of %s missed while the bot was down, %s ago: skipped",
                    name,
                    occasion.isoformat(),
                    now - occasion,
                )
                async with self.storage.transaction() as tx:
                    await tx.set_meta(f"schedule:{name}", occasion.isoformat())
                continue
            log.info("%s of %s missed while the bot was down: catching up", name, occasion)
            if name == REMINDERS:
                await self.remind(occasion)
            elif name == BOARD:
                await self.monthly_board(occasion)
            else:
                await self.weekly_digest(occasion)


class ShiftedTrigger(BaseTrigger):
    """A trigger that fires when the bot's clock, ``offset`` ahead of the machine's (see
    ``THIDUA_NOW``), reads one of ``trigger``'s times; APScheduler itself reads the machine's
    clock."""

    __slots__ = ("offset", "trigger")

    def __init__(self, trigger: BaseTrigger, offset: timedelta) -> None:
        self.trigger = trigger
        self.offset = offset

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        previous = previous_fire_time + self.offset if previous_fire_time else None
        fire = self.trigger.get_next_fire_time(previous, now + self.offset)
        return fire - self.offset if fire is not None else None


class Scheduler:
    """The jobs on APScheduler's ``AsyncIOScheduler``, at the plan's wall-clock times as the
    bot's clock reads them."""

    def __init__(self, jobs: Jobs) -> None:
        self.jobs = jobs
        self.offset = clock_offset(jobs.clock)
        schedule = jobs.plan.schedule
        self.aps = AsyncIOScheduler(timezone=jobs.plan.tz)
        at = schedule.reminder_time
        self._add(REMINDERS, self._remind, hour=at.hour, minute=at.minute)
        if schedule.digest_weekday is not None:
            at = schedule.digest_time
            day = WEEKDAYS[schedule.digest_weekday]
            self._add(DIGEST, self._digest, day_of_week=day, hour=at.hour, minute=at.minute)
        if jobs.plan.scoring is not None:
            at = schedule.reminder_time
            self._add(BOARD, self._board, day=BOARD_DAY, hour=at.hour, minute=at.minute)
        self._add(HOUSEKEEPING, self._housekeeping, hour=3, minute=30)

    def _add(self, name: str, job: Callable[[], Awaitable[None]], **when: int | str) -> None:
        """A job at a wall-clock time of the plan's timezone; a run the event loop could not
        start on time still starts within 12 hours, and missed runs make one."""
        trigger: BaseTrigger = CronTrigger(timezone=self.jobs.plan.tz, **when)
        if self.offset:
            trigger = ShiftedTrigger(trigger, self.offset)
        self.aps.add_job(
            job,
            trigger,
            id=name,
            misfire_grace_time=int(CATCH_UP.total_seconds()),
            coalesce=True,
            max_instances=1,
        )

    async def _remind(self) -> None:
        jobs = self.jobs
        await jobs.remind(last_reminder_time(jobs.plan.schedule, jobs.clock(), jobs.plan.tz))

    async def _digest(self) -> None:
        jobs = self.jobs
        occasion = last_digest_time(jobs.plan.schedule, jobs.clock(), jobs.plan.tz)
        if occasion is not None:
            await jobs.weekly_digest(occasion)

    async def _board(self) -> None:
        jobs = self.jobs
        await jobs.monthly_board(last_board_time(jobs.plan, jobs.clock()))

    async def _housekeeping(self) -> None:
        await self.jobs.housekeeping()

    async def start(self) -> None:
        """Catch up what was missed, then run the jobs on time."""
        try:
            await self.jobs.catch_up()
        except Exception:
            log.exception("catching up the scheduled jobs failed")
        self.aps.start()

    def stop(self) -> None:
        if self.aps.running:
            self.aps.shutdown(wait=False)
