"""Benchmark: N simulated heads file whole reports at once through the Bot API stand-in.

    python -m bench.reports [--heads 50] [--rounds 2] [--think 1.0] [--repeat 1]
                            [--only thidua,comparator,thidua-pool8]
                            [--profile DIR] [--spy DIR]

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
``--profile DIR`` runs each bot under cProfile (main thread CPU time, measured steps only, of
the saturation load, or of the typing load with ``--rounds 0``:
``DIR/<bot>.prof``), ``--spy DIR`` samples it with py-spy (``DIR/<bot>.spy``); ``python -m
bench.profile DIR`` then splits the CPU per step by package.
``thidua-FEATURE[+FEATURE]`` is thidua with settings changed (``bench.variants``), e.g.
``thidua-pool8`` with at most 8 connections in the bot's HTTP pool. ``thidua-postgresql``
is thidua on PostgreSQL, ``thidua-postgresql-2`` two instances on one PostgreSQL database
sharing the heads; both run by default when a server answers at ``BENCH_POSTGRES``
(default ``postgresql://postgres@127.0.0.1:5432/test``), each in a schema of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import random
import shutil
import signal
import statistics
import sys
import tempfile
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from bench.harness import Figures, Timer, drive
from bench.variants import FEATURES, known_feature
from bot.app.config import DEFAULT_PLAN
from bot.domain import Invite
from bot.plan.model import Form, Plan, Question, load_plan
from storage.postgres import PostgresStorage
from storage.repository import Storage
from storage.sqlite import SqliteStorage
from tests.engines import postgres_schema
from tests.standin.telegram import BotApiStandIn, SimUser

FIRST_USER_ID = 10_000
ROOT = Path(__file__).resolve().parent.parent
Step = Callable[[Awaitable[object]], Awaitable[None]]
BOTS = ("thidua", "comparator")
# thidua on PostgreSQL (BENCH_POSTGRES, by default the machine's server; a schema of its own
# per run): one ``thidua run``, and two on the one database, the heads split between them
# (each polls a stand-in of its own, as two instances behind one webhook URL would share
# the load).
POSTGRES_BOTS = {"thidua-postgresql": 1, "thidua-postgresql-2": 2}
BENCH_POSTGRES = os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def known_bot(name: str) -> bool:
    if name in BOTS or name in POSTGRES_BOTS:
        return True
    features = name.removeprefix("thidua-").split("+")
    return name.startswith("thidua-") and all(map(known_feature, features))


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

    reported: dict[int, int] = {}  # head -> reports sent so far

    async def script(head: SimUser, timer: Timer) -> None:
        step = pacing(timer, think)
        # Each head has a village of its own (``bench_plan``): its first report is this
        # month's, its second last month's (still missing), both answered question by
        # question — no report before them for the bot to offer as a start.
        which = reported.get(head.id, 0)
        reported[head.id] = which + 1
        await step(head.say("/baocao", timeout=30))
        buttons = head.last_buttons()
        if len(plan.forms) > 1:
            await step(head.press(buttons[form_index][1], timeout=30))
            buttons = head.last_buttons()
        periods = [data for _label, data in buttons if data.endswith((":current", ":late"))]
        if len(periods) > 1:
            wanted = ":current" if which == 0 else ":late"
            await step(head.press(next(d for d in periods if d.endswith(wanted)), timeout=30))
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


def open_sockets(pid: int) -> int:
    """How many sockets a process has open (Linux)."""
    count = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            count += os.readlink(fd).startswith("socket:")
        except OSError:
            pass
    return count


@asynccontextmanager
async def process(
    standin: BotApiStandIn, args: list[str], env: dict[str, str], ready: str = "getUpdates"
) -> AsyncIterator[asyncio.subprocess.Process]:
    """A bot process, ready once it polls the stand-in (or made the ``ready`` call, e.g.
    ``setWebhook``); stopped with SIGTERM after."""
    seen = len(standin.calls(ready))
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
            if len(standin.calls(ready)) > seen:
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


def bench_plan(heads: int, folder: Path) -> Path:
    """The default plan with one village per head (``Thôn 1`` … ``Thôn N``), written into
    ``folder``: a village's second head would correct the first one's report instead of
    filing one, which is other work."""
    import yaml

    data = yaml.safe_load(DEFAULT_PLAN.read_text(encoding="utf-8"))
    data["villages"] = [{"id": f"thon_{n}", "name": f"Thôn {n}"} for n in range(1, heads + 1)]
    path = folder / f"plan-{heads}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def invite_codes(plan: Plan, heads: int) -> dict[str, str]:
    """One invite code per head, villages in turn."""
    return {f"B{n:07d}": plan.villages[n % len(plan.villages)].id for n in range(heads)}


async def bot_command(
    name: str,
    plan: Plan,
    codes: dict[str, str],
    workdir: Path,
    standin: BotApiStandIn,
    database_url: str | None = None,
) -> tuple[list[str], dict[str, str]]:
    """The arguments and environment that run bot ``name`` against ``standin`` (on
    ``database_url``, invites already there, when given)."""
    if name == "comparator":
        codes_file = workdir / "codes.json"
        codes_file.write_text(json.dumps(codes))
        pickle = workdir / f"comparator-{len(os.listdir(workdir))}.pickle"
        args = ["-m", "bench.comparator", standin.token, standin.base_url, str(pickle)]
        return [*args, str(codes_file), str(plan.source)], {}
    if database_url is None:
        database = workdir / f"thidua-{len(os.listdir(workdir))}.db"
        database_url = f"sqlite:///{database}"
        await add_invites(await SqliteStorage.open(database), codes)
    env = {
        "TELEGRAM_BOT_TOKEN": standin.token,
        "TELEGRAM_API_URL": standin.base_url,
        "TELEGRAM_RATE_LIMIT": "0",
        "DATABASE_URL": database_url,
        "PLAN_FILE": str(plan.source),
        "THIDUA_LOG_LEVEL": "WARNING",
    }
    if name == "thidua" or name in POSTGRES_BOTS:
        return ["-m", "bot", "run"], env
    variant = name.removeprefix("thidua-")
    return ["-m", "bench.variants", variant], env


async def add_invites(storage: Storage, codes: dict[str, str]) -> None:
    now = datetime.now(UTC)
    try:
        async with storage.transaction() as tx:
            for code, village in codes.items():
                await tx.create_invite(Invite(code, "head", village, now, now + timedelta(days=1)))
    finally:
        await storage.close()


@dataclass(frozen=True)
class Result:
    figures: Figures
    cpu: Cpu
    calls: dict[str, int]  # Bot API calls by method
    sockets: int  # open at the end: the HTTP connections kept in the bot's pools

    def summary(self) -> dict[str, float]:
        return {
            "steps": self.figures.steps,
            "seconds": self.figures.seconds,
            "cpu_total": self.cpu.total,
            "cpu_main": self.cpu.main,
            **{f"calls_{method}": n for method, n in self.calls.items()},
        }

    def line(self) -> str:
        steps = self.figures.steps
        outside = (self.cpu.total - self.cpu.main) / steps * 1000
        calls = ", ".join(f"{m} {n / steps:.2f}" for m, n in sorted(self.calls.items()))
        return (
            f"{self.figures.line()} (off-loop threads {outside:3.1f})\n"
            f"{'':<36} Bot API calls per step: {calls}; {self.sockets} sockets open"
        )


async def start_spy(folder: Path | None, name: str, pid: int) -> asyncio.subprocess.Process | None:
    """py-spy sampling ``pid`` (every thread, on-CPU samples only) into ``folder/name.spy``."""
    if folder is None:
        return None
    binary = shutil.which("py-spy") or os.environ.get("PY_SPY", "py-spy")
    spy = await asyncio.create_subprocess_exec(
        binary,
        "record",
        "--pid",
        str(pid),
        "--rate",
        "250",
        "--threads",
        "--format",
        "raw",
        "--full-filenames",
        "--output",
        str(folder / f"{name}.spy"),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    await asyncio.sleep(0.5)  # attached
    return spy


async def stop_spy(spy: asyncio.subprocess.Process | None) -> None:
    if spy is not None:
        spy.send_signal(signal.SIGINT)
        await spy.wait()


async def bench_bot(
    name: str,
    plan: Plan,
    form: Form,
    heads: int,
    rounds: int,
    think: float,
    workdir: Path,
    profile: Path | None = None,
    spy_dir: Path | None = None,
) -> Result:
    codes = invite_codes(plan, heads)
    if name in POSTGRES_BOTS:
        return await bench_postgres(name, plan, form, codes, rounds, think, workdir)
    standin = BotApiStandIn()
    await standin.start()
    try:
        args, env = await bot_command(name, plan, codes, workdir, standin)
        if profile is not None:
            args = ["-m", "bench.profiled", str(profile / f"{name}.prof"), *args]
        async with process(standin, args, env) as proc:
            users = []
            for n, code in enumerate(codes):
                user = standin.user(FIRST_USER_ID + n, f"Trưởng thôn {n}")
                await user.say(f"/start {code}", timeout=30)
                users.append(user)
            spy = await start_spy(spy_dir, name, proc.pid)
            if profile is not None:
                proc.send_signal(signal.SIGUSR1)
            before = cpu_seconds(proc.pid)
            seen = len(standin.requests)
            figures = await drive(name, standin, users, report_script(plan, form, think), rounds)
            cpu = cpu_seconds(proc.pid) - before
            calls = Counter(r.method for r in standin.requests[seen:])
            sockets = open_sockets(proc.pid)
            if profile is not None:
                proc.send_signal(signal.SIGUSR2)
            await stop_spy(spy)
            result = Result(figures.with_cpu(cpu.total), cpu, dict(calls), sockets)
            for folder in {profile, spy_dir} - {None}:
                assert folder is not None
                (folder / f"{name}.json").write_text(json.dumps(result.summary()))
            return result
    finally:
        await standin.stop()


async def bench_postgres(
    name: str,
    plan: Plan,
    form: Form,
    codes: dict[str, str],
    rounds: int,
    think: float,
    workdir: Path,
) -> Result:
    """``POSTGRES_BOTS[name]`` instances of ``thidua run`` on one PostgreSQL database: one
    polls the stand-in; two take its webhook in turns (``tests.test_instances.Balancer``,
    playing the load balancer in front of them). Their CPU is summed."""
    from tests.test_instances import SECRET, Balancer
    from tests.test_process_channels import free_port

    instances = POSTGRES_BOTS[name]
    ports = [free_port() for _ in range(instances)]
    async with (
        postgres_schema(BENCH_POSTGRES) as url,
        Balancer(ports) as balancer,
        contextlib.AsyncExitStack() as stack,
    ):
        await add_invites(await PostgresStorage.open(url), codes)
        standin = BotApiStandIn()
        await standin.start()
        stack.push_async_callback(standin.stop)
        standin.route_webhook("https://bot.example.vn", f"http://127.0.0.1:{balancer.port}")
        procs = []
        for port in ports:
            args, env = await bot_command(name, plan, codes, workdir, standin, url)
            ready = "getUpdates"
            if instances > 1:
                ready = "setWebhook"
                env |= {
                    "THIDUA_WEBHOOK_URL": "https://bot.example.vn/tg-hook",
                    "THIDUA_WEBHOOK_SECRET": SECRET,
                    "THIDUA_WEBHOOK_PORT": str(port),
                    "THIDUA_WEBHOOK_LISTEN": "127.0.0.1",
                }
            procs.append(await stack.enter_async_context(process(standin, args, env, ready)))
        users = []
        for n, code in enumerate(codes):
            user = standin.user(FIRST_USER_ID + n, f"Trưởng thôn {n}")
            await user.say(f"/start {code}", timeout=30)
            users.append(user)
        before = [cpu_seconds(p.pid) for p in procs]
        seen = len(standin.requests)
        figures = await drive(name, standin, users, report_script(plan, form, think), rounds)
        used = [cpu_seconds(p.pid) - b for p, b in zip(procs, before, strict=True)]
        cpu = Cpu(sum(c.total for c in used), sum(c.main for c in used))
        calls = Counter(r.method for r in standin.requests[seen:])
        sockets = sum(open_sockets(p.pid) for p in procs)
        return Result(figures.with_cpu(cpu.total), cpu, dict(calls), sockets)


async def postgres_reachable() -> bool:
    try:
        conn = await asyncpg.connect(BENCH_POSTGRES, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await conn.close()
    return True


def medians(name: str, results: list[Result]) -> str:
    """Median, lowest and highest of the figures of repeated runs of one bot."""

    def spread(values: list[float], fmt: str) -> str:
        ordered = sorted(values)
        low, mid, high = ordered[0], statistics.median(ordered), ordered[-1]
        return f"{mid:{fmt}} ({low:{fmt}}–{high:{fmt}})"

    cpu = [r.cpu.total / r.figures.steps * 1000 for r in results]
    off = [(r.cpu.total - r.cpu.main) / r.figures.steps * 1000 for r in results]
    rate = [r.figures.steps_per_second for r in results]
    p50 = [r.figures.p50_ms for r in results]
    p99 = [r.figures.p99_ms for r in results]
    return (
        f"{name:<36} runs={len(results):<3} bot CPU {spread(cpu, '.2f')} ms/step, "
        f"off-loop {spread(off, '.2f')}; {spread(rate, '.0f')} steps/s; "
        f"p50 {spread(p50, '.0f')} ms; p99 {spread(p99, '.0f')} ms"
    )


async def main_async(
    heads: int,
    rounds: int,
    think: float,
    only: list[str],
    profile: Path | None = None,
    spy: Path | None = None,
    repeat: int = 1,
) -> None:
    if rounds > 2:
        raise SystemExit("at most 2 rounds: a head files this month's report, then last month's")
    work_plan = Path(tempfile.mkdtemp()) / "plan"
    work_plan.mkdir()
    plan = load_plan(bench_plan(heads, work_plan))
    form = plan.forms[0]
    print(
        f"form {form.id!r}: {len(form.questions)} questions; {heads} heads; bots in their "
        f"own processes; Bot API stand-in on 127.0.0.1"
    )
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if rounds > 0:
            print(f"\nsaturation: {rounds} reports per head, answers sent as replies arrive")
            runs = await repeated(only, repeat, plan, form, heads, rounds, 0, work, profile, spy)
            if "comparator" in runs:
                theirs = statistics.median(r.figures.steps_per_second for r in runs["comparator"])
                for name in [n for n in runs if n != "comparator"]:
                    ours = statistics.median(r.figures.steps_per_second for r in runs[name])
                    print(f"throughput ratio {name} / comparator: {ours / theirs:.2f}")
        if think > 0:
            print(f"\ntyping: 1 report per head, {think:g} s (±50 %) to read and answer each step")
            # Profiles are taken of the saturation load, or of this one when it runs alone.
            kept = (profile, spy) if rounds == 0 else (None, None)
            await repeated(only, repeat, plan, form, heads, 1, think, work, *kept)


async def repeated(
    only: list[str],
    repeat: int,
    plan: Plan,
    form: Form,
    heads: int,
    rounds: int,
    think: float,
    work: Path,
    profile: Path | None = None,
    spy: Path | None = None,
) -> dict[str, list[Result]]:
    """Every bot ``repeat`` times; each repetition starts with the next bot."""
    runs: dict[str, list[Result]] = {name: [] for name in only}
    for turn in range(repeat):
        for name in only[turn % len(only) :] + only[: turn % len(only)]:
            result = await bench_bot(name, plan, form, heads, rounds, think, work, profile, spy)
            runs[name].append(result)
            print(result.line())
    if repeat > 1:
        print(f"\nmedians of {repeat} runs (lowest–highest)")
        for name in only:
            print(medians(name, runs[name]))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--heads", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2, help="0 skips the saturation load")
    parser.add_argument("--think", type=float, default=1.0)
    parser.add_argument(
        "--repeat", type=int, default=1, help="run each load N times, print medians"
    )
    parser.add_argument(
        "--only",
        default=",".join(BOTS),
        help=f"bots to run, comma-separated: {', '.join((*BOTS, *POSTGRES_BOTS))} (both of "
        "these by default when a PostgreSQL server answers at BENCH_POSTGRES) or "
        "thidua-FEATURE[+FEATURE] "
        f"with FEATURE one of {', '.join(FEATURES)} (see bench.variants)",
    )
    parser.add_argument(
        "--profile", type=Path, help="profile the saturation runs with cProfile, into DIR"
    )
    parser.add_argument(
        "--spy",
        type=Path,
        help="sample the saturation runs with py-spy (PATH or $PY_SPY), into DIR",
    )
    args = parser.parse_args()
    only = [name.strip() for name in args.only.split(",") if name.strip()]
    if args.only == parser.get_default("only"):
        if asyncio.run(postgres_reachable()):
            only += list(POSTGRES_BOTS)
        else:
            print(f"no PostgreSQL server at {BENCH_POSTGRES.split('@')[-1]}: SQLite only")
    unknown = sorted(name for name in only if not known_bot(name))
    if unknown:
        parser.error(f"unknown bot {', '.join(unknown)}")
    for folder in (args.profile, args.spy):
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
    profile = args.profile.resolve() if args.profile else None
    spy = args.spy.resolve() if args.spy else None
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(
        main_async(args.heads, args.rounds, args.think, only, profile, spy, max(1, args.repeat))
    )


if __name__ == "__main__":
    main()
