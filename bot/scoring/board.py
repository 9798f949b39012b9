"""The records the scoreboard is computed from and the board it gives.

Plain data, no I/O: storage fills the inputs (``ReportRecord``, ``Claim``), the rules in
``bot.scoring.rules`` turn them into a ``Board``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from bot.plan.model import Criterion, Village

# Claim statuses.
PENDING, ACCEPTED, REFUSED = "pending", "accepted", "refused"


@dataclass(frozen=True)
class Window:
    """The days a year's board counts: from January 1st (or the plan's ``starts``) to the
    scoring date, both included; ``as_of`` counts to the end of its day in the plan's
    timezone."""

    year: int
    start: date
    as_of: date

    @property
    def end(self) -> date:
        """The window's last day: December 31st of the year, or the scoring date when that
        comes first (a window whose ``start`` is after its ``end`` holds no day)."""
        return min(date(self.year, 12, 31), self.as_of)


@dataclass(frozen=True)
class ReportRecord:
    """One village's report of one form and period: when its first version was sent, and
    the answers and id of its latest version."""

    village_id: str
    form_id: str
    period: str
    first_sent: datetime
    report_id: int
    answers: Mapping[str, Any]


@dataclass(frozen=True)
class Claim:
    """A head's claim that a criterion's figure is ``value`` (a %, a change in percentage
    points, or a count of reports or good deeds), with the reason and evidence."""

    id: int
    year: int
    village_id: str
    criterion_id: str
    value: Decimal
    reason: str
    person_id: int
    created_at: datetime
    status: str = PENDING  # PENDING, ACCEPTED or REFUSED
    photo: str | None = None  # a stored file key
    reviewed_by: int | None = None
    reviewed_at: datetime | None = None
    comment: str = ""


@dataclass(frozen=True)
class Evidence:
    """What a criterion's points stand on, so that anyone can recompute them: the value the
    rule read (None: no data) and, where there is one, its fraction (``numerator`` of
    ``denominator`` — 1.140 of 1.200 people, 11 of 12 reports), the period and report it
    came from, and the baseline a change was measured against."""

    value: Decimal | None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    unit: str | None = None  # of the numerator and denominator (người, hộ, báo cáo…)
    period: str | None = None
    report_id: int | None = None
    baseline: Decimal | None = None
    level: Decimal | None = None  # for a change target: the value the change is of
    # For a change target whose baseline is the village's first value in the window (no
    # baseline form gave one): the period that value came from; None otherwise.
    baseline_period: str | None = None


@dataclass(frozen=True)
class CriterionScore:
    criterion: Criterion
    points: Decimal  # what the board counts: ``computed``, or what an accepted claim set
    computed: Decimal  # what the rule gives from the data
    evidence: Evidence
    claim: Claim | None = None  # the accepted claim that set ``points``

    @property
    def missing(self) -> bool:
        """No data for the criterion (the board says "thiếu số liệu")."""
        return self.evidence.value is None and self.claim is None


@dataclass(frozen=True)
class VillageScore:
    village: Village
    criteria: tuple[CriterionScore, ...]
    total: Decimal
    grade: str | None  # None when the plan has no grades
    rank: int  # 1 = best; equal totals share a rank
    on_time_share: Decimal  # reports on time ÷ reports due (0 when none was due)
    tie: bool = False  # its grade was decided at a cap with an equal village on the other side
    claims: tuple[Claim, ...] = ()  # every claim of the village for the year

    @property
    def missing(self) -> list[str]:
        return [c.criterion.id for c in self.criteria if c.missing]

    def criterion(self, criterion_id: str) -> CriterionScore:
        for score in self.criteria:
            if score.criterion.id == criterion_id:
                return score
        raise KeyError(criterion_id)


@dataclass(frozen=True)
class Board:
    """A year's scoreboard, villages in plan order; ``final`` once the council froze it."""

    year: int
    as_of: date
    max: Decimal
    villages: tuple[VillageScore, ...]
    final: bool = False
    finalized_at: datetime | None = None
    finalized_by: str | None = None
    ties: tuple[tuple[str, ...], ...] = ()  # village ids tied at a grade's cap, per cut

    def village(self, village_id: str) -> VillageScore:
        for score in self.villages:
            if score.village.id == village_id:
                return score
        raise KeyError(village_id)

    def ranked(self) -> list[VillageScore]:
        """Villages by rank, then plan order."""
        order = {v.village.id: n for n, v in enumerate(self.villages)}
        return sorted(self.villages, key=lambda v: (v.rank, order[v.village.id]))
