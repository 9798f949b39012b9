"""Reporting periods: ISO weeks, months, quarters and years.

Each period has a key (``2026-W48``, ``2026-11``, ``2026-Q4``, ``2026``) that is
zero-padded so that, within one kind, sorting keys as strings sorts periods in time.
Weeks follow ISO 8601: they start on Monday and belong to the ISO year of their
Thursday, so 2020-12-31 is in ``2020-W53`` and 2024-12-30 in ``2025-W01``.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, date, datetime, timedelta
from typing import Literal, get_args
from zoneinfo import ZoneInfo

from bot.i18n import _

__all__ = ["Period", "PeriodKind", "current_period", "parse_period", "period_of"]

PeriodKind = Literal["week", "month", "quarter", "year"]
PERIOD_KINDS: tuple[PeriodKind, ...] = get_args(PeriodKind)

_ROMAN_QUARTERS = ("I", "II", "III", "IV")

_YEAR_RE = re.compile(r"(?P<year>[0-9]{4})")
_MONTH_RE = re.compile(r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})")
_WEEK_RE = re.compile(r"(?P<year>[0-9]{4})-W(?P<week>[0-9]{2})")
_QUARTER_RE = re.compile(r"(?P<year>[0-9]{4})-Q(?P<quarter>[0-9])")


@dataclass(frozen=True, order=True)
class Period:
    kind: PeriodKind
    key: str
    start: date
    end: date  # inclusive

    def previous(self) -> Period:
        return period_of(self.kind, self.start - timedelta(days=1))

    def next(self) -> Period:
        return period_of(self.kind, self.end + timedelta(days=1))

    def due_date(self, due: int) -> date:
        """Day ``due`` of the period (1-based), clamped to its last day.

        Week: 1 = Monday … 7 = Sunday; month: day of the month; quarter and year:
        N-th day counted from the first day of the quarter / year.
        """
        if due < 1:
            raise ValueError(f"due day must be 1 or more, got {due}")
        return min(self.start + timedelta(days=due - 1), self.end)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    def label(self) -> str:
        """A human label in the current locale (``tháng 11/2026``, ``quý IV/2026``…)."""
        if self.kind == "week":
            iso = self.start.isocalendar()
            return _("tuần {week}/{year} ({start}–{end})").format(
                week=iso.week,
                year=iso.year,
                start=f"{self.start:%d/%m}",
                end=f"{self.end:%d/%m}",
            )
        if self.kind == "month":
            return _("tháng {month}/{year}").format(month=self.start.month, year=self.start.year)
        if self.kind == "quarter":
            quarter = (self.start.month - 1) // 3 + 1
            return _("quý {quarter}/{year}").format(
                quarter=_ROMAN_QUARTERS[quarter - 1], year=self.start.year
            )
        return _("năm {year}").format(year=self.start.year)


def _check_kind(kind: str) -> None:
    if kind not in PERIOD_KINDS:
        raise ValueError(f"unknown period kind {kind!r}; expected one of {', '.join(PERIOD_KINDS)}")


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def period_of(kind: PeriodKind, day: date) -> Period:
    """The period of ``kind`` that contains ``day``."""
    _check_kind(kind)
    if isinstance(day, datetime):
        day = day.date()
    if kind == "week":
        iso = day.isocalendar()
        start = day - timedelta(days=iso.weekday - 1)
        return Period("week", f"{iso.year:04d}-W{iso.week:02d}", start, start + timedelta(days=6))
    if kind == "month":
        return Period(
            "month",
            f"{day.year:04d}-{day.month:02d}",
            day.replace(day=1),
            _month_end(day.year, day.month),
        )
    if kind == "quarter":
        quarter = (day.month - 1) // 3 + 1
        return Period(
            "quarter",
            f"{day.year:04d}-Q{quarter}",
            date(day.year, 3 * quarter - 2, 1),
            _month_end(day.year, 3 * quarter),
        )
    return Period("year", f"{day.year:04d}", date(day.year, 1, 1), date(day.year, 12, 31))


def current_period(kind: PeriodKind, now: datetime, tz: ZoneInfo) -> Period:
    """The period containing ``now`` as seen on the wall calendar of ``tz``.

    ``now`` must be timezone-aware: a naive datetime has no defined local date.
    """
    if now.tzinfo is None or now.tzinfo.utcoffset(now) is None:
        raise ValueError("current_period() needs a timezone-aware datetime")
    return period_of(kind, now.astimezone(tz).date())


def _invalid_key(key: str, why: str) -> ValueError:
    return ValueError(f"invalid period key {key!r}: {why}")


def parse_period(key: str) -> Period:
    """The period for ``key``: ``2026``, ``2026-11``, ``2026-W48`` (ISO week) or ``2026-Q4``."""
    text = key.strip().upper()
    m = (
        _YEAR_RE.fullmatch(text)
        or _MONTH_RE.fullmatch(text)
        or _WEEK_RE.fullmatch(text)
        or _QUARTER_RE.fullmatch(text)
    )
    if m is None:
        raise _invalid_key(
            key,
            "expected YYYY, YYYY-MM, YYYY-Www or YYYY-Qn (e.g. 2026, 2026-11, 2026-W48, 2026-Q4)",
        )
    year = int(m["year"])
    if year < MINYEAR:
        raise _invalid_key(key, f"year must be {MINYEAR:04d}–{MAXYEAR}")
    groups = m.groupdict()
    if "month" in groups:
        month = int(m["month"])
        if not 1 <= month <= 12:
            raise _invalid_key(key, "month must be 01–12")
        return period_of("month", date(year, month, 1))
    if "week" in groups:
        week = int(m["week"])
        weeks_in_year = date(year, 12, 28).isocalendar().week
        if not 1 <= week <= weeks_in_year:
            raise _invalid_key(key, f"ISO year {year} has weeks W01–W{weeks_in_year}")
        return period_of("week", date.fromisocalendar(year, week, 1))
    if "quarter" in groups:
        quarter = int(m["quarter"])
        if not 1 <= quarter <= 4:
            raise _invalid_key(key, "quarter must be Q1–Q4")
        return period_of("quarter", date(year, 3 * quarter - 2, 1))
    return period_of("year", date(year, 1, 1))
