from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.plan.model import Form, Plan, QuietHours, Schedule
from bot.plan.periods import Period, parse_period, period_of
from bot.plan.schedule import (
    DigestPeriod,
    ReminderDue,
    at_local,
    digest_periods,
    last_digest_time,
    last_reminder_time,
    quiet_until,
    reminders_on,
)

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
BERLIN = ZoneInfo("Europe/Berlin")
DEFAULT = Schedule()
# In Berlin the clocks jump from 02:00 to 03:00 on 2024-03-31
# and go back from 03:00 to 02:00 on 2024-10-27.
SPRING = date(2024, 3, 31)
AUTUMN = date(2024, 10, 27)


def hcm(*args: int) -> datetime:
    return datetime(*args, tzinfo=HCM)  # type: ignore[misc]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def form(form_id: str, period: str, due: int) -> Form:
    return Form(form_id, form_id, period, due, ())


def make_plan(
    *forms: Form,
    starts: date | None = date(2024, 1, 1),
    ends: date | None = None,
    timezone: str = "Asia/Ho_Chi_Minh",
    schedule: Schedule = DEFAULT,
) -> Plan:
    return Plan(
        version=1,
        title="Thi đua thử",
        commune="Xã Thử",
        timezone=timezone,
        starts=starts,
        ends=ends,
        villages=(),
        forms=forms or (form("thang", "month", 25), form("tuan", "week", 5)),
        indicators=(),
        schedule=schedule,
    )


PLAN = make_plan()


def seen(reminders: list[ReminderDue]) -> list[tuple[str, str, str]]:
    return [(r.form_id, r.period.key, r.kind) for r in reminders]


def covered(periods: list[DigestPeriod]) -> list[tuple[str, str, bool]]:
    return [(p.form_id, p.period.key, p.final) for p in periods]


# --------------------------------------------------------------------------- at_local


def test_at_local_in_ho_chi_minh_city() -> None:
    moment = at_local(date(2024, 11, 25), time(8), HCM)
    assert moment == hcm(2024, 11, 25, 8)
    assert moment.tzinfo is HCM
    assert moment.astimezone(UTC) == utc(2024, 11, 25, 1)


def test_at_local_follows_daylight_saving_time() -> None:
    assert at_local(date(2024, 1, 15), time(8), BERLIN).astimezone(UTC) == utc(2024, 1, 15, 7)
    assert at_local(date(2024, 7, 15), time(8), BERLIN).astimezone(UTC) == utc(2024, 7, 15, 6)
    assert at_local(SPRING, time(8), BERLIN).astimezone(UTC) == utc(2024, 3, 31, 6)
    assert at_local(AUTUMN, time(8), BERLIN).astimezone(UTC) == utc(2024, 10, 27, 7)


def test_at_local_in_the_spring_gap_is_the_hour_after() -> None:
    moment = at_local(SPRING, time(2, 30), BERLIN)
    assert moment.astimezone(UTC) == utc(2024, 3, 31, 1, 30)
    assert (moment.hour, moment.minute) == (3, 30)
    assert moment.utcoffset() == timedelta(hours=2)


def test_at_local_twice_in_autumn_is_the_first() -> None:
    moment = at_local(AUTUMN, time(2, 30), BERLIN)
    assert moment.astimezone(UTC) == utc(2024, 10, 27, 0, 30)
    assert moment.utcoffset() == timedelta(hours=2)


def test_at_local_ignores_a_tzinfo_on_the_time() -> None:
    assert at_local(date(2024, 5, 1), time(9, tzinfo=UTC), HCM) == hcm(2024, 5, 1, 9)


# --------------------------------------------------------------------------- quiet_until


@pytest.mark.parametrize(
    ("moment", "until"),
    [
        (hcm(2024, 11, 25, 22), hcm(2024, 11, 26, 7)),
        (hcm(2024, 11, 25, 21), hcm(2024, 11, 26, 7)),
        (hcm(2024, 11, 25, 23, 59, 59), hcm(2024, 11, 26, 7)),
        (hcm(2024, 11, 26, 0), hcm(2024, 11, 26, 7)),
        (hcm(2024, 11, 26, 3, 15), hcm(2024, 11, 26, 7)),
        (hcm(2024, 11, 26, 6, 59, 59), hcm(2024, 11, 26, 7)),
        (hcm(2024, 12, 31, 23), hcm(2025, 1, 1, 7)),
        (hcm(2024, 11, 26, 7), None),
        (hcm(2024, 11, 26, 12), None),
        (hcm(2024, 11, 26, 20, 59, 59), None),
    ],
)
def test_quiet_until_across_midnight(moment: datetime, until: datetime | None) -> None:
    assert quiet_until(DEFAULT, moment, HCM) == until


