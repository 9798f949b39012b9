"""The scoreboard's rules (issue 11): villages scored on the plan's ``scoring:`` criteria.

Pure functions, no I/O: storage supplies the reports, the baseline forms' answers, the
accepted nominations and the claims; these functions turn them into a ``Board`` whose every
figure can be recomputed by hand from its ``Evidence``. Decimals throughout, compared at
full precision.

The rules, and the choices made where the issue says nothing:

- **The window** (``window``) runs from January 1st of the year, or the plan's ``starts``
  when later, to December 31st cut at the scoring date ``as_of``. Reports count when their
  first version was sent by the end of ``as_of`` in the plan's timezone (stored times are
  aware; a naive one is read as UTC).
- **Reports due** (``due_reports``): for each village-level form that is not a baseline
  form, every period that meets the window whose due day lies in the window and is strictly
  before ``as_of`` (a report due on the scoring date itself is not due yet); periods outside
  the plan's ``starts``/``ends`` are never due, as in the digest. Every village of the plan
  owes each of them. A report is sent when its first version was sent by the end of
  ``as_of``, on time when that was by the end of its due day (``bot.outputs.digest``'s rule).
- **An indicator criterion** reads the village's latest report of the latest period meeting
  the window that it reported (of the indicator's form): a ratio is numerator × 100 ÷
  denominator (a missing answer or a denominator of 0: no value), a share is 100 for yes and
  0 for no. A change target (``Target.direction``) scores the change of that level from the
  village's baseline: the baseline form's answers read through the indicator's
  ``baseline_from`` questions, else the village's first value in the window (the earliest
  period it reported that gives a value).
- **Points**: for ``>= T`` / ``> T``, points × clamp((v − Z) ÷ (T − Z), 0, 1), Z =
  ``zero_at`` or 0 (also for change targets); for ``<= T`` / ``< T``, points × clamp((Z −
  v) ÷ (Z − T), 0, 1), Z = ``zero_at`` or 2T (also for change targets: Z = 0 would reward
  the wrong side of an "at most" change). When T = Z, and for ``==``, the points are full
  when the target is met, else 0. ``on_time`` is points × on time ÷ due, ``completeness``
  points × sent ÷ due (nothing due: 0 points, and no data); ``good_deeds`` is min(points,
  per_item × nominations accepted in the window).
- **Claims**: a claim states the figure itself (the % or change of an indicator, a count of
  reports on time or sent, a count of good deeds); ``claim_points`` gives its points by the
  same rule, a count of reports against the village's reports due. The latest accepted
  claim of a village and criterion (by review time, then id) sets the criterion's points;
  pending and refused claims change nothing. An accepted claim on an ``on_time`` criterion
  also sets the on-time share the grade caps rank by.
- **Grades**: a village takes the first grade whose ``at_least`` % of the maximum its total
  reaches with every criterion at ``each_at_least`` % of its own points or more. A grade
  with ``at_most_share`` goes to at most floor(share ÷ 100 × villages) of them, ranked by
  total, then on-time share, then plan order; the others go on to the next grade whose
  conditions they meet (a village that meets none takes the last grade). When the villages
  on both sides of a cut have the same total and on-time share, every village with that
  total and share among the grade's candidates is flagged (``tie``) and the group is listed
  in ``Board.ties``. Ranks go by total, equal totals sharing a rank (1, 2, 2, 4).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from bot.i18n import _
from bot.outputs.digest import reporting
from bot.plan.model import (
    Criterion,
    Form,
    Grade,
    Indicator,
    Plan,
    Scoring,
    Target,
    Village,
)
from bot.plan.periods import Period, period_of
from bot.reports.numbers import stored_number
from bot.scoring.board import (
    ACCEPTED,
    Board,
    Claim,
    CriterionScore,
    Evidence,
    ReportRecord,
    VillageScore,
    Window,
)

__all__ = [
    "Gap",
    "board_from_record",
    "board_json_text",
    "board_to_json",
    "board_to_record",
    "claim_points",
    "compute_board",
    "due_reports",
    "gaps",
    "indicator_points",
    "sent_by",
    "window",
    "window_periods",
    "zero_at",
]

ZERO = Decimal(0)
HUNDRED = Decimal(100)
RECORD_VERSION = 1


# --------------------------------------------------------------------------- the window


def window(plan: Plan, year: int, as_of: date) -> Window:
    """The days ``year``'s board counts: from January 1st, or the plan's ``starts`` when
    later, to December 31st cut at ``as_of`` (``Window.end``)."""
    start = date(year, 1, 1)
    if plan.starts is not None and plan.starts > start:
        start = plan.starts
    return Window(year, start, as_of)


def sent_by(plan: Plan, win: Window) -> datetime:
    """The last instant a report may have been sent to count: the end of ``as_of`` in the
    plan's timezone."""
    return datetime.combine(win.as_of, time.max, tzinfo=plan.tz)


