"""The form engine step by step: pure, no channel, no database."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.plan.model import Plan, check_plan_text, load_plan
from bot.reports.engine import Begin, Draft, FormEngine, FormOption, Input, Step, Submit

PLAN = Path(__file__).parent / "plans" / "small.yaml"


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load_plan(PLAN)


@pytest.fixture
def engine(plan: Plan) -> FormEngine:
    return FormEngine(plan)


def start(engine: FormEngine, previous: dict[str, Any] | None = None, each: bool = True) -> Step:
    """The first question of the small plan's November report; with last period's answers,
    through the prefill screen's "Trả lời từng câu" (``each``) or left on that screen."""
    step = engine.open("thon_1", [FormOption("thang", "2026-11")])
    assert isinstance(step.effect, Begin)
    assert step.effect == Begin("thang", "2026-11", "thon_1")
    assert step.draft is not None
    step = engine.begin(step.draft, previous or {}, "2026-10" if previous else None)
    assert step.draft is not None
    if step.draft.mode == "prefill" and each:
        step = press(engine, step, "Trả lời từng câu")
    return step


def say(engine: FormEngine, step: Step, text: str) -> Step:
    assert step.draft is not None
    return engine.handle(Draft.from_dict(step.draft.to_dict()), Input("text", text))


def press(engine: FormEngine, step: Step, label: str) -> Step:
    reply = step.replies[-1]
    values = [c.value for c in reply.choices if c.label == label]
    assert values, f"no choice {label!r} in {[c.label for c in reply.choices]}"
    assert step.draft is not None
    return engine.handle(Draft.from_dict(step.draft.to_dict()), Input("choice", values[0]))


def text_of(step: Step) -> str:
    return "\n".join(r.text for r in step.replies)


def labels(step: Step) -> list[str]:
    return [c.label for c in step.replies[-1].choices]


# Last period's report of Thôn 1 (October), and what was sent for November.
LAST_PERIOD: dict[str, Any] = {
    "tong_ho": "400",
    "ho_co_dien": "380",
    "thu_gom_rac": True,
    "dien_tich_lua": "12.5",
    "loai": "Thôn văn hóa",
    "ghi_chu": "Đường đang sửa",
}
SENT: dict[str, Any] = LAST_PERIOD | {"tong_ho": "410", "ho_co_dien": "395", "ghi_chu": None}


def corrected(engine: FormEngine, version: int = 1) -> Step:
    """The summary of November's report, sent already (``version``), opened to correct."""
    step = engine.open("thon_1", [FormOption("thang", "2026-11", sent=True)])
    assert step.effect == Begin("thang", "2026-11", "thon_1", correct=True)
    assert step.draft is not None
    return engine.begin(step.draft, LAST_PERIOD, "2026-10", SENT, version)


def fill_to_summary(engine: FormEngine) -> Step:
    step = start(engine)
    for answer in ("412", "400", "co", "12,5", "thon van hoa", "Bỏ qua"):
        step = say(engine, step, answer)
    assert step.draft is not None and step.draft.mode == "summary"
    return step


def test_first_question_shows_ask_unit_and_no_back(engine: FormEngine) -> None:
    step = start(engine)
    assert "Thôn hiện có bao nhiêu hộ?" in text_of(step)
    assert "hộ" in text_of(step)
    assert "Câu 1/6" in text_of(step)
    assert labels(step) == []


def test_previous_value_is_a_hint(engine: FormEngine) -> None:
    step = start(engine, {"tong_ho": "412"})
    assert "Kỳ trước: 412 hộ" in text_of(step)


def test_vietnamese_numbers_are_read(engine: FormEngine) -> None:
    step = say(engine, start(engine), "1.234 hộ")
    assert step.draft is not None
    assert step.draft.answers["tong_ho"] == "1234"
    assert "Đã ghi: 1.234 hộ" in text_of(step)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("nhiều lắm", "chưa hiểu"),
        ("-5", "không được âm"),
        ("1,5", "số nguyên"),
        ("0", "từ 1 hộ trở lên"),
        ("6000", "không được quá 5.000 hộ"),
        ("", "Xin gõ câu trả lời"),
    ],
)
def test_bad_numbers_get_a_specific_reply_and_the_same_question(
    engine: FormEngine, typed: str, message: str
) -> None:
    step = say(engine, start(engine), typed)
    assert message in text_of(step)
    assert "Thôn hiện có bao nhiêu hộ?" in text_of(step)
    assert step.draft is not None and step.draft.index == 0 and step.draft.answers == {}


def test_ambiguous_number_is_never_stored_silently(engine: FormEngine) -> None:
    step = say(engine, start(engine), "412")
    step = say(engine, step, "12.5")
    assert step.draft is not None
    # 12,5 is not a whole number of households: only 125 is offered, to confirm
    assert step.draft.mode == "confirm_reading"
    assert "ho_co_dien" not in step.draft.answers
    assert "Bạn gõ “12.5”: 125 hộ, đúng không?" in text_of(step)
    assert labels(step) == ["Đúng", "Nhập lại"]
    retyped = press(engine, step, "Nhập lại")
    assert retyped.draft is not None and "ho_co_dien" not in retyped.draft.answers
    assert retyped.draft.mode == "ask" and "Bao nhiêu hộ" in text_of(retyped)
    chosen = press(engine, step, "Đúng")
    assert chosen.draft is not None and chosen.draft.answers["ho_co_dien"] == "125"


def test_ambiguous_on_decimal_question_offers_both_readings(engine: FormEngine) -> None:
    step = fill_to_summary(engine)
    step = press(engine, step, "Sửa")
    step = press(engine, step, "Diện tích lúa")
    step = say(engine, step, "1.234")
    assert step.draft is not None and step.draft.mode == "ambiguous"
    assert labels(step)[:2] == ["1,234 ha", "1.234 ha"]
    step = say(engine, step, "1")  # a number picks a choice on a choice-only screen
    assert step.draft is not None
    assert step.draft.answers["dien_tich_lua"] == "1.234"
    assert step.draft.mode == "summary"


def test_at_most_is_checked(engine: FormEngine) -> None:
    step = say(engine, start(engine), "100")
    step = say(engine, step, "120")
    assert "Tổng số hộ" in text_of(step) and "lớn hơn" in text_of(step)
    assert step.draft is not None and "ho_co_dien" not in step.draft.answers


def test_far_from_previous_needs_confirmation(engine: FormEngine) -> None:
    step = start(engine, {"tong_ho": "400"})
    step = say(engine, step, "900")
    assert step.draft is not None and step.draft.mode == "confirm_far"
    assert "tong_ho" not in step.draft.answers
    kept = press(engine, step, "Đúng, giữ 900 hộ")
    assert kept.draft is not None and kept.draft.answers["tong_ho"] == "900"
    retyped = press(engine, step, "Nhập lại")
    assert retyped.draft is not None and "tong_ho" not in retyped.draft.answers
    close = say(engine, start(engine, {"tong_ho": "400"}), "410")
    assert close.draft is not None and close.draft.answers["tong_ho"] == "410"


def test_yes_no_by_button_or_typed_without_accents(engine: FormEngine) -> None:
    step = say(engine, say(engine, start(engine), "412"), "400")
    assert labels(step) == ["Có", "Không", "Quay lại"]
    assert say(engine, step, "khong").draft.answers["thu_gom_rac"] is False  # type: ignore[union-attr]
    assert say(engine, step, "CÓ").draft.answers["thu_gom_rac"] is True  # type: ignore[union-attr]
    assert press(engine, step, "Không").draft.answers["thu_gom_rac"] is False  # type: ignore[union-attr]
    wrong = say(engine, step, "có lẽ")
    assert "Xin chọn" in text_of(wrong)


