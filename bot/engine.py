"""The report conversation as a pure state machine.

``FormEngine`` takes the plan, the saved ``Draft`` and one ``Input`` and returns a
``Step``: the replies to show, the draft to save (or ``None`` when the
conversation is over) and, when it needs the outside world, an ``effect`` that
the caller carries out and feeds back (load last period's answers, store the
report). It knows no channel and no database, so every rule here is tested
without either.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any, Literal

from bot.i18n import _, format_number
from bot.messages import MAX_FILE_BYTES, Choice, Reply
from bot.numbers import Ambiguous, Invalid, Parsed, parse_number, stored_number
from bot.periods import parse_period
from bot.plan import Form, Plan, Question
from bot.text import normalize_text

TEXT_LIMIT = 1000
FAR_FROM_PREVIOUS = Decimal("0.5")  # more than 50 % off last period needs a confirmation

Mode = Literal[
    "pick_form",
    "pick_period",
    "ask",
    "ambiguous",
    "confirm_far",
    "summary",
    "edit_pick",
    "confirm_cancel",
]
InputKind = Literal["text", "choice", "photo", "other"]


@dataclass(frozen=True)
class Input:
    kind: InputKind
    text: str = ""  # typed text, or the value of a pressed choice
    file_id: str | None = None  # for photos: the stored file's key (None: not downloaded)
    size: int | None = None  # for photos: bytes, as the channel announced them


@dataclass(frozen=True)
class FormOption:
    """One form as the menu shows it: its current period, whether that is sent, a late one."""

    form_id: str
    period: str | None  # the current period, None when outside the plan's dates
    sent: bool = False
    late_period: str | None = None  # the previous period, still missing

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Draft:
    """The saved state of one person's report conversation (stored as JSON)."""

    village: str
    mode: Mode = "ask"
    seq: int = 0
    form: str | None = None
    period: str | None = None
    index: int = 0
    answers: dict[str, Any] = field(default_factory=dict)
    previous: dict[str, Any] = field(default_factory=dict)
    previous_period: str | None = None
    pending: list[str] = field(default_factory=list)
    typed: str = ""
    editing: bool = False
    resume: Mode | None = None
    options: list[dict[str, Any]] = field(default_factory=list)
    chosen: int | None = None
    note: str = ""  # shown above the first question

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready snapshot (copies of the mutable parts, not shared with the draft)."""
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["answers"] = dict(self.answers)
        data["previous"] = dict(self.previous)
        data["pending"] = list(self.pending)
        data["options"] = [dict(o) for o in self.options]
        data["flow"] = "report"
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Draft:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def _screen(self) -> tuple[Any, ...]:
        return (self.mode, self.index, self.editing, self.form, self.period)


@dataclass(frozen=True)
class Begin:
    """Load the latest earlier report of ``form``/``village`` and call ``FormEngine.begin``."""

    form: str
    period: str
    village: str


@dataclass(frozen=True)
class Submit:
    """Store these answers as a new version and call ``FormEngine.submitted``."""

    form: str
    period: str
    village: str
    answers: dict[str, Any]


Effect = Begin | Submit


@dataclass
class Step:
    replies: list[Reply]
    draft: Draft | None
    effect: Effect | None = None


# Choice tokens (the part after "<seq>:").
YES, NO, SKIP, BACK, SEND, EDIT, CANCEL = "y", "n", "skip", "back", "send", "edit", "cancel"
KEEP, RETYPE = "keep", "retype"


class FormEngine:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan

    # -- entry points -------------------------------------------------------------------

    def open(self, village: str, options: list[FormOption]) -> Step:
        """``/baocao`` with no draft: choose a form (and a late period) or start at once."""
        usable = [o for o in options if o.period or o.late_period]
        if not usable:
            return Step([Reply(_("Hiện không có kỳ báo cáo nào đang mở theo kế hoạch."))], None)
        draft = Draft(village=village, options=[o.to_dict() for o in usable])
        if len(usable) == 1:
            return self._form_chosen(draft, 0, [])
        draft.mode = "pick_form"
        return self._show(draft, [])

    def open_form(self, village: str, option: FormOption, period: str) -> Step:
        """Start one form's period at once (a reminder's button): ``period`` is the option's
        current or late period."""
        draft = Draft(village=village, options=[option.to_dict()])
        sent = period == option.period and option.sent
        return self._start_form(draft, option.form_id, period, sent)

    def begin(self, draft: Draft, previous: dict[str, Any], previous_period: str | None) -> Step:
        """Start asking, once the caller has loaded last period's answers."""
        draft.previous = previous
        draft.previous_period = previous_period
        draft.mode = "ask"
        draft.index = 0
        lead = [draft.note] if draft.note else []
        draft.note = ""
        return self._show(draft, lead)

    def resume(self, draft: Draft) -> Step:
        """``/baocao`` with a draft: show where the person stopped, changing nothing."""
        lead = []
        if draft.form and draft.period:
            lead.append(
                _("Bạn đang làm dở {form} kỳ {period}. Tiếp tục từ chỗ đã dừng:").format(
                    form=self._form(draft).title, period=parse_period(draft.period).label()
                )
            )
        return self._show(draft, lead, bump=False)

    def cancel(self, draft: Draft) -> Step:
        """``/huy``: ask before throwing the draft away."""
        if draft.form is None:  # still choosing a form: nothing answered, nothing to lose
            return Step([Reply(_("Đã hủy. Gõ /baocao khi muốn báo cáo."))], None)
        if draft.mode == "confirm_cancel":
            return self._show(draft, [], bump=False)
        draft.resume = draft.mode
        draft.mode = "confirm_cancel"
        return self._show(draft, [])

    def submitted(self, draft: Draft, version: int) -> Step:
        form = self._form(draft)
        assert draft.period is not None
        village = self._village_name(draft.village)
        text = _("Đã nhận {form} của {village}, kỳ {period}.").format(
            form=form.title, village=village, period=parse_period(draft.period).label()
        )
        if version > 1:
            text += " " + _("Đây là phiên bản {version}; các phiên bản trước vẫn được lưu.").format(
                version=version
            )
        text += "\n" + _("Cảm ơn anh/chị!")
        return Step([Reply(text)], None)

    def prompt(self, draft: Draft) -> Reply:
        """The current screen again (after help, or an input that changed nothing)."""
        return self._render(draft)

    # -- one input ----------------------------------------------------------------------

    def handle(self, draft: Draft, inp: Input) -> Step:
        token: str | None = None
        if inp.kind == "choice":
            seq, _sep, token = inp.text.partition(":")
            if not seq.isdigit() or int(seq) != draft.seq:
                return self._show(
                    draft, [_("Nút này thuộc một câu hỏi trước nên không còn dùng được.")], False
                )
        elif inp.kind == "text":
            token = self._match_typed(draft, inp.text)

        handler = getattr(self, f"_on_{draft.mode}")
        return handler(draft, inp, token)

    def _match_typed(self, draft: Draft, text: str) -> str | None:
        """A typed text that means one of the current choices (by label, or by number)."""
        choices = self._choices(draft)
        wanted = normalize_text(text)
        for choice in choices:
            label = normalize_text(choice.label)
            # "Báo cáo tháng (đã gửi kỳ này)" is also chosen by typing "bao cao thang".
            if wanted in (label, label.split(" (", 1)[0]):
                return choice.value.partition(":")[2]
        # The words stay meaningful where the button is not offered, for a specific reply.
        for word, token in ((_("Bỏ qua"), SKIP), (_("Quay lại"), BACK)):
            if wanted == normalize_text(word):
                return token
        if self._choice_only(draft) and wanted.isdigit():
            number = int(wanted)
            if 1 <= number <= len(choices):
                return choices[number - 1].value.partition(":")[2]
        return None

    def expects_photo(self, draft: Draft) -> bool:
        return draft.mode == "ask" and self._question(draft).type == "photo"

    def _choice_only(self, draft: Draft) -> bool:
        """Whether every answer on this screen is a choice (so a bare number picks one)."""
        if draft.mode != "ask":
            return True
        return self._question(draft).type in ("yes_no", "choice")

    # -- menus --------------------------------------------------------------------------

    def _on_pick_form(self, draft: Draft, inp: Input, token: str | None) -> Step:
        if token and token.startswith("f") and token[1:].isdigit():
            index = int(token[1:])
            if 0 <= index < len(draft.options):
                return self._form_chosen(draft, index, [])
        return self._show(draft, [_("Xin chọn một biểu mẫu trong danh sách.")], False)

    def _form_chosen(self, draft: Draft, index: int, lead: list[str]) -> Step:
        option = FormOption(**draft.options[index])
        draft.chosen = index
        if option.late_period and option.period:
            draft.mode = "pick_period"
            return self._show(draft, lead)
        if option.late_period:
            return self._start_form(draft, option.form_id, option.late_period)
        assert option.period is not None
        return self._start_form(draft, option.form_id, option.period, option.sent)

    def _on_pick_period(self, draft: Draft, inp: Input, token: str | None) -> Step:
        assert draft.chosen is not None
        option = FormOption(**draft.options[draft.chosen])
        if token == "late" and option.late_period:
            return self._start_form(draft, option.form_id, option.late_period)
        if token == "current" and option.period:
            return self._start_form(draft, option.form_id, option.period, option.sent)
        if token == BACK and len(draft.options) > 1:
            draft.mode = "pick_form"
            return self._show(draft, [])
        return self._show(draft, [_("Xin chọn kỳ báo cáo.")], False)

    def _start_form(self, draft: Draft, form_id: str, period: str, sent: bool = False) -> Step:
        if sent:
            draft.note = _(
                "Kỳ {period} đã gửi rồi; gửi lần nữa sẽ tạo phiên bản mới, bản cũ vẫn được lưu."
            ).format(period=parse_period(period).label())
        draft.form = form_id
        draft.period = period
        draft.options = []
        draft.chosen = None
        draft.mode = "ask"
        draft.index = 0
        draft.seq += 1
        return Step([], draft, Begin(form_id, period, draft.village))

    # -- questions ----------------------------------------------------------------------

    def _on_ask(self, draft: Draft, inp: Input, token: str | None) -> Step:
        question = self._question(draft)
        if token == BACK:
            return self._back(draft)
        if token == SKIP:
            if not question.optional:
                return self._show(draft, [_("Câu này không bỏ qua được.")], False)
            return self._store(draft, question, None, [])
        if token == YES and question.type == "yes_no":
            return self._store(draft, question, True, [])
        if token == NO and question.type == "yes_no":
            return self._store(draft, question, False, [])
        if token and token.startswith("c") and token[1:].isdigit() and question.type == "choice":
            index = int(token[1:])
            if 0 <= index < len(question.choices):
                return self._store(draft, question, question.choices[index], [])
        if inp.kind == "choice":
            return self._show(draft, [_("Lựa chọn này không dùng được ở câu hỏi này.")], False)

        if inp.kind == "photo":
            if question.type != "photo":
                return self._show(draft, [self._photo_not_expected(question)], False)
            problem = photo_problem(inp)
            if problem is not None:
                return self._show(draft, [problem], False)
            return self._store(draft, question, {"file_id": inp.file_id}, [])
        if inp.kind == "other":
            return self._show(
                draft,
                [_("Xin lỗi, tôi chưa đọc được loại tin nhắn này."), self._hint(question)],
                False,
            )

        text = inp.text.strip()
        if question.type == "photo":
            return self._show(draft, [_("Câu này cần một tấm ảnh: xin gửi ảnh.")], False)
        if question.type in ("yes_no", "choice"):
            return self._show(draft, [self._choose_hint(draft)], False)
        if not text:
            return self._show(draft, [_("Xin gõ câu trả lời.")], False)
        if question.type == "text":
            if len(text) > TEXT_LIMIT:
                return self._show(
                    draft,
                    [
                        _(
                            "Câu trả lời dài quá: tối đa {limit} ký tự, bạn đã gửi {count} ký tự."
                        ).format(limit=format_number(TEXT_LIMIT), count=format_number(len(text)))
                    ],
                    False,
                )
            return self._store(draft, question, text, [])
        return self._number(draft, question, text)

    def _number(self, draft: Draft, question: Question, text: str) -> Step:
        kind: Literal["integer", "decimal"] = "integer" if question.type == "integer" else "decimal"
        allow_negative = question.min is not None and question.min < 0
        parsed = parse_number(text, kind, allow_negative=allow_negative)
        if isinstance(parsed, Ambiguous):
            draft.mode = "ambiguous"
            draft.pending = [str(v) for v in parsed.options]
            draft.typed = text[:40]
            return self._show(draft, [])
        if isinstance(parsed, Invalid):
            return self._show(draft, [self._invalid(question, parsed.reason)], False)
        assert isinstance(parsed, Parsed)
        return self._check_number(draft, question, parsed.value)

    def _check_number(self, draft: Draft, question: Question, value: Decimal) -> Step:
        problem = self._number_problem(draft, question, value)
        if problem:
            draft.mode = "ask"
            return self._show(draft, [problem])
        before = stored_number(draft.previous.get(question.id))
        if (
            before is not None
            and before > 0
            and abs(value - before) > before * FAR_FROM_PREVIOUS
            and draft.mode != "confirm_far"
        ):
            draft.mode = "confirm_far"
            draft.pending = [str(value)]
            return self._show(draft, [])
        return self._store(draft, question, _plain(value), [])

    def _number_problem(self, draft: Draft, question: Question, value: Decimal) -> str | None:
        if question.type == "integer" and value != value.to_integral_value():
            return self._invalid(question, "not_integer")
        if value < 0 and not (question.min is not None and question.min < 0):
            return self._invalid(question, "negative")
        if question.min is not None and value < question.min:
            return _("Giá trị phải từ {min} trở lên.").format(
                min=self._show_value(question, _plain(question.min))
            )
        if question.max is not None and value > question.max:
            return _("Giá trị không được quá {max}.").format(
                max=self._show_value(question, _plain(question.max))
            )
        if question.at_most:
            other_value = stored_number(draft.answers.get(question.at_most))
            if other_value is not None and value > other_value:
                other = self._form(draft).question(question.at_most)
                return _("{value} lớn hơn “{other}” ({other_value}): không thể như vậy.").format(
                    value=self._show_value(question, _plain(value)),
                    other=other.label,
                    other_value=self._show_value(other, _plain(other_value)),
                )
        return None

    def _invalid(self, question: Question, reason: str) -> str:
        example = "412" if question.type == "integer" else "12,5"
        if reason == "negative":
            return _("Số không được âm.")
        if reason == "not_integer":
            return _("Câu này cần một số nguyên, ví dụ 412.")
        if reason == "empty":
            return _("Xin gõ câu trả lời.")
        return _("Tôi chưa hiểu đây là số nào. Xin gõ một con số, ví dụ {example}.").format(
            example=example
        )

    def _on_ambiguous(self, draft: Draft, inp: Input, token: str | None) -> Step:
        question = self._question(draft)
        if token and token.startswith("a") and token[1:].isdigit():
            index = int(token[1:])
            if 0 <= index < len(draft.pending):
                value = Decimal(draft.pending[index])
                self._to_question(draft)
                return self._check_number(draft, question, value)
        return self._pending_fallback(draft, inp, token, _("Xin chọn một trong hai số."))

    def _pending_fallback(self, draft: Draft, inp: Input, token: str | None, hint: str) -> Step:
        """On a confirmation screen: back re-asks the question, a new text is a new answer."""
        if token in (RETYPE, BACK):
            self._to_question(draft)
            return self._show(draft, [])
        if inp.kind == "text" and inp.text.strip():
            self._to_question(draft)
            return self._on_ask(draft, inp, None)
        return self._show(draft, [hint], False)

    @staticmethod
    def _to_question(draft: Draft) -> None:
        draft.mode = "ask"
        draft.pending = []

    def _on_confirm_far(self, draft: Draft, inp: Input, token: str | None) -> Step:
        question = self._question(draft)
        if token == KEEP and draft.pending:
            value = Decimal(draft.pending[0])
            self._to_question(draft)
            return self._store(draft, question, _plain(value), [])
        return self._pending_fallback(draft, inp, token, _("Xin xác nhận hoặc nhập lại."))

    def _store(self, draft: Draft, question: Question, value: Any, lead: list[str]) -> Step:
        draft.answers[question.id] = value
        self._to_question(draft)
        if question.numeric and value is not None:
            lead = [*lead, _("Đã ghi: {value}.").format(value=self._show_value(question, value))]
        form = self._form(draft)
        if draft.editing or draft.index + 1 >= len(form.questions):
            draft.editing = False
            draft.mode = "summary"
        else:
            draft.index += 1
        return self._show(draft, lead)

    def _back(self, draft: Draft) -> Step:
        if draft.editing:
            draft.editing = False
            draft.mode = "summary"
        elif draft.index == 0:
            return self._show(draft, [_("Đây là câu hỏi đầu tiên.")], False)
        else:
            draft.index -= 1
            draft.mode = "ask"
        return self._show(draft, [])

    # -- summary, edit, send, cancel ------------------------------------------------------

    def _on_summary(self, draft: Draft, inp: Input, token: str | None) -> Step:
        if token == SEND:
            return self._send(draft)
        if token == EDIT:
            draft.mode = "edit_pick"
            return self._show(draft, [])
        if token == CANCEL:
            return self.cancel(draft)
        if token == BACK:
            draft.mode = "ask"
            draft.index = len(self._form(draft).questions) - 1
            return self._show(draft, [])
        return self._show(draft, [_("Xin chọn Gửi, Sửa hoặc Hủy.")], False)

    def _on_edit_pick(self, draft: Draft, inp: Input, token: str | None) -> Step:
        questions = self._form(draft).questions
        if token and token.startswith("e") and token[1:].isdigit():
            index = int(token[1:])
            if 0 <= index < len(questions):
                draft.index = index
                draft.editing = True
                draft.mode = "ask"
                return self._show(draft, [])
        if token == BACK:
            draft.mode = "summary"
            return self._show(draft, [])
        return self._show(draft, [_("Xin chọn câu muốn sửa.")], False)

    def _send(self, draft: Draft) -> Step:
        form = self._form(draft)
        for index, question in enumerate(form.questions):
            problem: str | None
            if question.id not in draft.answers:
                problem = _("Câu này chưa có câu trả lời.")
            elif question.numeric and draft.answers[question.id] is not None:
                value = Decimal(str(draft.answers[question.id]))
                problem = self._number_problem(draft, question, value)
            else:
                problem = None
            if problem:
                draft.index = index
                draft.editing = True
                draft.mode = "ask"
                return self._show(draft, [_("Chưa gửi được.") + " " + problem])
        assert draft.period is not None
        answers = {q.id: draft.answers.get(q.id) for q in form.questions}
        return Step([], draft, Submit(form.id, draft.period, draft.village, answers))

    def _on_confirm_cancel(self, draft: Draft, inp: Input, token: str | None) -> Step:
        if token == YES:
            return Step([Reply(_("Đã bỏ bản nháp. Gõ /baocao khi muốn báo cáo lại."))], None)
        if token == NO:
            draft.mode = draft.resume or "ask"
            draft.resume = None
            return self._show(draft, [])
        return self._show(draft, [_("Xin chọn Có hoặc Không.")], False)

    # -- rendering ----------------------------------------------------------------------

    def _show(self, draft: Draft, lead: list[str], bump: bool = True) -> Step:
        if bump:
            draft.seq += 1
        reply = self._render(draft)
        text = "\n\n".join([*lead, reply.text]) if lead else reply.text
        return Step([Reply(text, reply.choices, reply.typed_answer)], draft)

    def _render(self, draft: Draft) -> Reply:
        typed = draft.mode == "ask" and not self._choice_only(draft)
        return Reply(self._screen_text(draft), tuple(self._choices(draft)), typed_answer=typed)

    def _choice(self, draft: Draft, label: str, token: str) -> Choice:
        return Choice(label, f"{draft.seq}:{token}")

    def _choices(self, draft: Draft) -> list[Choice]:
        c = self._choice
        mode = draft.mode
        if mode == "pick_form":
            return [c(draft, self._option_label(o), f"f{i}") for i, o in enumerate(draft.options)]
        if mode == "pick_period":
            assert draft.chosen is not None
            option = FormOption(**draft.options[draft.chosen])
            assert option.late_period and option.period
            result = [
                c(
                    draft,
                    _("Kỳ {period} (trễ hạn)").format(
                        period=parse_period(option.late_period).label()
                    ),
                    "late",
                ),
                c(
                    draft,
                    (_("Kỳ {period} (đã gửi)") if option.sent else _("Kỳ {period}")).format(
                        period=parse_period(option.period).label()
                    ),
                    "current",
                ),
            ]
            if len(draft.options) > 1:
                result.append(c(draft, _("Quay lại"), BACK))
            return result
        if mode == "ask":
            question = self._question(draft)
            result = []
            if question.type == "yes_no":
                result += [c(draft, _("Có"), YES), c(draft, _("Không"), NO)]
            elif question.type == "choice":
                result += [c(draft, text, f"c{i}") for i, text in enumerate(question.choices)]
            if question.optional:
                result.append(c(draft, _("Bỏ qua"), SKIP))
            if draft.index > 0 or draft.editing:
                result.append(c(draft, _("Quay lại"), BACK))
            return result
        if mode == "ambiguous":
            question = self._question(draft)
            return [
                c(draft, self._show_value(question, value), f"a{i}")
                for i, value in enumerate(draft.pending)
            ] + [c(draft, _("Quay lại"), BACK)]
        if mode == "confirm_far":
            question = self._question(draft)
            return [
                c(
                    draft,
                    _("Đúng, giữ {value}").format(
                        value=self._show_value(question, draft.pending[0])
                    ),
                    KEEP,
                ),
                c(draft, _("Nhập lại"), RETYPE),
            ]
        if mode == "summary":
            return [c(draft, _("Gửi"), SEND), c(draft, _("Sửa"), EDIT), c(draft, _("Hủy"), CANCEL)]
        if mode == "edit_pick":
            questions = self._form(draft).questions
            return [c(draft, q.label, f"e{i}") for i, q in enumerate(questions)] + [
                c(draft, _("Quay lại"), BACK)
            ]
        if mode == "confirm_cancel":
            return [c(draft, _("Có, bỏ bản nháp"), YES), c(draft, _("Không, làm tiếp"), NO)]
        return []

    def _option_label(self, option: dict[str, Any]) -> str:
        opt = FormOption(**option)
        title = self.plan.form(opt.form_id).title
        if opt.sent:
            return _("{form} (đã gửi kỳ này)").format(form=title)
        if opt.late_period:
            return _("{form} (còn thiếu kỳ trước)").format(form=title)
        return title

    def _screen_text(self, draft: Draft) -> str:
        mode = draft.mode
        if mode == "pick_form":
            return _("Bạn muốn gửi báo cáo nào?")
        if mode == "pick_period":
            assert draft.chosen is not None
            option = FormOption(**draft.options[draft.chosen])
            assert option.late_period
            return _(
                "{form} kỳ {late} chưa được gửi và đã quá hạn. Nên gửi kỳ đó trước. "
                "Bạn muốn báo cáo kỳ nào?"
            ).format(
                form=self.plan.form(option.form_id).title,
                late=parse_period(option.late_period).label(),
            )
        if mode == "confirm_cancel":
            return _("Bỏ bản nháp {form} kỳ {period}? Các câu đã trả lời sẽ mất.").format(
                form=self._form(draft).title, period=self._period_label(draft)
            )
        if mode == "summary":
            return self._summary(draft)
        if mode == "edit_pick":
            return _("Bạn muốn sửa câu nào?")
        question = self._question(draft)
        if mode == "ambiguous":
            return _("Bạn gõ “{typed}”. Ý bạn là số nào?").format(typed=draft.typed)
        if mode == "confirm_far":
            before = draft.previous.get(question.id)
            return _(
                "{value} khác nhiều so với kỳ trước ({before}). Bạn chắc chắn số này đúng chứ?"
            ).format(
                value=self._show_value(question, draft.pending[0]),
                before=self._show_value(question, before),
            )
        return self._question_text(draft, question)

    def _question_text(self, draft: Draft, question: Question) -> str:
        form = self._form(draft)
        lines = [
            _("Câu {n}/{total} · {form} · kỳ {period}").format(
                n=draft.index + 1,
                total=len(form.questions),
                form=form.title,
                period=self._period_label(draft),
            ),
            question.ask,
        ]
        if question.unit:
            lines.append(_("(đơn vị: {unit})").format(unit=question.unit))
        if draft.editing and question.id in draft.answers:
            lines.append(
                _("Hiện tại: {value}").format(
                    value=self._show_value(question, draft.answers[question.id])
                )
            )
        elif draft.previous.get(question.id) is not None and question.type != "photo":
            lines.append(
                _("Kỳ trước: {value}").format(
                    value=self._show_value(question, draft.previous[question.id])
                )
            )
        if question.type == "text":
            lines.append(_("(tối đa {limit} ký tự)").format(limit=format_number(TEXT_LIMIT)))
        return "\n".join(lines)

    def _summary(self, draft: Draft) -> str:
        form = self._form(draft)
        lines = [
            _("Tóm tắt {form} của {village}, kỳ {period}:").format(
                form=form.title,
                village=self._village_name(draft.village),
                period=self._period_label(draft),
            )
        ]
        for index, question in enumerate(form.questions, start=1):
            value = draft.answers.get(question.id)
            lines.append(f"{index}. {question.label}: {self._show_value(question, value)}")
        lines.append("")
        lines.append(_("Bấm Gửi để gửi báo cáo, hoặc Sửa để đổi một câu trả lời."))
        return "\n".join(lines)

    def _hint(self, question: Question) -> str:
        if question.type == "photo":
            return _("Câu này cần một tấm ảnh.")
        if question.type in ("yes_no", "choice"):
            return _("Xin chọn một câu trả lời.")
        if question.numeric:
            return _("Xin gõ một con số.")
        return _("Xin gõ câu trả lời bằng chữ.")

    def _photo_not_expected(self, question: Question) -> str:
        if question.numeric:
            return _("Câu này cần một con số, không phải ảnh. Xin gõ số.")
        return _("Câu này không cần ảnh.") + " " + self._hint(question)

    def _choose_hint(self, draft: Draft) -> str:
        labels = [choice.label for choice in self._choices(draft)]
        return _("Xin chọn một trong các câu trả lời: {choices}.").format(choices=", ".join(labels))

    def _show_value(self, question: Question, value: Any) -> str:
        if value is None:
            return _("(bỏ qua)")
        if question.numeric:
            text = format_number(Decimal(str(value)))
            return f"{text} {question.unit}" if question.unit else text
        if question.type == "yes_no":
            return _("Có") if value else _("Không")
        if question.type == "photo":
            return _("(đã có ảnh)")
        text = str(value)
        return text if len(text) <= 120 else text[:119] + "…"

    # -- lookups --------------------------------------------------------------------------

    def _form(self, draft: Draft) -> Form:
        assert draft.form is not None
        return self.plan.form(draft.form)

    def _question(self, draft: Draft) -> Question:
        return self._form(draft).questions[draft.index]

    def _period_label(self, draft: Draft) -> str:
        assert draft.period is not None
        return parse_period(draft.period).label()

    def _village_name(self, village_id: str) -> str:
        village = self.plan.village(village_id)
        return village.name if village else village_id


def megabytes(size: int) -> str:
    return _("{size} MB").format(size=format_number(round(size / 1024 / 1024, 1)))


def photo_problem(inp: Input) -> str | None:
    """Why a photo cannot be taken (too large, or not fetched), or None."""
    if inp.size is not None and inp.size > MAX_FILE_BYTES:
        return _("Ảnh này lớn quá ({size}); tối đa {limit}. Xin gửi ảnh nhỏ hơn.").format(
            size=megabytes(inp.size), limit=megabytes(MAX_FILE_BYTES)
        )
    if not inp.file_id:
        return _("Không tải được ảnh này, xin gửi lại.")
    return None


def _plain(value: Decimal) -> str:
    """A number as stored: plain machine form, no exponent (``1500000``, ``12.5``)."""
    if value == value.to_integral_value():
        return str(value.quantize(Decimal(1)))
    return format(value.normalize(), "f")
