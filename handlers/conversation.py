"""Turn one incoming message into replies: registration, commands, and the form engine.

``Conversations.apply`` applies a channel-neutral ``Incoming`` within the caller's
transaction and returns the ``Outcome`` (the replies, their locale, whom they are for):
the inbox (``handlers.inbox``) calls it in the transaction that marks the event applied
and queues the replies, so the state and the replies are saved together or not at all.
``handle`` is the same in a transaction of its own, for the console and the tests.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, cast

from babel.dates import format_time

from bot.clock import Clock, system_clock
from bot.domain import (
    ROLE_ADMIN,
    ROLE_CHAIR,
    ROLE_HEAD,
    ROLE_OFFICER,
    ROLE_SECRETARIAT,
    Identity,
    Person,
)
from bot.i18n import (
    COMMAND_NAMES,
    DAY,
    SUPPORTED_LOCALES,
    _,
    command_name,
    current_locale,
    format_date,
    normalize_locale,
    use_locale,
)
from bot.invites import CODE_LENGTH, MAX_FAILURES, locked_until, looks_like_code, normalize_code
from bot.messages import Choice, Incoming, Recipe, Reply
from bot.nominations.flow import NominationDraft
from bot.nominations.rules import ACTION_OF, ACTIONS, WORDS
from bot.plan.model import COMMUNE_ID, Form, Plan
from bot.plan.periods import Period, PeriodKind, current_period, parse_period
from bot.reports.corrections import corrections_until, open_for_corrections
from bot.reports.engine import (
    MENU_CORRECTIONS,
    Begin,
    Draft,
    FormEngine,
    FormOption,
    Input,
    Step,
    Submit,
)
from bot.text import display_name, in_sentence, normalize_text, shortened
from handlers.assessment import FLOW as ASSESSMENT
from handlers.assessment import FLOWS as ASSESSMENT_FLOWS
from handlers.assessment import REVIEW_FLOW as ASSESSMENT_REVIEW
from handlers.assessment import AssessmentDesk, opens_review
from handlers.board import board_reply
from handlers.digest import Renderer
from handlers.nominations import ANSWER_FLOW, REVIEW_FLOW, NominationDesk
from storage.repository import Storage, Transaction, keep_draft
from web.signin import DIGEST_LINK_VALID, LINK_VALID, WebLinks, digest_target

log = logging.getLogger(__name__)

LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}
# Marks a saved draft while the language menu is shown over it: a language's name typed
# then switches the language (and is not an answer to the open screen).
LANGUAGE_MENU = "language_menu"
REPORT, NOMINATION = "report", "nomination"
NEW = "moi"  # the last word of a command that drops the open draft to start anew
BUTTON_BYTES = 64  # the most a button carries (Telegram's callback_data)
# Commands that open a draft, and the flow of that draft.
STARTS = {
    "/baocao": REPORT,
    "/report": REPORT,
    "/detcu": NOMINATION,
    "/nominate": NOMINATION,
    "/duyet": REVIEW_FLOW,
    "/traloi": ANSWER_FLOW,
    "/answer": ANSWER_FLOW,
    "/tucham": ASSESSMENT,
    "/assess": ASSESSMENT,
    "/tucham_ds": ASSESSMENT_REVIEW,
    "/assessments": ASSESSMENT_REVIEW,
}
DIGEST_ROLES = (ROLE_SECRETARIAT, ROLE_CHAIR, ROLE_ADMIN)
IDENTITY_REFRESH = timedelta(minutes=15)


@dataclass(frozen=True)
class Command:
    """One command as its handler sees it."""

    tx: Transaction
    person: Person
    saved: dict[str, Any] | None  # the open draft, any flow
    draft: Draft | None  # the open report draft, read
    args: str
    words: list[str]
    now: datetime


@dataclass
class Outcome:
    """What to send back, in which locale to render menus around it, and to whom (the
    person, when registered)."""

    replies: list[Reply] = field(default_factory=list)
    locale: str = "vi"
    person_id: int | None = None


def needs_words(words: list[str]) -> bool:
    """Whether ``/duyet <id> <action>`` waits for typed words (a question, a reason)."""
    action = ACTIONS.get(ACTION_OF.get(words[1], "")) if len(words) > 1 else None
    return action is None or action.needs_text


def role_name(role: str) -> str:
    names = {
        ROLE_HEAD: _("trưởng thôn"),
        ROLE_SECRETARIAT: _("thường trực Hội đồng Thi đua – Khen thưởng (Văn phòng – Thống kê)"),
        ROLE_CHAIR: _("Chủ tịch Hội đồng Thi đua – Khen thưởng"),
        ROLE_OFFICER: _("cán bộ xã"),
    }
    return names.get(role, _("quản trị viên"))


def fills(person: Person, form: Form) -> bool:
    """Whether ``person`` fills ``form``: a village's head, the village forms (not the
    baseline ones); a commune officer, the commune's forms and the baseline forms (each
    village's figures of the reference year)."""
    if person.role == ROLE_HEAD:
        return person.village_id is not None and form.level != "commune" and not form.baseline
    if person.role == ROLE_OFFICER:
        return form.level == "commune" or form.baseline
    return False