def test_back_keeps_answers_and_skip_only_when_optional(engine: FormEngine) -> None:
    step = say(engine, start(engine), "412")
    assert "Bỏ qua" not in labels(step)
    skipped = say(engine, step, "bo qua")
    assert "không bỏ qua được" in text_of(skipped)
    back = say(engine, step, "quay lai")
    assert back.draft is not None and back.draft.index == 0
    assert back.draft.answers["tong_ho"] == "412"


def test_photo_sticker_where_a_number_is_expected(engine: FormEngine) -> None:
    step = start(engine)
    assert step.draft is not None
    photo = engine.handle(step.draft, Input("photo", file_id="X"))
    assert "không phải ảnh" in text_of(photo)
    other = engine.handle(step.draft, Input("other"))
    assert "chưa đọc được" in text_of(other)


def test_long_text_is_refused_with_the_limit(engine: FormEngine) -> None:
    step = fill_to_summary(engine)
    step = press(engine, step, "Sửa")
    step = press(engine, step, "Ghi chú")
    refused = say(engine, step, "x" * 1001)
    assert "1.000" in text_of(refused) and "1.001" in text_of(refused)
    ok = say(engine, step, "Đường thôn đang sửa")
    assert ok.draft is not None and ok.draft.answers["ghi_chu"] == "Đường thôn đang sửa"


def test_summary_and_send(engine: FormEngine) -> None:
    step = fill_to_summary(engine)
    summary = text_of(step)
    assert "1. Tổng số hộ: 412 hộ" in summary
    assert "4. Diện tích lúa: 12,5 ha" in summary
    assert "6. Ghi chú: (bỏ qua)" in summary
    assert labels(step) == ["Gửi", "Sửa", "Hủy"]
    sent = say(engine, step, "gui")
    assert isinstance(sent.effect, Submit)
    assert sent.effect.answers == {
        "tong_ho": "412",
        "ho_co_dien": "400",
        "thu_gom_rac": True,
        "dien_tich_lua": "12.5",
        "loai": "Thôn văn hóa",
        "ghi_chu": None,
    }
    assert sent.draft is not None
    receipt = engine.submitted(sent.draft, 2)
    assert receipt.draft is None
    assert "Thôn 1" in text_of(receipt) and "tháng 11/2026" in text_of(receipt)
    assert "phiên bản 2" in text_of(receipt)


def test_changing_an_answer_is_checked_at_once_against_the_others(engine: FormEngine) -> None:
    step = fill_to_summary(engine)
    step = press(engine, step, "Sửa")
    step = press(engine, step, "Tổng số hộ")
    assert "Hiện tại: 412 hộ" in text_of(step)
    step = say(engine, step, "300")  # fewer households than households with power: refused
    assert step.draft is not None and step.draft.mode == "ask" and step.draft.index == 0
    assert step.draft.answers["tong_ho"] == "412"
    assert "300 hộ nhỏ hơn “Hộ có điện” (400 hộ)" in text_of(step)
    back = press(engine, step, "Quay lại")  # to the summary, nothing changed
    assert back.draft is not None and back.draft.mode == "summary"
    lower = say(engine, back, "2: 250")  # lower the households with power first
    assert lower.draft is not None and lower.draft.answers["ho_co_dien"] == "250"
    done = say(engine, lower, "1: 300")
    assert done.draft is not None and done.draft.mode == "summary"
    assert done.draft.answers["tong_ho"] == "300"


def test_sending_checks_every_answer_again(engine: FormEngine) -> None:
    step = fill_to_summary(engine)
    assert step.draft is not None
    step.draft.answers["tong_ho"] = "300"  # a draft older than the checks
    blocked = press(engine, step, "Gửi")
    assert blocked.effect is None
    assert "Chưa gửi được" in text_of(blocked)
    assert blocked.draft is not None and blocked.draft.index == 1


def test_stale_button_changes_nothing(engine: FormEngine) -> None:
    step = say(engine, say(engine, start(engine), "412"), "400")
    old_yes = step.replies[-1].choices[0].value
    step = press(engine, step, "Có")
    assert step.draft is not None
    again = engine.handle(step.draft, Input("choice", old_yes))
    assert "không còn dùng được" in text_of(again)
    assert again.draft is not None and again.draft.index == step.draft.index


def test_cancel_asks_first_and_no_resumes(engine: FormEngine) -> None:
    step = say(engine, start(engine), "412")
    assert step.draft is not None
    asked = engine.cancel(step.draft)
    assert asked.draft is not None and asked.draft.mode == "confirm_cancel"
    resumed = press(engine, asked, "Không, làm tiếp")
    assert resumed.draft is not None and resumed.draft.mode == "ask"
    assert resumed.draft.answers == {"tong_ho": "412"}
    dropped = press(engine, asked, "Có, bỏ bản nháp")
    assert dropped.draft is None


def test_several_forms_and_a_late_period(engine: FormEngine) -> None:
    options = [FormOption("thang", "2026-11", sent=False, late_period="2026-10")]
    step = engine.open("thon_1", options)
    assert step.draft is not None and step.draft.mode == "pick_period"
    assert labels(step) == ["Kỳ tháng 10/2026 (trễ hạn)", "Kỳ tháng 11/2026"]
    late = press(engine, step, "Kỳ tháng 10/2026 (trễ hạn)")
    assert late.effect == Begin("thang", "2026-10", "thon_1")
    nothing = engine.open("thon_1", [FormOption("thang", None)])
    assert nothing.draft is None


def test_draft_round_trips_through_json(engine: FormEngine) -> None:
    step = say(engine, start(engine), "412")
    assert step.draft is not None
    again = Draft.from_dict(json.loads(json.dumps(step.draft.to_dict())))
    assert again == step.draft


def test_every_choice_value_fits_telegram_callback_data(engine: FormEngine) -> None:
    step = fill_to_summary(engine)
    step = press(engine, step, "Sửa")
    for reply in step.replies:
        for choice in reply.choices:
            assert 1 <= len(choice.value.encode()) <= 64


def test_a_menu_entry_is_chosen_by_its_name_without_the_note(engine: FormEngine) -> None:
    step = engine.open("thon_1", [FormOption("thang", "2026-11", late_period="2026-10")])
    assert step.draft is not None and step.draft.mode == "pick_period"
    late = say(engine, step, "ky thang 10/2026")
    assert late.effect == Begin("thang", "2026-10", "thon_1")


# --- numbers are capped: 15 digits, 999 999 999 999 999 ---------------------------------


def at_rice_area(engine: FormEngine) -> Step:
    """At “Diện tích lúa” (decimal, optional, no ``max`` in the plan)."""
    step = start(engine)
    for answer in ("412", "400", "co"):
        step = say(engine, step, answer)
    assert "Diện tích lúa bao nhiêu ha?" in text_of(step)
    return step


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("1" * 16, "Số này dài quá: tối đa 15 chữ số."),
        ("1" * 25, "Số này dài quá: tối đa 15 chữ số."),
        ("1" * 26, "Số này dài quá: tối đa 15 chữ số."),
        ("1" * 40, "Số này dài quá: tối đa 15 chữ số."),
        ("9" * 10_000, "Số này dài quá: tối đa 15 chữ số."),
        ("0,0000000000000001", "Số này dài quá: tối đa 15 chữ số."),
        ("1.000.000.000.000.000", "Số này lớn quá: tối đa 999.999.999.999.999 ha."),
        ("1" + "0" * 30, "Số này lớn quá: tối đa 999.999.999.999.999 ha."),
        ("1000000 tỷ", "Số này lớn quá: tối đa 999.999.999.999.999 ha."),
        ("1.000.000.000 triệu", "Số này lớn quá: tối đa 999.999.999.999.999 ha."),
    ],
)
def test_a_number_beyond_the_limits_is_refused_and_the_question_stays(
    engine: FormEngine, typed: str, message: str
) -> None:
    step = at_rice_area(engine)
    refused = say(engine, step, typed)
    assert message in text_of(refused)
    assert "Diện tích lúa bao nhiêu ha?" in text_of(refused)
    assert refused.draft is not None and refused.draft.mode == "ask"
    assert refused.draft.index == 3 and "dien_tich_lua" not in refused.draft.answers


