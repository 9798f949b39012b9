"""The report conversation as a pure state machine.

``FormEngine`` takes the plan, the saved ``Draft`` and one ``Input`` and returns a
``Step``: the replies to show, the draft to save (or ``None`` when the
conversation is over) and, when it needs the outside world, an ``effect`` that
the caller carries out and feeds back (load last period's answers, store the
report). It knows no channel and no database, so every rule here is tested
without either.

A saved draft may outlive the plan it was started under: ``FormEngine.reconcile`` fits
it to the current plan (dropping what no longer exists or fits, moving to a question
that does) and says what changed, before any other entry point sees it.
"""

from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass, field, fields
from decimal import Decimal
from typing import Any, Literal

from bot.i18n import _, format_number
from bot.messages import MAX_FILE_BYTES, Choice, Reply
from bot.plan.model import Form, Plan, Question
from bot.plan.periods import parse_period
from bot.reports.numbers import (
    MAX_DIGITS,
    MAX_NUMBER,
    Ambiguous,
    Invalid,
    Parsed,
    limit_problem,
    parse_number,
    stored_number,
)
from bot.text import clean_text, normalize_text

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
# Screens about the question at ``Draft.index``.
QUESTION_MODES: tuple[Mode, ...] = ("ask", "ambiguous", "confirm_far")
# Screens of a started form that ``confirm_cancel`` may go back to.
FORM_MODES: tuple[Mode, ...] = (*QUESTION_MODES, "summary", "edit_pick")
MENU_SIZE_DIGITS = 4  # a typed menu number has at most this many digits
TOKEN_DIGITS = 9  # a step number or an index in button data has at most this many digits


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
    title: str | None = None  # the form's title when offered (to name it once it is gone)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FormOption:
        """An option as saved in a draft; keys it does not know are ignored."""
        return cls(**{k: v for k, v in data.items() if k in _OPTION_FIELDS})


