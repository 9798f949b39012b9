"""The self-assessment conversation step by step, without storage or channels, over a
hand-built board; and the texts of the secretariat's review."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from bot.channels.base import numbered_menu
from bot.messages import MAX_FILE_BYTES, Reply
from bot.plan.model import Criterion, Grade, Indicator, Plan, Scoring, Target
from bot.reports.engine import Input
from bot.scoring.assessment import (
    Agree,
    AssessmentDraft,
    AssessmentFlow,
    AssessmentStep,
    SubmitClaim,
    claim_buttons,
    claim_card,
    criterion_line,
    row_of,
    told_accepted,
    told_refused,
)
from bot.scoring.board import (
    ACCEPTED,
    REFUSED,
    Board,
    Claim,
    CriterionScore,
    Evidence,
    VillageScore,
)
from tests.button_words import button_words

D = Decimal
AS_OF = date(2026, 11, 24)  # the small plan's monthly form: January to October due (10)
CREATED = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def plan(small_plan: Plan) -> Plan:
    """The small plan with a change indicator and a scoring section of 65 points."""
    change = Indicator(
        "dien_tang",
        "Tăng tỷ lệ hộ có điện",
        "ratio",
        ("ho_co_dien", "tong_ho"),
        Target(">=", D(2), "increase"),
        baseline_year=2023,
    )
    scoring = Scoring(
        (
            Criterion("dien", "Điện lưới", D(10), indicator="ty_le_dien", zero_at=D(80)),
            Criterion("rac", "Thu gom rác", D(10), indicator="thon_thu_gom_rac"),
            Criterion("dien_tang", "Tăng hộ có điện", D(10), indicator="dien_tang"),
            Criterion("dung_han", "Báo cáo đúng hạn", D(15), measure="on_time"),
            Criterion("day_du", "Báo cáo đầy đủ", D(10), measure="completeness"),
            Criterion(
                "guong", "Gương người tốt, việc tốt", D(10), measure="good_deeds", per_item=D("2.5")
            ),
        ),
        (
            Grade("Xuất sắc", D(90), D(85), D(20)),
            Grade("Tốt", D(80), D(80)),
            Grade("Hoàn thành", D(70), D(70)),
            Grade("Chưa hoàn thành"),
        ),
    )
    return replace(small_plan, indicators=(*small_plan.indicators, change), scoring=scoring)


def village_scores(plan: Plan, claim: Claim | None = None) -> tuple[CriterionScore, ...]:
    """Thôn 1's scores, computed by hand (the rules: points × the fraction reached)."""
    assert plan.scoring is not None
    c = {criterion.id: criterion for criterion in plan.scoring.criteria}
    dien = D(10) * (D(95) - 80) / (100 - 80)  # 95 % with zero at 80: 7.5
    return (
        CriterionScore(
            c["dien"],
            D(10) if claim else dien,
            dien,
            Evidence(D(95), D(1140), D(1200), "hộ", "2026-10", 7),
            claim,
        ),
        CriterionScore(c["rac"], D(0), D(0), Evidence(None)),  # no report said: missing
        # 96 % against 95 % in 2023: +1 of the +2 wanted, 10 × 1/2
        CriterionScore(
            c["dien_tang"],
            D(5),
            D(5),
            Evidence(D(1), D(1152), D(1200), "hộ", baseline=D(95), level=D(96)),
        ),
        CriterionScore(c["dung_han"], D(12), D(12), Evidence(D(8), D(8), D(10))),  # 15 × 8/10
        CriterionScore(c["day_du"], D(9), D(9), Evidence(D(9), D(9), D(10))),  # 10 × 9/10
        CriterionScore(c["guong"], D("2.5"), D("2.5"), Evidence(D(1), D(1))),  # 2.5 × 1
    )