@pytest.mark.parametrize(
    ("typed", "stored", "shown"),
    [
        ("999.999.999.999.999", "999999999999999", "999.999.999.999.999 ha"),
        ("999999 tỷ", "999999000000000", "999.999.000.000.000 ha"),
        ("12345678901234,5", "12345678901234.5", "12.345.678.901.234,5 ha"),
        ("0,000000000000001", "0.000000000000001", "0,000000000000001 ha"),
        ("０１２３", "123", "123 ha"),  # full-width digits
        ("1\u200b234,5", "1234.5", "1.234,5 ha"),  # a zero-width space inside
    ],
)
def test_numbers_within_the_limits_are_stored(
    engine: FormEngine, typed: str, stored: str, shown: str
) -> None:
    step = say(engine, at_rice_area(engine), typed)
    assert step.draft is not None and step.draft.answers["dien_tich_lua"] == stored
    assert f"Đã ghi: {shown}." in text_of(step)


def test_the_question_max_is_said_rather_than_the_ceiling(engine: FormEngine) -> None:
    step = say(engine, start(engine), "1.000.000.000.000.000")
    assert "Giá trị không được quá 5.000 hộ." in text_of(step)
    step = say(engine, start(engine), "1" * 30)
    assert "Số này dài quá: tối đa 15 chữ số." in text_of(step)


def test_a_reading_beyond_the_limits_is_not_offered(engine: FormEngine) -> None:
    step = say(engine, at_rice_area(engine), "1.5" + "0" * 20)
    assert step.draft is not None and step.draft.answers["dien_tich_lua"] == "1.5"


@pytest.mark.parametrize("huge", ["1" * 16, "1" * 25, "1" * 30, "1" * 60, "1E+40", "NaN"])
def test_an_old_draft_holding_a_huge_number_goes_back_to_the_question(
    engine: FormEngine, huge: str
) -> None:
    """Drafts saved before the limits may hold any number: it is shown without raising,
    never sent, and the person is asked the question again."""
    saved = fill_to_summary(engine).draft
    assert saved is not None
    data = saved.to_dict()
    data["answers"]["dien_tich_lua"] = huge
    step = Step([engine.prompt(Draft.from_dict(data))], Draft.from_dict(data))
    assert "Diện tích lúa" in text_of(step)
    blocked = press(engine, step, "Gửi")
    assert blocked.effect is None
    assert "Chưa gửi được." in text_of(blocked)
    assert "Diện tích lúa bao nhiêu ha?" in text_of(blocked)
    assert blocked.draft is not None and blocked.draft.index == 3 and blocked.draft.editing
    fixed = say(engine, blocked, "12,5")
    assert fixed.draft is not None and fixed.draft.mode == "summary"
    sent = press(engine, fixed, "Gửi")
    assert isinstance(sent.effect, Submit) and sent.effect.answers["dien_tich_lua"] == "12.5"


def test_an_old_confirmation_of_a_huge_number_is_checked_again(engine: FormEngine) -> None:
    step = start(engine, {"tong_ho": "400"})
    step = say(engine, step, "900")
    assert step.draft is not None and step.draft.mode == "confirm_far"
    data = step.draft.to_dict()
    data["pending"] = ["1" * 30]
    old = Step(step.replies, Draft.from_dict(data))
    kept = press(engine, old, "Đúng, giữ 900 hộ")
    assert kept.draft is not None and "tong_ho" not in kept.draft.answers
    assert "không được quá 5.000 hộ" in text_of(kept)


@pytest.mark.parametrize("typed", ["²", "1" * 5000, "٣", "１"])
def test_odd_digits_on_a_choice_screen_never_raise(engine: FormEngine, typed: str) -> None:
    step = say(engine, say(engine, start(engine), "412"), "400")
    assert labels(step) == ["Có", "Không", "Quay lại"]
    answered = say(engine, step, typed)
    assert answered.draft is not None
    if typed == "１":  # a full-width 1 is the first choice
        assert answered.draft.answers["thu_gom_rac"] is True
    else:
        assert "thu_gom_rac" not in answered.draft.answers


# --- the plan edited between two messages -------------------------------------------------


def edited_plan(change: Callable[[dict[str, Any]], None]) -> Plan:
    """tests/plans/small.yaml, changed by ``change`` (on its YAML data), checked."""
    data = yaml.safe_load(PLAN.read_text(encoding="utf-8"))
    change(data)
    plan, problems = check_plan_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    assert plan is not None, problems
    return plan


def questions_of(data: dict[str, Any], form_id: str = "thang") -> list[dict[str, Any]]:
    [form] = [f for f in data["forms"] if f["id"] == form_id]
    questions: list[dict[str, Any]] = form["questions"]
    return questions


def question_of(data: dict[str, Any], question_id: str) -> dict[str, Any]:
    [question] = [q for q in questions_of(data) if q["id"] == question_id]
    return question


def forget_question(data: dict[str, Any], question_id: str) -> None:
    """Nothing else in the plan refers to ``question_id`` (indicators, ``at_most``)."""
    data["indicators"] = [
        i
        for i in data["indicators"]
        if question_id not in (*i.get("ratio", []), i.get("share_yes"), i.get("sum"))
    ]
    for question in questions_of(data):
        if question.get("at_most") == question_id:
            del question["at_most"]


def drop_question(data: dict[str, Any], question_id: str) -> None:
    forget_question(data, question_id)
    questions_of(data).remove(question_of(data, question_id))


def retype(data: dict[str, Any], question_id: str, kind: str, **extra: Any) -> None:
    forget_question(data, question_id)
    question = question_of(data, question_id)
    for key in ("unit", "min", "max", "at_most", "choices"):
        question.pop(key, None)
    question.update(type=kind, **extra)


def saved_json(step: Step) -> dict[str, Any]:
    """The draft as the database keeps it (JSON), and reads it back."""
    assert step.draft is not None
    loaded: dict[str, Any] = json.loads(json.dumps(step.draft.to_dict()))
    return loaded


def reload(engine: FormEngine, saved: dict[str, Any]) -> tuple[Draft | None, list[str]]:
    return engine.reconcile(Draft.from_dict(saved))


def screen(engine: FormEngine, draft: Draft) -> Step:
    """The screen shown after reconciling: the draft as it would be saved, and its prompt."""
    return Step([engine.prompt(draft)], draft)


def test_a_form_gone_from_the_plan_drops_the_draft(engine: FormEngine) -> None:
    saved = saved_json(say(engine, start(engine), "412"))
    plan = edited_plan(lambda d: d["forms"][0].update(id="thang_2026"))
    draft, notes = reload(FormEngine(plan), saved)
    assert draft is None
    assert notes == [
        "Biểu mẫu “Báo cáo tháng” không còn trong kế hoạch nên bản nháp đã được bỏ. "
        "Gõ /baocao để xem các báo cáo đang mở."
    ]
    # a draft saved before drafts kept the form's title: named by its id
    del saved["form_title"]
    draft, notes = reload(FormEngine(plan), saved)
    assert draft is None and "“thang”" in notes[0]


def test_a_village_gone_or_another_kind_of_period_drops_the_draft(engine: FormEngine) -> None:
    saved = saved_json(say(engine, start(engine), "412"))
    no_village = edited_plan(lambda d: d.update(villages=["Thôn 2", "Thôn 3"]))
    draft, notes = reload(FormEngine(no_village), saved)
    assert draft is None and "Thôn “thon_1” không còn trong kế hoạch" in notes[0]
    quarterly = edited_plan(lambda d: d["forms"][0].update(period="quarter"))
    draft, notes = reload(FormEngine(quarterly), saved)
    assert draft is None and "nay báo cáo theo kỳ khác" in notes[0] and "2026-11" in notes[0]


