"""The yardstick: a plain ``ConversationHandler`` + ``PicklePersistence`` bot that holds the
same conversation as thidua, the way such a bot is usually written: one ConversationHandler
state per screen, the draft in ``context.user_data``, reports in ``context.bot_data``, all of
it in memory and pickled by PTB now and then (its default: every 60 s and at shutdown).

It mirrors thidua on the paths ``bench.reports`` measures and ``bench.parity`` checks: a
head's first report of a period when the village has no earlier report (so thidua shows no
"start from last period" screen). On those paths it sends the same messages as thidua: the
form and period menus (a sent period offered as ``Sửa kỳ … (đã gửi)``), the question text
(``Câu n/total · form · kỳ …``, unit, ``Hiện tại: …`` once answered, the text limit), the
``Đã ghi: …`` line after a number, the summary with its "``3: 420``" hint, the edit and
cancel screens, the same inline keyboards (``Quay lại`` after the first question, ``Bỏ
qua`` on optional ones, ``Giữ nguyên`` on an answered question gone back to, ``Có``/
``Không``, choice texts, ``Gửi``/``Sửa``/``Hủy``) with the same ``seq:token`` callback data,
and the same rules: numbers read by thidua's parser (``bot.reports.numbers``: multiplier
words, the caps on every number), only the plausible readings of an ambiguous number
offered (two to pick from, one to confirm with ``Đúng``/``Nhập lại``, none to say why),
a question's bounds and ``at_most`` checked both ways, ``N: value`` at the summary answering
question N, every answer checked again before sending, typed words (``rồi``, ``ok``,
``chưa``…) for yes and no.

What it leaves out, all of it thidua's alone and not benchmarked: the screen that starts a
report from last period's answers, the ``Kỳ trước`` hints, ``=`` (as last period) and the
"far from last period" confirmation; corrections of a sent report (pressing ``Sửa kỳ …
(đã gửi)`` here answers every question again and files a new version) and the earlier
periods thidua offers to correct; the deadline for corrections; other languages, photos,
help, ``/tieptuc``, the invite lockout.

Updates are processed one at a time (PTB's default ``concurrent_updates=False``), as PTB's
documentation asks for bots built on ``ConversationHandler``.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from babel import Locale
from babel.numbers import format_decimal
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    PicklePersistence,
    filters,
)

from bot.plan.model import Form, Plan, Question
from bot.plan.periods import Period, current_period, parse_period
from bot.reports.numbers import (
    MAX_DIGITS,
    MAX_NUMBER,
    Ambiguous,
    Invalid,
    NumberKind,
    limit_problem,
    parse_number,
    stored_number,
)

(
    PICK_FORM,
    PICK_PERIOD,
    ASK,
    AMBIGUOUS,
    CONFIRM_READING,
    SUMMARY,
    EDIT_PICK,
    CONFIRM_CANCEL,
) = range(8)
STATES = tuple(range(8))
END = ConversationHandler.END
TEXT_LIMIT = 1000
VI = Locale.parse("vi")
MINUS_SIGNS = "-\u2212\u2013"

# Typed words, folded, that say yes or no to a yes/no question or to "did you mean …?".
YES_WORDS = frozenset(
    {"co", "roi", "da", "da co", "co roi", "roi a", "da roi", "co a", "vang", "vang a", "u"}
    | {"ok", "oke", "okay", "dung", "dung roi", "yes", "y"}
)
NO_WORDS = frozenset(
    {"khong", "chua", "chua co", "khong co", "chua a", "khong a", "ko", "k", "no", "n"}
)
# ``3: 420`` (or ``câu 3 420``, ``3 = 420``) at the summary: question 3's new answer.
QUICK_EDIT_RE = re.compile(r"\s*([0-9]{1,3})\s*[:=]\s*(.*)", re.DOTALL)
QUICK_EDIT_NAMED_RE = re.compile(
    r"\s*(?:câu|cau|question|q)\s*([0-9]{1,3})\s*[:=]?\s*(.*)", re.DOTALL | re.IGNORECASE
)

Context = ContextTypes.DEFAULT_TYPE
Choices = list[tuple[str, str]]  # (label, token)


def fold(text: str) -> str:
    """Lower case, no diacritics, ``đ`` → ``d``, single spaces: how typed words are matched."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.replace("đ", "d").split())


def number(value: Decimal | int) -> str:
    """A number as Vietnamese writes it (``1.234``, ``12,5``)."""
    return format_decimal(value, locale=VI, decimal_quantization=False)


def plain(value: Decimal) -> str:
    """A number as stored: ``1500000``, ``12.5``."""
    if value == value.to_integral_value():
        return str(value.quantize(Decimal(1)))
    return format(value.normalize(), "f")


