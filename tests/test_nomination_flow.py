"""The nomination conversation step by step, without storage or channels."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from bot.nominations.flow import (
    MAX_PHOTOS,
    NominationDraft,
    NominationFlow,
    NominationStep,
    SubmitNomination,
)
from bot.plan.model import Plan, check_plan_text
from bot.reports.engine import Input
from tests.conftest import SMALL_PLAN


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
    assert "Đã có đủ 3 ảnh. Chọn Xong." in step.replies[-1].text
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


# --- the plan edited between two messages -------------------------------------------------


def edited_plan(change: Callable[[dict[str, Any]], None]) -> Plan:
    """tests/plans/small.yaml, changed by ``change`` (on its YAML data), checked."""
    data = yaml.safe_load(SMALL_PLAN.read_text(encoding="utf-8"))
    change(data)
    plan, problems = check_plan_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    assert plan is not None, problems
    return plan


def reloaded(flow: NominationFlow, step: NominationStep) -> tuple[NominationDraft, list[str]]:
    """The draft saved as JSON, read back and reconciled against ``flow``'s plan."""
    assert step.draft is not None
    saved = json.loads(json.dumps(step.draft.to_dict()))
    return flow.reconcile(NominationDraft.from_dict(saved))


def shown(flow: NominationFlow, draft: NominationDraft) -> NominationStep:
    return NominationStep([flow.prompt(draft)], draft)


def at_summary(small_plan: Plan) -> tuple[NominationFlow, NominationStep]:
    flow, step = at_photos(small_plan)
    step = photo(flow, step, "k1")
    step = press(flow, step, "Xong")
    assert step.draft is not None and step.draft.mode == "summary"
    return flow, step


KINDS = ["Sản xuất giỏi", "Hiếu học", "Khác nữa"]


def test_a_kind_gone_from_the_plan_is_asked_again_then_the_summary(small_plan: Plan) -> None:
    _flow, step = at_summary(small_plan)
    new = NominationFlow(edited_plan(lambda d: d.update(nomination_kinds=KINDS)))
    draft, notes = reloaded(new, step)
    assert notes == ["Loại gương “Khác” không còn trong kế hoạch; xin chọn lại loại."]
    assert draft.kind is None and draft.mode == "kind"
    stale = new.handle(draft, Input("choice", step.replies[-1].choices[0].value))  # old Gửi
    assert stale.effect is None and "không còn dùng được" in stale.replies[-1].text
    step = shown(new, draft)
    assert [c.label for c in step.replies[-1].choices] == [*KINDS, "Quay lại"]
    step = press(new, step, "Hiếu học")
    assert step.draft is not None and step.draft.mode == "summary"  # not the photos again
    step = press(new, step, "Gửi")
    assert step.effect == SubmitNomination(
        "Bà Lan", "thon_2", "Nấu cơm cho bệnh nhân nghèo.", "Hiếu học", ("k1",), ("",)
    )


def test_a_village_gone_from_the_plan_is_asked_again(small_plan: Plan) -> None:
    _flow, step = at_photos(small_plan)
    new = NominationFlow(edited_plan(lambda d: d.update(villages=["Thôn 1", "Thôn 3"])))
    draft, notes = reloaded(new, step)
    assert notes == ["Thôn “Thôn 2” không còn trong kế hoạch; xin chọn lại thôn."]
    assert draft.village is None and draft.mode == "village"
    step = press(new, shown(new, draft), "Thôn 3")
    assert step.draft is not None and step.draft.mode == "photos"  # back where it was
    step = press(new, press(new, step, "Bỏ qua"), "Gửi")
    assert step.effect is not None
    assert (step.effect.village, step.effect.kind) == ("thon_3", "Khác")
    assert step.effect.deed == "Nấu cơm cho bệnh nhân nghèo."


def test_both_gone_asks_each_once_in_order(small_plan: Plan) -> None:
    _flow, step = at_summary(small_plan)

    def change(data: dict[str, Any]) -> None:
        data.update(villages=["Thôn 1", "Thôn 3"], nomination_kinds=KINDS)

    new = NominationFlow(edited_plan(change))
    draft, notes = reloaded(new, step)
    assert len(notes) == 2 and draft.mode == "village"
    step = press(new, shown(new, draft), "Thôn 1")
    assert step.draft is not None and step.draft.mode == "kind"  # the deed is kept, not asked
    step = press(new, step, "Sản xuất giỏi")
    assert step.draft is not None and step.draft.mode == "summary"
    step = press(new, step, "Gửi")
    assert step.effect is not None and (step.effect.village, step.effect.kind) == (
        "thon_1",
        "Sản xuất giỏi",
    )


def test_new_kinds_while_choosing_one_make_the_old_buttons_stale(small_plan: Plan) -> None:
    flow = NominationFlow(small_plan)
    step = flow.start("thon_1")
    for answer in ("Bà Lan", "2", "Nấu cơm."):
        step = say(flow, step, answer)
    assert step.draft is not None and step.draft.mode == "kind"
    new = NominationFlow(edited_plan(lambda d: d.update(nomination_kinds=KINDS)))
    draft, notes = reloaded(new, step)
    assert notes == ["Danh sách lựa chọn vừa được sửa trong kế hoạch; xin chọn lại."]
    [old_first] = [c for c in step.replies[-1].choices if c.label == "Sản xuất kinh doanh giỏi"]
    stale = new.handle(draft, Input("choice", old_first.value))
    assert "không còn dùng được" in stale.replies[-1].text
    assert stale.draft is not None and stale.draft.kind is None


def test_an_unchanged_nomination_is_itself(small_plan: Plan) -> None:
    flow, step = at_summary(small_plan)
    draft, notes = reloaded(flow, step)
    assert notes == [] and flow.reconcile(draft) == (draft, [])
    assert flow.reconcile(draft)[0] is draft


