"""Split each bot's CPU per form step by package, from the files ``bench.reports --profile``
(cProfile, main thread CPU) and ``--spy`` (py-spy samples of every thread) wrote:

    python -m bench.profile DIR [--top 25]

For cProfile, time spent in C functions is charged to the package that called them, except
socket and epoll calls (``kernel I/O``), sqlite3 and json/pickle, which get rows of their own.
py-spy sees Python frames only: a sample is charged to the innermost Python frame, and
samples of threads other than the event loop's (aiosqlite's worker) are shown apart.
"""

from __future__ import annotations

import argparse
import json
import linecache
import pstats
import re
import sysconfig
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STDLIB = sysconfig.get_paths()["stdlib"]
OURS = {"bot": "ours: bot/", "handlers": "ours: handlers/", "storage": "ours: storage/"}
THIRD_PARTY = {
    "telegram": "telegram (PTB)",
    "httpx": "httpx",
    "httpcore": "httpcore",
    "h11": "h11",
    "anyio": "anyio",
    "sniffio": "anyio",
    "aiosqlite": "aiosqlite",
    "babel": "babel",
}
STDLIB_GROUPS = {
    "asyncio": "asyncio",
    "selectors.py": "asyncio",
    "json": "json/pickle",
    "pickle.py": "json/pickle",
    "threading.py": "threading/queue",
    "queue.py": "threading/queue",
    "ssl.py": "kernel I/O",
    "socket.py": "kernel I/O",
}
BUILTIN_GROUPS = (
    (re.compile(r"_socket|select\.|epoll|_ssl|'recv|'send|socketpair"), "kernel I/O"),
    (re.compile(r"sqlite3"), "sqlite3 (C)"),
    (re.compile(r"_json|json\.|_pickle|pickle\."), "json/pickle"),
)
# Inclusive rows: everything under a frame of this function (file ending, qualified name).
INCLUSIVE = {
    "our handler (on_update)": ("handlers/telegram.py", "on_update"),
    "  Conversations.handle": ("handlers/conversation.py", "Conversations.handle"),
    "    storage transaction (loop side)": ("storage/sqlite.py", ""),
    "    FormEngine.handle": ("bot/reports/engine.py", "FormEngine.handle"),
    "  send_replies": ("handlers/telegram.py", "send_replies"),
    "ConversationHandler.handle_update": ("conversationhandler.py", "handle_update"),
    "  comparator handlers": ("bench/comparator.py", "ReportBot."),
    "Bot.send_message (all callers)": ("telegram/_bot.py", "Bot.send_message"),
    "CallbackQuery.answer": ("telegram/_callbackquery.py", "CallbackQuery.answer"),
    "Updater (getUpdates, de-JSON)": ("telegram/ext/_updater.py", ""),
    "Application.process_update": ("telegram/ext/_application.py", "process_update"),
    "Update.de_json": ("telegram/_update.py", "de_json"),
    "httpx request (all callers)": ("httpx/_client.py", "AsyncClient.send"),
}


def package_of(filename: str, function: str = "") -> str:
    """The row a function's own time goes to."""
    if filename in ("~", "") or filename.startswith("<"):
        for pattern, group in BUILTIN_GROUPS:
            if pattern.search(function):
                return group
        return ""  # a C function: charged to its caller
    path = filename.replace("\\", "/")
    if "/site-packages/" in path:
        top = path.split("/site-packages/", 1)[1].split("/", 1)[0]
        return THIRD_PARTY.get(top, top.removesuffix(".py"))
    if path.startswith(str(ROOT) + "/"):
        top = path[len(str(ROOT)) + 1 :].split("/", 1)[0]
        if top == "bench":
            module = path.rsplit("/", 1)[-1]
            if module == "variants.py":
                return "sqlite3 calls (bench/variants.py)"
            if module == "profiled.py":
                return "profiler"
            return f"comparator (bench/{module})"
        return OURS.get(top, top)
    if path.startswith(STDLIB + "/"):
        top = path[len(STDLIB) + 1 :].split("/", 1)[0]
        return STDLIB_GROUPS.get(top, "stdlib other")
    return "other"


Func = tuple[str, int, str]


def cprofile_packages(path: Path) -> tuple[Counter[str], float, dict[str, int]]:
    """Own CPU seconds by package (C functions charged to their callers), the total, and
    the number of calls of a few telling functions."""
    stats = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
    by_package: Counter[str] = Counter()
    for func, (_cc, _nc, tt, _ct, callers) in stats.items():
        package = package_of(func[0], func[2])
        if package:
            by_package[package] += tt
            continue
        caller_time = sum(c[2] for c in callers.values()) if callers else 0.0
        if not callers or caller_time <= 0:
            shares = [
                (package_of(c[0], c[2]) or "other", 1.0 / max(len(callers), 1)) for c in callers
            ] or [("other", 1.0)]
        else:
            shares = [
                (package_of(c[0], c[2]) or "other", v[2] / caller_time) for c, v in callers.items()
            ]
        for caller_package, share in shares:
            by_package[caller_package] += tt * share
    total = sum(by_package.values())
    calls = {
        "coroutine/function calls": sum(v[1] for v in stats.values()),
        "event loop iterations (epoll waits)": sum(
            v[1] for f, v in stats.items() if "poll" in f[2] and f[0] == "~"
        ),
        "socket send/recv": sum(
            v[1] for f, v in stats.items() if f[0] == "~" and re.search(r"'(send|recv)", f[2])
        ),
        "callbacks run by the loop": sum(
            v[1] for f, v in stats.items() if f[2] == "_run" and f[0].endswith("events.py")
        ),
        # A coroutine counts twice (its call, and its resumption when the thread is done).
        "aiosqlite round trips": sum(
            v[1] for f, v in stats.items() if f[2] == "_execute" and "aiosqlite" in f[0]
        )
        // 2,
    }
    return by_package, total, calls


