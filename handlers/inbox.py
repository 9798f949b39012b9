"""What people send: stored first, then applied in order, the replies queued with the change.

A channel adapter hands each event it receives to ``Inbox.receive`` the moment it arrives;
that call fixes the event's place in line (nothing is awaited before it) and returns a
future that completes once the event is written to the database, in one transaction with
whatever else arrived meanwhile. The adapter tells the platform the event arrived only
after that (the webhook's 200, the next ``getUpdates`` offset); for Zalo's polling, which
has no offsets, the poller polls again at once and lets the write go on meanwhile.

Stored events are applied one sender at a time, in the order they arrived: a sender's
next event waits until the one before is applied and its replies have gone out (photos are
fetched from the platform before the transaction, never inside it). The database keeps that
order across instances: applying takes the sender's lock and first applies any earlier event
of theirs still waiting, which another instance stored. Applying an event is
one transaction: the event is marked applied, the conversation changes state
(``Conversations.apply``) and the replies are queued to the outbox under the event's
key; after the commit the replies are sent at once by the outbox (``Outbox.deliver``), or
later when sending fails. A ``kill -9`` at any point loses no event: one stored and not
applied is applied at the next start, one applied has its replies in the outbox.

An unexpected error while applying gives the person a short apology with a reference (the
transaction is rolled back, so their draft is as it was) and logs the error with it.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import deque
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, replace
from typing import Protocol

from bot.clock import Clock
from bot.domain import REPLY_KEY, Identity, QueuedMessage
from bot.i18n import _, use_locale
from bot.messages import Incoming, Reply
from bot.text import without_surrogates
from handlers.conversation import Conversations
from scheduler.outbox import Outbox
from storage.repository import Storage, StorageBusy

log = logging.getLogger(__name__)

STORAGE_RETRIES = (0.5, 2.0, 5.0)  # seconds before applying again after a storage error
WRITE_BACKOFF_LIMIT = 30.0


MAX_EARLIER = 50  # earlier events of a sender applied before theirs, at most, in one go


class _EarlierFirst(Exception):
    """The sender has an earlier event waiting in the database: it is applied first."""

    def __init__(self, event_id: int, incoming: Incoming) -> None:
        super().__init__(event_id)
        self.event_id = event_id
        self.incoming = incoming


class Fetcher(Protocol):
    """What the inbox needs of a channel: fetching an event's attachments."""

    async def fetch(self, incoming: Incoming) -> Incoming: ...


@dataclass
class _Unsaved:
    incoming: Incoming
    stored: asyncio.Future[None]


def storable(incoming: Incoming) -> Incoming:
    """The event with every text fit for the database (a lone surrogate, which JSON can
    carry, made "?")."""
    fields = ("user_id", "chat_id", "text", "update_key", "display_name", "detail")
    values = {name: getattr(incoming, name) for name in fields}
    safe = {name: without_surrogates(v) for name, v in values.items() if isinstance(v, str)}
    changed = {name: v for name, v in safe.items() if v is not values[name]}
    return replace(incoming, **changed) if changed else incoming