def test_a_question_removed_drops_its_answer_and_the_form_goes_on(engine: FormEngine) -> None:
    step = at_rice_area(engine)  # tong_ho, ho_co_dien, thu_gom_rac answered
    saved = saved_json(step)
    new = FormEngine(edited_plan(lambda d: drop_question(d, "thu_gom_rac")))
    draft, notes = reload(new, saved)
    assert draft is not None
    assert notes == ["Câu “Thu gom rác” không còn trong biểu mẫu nên câu trả lời đã được bỏ."]
    assert draft.answers == {"tong_ho": "412", "ho_co_dien": "400"}
    step = screen(new, draft)
    assert "Câu 3/5" in text_of(step) and "Diện tích lúa bao nhiêu ha?" in text_of(step)
    for answer in ("12,5", "thon van hoa", "Bỏ qua"):
        step = say(new, step, answer)
    sent = press(new, step, "Gửi")
    assert isinstance(sent.effect, Submit)
    assert sent.effect.answers == {
        "tong_ho": "412",
        "ho_co_dien": "400",
        "dien_tich_lua": "12.5",
        "loai": "Thôn văn hóa",
        "ghi_chu": None,
    }


def test_a_question_added_before_is_asked_before_sending(engine: FormEngine) -> None:
    saved = saved_json(at_rice_area(engine))

    def add_first(data: dict[str, Any]) -> None:
        new_question = {"id": "so_dan", "ask": "Thôn có bao nhiêu người?", "label": "Số dân"}
        questions_of(data).insert(0, {**new_question, "type": "integer", "unit": "người"})

    new = FormEngine(edited_plan(add_first))
    draft, notes = reload(new, saved)
    assert draft is not None and notes == []  # still on the same question
    step = screen(new, draft)
    assert "Câu 5/7" in text_of(step) and "Diện tích lúa bao nhiêu ha?" in text_of(step)
    for answer in ("12,5", "thon van hoa", "Bỏ qua"):
        step = say(new, step, answer)
    assert "Thôn có bao nhiêu người?" in text_of(step)  # the new one, not the summary
    step = say(new, step, "1.500")
    assert step.draft is not None and step.draft.mode == "summary"
    assert "1. Số dân: 1.500 người" in text_of(step)
    sent = press(new, step, "Gửi")
    assert isinstance(sent.effect, Submit) and sent.effect.answers["so_dan"] == "1500"
    assert sent.effect.answers["thu_gom_rac"] is True


def lower_max(data: dict[str, Any]) -> None:
    question_of(data, "tong_ho")["max"] = 300
    question_of(data, "ho_co_dien")["at_most"] = None


@pytest.mark.parametrize(
    ("change", "question", "label", "again", "stored"),
    [
        (  # a choice no longer among the choices
            lambda d: question_of(d, "loai").update(choices=["Đạt chuẩn", "Chưa đạt"]),
            "loai",
            "Danh hiệu",
            "Đạt chuẩn",
            "Đạt chuẩn",
        ),
        (  # integer → yes/no
            lambda d: retype(d, "ho_co_dien", "yes_no"),
            "ho_co_dien",
            "Hộ có điện",
            "Có",
            True,
        ),
        (  # a number now above max
            lower_max,
            "tong_ho",
            "Tổng số hộ",
            "250",
            "250",
        ),
        (  # yes/no → text
            lambda d: retype(d, "thu_gom_rac", "text"),
            "thu_gom_rac",
            "Thu gom rác",
            "Đã đăng ký từ tháng 3",
            "Đã đăng ký từ tháng 3",
        ),
        (  # skipped, but no longer optional
            lambda d: question_of(d, "dien_tich_lua").update(optional=False),
            "dien_tich_lua",
            "Diện tích lúa",
            "7",
            "7",
        ),
    ],
)
def test_an_answer_that_no_longer_fits_is_dropped_and_asked_again(
    engine: FormEngine,
    change: Callable[[dict[str, Any]], None],
    question: str,
    label: str,
    again: str,
    stored: Any,
) -> None:
    step = start(engine)
    for answer in ("412", "400", "co", "Bỏ qua", "thon van hoa", "Bỏ qua"):
        step = say(engine, step, answer)
    saved = saved_json(step)
    new = FormEngine(edited_plan(change))
    draft, notes = reload(new, saved)
    assert draft is not None
    assert notes == [
        f"Câu “{label}” đã được sửa trong kế hoạch nên câu trả lời trước đó đã được bỏ; "
        "xin trả lời lại."
    ]
    assert question not in draft.answers
    assert draft.mode == "ask" and draft.editing
    assert draft.seq > saved["seq"]  # the summary's buttons no longer work
    old_send = Step(step.replies, draft)
    stale = press(new, old_send, "Gửi")
    assert stale.effect is None and "không còn dùng được" in text_of(stale)
    step = screen(new, draft)
    answered = press(new, step, again) if again in labels(step) else say(new, step, again)
    assert answered.draft is not None and answered.draft.mode == "summary"
    sent = press(new, answered, "Gửi")
    assert isinstance(sent.effect, Submit)
    assert sent.effect.answers[question] == stored
    kept = {k: v for k, v in saved["answers"].items() if k != question}
    assert {k: sent.effect.answers[k] for k in kept} == kept


def test_the_current_question_removed_goes_on_from_the_first_unanswered(
    engine: FormEngine,
) -> None:
    saved = saved_json(say(engine, start(engine), "412"))  # on “Hộ có điện”
    new = FormEngine(edited_plan(lambda d: drop_question(d, "ho_co_dien")))
    draft, notes = reload(new, saved)
    assert draft is not None
    assert notes == ["Câu hỏi bạn đang trả lời không còn trong biểu mẫu."]
    step = screen(new, draft)
    assert "Thôn đã đăng ký thu gom rác chưa?" in text_of(step)
    for answer in ("co", "Bỏ qua", "thon van hoa", "Bỏ qua"):
        step = say(new, step, answer)
    sent = press(new, step, "Gửi")
    assert isinstance(sent.effect, Submit) and "ho_co_dien" not in sent.effect.answers


def test_changed_choices_on_the_current_question_make_its_buttons_stale(
    engine: FormEngine,
) -> None:
    step = start(engine)
    for answer in ("412", "400", "co", "Bỏ qua"):
        step = say(engine, step, answer)
    assert labels(step) == ["Thôn văn hóa", "Chưa đạt", "Quay lại"]
    saved = saved_json(step)
    choices = ["Chưa đạt", "Thôn văn hóa", "Đang phấn đấu"]
    new = FormEngine(edited_plan(lambda d: question_of(d, "loai").update(choices=choices)))
    draft, notes = reload(new, saved)
    assert draft is not None and notes == ["Câu “Danh hiệu” vừa được sửa trong kế hoạch."]
    old_button = press(new, Step(step.replies, draft), "Thôn văn hóa")  # was c0, now c1
    assert "không còn dùng được" in text_of(old_button)
    assert old_button.draft is not None and "loai" not in old_button.draft.answers
    fresh = screen(new, draft)
    assert labels(fresh) == [*choices, "Quay lại"]
    chosen = press(new, fresh, "Thôn văn hóa")
    assert chosen.draft is not None and chosen.draft.answers["loai"] == "Thôn văn hóa"


