"""The scoreboard against storage: the year's board (frozen or computed), its history,
claims and their review, a head's agreement, the council's freezing and reopening.

Thin: the rules are ``bot.scoring.rules`` (pure). Each call runs inside the caller's
transaction, so a change and the score events that record it are saved together or not at
all. Every change to a score is appended to the year's history (``score_events``), which
nothing changes or deletes: the points the rules computed (only when they changed), claims,
their acceptance or refusal, agreements, freezing and reopening.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from bot.i18n import DAY, _, format_date
from bot.plan.model import Criterion, Plan
from bot.scoring import rules
from bot.scoring.board import ACCEPTED, PENDING, REFUSED, Board, Claim, CriterionScore, Window
from storage.repository import Snapshot, Transaction


class ScoreError(Exception):
    """What was asked cannot be done (the board is frozen, no such criterion…); the message
    is for people, in their language."""


# -- the board ---------------------------------------------------------------------------


async def load_board(
    tx: Transaction,
    plan: Plan,
    year: int,
    as_of: date,
    now: datetime,
    *,
    record: bool = True,
) -> Board:
    """The year's board: the one the council froze while it is not reopened (whatever
    ``as_of``), else computed from the data up to the end of ``as_of``. A computed board
    appends a ``computed`` event for each village and criterion whose points differ from
    the last ones recorded (with the value and what it stood on), so computing a board that
    did not change adds nothing; ``record=False`` (a read-only transaction) records
    nothing."""
    _scoring(plan)
    snapshot = await tx.current_snapshot(year)
    if snapshot is not None and snapshot.frozen:
        return _frozen(plan, snapshot)
    window = rules.window(plan, year, as_of)
    due = rules.due_reports(plan, window)
    wanted = {(form.id, period.key) for form, period in due}
    wanted.update(_window_periods(plan, window))
    # only the answers the criteria read (reports on time need none)
    assert plan.scoring is not None  # _scoring() said so
    read = {
        question
        for criterion in plan.scoring.criteria
        if criterion.indicator is not None
        for question in plan.indicator(criterion.indicator).questions
    }
    reports = await tx.report_records(sorted(wanted), sorted(read))
    baseline_forms = [form.id for form in plan.forms if form.baseline]
    baselines = await tx.baseline_answers(baseline_forms) if baseline_forms else {}
    since, until = _moments(plan, window)
    good_deeds = await tx.accepted_nominations(since, until)
    claims = await tx.claims(year)
    # pure and CPU-bound (a second for 2,000 villages): off the event loop
    board = await asyncio.to_thread(
        rules.compute_board, plan, window, reports, baselines, good_deeds, claims
    )
    if record:
        last = await tx.last_computed(year)
        for village in board.villages:
            for score in village.criteria:
                key = (village.village.id, score.criterion.id)
                if key in last and last[key] == score.computed:
                    continue
                await tx.add_score_event(
                    year,
                    "computed",
                    now,
                    village_id=village.village.id,
                    criterion_id=score.criterion.id,
                    points=score.computed,
                    value=score.evidence.value,
                    data=_evidence(score, window),
                )
    return board


async def finalize(
    tx: Transaction,
    plan: Plan,
    year: int,
    as_of: date,
    by: str,
    person_id: int | None,
    now: datetime,
) -> Board:
    """Freeze the year's board as computed as of ``as_of``: stored whole (later reports do
    not change it) with who decided (``by``, e.g. "Hội đồng TĐKT, họp ngày 20/12/2026") and
    when, and a ``finalized`` event recording each village's points. Refused (ScoreError)
    while the year's board is already frozen or without ``by``."""
    _scoring(plan)
    by = by.strip()
    if not by:
        raise ScoreError(_("Cần ghi rõ ai quyết định chốt bảng điểm (ví dụ: Hội đồng TĐKT)."))
    snapshot = await tx.current_snapshot(year)
    if snapshot is not None and snapshot.frozen:
        raise _final_error(plan, snapshot)
    board = await load_board(tx, plan, year, as_of, now)
    board = replace(board, final=True, finalized_at=now, finalized_by=by)
    stored = await tx.add_snapshot(
        year, board.as_of, rules.board_to_record(board), by, person_id, now
    )
    await tx.add_score_event(
        year,
        "finalized",
        now,
        person_id=person_id,
        actor=by,
        data={
            "snapshot_id": stored.id,
            "as_of": board.as_of.isoformat(),
            "max": str(board.max),
            "villages": {
                v.village.id: {
                    "total": str(v.total),
                    "grade": v.grade,
                    "rank": v.rank,
                    "criteria": {s.criterion.id: str(s.points) for s in v.criteria},
                }
                for v in board.villages
            },
            "ties": [list(group) for group in board.ties],
        },
    )
    return board


