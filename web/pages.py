"""What each page of the web page shows, read from storage for one viewer.

Each function takes a unit of work (a read-only one serves), the plan, the viewer and the
moment, and returns plain data the templates lay out; none of it knows HTTP. The viewer's
role decides what a page is built from: for a village head, their village's rows (the
commune-wide reads are filtered to it as they are read; the CSV and the report history
query that village alone) and their own nominations, never anyone else's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from bot.domain import (
    NEEDS_INFO,
    ROLE_OFFICER,
    Nomination,
    NominationEvent,
    Person,
    Report,
)
from bot.i18n import N_, _, format_number
from bot.nominations import rules
from bot.outputs.chart import (
    LATE,
    MISSING,
    NOT_DUE,
    NOT_EXPECTED,
    ON_TIME,
    STATE_LABELS,
    cell_state,
)
from bot.outputs.digest import (
    FormSection,
    IndicatorFigure,
    Reporting,
    amount_text,
    figure_coverage,
    indicator_figures,
    reporting,
    target_text,
    verdict_text,
)
from bot.outputs.export import spreadsheet_csv
from bot.outputs.scoreboard import evidence_text
from bot.outputs.workbook import build_workbook
from bot.plan.model import COMMUNE_ID, Form, Indicator, Plan, Question, Target
from bot.plan.periods import Period, PeriodKind, current_period, parse_period
from bot.reports.answers import answer_text
from bot.scoring.board import PENDING, Board, Claim, VillageScore
from bot.scoring.views import points_text, shown_year
from handlers.digest import change_baselines, digest_sections, read_digest
from handlers.scoreboard import load_board
from storage.repository import Transaction, people_names

TREND_PERIODS = 6  # the periods an indicator's trend shows
# Each reporting state's CSS class and the symbol that says it without colour; its words
# are the chart's (``STATE_LABELS``).
STATE_MARKS = {
    ON_TIME: ("on-time", "✓"),
    LATE: ("late", "!"),
    NOT_DUE: ("not-due", "…"),
    MISSING: ("missing", "✗"),
    NOT_EXPECTED: ("not-expected", "–"),
}
COUNTED = (ON_TIME, LATE, NOT_DUE, MISSING)  # the states a period's counts name


@dataclass(frozen=True)
class State:
    """A reporting state as a page shows it: its CSS class, symbol and words."""

    css: str
    mark: str
    word: str


def state(value: int) -> State:
    css, mark = STATE_MARKS[value]
    return State(css, mark, _(STATE_LABELS[value]))


def legend() -> list[State]:
    """The states a table's cells take, in the legend's order."""
    return [state(s) for s in COUNTED]


@dataclass(frozen=True)
class Viewer:
    """Who looks at a page. The secretariat, the chair and the admin see the commune; a
    village head sees their village; a commune officer the commune's own reports."""

    person: Person

    @property
    def officer(self) -> bool:
        return self.person.role in rules.OFFICERS

    @property
    def scope(self) -> str | None:
        """The one village whose data this viewer sees, or None for the whole commune."""
        if self.officer:
            return None
        if self.person.role == ROLE_OFFICER:
            return COMMUNE_ID
        return self.person.village_id or ""

    def sees(self, village_id: str) -> bool:
        return self.scope is None or self.scope == village_id


def village_name(plan: Plan, village_id: str) -> str:
    if village_id == COMMUNE_ID:
        return _("Xã")
    village = plan.village(village_id)
    return village.name if village is not None else village_id


def shown_villages(plan: Plan, viewer: Viewer, form: Form) -> list[str]:
    """The rows a form's table has for this viewer."""
    if form.level == "commune":
        ids = [COMMUNE_ID]
    else:
        ids = [v.id for v in plan.villages]
    return [v for v in ids if viewer.sees(v)]


def _today(plan: Plan, now: datetime) -> date:
    return now.astimezone(plan.tz).date()


# -- Tổng quan ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    state: int  # ON_TIME, LATE… (``bot.outputs.chart``)
    shown: State
    sent: datetime | None = None


@dataclass(frozen=True)
class Count:
    shown: State
    count: int