def test_an_old_draft_past_the_end_goes_to_the_summary(engine: FormEngine) -> None:
    step = start(engine)
    for answer in ("412", "400", "co", "Bỏ qua", "thon van hoa"):
        step = say(engine, step, answer)
    saved = saved_json(step)  # on “Ghi chú”, the 6th
    for key in ("question", "shape", "labels", "form_title"):  # saved before they existed
        del saved[key]
    new = FormEngine(edited_plan(lambda d: drop_question(d, "ghi_chu")))
    draft, notes = reload(new, saved)
    assert draft is not None and draft.mode == "summary"
    assert notes == ["Biểu mẫu “Báo cáo tháng” vừa được sửa trong kế hoạch."]
    sent = press(new, screen(new, draft), "Gửi")
    assert isinstance(sent.effect, Submit) and "ghi_chu" not in sent.effect.answers


def test_a_number_to_choose_on_a_question_now_yes_no_is_forgotten(engine: FormEngine) -> None:
    step = say(engine, say(engine, start(engine), "412"), "12.5")
    assert step.draft is not None and step.draft.mode == "confirm_reading"
    new = FormEngine(edited_plan(lambda d: retype(d, "ho_co_dien", "yes_no")))
    draft, notes = reload(new, saved_json(step))
    assert draft is not None and draft.mode == "ask" and draft.pending == []
    assert notes == ["Câu “Hộ có điện” vừa được sửa trong kế hoạch."]
    old = press(new, Step(step.replies, draft), "Đúng")
    assert "không còn dùng được" in text_of(old)
    step = press(new, screen(new, draft), "Có")
    assert step.draft is not None and step.draft.answers["ho_co_dien"] is True


def test_a_confirmation_kept_after_max_was_lowered_is_checked_again(engine: FormEngine) -> None:
    step = say(engine, start(engine, {"tong_ho": "400"}), "900")
    assert step.draft is not None and step.draft.mode == "confirm_far"
    new = FormEngine(edited_plan(lambda d: question_of(d, "tong_ho").update(max=800)))
    draft, notes = reload(new, saved_json(step))
    assert draft is not None and draft.mode == "confirm_far" and notes == []
    kept = press(new, Step(step.replies, draft), "Đúng, giữ 900 hộ")
    assert "Giá trị không được quá 800 hộ." in text_of(kept)
    assert kept.draft is not None and "tong_ho" not in kept.draft.answers


def test_the_edit_menu_after_questions_moved_is_back_to_the_summary(engine: FormEngine) -> None:
    step = press(engine, fill_to_summary(engine), "Sửa")
    assert step.draft is not None and step.draft.mode == "edit_pick"
    new = FormEngine(edited_plan(lambda d: questions_of(d).reverse()))
    draft, notes = reload(new, saved_json(step))
    assert draft is not None and draft.mode == "summary"
    assert notes == ["Biểu mẫu “Báo cáo tháng” vừa được sửa trong kế hoạch."]
    stale = press(new, Step(step.replies, draft), "Tổng số hộ")
    assert "không còn dùng được" in text_of(stale)
    sent = press(new, screen(new, draft), "Gửi")
    assert isinstance(sent.effect, Submit)


def test_cancelling_after_the_question_went_resumes_where_it_is_safe(engine: FormEngine) -> None:
    step = say(engine, start(engine), "412")
    assert step.draft is not None
    asked = engine.cancel(step.draft)
    new = FormEngine(edited_plan(lambda d: drop_question(d, "ho_co_dien")))
    draft, notes = reload(new, saved_json(asked))
    assert draft is not None and draft.mode == "confirm_cancel" and notes
    resumed = press(new, screen(new, draft), "Không, làm tiếp")
    assert "Thôn đã đăng ký thu gom rác chưa?" in text_of(resumed)


def two_forms(data: dict[str, Any]) -> None:
    data["forms"].append(
        {
            "id": "quy",
            "title": "Báo cáo quý",
            "period": "quarter",
            "due": 10,
            "questions": [{"id": "so_cuoc_hop", "ask": "Mấy cuộc họp?", "label": "Họp"}],
        }
    )
    data["forms"][1]["questions"][0]["type"] = "integer"


def test_a_menu_of_forms_loses_the_gone_ones(engine: FormEngine) -> None:
    both = FormEngine(edited_plan(two_forms))
    options = [FormOption("thang", "2026-11"), FormOption("quy", "2026-Q4", late_period="2026-Q3")]
    menu = both.open("thon_1", options)
    assert menu.draft is not None and menu.draft.mode == "pick_form"
    saved = saved_json(menu)
    draft, notes = reload(FormEngine(edited_plan(lambda d: None)), saved)
    assert draft is not None and draft.mode == "pick_form" and len(draft.options) == 1
    assert notes == ["Biểu mẫu “Báo cáo quý” không còn trong kế hoạch."]
    stale = press(engine, Step(menu.replies, draft), "Báo cáo quý (còn thiếu kỳ trước)")
    assert "không còn dùng được" in text_of(stale)
    chosen = press(engine, screen(engine, draft), "Báo cáo tháng")
    assert chosen.effect == Begin("thang", "2026-11", "thon_1")
    # choosing the period of a form that is gone: back to the menu of those left
    periods = press(both, menu, "Báo cáo quý (còn thiếu kỳ trước)")
    assert periods.draft is not None and periods.draft.mode == "pick_period"
    draft, notes = reload(engine, saved_json(periods))
    assert draft is not None and draft.mode == "pick_form" and draft.chosen is None
    assert labels(screen(engine, draft)) == ["Báo cáo tháng"]
    # and when none is left, nothing
    weekly = edited_plan(lambda d: d["forms"][0].update(period="week", due=5))
    draft, notes = reload(FormEngine(weekly), saved_json(periods))
    assert draft is None
    assert notes == [
        "Biểu mẫu “Báo cáo tháng” nay báo cáo theo kỳ khác.",
        "Biểu mẫu “Báo cáo quý” không còn trong kế hoạch.",
        "Gõ /baocao để xem các báo cáo đang mở.",
    ]


def every_screen(engine: FormEngine) -> list[Step]:
    """A step on every kind of screen of the report conversation."""
    steps = [start(engine)]
    for answer in ("412", "400", "co", "12,5", "thon van hoa", "Bỏ qua"):
        steps.append(say(engine, steps[-1], answer))
    summary = steps[-1]
    steps.append(press(engine, summary, "Sửa"))
    steps.append(press(engine, steps[-1], "Diện tích lúa"))
    steps.append(say(engine, steps[-1], "1.234"))  # ambiguous
    far = say(engine, start(engine, {"tong_ho": "400"}), "900")  # confirm_far
    steps.append(far)
    prefill = start(engine, LAST_PERIOD, each=False)
    steps.append(prefill)
    steps.append(press(engine, prefill, "Giống kỳ trước"))  # a summary opened prefilled
    steps.append(say(engine, steps[1], "12.5"))  # confirm_reading
    steps.append(corrected(engine))  # the summary of a report sent, to correct
    for step in (steps[2], summary, far, prefill):
        assert step.draft is not None
        steps.append(engine.cancel(Draft.from_dict(step.draft.to_dict())))
    options = [FormOption("thang", "2026-11", late_period="2026-10")]
    steps.append(engine.open("thon_1", options))  # pick_period
    sent = [FormOption("thang", "2026-11", sent=True, corrections=("2026-10",))]
    steps.append(engine.open("thon_1", sent))  # pick_period: two to correct
    modes = {s.draft.mode for s in steps if s.draft is not None}
    assert modes == {
        "ask",
        "ambiguous",
        "confirm_reading",
        "confirm_far",
        "prefill",
        "summary",
        "edit_pick",
        "confirm_cancel",
        "pick_period",
    }
    return steps


