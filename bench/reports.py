"""Benchmark: N simulated heads file whole reports at once through the Bot API stand-in.

    python -m bench.reports [--heads 50] [--rounds 2] [--think 1.0]
                            [--only thidua,comparator,thidua-sequential] [--profile DIR]

Each bot runs as its own process (``thidua run``, and a plain ConversationHandler +
PicklePersistence bot holding the same conversation, see ``bench.comparator``) against a
Bot API stand-in on 127.0.0.1; the simulated heads live in this process. Both bots get the
same script: register with an invite code, ``/baocao``, pick the form and the current period,
answer every question, press Gửi. Two loads:

- saturation: every head answers the moment the reply arrives (no human is that fast),
  which measures the most form steps per second each bot sustains;
- typing: every head takes a random 0.5×–1.5× ``--think`` seconds per answer, as people
  typing on phones at the same time do, which measures reply latency under that load.

Prints form steps per second, p50/p99 reply latency, the bot's CPU per step (and how much of
it ran outside the event loop's thread, e.g. in aiosqlite's), and the throughput ratio.
``--profile DIR`` runs each bot under cProfile (``DIR/<bot>.prof``; see ``bench.profile``).
``thidua-sequential`` is thidua with PTB's ``concurrent_updates=False`` (``bench.variants``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.harness import Figures, Timer, drive
from bot.config import DEFAULT_PLAN
from bot.domain import Invite
from bot.plan import Form, Plan, Question, load_plan
from storage.sqlite import SqliteStorage
from tests.standin.telegram import BotApiStandIn, SimUser

FIRST_USER_ID = 10_000
ROOT = Path(__file__).resolve().parent.parent
Step = Callable[[Awaitable[object]], Awaitable[None]]
BOTS = ("thidua", "comparator")
VARIANTS = ("thidua-sequential",)


def typed_answer(question: Question) -> str:
    if question.optional and question.type in ("text", "photo"):
        return "bo qua"
    if question.type == "decimal":
        return "12,5"
    if question.type == "integer":
        return "100"
    return "Tốt"


async def answer(head: SimUser, step: Step, question: Question) -> None:
    if question.type == "yes_no":
        await step(head.press(head.button("Có")))
    elif question.type == "choice":
        await step(head.press(head.button(question.choices[0])))
    else:
        await step(head.say(typed_answer(question)))


def pacing(timer: Timer, think: float) -> Step:
    """A step that first waits as long as a person takes to read and type."""

    async def step(action: Awaitable[object]) -> None:
        if think > 0:
            await asyncio.sleep(random.uniform(0.5 * think, 1.5 * think))
        await timer.step(action)

    return step


def report_script(
    plan: Plan, form: Form, think: float
) -> Callable[[SimUser, Timer], Awaitable[None]]:
    """One whole report, the same for every bot."""
    form_index = [f.id for f in plan.forms].index(form.id)

    async def script(head: SimUser, timer: Timer) -> None:
        step = pacing(timer, think)
        await step(head.say("/baocao", timeout=30))
        buttons = head.last_buttons()
        if len(plan.forms) > 1:
            await step(head.press(buttons[form_index][1], timeout=30))
            buttons = head.last_buttons()
        if len(buttons) > 1 and buttons[1][1].endswith(":current"):
            await step(head.press(buttons[1][1], timeout=30))
        for question in form.questions:
            await answer(head, step, question)
        await step(head.press(head.button("Gửi"), timeout=30))

    return script


@dataclass(frozen=True)
class Cpu:
    """CPU seconds of a process: all of it, and the part its main thread used."""

    total: float
    main: float

    def __sub__(self, other: Cpu) -> Cpu:
        return Cpu(self.total - other.total, self.main - other.main)


def _ticks(stat: Path) -> int:
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def cpu_seconds(pid: int) -> Cpu:
    """User + system CPU time of a process and of its main thread so far (Linux)."""
    hz = os.sysconf("SC_CLK_TCK")
    return Cpu(
        _ticks(Path(f"/proc/{pid}/stat")) / hz, _ticks(Path(f"/proc/{pid}/task/{pid}/stat")) / hz
    )


@asynccontextmanager
async def process(
    standin: BotApiStandIn, args: list[str], env: dict[str, str]
) -> AsyncIterator[asyncio.subprocess.Process]:
    """A bot process, ready once it polls the stand-in; stopped with SIGTERM after."""
    seen = len(standin.calls("getUpdates"))
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        env={**os.environ, **env},
        cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        for _ in range(400):
            if len(standin.calls("getUpdates")) > seen:
                break
            if proc.returncode is not None:
                raise RuntimeError((await proc.stderr.read()).decode() if proc.stderr else "")
            await asyncio.sleep(0.025)
        else:
            raise RuntimeError("the bot did not start polling")
        yield proc
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 60)
            except TimeoutError:
                proc.kill()


def invite_codes(plan: Plan, heads: int) -> dict[str, str]:
    """One invite code per head, villages in turn."""
    return {f"B{n:07d}": plan.villages[n % len(plan.villages)].id for n in range(heads)}


async def bot_command(
    name: str, plan: Plan, codes: dict[str, str], workdir: Path, standin: BotApiStandIn
) -> tuple[list[str], dict[str, str]]:
    """The arguments and environment that run bot ``name`` against ``standin``."""
    if name == "comparator":
        codes_file = workdir / "codes.json"
        codes_file.write_text(json.dumps(codes))
        pickle = workdir / f"comparator-{len(os.listdir(workdir))}.pickle"
        args = ["-m", "bench.comparator", standin.token, standin.base_url, str(pickle)]
        return [*args, str(codes_file), str(DEFAULT_PLAN)], {}
    database = workdir / f"thidua-{len(os.listdir(workdir))}.db"
    storage = await SqliteStorage.open(database)
    now = datetime.now(UTC)
    async with storage.transaction() as tx:
        for code, village in codes.items():
            await tx.create_invite(Invite(code, "head", village, now, now + timedelta(days=1)))
    await storage.close()
    env = {
        "TELEGRAM_BOT_TOKEN": standin.token,
        "TELEGRAM_API_URL": standin.base_url,
        "TELEGRAM_RATE_LIMIT": "0",
        "DATABASE_URL": f"sqlite:///{database}",
        "PLAN_FILE": str(DEFAULT_PLAN),
        "THIDUA_LOG_LEVEL": "WARNING",
    }
    if name == "thidua":
        return ["-m", "bot", "run"], env
    variant = name.removeprefix("thidua-")
    return ["-m", "bench.variants", variant], env


@dataclass(frozen=True)
class Result:
    figures: Figures
    cpu: Cpu

    def line(self) -> str:
        outside = (self.cpu.total - self.cpu.main) / self.figures.steps * 1000
        return f"{self.figures.line()} (off-loop threads {outside:3.1f})"


async def bench_bot(
    name: str,
    plan: Plan,
    form: Form,
    heads: int,
    rounds: int,
    think: float,
    workdir: Path,
    profile: Path | None = None,
) -> Result:
    codes = invite_codes(plan, heads)
    standin = BotApiStandIn()
    await standin.start()
    try:
        args, env = await bot_command(name, plan, codes, workdir, standin)
        if profile is not None:
            args = ["-m", "cProfile", "-o", str(profile / f"{name}.prof"), *args]
        async with process(standin, args, env) as proc:
            users = []
            for n, code in enumerate(codes):
                user = standin.user(FIRST_USER_ID + n, f"Trưởng thôn {n}")
                await user.say(f"/start {code}", timeout=30)
                users.append(user)
            before = cpu_seconds(proc.pid)
            figures = await drive(name, standin, users, report_script(plan, form, think), rounds)
            cpu = cpu_seconds(proc.pid) - before
            return Result(figures.with_cpu(cpu.total), cpu)
    finally:
        await standin.stop()


async def main_async(
    heads: int, rounds: int, think: float, only: list[str], profile: Path | None
) -> None:
    plan = load_plan(DEFAULT_PLAN)
    form = plan.forms[0]
    print(
        f"form {form.id!r}: {len(form.questions)} questions; {heads} heads; bots in their "
        f"own processes; Bot API stand-in on 127.0.0.1"
    )
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        print(f"\nsaturation: {rounds} reports per head, answers sent the moment replies arrive")
        results: dict[str, Result] = {}
        for name in only:
            results[name] = await bench_bot(name, plan, form, heads, rounds, 0, work, profile)
            print(results[name].line())
        if "thidua" in results and "comparator" in results:
            ours, theirs = results["thidua"].figures, results["comparator"].figures
            ratio = ours.steps_per_second / theirs.steps_per_second
            print(f"throughput ratio thidua / comparator: {ratio:.2f}")
        if think > 0:
            print(f"\ntyping: 1 report per head, {think:g} s (±50 %) to read and answer each step")
            for name in only:
                print((await bench_bot(name, plan, form, heads, 1, think, work)).line())


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--heads", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--think", type=float, default=1.0)
    parser.add_argument(
        "--only",
        default=",".join(BOTS),
        help=f"bots to run, comma-separated: {', '.join(BOTS + VARIANTS)}",
    )
    parser.add_argument("--profile", type=Path, help="run the bots under cProfile, into DIR")
    args = parser.parse_args()
    only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(only) - set(BOTS + VARIANTS))
    if unknown:
        parser.error(f"unknown bot {', '.join(unknown)}")
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
        args.profile = args.profile.resolve()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main_async(args.heads, args.rounds, args.think, only, args.profile))


if __name__ == "__main__":
    main()
