from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.plan import Plan, load_plan
from handlers.conversation import Conversations
from storage.sqlite import SqliteStorage

ROOT = Path(__file__).resolve().parent.parent
SMALL_PLAN = Path(__file__).parent / "plans" / "small.yaml"


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> FakeClock:
    # 2026-11-24 10:00 in Asia/Ho_Chi_Minh
    return FakeClock(datetime(2026, 11, 24, 3, 0, tzinfo=UTC))


@pytest.fixture(scope="session")
def small_plan() -> Plan:
    return load_plan(SMALL_PLAN)


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[SqliteStorage]:
    store = await SqliteStorage.open(tmp_path / "thidua.db")
    yield store
    await store.close()


@pytest.fixture
def conversations(small_plan: Plan, storage: SqliteStorage, clock: FakeClock) -> Conversations:
    return Conversations(small_plan, storage, clock)