def board(
    plan: Plan,
    final: bool = False,
    as_of: date = AS_OF,
    claims: tuple[Claim, ...] = (),
    accepted: Claim | None = None,
) -> Board:
    scores = village_scores(plan, accepted)
    total = sum((s.points for s in scores), D(0))
    villages = [
        VillageScore(plan.villages[0], scores, total, "Chưa hoàn thành", 2, D("0.8"), claims=claims)
    ]
    for rank, village in ((1, plan.villages[1]), (3, plan.villages[2])):
        villages.append(VillageScore(village, scores, total, "Chưa hoàn thành", rank, D("0.8")))
    return Board(
        2026,
        as_of,
        D(65),
        tuple(villages),
        final=final,
        finalized_at=datetime(2026, 12, 20, 2, 0, tzinfo=UTC) if final else None,
        finalized_by="Hội đồng TĐKT, họp ngày 20/12/2026" if final else None,
    )


def kept(step: AssessmentStep) -> AssessmentDraft:
    """The draft as saved and read back (JSON, as the database keeps it): a restart
    between any two steps changes nothing."""
    assert step.draft is not None
    return AssessmentDraft.from_dict(json.loads(json.dumps(step.draft.to_dict())))


def say(flow: AssessmentFlow, step: AssessmentStep, text: str) -> AssessmentStep:
    return flow.handle(kept(step), Input("text", text))


def press(flow: AssessmentFlow, step: AssessmentStep, label: str) -> AssessmentStep:
    [choice] = [c for c in step.replies[-1].choices if c.label == label]
    return flow.handle(kept(step), Input("choice", choice.value))


def photo(
    flow: AssessmentFlow, step: AssessmentStep, key: str | None, size: int = 1000
) -> AssessmentStep:
    return flow.handle(kept(step), Input("photo", "", key, size))


def text(step: AssessmentStep) -> str:
    return step.replies[-1].text


def mode(step: AssessmentStep) -> str:
    assert step.draft is not None
    return step.draft.mode


def test_the_board_shows_each_criterion_with_its_data_then_the_menu(plan: Plan) -> None:
    flow = AssessmentFlow(plan)
    step = flow.start(board(plan), "thon_1")
    shown = text(step)
    assert "Tự chấm điểm thi đua năm 2026 · Thôn 1" in shown
    assert "Điểm tạm tính đến hết ngày 24/11/2026:" in shown
    assert "Điện lưới: 1.140/1.200 hộ = 95 % → 7,5/10" in shown
    assert "Thu gom rác: thiếu số liệu → 0/10" in shown
    assert "Tăng hộ có điện: 96 % (năm 2023: 95 %), tăng 1 điểm % → 5/10" in shown
    assert "Báo cáo đúng hạn: 8/10 báo cáo → 12/15" in shown
    assert "Báo cáo đầy đủ: 9/10 báo cáo → 9/10" in shown
    assert "Gương người tốt, việc tốt: 1 gương được ghi nhận → 2,5/10" in shown
    assert "Tổng: 36/65 điểm · Xếp loại: Chưa hoàn thành · Hạng 2/3" in shown
    assert [c.label for c in step.replies[-1].choices] == ["Đồng ý", "Đề nghị chấm lại", "Để sau"]
    assert step.effect is None and mode(step) == "menu"


def test_agreeing_is_an_effect_then_a_receipt(plan: Plan) -> None:
    flow = AssessmentFlow(plan)
    step = say(flow, flow.start(board(plan), "thon_1"), "1")  # Đồng ý, by its number
    assert step.effect == Agree(2026, "thon_1") and step.replies == []
    assert step.draft is not None
    done = flow.agreed(step.draft)
    assert done.draft is None
    assert "Thôn 1 đồng ý với kết quả tự chấm năm 2026 (36/65 điểm)" in text(done)


def test_later_closes_and_an_unknown_word_asks_again(plan: Plan) -> None:
    flow = AssessmentFlow(plan)
    start = flow.start(board(plan), "thon_1")
    again = say(flow, start, "xin chào")
    assert "Xin chọn một mục bên dưới." in text(again) and mode(again) == "menu"
    closed = say(flow, start, "de sau")  # typed without its marks
    assert closed.draft is None and "Gõ /tucham" in text(closed)