def test_quiet_until_reads_the_moment_in_the_plan_timezone() -> None:
    # 15:00 UTC is 22:00 in Ho Chi Minh City
    until = quiet_until(DEFAULT, utc(2024, 11, 25, 15), HCM)
    assert until == hcm(2024, 11, 26, 7)
    assert until is not None and until.tzinfo is HCM
    assert quiet_until(DEFAULT, utc(2024, 11, 25, 13), HCM) is None  # 20:00 there


def test_quiet_hours_within_a_day() -> None:
    lunch = Schedule(quiet_hours=QuietHours(time(12), time(13, 30)))
    assert quiet_until(lunch, hcm(2024, 5, 2, 12), HCM) == hcm(2024, 5, 2, 13, 30)
    assert quiet_until(lunch, hcm(2024, 5, 2, 13, 29), HCM) == hcm(2024, 5, 2, 13, 30)
    assert quiet_until(lunch, hcm(2024, 5, 2, 13, 30), HCM) is None
    assert quiet_until(lunch, hcm(2024, 5, 2, 23), HCM) is None


def test_no_quiet_hours() -> None:
    always = Schedule(quiet_hours=None)
    assert quiet_until(always, hcm(2024, 5, 2, 3), HCM) is None


def test_quiet_until_a_naive_moment_is_an_error() -> None:
    with pytest.raises(ValueError):
        quiet_until(DEFAULT, datetime(2024, 5, 2, 3), HCM)


def test_quiet_night_when_the_clocks_go_forward() -> None:
    moment = datetime(2024, 3, 30, 23, tzinfo=BERLIN)  # 22:00 UTC
    until = quiet_until(DEFAULT, moment, BERLIN)
    assert until is not None
    assert until.astimezone(UTC) == utc(2024, 3, 31, 5)  # 07:00 summer time
    assert until.astimezone(UTC) - moment.astimezone(UTC) == timedelta(hours=7)


def test_quiet_night_when_the_clocks_go_back() -> None:
    moment = datetime(2024, 10, 26, 23, tzinfo=BERLIN)  # 21:00 UTC
    until = quiet_until(DEFAULT, moment, BERLIN)
    assert until is not None
    assert until.astimezone(UTC) == utc(2024, 10, 27, 6)  # 07:00 winter time
    assert until.astimezone(UTC) - moment.astimezone(UTC) == timedelta(hours=9)


def test_quiet_hours_ending_in_the_spring_gap() -> None:
    schedule = Schedule(quiet_hours=QuietHours(time(1), time(2, 30)))
    until = quiet_until(schedule, datetime(2024, 3, 31, 1, 15, tzinfo=BERLIN), BERLIN)
    assert until is not None
    assert until.astimezone(UTC) == utc(2024, 3, 31, 1, 30)  # 03:30 summer time
    assert (until.hour, until.minute) == (3, 30)


def test_quiet_hours_ending_at_a_time_that_happens_twice() -> None:
    schedule = Schedule(quiet_hours=QuietHours(time(21), time(2, 30)))
    first = utc(2024, 10, 27, 0, 10).astimezone(BERLIN)  # 02:10 summer time
    second = utc(2024, 10, 27, 1, 10).astimezone(BERLIN)  # 02:10 again, winter time
    assert (first.hour, first.minute) == (second.hour, second.minute) == (2, 10)
    until_first = quiet_until(schedule, first, BERLIN)
    until_second = quiet_until(schedule, second, BERLIN)
    assert until_first is not None and until_second is not None
    assert until_first.astimezone(UTC) == utc(2024, 10, 27, 0, 30)
    assert until_second.astimezone(UTC) == utc(2024, 10, 27, 1, 30)
    # between the two 02:30s the clocks read 02:30-02:59 and 02:00-02:29 again
    assert quiet_until(schedule, utc(2024, 10, 27, 0, 45), BERLIN) is None
    assert quiet_until(schedule, utc(2024, 10, 27, 1, 45), BERLIN) is None


