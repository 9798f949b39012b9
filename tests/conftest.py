from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.channels.base import Channel
from bot.channels.telegram import TelegramChannel, TelegramOptions
from bot.domain import Invite
from bot.plan.model import Plan, load_plan
from bot.plan.schedule import quiet_until
from bot.ratelimit import Limits
from handlers.conversation import Conversations
from handlers.inbox import Inbox
from scheduler.outbox import Outbox
from storage.repository import Storage
from storage.sqlite import SqliteStorage
from tests import browser, engines
from tests.standin.telegram import BotApiStandIn

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


async def add_invite(
    storage: SqliteStorage,
    clock: FakeClock,
    code: str,
    village: str | None = "thon_1",
    role: str = "head",
    days: int = 7,
) -> None:
    """An unused invite code created now, valid ``days`` days."""
    async with storage.transaction() as tx:
        await tx.create_invite(Invite(code, role, village, clock(), clock() + timedelta(days=days)))


@pytest.fixture
def clock() -> FakeClock:
    # 2026-11-24 10:00 in Asia/Ho_Chi_Minh
    return FakeClock(datetime(2026, 11, 24, 3, 0, tzinfo=UTC))


@pytest.fixture(scope="session")
def small_plan() -> Plan:
    return load_plan(SMALL_PLAN)


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The PostgreSQL server the tests may use (THIDUA_TEST_POSTGRES, by default the
    machine's own on 127.0.0.1:5432); the test is skipped when none answers, unless
    THIDUA_REQUIRE_POSTGRES=1 (CI), where that fails it."""
    return engines.postgres_server()


@pytest.fixture(params=engines.ENGINES)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database on each engine: a SQLite file, or a schema of its own in the
    PostgreSQL server's database (dropped after the test)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'thidua.db'}"
        return
    server = request.getfixturevalue("postgres_server")
    async with engines.postgres_schema(server) as url:
        yield url


@pytest.fixture
async def storage(database_url: str) -> AsyncIterator[Storage]:
    """The storage on each engine (the test runs once per engine)."""
    store = await engines.open_url(database_url)
    yield store
    await store.close()


@pytest.fixture
async def standin() -> AsyncIterator[BotApiStandIn]:
    """A Bot API stand-in on 127.0.0.1; every request it saw must have followed the spec."""
    api = BotApiStandIn()
    await api.start()
    yield api
    await api.stop()
    assert api.violations == [], api.violations


@pytest.fixture
def conversations(small_plan: Plan, storage: SqliteStorage, clock: FakeClock) -> Conversations:
    return Conversations(small_plan, storage, clock)


@pytest.fixture
def outbox(
    storage: SqliteStorage, clock: FakeClock, small_plan: Plan, conversations: Conversations
) -> Outbox:
    """The sender the inbox delivers replies through (its loop is not running: a test
    calls ``send_due`` to send what waits)."""
    plan = small_plan
    return Outbox(
        storage,
        {},
        clock,
        lambda moment: quiet_until(plan.schedule, moment, plan.tz),
        render=conversations.renderer.render,
    )


@pytest.fixture
async def inbox(
    storage: SqliteStorage, conversations: Conversations, outbox: Outbox, clock: FakeClock
) -> AsyncIterator[Inbox]:
    """What channels hand events to: stored, applied in order, replies sent at once."""
    conversations.queued = outbox.wake
    box = Inbox(storage, conversations, outbox, clock)
    await box.start()
    yield box
    await box.stop()
    await outbox.flush()


def attach(channel: Channel, inbox: Inbox, outbox: Outbox) -> None:
    """Wire a channel as ``bot.app.bootstrap.App.add_channel`` does."""
    outbox.channels[channel.name] = channel
    inbox.channels[channel.name] = channel


@pytest.fixture
async def telegram(
    standin: BotApiStandIn, inbox: Inbox, outbox: Outbox, small_plan: Plan
) -> AsyncIterator[TelegramChannel]:
    """The real Telegram channel (python-telegram-bot's Application) polling the stand-in."""
    options = TelegramOptions(
        token=standin.token,
        api_url=standin.base_url,
        poll_timeout=1,
        # The simulated people answer instantly; a person's pace would not meet the per-chat
        # limit, which tests/test_ratelimit.py checks on its own.
        limits=Limits(chat_burst=100),
        send_timeout=1.0,
    )
    channel = TelegramChannel(options, inbox, small_plan.tz)
    attach(channel, inbox, outbox)
    await channel.connect()
    yield channel
    await channel.stop()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say it plainly when the PostgreSQL half of the suite, or the browser tests, did not
    run; and where the browser tests left their screenshots."""
    for marker, what in ((engines.SKIPPED, "PostgreSQL"), (browser.SKIPPED, "browser")):
        skipped = [
            report
            for report in terminalreporter.stats.get("skipped", [])
            if marker in str(getattr(report, "longrepr", ""))
        ]
        if skipped:
            longrepr = skipped[0].longrepr
            reason = str(longrepr[-1]) if isinstance(longrepr, tuple) else ""
            terminalreporter.write_line(
                f"{len(skipped)} {what} tests skipped: {reason.removeprefix('Skipped: ')}",
                yellow=True,
            )
    ran = [
        report
        for report in terminalreporter.stats.get("passed", [])
        if "test_web_browser" in report.nodeid
    ]
    if ran:
        terminalreporter.write_line(f"the web page's screenshots: {browser.SCREENSHOTS}")
