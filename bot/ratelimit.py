"""Pacing of outgoing messages, so a platform never has to refuse them for flooding.

Three limits, as Telegram states them (and Zalo's adapter can set its own):

- overall: messages go out one after another on an even rhythm of ``1 / rate`` seconds —
  not a bucket that lets a burst through — and after a pause (a garbage collection, a slow
  disk) the rhythm starts again rather than sending the missed turns at once. A message
  goes at its turn or within half an interval after it, so no second ever holds more than
  ``rate + 1`` messages (29 at the default 28/s, under Telegram's 30);
- per chat: a token bucket, ``burst`` messages at once and ``chat_rate`` per second after
  (a reply of two or three messages goes out together; a stream is held to one a second);
- per group: a sliding window, at most ``group_limit`` messages in any ``group_window``.

Where several processes send for one bot (instances on one PostgreSQL database), the overall
rhythm is shared too: each message also takes its turn from ``shared`` (the database), so
the rate holds in total, not per process.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Limits:
    rate: float = 28.0  # messages per second in all (Telegram allows about 30)
    chat_burst: int = 3
    chat_rate: float = 1.0  # per second, sustained, in one private chat
    group_limit: int = 20
    group_window: float = 60.0  # seconds


class SharedTurns(Protocol):
    async def turn(self, interval: float) -> float:
        """Take the next turn, ``interval`` after the one before; the seconds to wait."""


class Pacer:
    """Awaiting ``wait(chat, group)`` before each message keeps all senders within limits.

    One event loop, no threads: the state is plain dictionaries. ``clock`` and ``sleep`` are
    injectable for tests.
    """

    MAX_CHATS = 10_000  # idle chat buckets beyond this are dropped (they are full anyway)

    def __init__(
        self,
        limits: Limits | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.limits = limits or Limits()
        self._clock = clock
        self._sleep = sleep
        self._interval = 1.0 / self.limits.rate if self.limits.rate > 0 else 0.0
        self._slot = float("-inf")  # the earliest moment the next message may go
        self._turn = asyncio.Lock()  # first come, first served through the overall limit
        self._held_until = 0.0
        self._buckets: dict[Hashable, tuple[float, float]] = {}  # chat -> (tokens, at)
        self._windows: dict[Hashable, deque[float]] = {}  # group -> send times
        self.shared: SharedTurns | None = None  # the rhythm of every process sending

    def hold(self, seconds: float) -> None:
        """Nothing goes out for ``seconds`` (the platform asked us to wait)."""
        self._held_until = max(self._held_until, self._clock() + seconds)

    async def wait(self, chat: Hashable | None = None, group: bool = False) -> None:
        """Return when one more message to ``chat`` may go out, and count it."""
        if chat is not None:
            while (delay := self._chat_delay(chat, group)) > 0:
                await self._sleep(delay)
            self._take(chat, group)
        async with self._turn:
            while (delay := max(self._slot, self._held_until) - self._clock()) > 0:
                await self._sleep(delay)
            now = self._clock()
            if now - self._slot < self._interval / 2:
                # On time (a timer fires a little late): keep the pace's own rhythm, so
                # those small delays do not add up to a slower pace.
                self._slot += self._interval
            else:
                # After a stall or a quiet spell: start the rhythm again from now, rather
                # than sending the missed turns in a burst.
                self._slot = now + self._interval
            if self.shared is not None and self._interval > 0:
                delay = await self.shared.turn(self._interval)
                if delay > 0:
                    await self._sleep(delay)

    def _tokens(self, chat: Hashable, now: float) -> float:
        tokens, at = self._buckets.get(chat, (float(self.limits.chat_burst), now))
        return min(float(self.limits.chat_burst), tokens + (now - at) * self.limits.chat_rate)

    def _chat_delay(self, chat: Hashable, group: bool) -> float:
        now = self._clock()
        if group:
            window = self._windows.get(chat)
            if window is not None:
                while window and window[0] <= now - self.limits.group_window:
                    window.popleft()
                if len(window) >= self.limits.group_limit:
                    return window[0] + self.limits.group_window - now
        tokens = self._tokens(chat, now)
        if tokens >= 1 or self.limits.chat_rate <= 0:
            return 0.0
        return (1 - tokens) / self.limits.chat_rate

    def _take(self, chat: Hashable, group: bool) -> None:
        now = self._clock()
        if len(self._buckets) >= self.MAX_CHATS:
            self._forget_idle(now)
        self._buckets[chat] = (self._tokens(chat, now) - 1, now)
        if group:
            self._windows.setdefault(chat, deque()).append(now)

    def _forget_idle(self, now: float) -> None:
        full = [c for c in self._buckets if self._tokens(c, now) >= self.limits.chat_burst]
        for chat in full:
            del self._buckets[chat]
        horizon = now - self.limits.group_window
        for group in [g for g, w in self._windows.items() if not w or w[-1] <= horizon]:
            del self._windows[group]
