"""What both benchmarked bots share: the Bot API stand-in, simulated heads, the figures."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace

from tests.standin.telegram import BotApiStandIn, SimUser

Script = Callable[[SimUser, "Timer"], Awaitable[None]]


@dataclass
class Timer:
    """Latency of every form step (a message or button press until the bot's reply)."""

    samples: list[float] = field(default_factory=list)

    async def step(self, action: Awaitable[object]) -> None:
        started = time.perf_counter()
        await action
        self.samples.append(time.perf_counter() - started)


@dataclass(frozen=True)
class Figures:
    name: str
    heads: int
    steps: int
    seconds: float
    p50_ms: float
    p99_ms: float
    bot_cpu_seconds: float = 0.0

    def with_cpu(self, seconds: float) -> Figures:
        return replace(self, bot_cpu_seconds=seconds)

    @property
    def steps_per_second(self) -> float:
        return self.steps / self.seconds

    def line(self) -> str:
        return (
            f"{self.name:<36} heads={self.heads:<4} steps={self.steps:<6} "
            f"{self.steps_per_second:8.1f} steps/s   p50 {self.p50_ms:6.1f} ms   "
            f"p99 {self.p99_ms:6.1f} ms   "
            f"bot CPU {self.bot_cpu_seconds / self.steps * 1000:4.1f} ms/step"
        )


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


async def drive(
    name: str, standin: BotApiStandIn, heads: list[SimUser], script: Script, rounds: int
) -> Figures:
    """Every head runs ``script`` ``rounds`` times, all heads at once."""
    timer = Timer()

    async def one(head: SimUser) -> None:
        for _ in range(rounds):
            await script(head, timer)

    started = time.perf_counter()
    await asyncio.gather(*(one(head) for head in heads))
    seconds = time.perf_counter() - started
    return Figures(
        name=name,
        heads=len(heads),
        steps=len(timer.samples),
        seconds=seconds,
        p50_ms=statistics.median(timer.samples) * 1000,
        p99_ms=percentile(timer.samples, 0.99) * 1000,
    )
