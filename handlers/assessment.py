"""Self-assessment against storage and the outbox: ``/tucham`` for a village head, and the
secretariat's review of claims with ``/tucham_ds``.

Thin: the conversation and its texts are ``bot.scoring.assessment`` (pure), the board and
the claims ``handlers.scoreboard``. Each call runs inside the caller's transaction; the
notices (a new claim to the secretariat, the outcome to the head) are queued in it too, so a
claim and the news of it are saved together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from bot.domain import ROLE_ADMIN, ROLE_CHAIR, ROLE_HEAD, ROLE_SECRETARIAT, Person
from bot.i18n import _, format_number, use_locale
from bot.messages import OutgoingFile, Reply
from bot.plan.model import Plan
from bot.reports.engine import Input, token_number
from bot.scoring import assessment
from bot.scoring.assessment import (
    ACCEPT_WORD,
    REFUSE_WORD,
    Agree,
    AssessmentDraft,
    AssessmentFlow,
    AssessmentStep,
    SubmitClaim,
)
from bot.scoring.board import ACCEPTED, PENDING, Board, Claim, CriterionScore
from bot.text import clean_text
from handlers import scoreboard
from handlers.notify import queue_to
from handlers.scoreboard import ScoreError
from storage.repository import Transaction, keep_draft, people_names

FLOW = assessment.FLOW
REVIEW_FLOW = "assessment_review"  # a reviewer typing why a claim is refused
FLOWS = (FLOW, REVIEW_FLOW)
REVIEWERS = (ROLE_SECRETARIAT, ROLE_CHAIR, ROLE_ADMIN)
LISTED = 20  # pending claims shown by /tucham_ds, the oldest first
COMMENT_LIMIT = 1000


def opens_review(words: list[str]) -> bool:
    """Whether ``/tucham_ds <id> <word>`` waits for typed words (a refusal's comment); the
    list and an acceptance open no draft."""
    return len(words) > 1 and words[1] == REFUSE_WORD


class AssessmentDesk:
    def __init__(self, plan: Plan, queued: Callable[[], None] = lambda: None) -> None:
        self.plan = plan
        self.flow = AssessmentFlow(plan)
        self.queued = queued

    def _today(self, now: datetime) -> date:
        return now.astimezone(self.plan.tz).date()

    # -- the head's conversation --------------------------------------------------------

    async def start(
        self, tx: Transaction, person: Person, args: list[str], now: datetime
    ) -> list[Reply]:
        """``/tucham [năm]``: the village's provisional board of this year (or the year
        given) and the menu."""
        if person.role != ROLE_HEAD or not person.village_id:
            return [
                Reply(_("Tự chấm điểm do trưởng thôn thực hiện; vai trò của bạn không tự chấm."))
            ]
        if self.plan.scoring is None:
            return [Reply(_("Kế hoạch chưa có phần chấm điểm thi đua (scoring)."))]
        if self.plan.village(person.village_id) is None:
            return [Reply(_("Thôn của bạn không còn trong kế hoạch. Xin liên hệ cán bộ xã."))]
        this_year = self._today(now).year
        year = token_number(args[0]) if args else this_year
        first = self.plan.starts.year if self.plan.starts is not None else this_year - 10
        if year is None or not first <= year <= this_year:
            return [
                Reply(
                    _("Năm không hợp lệ. Gõ /tucham cho năm {year}, hoặc /tucham NĂM.").format(
                        year=this_year
                    )
                )
            ]
        board = await scoreboard.load_board(tx, self.plan, year, self._today(now), now)
        return await self._apply(tx, person, self.flow.start(board, person.village_id), now)

    async def flow_input(
        self, tx: Transaction, person: Person, saved: dict[str, Any], inp: Input, now: datetime
    ) -> list[Reply]:
        step = self.flow.handle(AssessmentDraft.from_dict(saved), inp)
        return await self._apply(tx, person, step, now)

    async def _apply(
        self, tx: Transaction, person: Person, step: AssessmentStep, now: datetime
    ) -> list[Reply]:
        replies = list(step.replies)
        effect, draft = step.effect, step.draft
        if effect is not None and draft is not None:
            try:
                if isinstance(effect, Agree):
                    await scoreboard.agree(
                        tx, self.plan, effect.year, effect.village, person.id, now
                    )
                    step = self.flow.agreed(draft)
                elif isinstance(effect, SubmitClaim):
                    claim = await scoreboard.add_claim(
                        tx,
                        self.plan,
                        effect.year,
                        effect.village,
                        effect.criterion,
                        effect.value,
                        effect.reason,
                        effect.photo,
                        person.id,
                        now,
                    )
                    await self._to_reviewers(tx, claim, person.name, now)
                    step = self.flow.claimed(draft, claim)
            except ScoreError as error:
                step = self.flow.refused(str(error))
            replies.extend(step.replies)
        await keep_draft(tx, person.id, step.draft.to_dict() if step.draft else None, now)
        return replies

    def prompt(self, saved: dict[str, Any]) -> Reply:
        """The open screen of an assessment or a refusal's comment, shown again."""
        if saved.get("flow") == FLOW:
            return self.flow.prompt(AssessmentDraft.from_dict(saved))
        return Reply(str(saved.get("prompt", "")))

    def resume(self, saved: dict[str, Any]) -> tuple[list[Reply], dict[str, Any]]:
        if saved.get("flow") == FLOW:
            step = self.flow.resume(AssessmentDraft.from_dict(saved))
            assert step.draft is not None
            return step.replies, step.draft.to_dict()
        return [self.prompt(saved)], saved

    def cancel(self, saved: dict[str, Any]) -> tuple[list[Reply], dict[str, Any] | None]:
        if saved.get("flow") == FLOW:
            step = self.flow.cancel(AssessmentDraft.from_dict(saved))
            return step.replies, step.draft.to_dict() if step.draft else None
        return [Reply(_("Đã hủy."))], None

    def busy_what(self, saved: dict[str, Any]) -> str:
        """What the open draft is, for "Bạn đang làm dở …"."""
        if saved.get("flow") == FLOW:
            return _("phần tự chấm điểm")
        return _("việc xét một đề nghị chấm lại")

    # -- to the secretariat -------------------------------------------------------------

    async def _current(self, tx: Transaction, claim: Claim, now: datetime) -> tuple[Board, int]:
        """The claim's year's board now, and the reports each village had to send."""
        board = await scoreboard.load_board(tx, self.plan, claim.year, self._today(now), now)
        return board, assessment.reports_due(self.plan, board)

    @staticmethod
    def _score(board: Board, claim: Claim) -> CriterionScore | None:
        try:
            return board.village(claim.village_id).criterion(claim.criterion_id)
        except KeyError:
            return None

    async def _photo(
        self, tx: Transaction, claim: Claim, caption: str = ""
    ) -> tuple[OutgoingFile, ...]:
        """The claim's photo as a file to send (none when it has none, or it is gone)."""
        if claim.photo is None:
            return ()
        stored = await tx.file(claim.photo)
        if stored is None:
            return ()
        return (OutgoingFile(f"de-nghi-{claim.id}.jpg", stored[0], True, caption),)

    async def _to_reviewers(self, tx: Transaction, claim: Claim, by: str, now: datetime) -> None:
        """A new claim to every secretariat member, the chair and admins, with its photo
        and the accept / refuse commands, through the outbox."""
        board, due = await self._current(tx, claim, now)
        current = self._score(board, claim)
        photos = await self._photo(tx, claim)
        for reviewer in await tx.people():
            if reviewer.role not in REVIEWERS:
                continue
            with use_locale(reviewer.locale):
                card = assessment.claim_card(self.plan, claim, current, due, by, bool(photos))
                reply = Reply(
                    _("Đề nghị chấm lại mới cần xét:") + "\n" + card,
                    assessment.claim_buttons(claim),
                    files=photos,
                )
                title = _("Ảnh minh chứng của đề nghị số {id}:").format(id=claim.id)
            key = f"claim:{claim.id}:new:{reviewer.id}"
            await queue_to(tx, key, reviewer, reply, now, title)
        self.queued()

    # -- /tucham_ds ---------------------------------------------------------------------

    async def listing(
        self, tx: Transaction, person: Person, words: list[str], now: datetime
    ) -> list[Reply]:
        """``/tucham_ds``: the secretariat, the chair and admins see the claims waiting
        for review (this year's and last year's), each with accept / refuse; a head sees
        their village's claims of the year and what became of them. ``/tucham_ds <id>
        chapnhan`` accepts one."""
        if words:
            return await self.review(tx, person, words, now)
        this_year = self._today(now).year
        if person.role not in REVIEWERS:
            if person.role != ROLE_HEAD or not person.village_id:
                return [Reply(_("Bạn không có quyền xem các đề nghị chấm lại."))]
            mine = await scoreboard.claims(tx, this_year, village_id=person.village_id)
            if not mine:
                return [Reply(_("Thôn chưa có đề nghị chấm lại nào. Gõ /tucham để tự chấm."))]
            lines = [_("Đề nghị chấm lại của thôn năm {year}:").format(year=this_year)]
            for claim in mine[-LISTED:]:
                line = _("Số {id} · {title}: {figure} · {status}").format(
                    id=claim.id,
                    title=assessment.claim_title(self.plan, claim),
                    figure=assessment.claim_figure(self.plan, claim),
                    status=assessment.status_name(claim.status),
                )
                if claim.comment and claim.status != PENDING:
                    line += " · " + _("ý kiến: {comment}").format(comment=claim.comment)
                lines.append(line)
            return [Reply("\n".join(lines))]
        waiting: list[Claim] = []
        for year in (this_year - 1, this_year):
            waiting += await scoreboard.claims(tx, year, status=PENDING)
        if not waiting:
            return [Reply(_("Không có đề nghị chấm lại nào đang chờ xét."))]
        shown = waiting[:LISTED]
        head = _("{count} đề nghị chấm lại đang chờ xét").format(count=format_number(len(waiting)))
        if len(shown) < len(waiting):
            head += " " + _("({shown} cũ nhất dưới đây)").format(shown=len(shown))
        replies = [Reply(head + ":")]
        names = await people_names(tx)
        boards: dict[int, tuple[Board, int]] = {}
        photos: list[OutgoingFile] = []
        for claim in shown:
            if claim.year not in boards:
                boards[claim.year] = await self._current(tx, claim, now)
            board, due = boards[claim.year]
            caption = _("Ảnh minh chứng của đề nghị số {id}").format(id=claim.id)
            found = await self._photo(tx, claim, caption)
            photos += found
            card = assessment.claim_card(
                self.plan,
                claim,
                self._score(board, claim),
                due,
                names.get(claim.person_id, "?"),
                bool(found),
            )
            replies.append(Reply(card, assessment.claim_buttons(claim)))
        # The listing's photos go together with its last card, each captioned with its
        # claim, as a nomination's photos go with its one card: a channel that takes no
        # files (Zalo) says so once for the whole listing, not once per photo.
        replies[-1] = replace(replies[-1], files=tuple(photos))
        return replies

    async def review(
        self, tx: Transaction, person: Person, words: list[str], now: datetime
    ) -> list[Reply]:
        """``/tucham_ds <id> chapnhan`` (accepted at once) or ``… tuchoi`` (asks for the
        comment first). Checked against the presser's role and the claim's status."""
        claim, problem = await self._checked(tx, person, words)
        if problem is not None or claim is None:
            return [Reply(problem or "")]
        if words[1] == ACCEPT_WORD:
            return await self._decide(tx, person, claim, True, "", now)
        text = assessment.refuse_prompt(self.plan, claim)
        await tx.save_draft(
            person.id, {"flow": REVIEW_FLOW, "claim": claim.id, "prompt": text}, now
        )
        return [Reply(text)]

    async def _checked(
        self, tx: Transaction, person: Person, words: list[str]
    ) -> tuple[Claim | None, str | None]:
        number = token_number(words[0]) if words else None  # never int(): "²", 10**30
        if number is None or len(words) < 2 or words[1] not in (ACCEPT_WORD, REFUSE_WORD):
            return None, _("Lệnh không đúng. Gõ /tucham_ds để xem các đề nghị chấm lại.")
        if person.role not in REVIEWERS:
            return None, _("Bạn không có quyền làm việc này; không có gì thay đổi.")
        claim = await tx.claim(number)
        if claim is None:
            return None, _("Không có đề nghị chấm lại số {id}.").format(id=number)
        if claim.status != PENDING:
            return None, self._already(claim)
        return claim, None

    def _already(self, claim: Claim) -> str:
        return _("Đề nghị số {id} đã được xét trước đó ({status}); không có gì thay đổi.").format(
            id=claim.id, status=assessment.status_name(claim.status)
        )

    async def review_input(
        self, tx: Transaction, person: Person, saved: dict[str, Any], inp: Input, now: datetime
    ) -> list[Reply]:
        """The comment a reviewer typed to refuse a claim (required)."""
        words = clean_text(inp.text) if inp.kind == "text" else ""
        if not words:
            required = _("Ý kiến là bắt buộc khi không chấp nhận; xin gõ bằng chữ.")
            return [Reply(required), self.prompt(saved)]
        if len(words) > COMMENT_LIMIT:
            limit = format_number(COMMENT_LIMIT)
            return [
                Reply(_("Dài quá: tối đa {limit} ký tự.").format(limit=limit)),
                self.prompt(saved),
            ]
        await tx.delete_draft(person.id)
        number = token_number(str(saved.get("claim", "")))
        claim = await tx.claim(number) if number is not None else None
        if claim is None:
            return [Reply(_("Không có đề nghị chấm lại số {id}.").format(id=saved.get("claim")))]
        if claim.status != PENDING:
            return [Reply(self._already(claim))]
        return await self._decide(tx, person, claim, False, words, now)

    async def _decide(
        self,
        tx: Transaction,
        person: Person,
        claim: Claim,
        accept: bool,
        comment: str,
        now: datetime,
    ) -> list[Reply]:
        """Accept or refuse, tell the head through the outbox, and say what was done; a
        claim someone else reviewed meanwhile, or of a frozen year, changes nothing."""
        reviewed = await scoreboard.review_claim(
            tx, claim.id, accept, comment, person.id, now, plan=self.plan
        )
        if reviewed is None:
            latest = await tx.claim(claim.id)
            if latest is not None and latest.status != PENDING:
                return [Reply(self._already(latest))]
            return [
                Reply(
                    _(
                        "Bảng điểm năm {year} đã được Hội đồng chốt, nên đề nghị số {id} "
                        "không còn xét được; không có gì thay đổi."
                    ).format(year=claim.year, id=claim.id)
                )
            ]
        head = await tx.person(reviewed.person_id)
        if head is not None:
            now_counts: tuple[Decimal, ...] = ()
            if reviewed.status == ACCEPTED:
                board, _due = await self._current(tx, reviewed, now)
                score = self._score(board, reviewed)
                if score is not None:
                    total = board.village(reviewed.village_id).total
                    now_counts = (score.points, total, board.max)
            with use_locale(head.locale):
                if reviewed.status == ACCEPTED:
                    text = assessment.told_accepted(self.plan, reviewed, *now_counts)
                else:
                    text = assessment.told_refused(self.plan, reviewed)
            key = f"claim:{reviewed.id}:{reviewed.status}"
            if await queue_to(tx, key, head, Reply(text), now):
                self.queued()
        if reviewed.status == ACCEPTED:
            done = _("Đã chấp nhận đề nghị số {id} ({village} · {title}: {figure}).")
        else:
            done = _(
                "Đã không chấp nhận đề nghị số {id} ({village} · {title}: {figure}); ý kiến "
                "đã được gửi tới trưởng thôn."
            )
        return [
            Reply(
                done.format(
                    id=reviewed.id,
                    village=assessment.village_name(self.plan, reviewed.village_id),
                    title=assessment.claim_title(self.plan, reviewed),
                    figure=assessment.claim_figure(self.plan, reviewed),
                )
            )
        ]