def _aware(moment: datetime) -> datetime:
    """``moment`` as an aware datetime (a naive one is taken to be UTC, as stored)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def window_periods(form: Form, win: Window) -> list[Period]:
    """The periods of ``form`` that meet the window, in time order."""
    if win.start > win.end:
        return []
    periods = []
    period = period_of(form.period, win.start)  # type: ignore[arg-type]
    while period.start <= win.end:
        periods.append(period)
        period = period.next()
    return periods


def _scored_forms(plan: Plan) -> list[Form]:
    """The forms whose reports are due from every village: village-level, not baseline."""
    return [f for f in plan.forms if f.level == "village" and not f.baseline]


def _outside(plan: Plan, period: Period) -> bool:
    """A period wholly outside the plan's dates (no report is due in it)."""
    return (plan.starts is not None and period.end < plan.starts) or (
        plan.ends is not None and period.start > plan.ends
    )


def due_reports(plan: Plan, win: Window) -> list[tuple[Form, Period]]:
    """Every (form, period) whose report each village owes as of the window's scoring date:
    village-level non-baseline forms, periods whose due day lies in the window and strictly
    before ``as_of``, none outside the plan's dates; in plan then time order."""
    due: list[tuple[Form, Period]] = []
    for form in _scored_forms(plan):
        for period in window_periods(form, win):
            day = period.due_date(form.due)
            if win.start <= day <= win.end and day < win.as_of and not _outside(plan, period):
                due.append((form, period))
    return due


# --------------------------------------------------------------------------- points


def _scoring(plan: Plan) -> Scoring:
    if plan.scoring is None:
        raise ValueError(_("Kế hoạch không có phần chấm điểm “scoring”."))
    return plan.scoring


def _target(plan: Plan, criterion: Criterion) -> Target:
    """The criterion's own target, else its indicator's."""
    target = criterion.target
    if target is None and criterion.indicator is not None:
        target = plan.indicator(criterion.indicator).target
    if target is None:
        raise ValueError(
            _("Tiêu chí “{criterion}” không có mục tiêu để chấm điểm.").format(
                criterion=criterion.id
            )
        )
    return target


def zero_at(criterion: Criterion, target: Target) -> Decimal:
    """Z, the value that scores nothing: the criterion's ``zero_at``, else 0 for an "at
    least" target (``>=``, ``>``) and 2T for an "at most" one (``<=``, ``<``), whether on a
    level or on a change; for ``==``, T itself."""
    if criterion.zero_at is not None:
        return criterion.zero_at
    if target.op in (">=", ">"):
        return ZERO
    if target.op in ("<=", "<"):
        return 2 * target.value
    return target.value


def _clamp(value: Decimal, low: Decimal, high: Decimal) -> Decimal:
    return max(low, min(high, value))


def indicator_points(criterion: Criterion, target: Target, value: Decimal) -> Decimal:
    """The points a figure ``value`` (a level, or a change for a change target) gives:
    points × clamp((v − Z) ÷ (T − Z), 0, 1) for ``>=``/``>``, points × clamp((Z − v) ÷ (Z −
    T), 0, 1) for ``<=``/``<``; full or nothing, by whether the target is met, for ``==``
    and when T = Z."""
    points = criterion.points
    goal = target.value
    zero = zero_at(criterion, target)
    if target.op == "==" or goal == zero:
        return points if target.met(value) else ZERO
    if target.op in (">=", ">"):
        raw = points * (value - zero) / (goal - zero)
    else:
        raw = points * (zero - value) / (zero - goal)
    return _clamp(raw, ZERO, points)


def _count_points(criterion: Criterion, count: Decimal, due: int) -> Decimal:
    """points × count ÷ due, within 0 and the points; 0 when nothing is due."""
    if due <= 0:
        return ZERO
    return _clamp(criterion.points * count / Decimal(due), ZERO, criterion.points)


def _per_item(criterion: Criterion) -> Decimal:
    if criterion.per_item is None:
        raise ValueError(
            _("Tiêu chí “{criterion}” thiếu số điểm cho mỗi gương “per_item”.").format(
                criterion=criterion.id
            )
        )
    return criterion.per_item