_OPTION_FIELDS = frozenset(f.name for f in fields(FormOption))


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
    # Added later; drafts saved before them load with the defaults.
    form_title: str | None = None  # the form's title when it started
    question: str | None = None  # the id of the question at ``index`` when last shown
    shape: int | None = None  # what the last screen's buttons meant (``_question_shape``…)
    labels: dict[str, str] = field(default_factory=dict)  # question id -> label, when answered

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready snapshot (copies of the mutable parts, not shared with the draft)."""
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["answers"] = dict(self.answers)
        data["previous"] = dict(self.previous)
        data["pending"] = list(self.pending)
        data["options"] = [dict(o) for o in self.options]
        data["labels"] = dict(self.labels)
        data["flow"] = "report"
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Draft:
        """A saved draft; keys it does not know are ignored, missing ones take defaults."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def copy(self) -> Draft:
        """An independent copy (nothing mutable shared)."""
        return Draft.from_dict(self.to_dict())

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
        draft = Draft(village=village, options=[self._option_dict(o) for o in usable])
        if len(usable) == 1:
            return self._form_chosen(draft, 0, [])
        draft.mode = "pick_form"
        return self._show(draft, [])

    def open_form(self, village: str, option: FormOption, period: str) -> Step:
        """Start one form's period at once (a reminder's button): ``period`` is the option's
        current or late period."""
        draft = Draft(village=village, options=[self._option_dict(option)])
        sent = period == option.period and option.sent
        return self._start_form(draft, option.form_id, period, sent)

    def begin(self, draft: Draft, previous: dict[str, Any], previous_period: str | None) -> Step:
        """Start asking, once the caller has loaded last period's answers (those that no
        longer fit their question, after a change of the plan, are not shown)."""
        form = self._form(draft)
        draft.previous = self._usable_previous(form, previous)
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

    # -- a plan edited under a saved draft ------------------------------------------------

    def reconcile(self, draft: Draft) -> tuple[Draft | None, list[str]]:
        """Fit a saved draft to the current plan, which may have changed since it was saved.

        Returns the draft to go on with and what changed, as sentences to show before the
        screen. When nothing needs to change (the common case, checked cheaply on every
        message) it is ``(draft, [])``, the same object. ``(None, notes)``: the draft
        cannot go on — its form, its village or its form's kind of period is gone — and
        is to be deleted. Otherwise a new draft: answers to questions that are gone, or
        that no longer fit their question (a choice no longer offered, another type, a
        number out of the question's bounds or beyond the limits of every number, an
        optional question now required), are dropped; the person goes on from the
        question they were on, wherever it now is, else from the first one unanswered
        (the summary when all are answered); a screen whose buttons meant something else
        (other choices, other forms, another list of questions) becomes a safe one and
        the step number moves on, so its old buttons no longer work. Last period's
        answers that no longer fit are dropped without a note (they are only hints).
        Whenever there are notes the screen is new to the person: show the notes and
        ``prompt`` rather than apply the message that came with it.
        """
        if draft.form is None:
            return self._reconcile_menu(draft)
        form = self._find_form(draft.form)
        if form is None:
            note = _(
                "Biểu mẫu “{form}” không còn trong kế hoạch nên bản nháp đã được bỏ. "
                "Gõ /baocao để xem các báo cáo đang mở."
            ).format(form=draft.form_title or draft.form)
            return None, [note]
        if not _period_fits(form, draft.period):
            note = _(
                "Biểu mẫu “{form}” nay báo cáo theo kỳ khác nên bản nháp kỳ {period} đã "
                "được bỏ. Gõ /baocao để bắt đầu lại."
            ).format(form=form.title, period=draft.period)
            return None, [note]
        if self.plan.village(draft.village) is None:
            note = _(
                "Thôn “{village}” không còn trong kế hoạch nên bản nháp đã được bỏ. "
                "Xin liên hệ cán bộ xã."
            ).format(village=draft.village)
            return None, [note]

        questions = form.questions
        where = {q.id: i for i, q in enumerate(questions)}
        notes: list[str] = []
        answers: dict[str, Any] = {}
        dropped: set[str] = set()  # answered questions whose answer is dropped
        for question_id, value in draft.answers.items():
            index = where.get(question_id)
            if index is None:
                label = draft.labels.get(question_id, question_id)
                notes.append(
                    _(
                        "Câu “{question}” không còn trong biểu mẫu nên câu trả lời đã được bỏ."
                    ).format(question=label)
                )
            elif self._answer_fits(questions[index], value):
                answers[question_id] = value
                continue
            else:
                notes.append(
                    _(
                        "Câu “{question}” đã được sửa trong kế hoạch nên câu trả lời trước đó "
                        "đã được bỏ; xin trả lời lại."
                    ).format(question=questions[index].label)
                )
            dropped.add(question_id)

        new = draft.copy()
        new.answers = answers
        new.labels = {k: v for k, v in draft.labels.items() if k in answers}
        new.previous = self._usable_previous(form, draft.previous)
        inner = (draft.resume or "ask") if draft.mode == "confirm_cancel" else draft.mode
        new.mode = inner if inner in FORM_MODES else "ask"
        if inner not in FORM_MODES:  # a mode this version does not know
            self._to_first_unanswered(new, form)
        elif inner in QUESTION_MODES:
            self._reconcile_question(draft, new, form, where, dropped, notes)
        else:
            unanswered = any(q.id not in answers for q in questions)
            moved = draft.shape is not None and draft.shape != _form_shape(form)
            if unanswered:
                self._to_first_unanswered(new, form)
            elif moved or (inner == "edit_pick" and notes):
                new.mode = "summary"
        if new.mode not in ("ambiguous", "confirm_far"):
            new.pending = []
        if draft.mode == "confirm_cancel":
            new.resume, new.mode = new.mode, "confirm_cancel"

        self._remember_screen(new)
        if self._screen_key(draft, form) != self._screen_key(new, form) and not notes:
            notes.append(
                _("Biểu mẫu “{form}” vừa được sửa trong kế hoạch.").format(form=form.title)
            )
        if notes:
            new.seq += 1
        if not notes and new == draft:
            return draft, []
        return new, notes

    def _reconcile_question(
        self,
        draft: Draft,
        new: Draft,
        form: Form,
        where: dict[str, int],
        dropped: set[str],
        notes: list[str],
    ) -> None:
        """``reconcile`` for a draft on a question's screen (``ask``, ``ambiguous``,
        ``confirm_far``): find that question, else go to the first one unanswered."""
        questions = form.questions
        here: int | None
        if draft.question is not None:
            here = where.get(draft.question)
        else:  # saved before drafts named their question: the index, unless questions went
            in_range = 0 <= draft.index < len(questions)
            here = draft.index if in_range and not dropped else None
        if here is None:
            if draft.question is not None and draft.question not in dropped:
                notes.append(_("Câu hỏi bạn đang trả lời không còn trong biểu mẫu."))
            self._to_first_unanswered(new, form)
            return
        new.index = here
        question = questions[here]
        changed = draft.shape is not None and draft.shape != _question_shape(question)
        if changed and question.id not in dropped:
            notes.append(
                _("Câu “{question}” vừa được sửa trong kế hoạch.").format(question=question.label)
            )
        pending_ok = (
            question.numeric
            and bool(draft.pending)
            and all(_answer_number(v) is not None for v in draft.pending)
        )
        if changed or (new.mode != "ask" and not pending_ok):
            new.mode = "ask"
            new.pending = []

    def _reconcile_menu(self, draft: Draft) -> tuple[Draft | None, list[str]]:
        """``reconcile`` before a form is chosen: the options whose form is gone, or now has
        another kind of period, leave the menu."""
        kept: list[dict[str, Any]] = []
        moved: dict[int, int] = {}  # old option index -> new
        notes: list[str] = []
        for index, data in enumerate(draft.options):
            option = FormOption.from_dict(data)
            form = self._find_form(option.form_id)
            if form is None:
                notes.append(
                    _("Biểu mẫu “{form}” không còn trong kế hoạch.").format(
                        form=option.title or option.form_id
                    )
                )
                continue
            periods = [p for p in (option.period, option.late_period) if p is not None]
            if not periods or not all(_period_fits(form, p) for p in periods):
                notes.append(
                    _("Biểu mẫu “{form}” nay báo cáo theo kỳ khác.").format(form=form.title)
                )
                continue
            moved[index] = len(kept)
            kept.append(data)
        menu = draft.mode == "pick_form" or (draft.mode == "pick_period" and draft.chosen in moved)
        if not notes and menu:
            return draft, []
        if not kept:
            return None, [*notes, _("Gõ /baocao để xem các báo cáo đang mở.")]
        new = draft.copy()
        new.options = kept
        if draft.mode == "pick_period" and draft.chosen in moved:
            new.chosen = moved[draft.chosen]
        else:
            new.mode, new.chosen = "pick_form", None
        new.seq += 1
        return new, notes or [_("Danh sách biểu mẫu vừa được sửa trong kế hoạch.")]

    def _answer_fits(self, question: Question, value: Any) -> bool:
        """Whether a saved answer is still a possible answer to ``question`` (``at_most``,
        which depends on the other answers, is left to sending)."""
        if value is None:
            return question.optional
        if question.numeric:
            number = _answer_number(value)
            return number is not None and self._static_number_problem(question, number) is None
        if question.type == "choice":
            return value in question.choices
        if question.type == "text":
            return isinstance(value, str) and 0 < len(value) <= TEXT_LIMIT
        return _kind_fits(question, value)

    @staticmethod
    def _usable_previous(form: Form, previous: dict[str, Any]) -> dict[str, Any]:
        """Last period's answers that can still be shown as hints (``previous`` itself when
        all can)."""
        where = {q.id: q for q in form.questions}
        usable = {
            k: v
            for k, v in previous.items()
            if k in where and (v is None or _kind_fits(where[k], v))
        }
        return previous if len(usable) == len(previous) else usable

    def _screen_key(self, draft: Draft, form: Form) -> tuple[Any, ...]:
        """What the person sees of a draft of ``form``: the mode (and the one to go back to)
        and, on a question's screen, which question."""
        mode = draft.resume if draft.mode == "confirm_cancel" else draft.mode
        question: str | None = None
        if mode in QUESTION_MODES:
            if draft.question is not None:
                question = draft.question
            elif 0 <= draft.index < len(form.questions):
                question = form.questions[draft.index].id
        return (draft.mode, mode, question)

    def _remember_screen(self, draft: Draft) -> None:
        """Note in the draft which question it is on and what its buttons mean, for
        ``reconcile`` to tell after a change of the plan."""
        form = self._find_form(draft.form)
        if form is None:
            draft.question = draft.shape = None
            return
        mode = draft.resume if draft.mode == "confirm_cancel" else draft.mode
        in_range = 0 <= draft.index < len(form.questions)
        draft.question = form.questions[draft.index].id if in_range else None
        if mode in QUESTION_MODES and in_range:
            draft.shape = _question_shape(form.questions[draft.index])
        elif mode in ("summary", "edit_pick"):
            draft.shape = _form_shape(form)
        else:
            draft.shape = None

    # -- one input ----------------------------------------------------------------------

    def handle(self, draft: Draft, inp: Input) -> Step:
        token: str | None = None
        if inp.kind == "choice":
            seq, _sep, token = inp.text.partition(":")
            if token_number(seq) != draft.seq:
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
        number = menu_number(wanted) if self._choice_only(draft) else None
        if number is not None and 1 <= number <= len(choices):
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
        index = indexed(token, "f")
        if index is not None and index < len(draft.options):
            return self._form_chosen(draft, index, [])
        return self._show(draft, [_("Xin chọn một biểu mẫu trong danh sách.")], False)

    def _form_chosen(self, draft: Draft, index: int, lead: list[str]) -> Step:
        option = FormOption.from_dict(draft.options[index])
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
        option = FormOption.from_dict(draft.options[draft.chosen])
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
        draft.form_title = self._form_title(form_id)
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
        index = indexed(token, "c")
        if index is not None and index < len(question.choices) and question.type == "choice":
            return self._store(draft, question, question.choices[index], [])
        if inp.kind == "choice":
            return self._show(draft, [_("Lựa chọn này không dùng được ở câu hỏi này.")], False)

        if inp.kind == "photo":
            if question.type != "photo":
                return self._show(draft, [self._photo_not_expected(question)], False)
            problem = photo_problem(inp)
            if problem is not None:
                return self._show(draft, [problem], False)
            return self._store(draft, question, photo_answer(inp), [])
        if inp.kind == "other":
            return self._show(
                draft,
                [_("Xin lỗi, tôi chưa đọc được loại tin nhắn này."), self._hint(question)],
                False,
            )

        # a text is kept as typed, less control characters (``clean_text``)
        text = clean_text(inp.text) if question.type == "text" else inp.text.strip()
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
            negative = text[:1] in "-\u2212\u2013"
            return self._show(draft, [self._invalid(question, parsed.reason, negative)], False)
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
        """Why ``value`` cannot be this question's answer (the limits of every number, the
        question's bounds, ``at_most``), or None."""
        problem = self._static_number_problem(question, value)
        if problem is not None or not question.at_most:
            return problem
        other_value = stored_number(draft.answers.get(question.at_most))
        if other_value is not None and other_value.is_finite() and value > other_value:
            other = self._form(draft).question(question.at_most)
            return _("{value} lớn hơn “{other}” ({other_value}): không thể như vậy.").format(
                value=self._show_value(question, _plain(value)),
                other=other.label,
                other_value=self._show_value(other, _plain(other_value)),
            )
        return None

    def _static_number_problem(self, question: Question, value: Decimal) -> str | None:
        """What ``_number_problem`` says without looking at other answers."""
        if not value.is_finite():
            return self._invalid(question, "not_a_number")
        if question.type == "integer" and value != value.to_integral_value():
            return self._invalid(question, "not_integer")
        if value < 0 and not (question.min is not None and question.min < 0):
            return self._invalid(question, "negative")
        limit = limit_problem(value)
        if limit is not None:
            return self._invalid(question, limit, value < 0)
        if question.min is not None and value < question.min:
            return _("Giá trị phải từ {min} trở lên.").format(
                min=self._show_value(question, _plain(question.min))
            )
        if question.max is not None and value > question.max:
            return _("Giá trị không được quá {max}.").format(
                max=self._show_value(question, _plain(question.max))
            )
        return None

    def _invalid(self, question: Question, reason: str, negative: bool = False) -> str:
        """What to say about a number refused for ``reason`` (a ``parse_number`` reason);
        ``negative``: the refused number was below zero."""
        example = "412" if question.type == "integer" else "12,5"
        if reason == "too_long":
            return _("Số này dài quá: tối đa {digits} chữ số.").format(digits=MAX_DIGITS)
        if reason == "too_large":
            # the question's own bound when it is the tighter one
            if negative and question.min is not None and question.min >= -MAX_NUMBER:
                return _("Giá trị phải từ {min} trở lên.").format(
                    min=self._show_value(question, _plain(question.min))
                )
            if not negative and question.max is not None and question.max <= MAX_NUMBER:
                return _("Giá trị không được quá {max}.").format(
                    max=self._show_value(question, _plain(question.max))
                )
            if negative:
                return _("Số này nhỏ quá: ít nhất {min}.").format(
                    min=self._show_value(question, _plain(-MAX_NUMBER))
                )
            return _("Số này lớn quá: tối đa {max}.").format(
                max=self._show_value(question, _plain(MAX_NUMBER))
            )
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
        index = indexed(token, "a")
        if index is not None and index < len(draft.pending):
            value = stored_number(draft.pending[index])
            self._to_question(draft)
            if value is None:
                return self._show(draft, [])
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
            value = stored_number(draft.pending[0])
            self._to_question(draft)
            if value is None:
                return self._show(draft, [])
            # checked when typed, and again: a draft may be older than the checks
            problem = self._number_problem(draft, question, value)
            if problem:
                return self._show(draft, [problem])
            return self._store(draft, question, _plain(value), [])
        return self._pending_fallback(draft, inp, token, _("Xin xác nhận hoặc nhập lại."))

    def _store(self, draft: Draft, question: Question, value: Any, lead: list[str]) -> Step:
        """Keep the answer, then the next question; after an edit or the last question, the
        first one still unanswered (after a change of the plan), else the summary."""
        draft.answers[question.id] = value
        draft.labels[question.id] = question.label
        self._to_question(draft)
        if question.numeric and value is not None:
            lead = [*lead, _("Đã ghi: {value}.").format(value=self._show_value(question, value))]
        form = self._form(draft)
        if draft.editing or draft.index + 1 >= len(form.questions):
            self._to_first_unanswered(draft, form)
        else:
            draft.index += 1
        return self._show(draft, lead)

    @staticmethod
    def _to_first_unanswered(draft: Draft, form: Form) -> None:
        """Go to the first question without an answer, as an edit (back to the summary after
        it) when later ones are answered; the summary when every one is."""
        for index, question in enumerate(form.questions):
            if question.id not in draft.answers:
                draft.index = index
                draft.mode = "ask"
                draft.editing = any(q.id in draft.answers for q in form.questions[index + 1 :])
                return
        draft.editing = False
        draft.mode = "summary"

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
        index = indexed(token, "e")
        if index is not None and index < len(questions):
            draft.index = index
            draft.editing = True
            draft.mode = "ask"
            return self._show(draft, [])
        if token == BACK:
            draft.mode = "summary"
            return self._show(draft, [])
        return self._show(draft, [_("Xin chọn câu muốn sửa.")], False)

    def _send(self, draft: Draft) -> Step:
        """Check every answer again (an edit may break ``at_most``; a draft may be older than
        the plan or the limits) and send, or go to the first one with a problem."""
        form = self._form(draft)
        for index, question in enumerate(form.questions):
            problem = self._answer_problem(draft, question)
            if problem:
                draft.index = index
                draft.editing = True
                draft.mode = "ask"
                return self._show(draft, [_("Chưa gửi được.") + " " + problem])
        assert draft.period is not None
        answers = {q.id: draft.answers.get(q.id) for q in form.questions}
        return Step([], draft, Submit(form.id, draft.period, draft.village, answers))

    def _answer_problem(self, draft: Draft, question: Question) -> str | None:
        """Why the saved answer to ``question`` cannot be sent, or None."""
        if question.id not in draft.answers:
            return _("Câu này chưa có câu trả lời.")
        value = draft.answers[question.id]
        if value is None:
            return None if question.optional else _("Câu này chưa có câu trả lời.")
        if question.numeric:
            number = _answer_number(value)
            if number is None:
                return self._hint(question)
            return self._number_problem(draft, question, number)
        return None if _kind_fits(question, value) else self._hint(question)

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
        self._remember_screen(draft)
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
            option = FormOption.from_dict(draft.options[draft.chosen])
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
        opt = FormOption.from_dict(option)
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
            option = FormOption.from_dict(draft.options[draft.chosen])
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
            if question.id in draft.answers:
                shown = self._show_value(question, draft.answers[question.id])
            else:
                shown = _("(chưa trả lời)")
            lines.append(f"{index}. {question.label}: {shown}")
        lines.append("")
        lines.append(_("Chọn Gửi để gửi báo cáo, hoặc Sửa để đổi một câu trả lời."))
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
        """An answer as the person reads it; never raises, whatever a saved draft holds."""
        if value is None:
            return _("(bỏ qua)")
        if question.numeric:
            text = _format_stored(value)
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

    def _find_form(self, form_id: str | None) -> Form | None:
        for form in self.plan.forms:
            if form.id == form_id:
                return form
        return None

    def _form_title(self, form_id: str) -> str | None:
        form = self._find_form(form_id)
        return form.title if form else None

    def _option_dict(self, option: FormOption) -> dict[str, Any]:
        """An option as the draft keeps it, with its form's title."""
        data = option.to_dict()
        data["title"] = option.title or self._form_title(option.form_id)
        return data

    def _question(self, draft: Draft) -> Question:
        return self._form(draft).questions[draft.index]

    def _period_label(self, draft: Draft) -> str:
        assert draft.period is not None
        return parse_period(draft.period).label()

    def _village_name(self, village_id: str) -> str:
        village = self.plan.village(village_id)
        return village.name if village else village_id


