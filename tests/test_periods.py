from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.i18n import use_locale
from bot.plan.periods import Period, PeriodKind, current_period, parse_period, period_of

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
KINDS: tuple[PeriodKind, ...] = ("week", "month", "quarter", "year")

days = st.dates(min_value=date(1990, 1, 1), max_value=date(2200, 12, 31))
kinds = st.sampled_from(KINDS)


# --- keys ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "day", "key", "start", "end"),
    [
        ("month", date(2026, 11, 24), "2026-11", date(2026, 11, 1), date(2026, 11, 30)),
        ("month", date(2026, 3, 5), "2026-03", date(2026, 3, 1), date(2026, 3, 31)),
        ("month", date(2024, 2, 10), "2024-02", date(2024, 2, 1), date(2024, 2, 29)),
        ("month", date(2026, 2, 10), "2026-02", date(2026, 2, 1), date(2026, 2, 28)),
        ("week", date(2026, 11, 24), "2026-W48", date(2026, 11, 23), date(2026, 11, 29)),
        ("week", date(2026, 2, 1), "2026-W05", date(2026, 1, 26), date(2026, 2, 1)),
        ("quarter", date(2026, 11, 24), "2026-Q4", date(2026, 10, 1), date(2026, 12, 31)),
        ("quarter", date(2026, 1, 1), "2026-Q1", date(2026, 1, 1), date(2026, 3, 31)),
        ("quarter", date(2026, 6, 30), "2026-Q2", date(2026, 4, 1), date(2026, 6, 30)),
        ("quarter", date(2026, 7, 1), "2026-Q3", date(2026, 7, 1), date(2026, 9, 30)),
        ("year", date(2026, 11, 24), "2026", date(2026, 1, 1), date(2026, 12, 31)),
    ],
)
def test_period_of(kind: PeriodKind, day: date, key: str, start: date, end: date) -> None:
    assert period_of(kind, day) == Period(kind, key, start, end)


@pytest.mark.parametrize(
    ("day", "key"),
    [
        (date(2020, 12, 31), "2020-W53"),
        (date(2021, 1, 3), "2020-W53"),
        (date(2021, 1, 4), "2021-W01"),
        (date(2024, 12, 30), "2025-W01"),
        (date(2024, 12, 29), "2024-W52"),
        (date(2026, 12, 31), "2026-W53"),
        (date(2027, 1, 3), "2026-W53"),
        (date(2027, 1, 4), "2027-W01"),
        (date(2025, 12, 29), "2026-W01"),
    ],
)
def test_iso_week_edges(day: date, key: str) -> None:
    assert period_of("week", day).key == key


def test_datetime_is_taken_as_its_date() -> None:
    p = period_of("month", datetime(2026, 11, 30, 23, 59))
    assert p == parse_period("2026-11")
    assert type(p.start) is date


def test_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown period kind"):
        period_of("day", date(2026, 1, 1))  # type: ignore[arg-type]


@given(kinds, days)
def test_period_contains_its_day(kind: PeriodKind, day: date) -> None:
    p = period_of(kind, day)
    assert p.kind == kind
    assert p.start <= day <= p.end
    assert day in p
    assert period_of(kind, p.start) == p
    assert period_of(kind, p.end) == p


@given(days)
def test_weeks_run_monday_to_sunday(day: date) -> None:
    p = period_of("week", day)
    assert p.start.isoweekday() == 1
    assert p.end.isoweekday() == 7
    assert p.end - p.start == timedelta(days=6)


@given(kinds, days)
def test_parse_key_round_trip(kind: PeriodKind, day: date) -> None:
    p = period_of(kind, day)
    assert parse_period(p.key) == p


@given(kinds, days, days)
def test_key_order_is_chronological(kind: PeriodKind, d1: date, d2: date) -> None:
    d1, d2 = sorted((d1, d2))
    p1, p2 = period_of(kind, d1), period_of(kind, d2)
    assert p1.key <= p2.key
    assert p1 <= p2


# --- previous / next ----------------------------------------------------------


@given(kinds, days)
def test_next_previous_round_trip(kind: PeriodKind, day: date) -> None:
    p = period_of(kind, day)
    assert p.next().previous() == p
    assert p.previous().next() == p
    assert p.next().start == p.end + timedelta(days=1)
    assert p.previous().end == p.start - timedelta(days=1)
    assert p.next().key > p.key > p.previous().key


@pytest.mark.parametrize(
    ("key", "previous", "next_"),
    [
        ("2026-01", "2025-12", "2026-02"),
        ("2026-Q1", "2025-Q4", "2026-Q2"),
        ("2026-W01", "2025-W52", "2026-W02"),
        ("2020-W53", "2020-W52", "2021-W01"),
        ("2026", "2025", "2027"),
    ],
)
def test_previous_next_keys(key: str, previous: str, next_: str) -> None:
    p = parse_period(key)
    assert p.previous().key == previous
    assert p.next().key == next_