def claim_points(plan: Plan, criterion: Criterion, value: Decimal, due: int) -> Decimal:
    """The points a claimed figure gives by the criterion's rule: ``value`` is the % (or the
    change, for a change target) of an indicator, the count of reports on time or sent
    (against ``due``, the village's reports due), or the count of good deeds."""
    if criterion.indicator is not None:
        return indicator_points(criterion, _target(plan, criterion), value)
    if criterion.measure in ("on_time", "completeness"):
        return _count_points(criterion, value, due)
    if criterion.measure == "good_deeds":
        return _clamp(_per_item(criterion) * value, ZERO, criterion.points)
    raise ValueError(criterion.measure)


# --------------------------------------------------------------------------- indicator values


@dataclass(frozen=True)
class _Reading:
    """An indicator's value in one set of answers, with its fraction for a ratio."""

    value: Decimal
    numerator: Decimal | None = None
    denominator: Decimal | None = None


def _read(kind: str, questions: Sequence[str], answers: Mapping[str, Any]) -> _Reading | None:
    """The value of a ``ratio`` (numerator × 100 ÷ denominator; None for a missing answer or
    a denominator of 0), a ``share_yes`` (100 for yes, 0 for no) or a ``sum`` (the number)
    read from one village's answers through ``questions``."""
    if kind == "ratio":
        if len(questions) != 2:
            return None
        numerator = stored_number(answers.get(questions[0]))
        denominator = stored_number(answers.get(questions[1]))
        if numerator is None or denominator is None or denominator == 0:
            return None
        return _Reading(numerator * HUNDRED / denominator, numerator, denominator)
    if len(questions) != 1:
        return None
    answer = answers.get(questions[0])
    if kind == "share_yes":
        if not isinstance(answer, bool):
            return None
        return _Reading(HUNDRED if answer else ZERO)
    number = stored_number(answer)
    return None if number is None else _Reading(number)


def _unit(plan: Plan, indicator: Indicator) -> str | None:
    """The unit of a ratio's numerator and denominator: the denominator question's."""
    if indicator.kind != "ratio" or len(indicator.questions) != 2:
        return None
    try:
        return plan.question(indicator.questions[1])[1].unit
    except KeyError:
        return None


@dataclass(frozen=True)
class _IndicatorRule:
    """What an indicator criterion reads, looked up in the plan once per board."""

    indicator: Indicator
    target: Target
    form_id: str  # the form its questions are in
    unit: str | None

    @classmethod
    def of(cls, plan: Plan, criterion: Criterion) -> _IndicatorRule:
        assert criterion.indicator is not None
        indicator = plan.indicator(criterion.indicator)
        form_id = plan.question(indicator.questions[0])[0].id
        return cls(indicator, _target(plan, criterion), form_id, _unit(plan, indicator))


def _indicator_evidence(
    rule: _IndicatorRule,
    records: Sequence[ReportRecord],
    baseline_answers: Mapping[str, Any] | None,
) -> Evidence:
    """What an indicator criterion stands on for one village, from its reports of the
    indicator's form in the window (oldest period first)."""
    indicator, target, unit = rule.indicator, rule.target, rule.unit
    if not records:
        return Evidence(None, unit=unit)
    latest = records[-1]
    reading = _read(indicator.kind, indicator.questions, latest.answers)
    numerator = reading.numerator if reading else None
    denominator = reading.denominator if reading else None
    if target.direction is None:
        return Evidence(
            reading.value if reading else None,
            numerator,
            denominator,
            unit,
            latest.period,
            latest.report_id,
        )
    baseline: _Reading | None = None
    baseline_period: str | None = None
    if baseline_answers is not None and indicator.baseline_from:
        baseline = _read(indicator.kind, indicator.baseline_from, baseline_answers)
    if baseline is None:
        for record in records:
            baseline = _read(indicator.kind, indicator.questions, record.answers)
            if baseline is not None:
                baseline_period = record.period
                break
    level = reading.value if reading else None
    change = (
        target.change(level, baseline.value) if level is not None and baseline is not None else None
    )
    return Evidence(
        change,
        numerator,
        denominator,
        unit,
        latest.period,
        latest.report_id,
        baseline.value if baseline else None,
        level,
        baseline_period,
    )


# --------------------------------------------------------------------------- the board


def _latest_accepted(claims: Sequence[Claim]) -> Claim | None:
    accepted = [c for c in claims if c.status == ACCEPTED]
    if not accepted:
        return None
    return max(accepted, key=lambda c: (_aware(c.reviewed_at or c.created_at), c.id))


