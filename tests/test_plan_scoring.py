"""The plan's scoring section, form levels, baseline forms and change targets (issue 11)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from bot.plan.model import (
    BASELINE_DUE,
    COMMUNE_ID,
    PLAN_KEYS,
    SCORING_MEASURES,
    Criterion,
    Grade,
    Plan,
    Problem,
    Scoring,
    Target,
    check_plan_text,
    load_plan,
)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PLAN = ROOT / "plans" / "nam-dong-2024.yaml"

# A small valid plan with a village form, a baseline form, a commune form and a scoring
# section. The cases below refer to its line numbers; edits keep the other lines in place.
BASE = """\
plan: 1
title: Thi đua thử
commune: Xã Thử
timezone: Asia/Ho_Chi_Minh
villages: [Thôn A, Thôn Bình]
forms:
  - id: thang
    title: Báo cáo tháng
    period: month
    due: 25
    questions:
      - id: tong_ho
        ask: Bao nhiêu hộ?
        type: integer
      - id: ho_ngheo
        ask: Bao nhiêu hộ nghèo?
        type: integer
        at_most: tong_ho
      - id: rac
        ask: Có thu gom rác không?
        type: yes_no
      - id: san_luong
        ask: Sản lượng bao nhiêu tấn?
        type: decimal
  - id: nen
    title: Số liệu mốc
    baseline: true
    period: year
    questions:
      - id: tong_ho_nen
        ask: Năm trước có bao nhiêu hộ?
        type: integer
      - id: ho_ngheo_nen
        ask: Năm trước có bao nhiêu hộ nghèo?
        type: integer
      - id: rac_nen
        ask: Năm trước có thu gom rác không?
        type: yes_no
  - id: xa
    title: Báo cáo quý của xã
    level: commune
    period: quarter
    due: 80
    questions:
      - id: thu_ngan_sach
        ask: Thu ngân sách bao nhiêu triệu đồng?
        type: decimal
      - id: dien_tich
        ask: Diện tích gieo trồng bao nhiêu ha?
        type: decimal
      - id: dien_tich_tuoi
        ask: Bao nhiêu ha được tưới?
        type: decimal
indicators:
  - id: ty_le_ngheo
    title: Tỷ lệ hộ nghèo
    ratio: [ho_ngheo, tong_ho]
    target: "giảm >= 1"
    baseline_year: 2023
    baseline_from: [ho_ngheo_nen, tong_ho_nen]
  - id: ty_le_rac
    title: Thôn thu gom rác
    share_yes: rac
    target: ">= 100"
  - id: tong_san_luong
    title: Tổng sản lượng
    sum: san_luong
    target: ">= 100"
  - id: thu_ngan_sach_xa
    title: Thu ngân sách
    sum: thu_ngan_sach
    target: ">= 2310"
  - id: ty_le_tuoi
    title: Tỷ lệ diện tích được tưới
    ratio: [dien_tich_tuoi, dien_tich]
    target: ">= 90"
scoring:
  criteria:
    - id: ngheo
      title: Giảm hộ nghèo
      indicator: ty_le_ngheo
      points: 40
      zero_at: -2
    - id: rac
      title: Thu gom rác
      indicator: ty_le_rac
      points: 20
    - id: dung_han
      title: Báo cáo đúng hạn
      measure: on_time
      points: 20
    - id: guong
      title: Gương người tốt, việc tốt
      measure: good_deeds
      points: 20
      per_item: 5
  grades:
    - name: Xuất sắc
      at_least: 90
      each_at_least: 85
      at_most_share: 20
    - name: Tốt
      at_least: 80
    - name: Chưa hoàn thành