def at_criterion(flow: AssessmentFlow, plan: Plan, number: str) -> AssessmentStep:
    step = say(flow, flow.start(board(plan), "thon_1"), "2")  # Đề nghị chấm lại
    assert mode(step) == "criterion"
    labels = [c.label for c in step.replies[-1].choices]
    assert (
        labels[:3] == ["Điện lưới", "Thu gom rác", "Tăng hộ có điện"] and labels[-1] == "Quay lại"
    )
    step = say(flow, step, number)
    assert mode(step) == "value"
    return step


def test_a_percentage_claim_every_bad_input_then_the_points_reason_photo_and_send(
    plan: Plan,
) -> None:
    flow = AssessmentFlow(plan)
    step = at_criterion(flow, plan, "1")
    assert "Điện lưới: 1.140/1.200 hộ = 95 % → 7,5/10" in text(step)
    assert "Gõ tỷ lệ (%) thôn đề nghị" in text(step) and step.replies[-1].typed_answer
    problems = {
        "nhiều lắm": "Gõ tỷ lệ (%) thôn đề nghị",
        "101 %": "Tỷ lệ không thể quá 100 %.",
        "-5": "Tỷ lệ không thể âm.",
        "khoảng 96": "Xin gõ con số chính xác",
        "95 %": "trùng với số liệu đang tính (95 %)",
        "1234567890123456789": "Tỷ lệ không thể quá 100 %.",
    }
    for typed, said in problems.items():
        wrong = say(flow, step, typed)
        assert said in text(wrong), typed
        assert mode(wrong) == "value" and wrong.draft is not None and wrong.draft.value is None
    shown = photo(flow, step, "k1")
    assert "cần một con số, không phải ảnh" in text(shown)

    step = say(flow, step, "96,5%")
    assert mode(step) == "reason"
    # 10 × (96,5 − 80) / (100 − 80) = 8,25 → 8,3 shown, before anything is sent
    assert "Đề nghị: 96,5 % → 8,3/10 điểm (đang tính: 7,5/10)." in text(step)
    assert "Gõ lý do (bắt buộc" in text(step)
    for empty in ("   ", "\u200b"):
        assert "Lý do là bắt buộc" in text(say(flow, step, empty))
    assert "cần chữ, không phải ảnh" in text(photo(flow, step, "k1"))
    long = say(flow, step, "x" * 1001)
    assert "tối đa 1.000 ký tự, bạn đã gửi 1.001 ký tự" in text(long) and mode(long) == "reason"

    step = say(flow, step, "Thôn đã có thêm 18 hộ kéo điện tháng 11.")
    assert mode(step) == "photo" and step.replies[-1].asks_photo
    assert "Xin gửi ảnh" in text(say(flow, step, "ảnh đây"))
    step = say(flow, step, "1")  # Bỏ qua, by its number
    assert mode(step) == "confirm"
    summary = text(step)
    assert "Tiêu chí: Điện lưới" in summary and "Lý do: Thôn đã có thêm 18 hộ" in summary
    assert "Đề nghị: 96,5 % → 8,3/10 điểm" in summary and "Ảnh minh chứng: không" in summary
    assert "Xin chọn Gửi" in text(say(flow, step, "gì vậy"))
    sent = say(flow, step, "gui")
    assert sent.effect == SubmitClaim(
        2026, "thon_1", "dien", D("96.5"), "Thôn đã có thêm 18 hộ kéo điện tháng 11.", None
    )
    assert sent.draft is not None
    claim = Claim(7, 2026, "thon_1", "dien", D("96.5"), "…", 1, CREATED)
    receipt = flow.claimed(sent.draft, claim)
    assert receipt.draft is None
    assert "Đã gửi đề nghị số 7: Điện lưới: 96,5 %." in text(receipt)


def test_a_reports_claim_is_a_whole_count_within_the_reports_due(plan: Plan) -> None:
    flow = AssessmentFlow(plan)
    step = at_criterion(flow, plan, "4")  # Báo cáo đúng hạn
    assert "tối đa 10" in text(step)
    for typed, said in {
        "11": "thôn có 10 báo cáo phải gửi, nên không thể có 11 báo cáo đúng hạn",
        "8,5": "Số báo cáo phải là số nguyên",
        "-1": "Số báo cáo không thể âm.",
        "8 báo cáo": "trùng với số liệu đang tính (8 báo cáo đúng hạn)",
    }.items():
        assert said in text(say(flow, step, typed)), typed
    step = say(flow, step, "9 báo cáo")
    # 15 × 9/10 = 13,5
    assert "Đề nghị: 9 báo cáo đúng hạn → 13,5/15 điểm (đang tính: 12/15)." in text(step)