EDITS: list[Callable[[dict[str, Any]], None]] = [
    lambda d: None,
    lambda d: drop_question(d, "thu_gom_rac"),
    lambda d: drop_question(d, "ghi_chu"),
    lambda d: (drop_question(d, "tong_ho"), drop_question(d, "ho_co_dien")),
    lambda d: retype(d, "ho_co_dien", "yes_no"),
    lambda d: retype(d, "dien_tich_lua", "choice", choices=["Nhiều", "Ít"]),
    lambda d: retype(d, "loai", "integer"),
    lambda d: question_of(d, "loai").update(choices=["Khác", "Chưa đạt"]),
    lambda d: question_of(d, "dien_tich_lua").update(optional=False, max=1),
    lambda d: questions_of(d).reverse(),
    lambda d: questions_of(d).insert(
        2, {"id": "moi", "ask": "Mới?", "label": "Mới", "type": "photo"}
    ),
    lower_max,
    two_forms,
]


@pytest.mark.parametrize("edit", range(len(EDITS)))
@pytest.mark.parametrize("old", [False, True])
def test_a_reconciled_draft_never_raises(engine: FormEngine, edit: int, old: bool) -> None:
    """Every screen, saved, the plan edited, reconciled: every entry point and every kind of
    input on the result works (``old``: saved before drafts named their question)."""
    new = FormEngine(edited_plan(EDITS[edit]))
    for step in every_screen(engine):
        saved = saved_json(step)
        if old:
            for key in ("question", "shape", "labels", "form_title"):
                saved.pop(key, None)
            for option in saved["options"]:
                option.pop("title", None)
        draft, notes = reload(new, saved)
        if draft is None:
            assert notes
            continue
        again, more = new.reconcile(draft)
        assert again is draft and more == []  # reconciled once is reconciled
        new.expects_photo(draft)
        shown = new.prompt(Draft.from_dict(draft.to_dict()))
        new.resume(Draft.from_dict(draft.to_dict()))
        new.cancel(Draft.from_dict(draft.to_dict()))
        inputs = [Input("choice", c.value) for c in shown.choices] + [
            Input("text", t)
            for t in ("", "1", "2", "412", "12.5", "co", "Quay lại", "Bỏ qua", "=", "1: 300")
        ]
        inputs += [Input("photo", file_id="f", size=10), Input("other")]
        for inp in inputs:
            result = new.handle(Draft.from_dict(draft.to_dict()), inp)
            assert result.replies or result.effect is not None


def test_an_unchanged_draft_is_itself_and_cheap(engine: FormEngine) -> None:
    for step in every_screen(engine):
        assert step.draft is not None
        draft = Draft.from_dict(saved_json(step))
        assert engine.reconcile(draft) == (draft, [])
        assert engine.reconcile(draft)[0] is draft
    started = time.perf_counter()
    for _ in range(1000):
        engine.reconcile(draft)
    assert time.perf_counter() - started < 1.0  # about 30 µs each


# Button data a device may send that names no step and no index: a digit ``int()`` refuses,
# thousands of digits (``int()`` refuses past 4,300), more digits than a step number has.
FORGED_NUMBERS = ["²", "9" * 5000, "9" * 10, "", "-1", "1.0", " 1"]


@pytest.mark.parametrize("number", FORGED_NUMBERS)
def test_forged_button_numbers_are_a_stale_button_never_an_error(
    engine: FormEngine, number: str
) -> None:
    menu = engine.open("thon_1", [FormOption("thang", "2026-11"), FormOption("thang", "2026-12")])
    assert menu.draft is not None and menu.draft.mode == "pick_form"
    for step in [*every_screen(engine), menu]:
        assert step.draft is not None
        draft = step.draft
        forged = [f"{number}:y", *(f"{draft.seq}:{prefix}{number}" for prefix in "fcae")]
        for data in forged:
            result = engine.handle(Draft.from_dict(draft.to_dict()), Input("choice", data))
            assert result.effect is None and result.replies, data
            assert result.draft is not None
            assert (result.draft.mode, result.draft.index) == (draft.mode, draft.index), data
            assert result.draft.answers == draft.answers, data


def at_note(engine: FormEngine) -> Step:
    step = start(engine)
    for answer in ("412", "400", "co", "12,5", "thon van hoa"):
        step = say(engine, step, answer)
    assert step.draft is not None and step.draft.index == 5  # "Ghi chú thêm?", a text
    return step


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("Bà\x00 Lan ", "Bà Lan"),
        ("dòng 1\r\ndòng 2\rdòng 3", "dòng 1\ndòng 2\ndòng 3"),
        ("\x1b[31mđỏ\x1b[0m", "[31mđỏ[0m"),
        ("a\tb\x7f\x85c", "a bc"),
        ("{0} %s {name} {{", "{0} %s {name} {{"),  # kept as typed, never formatted
        ("👨‍👩‍👧‍👦 \u202eđường", "👨‍👩‍👧‍👦 đường"),  # the emoji's joiners kept, the override not
    ],
)
def test_a_text_answer_is_kept_without_control_characters(
    engine: FormEngine, typed: str, kept: str
) -> None:
    step = say(engine, at_note(engine), typed)
    assert step.draft is not None and step.draft.mode == "summary"
    assert step.draft.answers["ghi_chu"] == kept
    assert f"6. Ghi chú: {kept}" in text_of(step)


@pytest.mark.parametrize("typed", ["\x00", "\u200b", "\u202e \u2060\ufeff", "\x1b\x07\t"])
def test_a_text_with_nothing_visible_is_no_answer(engine: FormEngine, typed: str) -> None:
    step = say(engine, at_note(engine), typed)
    assert "Xin gõ câu trả lời." in text_of(step)
    assert step.draft is not None and step.draft.index == 5 and "ghi_chu" not in step.draft.answers


def test_a_long_text_is_measured_once_cleaned(engine: FormEngine) -> None:
    step = say(engine, at_note(engine), "a" * 1000 + "\x00" * 50)
    assert step.draft is not None and step.draft.answers["ghi_chu"] == "a" * 1000


# --- "Giống kỳ trước": last period's answers, then only what changed --------------------


def test_last_periods_report_offers_to_start_from_it(engine: FormEngine) -> None:
    step = start(engine, LAST_PERIOD, each=False)
    assert step.draft is not None and step.draft.mode == "prefill"
    assert "Thôn đã báo cáo kỳ tháng 10/2026" in text_of(step)
    assert labels(step) == ["Giống kỳ trước", "Trả lời từng câu"]
    each = press(engine, step, "Trả lời từng câu")
    assert each.draft is not None and each.draft.mode == "ask" and each.draft.answers == {}
    assert "Câu 1/6" in text_of(each) and "Kỳ trước: 400 hộ" in text_of(each)
    assert start(engine).draft.mode == "ask"  # type: ignore[union-attr]  # nothing before


@pytest.mark.parametrize("typed", ["1", "Giống kỳ trước", "giong ky truoc", "=", "như cũ"])
def test_same_as_last_period_opens_the_summary_prefilled(engine: FormEngine, typed: str) -> None:
    step = say(engine, start(engine, LAST_PERIOD, each=False), typed)
    assert step.draft is not None and step.draft.mode == "summary"
    summary = text_of(step)
    assert "Đã điền sẵn các câu trả lời kỳ tháng 10/2026." in summary
    assert "1. Tổng số hộ: 400 hộ\n" in summary and "3. Thu gom rác: Có\n" in summary
    # a note is this period's own: left empty, not last month's
    assert "6. Ghi chú: (bỏ qua)\n" in summary
    assert "Sửa nhanh một câu: gõ số câu, dấu hai chấm và câu trả lời mới, ví dụ “1: 25”." in (
        summary
    )


def test_only_what_changed_is_typed_one_message_each(engine: FormEngine) -> None:
    step = press(engine, start(engine, LAST_PERIOD, each=False), "Giống kỳ trước")
    step = say(engine, step, "1: 420")
    assert step.draft is not None and step.draft.mode == "summary"
    assert "Đã ghi: 420 hộ." in text_of(step)
    assert "1. Tổng số hộ: 420 hộ (kỳ trước: 400 hộ)" in text_of(step)
    step = say(engine, step, "Câu 3: không")
    step = say(engine, step, "5 = chưa đạt")
    assert "5. Danh hiệu: Chưa đạt (kỳ trước: Thôn văn hóa)" in text_of(step)
    sent = press(engine, step, "Gửi")
    assert isinstance(sent.effect, Submit)
    assert sent.effect.answers == LAST_PERIOD | {
        "tong_ho": "420",
        "thu_gom_rac": False,
        "loai": "Chưa đạt",
        "ghi_chu": None,
    }