def _meets(
    grade: Grade, maximum: Decimal, total: Decimal, scores: Sequence[CriterionScore]
) -> bool:
    """Whether a total and its criteria meet a grade's ``at_least`` and ``each_at_least``
    (percentages compared multiplied out, so exactly)."""
    if grade.at_least is not None and total * HUNDRED < grade.at_least * maximum:
        return False
    if grade.each_at_least is not None:
        for score in scores:
            if score.points * HUNDRED < grade.each_at_least * score.criterion.points:
                return False
    return True


@dataclass
class _Candidate:
    index: int  # plan order
    total: Decimal
    share: Decimal
    scores: tuple[CriterionScore, ...]
    grade: str | None = None
    tie: bool = False


def _assign_grades(
    grades: Sequence[Grade], maximum: Decimal, candidates: list[_Candidate]
) -> list[tuple[int, ...]]:
    """Each candidate's grade, by the grades' conditions and caps (see the module's rules);
    returns the groups tied at a cut, as indices into ``candidates``."""
    ties: list[tuple[int, ...]] = []
    count = len(candidates)
    for grade in grades:
        eligible = [
            c for c in candidates if c.grade is None and _meets(grade, maximum, c.total, c.scores)
        ]
        if grade.at_most_share is not None:
            cap = int(
                (grade.at_most_share * Decimal(count) / HUNDRED).to_integral_value(ROUND_FLOOR)
            )
            eligible.sort(key=lambda c: (-c.total, -c.share, c.index))
            if len(eligible) > cap:
                if cap > 0:
                    inside, outside = eligible[cap - 1], eligible[cap]
                    if (inside.total, inside.share) == (outside.total, outside.share):
                        group = [
                            c
                            for c in eligible
                            if (c.total, c.share) == (inside.total, inside.share)
                        ]
                        for c in group:
                            c.tie = True
                        ties.append(tuple(sorted(c.index for c in group)))
                eligible = eligible[:cap]
        for c in eligible:
            c.grade = grade.name
    if grades:
        for c in candidates:
            if c.grade is None:
                c.grade = grades[-1].name
    return ties


def _ranks(totals: Sequence[Decimal]) -> list[int]:
    """Competition ranks by total, highest first: equal totals share a rank (1, 2, 2, 4)."""
    ordered = sorted(totals, reverse=True)
    first: dict[Decimal, int] = {}
    for position, total in enumerate(ordered, start=1):
        first.setdefault(total, position)
    return [first[t] for t in totals]