def test_a_village_under_a_new_id_is_the_same_village(small_plan: Plan) -> None:
    _flow, step = at_summary(small_plan)
    villages = ["Thôn 1", {"id": "t2", "name": "Thôn 2"}, "Thôn 3"]
    new = NominationFlow(edited_plan(lambda d: d.update(villages=villages)))
    draft, notes = reloaded(new, step)
    assert notes == [] and draft.village == "t2" and draft.mode == "summary"


@pytest.mark.parametrize(
    "change",
    [
        lambda d: None,
        lambda d: d.update(nomination_kinds=KINDS),
        lambda d: d.update(villages=["Thôn 9"]),
        lambda d: d.update(villages=["Thôn 9"], nomination_kinds=["Một"]),
        lambda d: d.update(villages=[f"Thôn {n}" for n in range(40)]),
    ],
)
def test_a_reconciled_nomination_never_raises(
    small_plan: Plan, change: Callable[[dict[str, Any]], None]
) -> None:
    flow, last = at_summary(small_plan)
    steps = [flow.start("thon_1")]
    for answer in ("Bà Lan", "2", "Nấu cơm.", "khac"):
        steps.append(say(flow, steps[-1], answer))
    steps.append(last)
    for step in list(steps):
        assert step.draft is not None
        steps.append(flow.cancel(NominationDraft.from_dict(step.draft.to_dict())))
    new = NominationFlow(edited_plan(change))
    for step in steps:
        if step.draft is None:
            continue
        draft, _notes = reloaded(new, step)
        assert new.reconcile(draft) == (draft, [])
        screen = new.prompt(NominationDraft.from_dict(draft.to_dict()))
        new.resume(NominationDraft.from_dict(draft.to_dict()))
        new.cancel(NominationDraft.from_dict(draft.to_dict()))
        inputs = [Input("choice", c.value) for c in screen.choices]
        inputs += [Input("text", t) for t in ("", "1", "²", "9" * 5000, "Quay lại", "Thôn 3")]
        inputs += [Input("photo", "", "k9", 1000), Input("other")]
        for inp in inputs:
            result = new.handle(NominationDraft.from_dict(draft.to_dict()), inp)
            assert result.replies or result.effect is not None
            if result.effect is not None:
                assert result.effect.kind in new.plan.nomination_kinds
                assert new.plan.village(result.effect.village) is not None


def every_step(small_plan: Plan) -> tuple[NominationFlow, list[NominationStep]]:
    """A step on every screen of the nomination, and each one's cancel confirmation."""
    flow, last = at_summary(small_plan)
    steps = [flow.start("thon_1")]
    for answer in ("Bà Lan", "2", "Nấu cơm.", "khac"):
        steps.append(say(flow, steps[-1], answer))
    steps.append(last)
    assert last.draft is not None
    steps.append(flow.cancel(NominationDraft.from_dict(last.draft.to_dict())))
    return flow, steps


@pytest.mark.parametrize("number", ["²", "9" * 5000, "9" * 10, "", "-1", " 1"])
def test_forged_button_numbers_are_a_stale_button_never_an_error(
    small_plan: Plan, number: str
) -> None:
    flow, steps = every_step(small_plan)
    for step in steps:
        assert step.draft is not None
        draft = step.draft
        forged = [f"{number}:y", f"{draft.seq}:v{number}", f"{draft.seq}:k{number}"]
        for data in forged:
            result = flow.handle(NominationDraft.from_dict(draft.to_dict()), Input("choice", data))
            assert result.effect is None and result.replies, data
            assert result.draft is not None and result.draft.to_dict() == draft.to_dict(), data


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("Bà\x00 Lan\x1b", "Bà Lan"),
        ("  Ông\tTư\r\n", "Ông Tư"),
        ("{0} %s {nominee}", "{0} %s {nominee}"),  # kept as typed, never formatted
    ],
)
def test_names_and_deeds_are_kept_without_control_characters(
    small_plan: Plan, typed: str, kept: str
) -> None:
    flow = NominationFlow(small_plan)
    step = say(flow, flow.start("thon_1"), typed)
    assert step.draft is not None and step.draft.nominee == kept
    assert f"{kept} ở thôn nào?" in step.replies[-1].text
    step = say(flow, say(flow, step, "1"), f"Việc\x07 tốt: {kept}\x00")
    assert step.draft is not None and step.draft.deed == f"Việc tốt: {kept}"


@pytest.mark.parametrize("typed", ["\x00", "\u200b\u200c", "\u202e", "\x1b\x07\t \ufeff"])
def test_a_name_with_nothing_visible_is_asked_again(small_plan: Plan, typed: str) -> None:
    flow = NominationFlow(small_plan)
    step = say(flow, flow.start("thon_1"), typed)
    assert "Xin gõ câu trả lời bằng chữ." in step.replies[-1].text
    assert step.draft is not None and step.draft.mode == "who" and step.draft.nominee == ""


def test_a_nominee_of_emoji_or_digits_alone_is_asked_again(small_plan: Plan) -> None:
    flow = NominationFlow(small_plan)
    step = flow.start("thon_1")
    for typed in ("👍👍", "🙂 ‍🙂", "123", "…!"):
        assert step.draft is not None
        again = flow.handle(step.draft, Input("text", typed))
        assert "bằng chữ" in again.replies[-1].text
        assert again.draft is not None and again.draft.nominee == "" and again.draft.mode == "who"
    named = flow.handle(step.draft, Input("text", "Tổ tự quản 👍"))
    assert named.draft is not None and named.draft.nominee == "Tổ tự quản 👍"