@dataclass(frozen=True)
class StatusTable:
    """One form: its villages as rows, its previous and current periods as columns, each
    cell on time / late / not yet due / missing; the counts per period; and the numbers of
    the current period (question columns)."""

    form: Form
    periods: list[Period]
    rows: list[tuple[str, str, list[Cell]]]  # village id, name, a cell per period
    counts: list[list[Count]]  # per period
    questions: list[Question]
    values: list[tuple[str, str, list[str]]]  # village id, name, a value per question


def _cell(village_id: str, status: Reporting, today: date) -> Cell:
    value = cell_state(village_id, status, today)
    return Cell(value, state(value), status.first_sent.get(village_id))


def _counts(cells: list[Cell]) -> list[Count]:
    """How many of a period's cells are in each state (on time and missing always said)."""
    found = [cell.state for cell in cells]
    return [
        Count(state(s), found.count(s)) for s in COUNTED if s in found or s in (ON_TIME, MISSING)
    ]


async def overview(tx: Transaction, plan: Plan, viewer: Viewer, now: datetime) -> list[StatusTable]:
    """Each form's previous and current periods, villages × periods, with the counts, and
    the numbers each village sent for the current period."""
    today = _today(plan, now)
    tables = []
    for form in plan.forms:
        if form.baseline:
            continue
        villages = shown_villages(plan, viewer, form)
        if not villages:
            continue  # a form the viewer has no row of (a head and the commune's forms)
        this = current_period(cast(PeriodKind, form.period), now, plan.tz)
        periods = [this.previous(), this]
        statuses = [
            reporting(plan, form.id, period, await tx.first_sent(form.id, period.key))
            for period in periods
        ]
        rows = [
            (v, village_name(plan, v), [_cell(v, status, today) for status in statuses])
            for v in villages
        ]
        counts = [_counts([cells[i] for _v, _name, cells in rows]) for i in range(len(periods))]
        answers = await tx.period_answers(form.id, this.key)
        questions = [q for q in form.questions if q.numeric or q.type == "yes_no"]
        values = [
            (
                v,
                village_name(plan, v),
                [answer_text(q, answers[v].get(q.id), unit=False) for q in questions],
            )
            for v in villages
            if v in answers
        ]
        tables.append(StatusTable(form, periods, rows, counts, questions, values))
    return tables


# -- Chỉ tiêu -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Trend:
    """An indicator's value over its form's last periods (None: no data), and its target."""

    labels: list[str]
    values: list[Decimal | None]
    target: Target | None  # a level target (a change target has no level to draw)
    unit: str | None
    target_label: str | None = None  # ``≥ 95%``


@dataclass(frozen=True)
class Figure:
    indicator: Indicator
    period: Period
    value: str | None
    target: str | None
    coverage: str
    verdict: str | None
    met: bool | None
    trend: Trend


def _trend_target(figure: IndicatorFigure) -> Target | None:
    target = figure.indicator.target
    if target is None or target.direction is not None:
        return None  # a change target has no level to draw
    return target


async def indicators(tx: Transaction, plan: Plan, viewer: Viewer, now: datetime) -> list[Figure]:
    """Each indicator of each form's current period against its target, with its coverage
    and its trend over the last TREND_PERIODS periods (over the viewer's village alone for
    a head)."""
    baselines = await change_baselines(plan, tx)
    found = []
    for form in plan.forms:
        if form.baseline or not plan.form_indicators(form.id):
            continue
        villages = shown_villages(plan, viewer, form)
        if not villages:
            continue
        among = None if viewer.scope is None else villages
        this = current_period(cast(PeriodKind, form.period), now, plan.tz)
        periods = [this]
        while len(periods) < TREND_PERIODS:
            periods.insert(0, periods[0].previous())
        if plan.starts is not None:
            periods = [p for p in periods if p.end >= plan.starts] or [this]
        needed = plan.indicator_questions(form.id)
        answers: dict[str, Mapping[str, Mapping[str, Any]]] = {}
        for period in [periods[0].previous(), *periods]:
            read = await tx.period_answers(form.id, period.key, needed)
            answers[period.key] = {v: a for v, a in read.items() if viewer.sees(v)}
        figures = {
            period.key: indicator_figures(
                plan,
                form.id,
                answers[period.key],
                answers[period.previous().key],
                villages=among,
                baselines=baselines,
            )
            for period in periods
        }
        values = {key: {f.indicator.id: f.value for f in each} for key, each in figures.items()}
        for figure in figures[this.key]:
            series = [values[p.key].get(figure.indicator.id) for p in periods]
            found.append(
                Figure(
                    figure.indicator,
                    this,
                    amount_text(figure.value, figure.unit) if figure.value is not None else None,
                    target_text(figure),
                    figure_coverage(figure),
                    verdict_text(figure),
                    figure.met if figure.value is not None and figure.complete else None,
                    Trend(
                        [p.label() for p in periods],
                        series,
                        _trend_target(figure),
                        figure.unit,
                        target_text(figure),
                    ),
                )
            )
    return found