# --- due dates ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "due", "expected"),
    [
        ("2026-02", 31, date(2026, 2, 28)),
        ("2024-02", 31, date(2024, 2, 29)),
        ("2026-02", 1, date(2026, 2, 1)),
        ("2026-11", 25, date(2026, 11, 25)),
        ("2026-11", 31, date(2026, 11, 30)),
        ("2026-W48", 1, date(2026, 11, 23)),
        ("2026-W48", 5, date(2026, 11, 27)),
        ("2026-W48", 7, date(2026, 11, 29)),
        ("2026-W48", 9, date(2026, 11, 29)),
        ("2026-Q4", 1, date(2026, 10, 1)),
        ("2026-Q4", 32, date(2026, 11, 1)),
        ("2026-Q4", 92, date(2026, 12, 31)),
        ("2026-Q4", 95, date(2026, 12, 31)),
        ("2026-Q1", 95, date(2026, 3, 31)),
        ("2026", 1, date(2026, 1, 1)),
        ("2026", 365, date(2026, 12, 31)),
        ("2026", 366, date(2026, 12, 31)),
        ("2024", 366, date(2024, 12, 31)),
    ],
)
def test_due_date(key: str, due: int, expected: date) -> None:
    assert parse_period(key).due_date(due) == expected


@pytest.mark.parametrize("due", [0, -1])
def test_due_date_must_be_positive(due: int) -> None:
    with pytest.raises(ValueError):
        parse_period("2026-11").due_date(due)


@given(kinds, days, st.integers(min_value=1, max_value=400))
def test_due_date_inside_period(kind: PeriodKind, day: date, due: int) -> None:
    p = period_of(kind, day)
    assert p.start <= p.due_date(due) <= p.end


# --- current period -----------------------------------------------------------


def test_current_period_across_timezone_boundary() -> None:
    now = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)
    assert current_period("month", now, HCM).key == "2026-12"
    assert current_period("month", now, ZoneInfo("UTC")).key == "2026-11"
    assert current_period("week", now, HCM).key == "2026-W49"
    assert current_period("week", now, ZoneInfo("UTC")).key == "2026-W49"
    assert current_period("quarter", now, HCM).key == "2026-Q4"


def test_current_period_new_year() -> None:
    now = datetime(2026, 12, 31, 17, 30, tzinfo=UTC)
    assert current_period("year", now, HCM).key == "2027"
    assert current_period("quarter", now, HCM).key == "2027-Q1"
    assert current_period("year", now, ZoneInfo("UTC")).key == "2026"


def test_current_period_other_offset() -> None:
    now = datetime(2026, 12, 1, 6, 0, tzinfo=HCM)
    assert current_period("month", now, ZoneInfo("America/New_York")).key == "2026-11"


def test_current_period_rejects_naive_datetime() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        current_period("month", datetime(2026, 11, 30, 18, 0), HCM)


# --- parsing keys -------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "kind", "start", "end"),
    [
        ("2026-11", "month", date(2026, 11, 1), date(2026, 11, 30)),
        ("2026-W48", "week", date(2026, 11, 23), date(2026, 11, 29)),
        ("2026-W53", "week", date(2026, 12, 28), date(2027, 1, 3)),
        ("2020-W53", "week", date(2020, 12, 28), date(2021, 1, 3)),
        ("2025-W01", "week", date(2024, 12, 30), date(2025, 1, 5)),
        ("2026-Q4", "quarter", date(2026, 10, 1), date(2026, 12, 31)),
        ("2026", "year", date(2026, 1, 1), date(2026, 12, 31)),
        (" 2026-w48 ", "week", date(2026, 11, 23), date(2026, 11, 29)),
    ],
)
def test_parse_period(key: str, kind: PeriodKind, start: date, end: date) -> None:
    p = parse_period(key)
    assert (p.kind, p.start, p.end) == (kind, start, end)
    assert p.key == key.strip().upper()


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("2026-13", "month must be 01–12"),
        ("2026-00", "month must be 01–12"),
        ("2026-W54", "has weeks W01–W53"),
        ("2025-W53", "has weeks W01–W52"),
        ("2026-W00", "has weeks"),
        ("2026-Q5", "quarter must be Q1–Q4"),
        ("2026-Q0", "quarter must be Q1–Q4"),
        ("0000", "year must be"),
        ("2026-1", "expected YYYY"),
        ("2026-W5", "expected YYYY"),
        ("26-11", "expected YYYY"),
        ("2026/11", "expected YYYY"),
        ("2026-11-01", "expected YYYY"),
        ("tháng 11", "expected YYYY"),
        ("", "expected YYYY"),
    ],
)
def test_parse_period_errors(key: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as exc_info:
        parse_period(key)
    assert repr(key) in str(exc_info.value)


# --- labels -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "label"),
    [
        ("2026-11", "tháng 11/2026"),
        ("2026-01", "tháng 1/2026"),
        ("2026-W48", "tuần 48/2026 (23/11–29/11)"),
        ("2026-W05", "tuần 5/2026 (26/01–01/02)"),
        ("2020-W53", "tuần 53/2020 (28/12–03/01)"),
        ("2026-Q1", "quý I/2026"),
        ("2026-Q2", "quý II/2026"),
        ("2026-Q3", "quý III/2026"),
        ("2026-Q4", "quý IV/2026"),
        ("2026", "năm 2026"),
    ],
)
def test_labels_in_vietnamese(key: str, label: str) -> None:
    with use_locale("vi"):
        assert parse_period(key).label() == label
