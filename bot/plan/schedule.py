"""When the bot speaks on its own: reminder days, digest times and quiet hours.

Pure arithmetic on the plan's ``schedule`` section, with no I/O: the scheduler asks
these functions what is due and when, and does the sending itself.

Every time given or returned is timezone-aware. Wall times (``08:00``, the quiet
hours) are read in the plan's timezone, also across daylight-saving changes: a wall
time that happens twice stands for both instants, and one that does not happen (in
the gap when clocks jump forward) for the instant the clocks show it an hour later.
Aware datetimes are compared in UTC here, because Python compares two datetimes
sharing a tzinfo by their wall time alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import cast
from zoneinfo import ZoneInfo

from bot.plan.model import Plan, Schedule
from bot.plan.periods import Period, PeriodKind, period_of

__all__ = [
    "DigestPeriod",
    "ReminderDue",
    "at_local",
    "digest_periods",
    "last_digest_time",
    "last_reminder_time",
    "quiet_until",
    "reminders_on",
]

_DAY = timedelta(days=1)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        raise ValueError("schedule times must be timezone-aware datetimes")
    return moment.astimezone(UTC)


def _instants(day: date, moment: time, tz: ZoneInfo) -> list[datetime]:
    """Every instant (in tz) the clocks read ``moment`` on ``day``, earliest first.

    Usually one; two when the clocks go back over it; in a gap when they jump
    forward, the one instant the offset before the jump gives (shown later by the jump).
    """
    naive = datetime.combine(day, moment.replace(tzinfo=None, fold=0))
    first = naive.replace(tzinfo=tz)
    second = naive.replace(tzinfo=tz, fold=1)
    if first.utcoffset() == second.utcoffset():
        return [first]
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == naive:
        return [first, second]  # the clocks go back: it happens twice
    return [first.astimezone(UTC).astimezone(tz)]  # a gap: not a real wall time


def at_local(day: date, moment: time, tz: ZoneInfo) -> datetime:
    """The aware datetime of wall time ``moment`` on ``day`` in tz.

    The first of two when the clocks go back over it; in a daylight-saving gap, the
    real instant it stands for (02:30 on a spring-forward night in Berlin is 03:30).
    """
    return _instants(day, moment, tz)[0]


def _last_at(moment: time, now: datetime, tz: ZoneInfo, days: list[date]) -> datetime | None:
    """The latest instant at wall time ``moment`` on one of ``days`` that is <= now."""
    limit = _utc(now)
    past = [at for day in days for at in _instants(day, moment, tz) if _utc(at) <= limit]
    return max(past, key=_utc, default=None)


def quiet_until(schedule: Schedule, moment: datetime, tz: ZoneInfo) -> datetime | None:
    """If ``moment`` (aware) falls within the quiet hours (local wall time in tz), the aware
    datetime when they end (the next ``end`` wall time after moment); else None."""
    quiet = schedule.quiet_hours
    if quiet is None:
        return None
    local = _utc(moment).astimezone(tz)
    if not quiet.contains(local.time()):
        return None
    limit = _utc(moment)
    for day in (local.date(), local.date() + _DAY):
        for at in _instants(day, quiet.end, tz):
            if _utc(at) > limit:
                return at
    raise AssertionError("unreachable: the quiet hours end within a day")  # pragma: no cover


def last_reminder_time(schedule: Schedule, now: datetime, tz: ZoneInfo) -> datetime:
    """The latest daily reminder time <= now (aware, in tz)."""
    today = _utc(now).astimezone(tz).date()
    days = [today - timedelta(days=n) for n in range(3)]
    found = _last_at(schedule.reminder_time, now, tz, days)
    assert found is not None  # the day before yesterday's has always passed
    return found


def last_digest_time(schedule: Schedule, now: datetime, tz: ZoneInfo) -> datetime | None:
    """The latest weekly digest time <= now (None when there is no weekly digest)."""
    if schedule.digest_weekday is None:
        return None
    today = _utc(now).astimezone(tz).date()
    days = [today - timedelta(days=n) for n in range(8)]
    return _last_at(
        schedule.digest_time,
        now,
        tz,
        [day for day in days if day.weekday() == schedule.digest_weekday],
    )


def _in_plan(plan: Plan, period: Period) -> bool:
    """False for a period wholly before the plan starts or after it ends."""
    if plan.starts is not None and period.end < plan.starts:
        return False
    return not (plan.ends is not None and period.start > plan.ends)


@dataclass(frozen=True)
class ReminderDue:
    """A reminder to send on a day: form ``form_id``'s report for ``period``."""

    form_id: str
    period: Period
    offset: int  # days relative to the due day
    due: date

    @property
    def kind(self) -> str:
        """``d-3``, ``d+0``, ``d+1``…"""
        return f"d{self.offset:+d}"

    @property
    def late(self) -> bool:
        """After the due day: the report is overdue."""
        return self.offset > 0


def reminders_on(plan: Plan, day: date) -> list[ReminderDue]:
    """For each form (plan order) and each offset in plan.schedule.reminders (ascending), the
    period of that form whose due date + offset == day, if any. A period is left out when it
    ends before plan.starts or starts after plan.ends. (The due date always lies inside its
    period, so the only candidate is period_of(form.period, day - offset).)"""
    result: list[ReminderDue] = []
    for form in plan.forms:
        for offset in sorted(plan.schedule.reminders):
            candidate = day - timedelta(days=offset)
            period = period_of(cast(PeriodKind, form.period), candidate)
            due = period.due_date(form.due)
            if due == candidate and _in_plan(plan, period):
                result.append(ReminderDue(form.id, period, offset, due))
    return result


@dataclass(frozen=True)
class DigestPeriod:
    """A period a digest reports on for form ``form_id``."""

    form_id: str
    period: Period
    final: bool  # True: a period that ended since the previous weekly digest (final figures)


def digest_periods(plan: Plan, occasion: datetime, weekly: bool) -> list[DigestPeriod]:
    """What a digest at ``occasion`` covers, form by form in plan order: when ``weekly``, first
    the previous period if it ended (its last day over, local time) after occasion - 7 days and
    at or before occasion (final=True); then always the current period (final=False). Periods
    wholly before plan.starts or after plan.ends are left out.

    "occasion - 7 days" is the same wall time a week earlier: the previous weekly digest,
    also when the clocks changed in between.
    """
    tz = plan.tz
    local = _utc(occasion).astimezone(tz)
    now = _utc(occasion)
    week_ago = _utc(at_local(local.date() - timedelta(days=7), local.time(), tz))
    result: list[DigestPeriod] = []
    for form in plan.forms:
        current = period_of(cast(PeriodKind, form.period), local.date())
        if weekly:
            previous = current.previous()
            ended = _utc(at_local(previous.end + _DAY, time(0), tz))
            if week_ago < ended <= now and _in_plan(plan, previous):
                result.append(DigestPeriod(form.id, previous, final=True))
        if _in_plan(plan, current):
            result.append(DigestPeriod(form.id, current, final=False))
    return result
