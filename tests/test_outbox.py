"""The outbox and its sender, end to end: real SQLite, the real python-telegram-bot
Application against the Bot API stand-in, and a clock the tests move (no sleeping)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.channels.telegram import TelegramChannel
from bot.domain import Identity, Person
from bot.messages import Incoming, OutgoingFile, Reply
from bot.plan.model import Plan
from bot.plan.schedule import quiet_until
from handlers.conversation import Conversations
from scheduler.outbox import Outbox
from storage.sqlite import SqliteStorage
from tests import engines
from tests.conftest import FakeClock
from tests.standin.telegram import BotApiStandIn


def make_outbox(
    storage: SqliteStorage,
    telegram: TelegramChannel,
    clock: FakeClock,
    plan: Plan,
    concurrency: int = 8,
) -> Outbox:
    return Outbox(
        storage,
        {"telegram": telegram},
        clock,
        lambda moment: quiet_until(plan.schedule, moment, plan.tz),
        concurrency=concurrency,
    )


async def register(
    storage: SqliteStorage,
    clock: FakeClock,
    name: str,
    chat: int,
    role: str = "head",
    village: str | None = "thon_1",
) -> Person:
    async with storage.transaction() as tx:
        person = await tx.create_person(name, role, village, "vi", clock())
        await tx.add_identity(person.id, Identity("telegram", str(chat), str(chat), name), clock())
        found = await tx.person(person.id)
    assert found is not None
    return found


async def queue(
    storage: SqliteStorage, clock: FakeClock, person: Person, key: str, *replies: Reply
) -> bool:
    identity = person.identities[0]
    async with storage.transaction() as tx:
        return await tx.queue_message(key, person.id, identity, "vi", list(replies), clock())


async def rows(storage: SqliteStorage) -> dict[str, dict[str, object]]:
    async with storage.transaction() as tx:
        return {row["key"]: row for row in await tx.outbox()}


def sent_texts(standin: BotApiStandIn, chat: int) -> list[str]:
    return [str(m.get("text", "")) for m in standin.messages_to(chat)]


async def test_a_key_is_queued_once_and_sent_once(
    standin: BotApiStandIn,
    telegram: TelegramChannel,
    storage: SqliteStorage,
    clock: FakeClock,
    small_plan: Plan,
) -> None:
    head = await register(storage, clock, "Anh Một", 1001)
    assert await queue(storage, clock, head, "k1", Reply("Lần một"))
    assert not await queue(storage, clock, head, "k1", Reply("Lần hai"))
    outbox = make_outbox(storage, telegram, clock, small_plan)
    assert await outbox.send_due() == 1
    assert await outbox.send_due() == 0
    assert sent_texts(standin, 1001) == ["Lần một"]
    assert (await rows(storage))["k1"]["sent_at"] == clock()


async def test_quiet_hours_defer_until_morning(
    standin: BotApiStandIn,
    telegram: TelegramChannel,
    storage: SqliteStorage,
    clock: FakeClock,
    small_plan: Plan,
) -> None:
    head = await register(storage, clock, "Anh Một", 1001)
    clock.now = datetime(2026, 11, 24, 15, 30, tzinfo=UTC)  # 22:30 in Vietnam
    await queue(storage, clock, head, "late-evening", Reply("Nhắc báo cáo"))
    outbox = make_outbox(storage, telegram, clock, small_plan)
    assert await outbox.send_due() == 0
    clock.now = datetime(2026, 11, 24, 23, 59, tzinfo=UTC)  # 06:59
    assert await outbox.send_due() == 0
    assert standin.calls("sendMessage") == []
    clock.now = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)  # 07:00: the quiet hours are over
    assert await outbox.send_due() == 1
    assert sent_texts(standin, 1001) == ["Nhắc báo cáo"]


async def test_retry_after_is_obeyed(
    standin: BotApiStandIn,
    telegram: TelegramChannel,
    storage: SqliteStorage,
    clock: FakeClock,
    small_plan: Plan,
) -> None:
    first = await register(storage, clock, "Anh Một", 1001)
    second = await register(storage, clock, "Chị Hai", 1002, village="thon_2")
    await queue(storage, clock, first, "a", Reply("Cho anh Một"))
    await queue(storage, clock, second, "b", Reply("Cho chị Hai"))
    standin.fail_next("sendMessage", 429, "Too Many Requests: retry after 5", retry_after=5)
    outbox = make_outbox(storage, telegram, clock, small_plan, concurrency=1)

    assert await outbox.send_due() == 0
    assert [c.status for c in standin.calls("sendMessage")] == [429]
    clock.advance(seconds=4)
    assert await outbox.send_due() == 0
    assert len(standin.calls("sendMessage")) == 1  # nothing at all while told to wait
    clock.advance(seconds=1)
    assert await outbox.send_due() == 2
    assert sent_texts(standin, 1001) == ["Cho anh Một"]
    assert sent_texts(standin, 1002) == ["Cho chị Hai"]
    assert (await rows(storage))["a"]["attempts"] == 0  # waiting is not a failed try


async def test_forbidden_marks_the_person_unreachable_until_they_write_again(
    standin: BotApiStandIn,
    telegram: TelegramChannel,
    storage: SqliteStorage,
    clock: FakeClock,
    small_plan: Plan,
    conversations: Conversations,
) -> None:
    head = await register(storage, clock, "Anh Một", 1001)
    other = await register(storage, clock, "Chị Hai", 1002, village="thon_2")
    await queue(storage, clock, head, "a", Reply("Cho anh Một"))
    await queue(storage, clock, other, "b", Reply("Cho chị Hai"))
    standin.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user", chat_id=1001)
    outbox = make_outbox(storage, telegram, clock, small_plan)
    assert await outbox.send_due() == 2
    assert sent_texts(standin, 1002) == ["Cho chị Hai"]
    row = (await rows(storage))["a"]
    assert row["failed_at"] is not None and "unreachable" in str(row["last_error"])
    async with storage.transaction() as tx:
        blocked = await tx.person(head.id)
    assert blocked is not None and blocked.unreachable and blocked.reachable is None
    assert not await queue(storage, clock, head, "a", Reply("again"))  # the key stays used

    # They unblock the bot and write: reachable again.
    clock.advance(minutes=1)
    await conversations.handle(
        Incoming("telegram", "1001", "1001", "text", "/huongdan", update_key="u1")
    )
    async with storage.transaction() as tx:
        back = await tx.person(head.id)
    assert back is not None and not back.unreachable and back.reachable is not None


async def test_server_errors_are_retried_with_backoff_then_given_up(
    standin: BotApiStandIn,
    telegram: TelegramChannel,
    storage: SqliteStorage,
    clock: FakeClock,
    small_plan: Plan,
) -> None:
    head = await register(storage, clock, "Anh Một", 1001)
    await queue(storage, clock, head, "a", Reply("Nhắc"))
    for _ in range(Outbox.MAX_ATTEMPTS):
        standin.fail_next("sendMessage", 502, "Bad Gateway")
    outbox = make_outbox(storage, telegram, clock, small_plan)
    start = clock()
    waits = []
    for attempt in range(1, Outbox.MAX_ATTEMPTS):
        await outbox.send_due()
        row = (await rows(storage))["a"]
        assert row["attempts"] == attempt and row["failed_at"] is None
        retry_at = row["not_before"]
        waits.append(retry_at - clock())
        clock.now = retry_at - timedelta(seconds=1)
        await outbox.send_due()  # not yet
        assert len(standin.calls("sendMessage")) == attempt
        clock.now = retry_at
    assert waits == [timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=8),
                     timedelta(minutes=32)]  # fmt: skip
    assert await outbox.send_due() == 1
    row = (await rows(storage))["a"]
    assert row["failed_at"] is not None and row["sent_at"] is None
    assert row["attempts"] == Outbox.MAX_ATTEMPTS and "Bad Gateway" in str(row["last_error"])
    assert clock() - start == timedelta(minutes=30 / 60 + 2 + 8 + 32)
    clock.advance(hours=1)
    assert await outbox.send_due() == 0
    assert sent_texts(standin, 1001) == []


async def test_a_timed_out_send_is_tried_again(
    standin: BotApiStandIn,
    telegram: TelegramChannel,
    storage: SqliteStorage,
    clock: FakeClock,
    small_plan: Plan,
) -> None:
    head = await register(storage, clock, "Anh Một", 1001)
    await queue(storage, clock, head, "a", Reply("Nhắc"))
    standin.delay_next("sendMessage", 2.0)  # longer than the channel's 1 s timeout
    outbox = make_outbox(storage, telegram, clock, small_plan)
    assert await outbox.send_due() == 0
    row = (await rows(storage))["a"]
    assert row["attempts"] == 1 and row["sent_at"] is None
    clock.advance(seconds=30)
    assert await outbox.send_due() == 1
    # The slow send did arrive: a rare duplicate, never a lost reminder.
    assert sent_texts(standin, 1001) == ["Nhắc", "Nhắc"]


async def test_parts_confirmed_before_a_failure_are_not_sent_again(
    standin: BotApiStandIn,
    telegram: TelegramChannel,
    storage: SqliteStorage,
    clock: FakeClock,
    small_plan: Plan,
) -> None:
    officer = await register(storage, clock, "Chị Thư ký", 2001, "secretariat", None)
    files = (OutgoingFile("tong-hop.xlsx", b"PK\x03\x04 workbook"),)
    await queue(storage, clock, officer, "digest", Reply("Tổng hợp tuần", files=files))
    standin.fail_next("sendDocument", 502, "Bad Gateway")
    outbox = make_outbox(storage, telegram, clock, small_plan)
    assert await outbox.send_due() == 0
    assert (await rows(storage))["digest"]["parts_sent"] == 1
    clock.advance(seconds=30)
    assert await outbox.send_due() == 1
    assert sent_texts(standin, 2001) == ["Tổng hợp tuần", ""]  # the text once, then the file
    documents = [c for c in standin.calls("sendDocument") if c.status == 200]
    assert len(documents) == 1


async def test_a_restart_resumes_the_queue(
    standin: BotApiStandIn,
    telegram: TelegramChannel,
    clock: FakeClock,
    small_plan: Plan,
    database_url: str,
) -> None:
    """Queued, and the process stopped before sending: the next process sends it."""
    before = await engines.open_url(database_url)
    head = await register(before, clock, "Anh Một", 1001)
    await queue(before, clock, head, "a", Reply("Nhắc"))
    await before.close()
    after = await engines.open_url(database_url)
    try:
        assert await make_outbox(after, telegram, clock, small_plan).send_due() == 1
    finally:
        await after.close()
    assert sent_texts(standin, 1001) == ["Nhắc"]


async def test_two_senders_on_one_database_send_each_message_once(
    standin: BotApiStandIn,
    telegram: TelegramChannel,
    clock: FakeClock,
    small_plan: Plan,
    database_url: str,
) -> None:
    """Two processes' senders, each on its own connection to the same database, at once:
    each claims what it sends, so every message goes out once, and both take part."""
    first = await engines.open_url(database_url)
    second = await engines.open_url(database_url)
    try:
        heads = [
            await register(first, clock, f"Trưởng thôn {n}", 3000 + n, village="thon_1")
            for n in range(60)
        ]
        for head in heads:
            await queue(first, clock, head, f"r{head.id}", Reply(f"Nhắc {head.id}"))
        one = Outbox(first, {"telegram": telegram}, clock, batch=10, owner="one")
        two = Outbox(second, {"telegram": telegram}, clock, batch=10, owner="two")

        async def drain(sender: Outbox) -> int:
            total = 0
            while (done := await sender.send_due()) > 0:
                total += done
            return total

        counts = await asyncio.gather(drain(one), drain(two))
    finally:
        await first.close()
        await second.close()
    assert sum(counts) == 60 and min(counts) > 0, counts
    for head in heads:
        assert sent_texts(standin, int(head.identities[0].chat_id)) == [f"Nhắc {head.id}"]


async def test_a_claim_is_honoured_until_its_lease_runs_out(
    standin: BotApiStandIn,
    telegram: TelegramChannel,
    storage: SqliteStorage,
    clock: FakeClock,
    small_plan: Plan,
) -> None:
    head = await register(storage, clock, "Anh Một", 1001)
    await queue(storage, clock, head, "a", Reply("Nhắc"))
    async with storage.transaction() as tx:
        [held] = await tx.claim_messages("gone", clock(), clock() + Outbox.LEASE, ["telegram"], 5)
    assert held.owner == "gone"
    other = make_outbox(storage, telegram, clock, small_plan)
    assert await other.send_due() == 0  # someone holds it
    clock.now += Outbox.LEASE
    assert await other.send_due() == 1  # the lease ran out: the holder is gone
    assert sent_texts(standin, 1001) == ["Nhắc"]


async def test_a_message_never_overtakes_an_earlier_one_to_its_chat_that_waits(
    standin: BotApiStandIn,
    telegram: TelegramChannel,
    storage: SqliteStorage,
    clock: FakeClock,
    small_plan: Plan,
) -> None:
    head = await register(storage, clock, "Anh Một", 1001)
    other = await register(storage, clock, "Chị Hai", 1002, village="thon_2")
    await queue(storage, clock, head, "first", Reply("Một"))
    await queue(storage, clock, head, "second", Reply("Hai"))
    await queue(storage, clock, other, "elsewhere", Reply("Cho chị Hai"))
    standin.fail_next("sendMessage", 502, "Bad Gateway", chat_id=1001)
    outbox = make_outbox(storage, telegram, clock, small_plan)
    assert await outbox.send_due() == 1  # only the other chat's
    assert sent_texts(standin, 1001) == [] and sent_texts(standin, 1002) == ["Cho chị Hai"]
    await queue(storage, clock, head, "third", Reply("Ba"))
    assert await outbox.send_due() == 0  # "Hai" and "Ba" wait behind "Một"
    assert (await rows(storage))["second"]["owner"] is None  # given back, not held
    clock.advance(seconds=30)
    assert await outbox.send_due() == 3
    assert sent_texts(standin, 1001) == ["Một", "Hai", "Ba"]


async def test_a_platform_that_cannot_be_reached_holds_its_messages_without_using_attempts(
    standin: BotApiStandIn,
    telegram: TelegramChannel,
    storage: SqliteStorage,
    clock: FakeClock,
    small_plan: Plan,
) -> None:
    """Telegram blocked or down: messages wait (no attempt counted, nothing given up), the
    sender tries again after 5 s, 10 s… and sends everything once Telegram is back."""
    head = await register(storage, clock, "Anh Một", 1001)
    for n in range(3):
        await queue(storage, clock, head, f"m{n}", Reply(f"Tin {n}"))
    outbox = make_outbox(storage, telegram, clock, small_plan)
    await standin.stop()
    try:
        assert await outbox.send_due() == 0
        assert outbox.paused_until("telegram") == clock() + timedelta(seconds=5)
        for wait in (5, 10, 20, 40, 80, 160, 300, 300):
            clock.advance(seconds=wait)
            assert await outbox.send_due() == 0
    finally:
        await standin.start()
    assert {row["attempts"] for row in (await rows(storage)).values()} == {0}
    assert all(row["failed_at"] is None for row in (await rows(storage)).values())
    clock.advance(seconds=300)
    assert await outbox.send_due() == 3
    assert sent_texts(standin, 1001) == ["Tin 0", "Tin 1", "Tin 2"]


async def test_replies_go_out_in_the_quiet_hours_what_the_bot_starts_waits(
    standin: BotApiStandIn,
    telegram: TelegramChannel,
    storage: SqliteStorage,
    clock: FakeClock,
    small_plan: Plan,
) -> None:
    head = await register(storage, clock, "Anh Một", 1001)
    clock.now = datetime(2026, 11, 24, 15, 30, tzinfo=UTC)  # 22:30 in Vietnam
    await queue(storage, clock, head, "reminder:x", Reply("Nhắc"))
    await queue(storage, clock, head, "reply:77", Reply("Trả lời"))
    outbox = make_outbox(storage, telegram, clock, small_plan)
    assert await outbox.send_due() == 1
    assert sent_texts(standin, 1001) == ["Trả lời"]


async def test_revoking_someone_cancels_their_queued_messages(
    standin: BotApiStandIn,
    telegram: TelegramChannel,
    storage: SqliteStorage,
    clock: FakeClock,
    small_plan: Plan,
) -> None:
    head = await register(storage, clock, "Anh Một", 1001)
    other = await register(storage, clock, "Chị Hai", 1002, village="thon_2")
    await queue(storage, clock, head, "a", Reply("Cho anh Một"))
    await queue(storage, clock, other, "b", Reply("Cho chị Hai"))
    async with storage.transaction() as tx:
        assert await tx.revoke_person(head.id, clock())
    assert await make_outbox(storage, telegram, clock, small_plan).send_due() == 1
    assert sent_texts(standin, 1001) == [] and sent_texts(standin, 1002) == ["Cho chị Hai"]
    row = (await rows(storage))["a"]
    assert row["failed_at"] is not None and row["last_error"] == "revoked"
