"""The inbox on a real SQLite file with a recording channel: events stored before they are
acknowledged, applied once and in arrival order per sender, replies queued with the change
and delivered at least once, an apology (and the draft kept) when applying fails."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.channels.base import TemporaryFailure
from bot.messages import Attachment, Incoming
from bot.plan.model import Plan
from handlers.conversation import Conversations
from handlers.inbox import Inbox
from scheduler.outbox import Outbox
from storage.sqlite import SqliteStorage
from tests.conftest import FakeClock, add_invite
from tests.fakes import RecordingChannel

_keys = iter(range(1, 1_000_000))


def said(text: str, user: str = "7", key: str | None = None, kind: str = "text") -> Incoming:
    return Incoming(
        "telegram",
        user,
        user,
        kind,  # type: ignore[arg-type]
        text,
        update_key=key or str(next(_keys)),
        display_name="Anh Ba",
    )


def photo(file_id: str, user: str = "7") -> Incoming:
    return Incoming(
        "telegram",
        user,
        user,
        "photo",
        update_key=str(next(_keys)),
        attachments=(Attachment(file_id, 40, "image/jpeg"),),
    )


async def wired(
    storage: SqliteStorage, conversations: Conversations, outbox: Outbox, clock: FakeClock
) -> tuple[Inbox, RecordingChannel]:
    channel = RecordingChannel()
    outbox.channels[channel.name] = channel
    inbox = Inbox(storage, conversations, outbox, clock, {channel.name: channel})
    await inbox.start()
    return inbox, channel


async def test_an_event_received_twice_is_applied_once_and_answered_once(
    storage: SqliteStorage, conversations: Conversations, outbox: Outbox, clock: FakeClock
) -> None:
    await add_invite(storage, clock, "ABCD2345")
    inbox, channel = await wired(storage, conversations, outbox, clock)
    event = said("/start ABCD2345", key="u-1")
    await inbox.receive(event)
    await inbox.receive(event)
    await inbox.idle()
    assert len(channel.texts("7")) == 1 and "Chào mừng" in channel.texts("7")[0]
    async with storage.transaction() as tx:
        assert len(await tx.people()) == 1
        assert [row["key"] for row in await tx.outbox()] == ["reply:1"]


async def test_an_event_is_stored_before_the_future_completes_and_applied_after_a_restart(
    storage: SqliteStorage,
    conversations: Conversations,
    outbox: Outbox,
    clock: FakeClock,
    small_plan: Plan,
) -> None:
    """Stored but not applied (the process died before applying it): the next start
    applies it, in the order it arrived, and answers."""
    await add_invite(storage, clock, "ABCD2345")
    stopped = Inbox(storage, conversations, outbox, clock)  # never started: nothing applied
    await stopped.receive(said("/start ABCD2345"))
    await stopped.receive(said("/baocao"))
    async with storage.transaction() as tx:
        assert [e.text for _id, e in await tx.pending_events()] == ["/start ABCD2345", "/baocao"]
    inbox, channel = await wired(storage, conversations, outbox, clock)
    await inbox.idle()
    texts = channel.texts("7")
    assert "Chào mừng" in texts[0] and "kỳ nào" in texts[1]
    async with storage.transaction() as tx:
        assert await tx.pending_events() == []


async def test_one_senders_events_are_applied_in_the_order_they_arrived(
    storage: SqliteStorage, conversations: Conversations, outbox: Outbox, clock: FakeClock
) -> None:
    """A photo whose download takes a while, then "Xong" at once: the photo is applied
    first, so the nomination keeps it; another sender is not held up meanwhile."""
    await add_invite(storage, clock, "ABCD2345")
    await add_invite(storage, clock, "EFGH2345", "thon_2")
    inbox, channel = await wired(storage, conversations, outbox, clock)
    for text in ("/start ABCD2345", "/detcu", "Bà Lan", "1", "Nấu cơm cho bệnh nhân nghèo", "2"):
        await inbox.receive(said(text))
    await inbox.idle()
    assert "ảnh" in channel.texts("7")[-1]
    channel.photos["P1"] = b"\xff\xd8" + b"x" * 38
    channel.fetch_delay = 0.3
    inbox.receive(photo("P1"))
    inbox.receive(said("Xong"))
    other = inbox.receive(said("/start EFGH2345", user="8"))
    await other
    await asyncio.sleep(0.05)
    assert channel.texts("8") and "Chào mừng" in channel.texts("8")[0]  # not held up
    await inbox.idle()
    assert "Đã nhận ảnh 1/3" in channel.texts("7")[-2]
    assert "Ảnh: 1" in channel.texts("7")[-1]


async def test_a_reply_that_fails_to_go_out_is_sent_again_from_the_outbox(
    storage: SqliteStorage, conversations: Conversations, outbox: Outbox, clock: FakeClock
) -> None:
    await add_invite(storage, clock, "ABCD2345")
    inbox, channel = await wired(storage, conversations, outbox, clock)
    channel.failures.append(TemporaryFailure("502 Bad Gateway"))
    await inbox.receive(said("/start ABCD2345"))
    await inbox.idle()
    assert channel.texts("7") == []
    async with storage.transaction() as tx:
        [row] = await tx.outbox()
        assert row["attempts"] == 1 and row["sent_at"] is None and row["owner"] is None
        assert len(await tx.people()) == 1  # the registration stands
    assert await outbox.send_due() == 0  # not yet: the first retry waits 2 s
    clock.advance(seconds=2)
    assert await outbox.send_due() == 1
    assert "Chào mừng" in channel.texts("7")[0]


async def test_a_reply_given_up_is_sent_again_when_the_platform_redelivers_the_event(
    storage: SqliteStorage, conversations: Conversations, outbox: Outbox, clock: FakeClock
) -> None:
    await add_invite(storage, clock, "ABCD2345")
    inbox, channel = await wired(storage, conversations, outbox, clock)
    event = said("/start ABCD2345", key="u-9")
    channel.failures.extend(TemporaryFailure("502") for _ in range(outbox.MAX_ATTEMPTS))
    await inbox.receive(event)
    await inbox.idle()
    for _ in range(outbox.MAX_ATTEMPTS - 1):
        clock.advance(minutes=10)
        await outbox.send_due()
    async with storage.transaction() as tx:
        [row] = await tx.outbox()
    assert row["failed_at"] is not None and channel.texts("7") == []
    await inbox.receive(event)  # Telegram sends the update again
    await inbox.idle()
    assert await outbox.send_due() == 1
    assert ["Chào mừng" in text for text in channel.texts("7")] == [True]
    async with storage.transaction() as tx:
        assert len(await tx.people()) == 1  # applied once all the same


async def test_an_unexpected_error_apologises_with_a_reference_and_keeps_the_draft(
    storage: SqliteStorage,
    conversations: Conversations,
    outbox: Outbox,
    clock: FakeClock,
    caplog: object,
) -> None:
    await add_invite(storage, clock, "ABCD2345")
    inbox, channel = await wired(storage, conversations, outbox, clock)
    for text in ("/start ABCD2345", "/baocao", "2", "412"):
        await inbox.receive(said(text))
    await inbox.idle()
    async with storage.transaction() as tx:
        before = await tx.draft(1)
    original = conversations.engine.handle

    def broken(draft: object, inp: object) -> object:
        raise RuntimeError("a bug")

    conversations.engine.handle = broken  # type: ignore[method-assign,assignment]
    await inbox.receive(said("400"))
    await inbox.idle()
    apology = channel.texts("7")[-1]
    assert "Xin lỗi" in apology and "mã lỗi" in apology
    reference = apology.split("mã lỗi ", 1)[1].split(")", 1)[0]
    assert reference in caplog.text  # type: ignore[attr-defined]
    async with storage.transaction() as tx:
        assert await tx.draft(1) == before  # nothing half-done
        assert await tx.pending_events() == []  # not retried forever
    conversations.engine.handle = original  # type: ignore[method-assign]
    await inbox.receive(said("400"))
    await inbox.idle()
    assert "Đã ghi: 400 hộ" in channel.texts("7")[-1]


async def test_applied_events_are_forgotten_after_three_days_waiting_ones_never(
    storage: SqliteStorage, clock: FakeClock
) -> None:
    async with storage.transaction() as tx:
        first, second, waiting = await tx.receive_events(
            [said("a", key="1"), said("b", key="2"), said("c", key="3")], clock()
        )
        assert first and second and waiting
        assert await tx.claim_event(first, clock())
        assert not await tx.claim_event(first, clock())  # applied once
        clock.advance(days=4)
        assert await tx.claim_event(second, clock())
        assert await tx.forget_events(clock() - timedelta(days=3)) == 1
        assert await tx.receive_events([said("a", key="1")], clock()) != [None]  # forgotten
        assert await tx.receive_events([said("b", key="2")], clock()) == [None]  # still known
        assert next(event_id for event_id, _e in await tx.pending_events()) == waiting


async def test_an_event_with_a_lone_surrogate_is_stored_and_answered(
    storage: SqliteStorage, conversations: Conversations, outbox: Outbox, clock: FakeClock
) -> None:
    """JSON can carry a lone UTF-16 surrogate, which UTF-8 (and so the database) cannot:
    it is stored as "?", and neither it nor the events behind it are held up."""
    inbox, channel = await wired(storage, conversations, outbox, clock)
    await inbox.receive(said("xin chào \ud800"))
    await inbox.receive(said("/start \udfff"))
    await inbox.idle()
    assert len(channel.texts("7")) == 2
    async with storage.transaction() as tx:
        assert await tx.pending_events() == []
