"""The one sender: delivers what the bot queued in the outbox, within each platform's limits.

Everything the bot says is first written to the outbox in the transaction that decided it:
the replies to what people send (``handlers.inbox``) and what the bot starts on its own
(reminders, digests, notices). A sender claims a message (its ``owner`` and a lease) before
sending it, so two senders on one database never send the same message; a claim whose lease
ran out is void. Per chat, messages go out in the order they were queued, and none overtakes
an earlier one that waits for a retry.

Progress is recorded after every platform call, so after a crash sending resumes after the
last confirmed call: a confirmed call is never repeated, and a call that timed out is tried
again (a rare duplicate beats a lost reply).

- 429 (``RetryLater``): that channel's sending stops for ``retry_after``, then resumes;
- the platform cannot be reached at all (``ChannelDown``): that channel waits, 5 s at first,
  up to 5 min, and its messages wait with it (no attempt counted);
- Zalo's 429, which says no ``retry_after`` (``Throttled``): the channel backs off as for a
  failed attempt, and the attempt counts;
- timeouts and server errors (``TemporaryFailure``): tried again after 30 s, 2, 8 and 32 min
  (a reply, someone waiting for it: after 2 s, 15 s, 1 and 5 min), then given up and recorded;
- a failure that proves nothing alone (``Suspect``: Zalo's 403 means "internal error"):
  retried the same way; the person is marked unreachable only when deliveries to them have
  failed at least three times over at least a day;
- 403 on Telegram (``Unreachable``): the identity is marked unreachable (the digest lists it);
- any other refusal (``Rejected``): given up and recorded at once.

What the bot starts itself is not sent during the plan's quiet hours (replies are). Time
comes from the injected clock, so tests move it instead of sleeping.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from bot.channels.base import (
    Channel,
    ChannelDown,
    Rejected,
    RetryLater,
    Suspect,
    TemporaryFailure,
    Throttled,
    Unreachable,
)
from bot.clock import Clock
from bot.domain import QueuedMessage
from bot.i18n import use_locale
from bot.messages import Reply
from storage.repository import Storage, Transaction

log = logging.getLogger(__name__)

QuietHours = Callable[[datetime], datetime | None]  # moment -> when the quiet hours end
# Makes the replies recorded as a ``Recipe`` (with files, or for a channel that takes none).
Render = Callable[[list[Reply], bool], Awaitable[list[Reply]]]
NOTICE_BACKOFF = (30, 120, 480, 1920)  # seconds after the 1st, 2nd… failed attempt
REPLY_BACKOFF = (2, 15, 60, 300)
DOWN_BACKOFF = (5, 10, 20, 40, 80, 160, 300)
UNREACHABLE_AFTER = timedelta(days=1)  # of failing deliveries that prove nothing alone
UNREACHABLE_FAILURES = 3
NOTE_SENT = 0.05  # seconds within which a sent reply is noted as sent


def _never_quiet(moment: datetime) -> datetime | None:
    return None


def sender_id() -> str:
    """A name for this process's sender, unique across machines and restarts."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Outbox:
    MAX_ATTEMPTS = 5
    IDLE = 10.0  # seconds between looks at the outbox when nothing woke the loop
    SOON = 0.5
    LEASE = timedelta(minutes=2)

    def __init__(
        self,
        storage: Storage,
        channels: Mapping[str, Channel],
        clock: Clock,
        quiet_until: QuietHours = _never_quiet,
        concurrency: int = 8,
        batch: int = 200,
        owner: str | None = None,
        render: Render | None = None,
    ) -> None:
        self.storage = storage
        self.channels = dict(channels)
        self.clock = clock
        self.quiet_until = quiet_until
        self.concurrency = concurrency
        self.batch = batch
        self.owner = owner or sender_id()
        self.render = render
        self._paused: dict[str, datetime] = {}  # channel -> no sending before this
        self._down: dict[str, int] = {}  # channel -> failed tries to reach it in a row
        self._failing: set[tuple[str, str]] | None = None  # chats whose deliveries fail
        self._sent: list[tuple[int, int, datetime]] = []  # replies sent, not yet noted
        self._noting: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Something was queued: look at the outbox now rather than at the next tick."""
        self._wake.set()

    def paused_until(self, channel: str) -> datetime | None:
        until = self._paused.get(channel)
        return until if until is not None and until > self.clock() else None

    def backoff(self, attempts: int, reply: bool = False) -> timedelta:
        """The wait after the ``attempts``-th failed attempt: 30 s, 2 min, 8 min, 32 min for
        what the bot starts, 2 s, 15 s, 1 min, 5 min for a reply."""
        steps = REPLY_BACKOFF if reply else NOTICE_BACKOFF
        return timedelta(seconds=steps[min(attempts, len(steps)) - 1])

    def sending(self) -> list[str]:
        """The channels that may send now: connected and not paused."""
        return [
            name
            for name, channel in self.channels.items()
            if channel.ready and self.paused_until(name) is None
        ]

    async def send_due(self) -> int:
        """Claim what is due now (one batch) and send it; the number of messages finished."""
        now = self.clock()
        quiet = self.quiet_until(now) is not None
        active = self.sending()
        if not active:
            return 0
        async with self.storage.transaction() as tx:
            messages = await tx.claim_messages(
                self.owner, now, now + self.LEASE, active, self.batch, replies_only=quiet
            )
        if not messages:
            return 0
        by_chat: dict[tuple[str, str], list[QueuedMessage]] = {}
        for message in messages:
            by_chat.setdefault((message.channel, message.chat_id), []).append(message)
        unsent = {message.id for message in messages}
        gate = asyncio.Semaphore(self.concurrency)
        finished = 0

        async def one_chat(queue: list[QueuedMessage]) -> None:
            nonlocal finished
            async with gate:
                for message in queue:  # one chat's messages in order, one at a time
                    if self.paused_until(message.channel) is not None:
                        return
                    unsent.discard(message.id)
                    done = await self.deliver(message)
                    finished += done
                    if not done:
                        return  # the rest of this chat waits behind it

        try:
            await asyncio.gather(*(one_chat(queue) for queue in by_chat.values()))
        finally:
            if unsent:
                async with self.storage.transaction() as tx:
                    await tx.release_messages(sorted(unsent))
        return finished

    async def deliver(self, message: QueuedMessage) -> bool:
        """Send the parts of a message this sender claimed that are not yet confirmed; True
        when the message is done with (sent, or given up)."""
        if self._failing is None:
            await self.start()
        with use_locale(message.locale):
            return await self._deliver_parts(message)

    async def _deliver_parts(self, message: QueuedMessage) -> bool:
        channel = self.channels.get(message.channel)
        if channel is None or not channel.ready:
            async with self.storage.transaction() as tx:
                await tx.release_messages([message.id])
            return False
        done = message.parts_sent
        try:
            replies = await self._made(message.replies, channel.takes_files)
            parts: list[Any] = channel.parts(replies)
            while done < len(parts):
                if self.paused_until(message.channel) is not None:
                    async with self.storage.transaction() as tx:
                        await tx.message_progress(message.id, done)
                        await tx.release_messages([message.id])
                    return False
                await channel.send_part(message.chat_id, parts[done])
                done += 1
                if done < len(parts):
                    async with self.storage.transaction() as tx:
                        await tx.message_progress(message.id, done)
        except RetryLater as error:
            until = self.clock() + timedelta(seconds=error.seconds)
            self._pause(message.channel, until)
            log.warning("%s asked to wait %s s; sending resumes then", channel.name, error.seconds)
            # Waiting out a flood limit is not a failed attempt.
            await self._retry(message, done, message.attempts, until, str(error))
            return False
        except ChannelDown as error:
            tries = self._down.get(message.channel, 0) + 1
            self._down[message.channel] = tries
            until = self.clock() + timedelta(seconds=DOWN_BACKOFF[min(tries, 7) - 1])
            self._pause(message.channel, until)
            if tries == 1:
                log.warning(
                    "%s cannot be reached (%s); its messages wait and go out when it is back",
                    channel.name,
                    error,
                )
            await self._retry(message, done, message.attempts, until, str(error))
            return False
        except (Throttled, Suspect, TemporaryFailure) as error:
            return await self._failed_attempt(message, done, error)
        except Unreachable as error:
            log.warning(
                "outbox %s: person %s unreachable: %s", message.key, message.person_id, error
            )
            async with self.storage.transaction() as tx:
                now = self.clock()
                await tx.message_progress(message.id, done)
                await tx.mark_unreachable(message.channel, message.chat_id, now)
                await tx.message_failed(
                    message.id, message.attempts + 1, now, f"unreachable: {error}"
                )
            return True
        except Rejected as error:
            log.error("outbox %s: refused: %s", message.key, error)
            async with self.storage.transaction() as tx:
                await tx.message_progress(message.id, done)
                await tx.message_failed(message.id, message.attempts + 1, self.clock(), str(error))
            return True
        if self._down.pop(message.channel, 0):
            log.info("%s is reachable again", channel.name)
        if message.is_reply and not self._failing_chat(message.channel, message.chat_id):
            # Noted with the next unit of work (or within NOTE_SENT): one commit for many.
            self._sent.append((message.id, done, self.clock()))
            self._note_soon()
            return True
        async with self.storage.transaction() as tx:
            await tx.message_sent(message.id, done, self.clock())
            await tx.delivery_recovered(message.channel, message.chat_id)
        return True

    async def note_sent(self, tx: Transaction) -> list[int]:
        """Write within ``tx`` which replies went out since the last time (the inbox calls
        it as it applies the next event, before queueing its replies); once ``tx`` is
        committed, the caller says so with ``noted``."""
        for message_id, parts, at in self._sent:
            await tx.message_sent(message_id, parts, at)
        return [message_id for message_id, _parts, _at in self._sent]

    def noted(self, message_ids: list[int]) -> None:
        """These sent replies are written (their transaction committed)."""
        if message_ids:
            done = set(message_ids)
            self._sent = [item for item in self._sent if item[0] not in done]

    def _note_soon(self) -> None:
        if self._noting is None or self._noting.done():
            self._noting = asyncio.create_task(self._note_later())

    async def _note_later(self) -> None:
        await asyncio.sleep(NOTE_SENT)
        if not self._sent:
            return
        try:
            async with self.storage.transaction() as tx:
                written = await self.note_sent(tx)
        except Exception as error:  # noted with the next unit of work, or sent once more
            log.warning("outbox: could not note %s sent replies: %s", len(self._sent), error)
            return
        self.noted(written)

    async def flush(self) -> None:
        """Write now which replies went out (at stop)."""
        if self._noting is not None and not self._noting.done():
            self._noting.cancel()
        if self._sent:
            async with self.storage.transaction() as tx:
                written = await self.note_sent(tx)
            self.noted(written)

    async def _made(self, replies: list[Reply], with_files: bool) -> list[Reply]:
        """The replies with their recipes made (a failure to make one is a failed attempt)."""
        if self.render is None or all(reply.recipe is None for reply in replies):
            return replies
        try:
            return await self.render(replies, with_files)
        except Exception as error:
            log.exception("outbox: a reply could not be made")
            raise TemporaryFailure(f"rendering failed: {type(error).__name__}") from error

    async def _failed_attempt(
        self, message: QueuedMessage, done: int, error: TemporaryFailure
    ) -> bool:
        """A failed attempt that counts: retried after a back-off, given up after
        ``MAX_ATTEMPTS``; a ``Suspect`` failure also counts against the identity."""
        attempts = message.attempts + 1
        now = self.clock()
        retry = now + self.backoff(attempts, message.is_reply)
        if isinstance(error, Throttled):
            self._pause(message.channel, retry)
        async with self.storage.transaction() as tx:
            await tx.message_progress(message.id, done)
            unreachable = False
            if isinstance(error, Suspect):
                self._failing_chat(message.channel, message.chat_id, add=True)
                failing = await tx.delivery_failed(message.channel, message.chat_id, now)
                if failing is not None:
                    since, count = failing
                    unreachable = now - since >= UNREACHABLE_AFTER and count >= UNREACHABLE_FAILURES
            if unreachable:
                log.warning(
                    "outbox %s: deliveries to person %s have failed for a day: unreachable",
                    message.key,
                    message.person_id,
                )
                await tx.mark_unreachable(message.channel, message.chat_id, now)
                await tx.message_failed(message.id, attempts, now, f"unreachable: {error}")
                return True
            if attempts >= self.MAX_ATTEMPTS:
                log.error("outbox %s: giving up after %s tries: %s", message.key, attempts, error)
                await tx.message_failed(message.id, attempts, now, str(error))
                return True
            await tx.message_retry(message.id, attempts, retry, str(error))
        log.warning("outbox %s: %s; trying again at %s", message.key, error, retry)
        return False

    async def _retry(
        self, message: QueuedMessage, done: int, attempts: int, until: datetime, error: str
    ) -> None:
        async with self.storage.transaction() as tx:
            await tx.message_progress(message.id, done)
            await tx.message_retry(message.id, attempts, until, error)

    def _pause(self, channel: str, until: datetime) -> None:
        current = self._paused.get(channel)
        if current is None or current < until:
            self._paused[channel] = until

    def _failing_chat(self, channel: str, chat_id: str, add: bool = False) -> bool:
        """Whether deliveries to this chat were failing (known at start, or since)."""
        assert self._failing is not None
        key = (channel, chat_id)
        if add:
            self._failing.add(key)
            return True
        if key in self._failing:
            self._failing.discard(key)
            return True
        return False

    async def start(self) -> None:
        """Load what the sender needs to know from the database (failing chats)."""
        async with self.storage.transaction() as tx:
            self._failing = set(await tx.failing_chats())

    async def _pause_length(self) -> float:
        """Seconds until there may be something to send (at most ``IDLE``)."""
        now = self.clock()
        waits = [self.IDLE]
        waits += [(until - now).total_seconds() for until in self._paused.values() if until > now]
        quiet = self.quiet_until(now)
        if quiet is not None:
            waits.append((quiet - now).total_seconds())
        async with self.storage.transaction() as tx:
            due = await tx.next_due(self.sending(), replies_only=quiet is not None)
        if due is not None:
            # Due already: it came in while this pass ran; look again soon.
            waits.append(max(self.SOON, (due - now).total_seconds()))
        return max(self.SOON, min(waits))

    async def run(self) -> None:
        """Send for as long as the bot runs (cancel the task to stop)."""
        if self._failing is None:
            await self.start()
        while True:
            self._wake.clear()
            try:
                if await self.send_due() >= self.batch:
                    continue
                pause = await self._pause_length()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox: sending failed; trying again shortly")
                pause = self.IDLE
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=pause)
            except TimeoutError:
                pass
