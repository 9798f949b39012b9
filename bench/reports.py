"""Benchmark: N simulated heads file whole reports at once through the Bot API stand-in.

    python -m bench.reports [--heads 50] [--rounds 2]

Prints form steps per second and p50/p99 reply latency for thidua (state in SQLite,
saved before every reply) and for a plain ConversationHandler + PicklePersistence bot
asking the same questions, and the ratio of their throughputs.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
from datetime import timedelta
from pathlib import Path

from bench.comparator import build_comparator
from bench.harness import Figures, Timer, drive
from bot.channels.telegram import TelegramChannel, TelegramOptions
from bot.clock import system_clock
from bot.config import DEFAULT_PLAN
from bot.domain import Invite
from bot.plan import Form, Question, load_plan
from handlers.conversation import Conversations
from storage.sqlite import SqliteStorage
from tests.standin.telegram import BotApiStandIn, SimUser

FIRST_USER_ID = 10_000


def typed_answer(question: Question) -> str:
    if question.optional and question.type in ("text", "photo"):
        return "bo qua"
    if question.type == "decimal":
        return "12,5"
    if question.type == "integer":
        return "100"
    return "Tốt"


async def answer(head: SimUser, timer: Timer, question: Question) -> None:
    if question.type == "yes_no":
        await timer.step(head.press(head.button("Có")))
    elif question.type == "choice":
        await timer.step(head.press(head.button(question.choices[0])))
    else:
        await timer.step(head.say(typed_answer(question)))


async def bench_thidua(heads: int, rounds: int, form: Form, workdir: Path) -> Figures:
    plan = load_plan(DEFAULT_PLAN)
    storage = await SqliteStorage.open(workdir / "thidua.db")
    conversations = Conversations(plan, storage, system_clock)
    standin = BotApiStandIn()
    await standin.start()
    channel = TelegramChannel(
        TelegramOptions(token=standin.token, api_url=standin.base_url, rate_limit=0),
        conversations,
        plan.tz,
    )
    await channel.start()
    try:
        now = system_clock()
        users = []
        for n in range(heads):
            code = f"B{n:07d}"
            village = plan.villages[n % len(plan.villages)]
            async with storage.transaction() as tx:
                await tx.create_invite(
                    Invite(code, "head", village.id, now, now + timedelta(days=1))
                )
            user = standin.user(FIRST_USER_ID + n, f"Trưởng thôn {n}")
            await user.say(f"/start {code}")
            users.append(user)
        form_index = [f.id for f in plan.forms].index(form.id)

        async def script(head: SimUser, timer: Timer) -> None:
            await timer.step(head.say("/baocao"))
            buttons = head.last_buttons()
            if len(plan.forms) > 1:
                await timer.step(head.press(buttons[form_index][1]))
                buttons = head.last_buttons()
            if buttons and "current" in buttons[1][1]:
                await timer.step(head.press(buttons[1][1]))
            for question in form.questions:
                await answer(head, timer, question)
            await timer.step(head.press(head.button("Gửi")))

        return await drive("thidua (SQLite, state per step)", standin, users, script, rounds)
    finally:
        await channel.stop()
        await storage.close()
        await standin.stop()


async def bench_comparator(heads: int, rounds: int, form: Form, workdir: Path) -> Figures:
    standin = BotApiStandIn()
    await standin.start()
    app = build_comparator(standin.token, standin.base_url, form, workdir / "comparator.pickle")
    await app.initialize()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=10)
    await app.start()
    try:
        users = [standin.user(FIRST_USER_ID + n, f"Trưởng thôn {n}") for n in range(heads)]

        async def script(head: SimUser, timer: Timer) -> None:
            await timer.step(head.say("/baocao"))
            for question in form.questions:
                await answer(head, timer, question)
            await timer.step(head.press(head.button("Gửi")))

        return await drive("ConversationHandler + PicklePersistence", standin, users, script,
                           rounds)
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
        await standin.stop()


async def main_async(heads: int, rounds: int) -> None:
    plan = load_plan(DEFAULT_PLAN)
    form = plan.forms[0]
    with tempfile.TemporaryDirectory() as tmp:
        ours = await bench_thidua(heads, rounds, form, Path(tmp))
        theirs = await bench_comparator(heads, rounds, form, Path(tmp))
    print(f"form {form.id!r}: {len(form.questions)} questions; {heads} heads x {rounds} reports")
    print(ours.line())
    print(theirs.line())
    print(f"throughput ratio thidua / comparator: {ours.steps_per_second / theirs.steps_per_second:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--heads", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main_async(args.heads, args.rounds))


if __name__ == "__main__":
    main()