minutes = st.integers(0, 24 * 60 - 1).map(lambda m: time(m // 60, m % 60))
moments = st.datetimes(
    min_value=datetime(2023, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
)


@given(
    start=minutes,
    end=minutes,
    moment=moments,
    tz=st.sampled_from([HCM, BERLIN]),
)
def test_quiet_until_is_later_and_out_of_the_quiet_hours(
    start: time, end: time, moment: datetime, tz: ZoneInfo
) -> None:
    assume(start != end)
    quiet = QuietHours(start, end)
    # leave out quiet hours (nearly a whole day) that would cover their own end moved
    # an hour on by the spring gap
    assume(not quiet.contains((datetime.combine(date.min, end) + timedelta(hours=1)).time()))
    until = quiet_until(Schedule(quiet_hours=quiet), moment, tz)
    if not quiet.contains(moment.astimezone(tz).time()):
        assert until is None
        return
    assert until is not None
    assert until.astimezone(UTC) > moment
    assert until.astimezone(UTC) - moment <= timedelta(hours=25)
    assert not quiet.contains(until.astimezone(tz).time())


# --------------------------------------------------------------------------- last times


@pytest.mark.parametrize(
    ("now", "last"),
    [
        (hcm(2024, 11, 25, 9), hcm(2024, 11, 25, 8)),
        (hcm(2024, 11, 25, 8), hcm(2024, 11, 25, 8)),
        (hcm(2024, 11, 25, 7, 59, 59), hcm(2024, 11, 24, 8)),
        (hcm(2024, 11, 25, 0), hcm(2024, 11, 24, 8)),
        (hcm(2024, 11, 25, 23, 59), hcm(2024, 11, 25, 8)),
        (hcm(2025, 1, 1, 7), hcm(2024, 12, 31, 8)),
        (utc(2024, 11, 25, 0, 30), hcm(2024, 11, 24, 8)),  # 07:30 there
        (utc(2024, 11, 25, 1), hcm(2024, 11, 25, 8)),  # 08:00 there
    ],
)
def test_last_reminder_time(now: datetime, last: datetime) -> None:
    found = last_reminder_time(DEFAULT, now, HCM)
    assert found == last
    assert found.tzinfo is HCM


def test_last_reminder_time_follows_the_schedule() -> None:
    schedule = Schedule(reminder_time=time(17, 45))
    assert last_reminder_time(schedule, hcm(2024, 5, 2, 17, 44), HCM) == hcm(2024, 5, 1, 17, 45)
    assert last_reminder_time(schedule, hcm(2024, 5, 2, 18), HCM) == hcm(2024, 5, 2, 17, 45)


def test_last_reminder_time_in_berlin() -> None:
    # 08:00 is 07:00 UTC in winter and 06:00 UTC in summer
    assert last_reminder_time(DEFAULT, utc(2024, 3, 31, 6, 30), BERLIN).astimezone(UTC) == utc(
        2024, 3, 31, 6
    )
    assert last_reminder_time(DEFAULT, utc(2024, 3, 31, 5, 30), BERLIN).astimezone(UTC) == utc(
        2024, 3, 30, 7
    )
    assert last_reminder_time(DEFAULT, utc(2024, 10, 27, 6, 30), BERLIN).astimezone(UTC) == utc(
        2024, 10, 26, 6
    )
    assert last_reminder_time(DEFAULT, utc(2024, 10, 27, 7), BERLIN).astimezone(UTC) == utc(
        2024, 10, 27, 7
    )


def test_last_reminder_time_in_the_spring_gap() -> None:
    schedule = Schedule(reminder_time=time(2, 30), quiet_hours=None)
    at_three = datetime(2024, 3, 31, 3, tzinfo=BERLIN)  # 01:00 UTC, just after the jump
    assert last_reminder_time(schedule, at_three, BERLIN).astimezone(UTC) == utc(2024, 3, 30, 1, 30)
    at_four = datetime(2024, 3, 31, 4, tzinfo=BERLIN)
    found = last_reminder_time(schedule, at_four, BERLIN)
    assert found.astimezone(UTC) == utc(2024, 3, 31, 1, 30)
    assert (found.hour, found.minute) == (3, 30)


def test_last_reminder_time_happening_twice() -> None:
    schedule = Schedule(reminder_time=time(2, 30), quiet_hours=None)
    assert last_reminder_time(schedule, utc(2024, 10, 27, 0, 45), BERLIN).astimezone(UTC) == utc(
        2024, 10, 27, 0, 30
    )
    assert last_reminder_time(schedule, utc(2024, 10, 27, 1, 45), BERLIN).astimezone(UTC) == utc(
        2024, 10, 27, 1, 30
    )


@given(
    moment=minutes,
    now=moments,
)
def test_last_reminder_time_is_within_the_last_day_in_ho_chi_minh_city(
    moment: time, now: datetime
) -> None:
    found = last_reminder_time(Schedule(reminder_time=moment), now, HCM)
    assert found <= now < found + timedelta(days=1)
    assert found.astimezone(HCM).time() == moment


@given(moment=minutes, now=moments)
def test_last_reminder_time_is_within_the_last_day_in_berlin(moment: time, now: datetime) -> None:
    found = last_reminder_time(Schedule(reminder_time=moment), now, BERLIN)
    assert found.astimezone(UTC) <= now
    assert now - found.astimezone(UTC) < timedelta(hours=25)
    # the next reminder is still to come
    after = at_local(found.astimezone(BERLIN).date() + timedelta(days=1), moment, BERLIN)
    assert now < after.astimezone(UTC)


@pytest.mark.parametrize(
    ("now", "last"),
    [
        (hcm(2024, 11, 25, 7), hcm(2024, 11, 18, 7, 30)),  # Monday, before the time
        (hcm(2024, 11, 25, 7, 29, 59), hcm(2024, 11, 18, 7, 30)),
        (hcm(2024, 11, 25, 7, 30), hcm(2024, 11, 25, 7, 30)),  # Monday, at the time
        (hcm(2024, 11, 25, 8), hcm(2024, 11, 25, 7, 30)),  # Monday, after it
        (hcm(2024, 11, 26, 0), hcm(2024, 11, 25, 7, 30)),
        (hcm(2024, 12, 1, 23, 59), hcm(2024, 11, 25, 7, 30)),  # Sunday
        (hcm(2024, 12, 2, 7, 30), hcm(2024, 12, 2, 7, 30)),
        (utc(2024, 11, 25, 0, 29), hcm(2024, 11, 18, 7, 30)),  # 07:29 there
    ],
)
def test_last_digest_time(now: datetime, last: datetime) -> None:
    found = last_digest_time(DEFAULT, now, HCM)
    assert found == last
    assert found is not None and found.tzinfo is HCM


def test_last_digest_time_on_another_day() -> None:
    friday = Schedule(digest_weekday=4, digest_time=time(17))
    assert last_digest_time(friday, hcm(2024, 11, 22, 16), HCM) == hcm(2024, 11, 15, 17)
    assert last_digest_time(friday, hcm(2024, 11, 22, 17), HCM) == hcm(2024, 11, 22, 17)
    assert last_digest_time(friday, hcm(2024, 11, 25, 9), HCM) == hcm(2024, 11, 22, 17)


def test_no_weekly_digest() -> None:
    assert last_digest_time(Schedule(digest_weekday=None), hcm(2024, 11, 25, 9), HCM) is None


def test_last_digest_time_in_berlin() -> None:
    sunday = Schedule(digest_weekday=6, digest_time=time(9), quiet_hours=None)
    # the week ending 2024-03-31 is an hour shorter
    found = last_digest_time(sunday, utc(2024, 3, 31, 7, 30), BERLIN)
    assert found is not None and found.astimezone(UTC) == utc(2024, 3, 31, 7)
    found = last_digest_time(sunday, utc(2024, 3, 31, 6, 30), BERLIN)
    assert found is not None and found.astimezone(UTC) == utc(2024, 3, 24, 8)
    found = last_digest_time(sunday, utc(2024, 10, 27, 8), BERLIN)
    assert found is not None and found.astimezone(UTC) == utc(2024, 10, 27, 8)
    found = last_digest_time(sunday, utc(2024, 10, 27, 7, 59), BERLIN)
    assert found is not None and found.astimezone(UTC) == utc(2024, 10, 20, 7)


@given(
    weekday=st.integers(0, 6),
    moment=minutes,
    now=moments,
    tz=st.sampled_from([HCM, BERLIN]),
)
def test_last_digest_time_is_within_the_last_week(
    weekday: int, moment: time, now: datetime, tz: ZoneInfo
) -> None:
    schedule = Schedule(digest_weekday=weekday, digest_time=moment)
    found = last_digest_time(schedule, now, tz)
    assert found is not None
    assert found.astimezone(UTC) <= now
    assert now - found.astimezone(UTC) < timedelta(days=7, hours=1)
    assert found.astimezone(tz).weekday() == weekday
    after = at_local(found.astimezone(tz).date() + timedelta(days=7), moment, tz)
    assert now < after.astimezone(UTC)


# --------------------------------------------------------------------------- reminders_on


def test_reminder_due_kind_and_late() -> None:
    period = parse_period("2024-11")
    early = ReminderDue("thang", period, -3, date(2024, 11, 25))
    on_time = ReminderDue("thang", period, 0, date(2024, 11, 25))
    late = ReminderDue("thang", period, 1, date(2024, 11, 25))
    assert (early.kind, on_time.kind, late.kind) == ("d-3", "d+0", "d+1")
    assert (early.late, on_time.late, late.late) == (False, False, True)
    assert ReminderDue("thang", period, -10, date(2024, 11, 25)).kind == "d-10"
    assert ReminderDue("thang", period, 12, date(2024, 11, 25)).kind == "d+12"


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2024, 11, 21), []),
        # Friday: 3 days before the monthly report, and the weekly one is due
        (date(2024, 11, 22), [("thang", "2024-11", "d-3"), ("tuan", "2024-W47", "d+0")]),
        (date(2024, 11, 23), [("tuan", "2024-W47", "d+1")]),
        (date(2024, 11, 24), []),
        (date(2024, 11, 25), [("thang", "2024-11", "d+0")]),
        # Tuesday: a day late for the month, 3 days ahead of this Friday
        (date(2024, 11, 26), [("thang", "2024-11", "d+1"), ("tuan", "2024-W48", "d-3")]),
        (date(2024, 11, 27), []),
        (date(2024, 11, 29), [("tuan", "2024-W48", "d+0")]),
    ],
)
def test_reminders_on_a_week_in_november(day: date, expected: list[tuple[str, str, str]]) -> None:
    assert seen(reminders_on(PLAN, day)) == expected


