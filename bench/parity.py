"""Check that the comparator says what thidua says: both bots get the same scripted
conversations and every message each bot sent is compared: text, button labels and
callback data.

What it covers is what ``bench.reports`` measures: a head filing a report of a period when
the village has no earlier report. ``bench_plan`` gives each script's head a village of its
own; the monthly head files this month's report, then starts last month's (still missing)
and drops it, the weekly head files this week's, then last week's (still missing). With
the detours of that conversation: the form and period menus and back, back to an answered
question (``Hiện tại``, ``Giữ nguyên``), skip, a typed choice, a wrong choice, yes and no in
words, a wrong number, numbers over the question's bound and over every number's cap, an
``at_most`` broken both ways, ambiguous numbers (two readings to pick from, one to confirm,
none possible), ``khoảng`` (about), edit from the summary and ``N: value`` typed at it, cancel
and not cancel, ``/baocao`` while a report is under way, a stale button.

Not covered, because the comparator does not implement them: the screen that starts a
report from last period's answers (and the ``Kỳ trước`` hints), and corrections of a sent
report (``Sửa kỳ … (đã gửi)``, offered but never pressed here). They are thidua's alone
and not benchmarked.

    python -m bench.parity [thidua-FEATURE…]   # a variant of thidua instead of thidua itself
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench.reports import FIRST_USER_ID, bench_plan, bot_command, invite_codes, process
from bot.plan.model import Plan, load_plan
from tests.standin.telegram import BotApiStandIn, SimUser

Transcript = list[tuple[str, list[list[tuple[str, str]]]]]
Script = Callable[[SimUser, Plan], Awaitable[None]]


async def monthly(head: SimUser, plan: Plan) -> None:
    """This month's report with every detour, sent; then last month's (still missing),
    started, resumed and dropped with /huy."""
    form = plan.forms[0]
    await head.say("/baocao")
    await head.press(head.last_buttons()[0][1])
    await head.press(head.button("Quay lại"))
    await head.press(head.last_buttons()[0][1])
    periods = last_message(head)
    await head.press(period_button(head, ":current"))
    await head.say("100")
    await head.press(head.button("Quay lại"))  # "Hiện tại: 100 hộ", "Giữ nguyên"
    await head.press(button_of(periods, first_label(periods)), 1, periods)  # a stale button
    await head.say("abc")
    await head.say("1.5")  # 1,5 or 15: only 15 households can be, so "đúng không?"
    await head.press(head.button("Nhập lại"))
    await head.say("9999999999999999")  # more digits than any number may have
    await head.say("1000000000000000")  # over every number's cap: the question's own bound
    await head.say("6000")  # over the question's bound
    await head.press(head.button("Giữ nguyên"))
    await head.say("200")  # more households on the grid than in the village
    await head.say("1000000000000000")  # over every number's cap, no bound of its own
    await head.say("150.5")  # neither 150,5 nor 1.505 households can be
    await head.say("9.5")  # only 95 can be
    await head.say("ok")
    await head.say("quay lai")
    await head.say("90")
    await head.press(head.button("Quay lại"))
    await head.press(head.button("Quay lại"))
    await head.say("50")  # fewer households than those on the grid
    await head.press(head.button("Giữ nguyên"))
    await head.press(head.button("Giữ nguyên"))
    said_yes = False
    for question in form.questions[2:]:
        if question.type == "yes_no":
            await head.say("rồi" if said_yes else "co")
            said_yes = True
        elif question.optional and question.numeric:
            await head.press(head.button("Bỏ qua"))
        elif question.type == "text":
            await head.say("Mọi việc ổn")
        elif question.type == "decimal" and question.at_most is None:
            await head.say("12.5")  # 12,5 or 125 km: both can be, so which one
            await head.press(head.button(f"12,5 {question.unit}"))
        elif question.type == "decimal":
            await head.say("12,5")
        elif question.id == "hoa_giai":
            await head.say("khoảng 7")  # about 7: a report wants a figure, so confirm
            await head.press(head.button("Đúng"))
        else:
            await head.say("7")
    await head.say("xyz")
    await head.say("25: 3")  # no question 25
    await head.say("2: 500")  # question 2 answered from the summary, over its bound
    await head.press(head.button("Quay lại"))
    await head.say("câu 5: không")
    await head.say("1: 130")
    await head.press(head.button("Sửa"))
    await head.press(head.button(form.questions[0].label))
    await head.say("120")
    await head.press(head.button("Hủy"))
    await head.press(head.button("Không, làm tiếp"))
    summary = last_message(head)
    await head.press(head.button("Gửi"))
    await head.press(button_of(summary, "Sửa"), 1, summary)
    await head.say("/baocao")
    await head.press(head.last_buttons()[0][1])  # this month sent, last month missing
    await head.press(period_button(head, ":late"))
    await head.say("100")
    await head.say("/baocao")
    await head.say("/huy")
    await head.say("/baocao")
    await head.say("/huy")
    await head.say("/huy")
    await head.press(head.button("Có, bỏ bản nháp"))
    await head.say("/huy")
    await head.say("xin chào")


async def weekly(head: SimUser, plan: Plan) -> None:
    """This week's report (a choice question, a typed choice, skip by button, a wrong
    button), sent; then last week's (still missing), sent."""
    form = plan.forms[1]
    await head.say("/baocao")
    await head.press(head.last_buttons()[1][1])
    await head.press(period_button(head, ":current"))
    await head.say("3")
    await head.press(head.button(form.questions[0].choices[1]))
    await head.say("Quay lại")
    await head.say("ổn định")
    await head.say("-1")
    await head.say("5.5")  # only 55 can be
    await head.say("không")
    await head.say("150")
    await head.say("2")
    await head.press(head.button("Bỏ qua"))
    await head.press(head.button("Gửi"))
    await head.say("/baocao")
    await head.press(head.last_buttons()[1][1])
    await head.press(period_button(head, ":late"))  # not this week's correction
    await head.press(head.button(form.questions[0].choices[0]))
    await head.say("3")
    await head.say("Không có gì")
    await head.say("2: 4")
    await head.press(head.button("Gửi"))


def last_message(head: SimUser) -> dict[str, Any]:
    message = head.standin.last_bot_message(head.chat_id)
    assert message is not None
    return message


def first_label(message: dict[str, Any]) -> str:
    return str(message["reply_markup"]["inline_keyboard"][0][0]["text"])


def period_button(head: SimUser, ending: str) -> str:
    """The callback data of the last message's period button ending in ``ending``."""
    for _label, data in head.last_buttons():
        if data.endswith(ending):
            return data
    raise AssertionError(f"no period button {ending!r}: {head.last_buttons()}")


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
    with tempfile.TemporaryDirectory() as tmp:
        plan = load_plan(bench_plan(len(SCRIPTS), Path(tmp)))  # a village per script's head
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
