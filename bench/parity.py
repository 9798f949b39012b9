"""Check that the comparator says what thidua says: both bots get the same scripted
conversations (menus, back, skip, a wrong number, a number over its limit, edit, cancel,
a second version, a stale button), and every message each bot sent is compared: text,
button labels and callback data.

    python -m bench.parity [thidua-FEATURE…]   # a variant of thidua instead of thidua itself
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench.reports import FIRST_USER_ID, bot_command, invite_codes, process
from bot.app.config import DEFAULT_PLAN
from bot.plan.model import Plan, load_plan
from tests.standin.telegram import BotApiStandIn, SimUser

Transcript = list[tuple[str, list[list[tuple[str, str]]]]]
Script = Callable[[SimUser, Plan], Awaitable[None]]


async def monthly(head: SimUser, plan: Plan) -> None:
    """The monthly form, with detours, then a second version abandoned with /huy."""
    form = plan.forms[0]
    await head.say("/baocao")
    await head.press(head.last_buttons()[0][1])
    await head.press(head.button("Quay lại"))
    await head.press(head.last_buttons()[0][1])
    periods = last_message(head)
    await head.press(head.last_buttons()[1][1])
    await head.say("100")
    await head.press(head.button("Quay lại"))
    await head.press(
        button_of(periods, periods["reply_markup"]["inline_keyboard"][0][0]["text"]), 1, periods
    )
    await head.say("abc")
    await head.say("100")
    await head.say("200")  # more households on the grid than in the village
    await head.say("90")
    await head.say("quay lai")
    await head.say("90")
    for question in form.questions[2:]:
        if question.type == "yes_no":
            await head.say("co")
        elif question.optional and question.numeric:
            await head.press(head.button("Bỏ qua"))
        elif question.type == "text":
            await head.say("Mọi việc ổn")
        elif question.type == "decimal":
            await head.say("12,5")
        else:
            await head.say("7")
    await head.press(head.button("Sửa"))
    await head.press(head.button(form.questions[0].label))
    await head.say("120")
    await head.press(head.button("Hủy"))
    await head.press(head.button("Không, làm tiếp"))
    summary = last_message(head)
    await head.press(head.button("Gửi"))
    await head.press(button_of(summary, "Sửa"), 1, summary)
    await head.say("/baocao")
    await head.press(head.last_buttons()[0][1])
    await head.press(head.last_buttons()[1][1])
    await head.say("/huy")
    await head.press(head.button("Có, bỏ bản nháp"))
    await head.say("xin chào")


async def weekly(head: SimUser, plan: Plan) -> None:
    """The weekly form: a choice question, a typed choice, skip by button, a wrong button."""
    form = plan.forms[1]
    await head.say("/baocao")
    await head.press(head.last_buttons()[1][1])
    await head.press(head.last_buttons()[0][1])  # the late week
    await head.say("3")
    await head.press(head.button(form.questions[0].choices[1]))
    await head.say("Quay lại")
    await head.say("ổn định")
    await head.say("-1")
    await head.say("2")
    await head.press(head.button("Bỏ qua"))
    await head.press(head.button("Gửi"))
    await head.say("/baocao")
    await head.press(head.last_buttons()[1][1])  # this week, with last week's answers shown
    await head.press(head.button(form.questions[0].choices[0]))
    await head.say("3")
    await head.say("Không có gì")
    await head.press(head.button("Gửi"))


def last_message(head: SimUser) -> dict[str, Any]:
    message = head.standin.last_bot_message(head.chat_id)
    assert message is not None
    return message


def button_of(message: dict[str, Any], label: str) -> str:
    for row in message["reply_markup"]["inline_keyboard"]:
        for button in row:
            if button["text"] == label:
                return str(button["callback_data"])
    raise AssertionError(f"no button {label!r}")


SCRIPTS: list[Script] = [monthly, weekly]


def transcript(messages: list[dict[str, Any]]) -> Transcript:
    result = []
    for message in messages:
        rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
        buttons = [[(b["text"], b.get("callback_data", "")) for b in row] for row in rows]
        result.append((message["text"], buttons))
    return result


async def run(name: str, plan: Plan, workdir: Path) -> list[Transcript]:
    codes = invite_codes(plan, len(SCRIPTS))
    standin = BotApiStandIn()
    await standin.start()
    try:
        args, env = await bot_command(name, plan, codes, workdir, standin)
        async with process(standin, args, env):
            heads = []
            for n, code in enumerate(codes):
                head = standin.user(FIRST_USER_ID + n, f"Trưởng thôn {n}")
                await head.say(f"/start {code}", timeout=30)
                heads.append(head)
            await asyncio.gather(*(s(h, plan) for s, h in zip(SCRIPTS, heads, strict=True)))
            return [transcript(standin.bot_messages(head.chat_id)) for head in heads]
    finally:
        await standin.stop()


async def main_async(bot: str = "thidua") -> int:
    plan = load_plan(DEFAULT_PLAN)
    with tempfile.TemporaryDirectory() as tmp:
        ours = await run(bot, plan, Path(tmp))
        theirs = await run("comparator", plan, Path(tmp))
    differences = 0
    for script, a, b in zip(SCRIPTS, ours, theirs, strict=True):
        print(f"{script.__name__}: {bot} sent {len(a)} messages, the comparator {len(b)}")
        for index in range(max(len(a), len(b))):
            mine = a[index] if index < len(a) else None
            other = b[index] if index < len(b) else None
            if mine != other:
                differences += 1
                print(f"  message {index + 1} differs:\n    {bot}: {mine!r}")
                print(f"    comparator: {other!r}")
    print("same messages" if not differences else f"{differences} messages differ")
    return 1 if differences else 0


def main() -> None:
    sys.exit(asyncio.run(main_async(*sys.argv[1:2])))


if __name__ == "__main__":
    main()