def test_good_deeds_are_counted_and_capped_by_the_rule(plan: Plan) -> None:
    flow = AssessmentFlow(plan)
    step = at_criterion(flow, plan, "6")
    assert "Số gương không thể âm." in text(say(flow, step, "-2"))
    assert "Số gương phải là số nguyên" in text(say(flow, step, "2,5"))
    step = say(flow, step, "6")
    # min(10, 2,5 × 6) = 10
    assert "Đề nghị: 6 gương được ghi nhận → 10/10 điểm" in text(step)


def test_a_change_claim_may_be_negative_and_an_ambiguous_figure_is_asked(plan: Plan) -> None:
    flow = AssessmentFlow(plan)
    step = at_criterion(flow, plan, "3")
    assert "Gõ mức tăng (điểm %)" in text(step)
    assert "từ −100 đến 100 điểm %" in text(say(flow, step, "150"))
    down = say(flow, step, "-0,5")
    assert "Đề nghị: giảm 0,5 điểm % → 0/10 điểm" in text(down)
    asked = say(flow, step, "1.5")  # 1,5 or 15: both can be a change
    assert mode(asked) == "reading"
    assert "hai cách: 1,5 hay 15?" in text(asked)
    assert [c.label for c in asked.replies[-1].choices] == ["1,5", "15", "Quay lại"]
    back = say(flow, asked, "quay lai")
    assert mode(back) == "value"
    chosen = say(flow, asked, "1")
    # 10 × 1,5 / 2 = 7,5
    assert mode(chosen) == "reason" and "tăng 1,5 điểm % → 7,5/10 điểm" in text(chosen)
    assert chosen.draft is not None and chosen.draft.value == "1.5"
    # For a percentage, 96.5 can only be 96,5: taken without asking.
    pct = say(flow, at_criterion(flow, plan, "1"), "96.5")
    assert mode(pct) == "reason" and pct.draft is not None and pct.draft.value == "96.5"


def test_a_yes_no_criterion_is_chosen_not_typed(plan: Plan) -> None:
    flow = AssessmentFlow(plan)
    step = at_criterion(flow, plan, "2")
    reply = step.replies[-1]
    assert [c.label for c in reply.choices] == ["Có", "Không", "Quay lại"]
    assert not reply.typed_answer
    assert "Xin chọn Có hoặc Không." in text(say(flow, step, "96"))
    step = say(flow, step, "1")
    assert "Đề nghị: có → 10/10 điểm (đang tính: 0/10)." in text(step)


def test_a_photo_as_evidence_can_be_kept_or_dropped_and_too_large_is_refused(
    plan: Plan,
) -> None:
    flow = AssessmentFlow(plan)
    step = say(flow, say(flow, at_criterion(flow, plan, "1"), "97"), "Có biên bản.")
    assert mode(step) == "photo"
    big = photo(flow, step, None, MAX_FILE_BYTES + 1)
    assert "lớn quá" in text(big) and mode(big) == "photo"
    step = photo(flow, step, "k1")
    assert mode(step) == "confirm" and "Ảnh minh chứng: có" in text(step)
    back = press(flow, step, "Quay lại")
    assert mode(back) == "photo" and back.draft is not None and back.draft.photo == "k1"
    assert [c.label for c in back.replies[-1].choices] == [
        "Giữ ảnh đã gửi",
        "Không dùng ảnh",
        "Quay lại",
    ]
    kept_photo = press(flow, back, "Giữ ảnh đã gửi")
    sent = press(flow, kept_photo, "Gửi")
    assert isinstance(sent.effect, SubmitClaim) and sent.effect.photo == "k1"
    dropped = press(flow, back, "Không dùng ảnh")
    assert "Ảnh minh chứng: không" in text(dropped)
    sent = press(flow, dropped, "Gửi")
    assert isinstance(sent.effect, SubmitClaim) and sent.effect.photo is None


