"""The scoring rules of issue 11, recomputed by hand: the window and the reports due, each
branch of the points formula, change targets, claims, grades with their caps and ties,
shared ranks, gaps for the next grade, the JSON contract and the snapshot's round trip;
hypothesis properties for the bounds and for monotonicity."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.plan.model import (
    Criterion,
    Form,
    Grade,
    Indicator,
    Plan,
    Question,
    Scoring,
    Target,
    Village,
)
from bot.scoring.board import ACCEPTED, PENDING, REFUSED, Board, Claim, ReportRecord
from bot.scoring.rules import (
    Gap,
    board_from_record,
    board_json_text,
    board_to_json,
    board_to_record,
    claim_points,
    compute_board,
    due_reports,
    gaps,
    indicator_points,
    window,
)

D = Decimal
TZ = ZoneInfo("Asia/Ho_Chi_Minh")  # UTC+7


def local(
    year: int, month: int, day: int, hour: int = 12, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=TZ)


def _q(qid: str, kind: str = "integer", unit: str | None = "hộ") -> Question:
    return Question(qid, f"{qid}?", kind, qid, unit=unit if kind == "integer" else None)


THANG = Form(
    "thang",
    "Báo cáo tháng",
    "month",
    25,
    (_q("tong_ho"), _q("ho_co_dien"), _q("ho_ngheo"), _q("thu_gom_rac", "yes_no")),
)
NEN = Form(
    "nen",
    "Số liệu năm 2025 (làm mốc)",
    "year",
    1,
    (_q("tong_ho_nen"), _q("ho_ngheo_nen")),
    baseline=True,
)
XA = Form("xa_quy", "Báo cáo quý của xã", "quarter", 20, (_q("thu_ngan_sach", "decimal"),))
XA = replace(XA, level="commune")
TUAN = Form("tuan", "Báo cáo tuần", "week", 5, (_q("so_buoi"),))

INDICATORS = (
    Indicator("ty_le_dien", "Tỷ lệ hộ có điện", "ratio", ("ho_co_dien", "tong_ho"), None),
    Indicator("rac", "Thu gom rác", "share_yes", ("thu_gom_rac",), Target(">=", D(100))),
    Indicator(
        "ty_le_ngheo",
        "Tỷ lệ hộ nghèo",
        "ratio",
        ("ho_ngheo", "tong_ho"),
        Target(">=", D(1), "decrease"),
        baseline_from=("ho_ngheo_nen", "tong_ho_nen"),
    ),
)
INDICATORS = (replace(INDICATORS[0], target=Target(">=", D(100))), *INDICATORS[1:])

ISSUE_GRADES = (
    Grade("Xuất sắc", D(90), D(85), D(20)),
    Grade("Tốt", D(80), D(80)),
    Grade("Hoàn thành", D(70), D(70)),
    Grade("Chưa hoàn thành"),
)

DIEN = Criterion("dien", "Điện lưới", D(10), indicator="ty_le_dien", zero_at=D(80))
RAC = Criterion("rac", "Thu gom rác", D(10), indicator="rac")
NGHEO = Criterion("ngheo", "Giảm hộ nghèo", D(10), indicator="ty_le_ngheo")
DUNG_HAN = Criterion("dung_han", "Báo cáo đúng hạn", D(15), measure="on_time")
DAY_DU = Criterion("day_du", "Báo cáo đầy đủ", D(10), measure="completeness")
GUONG = Criterion("guong", "Gương người tốt", D(10), measure="good_deeds", per_item=D("2.5"))


def make_plan(
    criteria: tuple[Criterion, ...],
    grades: tuple[Grade, ...] = ISSUE_GRADES,
    villages: int = 5,
    starts: date | None = date(2026, 1, 1),
    ends: date | None = None,
    forms: tuple[Form, ...] = (THANG, NEN, XA),
) -> Plan:
    return Plan(
        version=1,
        title="Kế hoạch thử",
        commune="Xã Thử",
        timezone="Asia/Ho_Chi_Minh",
        starts=starts,
        ends=ends,
        villages=tuple(Village(f"thon_{n}", f"Thôn {n}") for n in range(1, villages + 1)),
        forms=forms,
        indicators=INDICATORS,
        scoring=Scoring(criteria, grades),
    )


_ids = iter(range(1, 1_000_000))


def report(
    village: int, period: str, sent: datetime, form: str = "thang", **answers: Any
) -> ReportRecord:
    """A report as storage gives it: numbers stored as strings, yes/no as booleans."""
    stored = {k: v if isinstance(v, bool) else str(v) for k, v in answers.items()}
    return ReportRecord(f"thon_{village}", form, period, sent, next(_ids), stored)


def board_of(
    plan: Plan,
    as_of: date,
    reports: list[ReportRecord] = (),  # type: ignore[assignment]
    baselines: dict[str, dict[str, Any]] | None = None,
    good_deeds: dict[str, int] | None = None,
    claims: list[Claim] = (),  # type: ignore[assignment]
) -> Board:
    win = window(plan, 2026, as_of)
    return compute_board(plan, win, reports, baselines or {}, good_deeds or {}, claims)


def points(board: Board, village: int, criterion: str) -> Decimal:
    return board.village(f"thon_{village}").criterion(criterion).points


# --------------------------------------------------------------------------- window, due


def test_window_starts_at_the_year_or_the_plans_start_and_ends_at_as_of() -> None:
    plan = make_plan((DAY_DU,), starts=date(2025, 6, 1))
    win = window(plan, 2026, date(2026, 5, 10))
    assert (win.start, win.end, win.as_of) == (
        date(2026, 1, 1),
        date(2026, 5, 10),
        date(2026, 5, 10),
    )
    late_start = make_plan((DAY_DU,), starts=date(2026, 3, 15))
    assert window(late_start, 2026, date(2026, 5, 10)).start == date(2026, 3, 15)
    # Scored after the year: the window ends on December 31st, as_of stays the scoring date.
    after = window(plan, 2026, date(2027, 1, 15))
    assert (after.end, after.as_of) == (date(2026, 12, 31), date(2027, 1, 15))


def test_reports_due_before_as_of_only_village_forms_within_the_plans_dates() -> None:
    plan = make_plan((DAY_DU,), forms=(THANG, NEN, XA))
    # Due days: Jan 25, Feb 25, Mar 25. On March 25 itself March's report is not due yet.
    keys = [(f.id, p.key) for f, p in due_reports(plan, window(plan, 2026, date(2026, 3, 25)))]
    assert keys == [("thang", "2026-01"), ("thang", "2026-02")]
    keys = [p.key for _, p in due_reports(plan, window(plan, 2026, date(2026, 3, 26)))]
    assert keys == ["2026-01", "2026-02", "2026-03"]
    # The baseline form (year) and the commune's quarterly form are never due from villages.
    assert {f.id for f, _ in due_reports(plan, window(plan, 2026, date(2026, 12, 31)))} == {"thang"}
    # Starting on February 10th: January's due day lies before the window.
    starts = make_plan((DAY_DU,), starts=date(2026, 2, 10))
    keys = [p.key for _, p in due_reports(starts, window(starts, 2026, date(2026, 4, 1)))]
    assert keys == ["2026-02", "2026-03"]
    # Ending on February 15th: March starts after the plan's end, none is due in it.
    ends = make_plan((DAY_DU,), ends=date(2026, 2, 15))
    keys = [p.key for _, p in due_reports(ends, window(ends, 2026, date(2026, 4, 1)))]
    assert keys == ["2026-01", "2026-02"]
    # A year scored in January of the next: December (due Dec 25) counts, no month of 2027.
    keys = [p.key for _, p in due_reports(plan, window(plan, 2026, date(2027, 1, 30)))]
    assert len(keys) == 12 and keys[-1] == "2026-12"


def test_a_week_across_new_year_is_due_in_the_year_of_its_due_day() -> None:
    plan = make_plan((DAY_DU,), forms=(TUAN,), starts=None)
    # 2026-W01 runs Mon 2025-12-29 … Sun 2026-01-04; its due day 5 is Friday 2026-01-02.
    # 2026-W02's due day, Friday January 9th, is the scoring date: not due yet.
    keys = [p.key for _, p in due_reports(plan, window(plan, 2026, date(2026, 1, 9)))]
    assert keys == ["2026-W01"]
    # 2025-W52's due day is Friday 2025-12-26: in 2025's window, not 2026's.
    keys = [p.key for _, p in due_reports(plan, window(plan, 2025, date(2026, 1, 10)))]
    assert keys[-1] == "2025-W52" and "2026-W01" not in keys


# --------------------------------------------------------------------------- on time, sent


def test_on_time_and_completeness_around_the_due_day_and_as_of() -> None:
    plan = make_plan((DUNG_HAN, DAY_DU))
    reports = [
        # Thôn 1: January at 23:59 local on the due day (16:59 UTC) and February early.
        report(1, "2026-01", datetime(2026, 1, 25, 16, 59, tzinfo=UTC)),
        report(1, "2026-02", local(2026, 2, 20)),
        # Thôn 2: January at 00:00 the next day (late), February at 23:59:59 on its due day.
        report(2, "2026-01", local(2026, 1, 26, 0, 0)),
        report(2, "2026-02", local(2026, 2, 25, 23, 59, 59)),
        # Thôn 3: February sent at 00:00 after the scoring date's end: not counted at all.
        report(3, "2026-01", local(2026, 1, 10)),
        report(3, "2026-02", local(2026, 2, 27, 0, 0)),
        # Thôn 4: February given twice, on time (Feb 25) and late but within the scoring
        # date (23:59 on Feb 26): it counts once, by its earliest sending.
        report(4, "2026-02", local(2026, 2, 25, 10)),
        report(4, "2026-02", local(2026, 2, 26, 23, 59)),
        # Thôn 5: February late but within the scoring date.
        report(5, "2026-02", local(2026, 2, 26, 23, 59)),
    ]
    board = board_of(plan, date(2026, 2, 26), reports)  # due: January and February
    # on_time 15 × on time ÷ 2; completeness 10 × sent ÷ 2
    assert [points(board, v, "dung_han") for v in range(1, 6)] == [
        D(15),  # 15 × 2/2
        D("7.5"),  # 15 × 1/2
        D("7.5"),  # 15 × 1/2
        D("7.5"),  # 15 × 1/2
        D(0),  # 15 × 0/2
    ]
    assert [points(board, v, "day_du") for v in range(1, 6)] == [
        D(10),  # 10 × 2/2
        D(10),  # 10 × 2/2
        D(5),  # 10 × 1/2
        D(5),  # 10 × 1/2
        D(5),  # 10 × 1/2
    ]
    evidence = board.village("thon_2").criterion("dung_han").evidence
    assert (evidence.value, evidence.numerator, evidence.denominator) == (D(1), D(1), D(2))
    assert board.village("thon_2").on_time_share == D("0.5")
    assert board_of(plan, date(2026, 2, 26)).village("thon_1").missing == []  # 0, not missing


def test_a_report_due_on_as_of_is_not_due_and_nothing_due_is_missing_data() -> None:
    plan = make_plan((DUNG_HAN, DAY_DU))
    reports = [report(1, "2026-01", local(2026, 1, 20)), report(1, "2026-02", local(2026, 2, 28))]
    board = board_of(plan, date(2026, 2, 25), reports)  # February due on as_of: only January
    assert points(board, 1, "dung_han") == D(15)  # 15 × 1/1
    assert board.village("thon_1").criterion("day_du").evidence.denominator == D(1)
    nothing = board_of(plan, date(2026, 1, 25), reports)  # January due on as_of: none due
    village = nothing.village("thon_1")
    assert village.total == D(0)
    assert village.missing == ["dung_han", "day_du"]
    assert village.on_time_share == D(0)


# --------------------------------------------------------------------------- the formula


@pytest.mark.parametrize(
    ("target", "zero", "value", "expected"),
    [
        # >= 100, Z = 80, 10 points: 10 × clamp((v − 80) / 20, 0, 1)
        (Target(">=", D(100)), D(80), D(70), D(0)),  # (70 − 80)/20 = −0,5 → 0
        (Target(">=", D(100)), D(80), D(90), D(5)),  # (90 − 80)/20 = 0,5 → 5
        (Target(">=", D(95)), D(80), D(100), D(10)),  # (100 − 80)/15 > 1 → 10
        # >= 50, Z default 0: 10 × 20/50 = 4
        (Target(">=", D(50)), None, D(20), D(4)),
        # > 50 follows the same formula: at v = T, 10 × 50/50 = 10
        (Target(">", D(50)), None, D(50), D(10)),
        # <= 20, Z default 2T = 40: 10 × clamp((40 − v)/20, 0, 1)
        (Target("<=", D(20)), None, D(30), D(5)),  # (40 − 30)/20 = 0,5 → 5
        (Target("<=", D(20)), None, D(10), D(10)),  # (40 − 10)/20 = 1,5 → 10
        (Target("<=", D(20)), None, D(50), D(0)),  # (40 − 50)/20 = −0,5 → 0
        # < 20, Z = 30: 10 × (30 − 25)/10 = 5
        (Target("<", D(20)), D(30), D(25), D(5)),
        # degenerate T = Z: full when met, else 0
        (Target(">=", D(80)), D(80), D(80), D(10)),
        (Target(">=", D(80)), D(80), D("79.9"), D(0)),
        (Target("<=", D(0)), None, D(0), D(10)),  # Z = 2 × 0 = 0 = T; 0 ≤ 0 is met
        (Target("<=", D(0)), None, D("0.1"), D(0)),
        # == : full if equal, else 0
        (Target("==", D(6)), None, D(6), D(10)),
        (Target("==", D(6)), None, D("6.5"), D(0)),
    ],
)
def test_points_formula_branches(
    target: Target, zero: Decimal | None, value: Decimal, expected: Decimal
) -> None:
    criterion = Criterion("c", "C", D(10), indicator="ty_le_dien", target=target, zero_at=zero)
    assert indicator_points(criterion, target, value) == expected


def test_ratio_and_share_values_from_the_latest_period_reported() -> None:
    plan = make_plan((DIEN, RAC))
    reports = [
        # Thôn 1: January 1.140/1.200 = 95 %, February 1.080/1.200 = 90 % (the latest).
        report(1, "2026-01", local(2026, 1, 20), tong_ho=1200, ho_co_dien=1140, thu_gom_rac=False),
        report(1, "2026-02", local(2026, 2, 20), tong_ho=1200, ho_co_dien=1080, thu_gom_rac=True),
        # Thôn 2: March (not due yet, sent before as_of) is its latest period: 190/200 = 95 %.
        report(2, "2026-02", local(2026, 2, 20), tong_ho=200, ho_co_dien=150, thu_gom_rac=True),
        report(2, "2026-03", local(2026, 3, 10), tong_ho=200, ho_co_dien=190, thu_gom_rac=False),
        # Thôn 3: its latest report has 0 households (no value) and no yes/no answer.
        report(3, "2026-01", local(2026, 1, 20), tong_ho=100, ho_co_dien=100, thu_gom_rac=True),
        report(3, "2026-02", local(2026, 2, 20), tong_ho=0, ho_co_dien=0),
        # Thôn 4: only a report sent after the end of as_of.
        report(4, "2026-03", local(2026, 3, 21, 0, 0), tong_ho=10, ho_co_dien=10),
        # Thôn 5: a report of 2025, outside the window.
        report(5, "2025-12", local(2025, 12, 20), tong_ho=10, ho_co_dien=10),
    ]
    board = board_of(plan, date(2026, 3, 20), reports)
    # dien: >= 100, Z = 80: 10 × (v − 80)/20
    assert points(board, 1, "dien") == D(5)  # 10 × (90 − 80)/20
    assert points(board, 2, "dien") == D("7.5")  # 10 × (95 − 80)/20
    assert points(board, 1, "rac") == D(10)  # yes = 100 ≥ 100
    assert points(board, 2, "rac") == D(0)  # no = 0, Z = 0: 10 × 0/100
    evidence = board.village("thon_1").criterion("dien").evidence
    assert (evidence.value, evidence.numerator, evidence.denominator) == (D(90), D(1080), D(1200))
    assert (evidence.unit, evidence.period) == ("hộ", "2026-02")
    assert evidence.report_id == reports[1].report_id
    for village in (3, 4, 5):
        score = board.village(f"thon_{village}")
        assert score.missing == ["dien", "rac"]
        assert score.total == D(0)
    assert board.village("thon_3").criterion("dien").evidence.period == "2026-02"


# --------------------------------------------------------------------------- change targets


def test_change_target_against_the_baseline_form_or_the_first_value() -> None:
    plan = make_plan((NGHEO,))  # decrease >= 1 (percentage points), Z = 0, 10 points
    baselines = {
        "thon_1": {"tong_ho_nen": "200", "ho_ngheo_nen": "10"},  # 5 %
        "thon_2": {"tong_ho_nen": "200", "ho_ngheo_nen": "10"},  # 5 %
        "thon_3": {"tong_ho_nen": "200"},  # no poor count: falls back to the first value
    }
    reports = [
        report(1, "2026-02", local(2026, 2, 20), tong_ho=200, ho_ngheo=7),  # 3,5 %
        report(2, "2026-02", local(2026, 2, 20), tong_ho=200, ho_ngheo=9),  # 4,5 %
        report(3, "2026-01", local(2026, 1, 20), tong_ho=200, ho_ngheo=10),  # 5 %: first
        report(3, "2026-02", local(2026, 2, 20), tong_ho=200, ho_ngheo=9),  # 4,5 %
        report(4, "2026-02", local(2026, 2, 20), tong_ho=100, ho_ngheo=4),  # only one value
    ]
    board = board_of(plan, date(2026, 3, 1), reports, baselines)
    assert points(board, 1, "ngheo") == D(10)  # change 5 − 3,5 = 1,5 ≥ 1 → 10 × 1,5/1 → 10
    assert points(board, 2, "ngheo") == D(5)  # change 5 − 4,5 = 0,5 → 10 × 0,5/1 = 5
    assert points(board, 3, "ngheo") == D(5)  # first value 5 − 4,5 = 0,5 → 5
    assert points(board, 4, "ngheo") == D(0)  # 4 − 4 = 0 → 0, yet not missing
    one = board.village("thon_1").criterion("ngheo").evidence
    assert (one.value, one.level, one.baseline, one.baseline_period) == (
        D("1.5"),
        D("3.5"),
        D(5),
        None,
    )
    three = board.village("thon_3").criterion("ngheo").evidence
    assert (three.value, three.baseline, three.baseline_period) == (D("0.5"), D(5), "2026-01")
    assert board.village("thon_4").missing == []
    assert board.village("thon_5").missing == ["ngheo"]


# --------------------------------------------------------------------------- good deeds, claims


def test_good_deeds_capped_at_the_criterions_points() -> None:
    plan = make_plan((GUONG,))
    board = board_of(plan, date(2026, 6, 1), good_deeds={"thon_1": 3, "thon_2": 5, "xa_khac": 9})
    assert points(board, 1, "guong") == D("7.5")  # 2,5 × 3
    assert points(board, 2, "guong") == D(10)  # min(10, 2,5 × 5 = 12,5)
    assert points(board, 3, "guong") == D(0)  # none accepted: 0, not missing
    assert board.village("thon_3").missing == []
    assert board.village("thon_1").criterion("guong").evidence.numerator == D(3)


def _claim(
    cid: int,
    village: int,
    criterion: str,
    value: str,
    status: str,
    reviewed: datetime | None = None,
) -> Claim:
    return Claim(
        cid,
        2026,
        f"thon_{village}",
        criterion,
        D(value),
        "Có biên bản kiểm tra",
        7,
        local(2026, 3, 1),
        status,
        reviewed_by=3 if reviewed else None,
        reviewed_at=reviewed,
        comment="" if status != REFUSED else "Không có chứng cứ",
    )


def test_accepted_claims_set_points_refused_and_pending_change_nothing() -> None:
    plan = make_plan((DIEN, DUNG_HAN, GUONG))
    reports = [
        report(v, "2026-01", local(2026, 1, 26), tong_ho=200, ho_co_dien=180) for v in (1, 2)
    ]  # 90 % → dien 5; late → on time 0/1
    claims = [
        # Thôn 1: 96 % accepted: 10 × (96 − 80)/20 = 8; a later accepted 98 % wins: 9.
        _claim(1, 1, "dien", "98", ACCEPTED, local(2026, 3, 3)),
        _claim(2, 1, "dien", "96", ACCEPTED, local(2026, 3, 2)),
        # Thôn 1: one report on time (of 1 due): 15 × 1/1 = 15.
        _claim(3, 1, "dung_han", "1", ACCEPTED, local(2026, 3, 2)),
        # Thôn 2: refused and pending claims change nothing.
        _claim(4, 2, "dien", "100", REFUSED, local(2026, 3, 2)),
        _claim(5, 2, "guong", "4", PENDING),
    ]
    board = board_of(plan, date(2026, 2, 1), reports, claims=claims)
    one = board.village("thon_1")
    assert one.criterion("dien").points == D(9)  # 10 × (98 − 80)/20
    assert one.criterion("dien").computed == D(5)  # 10 × (90 − 80)/20
    assert one.criterion("dien").claim == claims[0]
    assert one.criterion("dung_han").points == D(15)
    assert one.on_time_share == D(1)  # the accepted count: 1 ÷ 1
    assert one.total == D(24)  # 9 + 15 + 0
    two = board.village("thon_2")
    assert [c.points for c in two.criteria] == [D(5), D(0), D(0)]
    assert all(c.claim is None for c in two.criteria)
    assert [c.id for c in two.claims] == [4, 5]
    assert [c.id for c in one.claims] == [1, 2, 3]


def test_claim_points_use_the_criterions_rule() -> None:
    plan = make_plan((DIEN, DUNG_HAN, DAY_DU, GUONG, NGHEO))
    assert claim_points(plan, DIEN, D(96), 0) == D(8)  # 10 × (96 − 80)/20
    assert claim_points(plan, DUNG_HAN, D(11), 12) == D("13.75")  # 15 × 11/12
    assert claim_points(plan, DUNG_HAN, D(14), 12) == D(15)  # at most the points
    assert claim_points(plan, DAY_DU, D(3), 0) == D(0)  # nothing due
    assert claim_points(plan, GUONG, D(3), 0) == D("7.5")  # 2,5 × 3
    assert claim_points(plan, GUONG, D(-1), 0) == D(0)
    assert claim_points(plan, NGHEO, D("0.8"), 0) == D(8)  # change 0,8 of 1: 10 × 0,8


# --------------------------------------------------------------------------- grades, ranks

# 50 points on electricity (>= 100, Z = 0: v ÷ 2) and 50 on good deeds (1 point each).
HALF_DIEN = Criterion("dien", "Điện lưới", D(50), indicator="ty_le_dien")
HALF_GUONG = Criterion("guong", "Gương", D(50), measure="good_deeds", per_item=D(1))


def _graded(
    households: list[int],
    deeds: list[int],
    sent: list[datetime] | None = None,
) -> Board:
    """Villages of 200 households each with ``households`` on the grid, January's report
    sent at ``sent`` (on time by default), scored on February 10th."""
    plan = make_plan((HALF_DIEN, HALF_GUONG), villages=len(households))
    times = sent or [local(2026, 1, 20)] * len(households)
    reports = [
        report(n, "2026-01", times[n - 1], tong_ho=200, ho_co_dien=h)
        for n, h in enumerate(households, start=1)
    ]
    good = {f"thon_{n}": d for n, d in enumerate(deeds, start=1)}
    return board_of(plan, date(2026, 2, 10), reports, good_deeds=good)


def test_grades_with_the_cap_over_cap_villages_taking_the_next_grade() -> None:
    board = _graded([200, 200, 180, 200, 160], [45, 44, 40, 25, 36])
    # totals: 50 + 45 = 95; 50 + 44 = 94; 45 + 40 = 85; 50 + 25 = 75; 40 + 36 = 76
    assert [v.total for v in board.villages] == [D(95), D(94), D(85), D(75), D(76)]
    # Xuất sắc: ≥ 90 and each ≥ 85 % (42,5 of 50), at most floor(20 % × 5) = 1 village:
    # Thôn 1 (95) takes it; Thôn 2 (94) meets it but is over the cap → Tốt (94 ≥ 80, each
    # ≥ 40). Thôn 3: 85 ≥ 80, 45 and 40 ≥ 40 → Tốt. Thôn 4: 75 < 80; Hoàn thành needs each
    # ≥ 35 and it has 25 → Chưa hoàn thành. Thôn 5: 76 ≥ 70, 40 and 36 ≥ 35 → Hoàn thành.
    assert [v.grade for v in board.villages] == [
        "Xuất sắc",
        "Tốt",
        "Tốt",
        "Chưa hoàn thành",
        "Hoàn thành",
    ]
    assert [v.rank for v in board.villages] == [1, 2, 3, 5, 4]
    assert board.ties == ()
    assert not any(v.tie for v in board.villages)
    assert board.max == D(100)


def test_a_tie_at_the_cut_is_flagged() -> None:
    # Thôn 1, 2 and 3 total 95; Thôn 3's report was late (on-time share 0 against 1).
    late = local(2026, 1, 26)
    on_time = local(2026, 1, 20)
    board = _graded(
        [200, 200, 200, 180, 100],
        [45, 45, 45, 40, 10],
        [on_time, on_time, late, on_time, on_time],
    )
    assert board.ties == (("thon_1", "thon_2"),)
    assert [v.tie for v in board.villages] == [True, True, False, False, False]
    # Plan order decides between the tied villages; the cap leaves one Xuất sắc.
    assert [v.grade for v in board.villages][:3] == ["Xuất sắc", "Tốt", "Tốt"]
    assert [v.rank for v in board.villages] == [1, 1, 1, 4, 5]


def test_a_tie_at_a_cut_below_the_first_place() -> None:
    # Ten villages: floor(20 % × 10) = 2 may be Xuất sắc. Thôn 1 has 100, Thôn 2 and 3 95.
    board = _graded([200] * 10, [50, 45, 45, 30, 30, 30, 30, 30, 30, 30])
    assert board.ties == (("thon_2", "thon_3"),)
    assert [v.tie for v in board.villages][:4] == [False, True, True, False]
    assert [v.grade for v in board.villages][:3] == ["Xuất sắc", "Xuất sắc", "Tốt"]
    assert [v.rank for v in board.villages][:4] == [1, 2, 2, 4]


def test_the_on_time_share_breaks_an_equal_total_at_the_cut() -> None:
    late, on_time = local(2026, 1, 26), local(2026, 1, 20)
    board = _graded([200, 200, 100, 100, 100], [45, 45, 0, 0, 0], [late, on_time] + [on_time] * 3)
    assert [v.grade for v in board.villages][:2] == ["Tốt", "Xuất sắc"]
    assert board.ties == ()


def test_equal_totals_share_a_rank() -> None:
    board = _graded([200, 200, 180, 200, 100], [45, 40, 45, 30, 25])
    # totals: 95; 50 + 40 = 90; 45 + 45 = 90; 50 + 30 = 80; 25 + 25 = 50
    assert [v.total for v in board.villages] == [D(95), D(90), D(90), D(80), D(50)]
    assert [v.rank for v in board.villages] == [1, 2, 2, 4, 5]
    assert [v.village.id for v in board.ranked()] == [f"thon_{n}" for n in range(1, 6)]


def test_a_cap_of_no_village_gives_the_grade_to_none() -> None:
    plan = make_plan(
        (HALF_GUONG,), grades=(Grade("Xuất sắc", D(90), None, D(10)), Grade("Khác")), villages=5
    )
    # floor(10 % × 5) = 0 villages may take Xuất sắc
    board = board_of(plan, date(2026, 2, 1), good_deeds={"thon_1": 50})
    assert board.village("thon_1").grade == "Khác"
    assert board.ties == ()


# --------------------------------------------------------------------------- gaps


def test_gaps_for_the_next_grade() -> None:
    board = _graded([180, 200, 200, 200, 200], [40, 45, 45, 45, 45])
    plan = make_plan((HALF_DIEN, HALF_GUONG))
    assert board.village("thon_1").grade == "Tốt"  # 45 + 40 = 85
    found = gaps(plan, board, "thon_1")
    # Xuất sắc needs 90 % of 100 = 90: 5 points short.
    assert found[0] == Gap("Xuất sắc", points=D(90), lacking=D(5))
    deeds, dien = found[1], found[2]
    # Good deeds 40/50 = 80 % < 85 %: required, to max(42,5, min(50, 40 + 5)) = 45 points,
    # 45 ÷ 1 = 45 accepted nominations, 5 more.
    assert deeds.criterion == HALF_GUONG
    assert (deeds.required, deeds.points, deeds.lacking) == (True, D(45), D(5))
    assert (deeds.value, deeds.needed, deeds.more, deeds.closes_total) == (D(40), D(45), 5, True)
    # Electricity 45/50, not full: to min(50, 45 + 5) = 50 points, v = 0 + 1 × (100 − 0) =
    # 100 %: 200 of 200 households, 20 more.
    assert dien.criterion == HALF_DIEN
    assert (dien.required, dien.points, dien.value, dien.needed) == (False, D(50), D(90), D(100))
    assert (dien.more, dien.fewer, dien.unit, dien.reachable) == (20, None, "hộ", True)
    assert len(found) == 3


def test_gaps_say_whether_one_criterion_alone_makes_up_the_total() -> None:
    plan = make_plan((HALF_DIEN, HALF_GUONG), grades=(Grade("Tốt", D(80)), Grade("Khác")))
    reports = [report(1, "2026-01", local(2026, 1, 20), tong_ho=200, ho_co_dien=192)]
    board = board_of(plan, date(2026, 2, 10), reports, good_deeds={"thon_1": 20})
    # 192/200 = 96 % → 48 points, 20 good deeds → 20; total 68, 12 short of 80.
    total, deeds, dien = gaps(plan, board, "thon_1")
    assert (total.points, total.lacking) == (D(80), D(12))
    # Good deeds lost 30 points (listed first): 20 + 12 = 32 points, 32 nominations, 12 more.
    assert (deeds.required, deeds.points, deeds.needed, deeds.more) == (False, D(32), D(32), 12)
    assert deeds.closes_total
    # Electricity lost only 2: full points (100 %, 8 more households) do not make up 12.
    assert (dien.required, dien.points, dien.needed, dien.more) == (False, D(50), D(100), 8)
    assert not dien.closes_total


def test_gaps_of_the_top_grade_and_of_a_capped_village() -> None:
    board = _graded([200, 200, 180, 200, 160], [45, 44, 40, 25, 36])
    plan = make_plan((HALF_DIEN, HALF_GUONG))
    assert gaps(plan, board, "thon_1") == []  # Xuất sắc is the top grade
    assert gaps(plan, board, "thon_2") == [Gap("Xuất sắc", capped=True)]
    assert gaps(plan, board, "khong_co") == []


def test_gaps_count_reports_on_time_and_fewer_poor_households() -> None:
    on_time = Criterion("dung_han", "Đúng hạn", D(20), measure="on_time")
    plan = make_plan(
        (on_time, NGHEO), grades=(Grade("Tốt", None, D(85)), Grade("Chưa đạt")), villages=1
    )
    reports = [
        report(1, "2026-01", local(2026, 1, 20), tong_ho=200, ho_ngheo=10),  # 5 %, first
        report(1, "2026-02", local(2026, 2, 26), tong_ho=200, ho_ngheo=10),
        report(1, "2026-03", local(2026, 3, 20), tong_ho=200, ho_ngheo=10),
        report(1, "2026-04", local(2026, 4, 26), tong_ho=200, ho_ngheo=9),  # 4,5 %
    ]
    board = board_of(plan, date(2026, 5, 1), reports)
    village = board.village("thon_1")
    # on time 2 of 4: 20 × 2/4 = 10; poverty down 0,5 of 1: 10 × 0,5 = 5
    assert [c.points for c in village.criteria] == [D(10), D(5)]
    assert village.grade == "Chưa đạt"
    reports_gap, poverty_gap = gaps(plan, board, "thon_1")
    # 85 % of 20 = 17 points: 17/20 × 4 due = 3,4 → 4 reports on time, 2 more.
    assert (reports_gap.points, reports_gap.needed, reports_gap.more) == (D(17), D(4), 2)
    assert reports_gap.reachable
    # 85 % of 10 = 8,5 points: a change of 0 + 0,85 × (1 − 0) = 0,85 points, a level of
    # 5 − 0,85 = 4,15 %, at most 4,15 % × 200 = 8,3 poor households: 9 − 8,3 = 0,7 → 1 fewer.
    assert (poverty_gap.needed, poverty_gap.more, poverty_gap.fewer) == (D("0.85"), None, 1)
    assert (poverty_gap.value, poverty_gap.points, poverty_gap.required) == (
        D("0.5"),
        D("8.5"),
        True,
    )
    # Points lost: on time 10, poverty 5 → the reports first.
    assert [g.criterion.id for g in gaps(plan, board, "thon_1") if g.criterion] == [
        "dung_han",
        "ngheo",
    ]


# --------------------------------------------------------------------------- JSON, records


def _full_board() -> tuple[Plan, Board]:
    plan = make_plan((DIEN, NGHEO, DUNG_HAN, DAY_DU, GUONG), villages=3)
    reports = [
        report(1, "2026-01", local(2026, 1, 20), tong_ho=200, ho_co_dien=190, ho_ngheo=10),
        report(1, "2026-02", local(2026, 2, 26), tong_ho=200, ho_co_dien=195, ho_ngheo=8),
        report(2, "2026-01", local(2026, 1, 26), tong_ho=100, ho_co_dien=85, ho_ngheo=3),
    ]
    claims = [
        _claim(11, 2, "dien", "96", ACCEPTED, local(2026, 3, 5)),
        _claim(12, 2, "guong", "2", REFUSED, local(2026, 3, 6)),
    ]
    board = board_of(
        plan,
        date(2026, 3, 1),
        reports,
        {"thon_2": {"tong_ho_nen": "100", "ho_ngheo_nen": "4"}},
        {"thon_1": 3},
        claims,
    )
    return plan, board


def test_the_json_contract() -> None:
    _, board = _full_board()
    data = json.loads(board_json_text(board))
    assert {"year", "max", "final", "villages", "as_of", "finalized_at", "ties"} <= set(data)
    assert (data["year"], data["max"], data["final"], data["as_of"]) == (
        2026,
        55,
        False,
        "2026-03-01",
    )
    assert [v["id"] for v in data["villages"]] == ["thon_1", "thon_2", "thon_3"]
    one, two, three = data["villages"]
    assert {"id", "name", "criteria", "total", "grade", "rank", "missing", "claims"} <= set(one)
    # Thôn 1: dien 10 × (97,5 − 80)/20 = 8,75; poverty 5 − 4 = 1 (first value) → 10;
    # on time 1 of 2 → 7,5; sent 2 of 2 → 10; 3 good deeds → 7,5. Total 43,75.
    assert one["criteria"] == {
        "dien": 8.75,
        "ngheo": 10,
        "dung_han": 7.5,
        "day_du": 10,
        "guong": 7.5,
    }
    assert one["total"] == 43.75
    assert isinstance(one["criteria"]["ngheo"], int)
    assert (one["name"], one["rank"], one["missing"], one["claims"]) == ("Thôn 1", 1, [], [])
    # Thôn 2: dien claimed 96 → 10 × 16/20 = 8; poverty 4 − 3 = 1 → 10; on time 0 of 2;
    # sent 1 of 2 → 5; good deeds 0 (the refused claim changes nothing). Total 23.
    assert two["criteria"] == {"dien": 8, "ngheo": 10, "dung_han": 0, "day_du": 5, "guong": 0}
    assert (two["total"], two["rank"], two["grade"]) == (23, 2, "Chưa hoàn thành")
    assert two["claims"] == [
        {
            "id": 11,
            "criterion": "dien",
            "value": 96,
            "status": "accepted",
            "reason": "Có biên bản kiểm tra",
            "comment": "",
            "created_at": "2026-03-01T12:00:00+07:00",
            "reviewed_at": "2026-03-05T12:00:00+07:00",
        },
        {
            "id": 12,
            "criterion": "guong",
            "value": 2,
            "status": "refused",
            "reason": "Có biên bản kiểm tra",
            "comment": "Không có chứng cứ",
            "created_at": "2026-03-01T12:00:00+07:00",
            "reviewed_at": "2026-03-06T12:00:00+07:00",
        },
    ]
    assert three["missing"] == ["dien", "ngheo"]
    assert (three["total"], three["rank"]) == (0, 3)
    # Full precision in the dict itself; Vietnamese text kept as is.
    assert board_to_json(board)["villages"][0]["total"] == D("43.75")
    assert "Thôn 1" in board_json_text(board)


def test_json_numbers_are_ints_when_integral_else_floats() -> None:
    seven = Criterion("day_du", "Đầy đủ", D(7), measure="completeness")
    plan = make_plan((DUNG_HAN, seven), villages=1)
    reports = [
        report(1, "2026-01", local(2026, 1, 20)),
        report(1, "2026-03", local(2026, 3, 26)),
    ]
    board = board_of(plan, date(2026, 4, 1), reports)  # January to March due
    # on time 1 of 3: 15 × 1/3 = 5; sent 2 of 3: 7 × 2/3 = 4,666…
    assert points(board, 1, "day_du") == D(14) / D(3)
    data = json.loads(board_json_text(board))["villages"][0]
    assert data["criteria"]["dung_han"] == 5 and isinstance(data["criteria"]["dung_han"], int)
    assert data["criteria"]["day_du"] == float(D(14) / D(3)) == 14 / 3
    assert data["total"] == float(D(5) + D(14) / D(3))


def test_the_record_round_trip_and_a_village_no_longer_in_the_plan() -> None:
    plan, board = _full_board()
    board = replace(
        board, final=True, finalized_at=local(2026, 12, 20, 9), finalized_by="Hội đồng TĐKT"
    )
    record = json.loads(json.dumps(board_to_record(board)))
    assert board_from_record(plan, record) == board
    # Thôn 3 left the plan and Thôn 1 was renamed: the first keeps its stored name.
    later = replace(plan, villages=(Village("thon_1", "Thôn Một"), Village("thon_2", "Thôn 2")))
    restored = board_from_record(later, record)
    assert [v.village.name for v in restored.villages] == ["Thôn Một", "Thôn 2", "Thôn 3"]
    assert (
        restored.village("thon_2").criterion("dien").claim
        == board.village("thon_2").criterion("dien").claim
    )
    assert restored.village("thon_1").criterion("ngheo").evidence.baseline_period == "2026-01"


def test_a_plan_without_scoring_is_refused() -> None:
    plan = replace(make_plan((DAY_DU,)), scoring=None)
    with pytest.raises(ValueError):
        board_of(plan, date(2026, 3, 1))


# --------------------------------------------------------------------------- properties

PROPERTY_AS_OF = date(2026, 4, 30)  # January to March due; every report sent by then
MONTHS = ("2026-01", "2026-02", "2026-03")

village_data = st.fixed_dictionaries(
    {
        "months": st.lists(
            st.one_of(
                st.none(),
                st.tuples(
                    st.integers(-10, 10),  # days from the due day it was sent
                    st.integers(0, 300),  # tong_ho
                    st.integers(0, 300),  # ho_co_dien (cut at tong_ho)
                    st.integers(0, 300),  # ho_ngheo (cut at tong_ho)
                    st.one_of(st.none(), st.booleans()),
                ),
            ),
            min_size=3,
            max_size=3,
        ),
        "baseline": st.one_of(st.none(), st.tuples(st.integers(0, 300), st.integers(0, 300))),
        "deeds": st.integers(0, 8),
        "claims": st.lists(
            st.tuples(
                st.sampled_from(["dien", "rac", "ngheo", "muc_ngheo", "dung_han", "guong"]),
                st.decimals(-50, 200, places=2),
                st.sampled_from([ACCEPTED, REFUSED, PENDING]),
            ),
            max_size=3,
        ),
    }
)

plan_params = st.fixed_dictionaries(
    {
        "points": st.lists(st.decimals(1, 30, places=1), min_size=7, max_size=7),
        "zero_at": st.decimals(0, 99, places=1),
        "ceiling": st.decimals(1, 40, places=1),  # the <= target of the poverty level
        "per_item": st.decimals("0.5", 10, places=1),
    }
)


def _property_plan(params: dict[str, Any]) -> Plan:
    p = params["points"]
    criteria = (
        replace(DIEN, points=p[0], zero_at=params["zero_at"]),
        replace(RAC, points=p[1]),
        replace(NGHEO, points=p[2]),
        Criterion(
            "muc_ngheo",
            "Tỷ lệ hộ nghèo",
            p[3],
            indicator="ty_le_ngheo",
            target=Target("<=", params["ceiling"]),
        ),
        replace(DUNG_HAN, points=p[4]),
        replace(DAY_DU, points=p[5]),
        replace(GUONG, points=p[6], per_item=params["per_item"]),
    )
    return make_plan(criteria, villages=3)


def _property_inputs(
    villages: list[dict[str, Any]],
) -> tuple[list[ReportRecord], dict[str, dict[str, Any]], dict[str, int], list[Claim]]:
    reports: list[ReportRecord] = []
    baselines: dict[str, dict[str, Any]] = {}
    deeds: dict[str, int] = {}
    claims: list[Claim] = []
    for n, data in enumerate(villages, start=1):
        for month, (period, entry) in enumerate(zip(MONTHS, data["months"], strict=True), 1):
            if entry is None:
                continue
            offset, total, lit, poor, waste = entry
            answers: dict[str, Any] = {
                "tong_ho": total,
                "ho_co_dien": min(lit, total),
                "ho_ngheo": min(poor, total),
            }
            if waste is not None:
                answers["thu_gom_rac"] = waste
            sent = local(2026, month, 25, 20) + timedelta(days=offset)
            reports.append(report(n, period, sent, **answers))
        if data["baseline"] is not None:
            total, poor = data["baseline"]
            baselines[f"thon_{n}"] = {"tong_ho_nen": str(total), "ho_ngheo_nen": str(poor)}
        deeds[f"thon_{n}"] = data["deeds"]
        for k, (criterion, value, status) in enumerate(data["claims"]):
            claims.append(
                Claim(
                    100 * n + k,
                    2026,
                    f"thon_{n}",
                    criterion,
                    value,
                    "lý do",
                    1,
                    local(2026, 4, 1),
                    status,
                    reviewed_at=local(2026, 4, 2 + k) if status != PENDING else None,
                )
            )
    return reports, baselines, deeds, claims


def _score(plan: Plan, inputs: tuple[Any, ...], village: str = "thon_1") -> Decimal:
    win = window(plan, 2026, PROPERTY_AS_OF)
    return compute_board(plan, win, *inputs).village(village).total


PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(plan_params, st.lists(village_data, min_size=3, max_size=3))
def test_a_village_scores_between_zero_and_the_maximum(
    params: dict[str, Any], villages: list[dict[str, Any]]
) -> None:
    plan = _property_plan(params)
    board = compute_board(plan, window(plan, 2026, PROPERTY_AS_OF), *_property_inputs(villages))
    assert plan.scoring is not None
    for village in board.villages:
        for score in village.criteria:
            assert D(0) <= score.points <= score.criterion.points
            assert D(0) <= score.computed <= score.criterion.points
        assert D(0) <= village.total <= board.max == plan.scoring.max
        assert village.total == sum((s.points for s in village.criteria), D(0))
        assert village.grade in {g.name for g in plan.scoring.grades}
        assert 1 <= village.rank <= len(board.villages)


def _latest(reports: list[ReportRecord], village: str) -> int | None:
    mine = [i for i, r in enumerate(reports) if r.village_id == village]
    return max(mine, key=lambda i: reports[i].period) if mine else None


@PROPERTY_SETTINGS
@given(
    plan_params,
    st.lists(village_data, min_size=3, max_size=3),
    st.integers(1, 300),
    st.integers(1, 300),
)
def test_better_figures_in_the_latest_report_never_lower_the_score(
    params: dict[str, Any], villages: list[dict[str, Any]], more_lit: int, fewer_poor: int
) -> None:
    plan = _property_plan(params)
    inputs = _property_inputs(villages)
    reports = inputs[0]
    index = _latest(reports, "thon_1")
    if index is None:
        return
    before = _score(plan, inputs)
    answers = dict(reports[index].answers)
    total = int(answers["tong_ho"])
    answers["ho_co_dien"] = str(min(total, int(answers["ho_co_dien"]) + more_lit))
    answers["ho_ngheo"] = str(max(0, int(answers["ho_ngheo"]) - fewer_poor))
    answers["thu_gom_rac"] = True
    better = [*reports[:index], replace(reports[index], answers=answers), *reports[index + 1 :]]
    assert _score(plan, (better, *inputs[1:])) >= before


@PROPERTY_SETTINGS
@given(plan_params, st.lists(village_data, min_size=3, max_size=3), st.integers(0, 2))
def test_a_report_on_time_instead_of_late_never_lowers_the_score(
    params: dict[str, Any], villages: list[dict[str, Any]], month: int
) -> None:
    plan = _property_plan(params)
    inputs = _property_inputs(villages)
    reports = inputs[0]
    before = _score(plan, inputs)
    sooner = [
        replace(r, first_sent=local(2026, month + 1, 20))
        if r.village_id == "thon_1" and r.period == MONTHS[month]
        else r
        for r in reports
    ]
    assert _score(plan, (sooner, *inputs[1:])) >= before


@PROPERTY_SETTINGS
@given(plan_params, st.lists(village_data, min_size=3, max_size=3), st.integers(0, 2))
def test_a_missing_report_sent_never_lowers_the_reporting_score(
    params: dict[str, Any], villages: list[dict[str, Any]], month: int
) -> None:
    full = _property_plan(params)
    assert full.scoring is not None
    plan = replace(
        full, scoring=replace(full.scoring, criteria=full.scoring.criteria[4:])
    )  # on time, completeness, good deeds
    inputs = _property_inputs(villages)
    reports = [r for r in inputs[0] if not (r.village_id == "thon_1" and r.period == MONTHS[month])]
    before = _score(plan, (reports, *inputs[1:]))
    added = [*reports, report(1, MONTHS[month], local(2026, month + 1, 24), tong_ho=1)]
    assert _score(plan, (added, *inputs[1:])) >= before


@PROPERTY_SETTINGS
@given(plan_params, st.lists(village_data, min_size=3, max_size=3))
def test_one_more_good_deed_never_lowers_the_score(
    params: dict[str, Any], villages: list[dict[str, Any]]
) -> None:
    plan = _property_plan(params)
    reports, baselines, deeds, claims = _property_inputs(villages)
    before = _score(plan, (reports, baselines, deeds, claims))
    more = {**deeds, "thon_1": deeds["thon_1"] + 1}
    assert _score(plan, (reports, baselines, more, claims)) >= before
