"""The report conversation as a pure state machine.

``FormEngine`` takes the plan, the saved ``Draft`` and one ``Input`` and returns a
``Step``: the replies to show, the draft to save (or ``None`` when the
conversation is over) and, when it needs the outside world, an ``effect`` that
the caller carries out and feeds back (load last period's answers, store the
report). It knows no channel and no database, so every rule here is tested
without either.

Who reports is part of the draft: a village's head reports for their village
(``Draft.village``), a commune officer for the commune (``COMMUNE_ID``) on the commune's
forms, and, on a baseline form, for one village at a time, chosen first
(``pick_village``).

A saved draft may outlive the plan it was started under: ``FormEngine.reconcile`` fits
it to the current plan (dropping what no longer exists or fits, moving to a question
that does) and says what changed, before any other entry point sees it.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal
from typing import Any, Literal

from bot.i18n import _, format_number
from bot.messages import MAX_FILE_BYTES, Choice, Reply
from bot.plan.model import COMMUNE_ID, Form, Plan, Question
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
from bot.text import clean_text, in_sentence, normalize_text, shortened

TEXT_LIMIT = 1000
FAR_FROM_PREVIOUS = Decimal("0.5")  # more than 50 % off last period needs a confirmation

Mode = Literal[
    "pick_form",
    "pick_period",
    "pick_village",  # a baseline form: which village's figures (an officer fills one each)
    "prefill",  # last period's report exists: start from its values, or answer each question
    "ask",
    "ambiguous",
    "confirm_reading",  # one plausible reading of what was typed: is it right?
    "confirm_far",
    "summary",
    "edit_pick",
    "confirm_cancel",
]
InputKind = Literal["text", "choice", "photo", "other"]
# Screens about the question at ``Draft.index``.
QUESTION_MODES: tuple[Mode, ...] = ("ask", "ambiguous", "confirm_reading", "confirm_far")
# Question screens that wait for a yes or a pick among ``Draft.pending``.
PENDING_MODES: tuple[Mode, ...] = ("ambiguous", "confirm_reading", "confirm_far")
# Screens of a started form that ``confirm_cancel`` may go back to.
FORM_MODES: tuple[Mode, ...] = (*QUESTION_MODES, "prefill", "summary", "edit_pick")
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
    # Earlier periods already sent and still open for corrections, the latest first.
    corrections: tuple[str, ...] = ()
    locked: bool = False  # the current period was sent and is no longer open for corrections
    # A baseline form: the villages whose figures were already filled in (to correct).
    filled: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in _OPTION_NAMES}  # plain values only
        data["corrections"] = list(self.corrections)  # as JSON gives it back
        data["filled"] = list(self.filled)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FormOption:
        """An option as saved in a draft; keys it does not know are ignored."""
        known = {k: v for k, v in data.items() if k in _OPTION_FIELDS}
        corrections = known.get("corrections") or ()
        known["corrections"] = tuple(p for p in corrections if isinstance(p, str))
        filled = known.get("filled") or ()
        known["filled"] = tuple(v for v in filled if isinstance(v, str))
        return cls(**known)


_OPTION_FIELDS = frozenset(f.name for f in fields(FormOption))
_OPTION_NAMES = tuple(f.name for f in fields(FormOption))


@dataclass
class Draft:
    """The saved state of one person's report conversation (stored as JSON)."""

    village: str  # whose report: a village's id, or COMMUNE_ID for the commune's own
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
    # Sent periods the ``prefill`` screen offers to correct (not offered in a menu before it).
    corrections: list[str] = field(default_factory=list)
    sent_version: int | None = None  # correcting a report sent: the version it started from
    # The answers the summary opened with (last period's, or those sent) and which they are
    # ("previous", "sent"): the summary says what was changed from them.
    base: dict[str, Any] = field(default_factory=dict)
    base_kind: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready snapshot (copies of the mutable parts, not shared with the draft)."""
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["answers"] = dict(self.answers)
        data["previous"] = dict(self.previous)
        data["pending"] = list(self.pending)
        data["options"] = [dict(o) for o in self.options]
        data["labels"] = dict(self.labels)
        data["corrections"] = list(self.corrections)
        data["base"] = dict(self.base)
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
    """Load the latest earlier report of ``form``/``village`` and call ``FormEngine.begin``;
    ``correct``: the period's report was sent, so load its latest version too (``sent``)."""

    form: str
    period: str
    village: str
    correct: bool = False


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
SAME, EACH = "same", "each"  # the prefill screen: last period's values, or each question

