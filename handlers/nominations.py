"""Nominations against storage and the outbox: the quick flow, review, stages, listing.

Thin: the conversation is ``bot.nominations.flow``, the rules and texts ``bot.nominations.rules``.
Each call runs inside the caller's transaction; notifications are queued in it too, so a
change and the news of it are saved together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bot.domain import CLOSED, NEEDS_INFO, REVIEW, Nomination, Person
from bot.i18n import _, format_number, use_locale
from bot.messages import Choice, OutgoingFile, Reply
from bot.nominations import rules
from bot.nominations.bulletin import bulletin_text
from bot.nominations.flow import NominationDraft, NominationFlow, NominationStep
from bot.plan.model import Plan
from bot.plan.periods import Period, current_period
from bot.reports.engine import Input, token_number
from bot.text import clean_text
from handlers.notify import queue_to
from storage.repository import Transaction, keep_draft, people_names

REVIEW_FLOW, ANSWER_FLOW = "review", "answer"
LISTED = 20  # open nominations shown by /detcu_ds, most recent first
WORDS_LIMIT = 1000  # a question, an answer, a reason


class NominationDesk:
    def __init__(self, plan: Plan, queued: Callable[[], None] = lambda: None) -> None:
        self.plan = plan
        self.flow = NominationFlow(plan)
        self.queued = queued

    # -- the quick flow -----------------------------------------------------------------

    async def start(self, tx: Transaction, person: Person, now: datetime) -> list[Reply]:
        return await self._apply(tx, person, self.flow.start(person.village_id), now)

    async def nomination_input(
        self, tx: Transaction, person: Person, saved: dict[str, Any], inp: Input, now: datetime
    ) -> list[Reply]:
        step = self.flow.handle(NominationDraft.from_dict(saved), inp)
        return await self._apply(tx, person, step, now)

    async def _apply(
        self, tx: Transaction, person: Person, step: NominationStep, now: datetime
    ) -> list[Reply]:
        replies = list(step.replies)
        if step.effect is not None:
            effect = step.effect
            nomination = await tx.add_nomination(
                person.id,
                effect.nominee,
                effect.village,
                effect.deed,
                effect.kind,
                list(effect.photos),
                now.astimezone(self.plan.tz).year,
                now,
                effect.captions,
            )
            await self._to_reviewers(tx, nomination, person, None, now)
            step = self.flow.submitted(nomination.number)
            replies.extend(step.replies)
        await keep_draft(tx, person.id, step.draft.to_dict() if step.draft else None, now)
        return replies

    def prompt(self, saved: dict[str, Any]) -> Reply:
        """The open screen of a nomination, review or answer draft, shown again."""
        if saved.get("flow") == "nomination":
            return self.flow.prompt(NominationDraft.from_dict(saved))
        return Reply(saved.get("prompt", ""))

    def cancel(self, saved: dict[str, Any]) -> tuple[list[Reply], dict[str, Any] | None]:
        if saved.get("flow") == "nomination":
            step = self.flow.cancel(NominationDraft.from_dict(saved))
            return step.replies, step.draft.to_dict() if step.draft else None
        return [Reply(_("Đã hủy."))], None

    def resume(self, saved: dict[str, Any]) -> tuple[list[Reply], dict[str, Any]]:
        if saved.get("flow") == "nomination":
            step = self.flow.resume(NominationDraft.from_dict(saved))
            assert step.draft is not None
            return step.replies, step.draft.to_dict()
        return [self.prompt(saved)], saved

    # -- listing ------------------------------------------------------------------------

    async def listing(self, tx: Transaction, person: Person) -> list[Reply]:
        """``/detcu_ds``: a head sees their own nominations; the secretariat and the chair
        the open ones, each with what they may do next."""
        if person.role not in rules.OFFICERS:
            mine = await tx.nominations(nominator_id=person.id)
            if not mine:
                return [Reply(_("Bạn chưa gửi đề cử nào. Gõ /detcu để đề cử."))]
            lines = [_("Đề cử của bạn:")]
            asked: list[Reply] = []
            for nomination in mine[-LISTED:]:
                village = self.plan.village(nomination.village_id)
                lines.append(
                    f"{nomination.number} · {nomination.nominee}"
                    f" ({village.name if village else nomination.village_id})"
                    f" · {rules.status_name(nomination.status)}"
                )
                if nomination.status == NEEDS_INFO:
                    question = await self._last_words(tx, nomination, "asked")
                    text = _(
                        "Đề cử {number}: thường trực cần bổ sung: {question}\n"
                        "Gõ /traloi {id} rồi gửi câu trả lời."
                    ).format(number=nomination.number, question=question, id=nomination.id)
                    answer = Choice(_("Trả lời"), f"/traloi {nomination.id}")
                    asked.append(Reply(text, (answer,)))
            return [Reply("\n".join(lines)), *asked]
        found = await tx.nominations(statuses=rules.OPEN)
        if not found:
            return [Reply(_("Không có đề cử nào đang mở."))]
        shown = found[-LISTED:]
        replies = [
            Reply(
                _("{count} đề cử đang mở{more}:").format(
                    count=len(found),
                    more=(
                        " " + _("({shown} mới nhất dưới đây)").format(shown=len(shown))
                        if len(shown) < len(found)
                        else ""
                    ),
                )
            )
        ]
        names = await people_names(tx)
        for nomination in reversed(shown):
            text = rules.card(self.plan, nomination, names.get(nomination.nominator_id, "?"))
            events = await tx.nomination_events(nomination.id)
            last = events[-1] if events else None
            if nomination.status == NEEDS_INFO and last is not None and last.action == "asked":
                text += "\n" + _("Đang chờ người đề cử trả lời: {question}").format(
                    question=last.comment
                )
            elif last is not None and last.action == "answered":
                text += "\n" + _("Người đề cử đã trả lời: {answer}").format(answer=last.comment)
            replies.append(Reply(text, rules.buttons_for(nomination, person.role)))
        return replies

    @staticmethod
    async def _last_words(tx: Transaction, nomination: Nomination, action: str) -> str:
        """The comment of the nomination's latest event of ``action`` ("" when none)."""
        events = await tx.nomination_events(nomination.id)
        return next((e.comment for e in reversed(events) if e.action == action), "")

    # -- review and stages --------------------------------------------------------------

    async def review(
        self, tx: Transaction, person: Person, args: list[str], now: datetime
    ) -> list[Reply]:
        """``/duyet <id> <word>`` (a review or stage button; ``rules.WORDS``). Checked against the
        presser's role and the nomination's status; changes nothing otherwise."""
        nomination, action, problem = await self._checked(tx, person, args)
        if problem is not None or nomination is None:
            return [Reply(problem or "")]
        if rules.ACTIONS[action].needs_text:
            text = rules.prompt(nomination, action)
            draft = {
                "flow": REVIEW_FLOW,
                "nomination": nomination.id,
                "action": action,
                "status": nomination.status,
                "prompt": text,
            }
            await tx.save_draft(person.id, draft, now)
            return [Reply(text)]
        return await self._change(tx, person, nomination, action, "", now)

    async def _checked(
        self, tx: Transaction, person: Person, args: list[str]
    ) -> tuple[Nomination | None, str, str | None]:
        action = rules.ACTION_OF.get(args[1], "") if len(args) > 1 else ""
        number = token_number(args[0]) if args else None  # never int(): "²", 10**30
        if number is None or action not in rules.ACTIONS:
            return None, "", _("Lệnh không đúng. Gõ /detcu_ds để xem các đề cử.")
        if not rules.may(person.role, action):
            return None, action, _("Bạn không có quyền làm việc này; không có gì thay đổi.")
        nomination = await tx.nomination(number)
        if nomination is None:
            return None, action, _("Không có đề cử số {id}.").format(id=args[0])
        if rules.target(action, nomination.status) is None:
            return (
                None,
                action,
                _("Đề cử {number} đang ở “{status}”: việc này không còn làm được.").format(
                    number=nomination.number, status=rules.status_name(nomination.status)
                ),
            )
        return nomination, action, None

    async def review_input(
        self, tx: Transaction, person: Person, saved: dict[str, Any], text: str, now: datetime
    ) -> list[Reply]:
        """The words a reviewer typed for an action that needs them."""
        words, problem = self._words(text, saved)
        if problem is not None:
            return problem
        nomination = await tx.nomination(int(saved["nomination"]))
        await tx.delete_draft(person.id)
        if nomination is None or nomination.status != saved["status"]:
            return [Reply(_("Đề cử này đã thay đổi trong lúc đó; không có gì thay đổi thêm."))]
        return await self._change(tx, person, nomination, saved["action"], words, now)

    async def review_words(
        self,
        tx: Transaction,
        person: Person,
        nomination_id: int,
        action: str,
        words: str,
        status: str,
        now: datetime,
    ) -> tuple[bool, str]:
        """A review sent from the web page in one go: ``action`` (``rules.ACTIONS``) with its
        words when it needs them, on the nomination as it stood at ``status`` when the page
        was shown. Checked as ``/duyet`` is (role, stage), then applied by the same change
        and notice; whether it changed anything, and what to say."""
        word = rules.WORDS.get(action, "")
        nomination, action, problem = await self._checked(tx, person, [str(nomination_id), word])
        if problem is not None or nomination is None:
            return False, problem or ""
        if nomination.status != status:
            return False, _("Đề cử này đã thay đổi trong lúc đó; không có gì thay đổi thêm.")
        comment = ""
        if rules.ACTIONS[action].needs_text:
            comment, problem = self._checked_words(words)
            if not comment:  # a form left empty: say what it wants
                problem = _("Xin gõ nội dung (câu hỏi hoặc lý do) rồi gửi lại.")
            if problem is not None:
                return False, problem
        before = nomination.status
        said = await self._change(tx, person, nomination, action, comment, now)
        changed = await tx.nomination(nomination.id)
        return changed is not None and changed.status != before, said[0].text

    async def _change(
        self,
        tx: Transaction,
        person: Person,
        nomination: Nomination,
        action: str,
        comment: str,
        now: datetime,
    ) -> list[Reply]:
        status = rules.target(action, nomination.status)
        assert status is not None
        event = rules.EVENT_OF[action]
        if not await tx.change_nomination(
            nomination.id, nomination.status, status, person.id, event, comment, now
        ):
            return [Reply(_("Đề cử này vừa được người khác xử lý; không có gì thay đổi."))]
        nominator = await tx.person(nomination.nominator_id)
        if nominator is not None:
            with use_locale(nominator.locale):
                reply = rules.told(nomination, action, status, comment)
            key = f"nomination:{nomination.id}:{event}:{now.isoformat()}"
            if await queue_to(tx, key, nominator, reply, now):
                self.queued()
        text = _("Đã cập nhật đề cử {number}: {status}.").format(
            number=nomination.number, status=rules.status_name(status)
        )
        return [Reply(text)]

    # -- the nominator's answer ---------------------------------------------------------

    async def answer(
        self, tx: Transaction, person: Person, args: list[str], now: datetime
    ) -> list[Reply]:
        """``/traloi <id>``: the nominator answers the secretariat's question."""
        number = token_number(args[0]) if args else None  # never int(): "²", 10**30
        nomination = await tx.nomination(number) if number is not None else None
        if nomination is None or nomination.nominator_id != person.id:
            return [Reply(_("Không có đề cử nào của bạn với số này."))]
        if nomination.status != NEEDS_INFO:
            return [Reply(_("Đề cử {number} không chờ bổ sung.").format(number=nomination.number))]
        question = await self._last_words(tx, nomination, "asked")
        text = _("Câu hỏi về đề cử {number}: {question}\nGõ câu trả lời.").format(
            number=nomination.number, question=question
        )
        draft = {"flow": ANSWER_FLOW, "nomination": nomination.id, "prompt": text}
        await tx.save_draft(person.id, draft, now)
        return [Reply(text)]

    async def answer_input(
        self, tx: Transaction, person: Person, saved: dict[str, Any], text: str, now: datetime
    ) -> list[Reply]:
        words, problem = self._words(text, saved)
        if problem is not None:
            return problem
        nomination = await tx.nomination(int(saved["nomination"]))
        await tx.delete_draft(person.id)
        if nomination is None or nomination.status != NEEDS_INFO:
            return [Reply(_("Đề cử này không còn chờ bổ sung; câu trả lời không được ghi."))]
        await tx.change_nomination(
            nomination.id, NEEDS_INFO, REVIEW, person.id, "answered", words, now
        )
        changed = await tx.nomination(nomination.id)
        assert changed is not None
        await self._to_reviewers(tx, changed, person, words, now)
        return [
            Reply(
                _("Đã gửi câu trả lời cho đề cử {number}. Cảm ơn anh/chị!").format(
                    number=nomination.number
                )
            )
        ]

    def _words(self, text: str, saved: dict[str, Any]) -> tuple[str, list[Reply] | None]:
        """A question, an answer or a reason as typed, or what to say (and the open screen
        again) when it cannot be."""
        words, problem = self._checked_words(text)
        return words, None if problem is None else [Reply(problem), self.prompt(saved)]

    @staticmethod
    def _checked_words(text: str) -> tuple[str, str | None]:
        """The words as typed (less control characters: ``clean_text``), and why they cannot
        be taken (none, or longer than WORDS_LIMIT), or None."""
        words = clean_text(text)
        if not words:
            return words, _("Xin gõ bằng chữ.")
        if len(words) > WORDS_LIMIT:
            limit = format_number(WORDS_LIMIT)
            return words, _("Dài quá: tối đa {limit} ký tự.").format(limit=limit)
        return words, None

    # -- to the secretariat -------------------------------------------------------------

    async def _to_reviewers(
        self,
        tx: Transaction,
        nomination: Nomination,
        nominator: Person,
        answer: str | None,
        now: datetime,
    ) -> None:
        """A new nomination (or the nominator's answer) to every secretariat member, with
        the photos and the review buttons, through the outbox."""
        photos = []
        captions = (*nomination.captions, *[""] * len(nomination.photos))
        for index, key in enumerate(nomination.photos, start=1):
            stored = await tx.file(key)
            if stored is not None:
                name = f"{nomination.number}-{index}.jpg"
                photos.append(OutgoingFile(name, stored[0], True, captions[index - 1]))
        for reviewer in await tx.people():
            if reviewer.role not in rules.REVIEWERS:
                continue
            with use_locale(reviewer.locale):
                title = _("Ảnh của đề cử {number}:").format(number=nomination.number)
                text = rules.card(self.plan, nomination, nominator.name)
                if answer is None:
                    lead = _("Đề cử mới cần xét:")
                else:
                    lead = _("Người đề cử đã trả lời: {answer}").format(answer=answer)
                reply = Reply(
                    f"{lead}\n{text}",
                    rules.buttons_for(nomination, reviewer.role),
                    files=tuple(photos),
                )
            event = "answer" if answer is not None else "new"
            key = f"nomination:{nomination.id}:{event}:{reviewer.id}:{now.isoformat()}"
            await queue_to(tx, key, reviewer, reply, now, title)
        self.queued()

    # -- digest, workbook, bulletin -----------------------------------------------------

    async def digest_paragraph(self, tx: Transaction, now: datetime) -> str | None:
        week_ago = now - timedelta(days=rules.WAITING_TOO_LONG_DAYS)
        new = await tx.nominations(since=week_ago)
        waiting = [n for n in await tx.nominations(statuses=(REVIEW,)) if n.created_at < week_ago]
        return rules.digest_paragraph(self.plan, new, waiting)

    async def bulletin(self, tx: Transaction, week: Period) -> str:
        """The week's radio bulletin: nominations that reached Tổng kết or Nhân rộng."""
        start = datetime.combine(week.start, datetime.min.time(), tzinfo=self.plan.tz)
        events = await tx.nomination_events(since=start, until=start + timedelta(days=7))
        reached: dict[int, str] = {}
        for event in events:
            if event.action == "advanced" and event.status in ("tong_ket", "nhan_rong"):
                reached[event.nomination_id] = event.status
        featured = []
        for nomination_id, stage in reached.items():
            nomination = await tx.nomination(nomination_id)
            if nomination is not None and nomination.status != CLOSED:
                featured.append((nomination, stage))
        return bulletin_text(self.plan, week, featured)

    def this_week(self, now: datetime) -> Period:
        return current_period("week", now, self.plan.tz)
