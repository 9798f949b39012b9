"""Pacing of outgoing messages, so a platform never has to refuse them for flooding.

Three limits, as Telegram states them (and Zalo's adapter can set its own):

- overall: messages are spaced evenly, ``1 / rate`` seconds apart — an even pace, not a
  bucket that lets a burst through at once, so no window of one second ever holds more
  than ``rate`` messages;
- per chat: a token bucket, ``burst`` messages at once and ``chat_rate`` per second after
  (a reply of two or three messages goes out together; a stream is held to one a second);
- per group: a sliding window, at most ``group_limit`` messages in any ``group_window``.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    rate: float = 28.0  # messages per second in all (Telegram allows about 30)
    chat_burst: int = 3
    chat_rate: float = 1.0  # per second, sustained, in one private chat
    group_limit: int = 20
    group_window: float = 60.0  # seconds


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
        self._next_slot = 0.0
        self._held_until = 0.0
        self._buckets: dict[Hashable, tuple[float, float]] = {}  # chat -> (tokens, at)
        self._windows: dict[Hashable, deque[float]] = {}  # group -> send times

    def hold(self, seconds: float) -> None:
        """Nothing goes out for ``seconds`` (the platform asked us to wait)."""
        self._held_until = max(self._held_until, self._clock() + seconds)

    async def wait(self, chat: Hashable | None = None, group: bool = False) -> None:
        """Return when one more message to ``chat`` may go out, and count it."""
        if chat is not None:
            while (delay := self._chat_delay(chat, group)) > 0:
                await self._sleep(delay)
            self._take(chat, group)
        now = self._clock()
        slot = max(now, self._next_slot, self._held_until)
        self._next_slot = slot + self._interval
        while (delay := max(slot, self._held_until) - self._clock()) > 0:
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
