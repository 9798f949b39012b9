"""Benchmark: the reminder fan-out of a real ``thidua run`` through Telegram's 30 messages/s.

    python -m bench.fanout [--heads 3000] [--rate-limit 28]

Writes the small test plan with ``--heads`` villages, a monthly form due today and a reminder
at today's wall-clock time of two minutes ago (Asia/Ho_Chi_Minh), seeds one head with a
Telegram identity per village, then starts ``thidua run`` as its own process against the Bot
API stand-in on 127.0.0.1, which enforces Telegram's flood limit (30 messages in any sliding
second, ``429 Too Many Requests`` past it). At start the bot catches up the missed reminder
and queues one message per head; the bench waits until every head has one, stops the bot with
SIGTERM and prints what the stand-in saw: the sustained rate (first to last message), the rate
over the middle 90 % of messages and over the slowest 10-second window, the 429s, duplicates,
missed heads, and the time from process start to the first reminder.

The figures are for people to read; the exit status is non-zero only when a head got no
reminder. (Run it not within two minutes after midnight in Vietnam: the reminder would fall
on yesterday.)
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import os
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.domain import Identity
from bot.plan.model import check_plan
from storage.sqlite import SqliteStorage
from tests.standin.telegram import BotApiStandIn

ROOT = Path(__file__).resolve().parent.parent
SMALL_PLAN = ROOT / "tests" / "plans" / "small.yaml"
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
FIRST_CHAT = 100_000
TELEGRAM_RATE = 30  # messages per second, as Telegram enforces it
WINDOW = 10.0  # seconds, for the slowest-window figure


def write_plan(folder: Path, heads: int, occasion: datetime) -> Path:
    """The small plan with ``heads`` villages and a reminder due at ``occasion`` (Vietnam)."""
    villages = ", ".join(f"Thôn {n}" for n in range(1, heads + 1))
    text = SMALL_PLAN.read_text(encoding="utf-8")
    for old, new in (
        ("villages: [Thôn 1, Thôn 2, Thôn 3]", f"villages: [{villages}]"),
        ("due: 25", f"due: {occasion.day}"),
    ):
        if old not in text:
            raise SystemExit(f"{SMALL_PLAN} no longer holds {old!r}")
        text = text.replace(old, new)
    schedule = (
        f'  reminders: [0]\n  reminder_time: "{occasion:%H:%M}"\n'
        "  digest: false\n  quiet_hours: false\n"
    )
    path = folder / "plan.yaml"
    path.write_text(text + "\nschedule:\n" + schedule, encoding="utf-8")
    plan, problems = check_plan(path)
    if plan is None:
        lines = "\n".join(f"  {problem}" for problem in problems)
        raise SystemExit(f"the generated plan does not load:\n{lines}")
    return path


async def seed_heads(database: Path, heads: int) -> float:
    """One head with a Telegram identity per village, in one transaction; the seconds taken."""
    started = time.perf_counter()
    store = await SqliteStorage.open(database)
    try:
        async with store.transaction() as tx:
            now = datetime.now(UTC)
            for n in range(1, heads + 1):
                person = await tx.create_person(f"Trưởng thôn {n}", "head", f"thon_{n}", "vi", now)
                chat = str(FIRST_CHAT + n)
                await tx.add_identity(person.id, Identity("telegram", chat, chat), now)
    finally:
        await store.close()
    return time.perf_counter() - started


def bot_env(folder: Path, plan: Path, standin: BotApiStandIn, rate_limit: float) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "THIDUA_"))}
    env.update(
        DATABASE_URL=f"sqlite:///{folder / 'thidua.db'}",
        PLAN_FILE=str(plan),
        TELEGRAM_BOT_TOKEN=standin.token,
        TELEGRAM_API_URL=standin.base_url,
        TELEGRAM_RATE_LIMIT=f"{rate_limit:g}",
        THIDUA_LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


def per_chat(standin: BotApiStandIn) -> Counter[str]:
    """Messages the stand-in accepted, by chat."""
    return Counter(
        str(r.params.get("chat_id")) for r in standin.calls("sendMessage") if r.status == 200
    )


def rate(times: list[float]) -> float:
    """Messages per second from the first to the last of ``times`` (sorted)."""
    if len(times) < 2 or times[-1] <= times[0]:
        return 0.0
    return (len(times) - 1) / (times[-1] - times[0])


def middle_rate(times: list[float], share: float = 0.05) -> float:
    """The rate without the first and last ``share`` of the messages."""
    cut = int(len(times) * share)
    return rate(times[cut : len(times) - cut])


def worst_window(times: list[float], seconds: float = WINDOW) -> float | None:
    """The lowest rate over any ``seconds`` window within the run (None if it is shorter).

    Each window starts at a message; its rate is the messages after that one and within
    ``seconds`` of it, divided by ``seconds``.
    """
    if not times or times[-1] - times[0] < seconds:
        return None
    worst: float | None = None
    end = 0
    for start, at in enumerate(times):
        if at + seconds > times[-1]:
            break
        while end + 1 < len(times) and times[end + 1] <= at + seconds:
            end += 1
        value = (end - start) / seconds
        worst = value if worst is None else min(worst, value)
    return worst


def busiest_second(times: list[float]) -> int:
    """The most messages within any sliding second (the stand-in allows ``TELEGRAM_RATE``)."""
    most = 0
    start = 0
    for end, at in enumerate(times):
        while times[start] <= at - 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


def largest_gaps(times: list[float], count: int = 3) -> list[tuple[float, int]]:
    """The longest pauses between consecutive messages: (seconds, index of the message after)."""
    gaps = [(b - a, i + 1) for i, (a, b) in enumerate(itertools.pairwise(times))]
    return sorted(gaps, reverse=True)[:count]


def log_tail(path: Path, chars: int = 3000) -> str:
    return path.read_text(encoding="utf-8", errors="replace")[-chars:]


@dataclass(frozen=True)
class Outcome:
    heads: int
    times: list[float]
    started: float  # time.monotonic() when the process was spawned
    rejections: int
    duplicates: int
    missed: int
    other_errors: Counter[int]

    def report(self) -> str:
        times = self.times
        if not times:
            return f"fan-out: no reminder reached the stand-in; missed: {self.missed}"
        window = worst_window(times)
        windowed = f"{window:.1f}" if window is not None else f"n/a, under {WINDOW:g} s"
        line = (
            f"fan-out: {len(times)} reminders in {times[-1] - times[0]:.1f} s — "
            f"{rate(times):.1f} msg/s sustained (middle 90%: {middle_rate(times):.1f}, "
            f"worst {WINDOW:g} s window: {windowed}), 429s: {self.rejections}, "
            f"duplicates: {self.duplicates}, missed: {self.missed}; "
            f"first reminder {times[0] - self.started:.1f} s after start"
        )
        gaps = ", ".join(
            f"{gap * 1000:.0f} ms before #{index}" for gap, index in largest_gaps(times)
        )
        details = (
            f"  busiest second: {busiest_second(times)} messages (the stand-in allows "
            f"{TELEGRAM_RATE}); longest pauses: {gaps}"
        )
        if self.other_errors:
            errors = ", ".join(f"{code}×{n}" for code, n in sorted(self.other_errors.items()))
            details += f"\n  other sendMessage errors: {errors}"
        return f"{line}\n{details}"


async def fan_out(folder: Path, plan: Path, heads: int, rate_limit: float) -> Outcome:
    """Run ``thidua run`` until every head has a message (or the time is up); what it sent."""
    chats = [str(FIRST_CHAT + n) for n in range(1, heads + 1)]
    log_path = folder / "thidua.log"
    # A full collection in this process (tens of ms once the stand-in holds thousands of
    # requests) would hold back the stand-in's clock and bunch the arrivals it stamps: the
    # bench would measure its own pauses. The run allocates little; collect afterwards.
    gc.collect()
    gc.disable()
    try:
        return await _fan_out(folder, plan, heads, rate_limit, chats, log_path)
    finally:
        gc.enable()


async def _fan_out(
    folder: Path, plan: Path, heads: int, rate_limit: float, chats: list[str], log_path: Path
) -> Outcome:
    async with BotApiStandIn(global_rate=TELEGRAM_RATE) as standin:
        with log_path.open("wb") as log:
            started = time.monotonic()
            bot = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                env=bot_env(folder, plan, standin, rate_limit),
                cwd=folder,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=log,
            )
            try:
                deadline = started + heads / 20 + 60
                while time.monotonic() < deadline and bot.returncode is None:
                    received = per_chat(standin)
                    if all(received[chat] for chat in chats):
                        break
                    await asyncio.sleep(0.5)
                await asyncio.sleep(1.0)  # a duplicate would come now
            finally:
                exited = bot.returncode
                if exited is None:
                    bot.send_signal(signal.SIGTERM)
                    try:
                        await asyncio.wait_for(bot.wait(), 30)
                    except TimeoutError:
                        bot.kill()
                        await bot.wait()
        if exited is not None:
            print(f"thidua run exited early with status {exited}:", file=sys.stderr)
            print(log_tail(log_path), file=sys.stderr)
        received = per_chat(standin)
        sends = standin.calls("sendMessage")
        return Outcome(
            heads=heads,
            times=sorted(standin.sent_times()),
            started=started,
            rejections=len(standin.flood_rejections),
            duplicates=sum(1 for chat in chats if received[chat] > 1),
            missed=sum(1 for chat in chats if not received[chat]),
            other_errors=Counter(r.status for r in sends if r.status not in (200, 429)),
        )


async def main_async(heads: int, rate_limit: float) -> int:
    occasion = datetime.now(VIETNAM) - timedelta(minutes=2)
    with tempfile.TemporaryDirectory(prefix="thidua-fanout-") as tmp:
        folder = Path(tmp)
        plan = write_plan(folder, heads, occasion)
        seeded = await seed_heads(folder / "thidua.db", heads)
        print(
            f"{heads} heads seeded in {seeded:.2f} s; reminder due {occasion:%Y-%m-%d %H:%M} "
            f"(Vietnam); TELEGRAM_RATE_LIMIT={rate_limit:g}, stand-in at {TELEGRAM_RATE} msg/s"
        )
        outcome = await fan_out(folder, plan, heads, rate_limit)
    print(outcome.report())
    return 1 if outcome.missed else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--heads", type=int, default=3000, help="heads (and villages)")
    parser.add_argument(
        "--rate-limit",
        type=float,
        default=28.0,
        help="TELEGRAM_RATE_LIMIT for the bot, messages per second",
    )
    args = parser.parse_args()
    if args.heads < 1:
        parser.error("--heads must be at least 1")
    sys.exit(asyncio.run(main_async(args.heads, args.rate_limit)))


if __name__ == "__main__":
    main()