def test_a_quick_edit_is_checked_as_if_typed_at_its_question(engine: FormEngine) -> None:
    summary = press(engine, start(engine, LAST_PERIOD, each=False), "Giống kỳ trước")
    over = say(engine, summary, "2: 450")  # more households with power than households
    assert over.draft is not None and over.draft.mode == "ask" and over.draft.index == 1
    assert over.draft.editing and over.draft.answers["ho_co_dien"] == "380"
    assert "lớn hơn “Tổng số hộ” (400 hộ)" in text_of(over)
    assert "Hiện tại: 380 hộ" in text_of(over)
    back = press(engine, over, "Quay lại")
    assert back.draft is not None and back.draft.mode == "summary"
    amb = say(engine, summary, "4: 1.234")  # a decimal question: which one?
    assert amb.draft is not None and amb.draft.mode == "ambiguous"
    picked = say(engine, amb, "2")  # 1.234 ha is far from last period's 12,5 ha
    assert picked.draft is not None and picked.draft.mode == "confirm_far"
    assert say(engine, picked, "1").draft.answers["dien_tich_lua"] == "1234"  # type: ignore[union-attr]
    far = say(engine, summary, "1: 900")  # far from last period: confirmed first
    assert far.draft is not None and far.draft.mode == "confirm_far"
    assert say(engine, far, "ok").draft.answers["tong_ho"] == "900"  # type: ignore[union-attr]
    nothing = say(engine, summary, "9: 5")
    assert "Không có câu 9: các câu đánh số từ 1 đến 6." in text_of(nothing)
    assert nothing.draft is not None and nothing.draft.mode == "summary"
    opened = say(engine, summary, "câu 6")  # no answer given: the question opens
    assert opened.draft is not None and opened.draft.index == 5 and opened.draft.editing
    note = say(engine, summary, "6: Đường: đã xong")
    assert note.draft is not None and note.draft.answers["ghi_chu"] == "Đường: đã xong"
    stale = engine.handle(  # the summary's own buttons are stale once a question opens
        Draft.from_dict(over.draft.to_dict()), Input("choice", summary.replies[-1].choices[0].value)
    )
    assert "không còn dùng được" in text_of(stale)


def test_a_quick_edit_works_from_the_edit_menu_too(engine: FormEngine) -> None:
    step = press(engine, fill_to_summary(engine), "Sửa")
    step = say(engine, step, "1: 450")
    assert step.draft is not None and step.draft.mode == "summary"
    assert step.draft.answers["tong_ho"] == "450"


def test_what_last_period_lacks_is_asked_before_the_summary(engine: FormEngine) -> None:
    previous = {k: v for k, v in LAST_PERIOD.items() if k != "loai"}
    step = press(engine, start(engine, previous, each=False), "Giống kỳ trước")
    assert step.draft is not None and step.draft.mode == "ask" and step.draft.index == 4
    assert "Xin trả lời các câu còn thiếu." in text_of(step)
    step = say(engine, step, "Chưa đạt")
    assert step.draft is not None and step.draft.mode == "summary"


@pytest.mark.parametrize("typed", ["=", "như cũ", "Như kỳ trước", "nhu ky truoc.", "same"])
def test_same_as_last_period_at_a_question(engine: FormEngine, typed: str) -> None:
    step = start(engine, LAST_PERIOD)
    assert "Kỳ trước: 400 hộ (gõ = để giữ như kỳ trước)" in text_of(step)
    step = say(engine, step, typed)
    assert step.draft is not None and step.draft.answers["tong_ho"] == "400"
    assert "Giữ như kỳ trước: 400 hộ." in text_of(step)
    step = say(engine, say(engine, step, "390"), typed)  # a yes/no question
    assert step.draft is not None and step.draft.answers["thu_gom_rac"] is True
    step = say(engine, say(engine, step, typed), typed)  # a decimal, then a choice
    assert step.draft is not None and step.draft.answers["dien_tich_lua"] == "12.5"
    assert step.draft.answers["loai"] == "Thôn văn hóa"
    assert "(gõ = để giữ" not in text_of(step)  # a text question takes "=" as a text
    noted = say(engine, step, typed)
    assert noted.draft is not None and noted.draft.answers["ghi_chu"] == typed.strip()


def test_same_as_last_period_needs_one_and_is_checked(engine: FormEngine) -> None:
    nothing = say(engine, start(engine), "=")
    assert "Kỳ trước chưa có câu trả lời cho câu này." in text_of(nothing)
    assert nothing.draft is not None and nothing.draft.answers == {}
    step = say(engine, start(engine, LAST_PERIOD), "350")
    over = say(engine, step, "=")  # last period's 380 is more than this period's 350
    assert over.draft is not None and "ho_co_dien" not in over.draft.answers
    assert "380 hộ lớn hơn “Tổng số hộ” (350 hộ)" in text_of(over)


# --- only plausible readings -----------------------------------------------------------

READINGS_PLAN = """\
plan: 1
title: Thử
commune: Xã Thử
timezone: Asia/Ho_Chi_Minh
villages: [Thôn 1]
forms:
  - id: thang
    title: Báo cáo tháng
    period: month
    due: 25
    questions:
      - {id: ho, ask: "Số hộ", label: Hộ, type: integer, unit: hộ}
      - {id: ho_100, ask: "Số hộ, tối đa 100", label: Hộ 100, type: integer, unit: hộ, max: 100}
      - {id: ha, ask: "Diện tích", label: Diện tích, type: decimal, unit: ha}
      - {id: ha_100, ask: "Diện tích, tối đa 100", label: Diện tích 100, type: decimal, max: 100}
      - {id: ho_it, ask: "Trong đó", label: Trong đó, type: integer, unit: hộ, at_most: ho_100}
"""


def readings_at(question: int) -> tuple[FormEngine, Step]:
    plan, problems = check_plan_text(READINGS_PLAN)
    assert plan is not None, problems
    engine = FormEngine(plan)
    step = engine.open("thon_1", [FormOption("thang", "2026-11")])
    assert step.draft is not None
    step = engine.begin(step.draft, {}, None)
    for answer in ("5", "50", "5", "5")[:question]:
        step = say(engine, step, answer)
    return engine, step


@pytest.mark.parametrize(
    ("question", "typed", "mode", "offered"),
    [
        (0, "12.5", "confirm_reading", ["125 hộ"]),  # an integer: never 12,5
        (0, "1,200", "confirm_reading", ["1.200 hộ"]),
        (1, "12.5", "ask", []),  # neither 12,5 (not whole) nor 125 (over 100)
        (1, "1,200", "ask", []),
        (2, "12.5", "ambiguous", ["12,5 ha", "125 ha"]),
        (2, "1,200", "ambiguous", ["1,2 ha", "1.200 ha"]),  # asked, not stored as 1,2
        (3, "12.5", "confirm_reading", ["12,5"]),  # 125 is over 100
        (3, "1,200", "confirm_reading", ["1,2"]),
        (4, "1.5 nghìn", "ask", []),  # 1.500 and 15.000 are both over "Hộ 100" (50)
        (4, "1,5 chục", "ask", []),  # not a number at all
    ],
)
def test_only_plausible_readings_are_offered(
    question: int, typed: str, mode: str, offered: list[str]
) -> None:
    engine, step = readings_at(question)
    step = say(engine, step, typed)
    assert step.draft is not None and step.draft.mode == mode, text_of(step)
    if mode == "ambiguous":
        assert labels(step)[:-1] == offered
    elif mode == "confirm_reading":
        assert f"Bạn gõ “{typed}”: {offered[0]}, đúng không?" in text_of(step)
        assert labels(step) == ["Đúng", "Nhập lại"]
    else:
        assert step.draft.answers.get(["ho", "ho_100", "ha", "ha_100", "ho_it"][question]) is None