# Typed words, folded (``normalize_text``), that answer yes or no to a yes/no question or a
# confirmation ("rồi" and "đã": done already; "chưa": not yet), in both languages.
YES_WORDS = frozenset(
    {"co", "roi", "da", "da co", "co roi", "roi a", "da roi", "co a", "vang", "vang a", "u"}
    | {"ok", "oke", "okay", "dung", "dung roi", "yes", "y"}
)
NO_WORDS = frozenset(
    {"khong", "chua", "chua co", "khong co", "chua a", "khong a", "ko", "k", "no", "n"}
)
# Typed words meaning "the same as last period" at a question.
SAME_WORDS = frozenset(
    {"=", "nhu cu", "nhu ky truoc", "giong ky truoc", "nhu thang truoc", "giu nguyen"}
    | {"van nhu cu", "nhu truoc", "same", "as before", "unchanged", "same as last time"}
)
# ``3: 420`` (or ``câu 3 420``, ``3 = 420``) at the summary: question 3's new answer.
QUICK_EDIT_RE = re.compile(r"\s*([0-9]{1,3})\s*[:=]\s*(.*)", re.DOTALL)
QUICK_EDIT_NAMED_RE = re.compile(
    r"\s*(?:câu|cau|question|q)\s*([0-9]{1,3})\s*[:=]?\s*(.*)", re.DOTALL | re.IGNORECASE
)
MENU_CORRECTIONS = 6  # the most earlier periods offered for correction


