"""Benchmark: the digest of one period in a database of about two million answers.

    python -m bench.digest [--villages 2000] [--months 50] [--repeat 7] [--db FILE]

Builds (or reuses, with ``--db``) a SQLite database for the Nam Dong plan stretched to
``--villages`` villages, each sending the monthly report (20 answers) every month for
``--months`` months: 2,000 × 50 × 20 = 2,000,000 answers, plus a head per village. Then times,
through the storage's units of work as the bot runs them:

- the digest of the latest month as ``/tonghop`` builds it (read, compute, render the text);
- once, the weekly digest as it is queued: the same plus every answer, the workbook and the
  chart;
- the single SQL aggregate query that digest needs at the least: each question's count and
  sum over the latest versions of the month and of the month before (for the change), in
  the fastest of the forms tried (a correlated ``MAX(version)``; ``NOT EXISTS`` and a
  ``WITH latest`` join were no faster);

and prints the medians and their ratio. Targets: under 1 s, and within 3× the query.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.app.config import DEFAULT_PLAN
from bot.i18n import use_locale
from bot.plan.model import Plan, Question, check_plan_text
from bot.plan.periods import parse_period
from bot.plan.schedule import DigestPeriod
from handlers.digest import digest_reply, digest_text, read_digest
from storage.sqlite import SqliteStorage

FORM = "thang"
AGGREGATE = """
SELECT r.period, a.question_id, COUNT(*) AS answered,
       SUM(CASE a.value WHEN 'true' THEN 1 WHEN 'false' THEN 0
           ELSE CAST(json_extract(a.value, '$') AS REAL) END) AS total
FROM reports r JOIN answers a ON a.report_id = r.id
WHERE r.form_id = ?1 AND r.period IN (?2, ?3) AND r.version = (
    SELECT MAX(l.version) FROM reports l
    WHERE l.form_id = r.form_id AND l.period = r.period AND l.village_id = r.village_id)
GROUP BY r.period, a.question_id
"""


def stretched_plan(villages: int) -> Plan:
    text = DEFAULT_PLAN.read_text(encoding="utf-8")
    head, rest = text.split("villages:\n", 1)
    rest = rest[rest.index("\nforms:") :]
    names = "".join(f"  - Thôn {n}\n" for n in range(1, villages + 1))
    plan, problems = check_plan_text(f"{head}villages:\n{names}{rest}")
    if plan is None:
        raise SystemExit("\n".join(map(str, problems)))
    return plan


def answer(question: Question, rng: random.Random) -> Any:
    if question.type == "yes_no":
        return rng.random() < 0.8
    if question.type == "integer":
        return str(rng.randint(0, 400))
    if question.type == "decimal":
        return f"{rng.randint(0, 9999) / 10:g}"
    if question.type == "choice":
        return question.choices[0]
    return None


def months_back(last: str, count: int) -> list[str]:
    period = parse_period(last)
    keys = [period.key]
    while len(keys) < count:
        period = period.previous()
        keys.append(period.key)
    return keys[::-1]


async def build(path: Path, plan: Plan, months: list[str]) -> None:
    store = await SqliteStorage.open(path)  # the schema, by the bot's own migrations
    now = datetime.now(UTC)
    async with store.transaction() as tx:
        for village in plan.villages:
            await tx.create_person(f"Trưởng {village.name}", "head", village.id, "vi", now)
    await store.close()
    rng = random.Random(7)
    questions = plan.form(FORM).questions
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    report_id = 0
    for key in months:
        period = parse_period(key)
        sent = datetime.combine(period.start, datetime.min.time(), UTC) + timedelta(days=20)
        reports, answers = [], []
        for person, village in enumerate(plan.villages, start=1):
            report_id += 1
            reports.append((report_id, village.id, FORM, key, 1, sent.isoformat(), person))
            for position, question in enumerate(questions):
                value = json.dumps(answer(question, rng), ensure_ascii=False)
                answers.append((report_id, question.id, position, value))
        db.executemany(
            "INSERT INTO reports (id, village_id, form_id, period, version, submitted_at,"
            " submitted_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
            reports,
        )
        db.executemany(
            "INSERT INTO answers (report_id, question_id, position, value) VALUES (?, ?, ?, ?)",
            answers,
        )
        db.commit()
    db.execute("ANALYZE")
    db.commit()
    db.close()


async def timed(repeat: int, action: Any) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await action()
        samples.append(time.perf_counter() - started)
    return samples


async def measure(path: Path, plan: Plan, month: str, repeat: int) -> None:
    store = await SqliteStorage.open(path)
    period = parse_period(month)
    now = datetime.combine(period.end, datetime.min.time(), UTC)
    text = ""

    async def digest() -> None:
        nonlocal text
        async with store.transaction() as tx:
            data = await read_digest(
                plan, tx, now, periods=[DigestPeriod(FORM, period, False)], text_only=True
            )
        with use_locale("vi"):
            text = digest_text(plan, data)

    async def aggregate() -> None:
        async with store.transaction() as tx:
            rows = await tx._all(AGGREGATE, (FORM, month, period.previous().key))  # type: ignore[attr-defined]
        assert rows

    async def weekly() -> None:
        async with store.transaction() as tx:
            data = await read_digest(plan, tx, now, periods=[DigestPeriod(FORM, period, True)])
        with use_locale("vi"):
            reply = digest_reply(plan, data)
        sizes.extend(len(f.data) for f in reply.files)

    sizes: list[int] = []
    await digest()  # warm the page cache and the code paths once
    await aggregate()
    digest_times = await timed(repeat, digest)
    aggregate_times = await timed(repeat, aggregate)
    weekly_times = await timed(1, weekly)
    await store.close()
    answers = sqlite3.connect(path).execute("SELECT COUNT(*) FROM answers").fetchone()[0]
    d, a = statistics.median(digest_times), statistics.median(aggregate_times)
    print(f"database: {answers:,} answers, {len(plan.villages):,} villages, {path}")
    print(f"digest of {month}: median {d * 1000:.0f} ms (min {min(digest_times) * 1000:.0f})")
    print(f"single SQL aggregate: median {a * 1000:.0f} ms (min {min(aggregate_times) * 1000:.0f})")
    print(f"digest / aggregate: {d / a:.2f}×   ({len(text):,} characters of digest)")
    print(
        f"weekly digest with workbook and chart: {weekly_times[0]:.1f} s"
        f" (XLSX {sizes[0] / 1024:.0f} KiB, PNG {sizes[1] / 1024:.0f} KiB; built in a worker"
        " thread, outside any transaction)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--villages", type=int, default=2000)
    parser.add_argument("--months", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--db", type=Path, help="reuse (or build once into) this file")
    args = parser.parse_args()
    plan = stretched_plan(args.villages)
    months = months_back("2026-11", args.months)
    workdir = None
    path = args.db
    if path is None:
        workdir = tempfile.TemporaryDirectory(prefix="thidua-bench-")
        path = Path(workdir.name) / "thidua.db"
    if not path.exists():
        started = time.perf_counter()
        asyncio.run(build(path, plan, months))
        print(f"built in {time.perf_counter() - started:.1f} s")
    asyncio.run(measure(path, plan, months[-1], args.repeat))
    if workdir is not None:
        workdir.cleanup()


if __name__ == "__main__":
    main()
