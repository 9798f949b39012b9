"""Time, injected: the bot asks a ``Clock`` instead of calling ``datetime.now`` itself."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def clock_from(start: datetime, monotonic: Callable[[], float] = time.monotonic) -> Clock:
    """A clock that reads ``start`` now and runs on at the machine's pace from there
    (``THIDUA_NOW``: trying a plan before its dates, and processes under test)."""
    origin = monotonic()

    def now() -> datetime:
        return start.astimezone(UTC) + timedelta(seconds=monotonic() - origin)

    return now


def clock_offset(clock: Clock) -> timedelta:
    """How far ``clock`` runs ahead of the machine's clock (zero for ``system_clock``)."""
    if clock is system_clock:
        return timedelta(0)
    return clock() - system_clock()
