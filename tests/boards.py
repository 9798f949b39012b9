"""Scoring for the small test plan, and a scoreboard built by hand on it: what the board's
renderers are tested with, apart from the rules that compute boards."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

from bot.plan.model import Criterion, Grade, Plan, Scoring
from bot.scoring.board import (
    ACCEPTED,
    PENDING,
    Board,
    Claim,
    CriterionScore,
    Evidence,
    VillageScore,
)

# The scoring: section the CLI tests add to tests/plans/small.yaml (the same as SCORING).
SCORING_YAML = """
scoring:
  criteria:
    - {id: dien, title: Điện lưới, indicator: ty_le_dien, points: 10, zero_at: 50}
    - {id: rac, title: Thu gom rác, indicator: thon_thu_gom_rac, points: 10}
    - {id: dung_han, title: Báo cáo đúng hạn, measure: on_time, points: 15}
    - {id: day_du, title: Báo cáo đầy đủ, measure: completeness, points: 5}
    - {id: guong, title: Gương người tốt, measure: good_deeds, points: 10, per_item: 2.5}
  grades:
    - {name: Xuất sắc, at_least: 90, each_at_least: 85, at_most_share: 40}
    - {name: Tốt, at_least: 80, each_at_least: 80}
    - {name: Hoàn thành, at_least: 70, each_at_least: 70}
    - {name: Chưa hoàn thành}
"""

DIEN = Criterion("dien", "Điện lưới", Decimal(10), indicator="ty_le_dien", zero_at=Decimal(50))
RAC = Criterion("rac", "Thu gom rác", Decimal(10), indicator="thon_thu_gom_rac")
DUNG_HAN = Criterion("dung_han", "Báo cáo đúng hạn", Decimal(15), measure="on_time")
DAY_DU = Criterion("day_du", "Báo cáo đầy đủ", Decimal(5), measure="completeness")
GUONG = Criterion(
    "guong", "Gương người tốt", Decimal(10), measure="good_deeds", per_item=Decimal("2.5")
)
SCORING = Scoring(
    criteria=(DIEN, RAC, DUNG_HAN, DAY_DU, GUONG),
    grades=(
        Grade("Xuất sắc", Decimal(90), Decimal(85), Decimal(40)),
        Grade("Tốt", Decimal(80), Decimal(80)),
        Grade("Hoàn thành", Decimal(70), Decimal(70)),
        Grade("Chưa hoàn thành"),
    ),
)


def scoring_plan(plan: Plan) -> Plan:
    """``plan`` (the small test plan) with SCORING."""
    return replace(plan, scoring=SCORING)


def _score(
    criterion: Criterion, points: str, evidence: Evidence, claim: Claim | None = None
) -> CriterionScore:
    return CriterionScore(criterion, Decimal(points), Decimal(points), evidence, claim)


def hand_board(plan: Plan, final: bool = False) -> Board:
    """Three villages (max 50), figures chosen to be read back:

    - Thôn 1: 1.140 of 1.200 households on the grid = 95 % → 10 × (95 − 50)/(100 − 50) =
      9; waste collected → 10; 11 of 12 reports on time → 15 × 11/12 = 13,75; 12 of 12 sent
      → 5; 4 good deeds → min(10, 4 × 2,5) = 10. Total 47,75: Xuất sắc.
    - Thôn 2: no electricity figure, but an accepted claim (95 %) sets it to 9; the rest as
      Thôn 1. Total 47,75, the same on-time share: tied with Thôn 1 at the cap of Xuất sắc
      (floor(40 % × 3) = 1), so it takes Tốt, both flagged; both rank 1.
    - Thôn 3: never reported (electricity and waste: thiếu số liệu), 0/12 on time and
      sent, one good deed → 2,5. Total 2,5, rank 3; a claim of its waste waits for review.
    """
    v1, v2, v3 = plan.villages[:3]
    at = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
    claim = Claim(
        7,
        2026,
        v2.id,
        "dien",
        Decimal(95),
        "Đã kéo điện cho 20 hộ mới",
        1,
        at,
        status=ACCEPTED,
        reviewed_by=2,
        reviewed_at=at,
        comment="Đồng ý",
    )
    pending = Claim(8, 2026, v3.id, "rac", Decimal(100), "Đã ký hợp đồng thu gom", 3, at)
    assert pending.status == PENDING
    on_time = Evidence(Decimal(11) / 12, Decimal(11), Decimal(12), "báo cáo")
    sent = Evidence(Decimal(1), Decimal(12), Decimal(12), "báo cáo")
    first = VillageScore(
        v1,
        (
            _score(
                DIEN,
                "9",
                Evidence(Decimal(95), Decimal(1140), Decimal(1200), "hộ", "2026-11", report_id=17),
            ),
            _score(RAC, "10", Evidence(Decimal(100), period="2026-11", report_id=17)),
            _score(DUNG_HAN, "13.75", on_time),
            _score(DAY_DU, "5", sent),
            _score(GUONG, "10", Evidence(Decimal(4), Decimal(4))),
        ),
        Decimal("47.75"),
        "Xuất sắc",
        1,
        Decimal(11) / 12,
        tie=True,
    )
    second = VillageScore(
        v2,
        (
            CriterionScore(DIEN, Decimal(9), Decimal(0), Evidence(None), claim),
            _score(RAC, "10", Evidence(Decimal(100), period="2026-11", report_id=18)),
            _score(DUNG_HAN, "13.75", on_time),
            _score(DAY_DU, "5", sent),
            _score(GUONG, "10", Evidence(Decimal(4), Decimal(4))),
        ),
        Decimal("47.75"),
        "Tốt",
        1,
        Decimal(11) / 12,
        tie=True,
        claims=(claim,),
    )
    nothing = Evidence(Decimal(0), Decimal(0), Decimal(12), "báo cáo")
    third = VillageScore(
        v3,
        (
            _score(DIEN, "0", Evidence(None)),
            _score(RAC, "0", Evidence(None)),
            _score(DUNG_HAN, "0", nothing),
            _score(DAY_DU, "0", nothing),
            _score(GUONG, "2.5", Evidence(Decimal(1), Decimal(1))),
        ),
        Decimal("2.5"),
        "Chưa hoàn thành",
        3,
        Decimal(0),
        claims=(pending,),
    )
    return Board(
        2026,
        date(2026, 12, 20),
        Decimal(50),
        (first, second, third),
        final=final,
        finalized_at=datetime(2026, 12, 20, 9, 0, tzinfo=UTC) if final else None,
        finalized_by="Hội đồng TĐKT, họp ngày 20/12/2026" if final else None,
        ties=((v1.id, v2.id),),
    )
