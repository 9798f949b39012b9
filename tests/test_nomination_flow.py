"""The nomination conversation step by step, without storage or channels."""

from __future__ import annotations

from bot.engine import Input
from bot.nomination_flow import MAX_PHOTOS, NominationDraft, NominationFlow, NominationStep
from bot.plan import Plan


def press(flow: NominationFlow, step: NominationStep, label: str) -> NominationStep:
    assert step.draft is not None
    [choice] = [c for c in step.replies[-1].choices if c.label == label]
    return flow.handle(step.draft, Input("choice", choice.value))


def say(flow: NominationFlow, step: NominationStep, text: str) -> NominationStep:
    assert step.draft is not None
    return flow.handle(step.draft, Input("text", text))


def photo(flow: NominationFlow, step: NominationStep, key: str) -> NominationStep:
    assert step.draft is not None
    return flow.handle(step.draft, Input("photo", "", key, 1000))


def at_photos(small_plan: Plan) -> tuple[NominationFlow, NominationStep]:
    flow = NominationFlow(small_plan)
    step = flow.start("thon_1")
    step = say(flow, step, "Bà Lan")
    step = say(flow, step, "2")  # Thôn 2, by its number
    step = say(flow, step, "Nấu cơm cho bệnh nhân nghèo.")
    step = say(flow, step, "khac")  # "Khác", typed without its mark
    assert step.draft is not None and step.draft.mode == "photos"
    assert (step.draft.village, step.draft.kind) == ("thon_2", "Khác")
    return flow, step


def test_the_third_photo_ends_the_step_and_a_fourth_is_refused(small_plan: Plan) -> None:
    flow, step = at_photos(small_plan)
    for n in range(1, MAX_PHOTOS + 1):
        step = photo(flow, step, f"k{n}")
    assert step.draft is not None and step.draft.mode == "summary"
    step = press(flow, step, "Quay lại")
    assert step.draft is not None and step.draft.photos == ["k1", "k2", "k3"]  # kept
    assert "Đã có đủ 3 ảnh. Bấm Xong." in step.replies[-1].text
    step = photo(flow, step, "k4")
    assert "tối đa 3 ảnh" in step.replies[-1].text
    assert step.draft is not None and step.draft.photos == ["k1", "k2", "k3"]
    step = press(flow, step, "Xong")
    step = press(flow, step, "Gửi")
    assert step.effect is not None and step.effect.photos == ("k1", "k2", "k3")


def test_going_back_keeps_answers_and_a_stale_button_changes_nothing(small_plan: Plan) -> None:
    flow, step = at_photos(small_plan)
    step = photo(flow, step, "k1")
    stale = step
    step = press(flow, step, "Xong")
    assert step.draft is not None and step.draft.mode == "summary"
    again = flow.handle(
        NominationDraft.from_dict(step.draft.to_dict()),
        Input("choice", stale.replies[-1].choices[0].value),
    )
    assert "không còn dùng được" in again.replies[-1].text
    assert again.draft is not None and again.draft.mode == "summary"
    step = press(flow, step, "Quay lại")
    assert "Đã có 1/3 ảnh." in step.replies[-1].text


def test_a_photo_where_words_are_expected_and_an_empty_cancel(small_plan: Plan) -> None:
    flow = NominationFlow(small_plan)
    step = flow.start(None)
    step = photo(flow, step, "k1")
    assert "cần chữ, không phải ảnh" in step.replies[-1].text
    assert step.draft is not None
    cancelled = flow.cancel(step.draft)
    assert cancelled.draft is None and "Đã hủy đề cử" in cancelled.replies[0].text
