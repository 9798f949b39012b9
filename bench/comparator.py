"""The yardstick: a plain ``ConversationHandler`` + ``PicklePersistence`` bot that holds the
same conversation as thidua, the way such a bot is usually written: one ConversationHandler
state per screen, the draft in ``context.user_data``, reports in ``context.bot_data``, all of
it in memory and pickled by PTB now and then (its default: every 60 s and at shutdown).

For the same answers it sends the same messages as thidua: the form and period menus, the
question text (``Câu n/total · form · kỳ …``, unit, last period's value, the text limit), the
``Đã ghi: …`` line after a number, the summary, the edit and cancel screens, and the same
inline keyboards (``Quay lại`` after the first question, ``Bỏ qua`` on optional ones,
``Có``/``Không``, choice texts, ``Gửi``/``Sửa``/``Hủy``) with the same ``seq:token`` callback
data. What it leaves out: other languages, photos, the "which number did you mean" question
for ``12.5``-style input, the "far from last period" confirmation, the invite lockout.

Updates are processed one at a time (PTB's default ``concurrent_updates=False``), as PTB's
documentation asks for bots built on ``ConversationHandler``.
"""

from __future__ import annotations

import json
import sys
import unicodedata
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
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

PICK_FORM, PICK_PERIOD, ASK, SUMMARY, EDIT_PICK, CONFIRM_CANCEL = range(6)
STATES = (PICK_FORM, PICK_PERIOD, ASK, SUMMARY, EDIT_PICK, CONFIRM_CANCEL)
END = ConversationHandler.END
TEXT_LIMIT = 1000
VI = Locale.parse("vi")

Context = ContextTypes.DEFAULT_TYPE
Choices = list[tuple[str, str]]  # (label, token)