def test_no_plausible_reading_says_why(engine: FormEngine) -> None:
    _engine, step = readings_at(1)
    step = say(_engine, step, "12.5")
    said = text_of(step)
    assert "Bạn gõ “12.5”: đọc là 12,5 hộ hay 125 hộ đều không được." in said
    assert "số nguyên" in said and "không được quá 100 hộ" in said


def test_one_reading_is_confirmed_in_one_step(engine: FormEngine) -> None:
    step = say(engine, say(engine, start(engine), "412"), "12.5")
    for yes in ("1", "Đúng", "ok", "có", "rồi"):
        kept = say(engine, step, yes)
        assert kept.draft is not None and kept.draft.answers["ho_co_dien"] == "125", yes
    for no in ("2", "Nhập lại", "không"):
        again = say(engine, step, no)
        assert again.draft is not None and again.draft.mode == "ask", no
        assert "ho_co_dien" not in again.draft.answers
    typed = say(engine, step, "130")  # a new number is a new answer
    assert typed.draft is not None and typed.draft.answers["ho_co_dien"] == "130"


def test_an_approximate_number_is_confirmed(engine: FormEngine) -> None:
    step = say(engine, start(engine), "khoảng 450")
    assert step.draft is not None and step.draft.mode == "confirm_reading"
    assert "Bạn gõ “khoảng 450”: 450 hộ, đúng không?" in text_of(step)
    kept = say(engine, step, "Đúng")
    assert kept.draft is not None and kept.draft.answers["tong_ho"] == "450"
    too_many = say(engine, start(engine), "khoảng 6000")  # over the bound: said at once
    assert "không được quá 5.000 hộ" in text_of(too_many)
    assert too_many.draft is not None and too_many.draft.mode == "ask"


def test_spoken_thousands_are_read(engine: FormEngine) -> None:
    step = say(engine, start(engine), "1 nghìn 2")
    assert step.draft is not None and step.draft.answers["tong_ho"] == "1200"
    assert "Đã ghi: 1.200 hộ." in text_of(step)


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        *[(word, True) for word in ("rồi", "đã", "ok", "Có rồi", "vâng")],
        *[(word, False) for word in ("chưa", "Chưa có", "không", "ko")],
    ],
)
def test_yes_and_no_in_everyday_words(engine: FormEngine, typed: str, value: bool) -> None:
    step = say(engine, say(engine, start(engine), "412"), "400")
    assert step.draft is not None and step.draft.index == 2
    answered = say(engine, step, typed)
    assert answered.draft is not None and answered.draft.answers["thu_gom_rac"] is value


# --- going back shows the answer ---------------------------------------------------------


def test_going_back_shows_the_current_answer_and_can_keep_it(engine: FormEngine) -> None:
    step = say(engine, say(engine, start(engine, LAST_PERIOD), "412"), "400")
    back = say(engine, step, "Quay lại")
    assert back.draft is not None and back.draft.index == 1
    assert "Hiện tại: 400 hộ" in text_of(back) and "Kỳ trước: 380 hộ" in text_of(back)
    assert labels(back) == ["Giữ nguyên", "Quay lại"]
    kept = press(engine, back, "Giữ nguyên")
    assert kept.draft is not None and kept.draft.index == 2
    assert kept.draft.answers["ho_co_dien"] == "400"
    typed = say(engine, back, "giu nguyen")
    assert typed.draft is not None and typed.draft.index == 2
    lower = say(engine, say(engine, back, "Quay lại"), "300")  # below the 400 with power
    assert "300 hộ nhỏ hơn “Hộ có điện” (400 hộ)" in text_of(lower)
    assert lower.draft is not None and lower.draft.answers["tong_ho"] == "412"


# --- corrections: a report already sent -------------------------------------------------


def test_a_sent_report_opens_its_summary_to_correct(engine: FormEngine) -> None:
    step = corrected(engine, version=2)
    assert step.draft is not None and step.draft.mode == "summary"
    said = text_of(step)
    assert "Sửa Báo cáo tháng kỳ tháng 11/2026 đã gửi (phiên bản 2)" in said
    assert "Bản sửa Báo cáo tháng của Thôn 1, kỳ tháng 11/2026:" in said
    assert "1. Tổng số hộ: 410 hộ\n" in said and "6. Ghi chú: (bỏ qua)\n" in said
    step = say(engine, step, "1: 415")
    assert "1. Tổng số hộ: 415 hộ (đã gửi: 410 hộ)" in text_of(step)
    sent = press(engine, step, "Gửi")
    assert isinstance(sent.effect, Submit) and sent.effect.answers == SENT | {"tong_ho": "415"}


def test_corrections_are_offered_beside_the_new_period(engine: FormEngine) -> None:
    option = FormOption("thang", "2026-11", corrections=("2026-10",))
    step = engine.open("thon_1", [option])
    assert step.effect == Begin("thang", "2026-11", "thon_1")  # no menu before it
    assert step.draft is not None
    step = engine.begin(step.draft, LAST_PERIOD, "2026-10")
    assert labels(step) == ["Giống kỳ trước", "Trả lời từng câu", "Sửa kỳ tháng 10/2026 (đã gửi)"]
    assert "Cũng có thể sửa một báo cáo đã gửi." in text_of(step)
    fix = say(engine, step, "3")
    assert fix.effect == Begin("thang", "2026-10", "thon_1", correct=True)
    late = FormOption("thang", "2026-11", late_period="2026-10", corrections=("2026-09",))
    menu = engine.open("thon_1", [late])
    assert labels(menu) == [
        "Kỳ tháng 10/2026 (trễ hạn)",
        "Kỳ tháng 11/2026",
        "Sửa kỳ tháng 9/2026 (đã gửi)",
    ]
    current = press(engine, menu, "Kỳ tháng 11/2026")
    assert current.draft is not None and current.draft.corrections == []  # shown already
    sent = FormOption("thang", "2026-11", sent=True, corrections=("2026-10",))
    menu = engine.open("thon_1", [sent])
    assert labels(menu) == ["Sửa kỳ tháng 11/2026 (đã gửi)", "Sửa kỳ tháng 10/2026 (đã gửi)"]
    assert "bạn muốn báo cáo hay sửa kỳ nào?" in text_of(menu)
    assert say(engine, menu, "2").effect == Begin("thang", "2026-10", "thon_1", correct=True)


def test_a_period_past_its_corrections_is_not_offered(engine: FormEngine) -> None:
    locked = FormOption("thang", "2026-11", sent=True, locked=True)
    assert engine.open("thon_1", [locked]).draft is None
    refused = engine.open_form("thon_1", locked, "2026-11")
    assert refused.draft is None and "đã hết hạn sửa" in text_of(refused)
    fix = engine.open_form("thon_1", FormOption("thang", "2026-11", sent=True), "2026-11")
    assert fix.effect == Begin("thang", "2026-11", "thon_1", correct=True)


def test_a_photo_question_says_it_asks_for_a_photo(engine: FormEngine) -> None:
    new = FormEngine(
        edited_plan(
            lambda d: questions_of(d).insert(
                0, {"id": "anh", "ask": "Ảnh?", "label": "Ảnh", "type": "photo"}
            )
        )
    )
    step = new.open("thon_1", [FormOption("thang", "2026-11")])
    assert step.draft is not None
    step = new.begin(step.draft, {}, None)
    assert step.replies[-1].asks_photo
    assert not start(engine).replies[-1].asks_photo