def test_reminders_on_carry_the_period_and_due_day() -> None:
    [month, week] = reminders_on(PLAN, date(2024, 11, 26))
    assert month == ReminderDue(
        "thang", period_of("month", date(2024, 11, 1)), 1, date(2024, 11, 25)
    )
    assert month.late
    assert week == ReminderDue(
        "tuan", period_of("week", date(2024, 11, 29)), -3, date(2024, 11, 29)
    )
    assert not week.late


def test_reminders_on_follow_the_schedule_in_ascending_order() -> None:
    schedule = Schedule(reminders=(-7, -1, 0, 2, 5))
    plan = make_plan(form("thang", "month", 10), schedule=schedule)
    days = {
        date(2024, 5, 3): "d-7",
        date(2024, 5, 9): "d-1",
        date(2024, 5, 10): "d+0",
        date(2024, 5, 12): "d+2",
        date(2024, 5, 15): "d+5",
    }
    for day in (date(2024, 5, 1) + timedelta(days=n) for n in range(31)):
        expected = [("thang", "2024-05", days[day])] if day in days else []
        assert seen(reminders_on(plan, day)) == expected, day


def test_one_day_may_remind_of_two_periods() -> None:
    # due on day 1 with reminders a week before to a month after: on 2024-05-01
    # May is due, and April is 30 days late
    plan = make_plan(form("thang", "month", 1), schedule=Schedule(reminders=(0, 30)))
    assert seen(reminders_on(plan, date(2024, 5, 1))) == [
        ("thang", "2024-05", "d+0"),
        ("thang", "2024-04", "d+30"),
    ]


