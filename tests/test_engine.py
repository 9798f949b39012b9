"""The form engine step by step: pure, no channel, no database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.engine import Begin, Draft, FormEngine, FormOption, Input, Step, Submit
from bot.plan import Plan, load_plan

PLAN = Path(__file__).parent / "plans" / "small.yaml"


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load_plan(PLAN)


@pytest.fixture
def engine(plan: Plan) -> FormEngine:
    return FormEngine(plan)


def start(engine: FormEngine, previous: dict[str, Any] | None = None) -> Step:
    step = engine.open("thon_1", [FormOption("thang", "2026-11")])
    assert isinstance(step.effect, Begin)
    assert step.effect == Begin("thang", "2026-11", "thon_1")
    assert step.draft is not None
    return engine.begin(step.draft, previous or {}, "2026-10" if previous else None)


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
    assert step.draft.mode == "ambiguous"
    assert "ho_co_dien" not in step.draft.answers
    assert labels(step)[:2] == ["12,5 hộ", "125 hộ"]
    # 12,5 is not a whole number of households: refused, asked again
    refused = press(engine, step, "12,5 hộ")
    assert "số nguyên" in text_of(refused)
    assert refused.draft is not None and "ho_co_dien" not in refused.draft.answers
    chosen = press(engine, step, "125 hộ")
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


def test_changing_an_answer_reruns_every_check_before_sending(engine: FormEngine) -> None:
    step = fill_to_summary(engine)
    step = press(engine, step, "Sửa")
    step = press(engine, step, "Tổng số hộ")
    assert "Hiện tại: 412 hộ" in text_of(step)
    step = say(engine, step, "300")  # now fewer households than households with power
    assert step.draft is not None and step.draft.mode == "summary"
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
    import json

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
