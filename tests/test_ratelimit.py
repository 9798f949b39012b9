"""The pacer: an even overall pace with no catching up, per-chat buckets, group windows."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Coroutine
from typing import Any, TypeVar

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.ratelimit import Limits, Pacer

_T = TypeVar("_T")


class FakeTime:
    """A monotonic clock for many sleepers: when every task waits, time jumps to the
    earliest wake-up. ``late`` adds a stall to the wake-ups (a garbage collection…)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.late: list[float] = []  # extra delay for the next wake-ups, in order
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._count = itertools.count()

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(seconds, 0.0), next(self._count), future))
        await future

    async def drive(self, work: Coroutine[Any, Any, _T]) -> _T:
        task = asyncio.ensure_future(work)
        while True:
            for _ in range(20):  # let every runnable task reach its next sleep
                await asyncio.sleep(0)
            if task.done():
                return task.result()
            wake, _n, future = heapq.heappop(self._sleepers)
            self.now = max(self.now, wake) + (self.late.pop(0) if self.late else 0.0)
            future.set_result(None)


def pacer(time: FakeTime, **limits: float) -> Pacer:
    return Pacer(Limits(**limits), clock=time, sleep=time.sleep)  # type: ignore[arg-type]


def most_in_window(times: list[float], window: float) -> int:
    ordered = sorted(times)
    best = 0
    start = 0
    for end, moment in enumerate(ordered):
        while moment - ordered[start] >= window - 1e-9:
            start += 1
        best = max(best, end - start + 1)
    return best


async def send_all(
    time: FakeTime, limiter: Pacer, chats: list[Any], group: bool = False
) -> list[float]:
    """Every chat's message, all senders at once; when each went out."""
    sent: list[float] = []

    async def send(chat: Any) -> None:
        await limiter.wait(chat, group)
        sent.append(time())

    async def everyone() -> None:
        await asyncio.gather(*(send(chat) for chat in chats))

    await time.drive(everyone())
    return sorted(sent)


async def test_overall_pace_is_even_across_concurrent_senders() -> None:
    time = FakeTime()
    sent = await send_all(time, pacer(time, rate=10, chat_burst=100), list(range(30)))
    gaps = [b - a for a, b in itertools.pairwise(sent)]
    assert all(abs(gap - 0.1) < 1e-9 for gap in gaps)
    assert most_in_window(sent, 1.0) == 10


async def test_a_stall_is_not_followed_by_a_burst() -> None:
    time = FakeTime()
    time.late = [0.0, 0.0, 0.0, 0.35]  # the fourth wake-up comes 350 ms late
    sent = await send_all(time, pacer(time, rate=10, chat_burst=100), list(range(20)))
    gaps = [b - a for a, b in itertools.pairwise(sent)]
    assert min(gaps) >= 0.1 - 1e-9, gaps  # the rhythm starts again after the stall


async def test_one_chat_gets_a_short_burst_then_one_a_second() -> None:
    time = FakeTime()
    sent = await send_all(time, pacer(time, rate=1000, chat_burst=3), ["chat"] * 6)
    assert [round(s - 1000.0, 3) for s in sent] == [0.0, 0.001, 0.002, 1.0, 2.0, 3.0]


async def test_a_group_gets_at_most_twenty_a_minute() -> None:
    time = FakeTime()
    limiter = pacer(time, rate=1000, chat_burst=100, group_limit=20, group_window=60.0)
    sent = await send_all(time, limiter, ["-100123"] * 45, group=True)
    assert most_in_window(sent, 60.0) == 20
    assert sent[-1] - sent[0] >= 120.0


async def test_hold_stops_everything_until_it_ends() -> None:
    time = FakeTime()
    limiter = pacer(time, rate=10, chat_burst=100)
    await time.drive(limiter.wait(1))
    limiter.hold(5.0)
    sent = await send_all(time, limiter, [2, 3])
    assert sent[0] >= 1005.0


@settings(max_examples=40, deadline=None)
@given(
    rate=st.sampled_from([5.0, 10.0, 28.0]),
    stalls=st.lists(st.floats(0.0, 0.3), max_size=40),
)
def test_no_second_ever_holds_more_than_rate_plus_one(rate: float, stalls: list[float]) -> None:
    async def run() -> list[float]:
        time = FakeTime()
        time.late = list(stalls)
        return await send_all(time, pacer(time, rate=rate, chat_burst=1000), list(range(60)))

    sent = asyncio.run(run())
    assert len(sent) == 60
    # A message goes at its turn or within half an interval after it: one more at most.
    assert most_in_window(sent, 1.0) <= rate + 1