def test_no_reminders() -> None:
    plan = make_plan(schedule=Schedule(reminders=()))
    assert reminders_on(plan, date(2024, 11, 25)) == []


def test_due_day_clamped_to_the_end_of_february() -> None:
    plan = make_plan(form("thang", "month", 31))
    assert seen(reminders_on(plan, date(2024, 2, 26))) == [("thang", "2024-02", "d-3")]
    assert seen(reminders_on(plan, date(2024, 2, 28))) == []
    [due] = reminders_on(plan, date(2024, 2, 29))
    assert (due.period.key, due.kind, due.due) == ("2024-02", "d+0", date(2024, 2, 29))
    [late] = reminders_on(plan, date(2024, 3, 1))
    assert (late.period.key, late.kind, late.due) == ("2024-02", "d+1", date(2024, 2, 29))
    assert seen(reminders_on(plan, date(2024, 3, 28))) == [("thang", "2024-03", "d-3")]
    assert seen(reminders_on(plan, date(2024, 3, 31))) == [("thang", "2024-03", "d+0")]
    assert seen(reminders_on(plan, date(2024, 4, 1))) == [("thang", "2024-03", "d+1")]
    # not a leap year, and a 30-day month
    assert seen(reminders_on(plan, date(2025, 2, 28))) == [("thang", "2025-02", "d+0")]
    assert seen(reminders_on(plan, date(2025, 3, 1))) == [("thang", "2025-02", "d+1")]
    assert seen(reminders_on(plan, date(2024, 4, 30))) == [("thang", "2024-04", "d+0")]
    assert seen(reminders_on(plan, date(2024, 5, 1))) == [("thang", "2024-04", "d+1")]