# -- Thôn ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Version:
    number: int
    sent_by: str
    sent_at: datetime
    changes: list[tuple[str, str, str]]  # question label, before, after (all, for the first)


@dataclass(frozen=True)
class ReportHistory:
    form: Form | None
    form_title: str
    period: str
    versions: list[Version]  # newest first


@dataclass(frozen=True)
class VillagePage:
    village_id: str
    name: str
    reports: list[ReportHistory]
    score: VillageScore | None
    year: int | None
    score_max: Decimal | None = None


def _questions(plan: Plan, form_id: str) -> tuple[Form | None, dict[str, Question]]:
    try:
        form = plan.form(form_id)
    except KeyError:
        return None, {}
    return form, {q.id: q for q in form.questions}


def _versions(
    plan: Plan, reports: Sequence[Report], names: Mapping[int, str]
) -> list[ReportHistory]:
    grouped: dict[tuple[str, str], list[Report]] = {}
    for report in reports:
        grouped.setdefault((report.form_id, report.period), []).append(report)
    histories = []
    for (form_id, period), versions in grouped.items():
        form, questions = _questions(plan, form_id)
        shown = []
        before: Mapping[str, Any] = {}
        for report in sorted(versions, key=lambda r: r.version):
            keys = list(report.answers) + [k for k in before if k not in report.answers]
            changes = [
                (
                    questions[k].label if k in questions else k,
                    answer_text(questions.get(k), before.get(k)),
                    answer_text(questions.get(k), report.answers.get(k)),
                )
                for k in keys
                if before.get(k) != report.answers.get(k)
            ]
            shown.append(
                Version(
                    report.version,
                    names.get(report.submitted_by, f"#{report.submitted_by}"),
                    report.submitted_at,
                    changes,
                )
            )
            before = report.answers
        try:
            label = parse_period(period).label()
        except ValueError:
            label = period
        histories.append(
            ReportHistory(form, form.title if form else form_id, label, list(reversed(shown)))
        )
    histories.sort(key=lambda h: max(v.sent_at for v in h.versions), reverse=True)
    return histories


async def read_board(tx: Transaction, plan: Plan, now: datetime) -> Board | None:
    """The year's board as ``/bangdiem`` shows it (nothing recorded), or None."""
    if plan.scoring is None:
        return None
    today = _today(plan, now)
    year = shown_year(plan, today)
    if year is None:
        return None
    return await load_board(tx, plan, year, today, now, record=False)


async def village_page(tx: Transaction, plan: Plan, village_id: str, now: datetime) -> VillagePage:
    """One village's reports with every version (who sent each, when, what changed) and
    its score; the caller has checked the viewer may see it."""
    reports = await tx.reports(history=True, village_id=village_id)
    names = await people_names(tx)
    board = await read_board(tx, plan, now) if village_id != COMMUNE_ID else None
    score = next((v for v in board.villages if v.village.id == village_id), None) if board else None
    return VillagePage(
        village_id,
        village_name(plan, village_id),
        _versions(plan, reports, names),
        score,
        board.year if board else None,
        board.max if board else None,
    )


# -- Thi đua ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionRow:
    title: str
    points: str
    max: str
    data: str
    missing: bool
    by_claim: bool


