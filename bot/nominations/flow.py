"""The good-deed nomination as a conversation: five short steps, a summary, a receipt.

Like the report engine (``bot.reports.engine``) it is pure: it takes the saved draft and one input
and returns the replies, the draft to save and, when the person presses Gửi, an effect for
the caller to store. Buttons carry the draft's step number, so a stale button changes
nothing; every button can also be typed (its words, or its number on a choice-only step).
A saved draft may be older than the plan: ``NominationFlow.reconcile`` fits it to the
current one (a kind or a village no longer in the plan is asked again).
"""

from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from bot.i18n import _, format_number
from bot.messages import Choice, Reply
from bot.plan.model import Plan
from bot.reports.engine import Input, caption_of, indexed, menu_number, photo_problem, token_number
from bot.text import clean_text, normalize_text

FLOW = "nomination"
STEPS = ("who", "village", "deed", "kind", "photos")
ORDER = (*STEPS, "summary")  # the steps, then the summary
NAME_LIMIT = 200
DEED_LIMIT = 1000
MAX_PHOTOS = 3
VILLAGE_BUTTONS = 30  # more villages than this: the own village as a button, others typed

SKIP, DONE, BACK, SEND, CANCEL, YES, NO = "skip", "done", "back", "send", "cancel", "y", "n"


@dataclass
class NominationDraft:
    own_village: str | None = None
    mode: str = "who"  # one of STEPS, "summary" or "confirm_cancel"
    seq: int = 0
    nominee: str = ""
    village: str | None = None
    deed: str = ""
    kind: str | None = None
    photos: list[str] = field(default_factory=list)
    captions: list[str] = field(default_factory=list)  # each photo's caption, in order
    resume: str | None = None
    # Added later; drafts saved before them load with the defaults.
    village_name: str | None = None  # the chosen village's name (to name it once it is gone)
    return_to: str | None = None  # after a step asked again (``reconcile``), where to go back
    shape: int | None = None  # what the last screen's buttons meant (``NominationFlow._shape``)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["flow"] = FLOW
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NominationDraft:
        """A saved draft; keys it does not know are ignored, missing ones take defaults."""
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class SubmitNomination:
    """Store this nomination and call ``NominationFlow.submitted`` with its number."""

    nominee: str
    village: str
    deed: str
    kind: str
    photos: tuple[str, ...]
    captions: tuple[str, ...] = ()  # each photo's caption ("" for none), in order


@dataclass
class NominationStep:
    replies: list[Reply]
    draft: NominationDraft | None
    effect: SubmitNomination | None = None