def menu_number(text: str) -> int | None:
    """A typed menu number (``2``, full-width ``２``), or None; never raises (``int()`` does
    on ``²`` and on thousands of digits)."""
    if text.isdecimal() and len(text) <= MENU_SIZE_DIGITS:
        return int(text)
    return None


def token_number(text: str) -> int | None:
    """The number in button data (the step number ``12`` of ``12:c3``, the index ``3``), or
    None; never raises, whatever a forged button carries (``int()`` does on ``²`` and on
    thousands of digits)."""
    if text.isdecimal() and len(text) <= TOKEN_DIGITS:
        return int(text)
    return None


def indexed(token: str | None, prefix: str) -> int | None:
    """The index of a token such as ``c3`` (``prefix`` ``"c"``), or None."""
    if token is None or not token.startswith(prefix):
        return None
    return token_number(token[len(prefix) :])


def _answer_number(value: Any) -> Decimal | None:
    """A saved numeric answer as a finite Decimal, or None when it is not one."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    number = stored_number(value)
    return number if number is not None and number.is_finite() else None


def _kind_fits(question: Question, value: Any) -> bool:
    """Whether a saved value (not None) has the kind of answer ``question`` takes; for a
    number, within the limits of every number (so it can always be shown)."""
    if question.numeric:
        number = _answer_number(value)
        return number is not None and limit_problem(number) is None
    if question.type == "yes_no":
        return isinstance(value, bool)
    if question.type in ("choice", "text"):
        return isinstance(value, str)
    if question.type == "photo":
        return isinstance(value, dict) and isinstance(value.get("file_id"), str)
    return False


def _format_stored(value: Any) -> str:
    """A saved number in the current locale; as it is saved when it cannot be formatted."""
    number = _answer_number(value)
    if number is not None:
        try:
            return format_number(number)
        except ArithmeticError:  # Babel's format past 25 integer digits (no such answer now)
            pass
    text = str(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _period_fits(form: Form, period: str | None) -> bool:
    """Whether ``period`` is a key of the kind of period ``form`` is reported for."""
    if period is None:
        return False
    try:
        return parse_period(period).kind == form.period
    except ValueError:
        return False


def _question_shape(question: Question) -> int:
    """A fingerprint of what a question's buttons and typed numbers mean."""
    return zlib.crc32(repr((question.id, question.type, question.choices)).encode())


def _form_shape(form: Form) -> int:
    """A fingerprint of a form's list of questions (the summary's and edit menu's order)."""
    return zlib.crc32(repr(tuple(q.id for q in form.questions)).encode())


def megabytes(size: int) -> str:
    return _("{size} MB").format(size=format_number(round(size / 1024 / 1024, 1)))


CAPTION_LIMIT = 1000


def caption_of(inp: Input) -> str:
    """The caption a photo came with, cleaned and within ``CAPTION_LIMIT``."""
    return clean_text(inp.text)[:CAPTION_LIMIT] if inp.kind == "photo" else ""


def photo_answer(inp: Input) -> dict[str, str]:
    """A photo as a report keeps it: the stored file's key, and its caption if it had one."""
    assert inp.file_id is not None
    caption = caption_of(inp)
    return {"file_id": inp.file_id, "caption": caption} if caption else {"file_id": inp.file_id}


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