async def reopen(
    tx: Transaction, year: int, reason: str, person_id: int | None, now: datetime
) -> bool:
    """Open the year's frozen board again (it is computed from the data once more), with
    the reason recorded in a ``reopened`` event; False when the board is not frozen. A
    reason is required (ScoreError)."""
    reason = reason.strip()
    if not reason:
        raise ScoreError(_("Cần ghi lý do mở lại bảng điểm."))
    snapshot = await tx.current_snapshot(year)
    if snapshot is None or not snapshot.frozen:
        return False
    if not await tx.reopen_snapshot(snapshot.id, reason, person_id, now):
        return False
    await tx.add_score_event(
        year,
        "reopened",
        now,
        person_id=person_id,
        reason=reason,
        data={"snapshot_id": snapshot.id, "finalized_by": snapshot.finalized_by},
    )
    return True


# -- a head's agreement and claims -------------------------------------------------------


async def agree(
    tx: Transaction, plan: Plan, year: int, village_id: str, person_id: int | None, now: datetime
) -> Board:
    """A head accepts their village's provisional points: an ``agreed`` event with the total
    and each criterion's points at this moment (the board computed as of today). Refused
    (ScoreError) for a village not in the plan or a frozen board."""
    _village(plan, village_id)
    board = await load_board(tx, plan, year, _today(plan, now), now)
    if board.final:
        snapshot = await tx.current_snapshot(year)
        assert snapshot is not None
        raise _final_error(plan, snapshot)
    village = board.village(village_id)
    await tx.add_score_event(
        year,
        "agreed",
        now,
        village_id=village_id,
        points=village.total,
        person_id=person_id,
        data={
            "as_of": board.as_of.isoformat(),
            "grade": village.grade,
            "rank": village.rank,
            "criteria": {s.criterion.id: str(s.points) for s in village.criteria},
        },
    )
    return board


async def add_claim(
    tx: Transaction,
    plan: Plan,
    year: int,
    village_id: str,
    criterion_id: str,
    value: Decimal,
    reason: str,
    photo: str | None,
    person_id: int,
    now: datetime,
) -> Claim:
    """A head claims that a criterion's figure for their village is ``value`` (a %, a change
    in percentage points, a count of reports or good deeds), with a reason and optionally a
    photo (a stored file key). Stored waiting for review, with a ``claimed`` event holding
    the points that figure gives by the rules today. Refused (ScoreError) for an unknown
    criterion or village, an empty reason, or a frozen board."""
    criterion = _criterion(plan, criterion_id)
    _village(plan, village_id)
    reason = reason.strip()
    if not reason:
        raise ScoreError(_("Cần ghi lý do đề nghị điều chỉnh."))
    if not value.is_finite():
        raise ScoreError(_("Số liệu đề nghị không hợp lệ."))
    snapshot = await tx.current_snapshot(year)
    if snapshot is not None and snapshot.frozen:
        raise _final_error(plan, snapshot)
    due = _due(plan, year, now)
    points = rules.claim_points(plan, criterion, value, due)
    claim = await tx.add_claim(year, village_id, criterion_id, value, reason, photo, person_id, now)
    await tx.add_score_event(
        year,
        "claimed",
        now,
        village_id=village_id,
        criterion_id=criterion_id,
        points=points,
        value=value,
        claim_id=claim.id,
        person_id=person_id,
        reason=reason,
        data={"due": due, "photo": photo},
    )
    return claim


async def review_claim(
    tx: Transaction,
    claim_id: int,
    accept: bool,
    comment: str,
    person_id: int | None,
    now: datetime,
    plan: Plan | None = None,
) -> Claim | None:
    """The secretariat accepts a claim (its figure's points now count on the board) or
    refuses it (a comment is required: it reaches the head); an ``accepted`` event with the
    points the claim gives (by the rules today when ``plan`` is given, else as recorded when
    it was claimed) or a ``refused`` one with the comment. None when the claim is unknown,
    was reviewed already (two reviewers at once: the first one wins) or its year's board is
    frozen."""
    comment = comment.strip()
    if not accept and not comment:
        raise ScoreError(_("Cần ghi ý kiến khi không chấp nhận đề nghị."))
    claim = await tx.claim(claim_id)
    if claim is None or claim.status != PENDING:
        return None
    snapshot = await tx.current_snapshot(claim.year)
    if snapshot is not None and snapshot.frozen:
        return None
    status = ACCEPTED if accept else REFUSED
    if not await tx.review_claim(claim_id, status, person_id, comment, now, PENDING):
        return None
    points = await _claim_points(tx, plan, claim, now) if accept else None
    await tx.add_score_event(
        claim.year,
        status,
        now,
        village_id=claim.village_id,
        criterion_id=claim.criterion_id,
        points=points,
        value=claim.value,
        claim_id=claim.id,
        person_id=person_id,
        reason=comment,
        data={"claim_reason": claim.reason, "claimed_by": claim.person_id},
    )
    return await tx.claim(claim_id)