_FRAME = re.compile(r"^(?P<name>.*) \((?P<file>[^():]+):(?P<line>\d+)\)$")
# Blocking waits that py-spy does not recognise as idle: the event loop's epoll_wait and
# aiosqlite's worker waiting for the next call (by the source text of the waiting line).
IDLE_LINES = (
    ("selectors.py", "self._selector.poll("),
    ("aiosqlite/core.py", "= tx.get()"),
)


def is_idle(file: str, line: int) -> bool:
    return any(
        file.endswith(file_end) and text in linecache.getline(file, line)
        for file_end, text in IDLE_LINES
    )


def spy_samples(path: Path) -> Iterable[tuple[str, list[tuple[str, str]], int]]:
    """(thread, [(function, file) outermost first], count) per line of a py-spy raw file,
    leaving out the samples of blocking waits."""
    for line in path.read_text().splitlines():
        stack, _sep, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        parts = stack.split(";")
        thread = parts[0].split(":", 1)[0] if parts[0].startswith("thread") else ""
        frames = []
        leaf_line = 0
        for part in parts[1:] if thread else parts:
            match = _FRAME.match(part)
            frames.append((match["name"], match["file"]) if match else (part, ""))
            leaf_line = int(match["line"]) if match else 0
        if frames and is_idle(frames[-1][1], leaf_line):
            continue
        yield thread, frames, int(count)


def spy_packages(path: Path) -> tuple[Counter[str], Counter[str], Counter[str]]:
    """Samples by package on the event loop's thread and on the other threads, and the
    loop thread's samples under each ``INCLUSIVE`` row."""
    samples = list(spy_samples(path))
    loop_threads = {
        t for t, frames, _c in samples if any(name.endswith("_run_once") for name, _f in frames)
    }
    main: Counter[str] = Counter()
    other: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for thread, frames, count in samples:
        name, file = frames[-1] if frames else ("", "")
        package = package_of(file, name) or "other"
        if thread not in loop_threads:
            other[package] += count
            continue
        main[package] += count
        for row, (file_end, function) in INCLUSIVE.items():
            if any(f.endswith(file_end) and function in fn for fn, f in frames):
                inclusive[row] += count
    return main, other, inclusive


def table(title: str, rows: Counter[str], scale: float, total: float, top: int) -> None:
    print(f"\n{title}")
    for package, value in rows.most_common(top):
        share = 100 * value / total if total else 0.0
        print(f"  {package:<36} {value * scale:7.3f} ms/step  {share:5.1f} %")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    for summary_file in sorted(args.folder.glob("*.json")):
        name = summary_file.stem
        summary = json.loads(summary_file.read_text())
        steps = summary["steps"]
        print(
            f"\n=== {name}: {steps} steps, measured CPU {summary['cpu_total'] / steps * 1000:.2f}"
            f" ms/step (loop thread {summary['cpu_main'] / steps * 1000:.2f})"
        )
        prof = args.folder / f"{name}.prof"
        if prof.exists():
            by_package, total, calls = cprofile_packages(prof)
            table(
                f"cProfile, loop thread CPU by package (profiled total "
                f"{total / steps * 1000:.2f} ms/step, cProfile overhead included)",
                by_package,
                1000 / steps,
                total,
                args.top,
            )
            print(
                "  calls per step: " + ", ".join(f"{k} {v / steps:.1f}" for k, v in calls.items())
            )
        spy = args.folder / f"{name}.spy"
        if spy.exists():
            report_spy(spy, summary, args.top)


def report_spy(spy: Path, summary: dict[str, float], top: int) -> None:
    """Each thread's samples share out that thread's CPU time as measured from /proc."""
    main_rows, other_rows, inclusive = spy_packages(spy)
    steps = summary["steps"]
    main_samples, other_samples = sum(main_rows.values()), sum(other_rows.values())
    cpu_main = summary["cpu_main"] * 1000 / steps
    cpu_other = (summary["cpu_total"] - summary["cpu_main"]) * 1000 / steps
    per_main = cpu_main / main_samples if main_samples else 0.0
    per_other = cpu_other / other_samples if other_samples else 0.0
    title = f"py-spy, event loop thread ({main_samples} samples, {cpu_main:.2f} ms/step)"
    table(title, main_rows, per_main, main_samples, top)
    if other_samples:
        title = f"py-spy, other threads ({other_samples} samples, {cpu_other:.2f} ms/step)"
        table(title, other_rows, per_other, other_samples, top)
    print("\npy-spy, event loop thread, inclusive (everything under these frames)")
    for row in INCLUSIVE:
        value = inclusive.get(row, 0)
        share = 100 * value / main_samples if main_samples else 0.0
        print(f"  {row:<36} {value * per_main:7.3f} ms/step  {share:5.1f} %")


if __name__ == "__main__":
    main()