def baseline_period(plan: Plan, form: Form, today: date) -> Period:
    """The one period a baseline form's reports are kept under (each correction a new
    version of it): the reference year of the indicators whose baseline it gives
    (``baseline_year``), else the year before the plan starts, else the year before
    ``today``."""
    asked = {q.id for q in form.questions}
    for indicator in plan.indicators:
        if indicator.baseline_year is not None and set(indicator.baseline_from) & asked:
            return parse_period(f"{indicator.baseline_year:04d}")
    year = plan.starts.year if plan.starts is not None else today.year
    return parse_period(f"{year - 1:04d}")


class Conversations:
    def __init__(self, plan: Plan, storage: Storage, clock: Clock = system_clock) -> None:
        self.plan = plan
        self.storage = storage
        self.clock = clock
        self.engine = FormEngine(plan)
        self.desk = NominationDesk(plan, lambda: self.queued())
        self.assessment = AssessmentDesk(plan, lambda: self.queued())
        self.renderer = Renderer(plan, storage, self.desk)
        self.web: WebLinks | None = None  # the web page's links, when it is served
        self._commands = self._command_table()
        self.queued: Callable[[], None] = lambda: None  # the outbox's wake-up, once running

    async def handle(self, incoming: Incoming) -> Outcome:
        """Apply one message in a transaction of its own and return the replies (the console
        and tests; the remote channels go through ``handlers.inbox``)."""
        async with self.storage.transaction() as tx:
            outcome = await self.apply(tx, incoming, self.clock())
        with use_locale(outcome.locale):
            outcome.replies = await self.renderer.render(outcome.replies)
        return outcome

    async def apply(self, tx: Transaction, incoming: Incoming, now: datetime) -> Outcome:
        """Apply one message within ``tx``: registration, a command, or the open draft's
        next step. The state it changes is written in ``tx``; the replies are returned."""
        with use_locale(incoming.language_code):
            if incoming.unreadable:
                text = _(
                    "Xin lỗi, bot không đọc được tin nhắn này (có thể do cài đặt "
                    "riêng tư). Xin gõ lại bằng chữ."
                )
                return Outcome([Reply(text)], current_locale.get())
            found = await tx.person_with_draft(incoming.channel, incoming.user_id)
            if found is None:
                replies, registered = await self._stranger(tx, incoming, now)
                return Outcome(replies, current_locale.get(), registered)
            person, saved = found
            current_locale.set(person.locale)
            if self._stale_identity(person, incoming, now):
                await tx.touch_identity(self._identity(incoming), now)
            replies = await self._member(tx, person, saved, incoming, now)
            return Outcome(replies, current_locale.get(), person.id)

    @staticmethod
    def _stale_identity(person: Person, incoming: Incoming, now: datetime) -> bool:
        """Whether the identity's record (chat, name, last use) needs writing: only when
        something changed, it is not the person's most recent channel, or it is old."""
        for rank, identity in enumerate(person.identities):
            if (identity.channel, identity.user_id) == (incoming.channel, incoming.user_id):
                return (
                    rank > 0
                    or identity.unreachable_at is not None  # they are back: clear it
                    or identity.chat_id != incoming.chat_id
                    or (
                        identity.display_name != display_name(incoming.display_name)
                        and bool(incoming.display_name)
                    )
                    or identity.last_seen_at is None
                    or now - identity.last_seen_at > IDENTITY_REFRESH
                )
        return True

    @staticmethod
    def _identity(incoming: Incoming) -> Identity:
        return Identity(
            incoming.channel,
            incoming.user_id,
            incoming.chat_id,
            display_name(incoming.display_name),
        )

    # -- strangers and registration ---------------------------------------------------------

    async def _stranger(
        self, tx: Transaction, incoming: Incoming, now: datetime
    ) -> tuple[list[Reply], int | None]:
        """Someone not registered: an invite code registers them (the person's id is
        returned then); a wrong one counts toward the lock-out."""
        failures = await tx.invite_failures_since(
            incoming.channel, incoming.user_id, now - timedelta(hours=3)
        )
        until = locked_until(failures, now)
        if until is not None:
            return [Reply(self._locked_text(until))], None

        attempted, code = self._code_in(incoming)
        if not attempted:
            return [Reply(self._stranger_text())], None

        invite = await tx.invite(code) if code is not None else None
        linked = None
        if invite is not None and invite.person_id is not None:
            linked = await tx.person(invite.person_id)
        problem = None
        if code is None:
            problem = _("Mã mời gồm {length} ký tự (chữ và số), ví dụ K7QX-M2PA.").format(
                length=CODE_LENGTH
            )
        elif invite is None:
            problem = _("Mã mời không đúng.")
        elif invite.used_at is not None:
            problem = _("Mã mời này đã được dùng.")
        elif invite.voided_at is not None or (
            invite.person_id is not None and (linked is None or linked.revoked_at is not None)
        ):
            problem = _("Mã mời này không còn hiệu lực. Xin cán bộ xã một mã mới.")
        elif invite.expires_at <= now:
            problem = _("Mã mời này đã hết hạn. Xin cán bộ xã một mã mới.")
        elif not await tx.use_invite(invite.code, now):  # taken by someone else just now
            problem = _("Mã mời này đã được dùng.")
        if problem is not None or invite is None:
            await tx.record_invite_failure(incoming.channel, incoming.user_id, now)
            failures.append(now)
            until = locked_until(failures, now)
            if until is not None:
                return [Reply(f"{problem} {self._locked_text(until)}")], None
            recent = [f for f in failures if f > now - timedelta(hours=1)]
            left = MAX_FAILURES - len(recent)
            again = _("Kiểm tra lại mã và gửi lại (còn {left} lần thử).").format(left=left)
            return [Reply(f"{problem} {again}")], None

        name = display_name(incoming.display_name) or _("Người dùng {id}").format(
            id=shortened(incoming.user_id)
        )
        if linked is not None:  # a second channel for someone already registered
            person = linked
            current_locale.set(person.locale)
        else:
            person = await tx.create_person(
                name, invite.role, invite.village_id, current_locale.get(), now
            )
        await tx.add_identity(person.id, self._identity(incoming), now)
        await tx.invite_used_by(invite.code, person.id)
        return [Reply(self._welcome(person))], person.id

    @staticmethod
    def _code_in(incoming: Incoming) -> tuple[bool, str | None]:
        """Whether the message is an attempt at an invite code, and the code when it has a
        code's shape: ``/start`` with anything after it, or a bare word that looks like a
        code (``K7QX-M2PA``, or a mistyped ``SAI0XYZ``)."""
        if incoming.kind != "text":
            return False, None
        command = incoming.command
        if command is not None:
            name, args = command
            if name != "/start" or not args:
                return False, None
            return True, normalize_code(args)
        code = normalize_code(incoming.text)
        return code is not None or looks_like_code(incoming.text), code

    def _locked_text(self, until: datetime) -> str:
        local = until.astimezone(self.plan.tz)
        return _(
            "Bạn đã nhập sai mã mời {count} lần nên tạm bị khóa đến {time} ngày {date}."
        ).format(
            count=MAX_FAILURES,
            time=format_time(local, "HH:mm", locale=current_locale.get()),
            date=format_date(local.date(), DAY),
        )

    def _stranger_text(self) -> str:
        return _(
            "Xin chào! Đây là trợ lý thi đua của {commune}. Bạn chưa đăng ký.\n"
            "Xin mã mời ở Văn phòng – Thống kê xã, rồi gửi: /start MÃ (hoặc chỉ gửi mã)."
        ).format(commune=in_sentence(self.plan.commune))

    def _welcome(self, person: Person) -> str:
        if person.role == ROLE_HEAD and person.village_id:
            text = _("Chào mừng {name}! Bạn đã đăng ký là {role} của {village}.").format(
                name=person.name, role=role_name(person.role), village=self._village(person)
            )
            return text + "\n" + _("Gõ /baocao để gửi báo cáo, /huongdan để xem hướng dẫn.")
        text = _("Chào mừng {name}! Bạn đã đăng ký là {role} của {commune}.").format(
            name=person.name, role=role_name(person.role), commune=in_sentence(self.plan.commune)
        )
        if person.role == ROLE_OFFICER:
            return text + "\n" + self._officer_intro()
        return text + "\n" + _("Gõ /huongdan để xem hướng dẫn.")

    def _officer_intro(self) -> str:
        """What a commune officer does, for the welcome."""
        return _(
            "Anh/chị điền các báo cáo của xã (chỉ tiêu của cả xã) và nhập số liệu năm làm mốc "
            "của từng thôn. Gõ /baocao để bắt đầu, /huongdan để xem hướng dẫn."
        )

    def _village(self, person: Person) -> str:
        village = self.plan.village(person.village_id or "")
        return village.name if village else (person.village_id or "")

    # -- registered people --------------------------------------------------------------

    async def _member(
        self,
        tx: Transaction,
        person: Person,
        saved: dict[str, Any] | None,
        incoming: Incoming,
        now: datetime,
    ) -> list[Reply]:
        notes: list[str] = []
        if saved is not None:
            saved, notes = await self._fitted(tx, person, saved, now)
            if notes and incoming.command is None:
                # The screen is new to the person: show it rather than apply the message.
                return self._with_draft([Reply("\n".join(notes))], saved)
        replies = await self._member_input(tx, person, saved, incoming, now)
        return [Reply("\n".join(notes)), *replies] if notes else replies

    async def _fitted(
        self, tx: Transaction, person: Person, saved: dict[str, Any], now: datetime
    ) -> tuple[dict[str, Any] | None, list[str]]:
        """The open draft fitted to the plan as it is now (it may have been edited since the
        draft was saved), saved again when that changed it, and what changed, to tell."""
        flow = saved.get("flow", REPORT)
        fitted: dict[str, Any] | None
        if flow == REPORT:
            draft = Draft.from_dict(saved)
            found, notes = self.engine.reconcile(draft)
            form = self._form_of(found)
            if found is not None and form is not None and not fills(person, form):
                # the plan now gives the form to someone else (another level, a baseline)
                gone = _(
                    "Biểu mẫu “{form}” nay do người khác điền nên bản nháp đã được bỏ. "
                    "Gõ /baocao để xem các báo cáo đang mở."
                ).format(form=form.title)
                found, notes = None, [*notes, gone]
            if found is draft:
                return saved, notes
            fitted = found.to_dict() if found is not None else None
        elif flow == NOMINATION:
            nomination = NominationDraft.from_dict(saved)
            kept, notes = self.desk.flow.reconcile(nomination)
            if kept is nomination:
                return saved, notes
            fitted = kept.to_dict()
        else:
            return saved, []
        await keep_draft(tx, person.id, fitted, now)
        return fitted, notes

    def _form_of(self, draft: Draft | None) -> Form | None:
        """The plan's form of a report draft, or None (no form chosen yet, or gone)."""
        if draft is None or draft.form is None:
            return None
        return next((f for f in self.plan.forms if f.id == draft.form), None)

    async def _member_input(
        self,
        tx: Transaction,
        person: Person,
        saved: dict[str, Any] | None,
        incoming: Incoming,
        now: datetime,
    ) -> list[Reply]:
        flow = saved.get("flow", REPORT) if saved else None
        draft = Draft.from_dict(saved) if saved and flow == REPORT else None
        if incoming.kind == "other":  # a sticker, a voice note…: say so over the open screen
            said = self._cannot_read(incoming.detail)
            if saved is None:
                return [Reply(said)]
            screen = self._with_draft([], saved)[0]
            return [replace(screen, text=f"{said}\n\n{screen.text}")]
        if incoming.kind == "choice" and incoming.text.startswith("lang:"):
            return await self._set_language(tx, person, incoming.text[5:], saved, now)
        if saved is not None and saved.get(LANGUAGE_MENU) and incoming.kind == "text":
            code = self._language_named(incoming.text)
            if code is not None:  # typed at the language menu, whatever else is open
                return await self._set_language(tx, person, code, saved, now)

        command = incoming.command
        if command is not None:
            name, args = command
            words = args.split()
            fresh = bool(words) and words[-1] == NEW  # "… moi": drop the open draft first
            if fresh:
                words = words[:-1]
                args = " ".join(words)
            starts = STARTS.get(name)
            if name in ("/tucham_ds", "/assessments") and not opens_review(words):
                starts = None  # the list and an acceptance open no draft
            if name == "/duyet" and not needs_words(words):
                starts = None  # a one-tap review (Ghi nhận, → next stage) opens no draft
            if starts is not None and saved is not None and flow != starts:
                if not fresh:
                    return self._busy(saved, f"{name} {args}".strip())
                await tx.delete_draft(person.id)
                saved, draft, flow = None, None, None
            handler = self._commands.get(name)
            if handler is None:
                text = _("Không có lệnh {command}. Gõ /huongdan để xem các lệnh.").format(
                    command=shortened(name)
                )
                return self._with_draft([Reply(text)], saved)
            return await handler(Command(tx, person, saved, draft, args, words, now))

        if saved is not None and flow != REPORT:
            return await self._flow_input(tx, person, saved, flow, incoming, now)
        if draft is None:
            code = self._language_named(incoming.text) if incoming.kind == "text" else None
            if code is not None:
                return await self._set_language(tx, person, code)
            if incoming.kind == "choice":
                return [Reply(_("Nút này đã hết hiệu lực. Gõ /baocao để bắt đầu báo cáo."))]
            if person.role in (ROLE_HEAD, ROLE_OFFICER):
                return [Reply(_("Gõ /baocao để gửi báo cáo, /huongdan để xem hướng dẫn."))]
            return [Reply(_("Gõ /huongdan để xem hướng dẫn."))]

        inp = await self._input(tx, incoming, now, self.engine.expects_photo(draft))
        step = self.engine.handle(draft, inp)
        return await self._apply(tx, person, step, now)

    @staticmethod
    def _cannot_read(detail: str) -> str:
        if detail == "sticker":
            return _("Xin lỗi, bot chưa đọc được nhãn dán. Xin trả lời bằng chữ.")
        if detail in ("voice", "audio"):
            return _("Xin lỗi, bot chưa nghe được tin nhắn thoại. Xin trả lời bằng chữ.")
        return _("Xin lỗi, bot chưa đọc được loại tin nhắn này. Xin trả lời bằng chữ.")

    # -- commands -------------------------------------------------------------------------

    def _command_table(self) -> dict[str, Callable[[Command], Awaitable[list[Reply]]]]:
        """Each command by its Vietnamese and its English name (``COMMAND_NAMES``)."""
        table: dict[str, Callable[[Command], Awaitable[list[Reply]]]] = {}
        for name, handler in (
            ("/baocao", self._cmd_report),
            ("/detcu", self._cmd_nominate),
            ("/detcu_ds", self._cmd_nominations),
            ("/duyet", self._cmd_review),
            ("/traloi", self._cmd_answer),
            ("/tucham", self._cmd_assess),
            ("/tucham_ds", self._cmd_assessments),
            ("/bangdiem", self._cmd_board),
            ("/tieptuc", self._cmd_continue),
            ("/huy", self._cmd_cancel),
            ("/tonghop", self._cmd_digest),
            ("/xuat", self._cmd_export),
            ("/bantin", self._cmd_bulletin),
            ("/web", self._cmd_web),
            ("/huongdan", self._cmd_help),
            ("/ngonngu", self._cmd_language),
            ("/start", self._cmd_start),
        ):
            table[name] = handler
            table[COMMAND_NAMES.get(name, name)] = handler
        return table

    async def _cmd_report(self, c: Command) -> list[Reply]:
        return await self._report(c.tx, c.person, c.draft, c.now, c.args)

    async def _cmd_nominate(self, c: Command) -> list[Reply]:
        if c.saved is not None:  # a nomination already open: go on with it
            return await self._resume(c)
        return await self.desk.start(c.tx, c.person, c.now)

    async def _cmd_nominations(self, c: Command) -> list[Reply]:
        return self._with_draft(await self.desk.listing(c.tx, c.person), c.saved)

    async def _cmd_review(self, c: Command) -> list[Reply]:
        return await self.desk.review(c.tx, c.person, c.words, c.now)

    async def _cmd_answer(self, c: Command) -> list[Reply]:
        return await self.desk.answer(c.tx, c.person, c.words, c.now)

    async def _cmd_assess(self, c: Command) -> list[Reply]:
        if c.saved is not None:  # a self-assessment already open: go on with it
            return await self._resume(c)
        return await self.assessment.start(c.tx, c.person, c.words, c.now)

    async def _cmd_board(self, c: Command) -> list[Reply]:
        """``/bangdiem [năm]``: the scoreboard (see ``handlers.board``), over the open screen."""
        reply = await board_reply(c.tx, self.plan, c.person, c.args, c.now)
        return self._with_draft([reply], c.saved)

    async def _cmd_assessments(self, c: Command) -> list[Reply]:
        replies = await self.assessment.listing(c.tx, c.person, c.words, c.now)
        return replies if opens_review(c.words) else self._with_draft(replies, c.saved)

    async def _cmd_continue(self, c: Command) -> list[Reply]:
        if c.saved is None:
            return [Reply(_("Bạn không có việc gì đang làm dở."))]
        return await self._resume(c)

    async def _resume(self, c: Command) -> list[Reply]:
        assert c.saved is not None
        if c.draft is not None:
            return await self._apply(c.tx, c.person, self.engine.resume(c.draft), c.now)
        if c.saved.get("flow") in ASSESSMENT_FLOWS:
            replies, state = self.assessment.resume(c.saved)
        else:
            replies, state = self.desk.resume(c.saved)
        await c.tx.save_draft(c.person.id, state, c.now)
        return replies

    async def _cmd_cancel(self, c: Command) -> list[Reply]:
        if c.saved is None:
            return [Reply(_("Bạn không có việc gì đang làm dở."))]
        if c.draft is not None:
            return await self._apply(c.tx, c.person, self.engine.cancel(c.draft), c.now)
        if c.saved.get("flow") in ASSESSMENT_FLOWS:
            replies, left = self.assessment.cancel(c.saved)
        else:
            replies, left = self.desk.cancel(c.saved)
        await keep_draft(c.tx, c.person.id, left, c.now)
        return replies

    def _officers_only(self, c: Command, what: str) -> list[Reply] | None:
        """None for the secretariat, the chair and admins; else why not, and the open screen."""
        if c.person.role in DIGEST_ROLES:
            return None
        return self._with_draft([Reply(what)], c.saved)

    async def _cmd_digest(self, c: Command) -> list[Reply]:
        refused = self._officers_only(
            c, _("Bản tổng hợp dành cho thường trực và Chủ tịch Hội đồng Thi đua.")
        )
        if refused is not None:
            return refused
        made = Reply(_("Bản tổng hợp đang được lập."), recipe=Recipe("digest", c.now))
        link = await self._page_link(
            c,
            digest_target(c.now),
            _("Bảng tính và biểu đồ của bản tổng hợp trên trang web: {url}"),
        )
        return self._with_draft([made, *link], c.saved)

    async def _cmd_export(self, c: Command) -> list[Reply]:
        refused = self._officers_only(
            c, _("Bảng tính dành cho thường trực và Chủ tịch Hội đồng Thi đua.")
        )
        if refused is not None:
            return refused
        made = Reply(_("Bảng tính đang được lập."), recipe=Recipe("workbook", c.now))
        link = await self._page_link(
            c, "/tai-ve", _("Bảng tính của mọi kỳ, tải về từ trang web: {url}")
        )
        return self._with_draft([made, *link], c.saved)

    async def _cmd_bulletin(self, c: Command) -> list[Reply]:
        refused = self._officers_only(
            c, _("Bản tin dành cho thường trực và Chủ tịch Hội đồng Thi đua.")
        )
        if refused is not None:
            return refused
        made = Reply(_("Bản tin đang được lập."), recipe=Recipe("bulletin", c.now))
        return self._with_draft([made], c.saved)

    async def _cmd_web(self, c: Command) -> list[Reply]:
        """``/web``: a single-use link to the web page, valid for LINK_VALID."""
        if self.web is None:
            return self._with_draft(
                [Reply(_("Trang web của thidua chưa được bật trên máy chủ này."))], c.saved
            )
        url = await self.web.link(c.tx, c.person, c.now)
        minutes = int(LINK_VALID.total_seconds() // 60)
        text = _(
            "Mở đường dẫn này trong vòng {minutes} phút để vào trang web; trang sẽ hỏi bạn "
            "có đăng nhập không. Đường dẫn chỉ dùng được một lần, đừng chuyển cho người "
            "khác:\n{url}"
        ).format(minutes=minutes, url=url)
        return self._with_draft([Reply(text)], c.saved)

    async def _page_link(self, c: Command, target: str, text: str) -> list[Reply]:
        """A link of its own to one page of the web page (``text`` says what it opens, with
        ``{url}``), when the web page is served; none otherwise."""
        if self.web is None:
            return []
        url = await self.web.link(c.tx, c.person, c.now, target, valid=DIGEST_LINK_VALID)
        return [Reply(text.format(url=url))]

    async def _cmd_help(self, c: Command) -> list[Reply]:
        return self._with_draft([Reply(self._help(c.person))], c.saved)

    async def _cmd_language(self, c: Command) -> list[Reply]:
        if c.args:
            return await self._set_language(c.tx, c.person, c.args, c.saved, c.now)
        if c.saved is not None:  # a language's name typed next switches, over the draft
            await c.tx.save_draft(c.person.id, {**c.saved, LANGUAGE_MENU: True}, c.now)
        return [self._language_menu()]

    async def _cmd_start(self, c: Command) -> list[Reply]:
        person = c.person
        text = _("Bạn đã đăng ký là {role}{where}.").format(
            role=role_name(person.role),
            where=(" " + _("của {village}").format(village=self._village(person)))
            if person.village_id
            else "",
        )
        return self._with_draft([Reply(text)], c.saved)

    async def _input(
        self, tx: Transaction, incoming: Incoming, now: datetime, wanted: bool
    ) -> Input:
        """The engine's input; a photo the channel downloaded is stored when the screen
        asks for one, and the input carries its key (or no key, with the size, when it was
        too large to fetch)."""
        if incoming.kind == "photo" and incoming.attachments:
            attachment = incoming.attachments[0]
            key = None
            if attachment.data is not None and wanted:
                key = await tx.store_file(attachment.data, attachment.mime_type, now)
            return Input("photo", incoming.text, key, attachment.size)  # the caption
        return Input(incoming.kind, incoming.text)

    async def _flow_input(
        self,
        tx: Transaction,
        person: Person,
        saved: dict[str, Any],
        flow: str | None,
        incoming: Incoming,
        now: datetime,
    ) -> list[Reply]:
        if flow == NOMINATION:
            inp = await self._input(tx, incoming, now, saved.get("mode") == "photos")
            return await self.desk.nomination_input(tx, person, saved, inp, now)
        if flow == ASSESSMENT:
            inp = await self._input(tx, incoming, now, saved.get("mode") == "photo")
            return await self.assessment.flow_input(tx, person, saved, inp, now)
        if flow == ASSESSMENT_REVIEW:
            inp = Input(incoming.kind, incoming.text)
            return await self.assessment.review_input(tx, person, saved, inp, now)
        if incoming.kind != "text":
            return [Reply(_("Xin gõ bằng chữ.")), self.desk.prompt(saved)]
        if flow == REVIEW_FLOW:
            return await self.desk.review_input(tx, person, saved, incoming.text, now)
        return await self.desk.answer_input(tx, person, saved, incoming.text, now)

    def _busy(self, saved: dict[str, Any], command: str) -> list[Reply]:
        """One open draft at a time: finish it, or drop it for the new one."""
        flow = saved.get("flow", REPORT)
        if flow == REPORT and saved.get("form"):
            what = self.plan.form(saved["form"]).title
        elif flow == REPORT:
            what = _("một báo cáo")
        elif flow == NOMINATION:
            what = _("một đề cử")
        elif flow == REVIEW_FLOW:
            what = _("việc xét một đề cử")
        elif flow in ASSESSMENT_FLOWS:
            what = self.assessment.busy_what(saved)
        else:
            what = _("câu trả lời bổ sung cho một đề cử")
        text = _(
            "Bạn đang làm dở {what}. Mỗi lúc chỉ làm một việc: làm tiếp việc đó, "
            "hay bỏ nó để bắt đầu việc mới?"
        ).format(what=what)
        choices = (
            Choice(_("Làm tiếp"), "/tieptuc"),
            Choice(_("Bỏ, làm việc mới"), self._anew(command)),
        )
        return [Reply(text, choices)]

    @staticmethod
    def _anew(command: str) -> str:
        """The command that drops the open draft and starts ``command``: all of it when it
        fits a button (Telegram takes 64 bytes), else the command's name alone."""
        whole = f"{command} {NEW}"
        if len(whole.encode()) <= BUTTON_BYTES:
            return whole
        return f"{command.split(' ', 1)[0][: BUTTON_BYTES - 8]} {NEW}"

    def _with_draft(self, replies: list[Reply], saved: dict[str, Any] | None) -> list[Reply]:
        """After help or a stray command, show the open screen again so the work goes on."""
        if saved is None:
            return replies
        if saved.get("flow", REPORT) == REPORT:
            return [*replies, self.engine.prompt(Draft.from_dict(saved))]
        if saved.get("flow") in ASSESSMENT_FLOWS:
            return [*replies, self.assessment.prompt(saved)]
        return [*replies, self.desk.prompt(saved)]

    async def _report(
        self, tx: Transaction, person: Person, draft: Draft | None, now: datetime, args: str = ""
    ) -> list[Reply]:
        """``/baocao``, or ``/baocao <form> <period>`` (a reminder's button): continue the
        draft if there is one (never reset it), else start that form's period when it is
        open, else offer the menu. A head reports for their village (the village forms), a
        commune officer for the commune (its forms, stored under COMMUNE_ID) and, on a
        baseline form, for the village they choose."""
        if person.role == ROLE_OFFICER:
            reporter = COMMUNE_ID
        elif person.role == ROLE_HEAD and person.village_id:
            if self.plan.village(person.village_id) is None:
                return [Reply(_("Thôn của bạn không còn trong kế hoạch. Xin liên hệ cán bộ xã."))]
            reporter = person.village_id
        else:
            return [
                Reply(
                    _("Báo cáo do trưởng thôn và cán bộ xã gửi; vai trò của bạn không gửi báo cáo.")
                )
            ]
        if draft is not None:
            return await self._apply(tx, person, self.engine.resume(draft), now)
        forms = [form for form in self.plan.forms if fills(person, form)]
        options = [await self._option(tx, reporter, form.id, now) for form in forms]
        form_id, _sep, period = args.partition(" ")
        for option in options:
            offered = (option.period, option.late_period, *option.corrections)
            if option.form_id == form_id and period.strip() in offered:
                step = self.engine.open_form(reporter, option, period.strip())
                return await self._apply(tx, person, step, now)
        return await self._apply(tx, person, self.engine.open(reporter, options), now)

    async def _option(
        self, tx: Transaction, village_id: str, form_id: str, now: datetime
    ) -> FormOption:
        form = self.plan.form(form_id)
        if form.baseline:  # one period for good, always open; which villages have it
            today = now.astimezone(self.plan.tz).date()
            key = baseline_period(self.plan, form, today).key
            filled = await tx.first_sent(form_id, key)
            return FormOption(
                form_id, key, filled=tuple(v.id for v in self.plan.villages if v.id in filled)
            )
        period = current_period(cast(PeriodKind, form.period), now, self.plan.tz)
        previous = period.previous()
        starts, ends = self.plan.starts, self.plan.ends
        current_open = (starts is None or period.end >= starts) and (
            ends is None or period.start <= ends
        )
        late = None
        if (starts is None or previous.end >= starts) and (ends is None or previous.start <= ends):
            if await tx.latest_report(village_id, form_id, previous.key) is None:
                late = previous.key
        sent = current_open and await tx.latest_report(village_id, form_id, period.key) is not None
        today = now.astimezone(self.plan.tz).date()
        locked = sent and not open_for_corrections(self.plan, form, period, today)
        # Earlier periods sent and still open for corrections, the latest first.
        corrections: list[str] = []
        earlier = previous
        while len(corrections) < MENU_CORRECTIONS and open_for_corrections(
            self.plan, form, earlier, today
        ):
            if (starts is not None and earlier.end < starts) or (
                ends is not None and earlier.start > ends
            ):
                break
            if earlier.key != late and await tx.latest_report(village_id, form_id, earlier.key):
                corrections.append(earlier.key)
            earlier = earlier.previous()
        return FormOption(
            form_id,
            period.key if current_open else None,
            sent,
            late,
            corrections=tuple(corrections),
            locked=locked,
        )

    async def _apply(
        self, tx: Transaction, person: Person, step: Step, now: datetime
    ) -> list[Reply]:
        replies = list(step.replies)
        while step.effect is not None:
            effect, draft = step.effect, step.draft
            assert draft is not None  # an effect always comes with the draft it belongs to
            if isinstance(effect, Begin):
                before = await tx.report_before(effect.village, effect.form, effect.period)
                sent = None
                if effect.correct:  # a report sent: its summary opens with what was sent
                    sent = await tx.latest_report(effect.village, effect.form, effect.period)
                step = self.engine.begin(
                    draft,
                    before.answers if before else {},
                    before.period if before else None,
                    sent.answers if sent else None,
                    sent.version if sent else None,
                )
            elif isinstance(effect, Submit):
                closed = await self._corrections_closed(tx, effect, now)
                if closed is not None:
                    step = Step([Reply(closed)], None)
                else:
                    report = await tx.add_report(
                        effect.village, effect.form, effect.period, effect.answers, person.id, now
                    )
                    step = self.engine.submitted(draft, report.version)
            replies.extend(step.replies)
        await keep_draft(tx, person.id, step.draft.to_dict() if step.draft else None, now)
        return replies

    async def _corrections_closed(
        self, tx: Transaction, effect: Submit, now: datetime
    ) -> str | None:
        """Why a report of an already sent period may no longer be corrected (its
        ``corrections_days`` are over, as they may be for a draft left open), or None."""
        form = self.plan.form(effect.form)
        period = parse_period(effect.period)
        today = now.astimezone(self.plan.tz).date()
        if form.baseline or open_for_corrections(self.plan, form, period, today):
            return None  # a baseline is corrected whenever it is found wrong
        if await tx.latest_report(effect.village, effect.form, effect.period) is None:
            return None  # a first version (a late period) is always taken
        return _(
            "{form} kỳ {period} chỉ được sửa đến hết ngày {day}, nên bản sửa này không được "
            "lưu; bản đã gửi vẫn giữ nguyên. Nếu cần sửa, xin liên hệ cán bộ xã."
        ).format(
            form=form.title,
            period=period.label(),
            day=format_date(corrections_until(self.plan, form, period), DAY),
        )

    # -- language and help --------------------------------------------------------------

    def _language_menu(self) -> Reply:
        return Reply(
            _("Chọn ngôn ngữ (hoặc gõ /ngonngu vi, /ngonngu en):"),
            tuple(Choice(LANGUAGE_NAMES[code], f"lang:{code}") for code in SUPPORTED_LOCALES),
            typed_answer=True,
        )

    @staticmethod
    def _language_named(text: str) -> str | None:
        """The code of the language a typed text names (``English``, ``tieng viet``)."""
        wanted = normalize_text(text)
        for code, language in LANGUAGE_NAMES.items():
            if wanted == normalize_text(language):
                return code
        return None

    async def _set_language(
        self,
        tx: Transaction,
        person: Person,
        wanted: str,
        saved: dict[str, Any] | None = None,
        now: datetime | None = None,
    ) -> list[Reply]:
        """Switch the person's language; the open screen (``saved``), if any, is shown again
        in the new one."""
        code = wanted.strip().lower()
        if code not in SUPPORTED_LOCALES:
            return [
                Reply(
                    _("Chưa có ngôn ngữ “{code}”. Có: {codes}.").format(
                        code=shortened(wanted.strip()), codes=", ".join(SUPPORTED_LOCALES)
                    )
                )
            ]
        await tx.set_locale(person.id, code)
        current_locale.set(normalize_locale(code))
        if saved is not None and saved.get(LANGUAGE_MENU) and now is not None:
            saved = {k: v for k, v in saved.items() if k != LANGUAGE_MENU}
            await tx.save_draft(person.id, saved, now)
        return self._with_draft([Reply(_("Đã chuyển sang tiếng Việt."))], saved)

    def _help(self, person: Person) -> str:
        """Every command this person may use, by the names of their language."""
        c = command_name
        lines = [_("Trợ lý thi đua {commune}.").format(commune=in_sentence(self.plan.commune))]
        lines.append(_("Vai trò của bạn: {role}.").format(role=role_name(person.role)))
        if person.role == ROLE_HEAD:
            lines += [
                _("{command}: gửi (hoặc làm tiếp) báo cáo của thôn.").format(command=c("/baocao")),
                _(
                    "Mỗi lần một câu hỏi. Gõ số như thường viết: 1.234 hay 12,5 hay 65 triệu. "
                    "Chọn một lựa chọn, hoặc gõ chữ của nó (không dấu cũng được)."
                ),
            ]
        elif person.role == ROLE_OFFICER:
            lines += [
                _(
                    "{command}: gửi (hoặc làm tiếp) báo cáo của xã về các chỉ tiêu của cả xã; "
                    "nhắc việc đến như với trưởng thôn."
                ).format(command=c("/baocao")),
                _(
                    "Cũng bằng {command}: nhập số liệu năm làm mốc của từng thôn (chọn thôn "
                    "trước; thôn đã nhập thì xem lại và sửa được, bản cũ vẫn được lưu)."
                ).format(command=c("/baocao")),
                _(
                    "Mỗi lần một câu hỏi. Gõ số như thường viết: 1.234 hay 12,5 hay 65 triệu. "
                    "Chọn một lựa chọn, hoặc gõ chữ của nó (không dấu cũng được)."
                ),
            ]
        else:
            words = ", ".join(
                WORDS[action] for action, rule in ACTIONS.items() if person.role in rule.roles
            )
            lines += [
                _("{command}: ai đã báo cáo, chỉ tiêu của xã so với mục tiêu.").format(
                    command=c("/tonghop")
                ),
                _("{command}: bảng tính XLSX của các kỳ hiện tại.").format(command=c("/xuat")),
                _("{command}: các đề cử đang mở, để xét và chuyển giai đoạn.").format(
                    command=c("/detcu_ds")
                ),
                _("{command} SỐ VIỆC: xét hoặc chuyển một đề cử bằng lệnh gõ ({words}).").format(
                    command=c("/duyet"), words=words
                ),
                _(
                    "{command}: bản tin gương người tốt, việc tốt của tuần cho đài truyền thanh."
                ).format(command=c("/bantin")),
            ]
        if person.role == ROLE_HEAD:
            lines += [
                _(
                    "{command}: điểm thi đua tạm tính của thôn; đồng ý, hoặc đề nghị chấm lại "
                    "một tiêu chí."
                ).format(command=c("/tucham")),
                _("{command}: các đề nghị chấm lại của thôn và kết quả xét.").format(
                    command=c("/tucham_ds")
                ),
            ]
        elif person.role in DIGEST_ROLES:
            lines.append(
                _("{command}: các đề nghị chấm lại của các thôn đang chờ xét.").format(
                    command=c("/tucham_ds")
                )
            )
        if self.plan.scoring is not None and person.role == ROLE_HEAD:
            lines.append(
                _("{command}: điểm và hạng của thôn, thôn còn thiếu gì để lên loại.").format(
                    command=c("/bangdiem")
                )
            )
        elif self.plan.scoring is not None and person.role in DIGEST_ROLES:
            lines.append(
                _(
                    "{command}: bảng điểm thi đua của các thôn; {command} NĂM: bảng điểm của "
                    "năm đó."
                ).format(command=c("/bangdiem"))
            )
        lines.append(
            _("{command}: đề cử một gương người tốt, việc tốt (dưới một phút).").format(
                command=c("/detcu")
            )
        )
        if person.role in (ROLE_HEAD, ROLE_OFFICER):
            lines.append(
                _("{command}: các đề cử bạn đã gửi và giai đoạn của chúng.").format(
                    command=c("/detcu_ds")
                )
            )
        lines += [
            _("{command} SỐ: trả lời khi thường trực hỏi thêm về đề cử của bạn.").format(
                command=c("/traloi")
            ),
            _("{command}: làm tiếp việc đang dở; {cancel}: bỏ việc đang làm dở.").format(
                command=c("/tieptuc"), cancel=c("/huy")
            ),
            _(
                "{command}: đường dẫn vào trang web (bảng theo thôn và kỳ, chỉ tiêu, tải về)."
            ).format(command="/web"),
            _("{command}: đổi ngôn ngữ.").format(command=c("/ngonngu")),
            _("{command}: xem hướng dẫn này.").format(command=c("/huongdan")),
        ]
        return "\n".join(lines)