async def claims(
    tx: Transaction, year: int, status: str | None = None, village_id: str | None = None
) -> list[Claim]:
    """The year's claims, oldest first (only of ``status`` / ``village_id`` when given)."""
    return await tx.claims(year, status=status, village_id=village_id)


async def score_events(
    tx: Transaction, year: int, village_id: str | None = None
) -> list[dict[str, Any]]:
    """The year's score history, oldest first (a village's and the year-wide ones when
    ``village_id`` is given)."""
    return await tx.score_events(year, village_id)


# -- helpers -----------------------------------------------------------------------------


def _scoring(plan: Plan) -> None:
    if plan.scoring is None:
        raise ScoreError(_("Kế hoạch chưa có phần chấm điểm thi đua (scoring)."))


def _criterion(plan: Plan, criterion_id: str) -> Criterion:
    _scoring(plan)
    assert plan.scoring is not None
    try:
        return plan.scoring.criterion(criterion_id)
    except KeyError:
        raise ScoreError(
            _("Không có tiêu chí “{criterion}” trong cách chấm điểm của kế hoạch.").format(
                criterion=criterion_id
            )
        ) from None


def _village(plan: Plan, village_id: str) -> None:
    if not any(village.id == village_id for village in plan.villages):
        raise ScoreError(_("Không có thôn “{village}” trong kế hoạch.").format(village=village_id))


def _final_error(plan: Plan, snapshot: Snapshot) -> ScoreError:
    day = snapshot.finalized_at.astimezone(plan.tz).date()
    return ScoreError(
        _(
            "Bảng điểm năm {year} đã được chốt ngày {date} ({by}); không thể thay đổi trừ khi"
            " được mở lại."
        ).format(year=snapshot.year, date=format_date(day, DAY), by=snapshot.finalized_by)
    )


def _frozen(plan: Plan, snapshot: Snapshot) -> Board:
    board = rules.board_from_record(plan, snapshot.board)
    return replace(
        board,
        final=True,
        finalized_at=snapshot.finalized_at,
        finalized_by=snapshot.finalized_by,
    )


def _today(plan: Plan, now: datetime) -> date:
    return now.astimezone(plan.tz).date()


def _window_periods(plan: Plan, window: Window) -> set[tuple[str, str]]:
    """(form id, period key) of every village-level, non-baseline form's period that meets
    the window: an indicator reads the latest one a village reported, due yet or not."""
    return {
        (form.id, period.key)
        for form in plan.forms
        if form.level == "village" and not form.baseline
        for period in rules.window_periods(form, window)
    }


def _moments(plan: Plan, window: Window) -> tuple[datetime, datetime]:
    """The window as moments: from the start of its first day to the end of its last, in
    the plan's timezone."""
    since = datetime.combine(window.start, time(0), tzinfo=plan.tz)
    until = datetime.combine(window.end, time.max, tzinfo=plan.tz)
    return since, until


def _due(plan: Plan, year: int, now: datetime) -> int:
    """How many reports each village has due in ``year`` by today."""
    return len(rules.due_reports(plan, rules.window(plan, year, _today(plan, now))))


async def _claim_points(
    tx: Transaction, plan: Plan | None, claim: Claim, now: datetime
) -> Decimal | None:
    """The points a claim's figure gives: by the rules today when the plan (still) has its
    criterion, else the points recorded when it was claimed."""
    if plan is not None and plan.scoring is not None:
        try:
            criterion = plan.scoring.criterion(claim.criterion_id)
        except KeyError:
            pass
        else:
            return rules.claim_points(plan, criterion, claim.value, _due(plan, claim.year, now))
    for event in reversed(await tx.score_events(claim.year, claim.village_id)):
        if event["kind"] == "claimed" and event["claim_id"] == claim.id:
            points = event["points"]
            return points if isinstance(points, Decimal) else None
    return None


def _evidence(score: CriterionScore, window: Window) -> dict[str, Any]:
    """What a computed score stood on, JSON-able (Decimals as text; nothing left out that
    the evidence has)."""
    evidence = score.evidence
    data: dict[str, Any] = {"as_of": window.as_of.isoformat()}
    for name in ("numerator", "denominator", "baseline", "level"):
        amount = getattr(evidence, name)
        if amount is not None:
            data[name] = str(amount)
    if evidence.unit is not None:
        data["unit"] = evidence.unit
    if evidence.period is not None:
        data["period"] = evidence.period
    if evidence.report_id is not None:
        data["report_id"] = evidence.report_id
    if score.claim is not None:
        data["claim_id"] = score.claim.id
    return data