def as_number(value: Any) -> Decimal | None:
    """A stored numeric answer as a finite Decimal, or None."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    found = stored_number(value)
    return found if found is not None and found.is_finite() else None


def show_value(question: Question, value: Any) -> str:
    """An answer as the head reads it."""
    if value is None:
        return "(bỏ qua)"
    if question.numeric:
        text = number(Decimal(str(value)))
        return f"{text} {question.unit}" if question.unit else text
    if question.type == "yes_no":
        return "Có" if value else "Không"
    text = str(value)
    return text if len(text) <= 120 else text[:119] + "…"


def keyboard(choices: Choices, seq: int) -> InlineKeyboardMarkup | None:
    """The buttons: one row when there are at most three short ones, else one per row."""
    if not choices:
        return None
    buttons = [InlineKeyboardButton(label, callback_data=f"{seq}:{t}") for label, t in choices]
    if len(choices) <= 3 and all(len(label) <= 12 for label, _ in choices):
        return InlineKeyboardMarkup([buttons])
    return InlineKeyboardMarkup([[button] for button in buttons])


def menu_number(text: str) -> int | None:
    """A typed menu number (at most four digits), or None."""
    return int(text) if text.isdecimal() and len(text) <= 4 else None


class ReportBot:
    """The handlers; ``plan`` and ``codes`` (invite code → village id) are fixed at start."""

    def __init__(self, plan: Plan, codes: dict[str, str]) -> None:
        self.plan = plan
        self.codes = codes
        self.forms = {form.id: form for form in plan.forms}
        self.villages = {village.id: village.name for village in plan.villages}

    # -- state helpers -----------------------------------------------------------------

    @staticmethod
    def data(context: Context) -> dict[str, Any]:
        assert context.user_data is not None
        return context.user_data

    @staticmethod
    def reports(context: Context) -> dict[tuple[str, str], dict[str, list[dict[str, Any]]]]:
        """(village, form) → period → the versions sent, oldest first."""
        reports = context.bot_data.get("reports")
        if reports is None:
            reports = context.bot_data["reports"] = {}
        return reports

    def form(self, ud: dict[str, Any]) -> Form:
        return self.forms[ud["form"]]

    def question(self, ud: dict[str, Any]) -> Question:
        return self.form(ud).questions[ud["index"]]

    def period_label(self, ud: dict[str, Any]) -> str:
        return self.label(parse_period(ud["period"]))

    @staticmethod
    def label(period: Period) -> str:
        if period.kind == "week":
            iso = period.start.isocalendar()
            return f"tuần {iso.week}/{iso.year} ({period.start:%d/%m}–{period.end:%d/%m})"
        if period.kind == "month":
            return f"tháng {period.start.month}/{period.start.year}"
        if period.kind == "quarter":
            quarter = ("I", "II", "III", "IV")[(period.start.month - 1) // 3]
            return f"quý {quarter}/{period.start.year}"
        return f"năm {period.start.year}"

    def in_plan(self, period: Period) -> bool:
        starts, ends = self.plan.starts, self.plan.ends
        return (starts is None or period.end >= starts) and (ends is None or period.start <= ends)

    @staticmethod
    def keeps(ud: dict[str, Any], question: Question) -> bool:
        """Whether the question's screen offers to keep its answer (gone back to it)."""
        return question.id in ud["answers"] and not ud["editing"]

    # -- screens -----------------------------------------------------------------------

    def choices(self, ud: dict[str, Any], state: int) -> Choices:
        if state == PICK_FORM:
            result = []
            for i, option in enumerate(ud["options"]):
                title = self.forms[option["form"]].title
                if option["sent"]:
                    title += " (đã gửi kỳ này)"
                elif option["late"]:
                    title += " (còn thiếu kỳ trước)"
                result.append((title, f"f{i}"))
            return result
        if state == PICK_PERIOD:
            option = ud["options"][ud["chosen"]]
            current = self.label(parse_period(option["period"]))
            result = [
                (f"Kỳ {self.label(parse_period(option['late']))} (trễ hạn)", "late"),
                (f"Sửa kỳ {current} (đã gửi)" if option["sent"] else f"Kỳ {current}", "current"),
            ]
            if len(ud["options"]) > 1:
                result.append(("Quay lại", "back"))
            return result
        if state == ASK:
            question = self.question(ud)
            result = []
            if question.type == "yes_no":
                result += [("Có", "y"), ("Không", "n")]
            elif question.type == "choice":
                result += [(text, f"c{i}") for i, text in enumerate(question.choices)]
            if question.optional:
                result.append(("Bỏ qua", "skip"))
            if self.keeps(ud, question):
                result.append(("Giữ nguyên", "keep"))
            if ud["index"] > 0 or ud["editing"]:
                result.append(("Quay lại", "back"))
            return result
        if state == CONFIRM_READING:
            return [("Đúng", "y"), ("Nhập lại", "retype")]
        if state == AMBIGUOUS:
            question = self.question(ud)
            readings = [(show_value(question, v), f"a{i}") for i, v in enumerate(ud["pending"])]
            return [*readings, ("Quay lại", "back")]
        if state == SUMMARY:
            return [("Gửi", "send"), ("Sửa", "edit"), ("Hủy", "cancel")]
        if state == EDIT_PICK:
            questions = self.form(ud).questions
            return [(q.label, f"e{i}") for i, q in enumerate(questions)] + [("Quay lại", "back")]
        return [("Có, bỏ bản nháp", "y"), ("Không, làm tiếp", "n")]

    def screen_text(self, ud: dict[str, Any], state: int) -> str:
        if state == PICK_FORM:
            return "Bạn muốn gửi báo cáo nào?"
        if state == PICK_PERIOD:
            option = ud["options"][ud["chosen"]]
            late = self.label(parse_period(option["late"]))
            return (
                f"{self.forms[option['form']].title} kỳ {late} chưa được gửi và đã quá hạn. "
                "Nên gửi kỳ đó trước. Bạn muốn báo cáo kỳ nào?"
            )
        if state == CONFIRM_CANCEL:
            return (
                f"Bỏ bản nháp {self.form(ud).title} kỳ {self.period_label(ud)}? "
                "Các câu đã trả lời sẽ mất."
            )
        if state == EDIT_PICK:
            return "Bạn muốn sửa câu nào?"
        if state == SUMMARY:
            return self.summary(ud)
        form, question = self.form(ud), self.question(ud)
        if state == AMBIGUOUS:
            return f"Bạn gõ “{ud['typed']}”. Ý bạn là số nào?"
        if state == CONFIRM_READING:
            value = show_value(question, ud["pending"][0])
            return f"Bạn gõ “{ud['typed']}”: {value}, đúng không?"
        lines = [
            f"Câu {ud['index'] + 1}/{len(form.questions)} · {form.title} · "
            f"kỳ {self.period_label(ud)}",
            question.ask,
        ]
        if question.unit:
            lines.append(f"(đơn vị: {question.unit})")
        if question.id in ud["answers"]:  # editing, or gone back to it
            lines.append(f"Hiện tại: {show_value(question, ud['answers'][question.id])}")
        if question.type == "text":
            lines.append(f"(tối đa {number(TEXT_LIMIT)} ký tự)")
        return "\n".join(lines)

    def summary(self, ud: dict[str, Any]) -> str:
        form = self.form(ud)
        village = self.villages.get(ud["village"], ud["village"])
        lines = [f"Tóm tắt {form.title} của {village}, kỳ {self.period_label(ud)}:"]
        for index, question in enumerate(form.questions, start=1):
            if question.id in ud["answers"]:
                shown = show_value(question, ud["answers"][question.id])
            else:
                shown = "(chưa trả lời)"
            lines.append(f"{index}. {question.label}: {shown}")
        lines += ["", "Chọn Gửi để gửi báo cáo, hoặc Sửa để đổi một câu trả lời."]
        lines.append(self.quick_hint(ud))
        return "\n".join(lines)

    def quick_hint(self, ud: dict[str, Any]) -> str:
        """How to change one answer in one message, with an example from this form."""
        example = "1: 25"
        for index, question in enumerate(self.form(ud).questions, start=1):
            if question.numeric:
                example = f"{index}: 25"
                break
            if question.type == "yes_no":
                example = f"{index}: có"
                break
        return f"Sửa nhanh một câu: gõ số câu, dấu hai chấm và câu trả lời mới, ví dụ “{example}”."

    async def show(
        self, update: Update, context: Context, state: int, lead: list[str], bump: bool = True
    ) -> int:
        """Send the screen of ``state`` with ``lead`` paragraphs above it; ``state`` stays."""
        ud = self.data(context)
        if bump:
            ud["seq"] += 1
        ud["mode"] = state
        text = "\n\n".join([*lead, self.screen_text(ud, state)])
        await self.send(update, context, text, keyboard(self.choices(ud, state), ud["seq"]))
        return state

    @staticmethod
    async def send(
        update: Update, context: Context, text: str, markup: InlineKeyboardMarkup | None = None
    ) -> None:
        assert update.effective_chat is not None
        await context.bot.send_message(update.effective_chat.id, text, reply_markup=markup)

    # -- input -------------------------------------------------------------------------

    def token_of_text(self, ud: dict[str, Any], state: int, text: str) -> str | None:
        """What a typed text means on this screen: a choice by its label (or the label
        before `` (``), yes or no in words, ``bỏ qua``, ``quay lại``, a menu number."""
        choices = self.choices(ud, state)
        wanted = fold(text)
        for label, token in choices:
            folded = fold(label)
            if wanted in (folded, folded.split(" (", 1)[0]):
                return token
        word = wanted.rstrip(".!")
        answers = {CONFIRM_READING: ("y", "retype")}.get(state)
        if state == ASK and self.question(ud).type == "yes_no":
            answers = ("y", "n")
        if answers is not None and word in YES_WORDS:
            return answers[0]
        if answers is not None and word in NO_WORDS:
            return answers[1]
        if wanted == "bo qua":
            return "skip"
        if wanted == "quay lai":
            return "back"
        choice_only = state != ASK or self.question(ud).type in ("yes_no", "choice")
        picked = menu_number(wanted) if choice_only else None
        if picked is not None and 1 <= picked <= len(choices):
            return choices[picked - 1][1]
        return None

    def state_of(self, ud: dict[str, Any]) -> int:
        return int(ud["mode"])

    async def on_button(self, update: Update, context: Context) -> int:
        query = update.callback_query
        assert query is not None
        await query.answer()
        ud = self.data(context)
        state = self.state_of(ud)
        seq, _sep, token = (query.data or "").partition(":")
        if not seq.isdigit() or int(seq) != ud["seq"]:
            lead = ["Nút này thuộc một câu hỏi trước nên không còn dùng được."]
            return await self.show(update, context, state, lead, bump=False)
        return await self.step(update, context, state, token, None)

    async def on_text(self, update: Update, context: Context) -> int:
        assert update.message is not None
        ud = self.data(context)
        state = self.state_of(ud)
        text = update.message.text or ""
        return await self.step(update, context, state, self.token_of_text(ud, state, text), text)

    async def step(
        self, update: Update, context: Context, state: int, token: str | None, text: str | None
    ) -> int:
        """One button (``text`` None) or typed text on the screen of ``state``."""
        ud = self.data(context)
        if state == PICK_FORM:
            if token and token.startswith("f") and token[1:].isdigit():
                index = int(token[1:])
                if index < len(ud["options"]):
                    return await self.form_chosen(update, context, index)
            return await self.show(
                update, context, state, ["Xin chọn một biểu mẫu trong danh sách."], False
            )
        if state == PICK_PERIOD:
            option = ud["options"][ud["chosen"]]
            if token == "late":
                return await self.start_form(update, context, option["form"], option["late"])
            if token == "current":
                return await self.start_form(
                    update, context, option["form"], option["period"], option["sent"]
                )
            if token == "back" and len(ud["options"]) > 1:
                return await self.show(update, context, PICK_FORM, [])
            return await self.show(update, context, state, ["Xin chọn kỳ báo cáo."], False)
        if state == ASK:
            return await self.answer(update, context, token, text)
        if state == CONFIRM_READING:
            if token == "y" and ud["pending"]:
                return await self.pending_chosen(update, context, ud["pending"][0])
            hint = "Xin chọn Đúng hoặc Nhập lại."
            return await self.pending_fallback(update, context, state, token, text, hint)
        if state == AMBIGUOUS:
            if token and token.startswith("a") and token[1:].isdigit():
                index = int(token[1:])
                if index < len(ud["pending"]):
                    return await self.pending_chosen(update, context, ud["pending"][index])
            hint = "Xin chọn một trong hai số."
            return await self.pending_fallback(update, context, state, token, text, hint)
        if state == SUMMARY:
            if token == "send":
                return await self.submit(update, context)
            if token == "edit":
                return await self.show(update, context, EDIT_PICK, [])
            if token == "cancel":
                ud["resume"] = state
                return await self.show(update, context, CONFIRM_CANCEL, [])
            if token == "back":
                ud["index"] = len(self.form(ud).questions) - 1
                return await self.show(update, context, ASK, [])
            if text is not None and token is None:
                quick = await self.quick_edit(update, context, state, text)
                if quick is not None:
                    return quick
            lead = ["Xin chọn Gửi, Sửa hoặc Hủy. " + self.quick_hint(ud)]
            return await self.show(update, context, state, lead, False)
        if state == EDIT_PICK:
            if token and token.startswith("e") and token[1:].isdigit():
                index = int(token[1:])
                if index < len(self.form(ud).questions):
                    ud["index"], ud["editing"] = index, True
                    return await self.show(update, context, ASK, [])
            if token == "back":
                return await self.show(update, context, SUMMARY, [])
            if text is not None and token is None:
                quick = await self.quick_edit(update, context, state, text)
                if quick is not None:
                    return quick
            return await self.show(update, context, state, ["Xin chọn câu muốn sửa."], False)
        if token == "y":
            self.forget_draft(ud)
            await self.send(update, context, "Đã bỏ bản nháp. Gõ /baocao khi muốn báo cáo lại.")
            return END
        if token == "n":
            return await self.show(update, context, ud.pop("resume", ASK), [])
        return await self.show(update, context, state, ["Xin chọn Có hoặc Không."], False)

    async def answer(
        self, update: Update, context: Context, token: str | None, text: str | None
    ) -> int:
        """An answer to the question on screen: a button (``text`` None) or typed text."""
        ud = self.data(context)
        question = self.question(ud)
        if token == "back":
            if ud["editing"]:
                ud["editing"] = False
                return await self.show(update, context, SUMMARY, [])
            if ud["index"] == 0:
                return await self.show(update, context, ASK, ["Đây là câu hỏi đầu tiên."], False)
            ud["index"] -= 1
            return await self.show(update, context, ASK, [])
        if token == "skip":
            if not question.optional:
                return await self.show(update, context, ASK, ["Câu này không bỏ qua được."], False)
            return await self.store(update, context, question, None)
        if token in ("y", "n") and question.type == "yes_no":
            return await self.store(update, context, question, token == "y")
        if token and token.startswith("c") and question.type == "choice":
            index = int(token[1:])
            if index < len(question.choices):
                return await self.store(update, context, question, question.choices[index])
        if token == "keep" and self.keeps(ud, question):
            problem = self.answer_problem(ud, question, dependents=True)
            if problem:
                return await self.show(update, context, ASK, [problem], False)
            return await self.store(update, context, question, ud["answers"][question.id])
        if text is None:
            lead = ["Lựa chọn này không dùng được ở câu hỏi này."]
            return await self.show(update, context, ASK, lead, False)
        text = text.strip()
        if question.type in ("yes_no", "choice"):
            labels = ", ".join(label for label, _token in self.choices(ud, ASK))
            lead = [f"Xin chọn một trong các câu trả lời: {labels}."]
            return await self.show(update, context, ASK, lead, False)
        if not text:
            return await self.show(update, context, ASK, ["Xin gõ câu trả lời."], False)
        if question.type == "text":
            if len(text) > TEXT_LIMIT:
                lead = [
                    f"Câu trả lời dài quá: tối đa {number(TEXT_LIMIT)} ký tự, "
                    f"bạn đã gửi {number(len(text))} ký tự."
                ]
                return await self.show(update, context, ASK, lead, False)
            return await self.store(update, context, question, text)
        return await self.typed_number(update, context, question, text)

    async def typed_number(
        self, update: Update, context: Context, question: Question, text: str
    ) -> int:
        """A typed number: refused, stored, or asked about (which reading, or is it right)."""
        ud = self.data(context)
        kind: NumberKind = "integer" if question.type == "integer" else "decimal"
        allow_negative = question.min is not None and question.min < 0
        parsed = parse_number(text, kind, allow_negative=allow_negative)
        if isinstance(parsed, Ambiguous):
            # Only the readings that can be this question's answer: two to choose from, one
            # to confirm, none to say why.
            fitting = [v for v in parsed.options if self.number_problem(ud, question, v) is None]
            if len(fitting) == 1:
                return await self.confirm_reading(update, context, text, fitting[0])
            if not fitting:
                problems: list[str] = []
                for value in parsed.options:
                    problem = self.number_problem(ud, question, value)
                    if problem and problem not in problems:
                        problems.append(problem)
                first, second = (show_value(question, str(v)) for v in parsed.options[:2])
                typed = text if len(text) <= 40 else text[:39] + "…"
                said = f"Bạn gõ “{typed}”: đọc là {first} hay {second} đều không được."
                return await self.show(update, context, ASK, [" ".join([said, *problems])])
            ud["pending"], ud["typed"] = [str(v) for v in fitting], text[:40]
            return await self.show(update, context, AMBIGUOUS, [])
        if isinstance(parsed, Invalid):
            negative = text[:1] in MINUS_SIGNS
            lead = [self.invalid(question, parsed.reason, negative)]
            return await self.show(update, context, ASK, lead, False)
        if parsed.approximate:  # "khoảng 450": a report wants a figure, so ask once
            problem = self.number_problem(ud, question, parsed.value)
            if problem:
                return await self.show(update, context, ASK, [problem])
            return await self.confirm_reading(update, context, text, parsed.value)
        return await self.check_number(update, context, question, parsed.value)

    async def confirm_reading(
        self, update: Update, context: Context, text: str, value: Decimal
    ) -> int:
        ud = self.data(context)
        ud["pending"], ud["typed"] = [str(value)], text[:40]
        return await self.show(update, context, CONFIRM_READING, [])

    async def pending_chosen(self, update: Update, context: Context, pending: str) -> int:
        """The reading confirmed or picked: back to the question, checked as if typed."""
        ud = self.data(context)
        ud["pending"] = []
        value = stored_number(pending)
        if value is None:
            return await self.show(update, context, ASK, [])
        return await self.check_number(update, context, self.question(ud), value)

    async def pending_fallback(
        self,
        update: Update,
        context: Context,
        state: int,
        token: str | None,
        text: str | None,
        hint: str,
    ) -> int:
        """On a "which reading" screen: back re-asks the question, a new text is a new
        answer, anything else gets ``hint``."""
        ud = self.data(context)
        if token in ("retype", "back"):
            ud["pending"] = []
            return await self.show(update, context, ASK, [])
        if text is not None and text.strip():
            ud["pending"] = []
            ud["mode"] = ASK
            return await self.answer(update, context, None, text)
        return await self.show(update, context, state, [hint], False)

    async def check_number(
        self, update: Update, context: Context, question: Question, value: Decimal
    ) -> int:
        problem = self.number_problem(self.data(context), question, value)
        if problem:
            return await self.show(update, context, ASK, [problem])
        return await self.store(update, context, question, plain(value))

    @staticmethod
    def invalid(question: Question, reason: str, negative: bool = False) -> str:
        """What to say about a number the parser refused for ``reason``."""
        if reason == "too_long":
            return f"Số này dài quá: tối đa {MAX_DIGITS} chữ số."
        if reason == "too_large":
            if negative and question.min is not None and question.min >= -MAX_NUMBER:
                return f"Giá trị phải từ {show_value(question, plain(question.min))} trở lên."
            if not negative and question.max is not None and question.max <= MAX_NUMBER:
                return f"Giá trị không được quá {show_value(question, plain(question.max))}."
            if negative:
                return f"Số này nhỏ quá: ít nhất {show_value(question, plain(-MAX_NUMBER))}."
            return f"Số này lớn quá: tối đa {show_value(question, plain(MAX_NUMBER))}."
        if reason == "negative":
            return "Số không được âm."
        if reason == "not_integer":
            return "Câu này cần một số nguyên, ví dụ 412."
        if reason == "empty":
            return "Xin gõ câu trả lời."
        example = "412" if question.type == "integer" else "12,5"
        return f"Tôi chưa hiểu đây là số nào. Xin gõ một con số, ví dụ {example}."

    def number_problem(
        self, ud: dict[str, Any], question: Question, value: Decimal, dependents: bool = True
    ) -> str | None:
        """Why ``value`` cannot be this question's answer: the caps on every number, its
        bounds, ``at_most``; ``dependents``: also the answers that may not exceed it."""
        if not value.is_finite():
            return self.invalid(question, "not_a_number")
        if question.type == "integer" and value != value.to_integral_value():
            return self.invalid(question, "not_integer")
        if value < 0 and not (question.min is not None and question.min < 0):
            return self.invalid(question, "negative")
        limit = limit_problem(value)
        if limit is not None:
            return self.invalid(question, limit, value < 0)
        if question.min is not None and value < question.min:
            return f"Giá trị phải từ {show_value(question, plain(question.min))} trở lên."
        if question.max is not None and value > question.max:
            return f"Giá trị không được quá {show_value(question, plain(question.max))}."
        form = self.form(ud)
        answers = ud["answers"]
        ceiling = stored_number(answers.get(question.at_most or ""))
        if question.at_most and ceiling is not None and ceiling.is_finite() and value > ceiling:
            other = form.question(question.at_most)
            return (
                f"{show_value(question, plain(value))} lớn hơn “{other.label}” "
                f"({show_value(other, plain(ceiling))}): không thể như vậy."
            )
        if not dependents:
            return None
        for other in form.questions:
            if other.at_most != question.id or other.id == question.id:
                continue
            below = stored_number(answers.get(other.id))
            if below is not None and below.is_finite() and value < below:
                shown_below = show_value(other, plain(below))
                return (
                    f"{show_value(question, plain(value))} nhỏ hơn “{other.label}” "
                    f"({shown_below}), mà “{other.label}” không thể lớn hơn "
                    f"“{question.label}”. Xin sửa “{other.label}” trước, hoặc gõ một số từ "
                    f"{shown_below} trở lên."
                )
        return None

    def answer_problem(
        self, ud: dict[str, Any], question: Question, dependents: bool = False
    ) -> str | None:
        """Why the saved answer to ``question`` cannot be sent (or kept), or None."""
        if question.id not in ud["answers"]:
            return "Câu này chưa có câu trả lời."
        value = ud["answers"][question.id]
        if value is None:
            return None if question.optional else "Câu này chưa có câu trả lời."
        if question.numeric:
            found = as_number(value)
            if found is None:
                return "Xin gõ một con số."
            return self.number_problem(ud, question, found, dependents)
        if question.type == "yes_no":
            return None if isinstance(value, bool) else "Xin chọn một câu trả lời."
        if question.type == "choice":
            return None if isinstance(value, str) else "Xin chọn một câu trả lời."
        return None if isinstance(value, str) else "Xin gõ câu trả lời bằng chữ."

    async def store(self, update: Update, context: Context, question: Question, value: Any) -> int:
        """Keep the answer; then the next question, or the summary after an edit or the
        last question."""
        ud = self.data(context)
        ud["answers"][question.id] = value
        ud["pending"] = []
        lead = []
        if question.numeric and value is not None:
            lead.append(f"Đã ghi: {show_value(question, value)}.")
        if ud["editing"] or ud["index"] + 1 >= len(self.form(ud).questions):
            ud["editing"] = False
            return await self.show(update, context, SUMMARY, lead)
        ud["index"] += 1
        return await self.show(update, context, ASK, lead)

    async def quick_edit(
        self, update: Update, context: Context, state: int, text: str
    ) -> int | None:
        """``3: 420`` (``câu 3 420``, ``3 = 420``) at the summary or the edit menu: question 3
        answered anew, checked as if typed at it; None when the text is not of that shape."""
        found = QUICK_EDIT_RE.fullmatch(text) or QUICK_EDIT_NAMED_RE.fullmatch(
            unicodedata.normalize("NFC", text)
        )
        if found is None:
            return None
        ud = self.data(context)
        wanted, answer = int(found.group(1)), found.group(2).strip()
        total = len(self.form(ud).questions)
        if not 1 <= wanted <= total:
            lead = [f"Không có câu {found.group(1)}: các câu đánh số từ 1 đến {total}."]
            return await self.show(update, context, state, lead, False)
        ud["seq"] += 1  # the summary's buttons are for the summary
        ud.update(index=wanted - 1, editing=True, pending=[], mode=ASK)
        if not answer:
            return await self.show(update, context, ASK, [], False)
        return await self.answer(update, context, self.token_of_text(ud, ASK, answer), answer)

    # -- commands and the start and end of a report ---------------------------------------

    async def register(self, update: Update, context: Context) -> None:
        assert update.effective_user is not None
        ud = self.data(context)
        village = ud.get("village")
        if village is not None:
            name = self.villages.get(village, village)
            await self.send(update, context, f"Bạn đã đăng ký là trưởng thôn của {name}.")
            return
        code = (context.args or [""])[0].strip().upper()
        village = self.codes.get(code)
        if village is None:
            await self.send(update, context, "Mã mời không đúng.")
            return
        ud["village"] = village
        await self.send(
            update,
            context,
            f"Chào mừng {update.effective_user.full_name}! Bạn đã đăng ký là trưởng thôn của "
            f"{self.villages[village]}.\nGõ /baocao để gửi báo cáo, /huongdan để xem hướng dẫn.",
        )

    async def begin(self, update: Update, context: Context) -> int:
        """``/baocao`` with no report under way."""
        ud = self.data(context)
        village = ud.get("village")
        if village is None:
            await self.send(
                update,
                context,
                f"Xin chào! Đây là trợ lý thi đua của {self.plan.commune}. Bạn chưa đăng ký.\n"
                "Xin mã mời ở Văn phòng – Thống kê xã, rồi gửi: /start MÃ (hoặc chỉ gửi mã).",
            )
            return END
        reports = self.reports(context)
        now = datetime.now(UTC)
        options = []
        for form in self.plan.forms:
            sent_periods = reports.get((village, form.id), {})
            period = current_period(form.period, now, self.plan.tz)  # type: ignore[arg-type]
            previous = period.previous()
            late = None
            if self.in_plan(previous) and previous.key not in sent_periods:
                late = previous.key
            current = period.key if self.in_plan(period) else None
            sent = current is not None and current in sent_periods
            if current or late:
                options.append({"form": form.id, "period": current, "sent": sent, "late": late})
        if not options:
            await self.send(update, context, "Hiện không có kỳ báo cáo nào đang mở theo kế hoạch.")
            return END
        ud.update(
            seq=0,
            options=options,
            chosen=None,
            form=None,
            period=None,
            index=0,
            answers={},
            pending=[],
            typed="",
            editing=False,
        )
        if len(options) == 1:
            return await self.form_chosen(update, context, 0)
        return await self.show(update, context, PICK_FORM, [])

    async def form_chosen(self, update: Update, context: Context, index: int) -> int:
        ud = self.data(context)
        option = ud["options"][index]
        ud["chosen"] = index
        if option["late"] and option["period"]:
            return await self.show(update, context, PICK_PERIOD, [])
        if option["late"]:
            return await self.start_form(update, context, option["form"], option["late"])
        return await self.start_form(
            update, context, option["form"], option["period"], option["sent"]
        )

    async def start_form(
        self, update: Update, context: Context, form_id: str, period: str, sent: bool = False
    ) -> int:
        """The first question of ``period``; ``sent``: that period was sent already, and
        this (unlike thidua's correction, which starts from what was sent) answers every
        question again for a new version."""
        ud = self.data(context)
        lead = []
        if sent:
            lead.append(
                f"Kỳ {self.label(parse_period(period))} đã gửi rồi; gửi lần nữa sẽ tạo phiên "
                "bản mới, bản cũ vẫn được lưu."
            )
        ud.update(form=form_id, period=period, options=[], chosen=None, index=0, editing=False)
        ud["seq"] += 1
        return await self.show(update, context, ASK, lead)

    async def submit(self, update: Update, context: Context) -> int:
        """Check every answer again, then file the report as a new version of its period."""
        ud = self.data(context)
        form = self.form(ud)
        for index, question in enumerate(form.questions):
            problem = self.answer_problem(ud, question)
            if problem:
                ud["index"], ud["editing"] = index, True
                return await self.show(update, context, ASK, ["Chưa gửi được. " + problem])
        answers = {q.id: ud["answers"].get(q.id) for q in form.questions}
        versions = self.reports(context).setdefault((ud["village"], form.id), {})
        versions.setdefault(ud["period"], []).append(answers)
        version = len(versions[ud["period"]])
        village = self.villages.get(ud["village"], ud["village"])
        text = f"Đã nhận {form.title} của {village}, kỳ {self.period_label(ud)}."
        if version > 1:
            text += f" Đây là phiên bản {version}; các phiên bản trước vẫn được lưu."
        await self.send(update, context, text + "\nCảm ơn anh/chị!")
        self.forget_draft(ud)
        return END

    @staticmethod
    def forget_draft(ud: dict[str, Any]) -> None:
        """Keep only who the person is."""
        village = ud.get("village")
        ud.clear()
        ud["village"] = village

    async def resume(self, update: Update, context: Context) -> int:
        """``/baocao`` during a report: the current screen again; at "drop the draft?", the
        screen it was asked from."""
        ud = self.data(context)
        state = self.state_of(ud)
        if state == CONFIRM_CANCEL:
            return await self.show(update, context, ud.pop("resume", ASK), [])
        lead = []
        if ud.get("form"):
            lead.append(
                f"Bạn đang làm dở {self.form(ud).title} kỳ {self.period_label(ud)}. "
                "Tiếp tục từ chỗ đã dừng:"
            )
        return await self.show(update, context, state, lead, bump=False)

    async def cancel(self, update: Update, context: Context) -> int:
        """``/huy`` during a report: ask before dropping the draft (none before a form)."""
        ud = self.data(context)
        state = self.state_of(ud)
        if not ud.get("form"):
            self.forget_draft(ud)
            await self.send(update, context, "Đã hủy. Gõ /baocao khi muốn báo cáo.")
            return END
        if state == CONFIRM_CANCEL:
            return await self.show(update, context, state, [], bump=False)
        ud["resume"] = state
        return await self.show(update, context, CONFIRM_CANCEL, [])

    async def nothing_to_cancel(self, update: Update, context: Context) -> None:
        """``/huy`` with no report under way."""
        await self.send(update, context, "Bạn không có việc gì đang làm dở.")

    async def idle_text(self, update: Update, context: Context) -> None:
        if self.data(context).get("village") is None:
            code = (update.message.text or "").strip().upper() if update.message else ""
            if code in self.codes:
                context.args = [code]
                await self.register(update, context)
                return
            await self.begin(update, context)
            return
        await self.send(update, context, "Gõ /baocao để gửi báo cáo, /huongdan để xem hướng dẫn.")

    async def idle_button(self, update: Update, context: Context) -> None:
        assert update.callback_query is not None
        await update.callback_query.answer()
        await self.send(update, context, "Nút này đã hết hiệu lực. Gõ /baocao để bắt đầu báo cáo.")


