"""The one sender loop: delivers what the bot queued in the outbox, within each platform's limits.

Everything the bot starts on its own is first written to the outbox (``queue_message``) in
the transaction that decided it, then sent from here. Progress is recorded after every
platform call, so after a crash sending resumes after the last confirmed call: a confirmed
call is never repeated, and a call that timed out is tried again (a rare duplicate beats a
lost reminder).

- 429 (``RetryLater``): that channel's sending stops for ``retry_after``, then resumes;
- timeouts, network and server errors (``TemporaryFailure``): tried again after 30 s, 2 min,
  8 min, 32 min, then given up and recorded;
- 403 (``Unreachable``): the identity is marked unreachable (the digest lists it);
- any other refusal (``Rejected``): given up and recorded at once.

Nothing is sent during the plan's quiet hours; it waits for the morning. Time comes from
the injected clock, so tests move it instead of sleeping.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from bot.channels.base import Channel, Rejected, RetryLater, TemporaryFailure, Unreachable
from bot.clock import Clock
from bot.domain import QueuedMessage
from bot.i18n import use_locale
from storage.repository import Storage

log = logging.getLogger(__name__)

QuietHours = Callable[[datetime], datetime | None]  # moment -> when the quiet hours end


def _never_quiet(moment: datetime) -> datetime | None:
    return None


class Outbox:
    MAX_ATTEMPTS = 5
    FIRST_BACKOFF = timedelta(seconds=30)
    IDLE = 10.0  # seconds between looks at the outbox when nothing woke the loop
    SOON = 0.5

    def __init__(
        self,
        storage: Storage,
        channels: Mapping[str, Channel],
        clock: Clock,
        quiet_until: QuietHours = _never_quiet,
        concurrency: int = 8,
        batch: int = 200,
    ) -> None:
        self.storage = storage
        self.channels = dict(channels)
        self.clock = clock
        self.quiet_until = quiet_until
        self.concurrency = concurrency
        self.batch = batch
        self._paused: dict[str, datetime] = {}  # channel -> no sending before this
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Something was queued: look at the outbox now rather than at the next tick."""
        self._wake.set()

    def paused_until(self, channel: str) -> datetime | None:
        until = self._paused.get(channel)
        return until if until is not None and until > self.clock() else None

    def backoff(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th temporary failure: 30 s, 2 min, 8 min, 32 min."""
        return self.FIRST_BACKOFF * 4 ** (attempts - 1)

    async def send_due(self) -> int:
        """Send what is due now (one batch); the number of messages finished with."""
        now = self.clock()
        if self.quiet_until(now) is not None:
            return 0
        active = [name for name in self.channels if self.paused_until(name) is None]
        async with self.storage.transaction() as tx:
            messages = await tx.due_messages(now, active, self.batch)
        by_chat: dict[tuple[str, str], list[QueuedMessage]] = {}
        for message in messages:
            by_chat.setdefault((message.channel, message.chat_id), []).append(message)
        gate = asyncio.Semaphore(self.concurrency)
        finished = 0

        async def one_chat(queue: list[QueuedMessage]) -> None:
            nonlocal finished
            async with gate:
                for message in queue:  # one chat's messages in order, one at a time
                    if self.paused_until(message.channel) is not None:
                        return
                    if await self._deliver(message):
                        finished += 1

        await asyncio.gather(*(one_chat(queue) for queue in by_chat.values()))
        return finished

    async def _deliver(self, message: QueuedMessage) -> bool:
        """Send the parts not yet confirmed; True when the message is done with."""
        with use_locale(message.locale):
            return await self._deliver_parts(message)

    async def _deliver_parts(self, message: QueuedMessage) -> bool:
        channel = self.channels[message.channel]
        parts: list[Any] = channel.parts(message.replies)
        done = message.parts_sent
        try:
            while done < len(parts):
                if self.paused_until(message.channel) is not None:
                    return False
                await channel.send_part(message.chat_id, parts[done])
                done += 1
                if done < len(parts):
                    async with self.storage.transaction() as tx:
                        await tx.message_progress(message.id, done)
        except RetryLater as error:
            until = self.clock() + timedelta(seconds=error.seconds)
            self._paused[message.channel] = until
            log.warning("%s asked to wait %s s; sending resumes then", channel.name, error.seconds)
            async with self.storage.transaction() as tx:
                await tx.message_progress(message.id, done)
                # Waiting out a flood limit is not a failed attempt.
                await tx.message_retry(message.id, message.attempts, until, str(error))
            return False
        except TemporaryFailure as error:
            attempts = message.attempts + 1
            async with self.storage.transaction() as tx:
                await tx.message_progress(message.id, done)
                if attempts >= self.MAX_ATTEMPTS:
                    log.error(
                        "outbox %s: giving up after %s tries: %s", message.key, attempts, error
                    )
                    await tx.message_failed(message.id, attempts, self.clock(), str(error))
                    return True
                retry = self.clock() + self.backoff(attempts)
                await tx.message_retry(message.id, attempts, retry, str(error))
            log.warning("outbox %s: %s; trying again at %s", message.key, error, retry)
            return False
        except Unreachable as error:
            log.warning(
                "outbox %s: person %s unreachable: %s", message.key, message.person_id, error
            )
            async with self.storage.transaction() as tx:
                now = self.clock()
                await tx.mark_unreachable(message.channel, message.chat_id, now)
                await tx.message_failed(
                    message.id, message.attempts + 1, now, f"unreachable: {error}"
                )
            return True
        except Rejected as error:
            log.error("outbox %s: refused: %s", message.key, error)
            async with self.storage.transaction() as tx:
                await tx.message_failed(message.id, message.attempts + 1, self.clock(), str(error))
            return True
        async with self.storage.transaction() as tx:
            await tx.message_sent(message.id, done, self.clock())
        return True

    async def _pause(self) -> float:
        """Seconds until there may be something to send (at most ``IDLE``)."""
        now = self.clock()
        quiet = self.quiet_until(now)
        if quiet is not None:
            return min(self.IDLE, (quiet - now).total_seconds())
        waits = [self.IDLE]
        waits += [(until - now).total_seconds() for until in self._paused.values() if until > now]
        active = [name for name in self.channels if self.paused_until(name) is None]
        async with self.storage.transaction() as tx:
            due = await tx.next_due(active)
        if due is not None:
            # Due already: it came in while this pass ran; look again soon.
            waits.append(max(self.SOON, (due - now).total_seconds()))
        return max(self.SOON, min(waits))

    async def run(self) -> None:
        """Send for as long as the bot runs (cancel the task to stop)."""
        while True:
            self._wake.clear()
            try:
                if await self.send_due() >= self.batch:
                    continue
                pause = await self._pause()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox: sending failed; trying again shortly")
                pause = self.IDLE
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=pause)
            except TimeoutError:
                pass
