"""The board's chat texts (``bot.scoring.views``), pure, on boards built by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from bot.channels.base import split_text
from bot.plan.model import Criterion, Plan, Target, Village
from bot.scoring import rules
from bot.scoring.board import Board, CriterionScore, Evidence, VillageScore
from bot.scoring.rules import Gap
from bot.scoring.views import (
    LINES_PER_PART,
    board_text,
    digest_section,
    gap_text,
    gaps_paragraph,
    head_text,
    points_text,
    shown_year,
    top_text,
)
from tests.boards import DAY_DU, DIEN, DUNG_HAN, GUONG, RAC, hand_board, scoring_plan

TELEGRAM_LIMIT = 4096


@pytest.fixture
def plan(small_plan: Plan) -> Plan:
    return scoring_plan(small_plan)


def ranked_board(
    plan: Plan, totals: list[str], name: str = "Thôn {n}", final: bool = False
) -> tuple[Plan, Board]:
    """A plan with one village per total (``Thôn 1``…) and its board: every criterion full
    but the on-time one, which holds what the total lacks; ranks by total (equal totals
    share one), every village Tốt."""
    villages = tuple(Village(f"thon_{n}", name.format(n=n)) for n in range(1, len(totals) + 1))
    plan = replace(plan, villages=villages)
    full = Decimal(35)  # dien 10 + rac 10 + day_du 5 + guong 10
    scores = []
    for village, text in zip(villages, totals, strict=True):
        total = Decimal(text)
        on_time = total - full
        scores.append(
            (
                village,
                (
                    CriterionScore(DIEN, Decimal(10), Decimal(10), Evidence(Decimal(100))),
                    CriterionScore(RAC, Decimal(10), Decimal(10), Evidence(Decimal(100))),
                    CriterionScore(DUNG_HAN, on_time, on_time, Evidence(on_time / 15)),
                    CriterionScore(DAY_DU, Decimal(5), Decimal(5), Evidence(Decimal(1))),
                    CriterionScore(GUONG, Decimal(10), Decimal(10), Evidence(Decimal(4))),
                ),
                total,
            )
        )
    board_villages = tuple(
        VillageScore(
            village,
            criteria,
            total,
            "Tốt",
            1 + sum(1 for _v, _c, other in scores if other > total),
            Decimal(1),
        )
        for village, criteria, total in scores
    )
    return plan, Board(2026, date(2026, 11, 24), Decimal(50), board_villages, final=final)


def test_points_are_rounded_to_one_decimal_halves_up_the_vietnamese_way() -> None:
    assert points_text(Decimal("13.75")) == "13,8"
    assert points_text(Decimal("47.749")) == "47,7"
    assert points_text(Decimal("0.05")) == "0,1"
    assert points_text(Decimal(15)) == "15"
    assert points_text(Decimal("100.0")) == "100"
    assert points_text(Decimal("1234.5")) == "1.234,5"


def test_the_whole_table_one_line_per_village_by_rank(plan: Plan) -> None:
    text = board_text(plan, hand_board(plan))
    assert text.splitlines() == [
        "BẢNG ĐIỂM THI ĐUA NĂM 2026 – Xã Thử",
        "Tạm tính đến hết ngày 20/12/2026; tối đa 50 điểm.",
        "",
        # 47,75 is rounded half up; both share rank 1, tied at the cap of Xuất sắc
        "1. Thôn 1: 47,8 – Xuất sắc (bằng điểm, Hội đồng xem xét)",
        "1. Thôn 2: 47,8 – Tốt (bằng điểm, Hội đồng xem xét)",
        "3. Thôn 3: 2,5 – Chưa hoàn thành; thiếu số liệu: Điện lưới, Thu gom rác",
        "",
        "Bằng điểm ở ngưỡng số thôn được xếp một loại, đề nghị Hội đồng xem xét: Thôn 1, Thôn 2.",
        "Đề nghị chấm lại đang chờ xét: 1 (gõ /tucham_ds).",
    ]


def test_a_frozen_table_says_who_froze_it_and_counts_no_claim(plan: Plan) -> None:
    text = board_text(plan, hand_board(plan, final=True))
    assert text.splitlines()[1] == (
        "Bảng điểm đã được Hội đồng chốt ngày 20/12/2026 (Hội đồng TĐKT, họp ngày "
        "20/12/2026); tối đa 50 điểm."
    )
    assert "chờ xét" not in text and "Tạm tính" not in text


def test_a_long_table_comes_in_parts_that_fit_a_message(plan: Plan) -> None:
    totals = [str(Decimal(50) - Decimal(n) / 20) for n in range(300)]
    plan, board = ranked_board(plan, totals, "Thôn Buôn Làng Số {n} Phía Đông Suối")
    text = board_text(plan, board)
    paragraphs = text.split("\n\n")
    assert len(paragraphs) == 1 + 300 // LINES_PER_PART  # the heading, then the parts
    assert all(len(p.splitlines()) == LINES_PER_PART for p in paragraphs[1:])
    pieces = split_text(text, TELEGRAM_LIMIT)
    assert len(pieces) >= 3 and all(len(p) <= TELEGRAM_LIMIT for p in pieces)
    for piece in pieces[1:]:  # each piece starts at a part
        rank = int(piece.split(".", 1)[0])
        assert rank % LINES_PER_PART == 1, piece[:40]
    lines = [line for piece in pieces for line in piece.splitlines() if line]
    assert lines[2] == "1. Thôn Buôn Làng Số 1 Phía Đông Suối: 50 – Tốt"
    assert lines[-1] == "300. Thôn Buôn Làng Số 300 Phía Đông Suối: 35,1 – Tốt"
    assert len(lines) == 2 + 300  # no line was cut


def test_a_head_sees_the_village_its_rank_the_top_three_and_no_score_below(plan: Plan) -> None:
    plan, board = ranked_board(plan, ["49", "48", "47", "46", "45", "44"])
    text = head_text(plan, board, "thon_5", [])
    assert "BẢNG ĐIỂM THI ĐUA NĂM 2026 – Thôn 5" in text
    assert "Điểm của thôn: 45/50 – Tốt – hạng 5/6" in text
    assert "- Báo cáo đúng hạn: 10/15" in text
    assert "Dẫn đầu toàn xã: 1. Thôn 1: 49; 2. Thôn 2: 48; 3. Thôn 3: 47." in text
    for other in ("Thôn 4", "Thôn 6", "46", "44"):
        assert other not in text


def test_the_top_three_stop_at_the_third_rank_and_count_those_tied_with_it(plan: Plan) -> None:
    plan, board = ranked_board(plan, ["40", "42", "40", "40", "38"])
    # Thôn 2 first; Thôn 1, 3 and 4 share rank 2: two are named, the third is counted.
    assert (
        top_text(board) == "1. Thôn 2: 42; 2. Thôn 1: 40; 2. Thôn 3: 40 và 1 thôn khác cùng hạng 2"
    )
    text = head_text(plan, board, "thon_5", [])
    assert "Thôn 4" not in text and "hạng 5/5" in text


def test_what_a_head_lacks_for_the_next_grade_in_plain_words(plan: Plan) -> None:
    def gap(criterion: object, **fields: object) -> Gap:
        return Gap("Tốt", criterion, **fields)  # type: ignore[arg-type]

    more_on_time = gap(DUNG_HAN, value=Decimal(9), needed=Decimal(11), more=2)
    assert gap_text(plan, more_on_time) == "còn thiếu 2 báo cáo đúng hạn"
    electricity = gap(DIEN, value=Decimal(93), needed=Decimal(95), more=24, unit="hộ")
    assert gap_text(plan, electricity) == "Điện lưới 93% → cần 95% (thêm 24 hộ)"
    deeds = gap(GUONG, value=Decimal(3), needed=Decimal(4), more=1)
    assert gap_text(plan, deeds) == "cần thêm 1 gương người tốt, việc tốt được xã ghi nhận"
    sent = gap(DAY_DU, value=Decimal(10), needed=Decimal(12), more=2)
    assert gap_text(plan, sent) == "còn 2 báo cáo chưa gửi"
    # A needed figure is rounded up for an "at least" target: reaching it is enough.
    thirds = gap(RAC, value=None, needed=Decimal(280) / 3)
    assert gap_text(plan, thirds) == "Thu gom rác: chưa có số liệu, cần 93,4%"
    poverty = Criterion(
        "ngheo",
        "Hộ nghèo",
        Decimal(10),
        indicator="ty_le_ngheo",
        target=Target.parse("decrease >= 1"),
    )
    assert (
        gap_text(plan, gap(poverty, value=Decimal("0.4"), needed=Decimal(1)))
        == "Hộ nghèo: giảm 0,4 điểm phần trăm → cần giảm 1 điểm phần trăm"
    )
    assert (  # no change yet
        gap_text(plan, gap(poverty, value=Decimal(0), needed=Decimal(1)))
        == "Hộ nghèo: chưa thay đổi → cần giảm 1 điểm phần trăm"
    )
    assert (  # it went up instead
        gap_text(
            plan, gap(poverty, value=Decimal("-0.25"), needed=Decimal("0.75"), fewer=2, unit="hộ")
        )
        == "Hộ nghèo: tăng 0,3 điểm phần trăm → cần giảm 0,8 điểm phần trăm (bớt 2 hộ)"
    )
    nothing_due = gap(DUNG_HAN, value=Decimal(0), reachable=False)
    assert gap_text(plan, nothing_due) == "Báo cáo đúng hạn: được tính khi có báo cáo đến hạn"

    paragraph = gaps_paragraph(
        plan,
        [
            Gap("Tốt", points=Decimal(40), lacking=Decimal("2.25")),
            gap(DIEN, required=True, value=Decimal(93), needed=Decimal(95)),
            more_on_time,
            deeds,
        ],
    )
    assert paragraph == (
        "Để lên loại Tốt, thôn cần thêm 2,3 điểm (mỗi tiêu chí cần đạt từ 80% điểm tối "
        "đa của nó trở lên):\n"
        "- Điện lưới 93% → cần 95%\n"
        "- còn thiếu 2 báo cáo đúng hạn\n"
        "- cần thêm 1 gương người tốt, việc tốt được xã ghi nhận\n"
        "Cố gắng lên, thôn sẽ đạt loại Tốt!"
    )
    capped = gaps_paragraph(plan, [Gap("Xuất sắc", capped=True)])
    assert capped is not None and "đã đủ điểm và điều kiện của loại Xuất sắc" in capped


def test_a_head_view_on_the_hand_board_with_the_rules_gaps(plan: Plan) -> None:
    board = hand_board(plan)
    text = head_text(plan, board, "thon_3", rules.gaps(plan, board, "thon_3"))
    assert "Điểm của thôn: 2,5/50 – Chưa hoàn thành – hạng 3/3" in text
    assert "- Điện lưới: thiếu số liệu → 0/10" in text
    assert "- Gương người tốt: 2,5/10" in text
    assert "Đề nghị chấm lại của thôn đang chờ xét: 1." in text
    # Hoàn thành asks for 70 % of 50 = 35 points: 32,5 more.
    assert "Để lên loại Hoàn thành, thôn cần thêm 32,5 điểm" in text
    assert "Tiêu chí thiếu số liệu được 0 điểm: Điện lưới, Thu gom rác." in text
    accepted = head_text(plan, board, "thon_2", rules.gaps(plan, board, "thon_2"))
    assert "- Điện lưới: 9/10 (theo đề nghị chấm lại đã được chấp nhận)" in accepted
    assert "Thôn bằng điểm với thôn khác ở ngưỡng xếp loại" in accepted
    best = head_text(plan, board, "thon_1", rules.gaps(plan, board, "thon_1"))
    assert "Chúc mừng! Thôn đang ở loại cao nhất, Xuất sắc." in best


def test_a_frozen_head_view_says_so_and_asks_for_nothing(plan: Plan) -> None:
    board = hand_board(plan, final=True)
    text = head_text(plan, board, "thon_3", rules.gaps(plan, board, "thon_3"))
    assert "Bảng điểm đã được Hội đồng chốt ngày 20/12/2026" in text
    assert "Để lên loại" not in text and "/tucham" not in text and "chờ xét" not in text


def test_the_digest_section(plan: Plan) -> None:
    assert digest_section(plan, hand_board(plan)).splitlines() == [
        "Bảng điểm thi đua năm 2026",
        "Tạm tính đến hết ngày 20/12/2026; tối đa 50 điểm.",
        "Dẫn đầu: 1. Thôn 1: 47,8; 1. Thôn 2: 47,8; 3. Thôn 3: 2,5",
        "Xếp loại: Xuất sắc: 1 thôn; Tốt: 1 thôn; Hoàn thành: 0 thôn; Chưa hoàn thành: 1 thôn",
        "Đề nghị chấm lại đang chờ xét: 1",
        "Bằng điểm ở ngưỡng số thôn được xếp một loại, đề nghị Hội đồng xem xét: Thôn 1, Thôn 2.",
    ]
    frozen = digest_section(plan, hand_board(plan, final=True))
    assert "chốt ngày 20/12/2026" in frozen and "chờ xét" not in frozen


def test_the_year_shown_is_last_year_until_this_years_first_report_is_due(plan: Plan) -> None:
    # The monthly form is due on the 25th; the plan starts on 2024-01-01.
    assert shown_year(plan, date(2026, 1, 1)) == 2025
    assert shown_year(plan, date(2026, 1, 25)) == 2025  # due that day: not due yet
    assert shown_year(plan, date(2026, 1, 26)) == 2026
    assert shown_year(plan, date(2024, 1, 10)) is None  # nothing due yet, nor the year before
    ended = replace(plan, ends=date(2026, 12, 31))
    assert shown_year(ended, date(2027, 1, 31)) == 2026  # the January after it ends
    assert shown_year(ended, date(2027, 2, 1)) is None  # then no more