def test_reminder_before_the_period_starts() -> None:
    # due on the 1st: three days earlier is still in the month before
    plan = make_plan(form("thang", "month", 1))
    [early] = reminders_on(plan, date(2024, 11, 28))
    assert (early.period.key, early.kind, early.due) == ("2024-12", "d-3", date(2024, 12, 1))
    # due on Monday: the reminder three days before falls on the Friday before
    plan = make_plan(form("tuan", "week", 1))
    [early] = reminders_on(plan, date(2024, 11, 22))
    assert (early.period.key, early.kind, early.due) == ("2024-W48", "d-3", date(2024, 11, 25))


def test_reminder_after_the_period_ends() -> None:
    # due on Sunday: a day late is the next Monday
    plan = make_plan(form("tuan", "week", 7))
    [late] = reminders_on(plan, date(2024, 11, 25))
    assert (late.period.key, late.kind, late.due) == ("2024-W47", "d+1", date(2024, 11, 24))
    # due on Friday with a reminder 3 days late: the next Monday
    plan = make_plan(form("tuan", "week", 5), schedule=Schedule(reminders=(3,)))
    [late] = reminders_on(plan, date(2024, 11, 25))
    assert (late.period.key, late.due) == ("2024-W47", date(2024, 11, 22))


def test_quarter_and_year_forms() -> None:
    plan = make_plan(form("quy", "quarter", 10), form("nam", "year", 15))
    assert seen(reminders_on(plan, date(2024, 10, 7))) == [("quy", "2024-Q4", "d-3")]
    assert seen(reminders_on(plan, date(2024, 10, 10))) == [("quy", "2024-Q4", "d+0")]
    assert seen(reminders_on(plan, date(2025, 1, 12))) == [("nam", "2025", "d-3")]
    assert seen(reminders_on(plan, date(2025, 1, 16))) == [("nam", "2025", "d+1")]


def test_reminders_leave_out_periods_before_the_plan_starts() -> None:
    plan = make_plan(form("thang", "month", 31), form("tuan", "week", 7), starts=date(2024, 1, 3))
    # December 2023 ended before the plan started: no "a day late" for it
    assert seen(reminders_on(plan, date(2024, 1, 1))) == []
    # the week of 2024-01-01..07 starts before the plan but is partly in it
    assert seen(reminders_on(plan, date(2024, 1, 4))) == [("tuan", "2024-W01", "d-3")]
    assert seen(reminders_on(plan, date(2024, 1, 8))) == [("tuan", "2024-W01", "d+1")]
    assert seen(reminders_on(plan, date(2024, 1, 28))) == [
        ("thang", "2024-01", "d-3"),
        ("tuan", "2024-W04", "d+0"),
    ]
    unbounded = replace(plan, starts=None)
    assert seen(reminders_on(unbounded, date(2024, 1, 1))) == [
        ("thang", "2023-12", "d+1"),
        ("tuan", "2023-W52", "d+1"),
    ]


def test_reminders_leave_out_periods_after_the_plan_ends() -> None:
    plan = make_plan(form("thang", "month", 1), ends=date(2024, 12, 20))
    # January 2025 starts after the plan: no reminder for it on 2024-12-29
    assert seen(reminders_on(plan, date(2024, 12, 29))) == []
    # December is only partly in the plan: still reminded, also after the plan ended
    assert seen(reminders_on(plan, date(2024, 11, 28))) == [("thang", "2024-12", "d-3")]
    assert seen(reminders_on(plan, date(2024, 12, 2))) == [("thang", "2024-12", "d+1")]
    assert seen(reminders_on(replace(plan, ends=None), date(2024, 12, 29))) == [
        ("thang", "2025-01", "d-3")
    ]