def test_going_back_keeps_answers_and_a_stale_button_changes_nothing(plan: Plan) -> None:
    flow = AssessmentFlow(plan)
    value = at_criterion(flow, plan, "1")
    reason = say(flow, value, "97")
    step = say(flow, reason, "Có biên bản.")
    back = press(flow, step, "Quay lại")
    assert mode(back) == "reason" and back.draft is not None
    assert (back.draft.value, back.draft.reason) == ("97", "Có biên bản.")
    stale_choice = value.replies[-1].choices[0]  # "Quay lại" of the value screen
    stale = flow.handle(kept(back), Input("choice", stale_choice.value))
    assert "không còn dùng được" in text(stale) and mode(stale) == "reason"
    to_value = press(flow, press(flow, back, "Quay lại"), "Quay lại")
    assert mode(to_value) == "criterion"
    to_menu = say(flow, to_value, "Quay lại")
    assert mode(to_menu) == "menu" and "Tổng: 36/65 điểm" in text(to_menu)


def test_cancel_closes_at_once_before_a_claim_and_asks_once_one_is_begun(plan: Plan) -> None:
    flow = AssessmentFlow(plan)
    start = flow.start(board(plan), "thon_1")
    assert flow.cancel(kept(start)).draft is None
    reason = say(flow, at_criterion(flow, plan, "1"), "97")
    asked = flow.cancel(kept(reason))
    assert mode(asked) == "confirm_cancel" and "Những gì đã nhập sẽ mất" in text(asked)
    goes_on = say(flow, asked, "2")  # Không, làm tiếp
    assert mode(goes_on) == "reason" and goes_on.draft is not None and goes_on.draft.value == "97"
    resumed = flow.resume(kept(flow.cancel(kept(goes_on))))
    assert mode(resumed) == "reason"
    dropped = say(flow, flow.cancel(kept(goes_on)), "1")
    assert dropped.draft is None and "Đã bỏ đề nghị đang làm." in text(dropped)


def test_resume_shows_where_the_head_stopped(plan: Plan) -> None:
    flow = AssessmentFlow(plan)
    reason = say(flow, at_criterion(flow, plan, "1"), "97")
    again = flow.resume(kept(reason))
    assert "Tiếp tục từ chỗ đã dừng" in text(again) and "Gõ lý do" in text(again)
    assert flow.prompt(kept(reason)).text.startswith("Vì sao thôn đề nghị")


def test_a_frozen_board_is_shown_and_nothing_can_be_claimed(plan: Plan) -> None:
    flow = AssessmentFlow(plan)
    step = flow.start(board(plan, final=True), "thon_1")
    assert step.draft is None and step.replies[-1].choices == ()
    shown = text(step)
    assert "Điện lưới: 1.140/1.200 hộ = 95 % → 7,5/10" in shown
    assert (
        "Bảng điểm năm 2026 đã được Hội đồng chốt ngày 20/12/2026 "
        "(Hội đồng TĐKT, họp ngày 20/12/2026), nên không còn tự chấm hay đề nghị chấm lại được."
    ) in shown
    refused = flow.refused("Bảng điểm năm 2026 đã được Hội đồng chốt.")
    assert refused.draft is None and text(refused) == "Bảng điểm năm 2026 đã được Hội đồng chốt."


def test_no_report_due_yet_means_nothing_to_claim_on_reporting(plan: Plan) -> None:
    flow = AssessmentFlow(plan)
    step = say(flow, flow.start(board(plan, as_of=date(2026, 1, 10)), "thon_1"), "2")
    refused = say(flow, step, "4")
    assert "Chưa có báo cáo nào đến hạn" in text(refused) and mode(refused) == "criterion"