def compute_board(
    plan: Plan,
    win: Window,
    reports: Sequence[ReportRecord],
    baselines: Mapping[str, Mapping[str, Any]],
    good_deeds: Mapping[str, int],
    claims: Sequence[Claim],
) -> Board:
    """The year's board from the data: ``reports`` (any of the window's forms and periods;
    those first sent after the end of ``as_of`` are left out), ``baselines`` (village id ->
    the latest answers of the baseline forms), ``good_deeds`` (village id -> nominations
    accepted in the window) and the year's ``claims``. Villages in plan order."""
    scoring = _scoring(plan)
    cutoff = sent_by(plan, win)

    # The reports that count, once each (the earliest sent if storage gave two).
    kept: dict[tuple[str, str, str], ReportRecord] = {}
    for record in reports:
        if _aware(record.first_sent) > cutoff:
            continue
        key = (record.village_id, record.form_id, record.period)
        old = kept.get(key)
        if old is None or _aware(record.first_sent) < _aware(old.first_sent):
            kept[key] = record

    # Reporting: reports due, sent and on time per village.
    due = due_reports(plan, win)
    by_period: dict[tuple[str, str], dict[str, datetime]] = {}
    for (village_id, form_id, period), record in kept.items():
        by_period.setdefault((form_id, period), {})[village_id] = _aware(record.first_sent)
    sent: dict[str, int] = {}
    on_time: dict[str, int] = {}
    for form, period in due:
        status = reporting(plan, form.id, period, by_period.get((form.id, period.key), {}))
        for village_id in status.reported:
            sent[village_id] = sent.get(village_id, 0) + 1
        for village_id in status.on_time:
            on_time[village_id] = on_time.get(village_id, 0) + 1
    due_count = len(due)

    # Each village's reports of each form, in the window's periods, oldest first.
    in_window: dict[str, dict[str, int]] = {}
    for form in plan.forms:
        in_window[form.id] = {p.key: n for n, p in enumerate(window_periods(form, win))}
    history: dict[tuple[str, str], list[ReportRecord]] = {}
    for (village_id, form_id, period), record in kept.items():
        order = in_window.get(form_id)
        if order is not None and period in order:
            history.setdefault((village_id, form_id), []).append(record)
    for records in history.values():
        records.sort(key=lambda r: in_window[r.form_id][r.period])

    claims_of: dict[str, list[Claim]] = {}
    for claim in claims:
        if claim.year == win.year:
            claims_of.setdefault(claim.village_id, []).append(claim)

    rules = {c.id: _IndicatorRule.of(plan, c) for c in scoring.criteria if c.indicator is not None}
    candidates: list[_Candidate] = []
    for index, village in enumerate(plan.villages):
        mine = claims_of.get(village.id, [])
        scores: list[CriterionScore] = []
        share = Decimal(on_time.get(village.id, 0)) / Decimal(due_count) if due_count else ZERO
        for criterion in scoring.criteria:
            rule = rules.get(criterion.id)
            if rule is not None:
                records = history.get((village.id, rule.form_id), [])
                evidence = _indicator_evidence(rule, records, baselines.get(village.id))
            else:
                evidence = _measure_evidence(
                    criterion, village, good_deeds, due_count, sent, on_time
                )
            computed = (
                ZERO
                if evidence.value is None
                else _points(plan, criterion, rule, evidence.value, due_count)
            )
            claim = (
                _latest_accepted([c for c in mine if c.criterion_id == criterion.id])
                if mine
                else None
            )
            points = (
                _points(plan, criterion, rule, claim.value, due_count)
                if claim is not None
                else computed
            )
            if claim is not None and criterion.measure == "on_time" and due_count:
                share = _clamp(claim.value, ZERO, Decimal(due_count)) / Decimal(due_count)
            scores.append(CriterionScore(criterion, points, computed, evidence, claim))
        total = sum((s.points for s in scores), ZERO)
        candidates.append(_Candidate(index, total, share, tuple(scores)))

    tie_groups = _assign_grades(scoring.grades, scoring.max, candidates)
    ranks = _ranks([c.total for c in candidates])
    villages = []
    for c, rank in zip(candidates, ranks, strict=True):
        village = plan.villages[c.index]
        mine = sorted(claims_of.get(village.id, []), key=lambda cl: (_aware(cl.created_at), cl.id))
        villages.append(
            VillageScore(
                village,
                c.scores,
                c.total,
                c.grade,
                rank,
                c.share,
                c.tie,
                tuple(mine),
            )
        )
    ties = tuple(tuple(plan.villages[i].id for i in group) for group in tie_groups)
    return Board(win.year, win.as_of, scoring.max, tuple(villages), ties=ties)


def _measure_evidence(
    criterion: Criterion,
    village: Village,
    good_deeds: Mapping[str, int],
    due: int,
    sent: Mapping[str, int],
    on_time: Mapping[str, int],
) -> Evidence:
    """What a measure criterion (reports on time, sent, good deeds) of one village stands
    on: the count, and for reports the reports due."""
    if criterion.measure in ("on_time", "completeness"):
        if due == 0:
            return Evidence(None, denominator=ZERO)
        counts = on_time if criterion.measure == "on_time" else sent
        count = Decimal(counts.get(village.id, 0))
        return Evidence(count, count, Decimal(due))
    if criterion.measure == "good_deeds":
        count = Decimal(good_deeds.get(village.id, 0))
        return Evidence(count, count)
    raise ValueError(criterion.measure)


def _points(
    plan: Plan, criterion: Criterion, rule: _IndicatorRule | None, value: Decimal, due: int
) -> Decimal:
    """``claim_points``, with an indicator's target already looked up."""
    if rule is not None:
        return indicator_points(criterion, rule.target, value)
    return claim_points(plan, criterion, value, due)


# --------------------------------------------------------------------------- gaps


@dataclass(frozen=True)
class Gap:
    """One thing a village lacks for the grade just above its own (``grade``).

    ``criterion`` None: the total, ``lacking`` points short of ``points`` (the grade's
    ``at_least`` share of the maximum). Otherwise one criterion, whose points should reach
    ``points`` (``lacking`` more): ``required`` when it is under the grade's
    ``each_at_least`` (it must be raised whatever the total), else listed because the total
    is short (``closes_total``: raising this criterion alone to ``points`` makes up the
    whole total). ``value`` is its figure now and ``needed`` the figure that gives
    ``points``: for an indicator the % (or the change, for a change target), for ``on_time``
    and ``completeness`` a count of reports against those due so far, for ``good_deeds`` a
    count of accepted nominations. ``more`` is how many more of the thing counted are needed
    (reports, good deeds, or for a ratio with a known denominator the numerator's ``unit``:
    people with health insurance…), ``fewer`` how many fewer for a ratio that must go down;
    ``reachable`` is False when no number of them can do it (more than the denominator,
    nothing due yet). ``capped``: the village meets the grade's conditions but its
    ``at_most_share`` left it out (only a better rank helps)."""

    grade: str
    criterion: Criterion | None = None
    points: Decimal = ZERO
    lacking: Decimal = ZERO
    required: bool = False
    closes_total: bool = False
    value: Decimal | None = None
    needed: Decimal | None = None
    more: int | None = None
    fewer: int | None = None
    unit: str | None = None
    reachable: bool = True
    capped: bool = False