@dataclass(frozen=True)
class BoardRow:
    rank: int
    village_id: str
    name: str
    total: str
    grade: str
    criteria: list[CriterionRow]


@dataclass(frozen=True)
class ClaimRow:
    claim: Claim
    village: str
    criterion: str
    value: str
    by: str


@dataclass(frozen=True)
class BoardPage:
    board: Board | None
    max: str
    rows: list[BoardRow]
    claims: list[ClaimRow]


async def board_page(tx: Transaction, plan: Plan, viewer: Viewer, now: datetime) -> BoardPage:
    """The year's scoreboard: every village's rank, total, grade and each criterion's points
    with the data behind them, and the claims waiting for review (a head: their village)."""
    board = await read_board(tx, plan, now)
    if board is None:
        return BoardPage(None, "", [], [])
    rows = [
        BoardRow(
            score.rank,
            score.village.id,
            score.village.name,
            points_text(score.total),
            score.grade or "",
            [
                CriterionRow(
                    c.criterion.title,
                    points_text(c.points),
                    points_text(c.criterion.points),
                    evidence_text(plan, c),
                    c.missing,
                    c.claim is not None,
                )
                for c in score.criteria
            ],
        )
        for score in sorted(board.villages, key=lambda v: v.rank)  # stable: plan order in a tie
        if viewer.sees(score.village.id)
    ]
    names = await people_names(tx)
    claims = []
    scoring = plan.scoring
    if not board.final and scoring is not None:
        for claim in await tx.claims(
            board.year, PENDING, None if viewer.scope is None else viewer.scope
        ):
            criterion = next(
                (c.title for c in scoring.criteria if c.id == claim.criterion_id),
                claim.criterion_id,
            )
            claims.append(
                ClaimRow(
                    claim,
                    village_name(plan, claim.village_id),
                    criterion,
                    format_number(claim.value),
                    names.get(claim.person_id, ""),
                )
            )
    return BoardPage(board, points_text(board.max), rows, claims)


# -- Đề cử --------------------------------------------------------------------------------


@dataclass(frozen=True)
class NominationRow:
    nomination: Nomination
    village: str
    status: str
    nominator: str


@dataclass(frozen=True)
class HistoryLine:
    at: datetime
    who: str
    what: str
    comment: str


@dataclass(frozen=True)
class ReviewAction:
    action: str  # accept, ask, reject, advance, back, close
    label: str
    needs_text: bool
    prompt: str


@dataclass(frozen=True)
class NominationPage:
    nomination: Nomination
    village: str
    status: str
    nominator: str
    history: list[HistoryLine]
    actions: list[ReviewAction]
    question: str | None = None  # the secretariat's question waiting for an answer
    photos: list[tuple[int, str]] = field(default_factory=list)  # (number from 1, caption)


EVENT_WORDS = {
    "sent": N_("Gửi đề cử"),
    "accepted": N_("Ghi nhận"),
    "asked": N_("Cần bổ sung"),
    "answered": N_("Người đề cử trả lời"),
    "rejected": N_("Không đủ điều kiện"),
    "advanced": N_("Chuyển giai đoạn"),
    "moved_back": N_("Lùi giai đoạn"),
    "closed": N_("Đóng hồ sơ"),
}


async def nomination_list(tx: Transaction, plan: Plan, viewer: Viewer) -> list[NominationRow]:
    """The officers: every nomination, newest first; anyone else: their own only."""
    if viewer.officer:
        found = await tx.nominations()
    else:
        found = await tx.nominations(nominator_id=viewer.person.id)
    names = await people_names(tx) if viewer.officer else {}
    return [
        NominationRow(
            n,
            village_name(plan, n.village_id),
            rules.status_name(n.status),
            names.get(n.nominator_id, "") if viewer.officer else viewer.person.name,
        )
        for n in sorted(found, key=lambda n: n.created_at, reverse=True)
    ]


def may_open(viewer: Viewer, nomination: Nomination) -> bool:
    """The officers open every nomination; anyone else only their own."""
    return viewer.officer or nomination.nominator_id == viewer.person.id