"""
BASE_LINES = BASE.splitlines()
assert BASE_LINES[26] == "    baseline: true"
assert BASE_LINES[40] == "    level: commune"
assert BASE_LINES[57] == '    target: "giảm >= 1"'
assert BASE_LINES[76] == "scoring:"
assert BASE_LINES[82] == "      zero_at: -2"
assert BASE_LINES[95] == "      per_item: 5"
assert BASE_LINES[103] == "    - name: Chưa hoàn thành"
assert len(BASE_LINES) == 104


def edit(changes: dict[int, str | None]) -> str:
    """BASE with line N replaced (keeping its indentation), or removed when None."""
    lines: list[str] = []
    for number, line in enumerate(BASE_LINES, start=1):
        if number not in changes:
            lines.append(line)
            continue
        new = changes[number]
        if new is None:
            continue
        indent = line[: len(line) - len(line.lstrip())]
        lines.append(indent + new)
    return "\n".join(lines) + "\n"


def without(first: int, last: int, changes: dict[int, str | None] | None = None) -> str:
    """BASE without lines ``first``..``last`` (and with ``changes``)."""
    gone: dict[int, str | None] = dict.fromkeys(range(first, last + 1))
    return edit({**gone, **(changes or {})})


def plan_of(text: str) -> Plan:
    plan, problems = check_plan_text(text)
    assert problems == []
    assert plan is not None
    return plan


def assert_problem(text: str, line: int | None, fragment: str) -> None:
    plan, problems = check_plan_text(text)
    assert plan is None
    found = [p for p in problems if p.line == line and fragment in p.message]
    assert found, f"no problem on line {line} containing {fragment!r}: {problems}"


# --------------------------------------------------------------------------- what is built


def test_base_fixture_builds_levels_baselines_and_scoring() -> None:
    plan = plan_of(BASE)
    month, base, commune = plan.forms
    assert (month.level, month.baseline) == ("village", False)  # the defaults
    assert (base.level, base.baseline, base.period, base.due) == ("village", True, "year", 366)
    assert BASELINE_DUE == 366  # a baseline form's due day without one: the year's last
    assert (commune.level, commune.baseline, commune.period, commune.due) == (
        "commune",
        False,
        "quarter",
        80,
    )
    poverty = plan.indicator("ty_le_ngheo")
    assert poverty.target == Target(">=", Decimal(1), "decrease")
    assert (poverty.baseline, poverty.baseline_year) == (None, 2023)
    assert poverty.baseline_from == ("ho_ngheo_nen", "tong_ho_nen")
    assert plan.indicator("ty_le_rac").baseline_from == ()
    assert plan.scoring == Scoring(
        criteria=(
            Criterion(
                "ngheo", "Giảm hộ nghèo", Decimal(40), indicator="ty_le_ngheo", zero_at=Decimal(-2)
            ),
            Criterion("rac", "Thu gom rác", Decimal(20), indicator="ty_le_rac"),
            Criterion("dung_han", "Báo cáo đúng hạn", Decimal(20), measure="on_time"),
            Criterion(
                "guong",
                "Gương người tốt, việc tốt",
                Decimal(20),
                measure="good_deeds",
                per_item=Decimal(5),
            ),
        ),
        grades=(
            Grade("Xuất sắc", Decimal(90), Decimal(85), Decimal(20)),
            Grade("Tốt", Decimal(80)),
            Grade("Chưa hoàn thành"),
        ),
    )
    assert plan.scoring.max == Decimal(100)


def test_plan_helpers_for_levels_and_baselines() -> None:
    plan = plan_of(BASE)
    assert [f.id for f in plan.village_forms] == ["thang"]
    assert [f.id for f in plan.commune_forms] == ["xa"]
    assert [f.id for f in plan.baseline_forms] == ["nen"]
    assert plan.indicator_form("ty_le_tuoi").id == "xa"
    assert plan.indicator_form(plan.indicator("ty_le_ngheo")).id == "thang"
    questions = plan.baseline_questions("ty_le_ngheo")
    assert [q.id for q in questions] == ["ho_ngheo_nen", "tong_ho_nen"]
    assert all(q.type == "integer" for q in questions)
    assert plan.baseline_questions(plan.indicator("ty_le_rac")) == ()
    # the form helpers work as before, whatever the form's level
    assert [i.id for i in plan.form_indicators("thang")] == [
        "ty_le_ngheo",
        "ty_le_rac",
        "tong_san_luong",
    ]
    assert [i.id for i in plan.form_indicators("xa")] == ["thu_ngan_sach_xa", "ty_le_tuoi"]
    assert plan.form_indicators("nen") == []
    assert plan.indicator_questions("xa") == ["thu_ngan_sach", "dien_tich", "dien_tich_tuoi"]


def test_criterion_target_is_its_own_else_its_indicators() -> None:
    plan = plan_of(edit({87: 'points: 20\n      target: ">= 50"'}))
    assert plan.scoring is not None
    poverty, garbage, on_time, _deeds = plan.scoring.criteria
    assert poverty.target is None
    assert plan.criterion_target(poverty) == Target(">=", Decimal(1), "decrease")
    assert garbage.target == Target(">=", Decimal(50))
    assert plan.criterion_target(garbage) == Target(">=", Decimal(50))
    assert plan.criterion_target(on_time) is None


def test_without_a_scoring_section_the_plan_has_none() -> None:
    assert "scoring" in PLAN_KEYS
    assert plan_of("\n".join(BASE_LINES[:76]) + "\n").scoring is None
    assert plan_of("\n".join(BASE_LINES[:76]) + "\nscoring:\n").scoring is None
    assert SCORING_MEASURES == ("on_time", "completeness", "good_deeds")


def test_a_baseline_form_may_have_a_due_day_and_say_its_level() -> None:
    plan = plan_of(edit({27: "baseline: true\n    level: village\n    due: 31"}))
    assert plan.form("nen").due == 31
    assert plan.form("nen").level == "village"
    # a plain false is a plain form, which needs its due day as before
    assert_problem(edit({27: "baseline: false"}), 25, "Thiếu khóa bắt buộc “due”")
    # an unreadable ``baseline`` is the one problem, not a missing due day besides
    _plan, problems = check_plan_text(edit({27: "baseline: có"}))
    assert [p.line for p in problems] == [27]


def test_a_change_target_needs_no_baseline() -> None:
    """Without baseline nor baseline_from the rule falls back on the village's first value
    in the window; the checker says nothing."""
    plan = plan_of(edit({59: None, 60: None}))
    poverty = plan.indicator("ty_le_ngheo")
    assert poverty.target == Target(">=", Decimal(1), "decrease")
    assert (poverty.baseline, poverty.baseline_year, poverty.baseline_from) == (None, None, ())


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("baseline: 4.5", Decimal("4.5")),
        ("baseline: '4,5 %'", Decimal("4.5")),
        ("baseline: 4.5%", Decimal("4.5")),
        ("baseline: 12", Decimal(12)),
    ],
)
def test_the_communes_baseline_figure(line: str, expected: Decimal) -> None:
    plan = plan_of(edit({59: line}))
    assert plan.indicator("ty_le_ngheo").baseline == expected
    assert plan.indicator("ty_le_ngheo").baseline_year is None


def test_change_targets_on_sums_and_shares_and_baselines_of_one_question() -> None:
    plan = plan_of(
        edit(
            {
                64: 'target: "tăng >= 10"\n    baseline_from: rac_nen',
                68: 'target: "increase > 5"\n    baseline: 80',
            }
        )
    )
    garbage = plan.indicator("ty_le_rac")
    assert garbage.target == Target(">=", Decimal(10), "increase")
    assert garbage.baseline_from == ("rac_nen",)
    total = plan.indicator("tong_san_luong")
    assert total.target == Target(">", Decimal(5), "increase")
    assert total.baseline == Decimal(80)
    # a list of one question reads the same
    plan = plan_of(edit({64: 'target: ">= 100"\n    baseline_from: [rac_nen]'}))
    assert plan.indicator("ty_le_rac").baseline_from == ("rac_nen",)


def test_percentages_of_grades_may_carry_a_per_cent_sign() -> None:
    plan = plan_of(edit({99: 'at_least: "90%"', 101: "at_most_share: 20 %"}))
    assert plan.scoring is not None
    assert plan.scoring.grades[0] == Grade("Xuất sắc", Decimal(90), Decimal(85), Decimal(20))


def test_at_least_is_compared_with_the_nearest_grade_above_that_has_one() -> None:
    text = edit({103: "at_least: 80\n    - name: Khá\n      each_at_least: 50"})
    plan = plan_of(text)
    assert plan.scoring is not None
    assert [g.name for g in plan.scoring.grades] == ["Xuất sắc", "Tốt", "Khá", "Chưa hoàn thành"]
    # “Tốt” says nothing of the total: “Khá” is compared with “Xuất sắc”
    assert_problem(
        edit({103: "each_at_least: 80\n    - name: Khá\n      at_least: 95"}),
        105,
        "“at_least” của mức “Khá” (95) cao hơn của mức trên “Xuất sắc” (90)",
    )
    plan = plan_of(edit({103: "each_at_least: 80\n    - name: Khá\n      at_least: 85"}))
    assert plan.scoring is not None
    assert plan.scoring.grades[1] == Grade("Tốt", None, Decimal(80))


def test_a_village_may_not_take_the_communes_id() -> None:
    assert COMMUNE_ID == "_xa"
    assert_problem(
        edit({5: "villages: [Thôn A, {id: _xa, name: Xã}]"}), 5, "“_xa” dành riêng cho số liệu"
    )
    # a name is never slugged into the commune's id
    plan = plan_of(edit({5: "villages: [Thôn A, Xã]"}))
    assert [v.id for v in plan.villages] == ["thon_a", "xa"]


# --------------------------------------------------------------------------- change targets


@pytest.mark.parametrize(
    ("spec", "target"),
    [
        ("decrease >= 1", Target(">=", Decimal(1), "decrease")),
        ("increase >= 2", Target(">=", Decimal(2), "increase")),
        ("giảm >= 1", Target(">=", Decimal(1), "decrease")),
        ("tăng >= 2", Target(">=", Decimal(2), "increase")),
        ("Giảm>=1", Target(">=", Decimal(1), "decrease")),
        ("GIAM ≥ 0.5", Target(">=", Decimal("0.5"), "decrease")),
        ("  tang   > 2 ", Target(">", Decimal(2), "increase")),
        ("Decrease <= 5", Target("<=", Decimal(5), "decrease")),
        ("giảm 1", Target(">=", Decimal(1), "decrease")),  # a bare number: >=
        ("giảm == 1", Target("==", Decimal(1), "decrease")),  # parsed; the checker refuses it
        (">= 1", Target(">=", Decimal(1))),
    ],
)
def test_direction_parsing(spec: str, target: Target) -> None:
    assert Target.parse(spec) == target


@pytest.mark.parametrize("spec", ["bớt >= 1", "giảm", "giảm abc", "giảm tăng 1", "down >= 1"])
def test_direction_parsing_rejects(spec: str) -> None:
    with pytest.raises(ValueError):
        Target.parse(spec)


def test_a_change_target_reads_back_as_written_and_measures_the_change() -> None:
    decrease = Target.parse("giảm >= 1")
    assert str(decrease) == "decrease >= 1"
    assert str(Target.parse("tăng > 2.5")) == "increase > 2.5"
    assert str(Target.parse(">= 1")) == ">= 1"
    # 4.5 % in the baseline year, 3.2 % now: down 1.3 points
    assert decrease.change(Decimal("3.2"), Decimal("4.5")) == Decimal("1.3")
    assert Target.parse("tăng >= 2").change(Decimal("3.2"), Decimal("4.5")) == Decimal("-1.3")
    assert Target.parse(">= 2").change(Decimal("3.2"), Decimal("4.5")) == Decimal("3.2")
    assert decrease.met(decrease.change(Decimal("3.2"), Decimal("4.5")))
    assert not decrease.met(decrease.change(Decimal("4"), Decimal("4.5")))


# --------------------------------------------------------------------------- problems

# (case name, text, line, part of the message)
PROBLEM_CASES: list[tuple[str, str, int | None, str]] = [
    # forms: levels and baseline forms
    ("unknown level", edit({41: "level: thon"}), 41, "Cấp biểu mẫu “thon” không hợp lệ"),
    ("baseline not a boolean", edit({27: "baseline: có"}), 27, "“baseline” phải là true hoặc"),
    (
        "baseline form of the commune",
        edit({27: "baseline: true\n    level: commune"}),
        28,
        "phải là cấp village",
    ),
    ("baseline form by month", edit({28: "period: month"}), 28, "phải là year, đang là “month”"),
    (
        "baseline form due past the year",
        edit({27: "baseline: true\n    due: 400"}),
        28,
        "vượt quá kỳ year",
    ),
    ("commune id for a village", edit({5: "villages: [{id: _xa, name: Xã}]"}), 5, "“_xa” dành"),
    # indicators
    (
        "indicator from a baseline form",
        edit({67: "sum: tong_ho_nen"}),
        67,
        "câu hỏi của biểu mẫu làm mốc “nen”",
    ),
    (
        "ratio from a baseline form",
        edit({57: "ratio: [ho_ngheo_nen, tong_ho_nen]"}),
        57,
        "biểu mẫu làm mốc “nen”",
    ),
    ("change target with ==", edit({58: 'target: "giảm == 1"'}), 58, "không dùng được “==”"),
    ("unknown direction", edit({58: 'target: "bớt >= 1"'}), 58, "Mục tiêu “bớt >= 1” không hợp"),
    ("baseline not a number", edit({59: "baseline: nhiều"}), 59, "“baseline” phải là một số"),
    (
        "baseline of a share over 100",
        edit({64: 'target: ">= 100"\n    baseline: 120'}),
        65,
        "tỷ lệ phần trăm từ 0 đến 100, đang là “120”",
    ),
    ("baseline_year as words", edit({59: "baseline_year: năm ngoái"}), 59, "phải là một năm"),
    ("baseline_year too small", edit({59: "baseline_year: 23"}), 59, "phải là một năm"),
    ("baseline_year a boolean", edit({59: "baseline_year: true"}), 59, "phải là một năm"),
    (
        "baseline_from of a ratio not two",
        edit({60: "baseline_from: ho_ngheo_nen"}),
        60,
        "đúng hai mã câu hỏi",
    ),
    (
        "baseline_from of a ratio three",
        edit({60: "baseline_from: [ho_ngheo_nen, tong_ho_nen, rac_nen]"}),
        60,
        "đúng hai mã câu hỏi",
    ),
    (
        "baseline_from missing question",
        edit({60: "baseline_from: [ho_ngheo_nen, tong]"}),
        60,
        "“baseline_from” trỏ tới câu hỏi “tong” không có",
    ),
    (
        "baseline_from missing question in a block list",
        edit({60: "baseline_from:\n      - ho_ngheo_nen\n      - tong"}),
        62,
        "“tong” không có",
    ),
    (
        "baseline_from of a report form",
        edit({60: "baseline_from: [ho_ngheo, tong_ho]"}),
        60,
        "của biểu mẫu “thang”, không phải biểu mẫu làm mốc",
    ),
    (
        "baseline_from not numeric for a ratio",
        edit({60: "baseline_from: [rac_nen, tong_ho_nen]"}),
        60,
        "dạng ratio cần câu hỏi dạng số, nhưng “rac_nen” là loại yes_no",
    ),
    (
        "baseline_from not numeric for a sum",
        edit({68: 'target: "tăng >= 1"\n    baseline_from: rac_nen'}),
        69,
        "dạng sum cần câu hỏi dạng số",
    ),
    (
        "baseline_from not yes_no for a share",
        edit({64: 'target: ">= 100"\n    baseline_from: tong_ho_nen'}),
        65,
        "cần câu hỏi loại yes_no, nhưng “tong_ho_nen” là loại integer",
    ),
    (
        "baseline_from of a share a list of two",
        edit({64: 'target: ">= 100"\n    baseline_from: [rac_nen, rac_nen]'}),
        65,
        "phải là mã của một câu hỏi trong biểu mẫu làm mốc",
    ),
    (
        "baseline_from across two baseline forms",
        edit(
            {
                38: (
                    "type: yes_no\n  - id: nen_2\n    title: Mốc khác\n    baseline: true\n"
                    "    period: year\n    questions:\n      - id: tong_ho_nen_2\n"
                    "        ask: Bao nhiêu hộ?\n        type: integer"
                ),
                60: "baseline_from: [ho_ngheo_nen, tong_ho_nen_2]",
            }
        ),
        68,
        "phải thuộc cùng một biểu mẫu làm mốc",
    ),
    (
        "baseline_from for a commune indicator",
        edit({76: 'target: ">= 90"\n    baseline_from: [ho_ngheo_nen, tong_ho_nen]'}),
        77,
        "biểu mẫu cấp xã không lấy số liệu mốc từng thôn",
    ),
    # the scoring section
    (
        "scoring not a mapping",
        "\n".join(BASE_LINES[:76]) + "\nscoring: [dien]\n",
        77,
        "“scoring” phải là một bảng các khóa (criteria, grades)",
    ),
    (
        "unknown scoring key",
        edit({77: "scoring:\n  weights: 1"}),
        78,
        "Khóa “weights” không dùng được trong mục chấm điểm",
    ),
    ("no criteria", without(78, 96), 77, "cần ít nhất một tiêu chí"),
    ("empty criteria", without(79, 96, {78: "criteria: []"}), 78, "cần ít nhất một tiêu chí"),
    ("criteria not a list", without(79, 96, {78: "criteria: dien"}), 78, "phải là một danh sách"),
    ("no grades", without(97, 104), 77, "cần ít nhất một mức xếp loại"),
    ("empty grades", without(98, 104, {97: "grades: []"}), 97, "cần ít nhất một mức xếp loại"),
    ("criterion not a mapping", without(80, 83, {79: "- ngheo"}), 79, "Mỗi tiêu chí chấm điểm"),
    (
        "unknown criterion key",
        edit({83: "zero: -2"}),
        83,
        "Khóa “zero” không dùng được trong tiêu chí",
    ),
    ("criterion without points", edit({82: None}), 79, "Thiếu khóa bắt buộc “points”"),
    ("criterion without title", edit({80: None}), 79, "Thiếu khóa bắt buộc “title”"),
    ("criterion bad id", edit({79: "- id: Giảm nghèo"}), 79, "Mã “Giảm nghèo” không hợp lệ"),
    ("duplicate criterion", edit({84: "- id: ngheo"}), 84, "Mã tiêu chí “ngheo” bị trùng"),
    ("points zero", edit({82: "points: 0"}), 82, "“points” phải là một số lớn hơn 0"),
    ("points negative", edit({82: "points: -5"}), 82, "“points” phải là một số lớn hơn 0"),
    ("points as words", edit({82: "points: mười"}), 82, "lớn hơn 0, đang là “mười”"),
    (
        "indicator and measure",
        edit({81: "indicator: ty_le_ngheo\n      measure: on_time"}),
        79,
        "đúng một trong hai khóa",
    ),
    ("neither indicator nor measure", edit({81: None}), 79, "đúng một trong hai khóa"),
    (
        "unknown indicator",
        edit({81: "indicator: ty_le_khac"}),
        81,
        "chỉ tiêu “ty_le_khac” không có trong kế hoạch",
    ),
    ("sum indicator", edit({81: "indicator: tong_san_luong"}), 81, "dạng sum"),
    ("commune indicator", edit({81: "indicator: ty_le_tuoi"}), 81, "biểu mẫu cấp xã “xa”"),
    (
        "commune share",
        edit({81: "indicator: thu_ngan_sach_xa"}),
        81,
        "dạng sum",
    ),
    (
        "no target anywhere",
        edit({64: None}),
        85,  # line 86 of BASE, one line up
        "Tiêu chí “rac” chưa có mục tiêu: chỉ tiêu “ty_le_rac” không ghi “target”",
    ),
    (
        "== target of its own",
        edit({87: 'points: 20\n      target: "== 100"'}),
        88,
        "không chấm điểm được",
    ),
    ("== target of the indicator", edit({64: 'target: "== 100"'}), 86, "không chấm điểm được"),
    (
        "bad target of its own",
        edit({87: 'points: 20\n      target: "khoảng 100"'}),
        88,
        "Mục tiêu “khoảng 100” không hợp lệ",
    ),
    ("zero_at at the target", edit({83: "zero_at: 1"}), 83, "phải nhỏ hơn 1"),
    ("zero_at above a >= target", edit({83: "zero_at: 3"}), 83, "“decrease >= 1” phải nhỏ hơn"),
    (
        "zero_at below a <= target",
        edit({87: 'points: 20\n      target: "<= 10"\n      zero_at: 5'}),
        89,
        "phải lớn hơn 10",
    ),
    (
        "zero_at at a < target",
        edit({87: 'points: 20\n      target: "< 10"\n      zero_at: 10'}),
        89,
        "phải lớn hơn 10",
    ),
    ("zero_at as words", edit({83: "zero_at: thấp"}), 83, "“zero_at” phải là một số"),
    (
        "zero_at for a measure",
        edit({91: "points: 20\n      zero_at: 5"}),
        92,
        "“zero_at” chỉ dùng cho tiêu chí chấm theo chỉ tiêu",
    ),
    (
        "target for a measure",
        edit({91: 'points: 20\n      target: ">= 10"'}),
        92,
        "“target” chỉ dùng cho tiêu chí chấm theo chỉ tiêu",
    ),
    ("unknown measure", edit({90: "measure: speed"}), 90, "Cách đo “speed” không hợp lệ"),
    ("good deeds without per_item", edit({96: None}), 92, "cần “per_item”"),
    ("per_item zero", edit({96: "per_item: 0"}), 96, "“per_item” phải là một số lớn hơn 0"),
    (
        "per_item for on_time",
        edit({91: "points: 20\n      per_item: 2"}),
        92,
        "“per_item” chỉ dùng cho tiêu chí good_deeds",
    ),
    (
        "per_item for an indicator",
        edit({87: "points: 20\n      per_item: 2"}),
        88,
        "“per_item” chỉ dùng cho tiêu chí good_deeds",
    ),
    ("grade not a mapping", without(99, 101, {98: "- Xuất sắc"}), 98, "Mỗi mức xếp loại"),
    (
        "unknown grade key",
        edit({101: "at_most: 20"}),
        101,
        "Khóa “at_most” không dùng được trong mức xếp loại",
    ),
    ("grade without name", edit({98: "- title: Xuất sắc"}), 98, "Thiếu khóa bắt buộc “name”"),
    (
        "duplicate grade",
        edit({102: "- name: xuat sac"}),
        102,
        "Mức xếp loại “xuat sac” bị trùng với “Xuất sắc”",
    ),
    ("at_least over 100", edit({99: "at_least: 120"}), 99, "từ 0 đến 100, đang là “120”"),
    ("each_at_least negative", edit({100: "each_at_least: -5"}), 100, "từ 0 đến 100"),
    ("at_most_share as words", edit({101: "at_most_share: ít"}), 101, "phải là một số"),
    (
        "at_least going up",
        edit({103: "at_least: 95"}),
        103,
        "“at_least” của mức “Tốt” (95) cao hơn của mức trên “Xuất sắc” (90)",
    ),
    (
        "last grade with a condition",
        edit({104: "- name: Chưa hoàn thành\n      at_least: 10"}),
        105,
        "Mức xếp loại cuối cùng “Chưa hoàn thành” không được có điều kiện “at_least”",
    ),
    (
        "a single grade with a condition",
        without(98, 103, {104: "- name: Đạt\n      each_at_least: 50"}),
        99,
        "không được có điều kiện “each_at_least”",
    ),
]


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [case[1:] for case in PROBLEM_CASES],
    ids=[case[0] for case in PROBLEM_CASES],
)
def test_each_problem_is_reported_on_its_line(text: str, line: int | None, fragment: str) -> None:
    assert_problem(text, line, fragment)


def test_each_new_problem_is_reported_once() -> None:
    for name, text, line, fragment in PROBLEM_CASES:
        _plan, problems = check_plan_text(text)
        found = [p for p in problems if p.line == line and fragment in p.message]
        assert len(found) == 1, (name, problems)


def test_every_scoring_problem_is_reported_at_once_in_line_order() -> None:
    text = edit(
        {
            41: "level: thon",
            58: 'target: "tăng == 1"',
            82: "points: 0",
            90: "measure: speed",
            104: "- name: Chưa hoàn thành\n      at_most_share: 5",
        }
    )
    plan, problems = check_plan_text(text)
    assert plan is None
    assert [p.line for p in problems] == [41, 58, 82, 90, 105]
    assert all(isinstance(p, Problem) for p in problems)
    assert str(problems[2]).startswith("dòng 82: “points” phải là một số lớn hơn 0")


def test_a_broken_indicator_is_not_reported_again_by_its_criterion() -> None:
    """A criterion on an indicator with its own problem adds nothing to that problem."""
    for changes, line in (
        ({57: "ratio: [ho_ngheo, tong]"}, 57),
        ({58: 'target: "khoảng 1"'}, 58),
        ({64: 'target: "khoảng 1"'}, 64),
    ):
        _plan, problems = check_plan_text(edit(changes))
        assert [p.line for p in problems] == [line], problems


# --------------------------------------------------------------------------- the default plan


def test_default_plan_scores_villages_on_100_points() -> None:
    plan = load_plan(DEFAULT_PLAN)
    scoring = plan.scoring
    assert scoring is not None
    assert scoring.max == Decimal(100)
    assert sum(c.points for c in scoring.criteria) == Decimal(100)
    village_forms = {f.id for f in plan.village_forms}
    indicators = [c for c in scoring.criteria if c.indicator is not None]
    assert {c.indicator for c in indicators} == {
        "ty_le_ho_dung_dien",
        "ty_le_nuoc_hop_ve_sinh",
        "ty_le_nuoc_sach",
        "ty_le_duong_cung_hoa",
        "ty_le_tre_den_truong",
        "ty_le_bhyt",
        "ty_le_gia_dinh_van_hoa",
        "ty_le_thon_van_hoa",
        "ty_le_thon_thu_gom_rac",
        "ty_le_ho_ngheo",
        "ty_le_ho_can_ngheo",
    }
    for criterion in indicators:
        assert criterion.indicator is not None
        indicator = plan.indicator(criterion.indicator)
        assert indicator.kind in ("ratio", "share_yes")
        assert plan.indicator_form(indicator).id in village_forms
        target = plan.criterion_target(criterion)
        assert target is not None and target.op != "=="
        if criterion.zero_at is not None:
            assert criterion.zero_at < target.value  # every target here is >= or >
        assert criterion.per_item is None
    measures = {c.measure: c for c in scoring.criteria if c.measure is not None}
    assert set(measures) == set(SCORING_MEASURES)
    assert measures["good_deeds"].per_item is not None and measures["good_deeds"].per_item > 0
    assert len({c.id for c in scoring.criteria}) == len(scoring.criteria)
    assert scoring.grades == (
        Grade("Xuất sắc", Decimal(90), Decimal(85), Decimal(20)),
        Grade("Tốt", Decimal(80), Decimal(80)),
        Grade("Hoàn thành", Decimal(70), Decimal(70)),
        Grade("Chưa hoàn thành"),
    )


def test_default_plan_poverty_targets_are_decreases_against_2023() -> None:
    plan = load_plan(DEFAULT_PLAN)
    base = plan.form("nen_2023")
    assert (base.level, base.baseline, base.period) == ("village", True, "year")
    assert base.title == "Số liệu năm 2023 (làm mốc)"
    assert [q.id for q in base.questions] == ["tong_ho_2023", "ho_ngheo_2023", "ho_can_ngheo_2023"]
    assert all(q.type == "integer" for q in base.questions)
    assert base.question("ho_ngheo_2023").at_most == "tong_ho_2023"
    assert base.question("ho_can_ngheo_2023").at_most == "tong_ho_2023"
    for indicator_id, numerator in (
        ("ty_le_ho_ngheo", "ho_ngheo_2023"),
        ("ty_le_ho_can_ngheo", "ho_can_ngheo_2023"),
    ):
        indicator = plan.indicator(indicator_id)
        assert indicator.target == Target(">=", Decimal(1), "decrease")
        assert indicator.baseline_year == 2023
        assert indicator.baseline_from == (numerator, "tong_ho_2023")
        assert {q.id for q in plan.baseline_questions(indicator)} <= {q.id for q in base.questions}
    assert [f.id for f in plan.baseline_forms] == ["nen_2023"]


def test_default_plan_has_a_quarterly_commune_form_for_the_communes_targets() -> None:
    plan = load_plan(DEFAULT_PLAN)
    commune = plan.form("xa_quy")
    assert (commune.level, commune.baseline, commune.period) == ("commune", False, "quarter")
    assert [f.id for f in plan.commune_forms] == ["xa_quy"]
    assert [f.id for f in plan.village_forms] == ["thang", "tuan"]
    targets = {i.id: str(i.target) for i in plan.form_indicators("xa_quy")}
    assert targets == {
        "ty_trong_thuong_mai_dich_vu": ">= 36",
        "ty_trong_ttcn_xay_dung": ">= 35",
        "ty_trong_nong_lam_nghiep": "<= 29",
        "thu_nhap_binh_quan_dau_nguoi": ">= 65",
        "tong_thu_ngan_sach": ">= 2310",
        "tong_chi_ngan_sach": "<= 18107.991",
        "ty_le_dien_tich_duoc_tuoi": ">= 90",
        "ty_le_tang_dan_so_tu_nhien": "<= 1",
        "muc_giam_ty_suat_sinh": ">= 1",
        "ty_le_suy_dinh_duong_thap_coi": "< 23",
        "ty_le_suy_dinh_duong_nhe_can": "<= 15.8",
    }
    irrigated = plan.indicator("ty_le_dien_tich_duoc_tuoi")
    assert (irrigated.kind, irrigated.questions) == (
        "ratio",
        ("dien_tich_duoc_tuoi", "dien_tich_gieo_trong_xa"),
    )
    assert plan.indicator("thu_nhap_binh_quan_dau_nguoi").unit == "triệu đồng/người/năm"
    assert plan.indicator("tong_thu_ngan_sach").unit == "triệu đồng"
    # the village forms are those of before, their indicators untouched
    assert plan.indicator_form("tong_dien_tich_gieo_trong").id == "thang"
