"""Benchmark: N simulated heads file whole reports at once through the Bot API stand-in.

    python -m bench.reports [--heads 50] [--rounds 2] [--think 1.0]

Each bot runs as its own process (``thidua run``, and a plain ConversationHandler +
PicklePersistence bot asking the same questions) against a Bot API stand-in on
127.0.0.1; the simulated heads live in this process. Two loads:

- saturation: every head answers the moment the reply arrives (no human is that fast),
  which measures the most form steps per second each bot sustains;
- typing: every head takes a random 0.5×–1.5× ``--think`` seconds per answer, as people
  typing on phones at the same time do, which measures reply latency under that load.

Prints form steps per second and p50/p99 reply latency, and the throughput ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
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


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@asynccontextmanager
async def process(
    standin: BotApiStandIn, args: list[str], env: dict[str, str]
) -> AsyncIterator[asyncio.subprocess.Process]:
    """A bot process, ready once it polls the stand-in; stopped with SIGTERM after."""
    seen = len(standin.calls("getUpdates"))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, *args, env={**os.environ, **env}, cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
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
                await asyncio.wait_for(proc.wait(), 20)
            except TimeoutError:
                proc.kill()


async def bench_thidua(
    plan: Plan, form: Form, heads: int, rounds: int, think: float, workdir: Path
) -> Figures:
    database = workdir / f"thidua-{think}.db"
    storage = await SqliteStorage.open(database)
    now = datetime.now(UTC)
    codes = []
    async with storage.transaction() as tx:
        for n in range(heads):
            code = f"B{n:07d}"
            village = plan.villages[n % len(plan.villages)]
            await tx.create_invite(Invite(code, "head", village.id, now, now + timedelta(days=1)))
            codes.append(code)
    await storage.close()

    standin = BotApiStandIn()
    await standin.start()
    env = {
        "TELEGRAM_BOT_TOKEN": standin.token,
        "TELEGRAM_API_URL": standin.base_url,
        "TELEGRAM_RATE_LIMIT": "0",
        "DATABASE_URL": f"sqlite:///{database}",
        "PLAN_FILE": str(DEFAULT_PLAN),
        "THIDUA_LOG_LEVEL": "WARNING",
    }
    try:
        async with process(standin, ["-m", "bot", "run"], env) as proc:
            users = []
            for n, code in enumerate(codes):
                user = standin.user(FIRST_USER_ID + n, f"Trưởng thôn {n}")
                await user.say(f"/start {code}", timeout=30)
                users.append(user)
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

            before = cpu_seconds(proc.pid)
            figures = await drive("thidua", standin, users, script, rounds)
            return figures.with_cpu(cpu_seconds(proc.pid) - before)
    finally:
        await standin.stop()


async def bench_comparator(
    form: Form, heads: int, rounds: int, think: float, workdir: Path
) -> Figures:
    standin = BotApiStandIn()
    await standin.start()
    pickle = workdir / f"comparator-{think}.pickle"
    args = ["-m", "bench.comparator", standin.token, standin.base_url, str(pickle)]
    try:
        async with process(standin, args, {}) as proc:
            users = [standin.user(FIRST_USER_ID + n, f"Trưởng thôn {n}") for n in range(heads)]

            async def script(head: SimUser, timer: Timer) -> None:
                step = pacing(timer, think)
                await step(head.say("/baocao", timeout=30))
                for question in form.questions:
                    await answer(head, step, question)
                await step(head.press(head.button("Gửi"), timeout=30))

            before = cpu_seconds(proc.pid)
            figures = await drive(
                "ConversationHandler+PicklePersistence", standin, users, script, rounds
            )
            return figures.with_cpu(cpu_seconds(proc.pid) - before)
    finally:
        await standin.stop()


async def main_async(heads: int, rounds: int, think: float) -> None:
    plan = load_plan(DEFAULT_PLAN)
    form = plan.forms[0]
    print(f"form {form.id!r}: {len(form.questions)} questions; {heads} heads; bots in their "
          f"own processes; Bot API stand-in on 127.0.0.1")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        print(f"\nsaturation: {rounds} reports per head, answers sent the moment replies arrive")
        ours = await bench_thidua(plan, form, heads, rounds, 0, work)
        print(ours.line())
        theirs = await bench_comparator(form, heads, rounds, 0, work)
        print(theirs.line())
        ratio = ours.steps_per_second / theirs.steps_per_second
        print(f"throughput ratio thidua / comparator: {ratio:.2f}")
        if think > 0:
            print(f"\ntyping: 1 report per head, {think:g} s (±50 %) to read and answer each step")
            print((await bench_thidua(plan, form, heads, 1, think, work)).line())
            print((await bench_comparator(form, heads, 1, think, work)).line())


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--heads", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--think", type=float, default=1.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main_async(args.heads, args.rounds, args.think))


if __name__ == "__main__":
    main()