class Inbox:
    def __init__(
        self,
        storage: Storage,
        conversations: Conversations,
        outbox: Outbox,
        clock: Clock,
        channels: Mapping[str, Fetcher] | None = None,
    ) -> None:
        self.storage = storage
        self.conversations = conversations
        self.outbox = outbox
        self.clock = clock
        self.channels: dict[str, Fetcher] = dict(channels or {})
        self._unsaved: list[_Unsaved] = []
        self._alone = 0  # how many of the next events to write one per transaction
        self._wrote = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._lines: dict[tuple[str, str], deque[tuple[int, Incoming]]] = {}
        self._workers: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._started = False
        self._stopping = False

    # -- receiving ------------------------------------------------------------------------

    def receive(self, incoming: Incoming) -> asyncio.Future[None]:
        """Take an event as it arrives (its place in line is fixed now); the future completes
        once it is stored."""
        stored: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._unsaved.append(_Unsaved(storable(incoming), stored))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="inbox-writer")
        return stored

    async def flushed(self) -> None:
        """Wait until every event received so far is stored."""
        while self._unsaved or (self._writer is not None and not self._writer.done()):
            writer = self._writer
            if writer is None:
                return
            await asyncio.shield(writer)

    async def _write(self) -> None:
        """Store what arrived, in one transaction per batch, until nothing is left. A busy
        database is waited out; an event the database refuses (it would be refused again)
        is written on its own, then dropped with an error in the log, never holding up the
        others."""
        pause = 0.0
        while self._unsaved:
            take = 1 if self._alone else len(self._unsaved)
            self._alone = max(self._alone - 1, 0)
            batch, self._unsaved = self._unsaved[:take], self._unsaved[take:]
            try:
                ids = await self._store(batch)
            except asyncio.CancelledError:
                self._unsaved[:0] = batch
                raise
            except StorageBusy:
                pause = min(max(pause * 2, 0.5), WRITE_BACKOFF_LIMIT)
                log.exception(
                    "inbox: could not store %s event(s); trying again in %s s", len(batch), pause
                )
                self._unsaved[:0] = batch
                await asyncio.sleep(pause)
                continue
            except Exception as error:
                if len(batch) > 1:
                    self._unsaved[:0] = batch
                    self._alone = len(batch)
                    continue
                log.exception("inbox: the database refuses an event; dropped: %r", batch[0])
                if not batch[0].stored.done():
                    batch[0].stored.set_exception(error)
                continue
            pause = 0.0
            for unsaved, event_id in zip(batch, ids, strict=True):
                if event_id is not None:
                    self._line_up(event_id, unsaved.incoming)
                if not unsaved.stored.done():
                    unsaved.stored.set_result(None)

    async def _store(self, batch: list[_Unsaved]) -> list[int | None]:
        """One transaction: the events' inbox ids (None for one stored before, whose given-up
        replies are queued again)."""
        now = self.clock()
        async with self.storage.transaction() as tx:
            ids = await tx.receive_events([u.incoming for u in batch], now)
            revived = False
            for unsaved, event_id in zip(batch, ids, strict=True):
                incoming = unsaved.incoming
                if event_id is None and incoming.update_key is not None:
                    log.info("update %s/%s received again", incoming.channel, incoming.update_key)
                    if await tx.revive_reply(incoming.channel, incoming.update_key, now):
                        revived = True
        if revived:
            self.outbox.wake()  # its replies are sent again
        return ids

    def _line_up(self, event_id: int, incoming: Incoming) -> None:
        """Queue a stored event behind its sender's earlier ones."""
        sender = (incoming.channel, incoming.user_id)
        line = self._lines.get(sender)
        if line is None:
            line = self._lines[sender] = deque()
        line.append((event_id, incoming))
        if sender not in self._workers and self._started and not self._stopping:
            self._workers[sender] = asyncio.create_task(self._work(sender))

    # -- applying -------------------------------------------------------------------------

    async def start(self) -> None:
        """Line up the events stored and not yet applied (a crash, a restart), oldest first,
        then apply as events come."""
        async with self.storage.transaction() as tx:
            pending = await tx.pending_events()
        if pending:
            log.info("inbox: %s event(s) received before the restart are applied now", len(pending))
        known = {event_id for line in self._lines.values() for event_id, _ in line}
        for event_id, incoming in pending:
            if event_id not in known:
                self._line_up(event_id, incoming)
        for line in self._lines.values():
            ordered = sorted(line, key=lambda item: item[0])
            line.clear()
            line.extend(ordered)
        self._started = True
        for sender in list(self._lines):
            if sender not in self._workers:
                self._workers[sender] = asyncio.create_task(self._work(sender))

    async def stop(self, grace: float = 5.0) -> None:
        """Store what was received, let each sender's event in hand finish (applied and its
        replies sent) for up to ``grace`` seconds, then stop; what is left is applied at the
        next start."""
        self._stopping = True
        with suppress(Exception):
            await asyncio.wait_for(self.flushed(), timeout=grace)
        workers = list(self._workers.values())
        if workers:
            await asyncio.wait(workers, timeout=grace)
        for worker in workers:
            worker.cancel()
        if workers:
            await asyncio.gather(*workers, return_exceptions=True)

    async def idle(self) -> None:
        """Wait until everything received so far is stored and applied (tests, shutdown)."""
        await self.flushed()
        while self._workers:
            await asyncio.gather(*list(self._workers.values()), return_exceptions=True)

    async def _work(self, sender: tuple[str, str]) -> None:
        line = self._lines[sender]
        try:
            while line and not self._stopping:
                event_id, incoming = line[0]
                await self._apply(event_id, incoming)
                line.popleft()
        finally:
            if not line:
                self._lines.pop(sender, None)
            self._workers.pop(sender, None)

    async def _apply(self, event_id: int, incoming: Incoming) -> None:
        """Apply the event; first, any earlier event of the same sender still waiting in the
        database (another instance stored it and has not applied it yet), in order."""
        for _turn in range(MAX_EARLIER + 1):
            try:
                await self._apply_one(event_id, incoming)
                return
            except _EarlierFirst as earlier:
                log.info(
                    "inbox: event %s waits for %s/%s's earlier event %s",
                    event_id,
                    incoming.channel,
                    incoming.user_id,
                    earlier.event_id,
                )
                await self._apply(earlier.event_id, earlier.incoming)
        log.error("inbox: event %s still has earlier events waiting; left for later", event_id)

    async def _apply_one(self, event_id: int, incoming: Incoming) -> None:
        channel = self.channels.get(incoming.channel)
        if incoming.kind == "photo" and incoming.attachments and channel is not None:
            try:  # before the transaction, never in it
                incoming = await channel.fetch(incoming)
            except Exception:  # applied without it: the person is asked to send it again
                log.exception("inbox: the photo of event %s could not be fetched", event_id)
        message: QueuedMessage | None = None
        for attempt, pause in enumerate((*STORAGE_RETRIES, None)):
            try:
                message = await self._apply_once(event_id, incoming)
                break
            except _EarlierFirst:
                raise
            except StorageBusy as error:  # the database is busy or failing: try again
                if pause is None:
                    message = await self._apologise(event_id, incoming, error)
                    break
                log.warning(
                    "inbox: event %s not applied (%s); again in %s s (%s)",
                    event_id,
                    error,
                    pause,
                    attempt + 1,
                )
                await asyncio.sleep(pause)
            except Exception as error:
                message = await self._apologise(event_id, incoming, error)
                break
        if message is None:
            return
        if message.owner == self.outbox.owner:
            await self.outbox.deliver(message)
        else:
            self.outbox.wake()  # an earlier message to this chat goes first

    async def _apply_once(self, event_id: int, incoming: Incoming) -> QueuedMessage | None:
        """One transaction: under the sender's lock, the event is applied unless it was
        already; an earlier event of the sender still waiting goes first (``_EarlierFirst``)."""
        now = self.clock()
        async with self.storage.transaction() as tx:
            await tx.hold_sender(incoming.channel, incoming.user_id)
            first = await tx.first_pending(incoming.channel, incoming.user_id)
            if first is not None and first[0] < event_id:
                raise _EarlierFirst(*first)
            if not await tx.claim_event(event_id, now):
                return None  # applied already (another instance, or before a restart)
            noted = await self.outbox.note_sent(tx)  # the replies before, noted with this
            outcome = await self.conversations.apply(tx, incoming, now)
            message = None
            if outcome.replies:
                message = await tx.queue_message(
                    f"{REPLY_KEY}{event_id}",
                    outcome.person_id,
                    Identity(incoming.channel, incoming.user_id, incoming.chat_id),
                    outcome.locale,
                    outcome.replies,
                    now,
                    owner=self.outbox.owner,
                    lease_until=now + self.outbox.LEASE,
                )
        self.outbox.noted(noted)
        return message

    async def _apologise(
        self, event_id: int, incoming: Incoming, error: BaseException
    ) -> QueuedMessage | None:
        reference = secrets.token_hex(3).upper()
        log.error(
            "inbox: event %s from %s/%s could not be applied (reference %s)",
            event_id,
            incoming.channel,
            incoming.user_id,
            reference,
            exc_info=error,
        )
        now = self.clock()
        with use_locale(incoming.language_code):
            text = _(
                "Xin lỗi, bot gặp lỗi khi xử lý tin nhắn này (mã lỗi {reference}). Phần việc "
                "đang làm dở vẫn được giữ nguyên. Xin gửi lại sau ít phút; nếu vẫn lỗi, báo "
                "cán bộ xã mã lỗi này."
            ).format(reference=reference)
        try:
            async with self.storage.transaction() as tx:
                if not await tx.claim_event(event_id, now):
                    return None
                noted = await self.outbox.note_sent(tx)
                message = await tx.queue_message(
                    f"{REPLY_KEY}{event_id}",
                    None,
                    Identity(incoming.channel, incoming.user_id, incoming.chat_id),
                    incoming.language_code or "vi",
                    [Reply(text)],
                    now,
                    owner=self.outbox.owner,
                    lease_until=now + self.outbox.LEASE,
                )
            self.outbox.noted(noted)
            return message
        except Exception:
            log.exception("inbox: event %s: not even the apology could be queued", event_id)
            return None