def fold(text: str) -> str:
    """Lower case, no diacritics, ``đ`` → ``d``, single spaces: how typed words are matched."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.replace("đ", "d").split())


def number(value: Decimal | int) -> str:
    return format_decimal(value, locale=VI, decimal_quantization=False)


def plain(value: Decimal) -> str:
    if value == value.to_integral_value():
        return str(value.quantize(Decimal(1)))
    return format(value.normalize(), "f")


def show_value(question: Question, value: Any) -> str:
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
    if not choices:
        return None
    buttons = [InlineKeyboardButton(label, callback_data=f"{seq}:{t}") for label, t in choices]
    if len(choices) <= 3 and all(len(label) <= 12 for label, _ in choices):
        return InlineKeyboardMarkup([buttons])
    return InlineKeyboardMarkup([[button] for button in buttons])


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
                (f"Kỳ {current} (đã gửi)" if option["sent"] else f"Kỳ {current}", "current"),
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
            if ud["index"] > 0 or ud["editing"]:
                result.append(("Quay lại", "back"))
            return result
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
        lines = [
            f"Câu {ud['index'] + 1}/{len(form.questions)} · {form.title} · "
            f"kỳ {self.period_label(ud)}",
            question.ask,
        ]
        if question.unit:
            lines.append(f"(đơn vị: {question.unit})")
        answers, previous = ud["answers"], ud["previous"]
        if ud["editing"] and question.id in answers:
            lines.append(f"Hiện tại: {show_value(question, answers[question.id])}")
        elif previous.get(question.id) is not None and question.type != "photo":
            lines.append(f"Kỳ trước: {show_value(question, previous[question.id])}")
        if question.type == "text":
            lines.append(f"(tối đa {number(TEXT_LIMIT)} ký tự)")
        return "\n".join(lines)

    def summary(self, ud: dict[str, Any]) -> str:
        form = self.form(ud)
        village = self.villages.get(ud["village"], ud["village"])
        lines = [f"Tóm tắt {form.title} của {village}, kỳ {self.period_label(ud)}:"]
        for index, question in enumerate(form.questions, start=1):
            value = ud["answers"].get(question.id)
            lines.append(f"{index}. {question.label}: {show_value(question, value)}")
        lines += ["", "Bấm Gửi để gửi báo cáo, hoặc Sửa để đổi một câu trả lời."]
        return "\n".join(lines)

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
        choices = self.choices(ud, state)
        wanted = fold(text)
        for label, token in choices:
            if fold(label) == wanted:
                return token
        if wanted == "bo qua":
            return "skip"
        if wanted == "quay lai":
            return "back"
        choice_only = state != ASK or self.question(ud).type in ("yes_no", "choice")
        if choice_only and wanted.isdigit() and 1 <= int(wanted) <= len(choices):
            return choices[int(wanted) - 1][1]
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
            return await self.show(update, context, state, ["Xin chọn Gửi, Sửa hoặc Hủy."], False)
        if state == EDIT_PICK:
            if token and token.startswith("e") and token[1:].isdigit():
                index = int(token[1:])
                if index < len(self.form(ud).questions):
                    ud["index"], ud["editing"] = index, True
                    return await self.show(update, context, ASK, [])
            if token == "back":
                return await self.show(update, context, SUMMARY, [])
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
            return await self.store(update, context, question, None, [])
        if token in ("y", "n") and question.type == "yes_no":
            return await self.store(update, context, question, token == "y", [])
        if token and token.startswith("c") and question.type == "choice":
            index = int(token[1:])
            if index < len(question.choices):
                return await self.store(update, context, question, question.choices[index], [])
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
            return await self.store(update, context, question, text, [])
        try:
            value = Decimal(text.replace(".", "").replace(",", "."))
        except InvalidOperation:
            value = Decimal("NaN")
        if not value.is_finite():
            example = "412" if question.type == "integer" else "12,5"
            lead = [f"Tôi chưa hiểu đây là số nào. Xin gõ một con số, ví dụ {example}."]
            return await self.show(update, context, ASK, lead, False)
        if value < 0 and not (question.min is not None and question.min < 0):
            return await self.show(update, context, ASK, ["Số không được âm."], False)
        problem = self.number_problem(ud, question, value)
        if problem:
            return await self.show(update, context, ASK, [problem])
        return await self.store(update, context, question, plain(value), [])

    def number_problem(self, ud: dict[str, Any], question: Question, value: Decimal) -> str | None:
        if question.type == "integer" and value != value.to_integral_value():
            return "Câu này cần một số nguyên, ví dụ 412."
        if value < 0 and not (question.min is not None and question.min < 0):
            return "Số không được âm."
        if question.min is not None and value < question.min:
            return f"Giá trị phải từ {show_value(question, plain(question.min))} trở lên."
        if question.max is not None and value > question.max:
            return f"Giá trị không được quá {show_value(question, plain(question.max))}."
        if question.at_most:
            other_value = ud["answers"].get(question.at_most)
            if other_value is not None and value > Decimal(str(other_value)):
                other = self.form(ud).question(question.at_most)
                return (
                    f"{show_value(question, plain(value))} lớn hơn “{other.label}” "
                    f"({show_value(other, other_value)}): không thể như vậy."
                )
        return None

    async def store(
        self, update: Update, context: Context, question: Question, value: Any, lead: list[str]
    ) -> int:
        ud = self.data(context)
        ud["answers"][question.id] = value
        if question.numeric and value is not None:
            lead = [*lead, f"Đã ghi: {show_value(question, value)}."]
        if ud["editing"] or ud["index"] + 1 >= len(self.form(ud).questions):
            ud["editing"] = False
            return await self.show(update, context, SUMMARY, lead)
        ud["index"] += 1
        return await self.show(update, context, ASK, lead)

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
            previous={},
            editing=False,
            note="",
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
        ud = self.data(context)
        lead = []
        if sent:
            lead.append(
                f"Kỳ {self.label(parse_period(period))} đã gửi rồi; gửi lần nữa sẽ tạo phiên "
                "bản mới, bản cũ vẫn được lưu."
            )
        by_period = self.reports(context).get((ud["village"], form_id), {})
        earlier = [p for p in by_period if p < period]
        ud.update(
            form=form_id,
            period=period,
            options=[],
            chosen=None,
            index=0,
            editing=False,
            previous=dict(by_period[max(earlier)][-1]) if earlier else {},
        )
        ud["seq"] += 1
        return await self.show(update, context, ASK, lead)

    async def submit(self, update: Update, context: Context) -> int:
        ud = self.data(context)
        form = self.form(ud)
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

    async def resume(self, update: Update, context: Context) -> None:
        """``/baocao`` during a report: the current screen again."""
        ud = self.data(context)
        lead = []
        if ud.get("form"):
            lead.append(
                f"Bạn đang làm dở {self.form(ud).title} kỳ {self.period_label(ud)}. "
                "Tiếp tục từ chỗ đã dừng:"
            )
        await self.show(update, context, self.state_of(ud), lead, bump=False)

    async def cancel(self, update: Update, context: Context) -> int | None:
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