def _ceil(value: Decimal) -> int:
    return int(value.to_integral_value(ROUND_CEILING))


def gaps(plan: Plan, board: Board, village_id: str) -> list[Gap]:
    """What ``village_id`` lacks for the grade just above its own, as data: the total's
    shortfall first, then the criteria under the grade's ``each_at_least``, then (when the
    total is short) every other criterion not at full points, most points lost first.
    Nothing when the village has the top grade, the plan no grades, or the village is not
    on the board."""
    scoring = _scoring(plan)
    names = [g.name for g in scoring.grades]
    try:
        score = board.village(village_id)
    except KeyError:
        return []
    if score.grade not in names or names.index(score.grade) == 0:
        return []
    grade = scoring.grades[names.index(score.grade) - 1]
    if _meets(grade, board.max, score.total, score.criteria):
        return [Gap(grade.name, capped=True)]

    result: list[Gap] = []
    lacking = ZERO
    if grade.at_least is not None:
        goal = grade.at_least * board.max / HUNDRED
        if score.total < goal:
            lacking = goal - score.total
            result.append(Gap(grade.name, points=goal, lacking=lacking))

    items: list[tuple[bool, Decimal, int, Gap]] = []
    for order, criterion_score in enumerate(score.criteria):
        criterion = criterion_score.criterion
        current = criterion_score.points
        threshold = (
            grade.each_at_least * criterion.points / HUNDRED
            if grade.each_at_least is not None
            else ZERO
        )
        required = current < threshold
        short = lacking > 0 and current < criterion.points
        if not required and not short:
            continue
        wanted = threshold if required else current
        closes = False
        if short:
            through_total = current + lacking
            closes = through_total <= criterion.points
            wanted = max(wanted, min(criterion.points, through_total))
        gap = _criterion_gap(plan, grade.name, criterion_score, wanted, required, closes)
        items.append((not required, -(criterion.points - current), order, gap))
    items.sort(key=lambda item: item[:3])
    result.extend(item[3] for item in items)
    return result


def _criterion_gap(
    plan: Plan,
    grade: str,
    score: CriterionScore,
    wanted: Decimal,
    required: bool,
    closes: bool,
) -> Gap:
    """What one criterion needs to reach ``wanted`` points (see ``Gap``)."""
    criterion = score.criterion
    evidence = score.evidence
    value = score.claim.value if score.claim is not None else evidence.value
    fraction = wanted / criterion.points
    base = Gap(grade, criterion, wanted, wanted - score.points, required, closes, value)
    if criterion.indicator is not None:
        target = _target(plan, criterion)
        needed = _needed_figure(criterion, target, fraction)
        more, fewer, reachable = _numerator_change(plan, criterion, target, evidence, needed)
        return replace(
            base, needed=needed, more=more, fewer=fewer, unit=evidence.unit, reachable=reachable
        )
    if criterion.measure in ("on_time", "completeness"):
        due = evidence.denominator
        if due is None or due == 0:
            return replace(base, reachable=False)
        needed_count = _ceil(fraction * due)
        more = max(0, _ceil(Decimal(needed_count) - (value or ZERO)))
        return replace(base, needed=Decimal(needed_count), more=more, reachable=needed_count <= due)
    needed_count = _ceil(wanted / _per_item(criterion))
    more = max(0, _ceil(Decimal(needed_count) - (value or ZERO)))
    return replace(base, needed=Decimal(needed_count), more=more)


def _needed_figure(criterion: Criterion, target: Target, fraction: Decimal) -> Decimal:
    """The figure that gives ``fraction`` of the criterion's points: the formula inverted,
    v = Z + f·(T − Z) (for "at most" targets, v = Z − f·(Z − T)); T itself when the points
    are full or nothing (``==``, T = Z)."""
    zero = zero_at(criterion, target)
    goal = target.value
    if target.op == "==" or goal == zero:
        return goal
    if target.op in (">=", ">"):
        return zero + fraction * (goal - zero)
    return zero - fraction * (zero - goal)