@given(
    kind=st.sampled_from(["week", "month", "quarter", "year"]),
    due=st.integers(1, 400),
    offsets=st.sets(st.integers(-31, 31), max_size=5),
)
def test_each_period_is_reminded_once_per_offset(kind: str, due: int, offsets: set[int]) -> None:
    due = min(due, {"week": 7, "month": 31, "quarter": 92, "year": 366}[kind])
    plan = make_plan(
        form("f", kind, due),
        starts=None,
        schedule=Schedule(reminders=tuple(sorted(offsets))),
    )
    start = date(2023, 1, 1)
    hits: dict[tuple[str, int], date] = {}
    for n in range(3 * 366):
        day = start + timedelta(days=n)
        found = reminders_on(plan, day)
        assert [r.offset for r in found] == sorted(r.offset for r in found)
        for reminder in found:
            assert reminder.due == reminder.period.due_date(due)
            assert reminder.due + timedelta(days=reminder.offset) == day
            assert (reminder.period.key, reminder.offset) not in hits
            hits[reminder.period.key, reminder.offset] = day
    # every period wholly inside the range got every reminder
    period = period_of(kind, start + timedelta(days=62))  # type: ignore[arg-type]
    while period.start < start + timedelta(days=31):  # its early reminders fall in range too
        period = period.next()
    while period.end < start + timedelta(days=3 * 366 - 62):
        for offset in offsets:
            assert (period.key, offset) in hits
        period = period.next()


# --------------------------------------------------------------------------- digest_periods


def test_digest_on_the_monday_after_a_month_ended() -> None:
    assert covered(digest_periods(PLAN, hcm(2024, 12, 2, 7, 30), weekly=True)) == [
        ("thang", "2024-11", True),
        ("thang", "2024-12", False),
        ("tuan", "2024-W48", True),
        ("tuan", "2024-W49", False),
    ]


def test_digest_in_the_middle_of_a_month() -> None:
    assert covered(digest_periods(PLAN, hcm(2024, 11, 11, 7, 30), weekly=True)) == [
        ("thang", "2024-11", False),
        ("tuan", "2024-W45", True),
        ("tuan", "2024-W46", False),
    ]


def test_digest_periods_carry_the_periods() -> None:
    [final, current] = digest_periods(
        make_plan(form("thang", "month", 25)), hcm(2024, 12, 2, 8), True
    )
    assert final == DigestPeriod("thang", parse_period("2024-11"), final=True)
    assert current == DigestPeriod("thang", parse_period("2024-12"), final=False)
    assert isinstance(current.period, Period)


def test_a_digest_on_request_covers_only_the_current_periods() -> None:
    assert covered(digest_periods(PLAN, hcm(2024, 12, 2, 7, 30), weekly=False)) == [
        ("thang", "2024-12", False),
        ("tuan", "2024-W49", False),
    ]


def test_weekly_digest_on_a_friday() -> None:
    plan = make_plan(form("thang", "month", 25))
    # November ended on Sunday 1 December: the Friday after reports it as final...
    assert covered(digest_periods(plan, hcm(2024, 12, 6, 17), weekly=True)) == [
        ("thang", "2024-11", True),
        ("thang", "2024-12", False),
    ]
    # ...and the Friday after that no longer
    assert covered(digest_periods(plan, hcm(2024, 12, 13, 17), weekly=True)) == [
        ("thang", "2024-12", False),
    ]
    # the last Friday of November: November is still current
    assert covered(digest_periods(plan, hcm(2024, 11, 29, 17), weekly=True)) == [
        ("thang", "2024-11", False),
    ]


def test_digest_at_the_very_moment_a_period_ends() -> None:
    plan = make_plan(form("thang", "month", 25))
    # November is over at midnight starting 1 December, local time
    assert covered(digest_periods(plan, hcm(2024, 12, 1, 0), weekly=True)) == [
        ("thang", "2024-11", True),
        ("thang", "2024-12", False),
    ]
    # a week later it ended exactly at the previous digest: not again
    assert covered(digest_periods(plan, hcm(2024, 12, 8, 0), weekly=True)) == [
        ("thang", "2024-12", False),
    ]
    assert covered(digest_periods(plan, hcm(2024, 12, 7, 23, 59), weekly=True)) == [
        ("thang", "2024-11", True),
        ("thang", "2024-12", False),
    ]


def test_digest_periods_read_the_occasion_in_the_plan_timezone() -> None:
    plan = make_plan(form("thang", "month", 25))
    # 2024-11-30 23:30 UTC is already 06:30 on 1 December in Ho Chi Minh City
    assert covered(digest_periods(plan, utc(2024, 11, 30, 23, 30), weekly=True)) == [
        ("thang", "2024-11", True),
        ("thang", "2024-12", False),
    ]
    # and 16:59 UTC on 30 November is still November there
    assert covered(digest_periods(plan, utc(2024, 11, 30, 16, 59), weekly=True)) == [
        ("thang", "2024-11", False),
    ]