class NominationFlow:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan

    # -- entry points -------------------------------------------------------------------

    def start(self, own_village: str | None) -> NominationStep:
        return self._show(NominationDraft(own_village=own_village), [])

    def resume(self, draft: NominationDraft) -> NominationStep:
        """``/detcu`` or ``/tieptuc`` with a draft open: where the person stopped; at the
        "drop it?" question, the nomination goes on where it was."""
        if draft.mode == "confirm_cancel":
            draft.mode = draft.resume or "who"
            draft.resume = None
            return self._show(draft, [])
        lead = _("Bạn đang làm dở một đề cử. Tiếp tục từ chỗ đã dừng:")
        return self._show(draft, [lead], bump=False)

    def prompt(self, draft: NominationDraft) -> Reply:
        return self._render(draft)

    def reconcile(self, draft: NominationDraft) -> tuple[NominationDraft, list[str]]:
        """Fit a saved draft to the current plan, which may have changed since it was saved.

        Returns the draft to go on with and what changed, as sentences to show before the
        screen; ``(draft, [])``, the same object, when nothing needs to change (checked
        cheaply on every message). A chosen kind no longer among the plan's
        ``nomination_kinds``, or a village no longer in the plan, is cleared and, when the
        person is already past that step, asked again, after which they go back to where
        they were (the other answers are kept). On the village or kind step itself, a list
        of buttons that changed is shown anew and the step number moves on, so the old
        buttons no longer work. Whenever there are notes the screen is new to the person:
        show the notes and ``prompt`` rather than apply the message that came with it.
        """
        new = NominationDraft.from_dict(draft.to_dict())
        new.photos = list(draft.photos)
        notes: list[str] = []
        inner = (draft.resume or "who") if draft.mode == "confirm_cancel" else draft.mode
        if inner not in ORDER:  # a mode this version does not know
            inner = self._first_missing(new)
        if draft.village is not None:
            village = self.plan.village(draft.village)
            if village is None:
                new.village = None
                notes.append(
                    _("Thôn “{village}” không còn trong kế hoạch; xin chọn lại thôn.").format(
                        village=draft.village_name or draft.village
                    )
                )
            else:  # the same village, maybe under a new id (matched by its name)
                new.village, new.village_name = village.id, village.name
        if draft.kind is not None and draft.kind not in self.plan.nomination_kinds:
            new.kind = None
            notes.append(
                _("Loại gương “{kind}” không còn trong kế hoạch; xin chọn lại loại.").format(
                    kind=draft.kind
                )
            )
        missing = self._first_missing(new)
        if ORDER.index(missing) < ORDER.index(inner):
            later = [inner, *([new.return_to] if new.return_to in ORDER else [])]
            new.return_to = max(later, key=ORDER.index)
            inner = missing
        elif not notes and draft.shape is not None and draft.shape != self._shape(new, inner):
            notes.append(_("Danh sách lựa chọn vừa được sửa trong kế hoạch; xin chọn lại."))
        if draft.mode == "confirm_cancel":
            new.resume = inner
        else:
            new.mode = inner
        if notes:
            new.seq += 1
        new.shape = self._shape(new, inner)
        if not notes and new == draft:
            return draft, []
        return new, notes

    def _first_missing(self, draft: NominationDraft) -> str:
        """The first step without its answer (photos are optional), else the summary."""
        for step, given in (
            ("who", draft.nominee),
            ("village", draft.village),
            ("deed", draft.deed),
            ("kind", draft.kind),
        ):
            if not given:
                return step
        return "summary"

    def _shape(self, draft: NominationDraft, mode: str) -> int | None:
        """A fingerprint of what the buttons of step ``mode`` mean (None: nothing from
        the plan)."""
        if mode == "village":
            return zlib.crc32(repr(tuple(v.id for v in self.plan.villages)).encode())
        if mode == "kind":
            return zlib.crc32(repr(self.plan.nomination_kinds).encode())
        return None

    def cancel(self, draft: NominationDraft) -> NominationStep:
        if draft.mode == "who" and not draft.nominee:
            return NominationStep([Reply(_("Đã hủy đề cử."))], None)
        if draft.mode != "confirm_cancel":
            draft.resume = draft.mode
            draft.mode = "confirm_cancel"
        return self._show(draft, [])

    def submitted(self, number: str) -> NominationStep:
        text = _(
            "Đã nhận đề cử số {number}. Cảm ơn anh/chị! Thường trực Hội đồng Thi đua – "
            "Khen thưởng sẽ xem xét và báo lại. Gõ /detcu_ds để xem các đề cử của bạn."
        ).format(number=number)
        return NominationStep([Reply(text)], None)

    # -- one input ----------------------------------------------------------------------

    def handle(self, draft: NominationDraft, inp: Input) -> NominationStep:
        token: str | None = None
        if inp.kind == "choice":
            seq, _sep, token = inp.text.partition(":")
            if token_number(seq) != draft.seq:
                stale = _("Nút này thuộc một bước trước nên không còn dùng được.")
                return self._show(draft, [stale], bump=False)
        elif inp.kind == "text":
            token = self._typed(draft, inp.text)
        if token == BACK:
            return self._back(draft)
        handler = getattr(self, f"_on_{draft.mode}")
        result: NominationStep = handler(draft, inp, token)
        return result

    def _typed(self, draft: NominationDraft, text: str) -> str | None:
        wanted = normalize_text(text)
        choices = self._choices(draft)
        for choice in choices:
            if wanted == normalize_text(choice.label):
                return choice.value.partition(":")[2]
        if wanted == normalize_text(_("Quay lại")) and draft.mode != "who":
            return BACK
        if draft.mode in ("village", "kind", "photos", "summary", "confirm_cancel"):
            number = menu_number(wanted)
            if number is not None and 1 <= number <= len(choices):
                return choices[number - 1].value.partition(":")[2]
        return None

    def _text_answer(self, inp: Input, limit: int) -> tuple[str | None, str | None]:
        """The typed text, less control characters (``clean_text``), or a problem to tell."""
        if inp.kind == "photo":
            return None, _("Bước này cần chữ, không phải ảnh.")
        if inp.kind != "text":
            return None, _("Xin gõ câu trả lời bằng chữ.")
        text = clean_text(inp.text)
        if not text:
            return None, _("Xin gõ câu trả lời bằng chữ.")
        if len(text) > limit:
            return None, _(
                "Dài quá: tối đa {limit} ký tự, bạn đã gửi {count} ký tự. Xin rút gọn rồi gửi lại."
            ).format(limit=format_number(limit), count=format_number(len(text)))
        return text, None

    def _on_who(self, draft: NominationDraft, inp: Input, token: str | None) -> NominationStep:
        text, problem = self._text_answer(inp, NAME_LIMIT)
        if text is None:
            return self._show(draft, [problem or ""], bump=False)
        if not any(char.isalpha() for char in text):  # "👍", "123": not a name
            named = _("Xin gõ tên người hoặc tập thể được đề cử bằng chữ, ví dụ Bà Nguyễn Thị Lan.")
            return self._show(draft, [named], bump=False)
        draft.nominee = text
        return self._next(draft)

    def _on_village(self, draft: NominationDraft, inp: Input, token: str | None) -> NominationStep:
        index = indexed(token, "v")
        if index is not None and index < len(self.plan.villages):
            village = self.plan.villages[index]
            draft.village, draft.village_name = village.id, village.name
            return self._next(draft)
        if inp.kind == "text" and inp.text.strip():
            village = self.plan.village(inp.text.strip())
            if village is not None:
                draft.village, draft.village_name = village.id, village.name
                return self._next(draft)
            problem = _("Không thấy thôn “{name}”. Xin chọn hoặc gõ lại tên thôn.").format(
                name=inp.text.strip()[:60]
            )
            return self._show(draft, [problem], bump=False)
        return self._show(draft, [_("Xin chọn một thôn.")], bump=False)

    def _on_deed(self, draft: NominationDraft, inp: Input, token: str | None) -> NominationStep:
        text, problem = self._text_answer(inp, DEED_LIMIT)
        if text is None:
            return self._show(draft, [problem or ""], bump=False)
        draft.deed = text
        return self._next(draft)

    def _on_kind(self, draft: NominationDraft, inp: Input, token: str | None) -> NominationStep:
        kinds = self.plan.nomination_kinds
        index = indexed(token, "k")
        if index is not None and index < len(kinds):
            draft.kind = kinds[index]
            return self._next(draft)
        return self._show(draft, [_("Xin chọn một loại.")], bump=False)

    def _on_photos(self, draft: NominationDraft, inp: Input, token: str | None) -> NominationStep:
        if token in (SKIP, DONE):
            draft.mode = "summary"
            return self._show(draft, [])
        if inp.kind == "photo":
            problem = photo_problem(inp)
            if problem is not None or inp.file_id is None:
                return self._show(draft, [problem or ""], bump=False)
            if len(draft.photos) >= MAX_PHOTOS:
                full = _("Ảnh này không được thêm: mỗi đề cử có tối đa {limit} ảnh.").format(
                    limit=MAX_PHOTOS
                )
                return self._show(draft, [full], bump=False)
            draft.captions = self._captions(draft)  # older drafts kept none
            draft.photos.append(inp.file_id)
            draft.captions.append(caption_of(inp))
            if len(draft.photos) >= MAX_PHOTOS:
                draft.mode = "summary"
                lead = _("Đã nhận đủ {count} ảnh.").format(count=MAX_PHOTOS)
                return self._show(draft, [lead])
            lead = _("Đã nhận ảnh {count}/{limit}.").format(
                count=len(draft.photos), limit=MAX_PHOTOS
            )
            return self._show(draft, [lead])
        return self._show(draft, [_("Xin gửi ảnh, hoặc chọn một mục bên dưới.")], bump=False)

    @staticmethod
    def _captions(draft: NominationDraft) -> list[str]:
        """One caption per photo ("" where none was given)."""
        return (list(draft.captions) + [""] * len(draft.photos))[: len(draft.photos)]

    def _on_summary(self, draft: NominationDraft, inp: Input, token: str | None) -> NominationStep:
        if token == SEND:
            missing = self._first_missing(draft)
            if missing != "summary" or draft.village is None or draft.kind is None:
                # only a draft that skipped ``reconcile`` after a change of the plan
                draft.mode, draft.return_to = missing, "summary"
                return self._show(draft, [])
            effect = SubmitNomination(
                draft.nominee,
                draft.village,
                draft.deed,
                draft.kind,
                tuple(draft.photos),
                tuple(self._captions(draft)),
            )
            return NominationStep([], draft, effect)
        if token == CANCEL:
            return self.cancel(draft)
        return self._show(draft, [_("Xin chọn Gửi, Quay lại hoặc Hủy.")], bump=False)

    def _on_confirm_cancel(
        self, draft: NominationDraft, inp: Input, token: str | None
    ) -> NominationStep:
        if token == YES:
            return NominationStep([Reply(_("Đã bỏ đề cử đang làm."))], None)
        if token == NO:
            draft.mode = draft.resume or "who"
            draft.resume = None
            return self._show(draft, [])
        return self._show(draft, [_("Xin chọn Có hoặc Không.")], bump=False)

    def _next(self, draft: NominationDraft) -> NominationStep:
        """The next step; after a step asked again, straight back to where the person was
        once every step before it has its answer."""
        index = STEPS.index(draft.mode)
        draft.mode = STEPS[index + 1] if index + 1 < len(STEPS) else "summary"
        target = draft.return_to
        if target is not None:
            missing = self._first_missing(draft)
            if ORDER.index(missing) >= ORDER.index(target):
                draft.mode = max(draft.mode, target, key=ORDER.index)
            else:  # another step was asked again too: skip those answered in between
                draft.mode = max(draft.mode, missing, key=ORDER.index)
            if ORDER.index(draft.mode) >= ORDER.index(target):
                draft.return_to = None
        return self._show(draft, [])

    def _back(self, draft: NominationDraft) -> NominationStep:
        # Going back keeps every answer, photos included: they show as the current value.
        if draft.mode == "summary":
            draft.mode = "photos"
        elif draft.mode in STEPS and draft.mode != "who":
            draft.mode = STEPS[STEPS.index(draft.mode) - 1]
        else:
            return self._show(draft, [], bump=False)
        return self._show(draft, [])

    # -- rendering ----------------------------------------------------------------------

    def _show(self, draft: NominationDraft, lead: list[str], bump: bool = True) -> NominationStep:
        if bump:
            draft.seq += 1
        draft.shape = self._shape(
            draft, draft.resume if draft.mode == "confirm_cancel" else draft.mode
        )
        reply = self._render(draft)
        text = "\n\n".join([*[line for line in lead if line], reply.text])
        return NominationStep([replace(reply, text=text)], draft)

    def _render(self, draft: NominationDraft) -> Reply:
        many = len(self.plan.villages) > VILLAGE_BUTTONS  # then the village is typed
        typed = draft.mode in ("who", "deed") or (draft.mode == "village" and many)
        return Reply(
            self._text(draft),
            tuple(self._choices(draft)),
            typed_answer=typed,
            asks_photo=draft.mode == "photos",
        )

    def _choice(self, draft: NominationDraft, label: str, token: str) -> Choice:
        return Choice(label, f"{draft.seq}:{token}")

    def _villages(self, draft: NominationDraft) -> list[int]:
        """Indexes of the villages offered as buttons: the person's own first."""
        indexes = list(range(len(self.plan.villages)))
        own = [i for i in indexes if self.plan.villages[i].id == draft.own_village]
        if len(indexes) > VILLAGE_BUTTONS:
            return own
        return own + [i for i in indexes if i not in own]

    def _choices(self, draft: NominationDraft) -> list[Choice]:
        c = self._choice
        back = [c(draft, _("Quay lại"), BACK)]
        mode = draft.mode
        if mode == "who":
            return []
        if mode == "village":
            names = [(i, self.plan.villages[i].name) for i in self._villages(draft)]
            return [c(draft, name, f"v{i}") for i, name in names] + back
        if mode == "deed":
            return back
        if mode == "kind":
            kinds = self.plan.nomination_kinds
            return [c(draft, kind, f"k{i}") for i, kind in enumerate(kinds)] + back
        if mode == "photos":
            if draft.photos:
                return [c(draft, _("Xong"), DONE), *back]
            return [c(draft, _("Bỏ qua"), SKIP), *back]
        if mode == "summary":
            return [c(draft, _("Gửi"), SEND), *back, c(draft, _("Hủy"), CANCEL)]
        if mode == "confirm_cancel":
            return [c(draft, _("Có, bỏ đề cử"), YES), c(draft, _("Không, làm tiếp"), NO)]
        return []

    def _village_name(self, village_id: str | None) -> str:
        village = self.plan.village(village_id or "")
        return village.name if village else (village_id or "")

    def _text(self, draft: NominationDraft) -> str:
        mode = draft.mode
        total = len(STEPS)
        if mode == "who":
            return "\n".join(
                [
                    _("Đề cử gương người tốt, việc tốt · bước {n}/{total}").format(
                        n=1, total=total
                    ),
                    _("Ai được đề cử? Gõ họ tên một người, hoặc tên một tập thể."),
                ]
            )
        if mode == "village":
            lines = [
                _("Bước {n}/{total}").format(n=2, total=total),
                _("{nominee} ở thôn nào?").format(nominee=draft.nominee),
            ]
            if len(self.plan.villages) > VILLAGE_BUTTONS:
                lines.append(_("Gõ tên thôn."))
            return "\n".join(lines)
        if mode == "deed":
            return "\n".join(
                [
                    _("Bước {n}/{total}").format(n=3, total=total),
                    _(
                        "{nominee} đã làm việc tốt gì? Kể ngắn gọn trong một tin nhắn "
                        "(tối đa {limit} ký tự)."
                    ).format(nominee=draft.nominee, limit=format_number(DEED_LIMIT)),
                ]
            )
        if mode == "kind":
            return "\n".join(
                [_("Bước {n}/{total}").format(n=4, total=total), _("Thuộc loại gương nào?")]
            )
        if mode == "photos":
            lines = [_("Bước {n}/{total}").format(n=5, total=total)]
            if len(draft.photos) >= MAX_PHOTOS:
                lines.append(_("Đã có đủ {limit} ảnh. Chọn Xong.").format(limit=MAX_PHOTOS))
            elif draft.photos:
                lines.append(
                    _("Đã có {count}/{limit} ảnh.").format(
                        count=len(draft.photos), limit=MAX_PHOTOS
                    )
                    + " "
                    + _("Gửi thêm ảnh (tối đa {limit}), hoặc chọn Xong.").format(limit=MAX_PHOTOS)
                )
            else:
                lines.append(
                    _("Gửi từ 1 đến {limit} ảnh (không bắt buộc), hoặc chọn Bỏ qua.").format(
                        limit=MAX_PHOTOS
                    )
                )
            return "\n".join(lines)
        if mode == "confirm_cancel":
            return _("Bỏ đề cử đang làm? Những gì đã nhập sẽ mất.")
        return "\n".join(
            [
                _("Tóm tắt đề cử:"),
                _("Người được đề cử: {nominee}").format(nominee=draft.nominee),
                _("Thôn: {village}").format(village=self._village_name(draft.village)),
                _("Việc làm: {deed}").format(deed=draft.deed),
                _("Loại: {kind}").format(kind=draft.kind or ""),
                _("Ảnh: {count}").format(count=len(draft.photos)),
                "",
                _("Chọn Gửi để gửi đề cử."),
            ]
        )