def _numerator_change(
    plan: Plan, criterion: Criterion, target: Target, evidence: Evidence, needed: Decimal
) -> tuple[int | None, int | None, bool]:
    """For a ratio with a known denominator: how many more (or fewer) of the numerator give
    the needed figure, and whether that is possible within the denominator."""
    assert criterion.indicator is not None
    indicator = plan.indicator(criterion.indicator)
    numerator, denominator = evidence.numerator, evidence.denominator
    if indicator.kind != "ratio" or numerator is None or not denominator:
        return None, None, True
    level = needed
    if target.direction is not None:
        if evidence.baseline is None:
            return None, None, True
        level = (
            evidence.baseline + needed
            if target.direction == "increase"
            else evidence.baseline - needed
        )
    wanted = level * denominator / HUNDRED
    higher = (target.op in (">=", ">")) != (target.direction == "decrease")
    if target.op == "==":
        higher = wanted >= numerator
    if higher:
        more = max(0, _ceil(wanted - numerator))
        return more, None, numerator + more <= denominator
    fewer = max(0, _ceil(numerator - wanted))
    return None, fewer, numerator - fewer >= 0


# --------------------------------------------------------------------------- JSON and records


def _iso(moment: datetime | date | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def board_to_json(board: Board) -> dict[str, Any]:
    """The board as the issue's JSON contract, full precision (Decimals kept as Decimals;
    ``board_json_text`` writes them as JSON numbers): year, max, final, as_of, finalized_at,
    finalized_by, ties, and the villages in plan order with their criteria's points, total,
    grade, rank, missing data, tie flag and claims."""
    return {
        "year": board.year,
        "as_of": board.as_of.isoformat(),
        "max": board.max,
        "final": board.final,
        "finalized_at": _iso(board.finalized_at),
        "finalized_by": board.finalized_by,
        "ties": [list(group) for group in board.ties],
        "villages": [
            {
                "id": v.village.id,
                "name": v.village.name,
                "criteria": {c.criterion.id: c.points for c in v.criteria},
                "total": v.total,
                "grade": v.grade,
                "rank": v.rank,
                "missing": v.missing,
                "tie": v.tie,
                "claims": [
                    {
                        "id": claim.id,
                        "criterion": claim.criterion_id,
                        "value": claim.value,
                        "status": claim.status,
                        "reason": claim.reason,
                        "comment": claim.comment,
                        "created_at": _iso(claim.created_at),
                        "reviewed_at": _iso(claim.reviewed_at),
                    }
                    for claim in v.claims
                ],
            }
            for v in board.villages
        ],
    }


def _json_number(value: Any) -> Any:
    """Decimals as JSON numbers (an int when integral, else the shortest float), recursively."""
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return int(value)
        return float(value)
    if isinstance(value, dict):
        return {k: _json_number(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_number(v) for v in value]
    return value


def board_json_text(board: Board) -> str:
    """``board_to_json`` as JSON text: Decimals as numbers, UTF-8 kept, indented by 2."""
    return json.dumps(_json_number(board_to_json(board)), ensure_ascii=False, indent=2)


def _dec(value: Decimal | None) -> str | None:
    return str(value) if value is not None else None


def _undec(value: str | None) -> Decimal | None:
    return Decimal(value) if value is not None else None


def _target_record(target: Target | None) -> dict[str, Any] | None:
    if target is None:
        return None
    return {"op": target.op, "value": str(target.value), "direction": target.direction}


def _target_from(record: Mapping[str, Any] | None) -> Target | None:
    if record is None:
        return None
    return Target(record["op"], Decimal(record["value"]), record.get("direction"))


def _criterion_record(criterion: Criterion) -> dict[str, Any]:
    return {
        "id": criterion.id,
        "title": criterion.title,
        "points": str(criterion.points),
        "indicator": criterion.indicator,
        "measure": criterion.measure,
        "target": _target_record(criterion.target),
        "zero_at": _dec(criterion.zero_at),
        "per_item": _dec(criterion.per_item),
    }


def _criterion_from(record: Mapping[str, Any]) -> Criterion:
    return Criterion(
        record["id"],
        record["title"],
        Decimal(record["points"]),
        record.get("indicator"),
        record.get("measure"),
        _target_from(record.get("target")),
        _undec(record.get("zero_at")),
        _undec(record.get("per_item")),
    )


_EVIDENCE_DECIMALS = ("value", "numerator", "denominator", "baseline", "level")


def _evidence_record(evidence: Evidence) -> dict[str, Any]:
    record: dict[str, Any] = {name: _dec(getattr(evidence, name)) for name in _EVIDENCE_DECIMALS}
    record.update(
        unit=evidence.unit,
        period=evidence.period,
        report_id=evidence.report_id,
        baseline_period=evidence.baseline_period,
    )
    return record


def _evidence_from(record: Mapping[str, Any]) -> Evidence:
    return Evidence(
        _undec(record.get("value")),
        _undec(record.get("numerator")),
        _undec(record.get("denominator")),
        record.get("unit"),
        record.get("period"),
        record.get("report_id"),
        _undec(record.get("baseline")),
        _undec(record.get("level")),
        record.get("baseline_period"),
    )


def _claim_record(claim: Claim) -> dict[str, Any]:
    return {
        "id": claim.id,
        "year": claim.year,
        "village_id": claim.village_id,
        "criterion_id": claim.criterion_id,
        "value": str(claim.value),
        "reason": claim.reason,
        "person_id": claim.person_id,
        "created_at": claim.created_at.isoformat(),
        "status": claim.status,
        "photo": claim.photo,
        "reviewed_by": claim.reviewed_by,
        "reviewed_at": _iso(claim.reviewed_at),
        "comment": claim.comment,
    }


def _claim_from(record: Mapping[str, Any]) -> Claim:
    reviewed_at = record.get("reviewed_at")
    return Claim(
        record["id"],
        record["year"],
        record["village_id"],
        record["criterion_id"],
        Decimal(record["value"]),
        record["reason"],
        record["person_id"],
        datetime.fromisoformat(record["created_at"]),
        record["status"],
        record.get("photo"),
        record.get("reviewed_by"),
        datetime.fromisoformat(reviewed_at) if reviewed_at is not None else None,
        record.get("comment", ""),
    )


def board_to_record(board: Board) -> dict[str, Any]:
    """The board as a JSON-able snapshot that ``board_from_record`` reads back unchanged:
    Decimals as strings, each criterion as it was defined, the evidence and claims."""
    return {
        "version": RECORD_VERSION,
        "year": board.year,
        "as_of": board.as_of.isoformat(),
        "max": str(board.max),
        "final": board.final,
        "finalized_at": _iso(board.finalized_at),
        "finalized_by": board.finalized_by,
        "ties": [list(group) for group in board.ties],
        "villages": [
            {
                "id": v.village.id,
                "name": v.village.name,
                "total": str(v.total),
                "grade": v.grade,
                "rank": v.rank,
                "on_time_share": str(v.on_time_share),
                "tie": v.tie,
                "criteria": [
                    {
                        "criterion": _criterion_record(c.criterion),
                        "points": str(c.points),
                        "computed": str(c.computed),
                        "evidence": _evidence_record(c.evidence),
                        "claim": _claim_record(c.claim) if c.claim is not None else None,
                    }
                    for c in v.criteria
                ],
                "claims": [_claim_record(claim) for claim in v.claims],
            }
            for v in board.villages
        ],
    }


def board_from_record(plan: Plan, record: Mapping[str, Any]) -> Board:
    """The board a snapshot holds. Criteria are as they were when it was taken; a village
    still in the plan is the plan's (its current name), one no longer in it keeps the name
    stored with it."""
    current = {v.id: v for v in plan.villages}
    villages = []
    for item in record["villages"]:
        village = current.get(item["id"]) or Village(item["id"], item["name"])
        criteria = tuple(
            CriterionScore(
                _criterion_from(c["criterion"]),
                Decimal(c["points"]),
                Decimal(c["computed"]),
                _evidence_from(c["evidence"]),
                _claim_from(c["claim"]) if c.get("claim") is not None else None,
            )
            for c in item["criteria"]
        )
        villages.append(
            VillageScore(
                village,
                criteria,
                Decimal(item["total"]),
                item.get("grade"),
                item["rank"],
                Decimal(item["on_time_share"]),
                bool(item.get("tie", False)),
                tuple(_claim_from(c) for c in item.get("claims", [])),
            )
        )
    finalized_at = record.get("finalized_at")
    return Board(
        record["year"],
        date.fromisoformat(record["as_of"]),
        Decimal(record["max"]),
        tuple(villages),
        bool(record.get("final", False)),
        datetime.fromisoformat(finalized_at) if finalized_at is not None else None,
        record.get("finalized_by"),
        tuple(tuple(group) for group in record.get("ties", [])),
    )