def test_pending_and_accepted_claims_show_on_the_board(plan: Plan) -> None:
    pending = Claim(3, 2026, "thon_1", "dung_han", D(9), "Gửi qua giấy.", 1, CREATED)
    accepted = Claim(
        2, 2026, "thon_1", "dien", D(100), "Đã đủ.", 1, CREATED, ACCEPTED, reviewed_by=5
    )
    flow = AssessmentFlow(plan)
    shown = text(flow.start(board(plan, claims=(accepted, pending), accepted=accepted), "thon_1"))
    assert (
        "Điện lưới: 1.140/1.200 hộ = 95 % → 7,5/10; theo đề nghị đã được chấp nhận (100 %): 10/10"
    ) in shown
    assert "Đề nghị đang chờ xét: Báo cáo đúng hạn: 9 báo cáo đúng hạn" in shown
    assert "Tổng: 38,5/65 điểm" in shown


def test_every_screen_reads_on_zalo_without_button_words(plan: Plan) -> None:
    flow = AssessmentFlow(plan)
    screens: list[Reply] = []
    step = flow.start(board(plan), "thon_1")
    for typed in ("2", "1", "1.5", "97", "Có biên bản.", "1"):
        screens += step.replies
        step = say(flow, step, typed)
    screens += step.replies
    screens += flow.cancel(kept(step)).replies
    screens += flow.start(board(plan, final=True), "thon_1").replies
    assert button_words([numbered_menu(r) for r in screens]) == []
    assert "1. Đồng ý   2. Đề nghị chấm lại   3. Để sau" in numbered_menu(screens[0])


def test_the_review_card_and_what_the_head_is_told(plan: Plan) -> None:
    claim = Claim(4, 2026, "thon_1", "dung_han", D(9), "Tháng 3 gửi qua giấy.", 1, CREATED)
    current = village_scores(plan)[3]
    card = claim_card(plan, claim, current, 10, "Anh Ba", True)
    assert "Đề nghị chấm lại số 4 · Thôn 1 · năm 2026 · chờ xét" in card
    assert "Tiêu chí: Báo cáo đúng hạn" in card
    assert "Đang tính: Báo cáo đúng hạn: 8/10 báo cáo → 12/15" in card
    assert "Thôn đề nghị: 9 báo cáo đúng hạn → 13,5/15" in card
    assert "Lý do: Tháng 3 gửi qua giấy." in card and "Người gửi: Anh Ba, ngày 24/11/2026" in card
    assert "Ảnh minh chứng: có" in card
    assert [c.value for c in claim_buttons(claim)] == [
        "/tucham_ds 4 chapnhan",
        "/tucham_ds 4 tuchoi",
    ]
    refused = replace(claim, status=REFUSED, comment="Không có sổ theo dõi.")
    assert claim_buttons(refused) == ()
    assert "Ý kiến của thường trực: Không có sổ theo dõi." in told_refused(plan, refused)
    accepted = replace(claim, status=ACCEPTED)
    told = told_accepted(plan, accepted, D("13.5"), D("37.5"), D(65))
    assert "Đề nghị số 4 (Báo cáo đúng hạn: 9 báo cáo đúng hạn) đã được chấp nhận." in told
    assert "Điểm tiêu chí: 13,5/15; tổng điểm tạm tính của Thôn 1: 37,5/65." in told
    assert criterion_line(plan, row_of(current), 10) == "Báo cáo đúng hạn: 8/10 báo cáo → 12/15"


def test_a_baseline_taken_from_the_first_report_says_which_period_it_is(plan: Plan) -> None:
    """No baseline form filled: the village's first value in the window stands in, and the
    line names that period, never the plan's reference year."""
    first = replace(
        board(plan),
        villages=tuple(
            replace(
                v,
                criteria=tuple(
                    replace(
                        s,
                        evidence=replace(s.evidence, baseline_period="2026-02"),
                    )
                    if s.criterion.id == "dien_tang"
                    else s
                    for s in v.criteria
                ),
            )
            for v in board(plan).villages
        ),
    )
    shown = text(AssessmentFlow(plan).start(first, "thon_1"))
    assert "Tăng hộ có điện: 96 % (mốc là tháng 2/2026: 95 %), tăng 1 điểm % → 5/10" in shown
    assert "năm 2023" not in shown