def build_comparator(
    token: str, base_url: str, plan: Plan, codes: dict[str, str], pickle: Path
) -> Application:  # type: ignore[type-arg]
    bot = ReportBot(plan, codes)
    in_state: list[BaseHandler[Update, Context, object]] = [
        CallbackQueryHandler(bot.on_button),
        MessageHandler(filters.TEXT & ~filters.COMMAND, bot.on_text),
    ]
    app = (
        ApplicationBuilder()
        .token(token)
        .base_url(base_url)
        .persistence(PicklePersistence(filepath=pickle))
        .build()
    )
    app.add_handler(CommandHandler("start", bot.register))
    app.add_handler(
        ConversationHandler(
            entry_points=[CommandHandler(["baocao", "report"], bot.begin)],
            states={state: in_state for state in STATES},
            fallbacks=[
                CommandHandler(["baocao", "report"], bot.resume),
                CommandHandler(["huy", "cancel"], bot.cancel),
            ],
            name="report",
            persistent=True,
            per_message=False,
        )
    )
    app.add_handler(CommandHandler(["huy", "cancel"], bot.nothing_to_cancel))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, bot.idle_text))
    app.add_handler(CallbackQueryHandler(bot.idle_button))
    return app


def main() -> None:
    """``python -m bench.comparator TOKEN BASE_URL PICKLE [CODES.json [PLAN.yaml]]``."""
    from bot.app.config import DEFAULT_PLAN
    from bot.plan.model import load_plan

    token, base_url, pickle = sys.argv[1:4]
    codes: dict[str, str] = json.loads(Path(sys.argv[4]).read_text()) if len(sys.argv) > 4 else {}
    plan = load_plan(Path(sys.argv[5]) if len(sys.argv) > 5 else DEFAULT_PLAN)
    app = build_comparator(token, base_url, plan, codes, Path(pickle))
    app.run_polling(poll_interval=0, timeout=10, close_loop=False)


if __name__ == "__main__":
    main()