def test_digest_leaves_out_periods_before_the_plan_starts() -> None:
    # the plan starts on Monday 2024-01-01: December and the last week of 2023 are not in it
    assert covered(digest_periods(PLAN, hcm(2024, 1, 1, 7, 30), weekly=True)) == [
        ("thang", "2024-01", False),
        ("tuan", "2024-W01", False),
    ]
    assert covered(digest_periods(PLAN, hcm(2023, 12, 25, 7, 30), weekly=True)) == []
    unbounded = replace(PLAN, starts=None)
    assert covered(digest_periods(unbounded, hcm(2024, 1, 1, 7, 30), weekly=True)) == [
        ("thang", "2023-12", True),
        ("thang", "2024-01", False),
        ("tuan", "2023-W52", True),
        ("tuan", "2024-W01", False),
    ]


def test_digest_leaves_out_periods_after_the_plan_ends() -> None:
    plan = replace(PLAN, ends=date(2024, 6, 30))
    # Monday 1 July: June's final figures, but July is not in the plan
    assert covered(digest_periods(plan, hcm(2024, 7, 1, 7, 30), weekly=True)) == [
        ("thang", "2024-06", True),
        ("tuan", "2024-W26", True),
    ]
    assert covered(digest_periods(plan, hcm(2024, 7, 8, 7, 30), weekly=True)) == []


def test_digest_across_a_change_of_the_clocks() -> None:
    plan = make_plan(form("thang", "month", 25), timezone="Europe/Berlin")
    # Monday 1 April 07:30 summer time: the previous digest was at 07:30 winter time
    occasion = datetime(2024, 4, 1, 7, 30, tzinfo=BERLIN)
    assert covered(digest_periods(plan, occasion, weekly=True)) == [
        ("thang", "2024-03", True),
        ("thang", "2024-04", False),
    ]
    assert covered(digest_periods(plan, occasion + timedelta(days=7), weekly=True)) == [
        ("thang", "2024-04", False),
    ]


def test_a_week_with_an_extra_hour_is_a_week_of_the_wall_clock() -> None:
    # New York goes back an hour on Sunday 2026-11-01, so from the digest on Saturday
    # 31 October 23:30 to the next one it is 169 hours. October ended at the midnight
    # 30 minutes after the first: the second, not the first, reports it as final.
    plan = make_plan(form("thang", "month", 25), timezone="America/New_York")
    new_york = ZoneInfo("America/New_York")
    before = datetime(2026, 10, 31, 23, 30, tzinfo=new_york)
    after = datetime(2026, 11, 7, 23, 30, tzinfo=new_york)
    assert after.astimezone(UTC) - before.astimezone(UTC) == timedelta(hours=169)
    assert covered(digest_periods(plan, before, weekly=True)) == [("thang", "2026-10", False)]
    assert covered(digest_periods(plan, after, weekly=True)) == [
        ("thang", "2026-10", True),
        ("thang", "2026-11", False),
    ]


@given(
    kind=st.sampled_from(["week", "month", "quarter", "year"]),
    weekday=st.integers(0, 6),
    moment=minutes,
    tz=st.sampled_from([HCM, BERLIN, ZoneInfo("America/New_York")]),
)
def test_weekly_digests_give_each_period_final_once(
    kind: str, weekday: int, moment: time, tz: ZoneInfo
) -> None:
    plan = make_plan(form("f", kind, 1), starts=None, timezone=str(tz))
    first = date(2023, 1, 2)
    first += timedelta(days=(weekday - first.weekday()) % 7)
    finals: list[str] = []
    day = first
    while day < date(2026, 1, 1):
        occasion = at_local(day, moment, tz)
        covers = digest_periods(plan, occasion, weekly=True)
        current = period_of(kind, day)  # type: ignore[arg-type]
        assert covers[-1] == DigestPeriod("f", current, final=False)
        finals += [c.period.key for c in covers if c.final]
        assert all(c.period == current.previous() for c in covers if c.final)
        day += timedelta(days=7)
    assert len(finals) == len(set(finals))
    # every period that ended after the first digest and before the last is there
    period = period_of(kind, first + timedelta(days=7)).next()  # type: ignore[arg-type]
    expected: list[str] = []
    while period.end < day - timedelta(days=7):
        expected.append(period.key)
        period = period.next()
    assert expected and set(expected) <= set(finals)