class FormEngine:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan

    # -- entry points -------------------------------------------------------------------

    def open(self, village: str, options: list[FormOption]) -> Step:
        """``/baocao`` with no draft: choose a form (and a period: a late one, one to
        correct) or start at once."""
        usable = [o for o in options if _period_entries(o)]
        if not usable:
            return Step([Reply(_("Hiện không có kỳ báo cáo nào đang mở theo kế hoạch."))], None)
        draft = Draft(village=village, options=[self._option_dict(o) for o in usable])
        if len(usable) == 1:
            return self._form_chosen(draft, 0, [])
        draft.mode = "pick_form"
        return self._show(draft, [])

    def open_form(self, village: str, option: FormOption, period: str) -> Step:
        """Start one form's period at once (a reminder's button): ``period`` is the option's
        current or late period, or one it offers to correct; a baseline form asks which
        village first."""
        draft = Draft(village=village, options=[self._option_dict(option)])
        form = self._find_form(option.form_id)
        if form is not None and form.baseline and option.period == period:
            return self._form_chosen(draft, 0, [])
        for token, each, correct in _period_entries(option, menu=False):
            if each == period:
                corrections = list(option.corrections) if token == "current" and not correct else []
                return self._start_form(draft, option.form_id, period, correct, corrections)
        return Step([Reply(self._closed_text(option, period))], None)

    def begin(
        self,
        draft: Draft,
        previous: dict[str, Any],
        previous_period: str | None,
        sent: dict[str, Any] | None = None,
        sent_version: int | None = None,
    ) -> Step:
        """Start, once the caller has loaded last period's answers (those that no longer fit
        their question, after a change of the plan, are not shown): a correction (``sent``,
        the answers of the period's latest version) opens the summary with what was sent;
        with last period's answers, the ``prefill`` screen offers to start from them; else
        the first question."""
        form = self._form(draft)
        draft.previous = self._usable_previous(form, previous)
        draft.previous_period = previous_period
        draft.mode = "ask"
        draft.index = 0
        lead = [draft.note] if draft.note else []
        draft.note = ""
        if sent is not None:
            draft.corrections = []
            draft.sent_version = sent_version
            draft.answers = {
                q.id: sent[q.id]
                for q in form.questions
                if q.id in sent and self._answer_fits(q, sent[q.id])
            }
            draft.labels = {q.id: q.label for q in form.questions if q.id in draft.answers}
            draft.base, draft.base_kind = dict(draft.answers), "sent"
            lead.append(
                _(
                    "Sửa {form} kỳ {period} đã gửi (phiên bản {version}): dưới đây là các câu "
                    "trả lời đã gửi. Sửa những gì cần rồi Gửi; bản cũ vẫn được lưu."
                ).format(
                    form=form.title, period=self._period_label(draft), version=sent_version or 1
                )
            )
            self._to_first_unanswered(draft, form)
        elif self._prefill_values(form, draft.previous) or draft.corrections:
            draft.mode = "prefill"
        else:
            draft.corrections = []
        return self._show(draft, lead)

    def resume(self, draft: Draft) -> Step:
        """``/baocao`` or ``/tieptuc`` with a draft: show where the person stopped, changing
        nothing; at the "drop the draft?" question, the form goes on where it was."""
        lead = []
        if draft.mode == "confirm_cancel":
            draft.mode = draft.resume or "ask"
            draft.resume = None
            return self._show(draft, [])
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
        if form.baseline:
            text += "\n" + _("Gõ /baocao để nhập số liệu của thôn khác.")
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
        if (form.level == "commune") != (draft.village == COMMUNE_ID):
            note = _(
                "Biểu mẫu “{form}” nay do người khác điền (thay đổi trong kế hoạch) nên bản "
                "nháp đã được bỏ. Gõ /baocao để xem các báo cáo đang mở."
            ).format(form=form.title)
            return None, [note]
        if draft.village != COMMUNE_ID and self.plan.village(draft.village) is None:
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
        elif inner == "prefill":
            if not (self._prefill_values(form, new.previous) or new.corrections):
                self._to_first_unanswered(new, form)
        else:
            unanswered = any(q.id not in answers for q in questions)
            moved = draft.shape is not None and draft.shape != _form_shape(form)
            if unanswered:
                self._to_first_unanswered(new, form)
            elif moved or (inner == "edit_pick" and notes):
                new.mode = "summary"
        if new.mode not in PENDING_MODES:
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
            if not _menu_fits(form, draft.village):
                notes.append(_("Biểu mẫu “{form}” nay do người khác điền.").format(form=form.title))
                continue
            periods = [p for p in (option.period, option.late_period) if p is not None]
            periods += option.corrections
            if not periods or not all(_period_fits(form, p) for p in periods):
                notes.append(
                    _("Biểu mẫu “{form}” nay báo cáo theo kỳ khác.").format(form=form.title)
                )
                continue
            moved[index] = len(kept)
            kept.append(data)
        picking = draft.mode in ("pick_period", "pick_village")
        menu = draft.mode == "pick_form" or (picking and draft.chosen in moved)
        if (
            menu
            and draft.mode == "pick_village"
            and draft.shape is not None
            and draft.shape != _villages_shape(self.plan)
        ):
            notes.append(_("Danh sách thôn vừa được sửa trong kế hoạch."))
        if not notes and menu:
            return draft, []
        if not kept:
            return None, [*notes, _("Gõ /baocao để xem các báo cáo đang mở.")]
        new = draft.copy()
        new.options = kept
        if picking and draft.chosen in moved:
            new.chosen = moved[draft.chosen]
        else:
            new.mode, new.chosen = "pick_form", None
        self._remember_screen(new)
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
            if draft.mode == "pick_village":
                draft.shape = _villages_shape(self.plan)
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
        said = self._said_token(draft, wanted)
        if said is not None:
            return said
        # The words stay meaningful where the button is not offered, for a specific reply.
        for word, token in ((_("Bỏ qua"), SKIP), (_("Quay lại"), BACK)):
            if wanted == normalize_text(word):
                return token
        number = menu_number(wanted) if self._choice_only(draft) else None
        if number is not None and 1 <= number <= len(choices):
            return choices[number - 1].value.partition(":")[2]
        return None

    def _said_token(self, draft: Draft, wanted: str) -> str | None:
        """What a folded typed text means on screens that wait for a yes or a no ("rồi",
        "ok", "chưa"…) or, on the ``prefill`` screen, for "the same as last period"."""
        word = wanted.rstrip(".!")
        mode = draft.mode
        if mode == "prefill":
            return SAME if word in SAME_WORDS and self._can_prefill(draft) else None
        answers = {
            "confirm_reading": (YES, RETYPE),
            "confirm_far": (KEEP, RETYPE),
        }.get(mode)
        if mode == "ask" and self._question(draft).type == "yes_no":
            answers = (YES, NO)
        if answers is None:
            return None
        if word in YES_WORDS:
            return answers[0]
        if word in NO_WORDS:
            return answers[1]
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
        """A form chosen: the menu of its periods when it offers more than one (a late one,
        one to correct), else that period at once."""
        option = FormOption.from_dict(draft.options[index])
        draft.chosen = index
        form = self._find_form(option.form_id)
        if form is not None and form.baseline and option.period is not None:
            draft.mode = "pick_village"
            return self._show(draft, lead)
        entries = _period_entries(option)
        if len(entries) > 1:
            draft.mode = "pick_period"
            return self._show(draft, lead)
        if not entries:
            return Step([Reply(self._closed_text(option, option.period or ""))], None)
        return self._period_chosen(draft, option, entries[0][0])

    def _period_chosen(self, draft: Draft, option: FormOption, token: str) -> Step:
        """Start the period of the menu entry ``token``; the current period, when new, takes
        along the periods to correct that the menu did not show (the ``prefill`` screen
        offers them)."""
        entries = _period_entries(option)
        for each, period, correct in entries:
            if each == token:
                shown = any(t.startswith("k") for t, _p, _c in entries)
                fresh = token == "current" and not correct and not shown
                corrections = list(option.corrections) if fresh else []
                return self._start_form(draft, option.form_id, period, correct, corrections)
        return self._show(draft, [_("Xin chọn kỳ báo cáo.")], False)

    def _on_pick_village(self, draft: Draft, inp: Input, token: str | None) -> Step:
        """A baseline form: the village chosen, its figures are asked (or, when it has them
        already, shown to correct: a new version, the old ones kept)."""
        assert draft.chosen is not None
        option = FormOption.from_dict(draft.options[draft.chosen])
        if token == BACK and len(draft.options) > 1:
            draft.mode = "pick_form"
            return self._show(draft, [])
        index = indexed(token, "v")
        if index is None or index >= len(self.plan.villages) or option.period is None:
            return self._show(draft, [_("Xin chọn một thôn trong danh sách.")], False)
        village = self.plan.villages[index]
        draft.village = village.id
        return self._start_form(draft, option.form_id, option.period, village.id in option.filled)

    def _on_pick_period(self, draft: Draft, inp: Input, token: str | None) -> Step:
        assert draft.chosen is not None
        option = FormOption.from_dict(draft.options[draft.chosen])
        if token == BACK and len(draft.options) > 1:
            draft.mode = "pick_form"
            return self._show(draft, [])
        return self._period_chosen(draft, option, token or "")

    def _start_form(
        self,
        draft: Draft,
        form_id: str,
        period: str,
        correct: bool = False,
        corrections: list[str] | None = None,
    ) -> Step:
        """Start ``period`` of ``form_id`` afresh (``correct``: a report sent, to correct);
        ``corrections``, periods the ``prefill`` screen is to offer to correct."""
        draft.form = form_id
        draft.form_title = self._form_title(form_id)
        draft.period = period
        draft.options = []
        draft.chosen = None
        draft.mode = "ask"
        draft.index = 0
        draft.editing = False
        draft.answers, draft.labels, draft.pending = {}, {}, []
        draft.corrections = list(corrections or [])
        draft.sent_version, draft.base, draft.base_kind = None, {}, None
        draft.seq += 1
        return Step([], draft, Begin(form_id, period, draft.village, correct))

    def _closed_text(self, option: FormOption, period: str) -> str:
        """Why ``period`` of the option's form cannot be reported or corrected now."""
        title = self._form_title(option.form_id) or option.title or option.form_id
        try:
            label = parse_period(period).label()
        except ValueError:
            label = period
        return _(
            "{form} kỳ {period} đã gửi và đã hết hạn sửa. Nếu cần sửa, xin liên hệ cán bộ xã."
        ).format(form=title, period=label)

    # -- the prefill screen -------------------------------------------------------------

    def _prefill_values(self, form: Form, previous: dict[str, Any]) -> dict[str, Any]:
        """The answers "Giống kỳ trước" starts from: last period's, where they still fit
        (a text or a photo is this period's own: an optional one is left empty, a required
        one asked)."""
        values: dict[str, Any] = {}
        found = False
        for question in form.questions:
            if question.type in ("text", "photo"):
                if question.optional:
                    values[question.id] = None
                continue
            if question.id in previous and self._answer_fits(question, previous[question.id]):
                values[question.id] = previous[question.id]
                found = found or previous[question.id] is not None
        return values if found else {}

    def _can_prefill(self, draft: Draft) -> bool:
        return bool(self._prefill_values(self._form(draft), draft.previous))

    def _on_prefill(self, draft: Draft, inp: Input, token: str | None) -> Step:
        form = self._form(draft)
        if token == SAME and self._can_prefill(draft):
            draft.answers = self._prefill_values(form, draft.previous)
            draft.labels = {q.id: q.label for q in form.questions if q.id in draft.answers}
            draft.base, draft.base_kind = dict(draft.answers), "previous"
            draft.corrections = []
            self._to_first_unanswered(draft, form)
            lead = _("Đã điền sẵn các câu trả lời kỳ {period}.").format(
                period=self._previous_label(draft)
            )
            if draft.mode != "summary":
                lead += " " + _("Xin trả lời các câu còn thiếu.")
            return self._show(draft, [lead])
        if token == EACH:
            draft.corrections = []
            draft.mode = "ask"
            draft.index = 0
            return self._show(draft, [])
        index = indexed(token, "k")
        if index is not None and index < len(draft.corrections):
            assert draft.form is not None
            return self._start_form(draft, draft.form, draft.corrections[index], correct=True)
        return self._show(draft, [self._choose_hint(draft)], False)

    def _previous_label(self, draft: Draft) -> str:
        """Last period's label (``tháng 10/2026``), or "kỳ trước" when it is not known."""
        if draft.previous_period:
            try:
                return parse_period(draft.previous_period).label()
            except ValueError:
                pass
        return _("trước")

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
        if token == KEEP and self._keeps(draft, question):
            problem = self._answer_problem(draft, question, dependents=True)
            if problem:
                return self._show(draft, [problem], False)
            return self._store(draft, question, draft.answers[question.id], [])
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

        if question.type not in ("text", "photo") and _means_same(inp.text):
            return self._same_as_before(draft, question)
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
            return self._readings(draft, question, text, parsed.options)
        if isinstance(parsed, Invalid):
            negative = text[:1] in "-\u2212\u2013"
            return self._show(draft, [self._invalid(question, parsed.reason, negative)], False)
        assert isinstance(parsed, Parsed)
        if parsed.approximate:  # "khoảng 450": a report wants a figure, so ask once
            problem = self._number_problem(draft, question, parsed.value)
            if problem:
                draft.mode = "ask"
                return self._show(draft, [problem])
            return self._confirm_reading(draft, text, parsed.value)
        return self._check_number(draft, question, parsed.value)

    def _readings(
        self, draft: Draft, question: Question, text: str, options: tuple[Decimal, ...]
    ) -> Step:
        """Offer only the readings that can be this question's answer (a whole number for an
        integer question, within its bounds and ``at_most``): two to choose from, one to
        confirm, none to say why."""
        fitting = [v for v in options if self._number_problem(draft, question, v) is None]
        if len(fitting) == 1:
            return self._confirm_reading(draft, text, fitting[0])
        if not fitting:
            problems: list[str] = []
            for value in options:
                problem = self._number_problem(draft, question, value)
                if problem and problem not in problems:
                    problems.append(problem)
            first, second = (self._show_value(question, str(v)) for v in options[:2])
            said = _("Bạn gõ “{typed}”: đọc là {first} hay {second} đều không được.").format(
                typed=shortened(text), first=first, second=second
            )
            draft.mode = "ask"
            return self._show(draft, [" ".join([said, *problems])])
        draft.mode = "ambiguous"
        draft.pending = [str(v) for v in fitting]
        draft.typed = text[:40]
        return self._show(draft, [])

    def _confirm_reading(self, draft: Draft, text: str, value: Decimal) -> Step:
        draft.mode = "confirm_reading"
        draft.pending = [str(value)]
        draft.typed = text[:40]
        return self._show(draft, [])

    def _on_confirm_reading(self, draft: Draft, inp: Input, token: str | None) -> Step:
        question = self._question(draft)
        if token == YES and draft.pending:
            value = stored_number(draft.pending[0])
            self._to_question(draft)
            if value is None:
                return self._show(draft, [])
            return self._check_number(draft, question, value)
        return self._pending_fallback(draft, inp, token, _("Xin chọn Đúng hoặc Nhập lại."))

    def _keeps(self, draft: Draft, question: Question) -> bool:
        """Whether the question's screen offers to keep its answer (gone back to it)."""
        return question.id in draft.answers and not draft.editing

    def _same_as_before(self, draft: Draft, question: Question) -> Step:
        """``=``, ``như cũ``: last period's answer to this question, checked as if typed."""
        if question.id not in draft.previous:
            return self._show(
                draft, [_("Kỳ trước chưa có câu trả lời cho câu này. Xin trả lời.")], False
            )
        value = draft.previous[question.id]
        if value is None and not question.optional:
            return self._show(draft, [_("Kỳ trước câu này để trống. Xin trả lời.")], False)
        if not self._answer_fits(question, value):
            return self._show(
                draft,
                [
                    _("Câu trả lời kỳ trước ({value}) không còn hợp với câu hỏi này.").format(
                        value=self._show_value(question, value)
                    )
                    + " "
                    + self._hint(question)
                ],
                False,
            )
        if question.numeric and value is not None:
            number = _answer_number(value)
            assert number is not None  # it fits
            problem = self._number_problem(draft, question, number)
            if problem:
                draft.mode = "ask"
                return self._show(draft, [problem])
            value = _plain(number)
        said = _("Giữ như kỳ trước: {value}.").format(value=self._show_value(question, value))
        return self._store(draft, question, value, [], said)

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

    def _number_problem(
        self, draft: Draft, question: Question, value: Decimal, dependents: bool = True
    ) -> str | None:
        """Why ``value`` cannot be this question's answer (the limits of every number, the
        question's bounds, ``at_most``), or None. ``dependents``: also against the answers
        that may not be more than this one (another question's ``at_most`` naming it), so a
        change made from the summary or going back is checked at once."""
        problem = self._static_number_problem(question, value)
        if problem is not None:
            return problem
        form = self._form(draft)
        other_value = stored_number(draft.answers.get(question.at_most or ""))
        if question.at_most and other_value is not None and other_value.is_finite():
            if value > other_value:
                other = form.question(question.at_most)
                return _("{value} lớn hơn “{other}” ({other_value}): không thể như vậy.").format(
                    value=self._show_value(question, _plain(value)),
                    other=other.label,
                    other_value=self._show_value(other, _plain(other_value)),
                )
        if not dependents:
            return None
        for other in form.questions:
            if other.at_most != question.id or other.id == question.id:
                continue
            below = stored_number(draft.answers.get(other.id))
            if below is not None and below.is_finite() and value < below:
                return _(
                    "{value} nhỏ hơn “{other}” ({other_value}), mà “{other}” không thể lớn "
                    "hơn “{label}”. Xin sửa “{other}” trước, hoặc gõ một số từ {other_value} "
                    "trở lên."
                ).format(
                    value=self._show_value(question, _plain(value)),
                    other=other.label,
                    other_value=self._show_value(other, _plain(below)),
                    label=question.label,
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

    def _store(
        self,
        draft: Draft,
        question: Question,
        value: Any,
        lead: list[str],
        said: str | None = None,
    ) -> Step:
        """Keep the answer, then the next question; after an edit or the last question, the
        first one still unanswered (after a change of the plan), else the summary. ``said``:
        how the answer is shown back (a number is, by default)."""
        draft.answers[question.id] = value
        draft.labels[question.id] = question.label
        self._to_question(draft)
        if said is not None:
            lead = [*lead, said]
        elif question.numeric and value is not None:
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
        if inp.kind == "text" and token is None:
            quick = self._quick_edit(draft, inp.text)
            if quick is not None:
                return quick
        return self._show(
            draft, [_("Xin chọn Gửi, Sửa hoặc Hủy.") + " " + self._quick_hint(draft)], False
        )

    def _quick_edit(self, draft: Draft, text: str) -> Step | None:
        """``3: 420`` (``câu 3 420``, ``3 = 420``): question 3 answered anew in one message,
        checked as if typed at it (a problem leaves the person on it); None when the text is
        not of that shape."""
        found = QUICK_EDIT_RE.fullmatch(text) or QUICK_EDIT_NAMED_RE.fullmatch(
            unicodedata.normalize("NFC", text)
        )
        if found is None:
            return None
        number, answer = menu_number(found.group(1)), found.group(2).strip()
        questions = self._form(draft).questions
        if number is None or not 1 <= number <= len(questions):
            return self._show(
                draft,
                [
                    _("Không có câu {number}: các câu đánh số từ 1 đến {total}.").format(
                        number=found.group(1), total=len(questions)
                    )
                ],
                False,
            )
        draft.seq += 1  # the summary's buttons are for the summary
        draft.index, draft.editing, draft.mode = number - 1, True, "ask"
        draft.pending = []
        if not answer:
            return self._show(draft, [], False)
        inp = Input("text", answer)
        return self._on_ask(draft, inp, self._match_typed(draft, answer))

    def _quick_hint(self, draft: Draft) -> str:
        """How to change one answer in one message, with an example from this form."""
        questions = self._form(draft).questions
        example = "1: 25"
        for number, question in enumerate(questions, start=1):
            if question.numeric:
                example = f"{number}: 25"
                break
            if question.type == "yes_no":
                example = f"{number}: {_('Có').lower()}"
                break
        return _(
            "Sửa nhanh một câu: gõ số câu, dấu hai chấm và câu trả lời mới, ví dụ “{example}”."
        ).format(example=example)

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
        if inp.kind == "text" and token is None:
            quick = self._quick_edit(draft, inp.text)
            if quick is not None:
                return quick
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

    def _answer_problem(
        self, draft: Draft, question: Question, dependents: bool = False
    ) -> str | None:
        """Why the saved answer to ``question`` cannot be sent, or None (``dependents``: as
        ``_number_problem``; sending leaves that to the question that is over its bound)."""
        if question.id not in draft.answers:
            return _("Câu này chưa có câu trả lời.")
        value = draft.answers[question.id]
        if value is None:
            return None if question.optional else _("Câu này chưa có câu trả lời.")
        if question.numeric:
            number = _answer_number(value)
            if number is None:
                return self._hint(question)
            return self._number_problem(draft, question, number, dependents)
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
        return Step([replace(reply, text=text)], draft)

    def _render(self, draft: Draft) -> Reply:
        typed = draft.mode == "ask" and not self._choice_only(draft)
        return Reply(
            self._screen_text(draft),
            tuple(self._choices(draft)),
            typed_answer=typed,
            asks_photo=self.expects_photo(draft),
        )

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
            result = [
                c(draft, _period_entry_label(token, period, correct), token)
                for token, period, correct in _period_entries(option)
            ]
            if len(draft.options) > 1:
                result.append(c(draft, _("Quay lại"), BACK))
            return result
        if mode == "pick_village":
            assert draft.chosen is not None
            filled = set(FormOption.from_dict(draft.options[draft.chosen]).filled)
            result = [
                c(
                    draft,
                    _("{village} (đã nhập)").format(village=v.name) if v.id in filled else v.name,
                    f"v{i}",
                )
                for i, v in enumerate(self.plan.villages)
            ]
            if len(draft.options) > 1:
                result.append(c(draft, _("Quay lại"), BACK))
            return result
        if mode == "prefill":
            result = [c(draft, _("Giống kỳ trước"), SAME)] if self._can_prefill(draft) else []
            result.append(c(draft, _("Trả lời từng câu"), EACH))
            result += [
                c(draft, _period_entry_label(f"k{i}", period, True), f"k{i}")
                for i, period in enumerate(draft.corrections)
            ]
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
            if self._keeps(draft, question):
                result.append(c(draft, _("Giữ nguyên"), KEEP))
            if draft.index > 0 or draft.editing:
                result.append(c(draft, _("Quay lại"), BACK))
            return result
        if mode == "confirm_reading":
            return [c(draft, _("Đúng"), YES), c(draft, _("Nhập lại"), RETYPE)]
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
        form = self.plan.form(opt.form_id)
        title = form.title
        if form.baseline:
            done = len({v.id for v in self.plan.villages} & set(opt.filled))
            return _("{form} (đã nhập {done}/{total} thôn)").format(
                form=title, done=done, total=len(self.plan.villages)
            )
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
            if not option.late_period:
                return _("{form}: bạn muốn báo cáo hay sửa kỳ nào?").format(
                    form=self.plan.form(option.form_id).title
                )
            return _(
                "{form} kỳ {late} chưa được gửi và đã quá hạn. Nên gửi kỳ đó trước. "
                "Bạn muốn báo cáo kỳ nào?"
            ).format(
                form=self.plan.form(option.form_id).title,
                late=parse_period(option.late_period).label(),
            )
        if mode == "pick_village":
            assert draft.chosen is not None
            option = FormOption.from_dict(draft.options[draft.chosen])
            return _(
                "{form} kỳ {period}: chọn thôn để nhập số liệu. Thôn đã nhập thì xem lại và "
                "sửa được; bản cũ vẫn được lưu."
            ).format(
                form=self.plan.form(option.form_id).title,
                period=parse_period(option.period or "").label(),
            )
        if mode == "prefill":
            return self._prefill_text(draft)
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
        if mode == "confirm_reading":
            return _("Bạn gõ “{typed}”: {value}, đúng không?").format(
                typed=draft.typed, value=self._show_value(question, draft.pending[0])
            )
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
        if question.id in draft.answers:  # editing, or gone back to it
            lines.append(
                _("Hiện tại: {value}").format(
                    value=self._show_value(question, draft.answers[question.id])
                )
            )
        if draft.previous.get(question.id) is not None and question.type != "photo":
            line = _("Kỳ trước: {value}").format(
                value=self._show_value(question, draft.previous[question.id])
            )
            if question.type != "text":
                line += " " + _("(gõ = để giữ như kỳ trước)")
            lines.append(line)
        if question.type == "text":
            lines.append(_("(tối đa {limit} ký tự)").format(limit=format_number(TEXT_LIMIT)))
        return "\n".join(lines)

    def _summary(self, draft: Draft) -> str:
        """Every answer, numbered; those changed from what the summary opened with (last
        period's, or those sent) say what they were; how to send, change, or change one
        answer in one message."""
        form = self._form(draft)
        names = {
            "form": form.title,
            "village": self._village_name(draft.village),
            "period": self._period_label(draft),
        }
        if draft.sent_version is not None:
            title = _("Bản sửa {form} của {village}, kỳ {period}:").format(**names)
        else:
            title = _("Tóm tắt {form} của {village}, kỳ {period}:").format(**names)
        lines = [title]
        for index, question in enumerate(form.questions, start=1):
            if question.id in draft.answers:
                value = draft.answers[question.id]
                shown = self._show_value(question, value)
                if question.id in draft.base and draft.base[question.id] != value:
                    before = self._show_value(question, draft.base[question.id])
                    if draft.base_kind == "sent":
                        shown += " " + _("(đã gửi: {value})").format(value=before)
                    else:
                        shown += " " + _("(kỳ trước: {value})").format(value=before)
            else:
                shown = _("(chưa trả lời)")
            lines.append(f"{index}. {question.label}: {shown}")
        lines.append("")
        lines.append(_("Chọn Gửi để gửi báo cáo, hoặc Sửa để đổi một câu trả lời."))
        lines.append(self._quick_hint(draft))
        return "\n".join(lines)

    def _prefill_text(self, draft: Draft) -> str:
        form = self._form(draft)
        lines = [
            _("{form} kỳ {period} của {village}.").format(
                form=form.title,
                period=self._period_label(draft),
                village=self._village_name(draft.village),
            )
        ]
        if self._can_prefill(draft) and draft.village == COMMUNE_ID:
            lines.append(
                _(
                    "Xã đã báo cáo kỳ {previous}. Bắt đầu từ các câu trả lời kỳ đó rồi chỉ "
                    "sửa những gì thay đổi, hay trả lời từng câu?"
                ).format(previous=self._previous_label(draft))
            )
        elif self._can_prefill(draft):
            lines.append(
                _(
                    "Thôn đã báo cáo kỳ {previous}. Bắt đầu từ các câu trả lời kỳ đó rồi chỉ "
                    "sửa những gì thay đổi, hay trả lời từng câu?"
                ).format(previous=self._previous_label(draft))
            )
        if draft.corrections:
            lines.append(_("Cũng có thể sửa một báo cáo đã gửi."))
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
        """The name of whom a report is from: a village, or the commune (``xã Nam Dong``)."""
        if village_id == COMMUNE_ID:
            return in_sentence(self.plan.commune)
        village = self.plan.village(village_id)
        return village.name if village else village_id


def _period_entries(option: FormOption, menu: bool = True) -> list[tuple[str, str, bool]]:
    """The periods an option offers, as ``(token, period, correct)``: the late one, the
    current one (to correct when sent, unless that is over), and the earlier ones still open
    for corrections. When the current period is new and none is late, the menu leaves the
    ones to correct to the ``prefill`` screen (``menu``; all of them otherwise)."""
    entries: list[tuple[str, str, bool]] = []
    if option.late_period:
        entries.append(("late", option.late_period, False))
    if option.period and not (option.sent and option.locked):
        entries.append(("current", option.period, option.sent))
    if not menu or option.late_period or option.sent or not option.period:
        entries += [(f"k{i}", period, True) for i, period in enumerate(option.corrections)]
    return entries


def _period_entry_label(token: str, period: str, correct: bool) -> str:
    try:
        label = parse_period(period).label()
    except ValueError:
        label = period
    if token == "late":
        return _("Kỳ {period} (trễ hạn)").format(period=label)
    if correct:
        return _("Sửa kỳ {period} (đã gửi)").format(period=label)
    return _("Kỳ {period}").format(period=label)


def _means_same(text: str) -> bool:
    """Whether a typed text says "the same as last period" (``=``, ``như cũ``…)."""
    return normalize_text(text).rstrip(".!") in SAME_WORDS


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


def _villages_shape(plan: Plan) -> int:
    """A fingerprint of the plan's list of villages (the ``pick_village`` screen's order)."""
    return zlib.crc32(repr(tuple(v.id for v in plan.villages)).encode())


def _menu_fits(form: Form, village: str) -> bool:
    """Whether the menu of ``village`` offers ``form``: a village's head, the village's own
    forms; a commune officer (COMMUNE_ID), the commune's forms and the baseline forms."""
    if village == COMMUNE_ID:
        return form.level == "commune" or form.baseline
    return form.level != "commune" and not form.baseline


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
