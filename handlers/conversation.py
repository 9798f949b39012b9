"""Turn one incoming message into replies: registration, commands, and the form engine.

Channel adapters call ``Conversations.handle`` with a channel-neutral ``Incoming``
and render the ``Outcome``. Each message is one transaction: the update is
marked applied, the conversation state is saved, and only then do the replies
go out, so a crash at any point loses nothing and applies nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import cast
from weakref import WeakValueDictionary

from babel.dates import format_time

from bot.clock import Clock, system_clock
from bot.domain import ROLE_ADMIN, ROLE_CHAIR, ROLE_HEAD, ROLE_SECRETARIAT, Identity, Person
from bot.engine import Begin, Draft, FormEngine, FormOption, Input, Step, Submit
from bot.i18n import SUPPORTED_LOCALES, _, current_locale, format_date, normalize_locale, use_locale
from bot.invites import MAX_FAILURES, locked_until, normalize_code
from bot.messages import Choice, Incoming, OutgoingFile, Reply
from bot.periods import PeriodKind, current_period
from bot.plan import Plan
from bot.text import normalize_text
from bot.workbook import build_workbook
from handlers.digest import digest_in, digest_sections
from storage.repository import Storage, Transaction

log = logging.getLogger(__name__)

LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}
DIGEST_ROLES = (ROLE_SECRETARIAT, ROLE_CHAIR, ROLE_ADMIN)
IDENTITY_REFRESH = timedelta(minutes=15)


@dataclass
class Outcome:
    """What to send back, and in which locale to render menus around it."""

    replies: list[Reply] = field(default_factory=list)
    locale: str = "vi"


def role_name(role: str) -> str:
    names = {
        ROLE_HEAD: _("trưởng thôn"),
        ROLE_SECRETARIAT: _("thường trực Hội đồng Thi đua – Khen thưởng (Văn phòng – Thống kê)"),
        ROLE_CHAIR: _("Chủ tịch Hội đồng Thi đua – Khen thưởng"),
    }
    return names.get(role, _("quản trị viên"))


class Conversations:
    def __init__(self, plan: Plan, storage: Storage, clock: Clock = system_clock) -> None:
        self.plan = plan
        self.storage = storage
        self.clock = clock
        self.engine = FormEngine(plan)
        # Held only while a message is applied; unused locks are collected.
        self._locks: WeakValueDictionary[tuple[str, str], asyncio.Lock] = WeakValueDictionary()

    async def handle(self, incoming: Incoming) -> Outcome:
        # One person's messages are applied in order even when updates run concurrently.
        key = (incoming.channel, incoming.user_id)
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        async with lock:
            with use_locale(incoming.language_code):
                async with self.storage.transaction() as tx:
                    now = self.clock()
                    if incoming.update_key is not None and not await tx.mark_processed(
                        incoming.channel, incoming.update_key, now
                    ):
                        log.info(
                            "update %s/%s already applied", incoming.channel, incoming.update_key
                        )
                        return Outcome([], current_locale.get())
                    found = await tx.person_with_draft(incoming.channel, incoming.user_id)
                    if found is None:
                        replies = await self._stranger(tx, incoming, now)
                    else:
                        person, saved = found
                        current_locale.set(person.locale)
                        if self._stale_identity(person, incoming, now):
                            await tx.touch_identity(self._identity(incoming), now)
                        draft = Draft.from_dict(saved) if saved else None
                        replies = await self._member(tx, person, draft, incoming, now)
                    return Outcome(replies, current_locale.get())

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
                        identity.display_name != incoming.display_name
                        and bool(incoming.display_name)
                    )
                    or identity.last_seen_at is None
                    or now - identity.last_seen_at > IDENTITY_REFRESH
                )
        return True

    @staticmethod
    def _identity(incoming: Incoming) -> Identity:
        return Identity(incoming.channel, incoming.user_id, incoming.chat_id, incoming.display_name)

    # -- strangers and registration ---------------------------------------------------------

    async def _stranger(self, tx: Transaction, incoming: Incoming, now: datetime) -> list[Reply]:
        failures = await tx.invite_failures_since(
            incoming.channel, incoming.user_id, now - timedelta(hours=3)
        )
        until = locked_until(failures, now)
        if until is not None:
            return [Reply(self._locked_text(until))]

        code = self._code_in(incoming)
        if code is None:
            return [Reply(self._stranger_text())]

        invite = await tx.invite(code)
        problem = None
        if invite is None:
            problem = _("Mã mời không đúng.")
        elif invite.used_at is not None:
            problem = _("Mã mời này đã được dùng.")
        elif invite.expires_at <= now:
            problem = _("Mã mời này đã hết hạn. Xin cán bộ xã một mã mới.")
        if problem is not None or invite is None:
            await tx.record_invite_failure(incoming.channel, incoming.user_id, now)
            failures.append(now)
            until = locked_until(failures, now)
            if until is not None:
                return [Reply(f"{problem} {self._locked_text(until)}")]
            recent = [f for f in failures if f > now - timedelta(hours=1)]
            left = MAX_FAILURES - len(recent)
            return [
                Reply(
                    f"{problem} "
                    + _("Kiểm tra lại mã và gửi lại (còn {left} lần thử).").format(left=left)
                )
            ]

        name = incoming.display_name.strip() or _("Người dùng {id}").format(id=incoming.user_id)
        person = await tx.create_person(
            name, invite.role, invite.village_id, current_locale.get(), now
        )
        await tx.add_identity(person.id, self._identity(incoming), now)
        await tx.use_invite(code, person.id, now)
        return [Reply(self._welcome(person))]

    def _code_in(self, incoming: Incoming) -> str | None:
        if incoming.kind != "text":
            return None
        command = incoming.command
        if command is not None:
            name, args = command
            return normalize_code(args) if name == "/start" and args else None
        return normalize_code(incoming.text)

    def _locked_text(self, until: datetime) -> str:
        local = until.astimezone(self.plan.tz)
        return _(
            "Bạn đã nhập sai mã mời {count} lần nên tạm bị khóa đến {time} ngày {date}."
        ).format(
            count=MAX_FAILURES,
            time=format_time(local, "HH:mm", locale=current_locale.get()),
            date=format_date(local.date(), "short"),
        )

    def _stranger_text(self) -> str:
        return _(
            "Xin chào! Đây là trợ lý thi đua của {commune}. Bạn chưa đăng ký.\n"
            "Xin mã mời ở Văn phòng – Thống kê xã, rồi gửi: /start MÃ (hoặc chỉ gửi mã)."
        ).format(commune=self.plan.commune)

    def _welcome(self, person: Person) -> str:
        if person.role == ROLE_HEAD and person.village_id:
            text = _("Chào mừng {name}! Bạn đã đăng ký là {role} của {village}.").format(
                name=person.name, role=role_name(person.role), village=self._village(person)
            )
            return text + "\n" + _("Gõ /baocao để gửi báo cáo, /huongdan để xem hướng dẫn.")
        text = _("Chào mừng {name}! Bạn đã đăng ký là {role} của {commune}.").format(
            name=person.name, role=role_name(person.role), commune=self.plan.commune
        )
        return text + "\n" + _("Gõ /huongdan để xem hướng dẫn.")

    def _village(self, person: Person) -> str:
        village = self.plan.village(person.village_id or "")
        return village.name if village else (person.village_id or "")

    # -- registered people --------------------------------------------------------------

    async def _member(
        self,
        tx: Transaction,
        person: Person,
        draft: Draft | None,
        incoming: Incoming,
        now: datetime,
    ) -> list[Reply]:
        if incoming.kind == "choice" and incoming.text.startswith("lang:"):
            return await self._set_language(tx, person, incoming.text[5:])

        command = incoming.command
        if command is not None:
            name, args = command
            if name in ("/baocao", "/report"):
                return await self._report(tx, person, draft, now, args)
            if name in ("/huy", "/cancel"):
                if draft is None:
                    return [Reply(_("Bạn không có báo cáo nào đang làm dở."))]
                return await self._apply(tx, person, self.engine.cancel(draft), now)
            if name in ("/tonghop", "/digest"):
                if person.role not in DIGEST_ROLES:
                    text = _("Bản tổng hợp dành cho thường trực và Chủ tịch Hội đồng Thi đua.")
                    return self._with_draft([Reply(text)], draft)
                return self._with_draft([Reply(await digest_in(self.plan, tx, now))], draft)
            if name in ("/xuat", "/export"):
                if person.role not in DIGEST_ROLES:
                    text = _("Bảng tính dành cho thường trực và Chủ tịch Hội đồng Thi đua.")
                    return self._with_draft([Reply(text)], draft)
                sections = await digest_sections(self.plan, tx, now)
                workbook = OutgoingFile(
                    f"thidua-{now.astimezone(self.plan.tz):%Y-%m-%d}.xlsx",
                    build_workbook(self.plan, sections),
                )
                text = _("Bảng tính tổng hợp các kỳ hiện tại:")
                return self._with_draft([Reply(text, files=(workbook,))], draft)
            if name in ("/huongdan", "/help"):
                return self._with_draft([Reply(self._help(person))], draft)
            if name in ("/ngonngu", "/language"):
                if args:
                    return await self._set_language(tx, person, args)
                return [self._language_menu()]
            if name == "/start":
                text = _("Bạn đã đăng ký là {role}{where}.").format(
                    role=role_name(person.role),
                    where=(" " + _("của {village}").format(village=self._village(person)))
                    if person.village_id
                    else "",
                )
                return self._with_draft([Reply(text)], draft)
            text = _("Không có lệnh {command}. Gõ /huongdan để xem các lệnh.").format(command=name)
            return self._with_draft([Reply(text)], draft)

        if draft is None:
            wanted = normalize_text(incoming.text) if incoming.kind == "text" else ""
            for code, language in LANGUAGE_NAMES.items():
                if wanted == normalize_text(language):
                    return await self._set_language(tx, person, code)
            if incoming.kind == "choice":
                return [Reply(_("Nút này đã hết hiệu lực. Gõ /baocao để bắt đầu báo cáo."))]
            if person.role == ROLE_HEAD:
                return [Reply(_("Gõ /baocao để gửi báo cáo, /huongdan để xem hướng dẫn."))]
            return [Reply(_("Gõ /huongdan để xem hướng dẫn."))]

        file_id = incoming.attachments[0].file_id if incoming.attachments else None
        step = self.engine.handle(draft, Input(incoming.kind, incoming.text, file_id))
        return await self._apply(tx, person, step, now)

    def _with_draft(self, replies: list[Reply], draft: Draft | None) -> list[Reply]:
        """After help or a stray command, show the open question again so the form goes on."""
        if draft is None:
            return replies
        return [*replies, self.engine.prompt(draft)]

    async def _report(
        self, tx: Transaction, person: Person, draft: Draft | None, now: datetime, args: str = ""
    ) -> list[Reply]:
        """``/baocao``, or ``/baocao <form> <period>`` (a reminder's button): continue the
        draft if there is one (never reset it), else start that form's period when it is
        open, else offer the menu."""
        if person.role != ROLE_HEAD or not person.village_id:
            return [Reply(_("Báo cáo do trưởng thôn gửi; vai trò của bạn không gửi báo cáo."))]
        if self.plan.village(person.village_id) is None:
            return [Reply(_("Thôn của bạn không còn trong kế hoạch. Xin liên hệ cán bộ xã."))]
        if draft is not None:
            return await self._apply(tx, person, self.engine.resume(draft), now)
        options = [
            await self._option(tx, person.village_id, form.id, now) for form in self.plan.forms
        ]
        form_id, _sep, period = args.partition(" ")
        for option in options:
            if option.form_id == form_id and period.strip() in (option.period, option.late_period):
                step = self.engine.open_form(person.village_id, option, period.strip())
                return await self._apply(tx, person, step, now)
        return await self._apply(tx, person, self.engine.open(person.village_id, options), now)

    async def _option(
        self, tx: Transaction, village_id: str, form_id: str, now: datetime
    ) -> FormOption:
        form = self.plan.form(form_id)
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
        return FormOption(form_id, period.key if current_open else None, sent, late)

    async def _apply(
        self, tx: Transaction, person: Person, step: Step, now: datetime
    ) -> list[Reply]:
        replies = list(step.replies)
        while step.effect is not None:
            effect, draft = step.effect, step.draft
            assert draft is not None  # an effect always comes with the draft it belongs to
            if isinstance(effect, Begin):
                before = await tx.report_before(effect.village, effect.form, effect.period)
                step = self.engine.begin(
                    draft,
                    before.answers if before else {},
                    before.period if before else None,
                )
            elif isinstance(effect, Submit):
                report = await tx.add_report(
                    effect.village, effect.form, effect.period, effect.answers, person.id, now
                )
                step = self.engine.submitted(draft, report.version)
            replies.extend(step.replies)
        if step.draft is None:
            await tx.delete_draft(person.id)
        else:
            await tx.save_draft(person.id, step.draft.to_dict(), now)
        return replies

    # -- language and help --------------------------------------------------------------

    def _language_menu(self) -> Reply:
        return Reply(
            _("Chọn ngôn ngữ (hoặc gõ /ngonngu vi, /ngonngu en):"),
            tuple(Choice(LANGUAGE_NAMES[code], f"lang:{code}") for code in SUPPORTED_LOCALES),
            typed_answer=True,
        )

    async def _set_language(self, tx: Transaction, person: Person, wanted: str) -> list[Reply]:
        code = wanted.strip().lower()
        if code not in SUPPORTED_LOCALES:
            return [
                Reply(
                    _("Chưa có ngôn ngữ “{code}”. Có: {codes}.").format(
                        code=wanted.strip(), codes=", ".join(SUPPORTED_LOCALES)
                    )
                )
            ]
        await tx.set_locale(person.id, code)
        current_locale.set(normalize_locale(code))
        return [Reply(_("Đã chuyển sang tiếng Việt."))]

    def _help(self, person: Person) -> str:
        lines = [_("Trợ lý thi đua {commune}.").format(commune=self.plan.commune)]
        if person.role == ROLE_HEAD:
            lines += [
                _("/baocao: gửi (hoặc làm tiếp) báo cáo của thôn."),
                _("/huy: bỏ báo cáo đang làm dở."),
                _(
                    "Mỗi lần một câu hỏi. Gõ số như thường viết: 1.234 hay 12,5 hay 65 triệu. "
                    "Bấm nút hoặc gõ chữ trên nút (không dấu cũng được)."
                ),
            ]
        else:
            lines += [
                _("Vai trò của bạn: {role}.").format(role=role_name(person.role)),
                _("/tonghop: ai đã báo cáo, chỉ tiêu của xã so với mục tiêu."),
                _("/xuat: bảng tính XLSX của các kỳ hiện tại."),
            ]
        lines += [_("/ngonngu: đổi ngôn ngữ."), _("/huongdan: xem hướng dẫn này.")]
        return "\n".join(lines)