async def nomination_page(
    tx: Transaction, plan: Plan, viewer: Viewer, nomination: Nomination
) -> NominationPage:
    """A nomination with its history and what the viewer may do with it now (the rules of
    ``bot.nominations.rules``, as in the chat); the caller checked ``may_open``."""
    events: list[NominationEvent] = await tx.nomination_events(nomination.id)
    names = await people_names(tx)
    history = [
        HistoryLine(
            e.at,
            names.get(e.person_id or 0, ""),
            _(EVENT_WORDS.get(e.action, e.action)) + " → " + rules.status_name(e.status),
            e.comment,
        )
        for e in events
    ]
    actions = [
        ReviewAction(
            action,
            rules.button(nomination, action).label,
            rules.ACTIONS[action].needs_text,
            rules.prompt(nomination, action) if rules.ACTIONS[action].needs_text else "",
        )
        for action in ("accept", "ask", "reject", "advance", "back", "close")
        if rules.may(viewer.person.role, action)
        and rules.target(action, nomination.status) is not None
    ]
    question = None
    if nomination.status == NEEDS_INFO:
        question = next((e.comment for e in reversed(events) if e.action == "asked"), "")
    return NominationPage(
        nomination,
        village_name(plan, nomination.village_id),
        rules.status_name(nomination.status),
        names.get(nomination.nominator_id, ""),
        list(reversed(history)),
        actions,
        question,
        [
            (n, nomination.captions[n - 1] if n <= len(nomination.captions) else "")
            for n in range(1, len(nomination.photos) + 1)
        ],
    )


# -- Tải về -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Download:
    period: Period
    label: str
    reports: int


async def downloads(tx: Transaction, plan: Plan, viewer: Viewer, now: datetime) -> list[Download]:
    """Every period that has reports the viewer may see, and each form's current period,
    newest first."""
    counts: dict[str, int] = {}
    for report in await tx.reports(village_id=viewer.scope):
        counts[report.period] = counts.get(report.period, 0) + 1
    for form in plan.forms:
        if not form.baseline:
            counts.setdefault(current_period(form.period, now, plan.tz).key, 0)  # type: ignore[arg-type]
    found = []
    for key, count in counts.items():
        try:
            period = parse_period(key)
        except ValueError:
            continue
        found.append(Download(period, period.label(), count))
    found.sort(key=lambda d: (d.period.end, d.period.start), reverse=True)
    return found


async def period_workbook(
    tx: Transaction, plan: Plan, viewer: Viewer, period: Period, now: datetime
) -> tuple[list[FormSection], list[Any], Board | None]:
    """What the workbook of ``period`` is built from: for the officers what ``thidua export
    --format xlsx --period`` writes (with the nominations and the board); for a head, the
    sections of their village alone (its answers, its figures), nothing else."""
    if viewer.scope is None:
        data = await read_digest(plan, tx, now, period.key)
        return data.sections, data.nominations, data.board
    sections = await digest_sections(plan, tx, now, period.key, village=viewer.scope)
    return sections, [], None


def workbook_bytes(
    plan: Plan, sections: list[FormSection], nominations: list[Any], board: Board | None
) -> bytes:
    return build_workbook(plan, sections, nominations, board)


async def period_csv(tx: Transaction, plan: Plan, viewer: Viewer, period: Period) -> str:
    """The period's reports as the spreadsheet CSV ``thidua export`` writes (a head: their
    village's)."""
    reports = await tx.reports(period.key, village_id=viewer.scope)
    people = {p.id: p for p in await tx.people(include_revoked=True)}
    return spreadsheet_csv(plan, reports, people)


def navigation(viewer: Viewer, plan: Plan) -> list[tuple[str, str]]:
    items = [("/", _("Tổng quan")), ("/chi-tieu", _("Chỉ tiêu"))]
    if viewer.scope is None:
        items.append(("/thon", _("Thôn")))
    else:
        items.append((f"/thon/{viewer.scope}", _("Thôn")))
    if plan.scoring is not None:
        items.append(("/thi-dua", _("Thi đua")))
    items.append(("/de-cu", _("Đề cử")))
    if viewer.officer:
        items.append(("/tong-hop", _("Tổng hợp")))
    items.append(("/tai-ve", _("Tải về")))
    return items
