"""Time, injected: the bot asks a ``Clock`` instead of calling ``datetime.now`` itself."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)
