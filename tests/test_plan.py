from __future__ import annotations

import unicodedata
from datetime import time
from decimal import Decimal
from pathlib import Path

import pytest

from bot.plan.model import (
    DEFAULT_NOMINATION_KINDS,
    DEFAULT_PLAN_PATH,
    MAX_SHORT_LABEL,
    PERIOD_KINDS,
    PLAN_KEYS,
    QUESTION_TYPES,
    Plan,
    PlanError,
    Problem,
    QuietHours,
    Schedule,
    Target,
    check_plan,
    check_plan_text,
    load_plan,
    short_label,
)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PLAN = ROOT / "plans" / "nam-dong-2024.yaml"

# A small valid plan. The numbers on the right are the line numbers the
# cases below refer to; edits keep every line they do not touch in place.
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
        min: 1
      - id: ho_dien
        ask: Bao nhiêu hộ có điện?
        type: integer
        at_most: tong_ho
      - id: rac
        ask: Có thu gom rác không?
        type: yes_no
      - id: ghi_chu
        ask: Ghi chú?
        type: text
        optional: true
  - id: tuan
    title: Báo cáo tuần
    period: week
    due: 5
    questions:
      - id: vu_viec
        ask: Bao nhiêu vụ việc?
        type: integer
indicators:
  - id: ty_le_dien
    title: Tỷ lệ hộ có điện
    ratio: [ho_dien, tong_ho]
    target: ">= 100"
"""
BASE_LINES = BASE.splitlines()
assert BASE_LINES[9] == "    due: 25"
assert BASE_LINES[38] == '    target: ">= 100"'


def edit(changes: dict[int, str | None], append: str = "") -> str:
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
    return "\n".join(lines) + "\n" + append


def problems_of(text: str) -> list[Problem]:
    plan, problems = check_plan_text(text)
    assert plan is None
    assert problems
    return problems


def assert_problem(text: str, line: int | None, fragment: str) -> None:
    problems = problems_of(text)
    found = [p for p in problems if p.line == line and fragment in p.message]
    assert found, f"no problem on line {line} containing {fragment!r}: {problems}"


# --------------------------------------------------------------------------- the default plan


def test_default_plan_loads_without_problems() -> None:
    plan, problems = check_plan(DEFAULT_PLAN)
    assert problems == []
    assert plan is not None
    assert DEFAULT_PLAN_PATH == DEFAULT_PLAN
    assert plan.source == DEFAULT_PLAN
    assert plan.version == 1
    assert plan.commune == "Xã Nam Dong"
    assert plan.title == "Phong trào thi đua yêu nước năm 2024"
    assert str(plan.tz) == "Asia/Ho_Chi_Minh"
    assert plan.starts is not None and plan.starts.isoformat() == "2024-01-01"
    assert plan.ends is None


def test_default_plan_has_nineteen_villages() -> None:
    plan = load_plan(DEFAULT_PLAN)
    assert len(plan.villages) == 19
    assert [v.id for v in plan.villages] == [f"thon_{n}" for n in range(1, 20)]
    assert [v.name for v in plan.villages] == [f"Thôn {n}" for n in range(1, 20)]


def test_default_plan_forms_and_questions() -> None:
    plan = load_plan(DEFAULT_PLAN)
    month = plan.form("thang")
    assert (month.period, month.due) == ("month", 25)
    week = plan.form("tuan")
    assert (week.period, week.due) == ("week", 5)
    assert 3 <= len(week.questions) <= 4
    for question_id in (
        "tong_ho",
        "ho_co_dien",
        "ho_nuoc_hop_ve_sinh",
        "ho_nuoc_sach",
        "thu_gom_rac",
        "ho_ngheo",
        "ho_can_ngheo",
        "gia_dinh_van_hoa",
        "tre_trong_do_tuoi",
        "tre_den_truong",
        "nguoi_co_bhyt",
        "dan_so",
        "duong_truc_xom_km",
        "duong_cung_hoa_km",
        "hoa_giai",
        "hoa_giai_thanh",
        "nam_dang_ky_nvqs",
        "dien_tich_gieo_trong",
        "ghi_chu",
    ):
        form, question = plan.question(question_id)
        assert form.id == "thang"
        assert question.label and question.ask
    for question_id in ("ho_co_dien", "ho_nuoc_hop_ve_sinh", "ho_nuoc_sach", "ho_ngheo"):
        assert month.question(question_id).at_most == "tong_ho"
    assert month.question("tre_den_truong").at_most == "tre_trong_do_tuoi"
    assert month.question("nguoi_co_bhyt").at_most == "dan_so"
    assert month.question("duong_cung_hoa_km").at_most == "duong_truc_xom_km"
    assert month.question("duong_cung_hoa_km").type == "decimal"
    assert month.question("hoa_giai_thanh").at_most == "hoa_giai"
    assert month.question("thu_gom_rac").type == "yes_no"
    assert month.question("dien_tich_gieo_trong").optional
    assert month.question("ghi_chu").optional and month.question("ghi_chu").type == "text"
    assert month.question("tong_ho").min == Decimal(1)
    assert month.question("tong_ho").unit == "hộ"


def test_default_plan_indicators_follow_the_seed_targets() -> None:
    plan = load_plan(DEFAULT_PLAN)
    village = {q.id for form in plan.village_forms for q in form.questions}
    targets = {
        i.id: str(i.target)
        for i in plan.indicators
        if i.target is not None and set(i.questions) <= village
    }  # the commune's own form's targets: tests/test_plan_scoring.py
    assert targets == {
        "tong_dien_tich_gieo_trong": ">= 4833",
        "ty_le_ho_dung_dien": ">= 100",
        "ty_le_duong_cung_hoa": ">= 80",
        "ty_le_tre_den_truong": ">= 100",
        "ty_le_bhyt": ">= 95",
        "ty_le_thon_van_hoa": ">= 100",
        "ty_le_gia_dinh_van_hoa": ">= 95",
        "ty_le_nuoc_hop_ve_sinh": ">= 100",
        "ty_le_nuoc_sach": "> 35",
        "ty_le_thon_thu_gom_rac": ">= 100",
        "ty_le_hoa_giai_thanh": "> 80",
        "ty_le_ho_ngheo": "decrease >= 1",
        "ty_le_ho_can_ngheo": "decrease >= 1",
    }
    area = plan.indicator("tong_dien_tich_gieo_trong")
    assert (area.kind, area.questions, area.unit) == ("sum", ("dien_tich_gieo_trong",), "ha")
    grid = plan.indicator("ty_le_ho_dung_dien")
    assert (grid.kind, grid.questions, grid.unit) == ("ratio", ("ho_co_dien", "tong_ho"), "%")
    garbage = plan.indicator("ty_le_thon_thu_gom_rac")
    assert (garbage.kind, garbage.questions) == ("share_yes", ("thu_gom_rac",))


def test_base_fixture_is_valid() -> None:
    plan, problems = check_plan_text(BASE)
    assert problems == []
    assert isinstance(plan, Plan)
    assert plan.source is None
    assert [v.id for v in plan.villages] == ["thon_a", "thon_binh"]
    assert plan.form("thang").question("tong_ho").label == "Bao nhiêu hộ"  # its ask, shortened
    assert plan.indicators[0].target == Target(">=", Decimal(100))


# --------------------------------------------------------------------------- model helpers


def test_village_lookup_ignores_case_diacritics_and_spaces() -> None:
    plan = load_plan(DEFAULT_PLAN)
    thon_3 = plan.village("thon_3")
    assert thon_3 is not None and thon_3.name == "Thôn 3"
    for key in ("Thôn 3", "thon 3", "THON 3", "  thôn   3 ", "thon-3", "Thon3", "THÔN_3"):
        assert plan.village(key) == thon_3, key
    assert plan.village("Thôn 20") is None
    assert plan.village("") is None

    base, _ = check_plan_text(BASE)
    assert base is not None
    assert base.village("thon binh") == base.village("thon_binh")
    assert base.village("THÔN BÌNH") is not None


def test_village_lookup_handles_d_with_stroke() -> None:
    text = edit({5: "villages: [Đồng Tâm, {id: buon_dong, name: Buôn Đông}]"})
    plan, problems = check_plan_text(text)
    assert problems == []
    assert plan is not None
    assert [v.id for v in plan.villages] == ["dong_tam", "buon_dong"]
    assert plan.village("dong tam") == plan.villages[0]
    assert plan.village("buon dong") == plan.villages[1]


def test_lookups_raise_key_error() -> None:
    plan = load_plan(DEFAULT_PLAN)
    with pytest.raises(KeyError):
        plan.form("quy")
    with pytest.raises(KeyError):
        plan.question("khong_co")
    with pytest.raises(KeyError):
        plan.form("thang").question("khong_co")


def test_question_numeric() -> None:
    plan, _ = check_plan_text(BASE)
    assert plan is not None
    _, tong_ho = plan.question("tong_ho")
    _, rac = plan.question("rac")
    assert tong_ho.numeric and not rac.numeric


@pytest.mark.parametrize(
    ("spec", "op", "value"),
    [
        (">= 100", ">=", "100"),
        ("<=23", "<=", "23"),
        ("== 6", "==", "6"),
        ("> 35", ">", "35"),
        ("< 15.8", "<", "15.8"),
        ("80", ">=", "80"),
        (4833, ">=", "4833"),
        (15.8, ">=", "15.8"),
        (" >=  95 ", ">=", "95"),
        ("≥ 90", ">=", "90"),
    ],
)
def test_target_parse(spec: str | int | float, op: str, value: str) -> None:
    target = Target.parse(spec)
    assert target.op == op
    assert target.value == Decimal(value)


@pytest.mark.parametrize("spec", ["", ">=", "khoảng 100", "=> 5", ">= abc", "100%", True, None])
def test_target_parse_rejects(spec: object) -> None:
    with pytest.raises(ValueError):
        Target.parse(spec)  # type: ignore[arg-type]


def test_target_met_and_str() -> None:
    assert Target.parse(">= 100").met(Decimal(100))
    assert not Target.parse(">= 100").met(Decimal("99.9"))
    assert not Target.parse("> 80").met(Decimal(80))
    assert Target.parse("> 80").met(Decimal("80.5"))
    assert Target.parse("<= 23").met(Decimal(23))
    assert not Target.parse("< 23").met(Decimal(23))
    assert Target.parse("== 6").met(Decimal("6.0"))
    assert not Target.parse("== 6").met(Decimal(5))
    assert str(Target.parse(">=100")) == ">= 100"
    assert str(Target.parse("< 15.8")) == "< 15.8"
    assert str(Target(">=", Decimal("1E+2"))) == ">= 100"


def test_numbers_may_be_ints_floats_or_strings() -> None:
    text = edit({15: "min: 0.1", 19: "max: '500'\n        at_most: tong_ho"})
    plan, problems = check_plan_text(text)
    assert problems == []
    assert plan is not None
    assert plan.form("thang").question("tong_ho").min == Decimal("0.1")
    assert plan.form("thang").question("ho_dien").max == Decimal(500)


def test_labels_units_and_choices() -> None:
    text = edit(
        {
            13: "ask: Bao nhiêu hộ?\n        label: Tổng số hộ\n        unit: hộ",
            22: "type: choice\n        choices: [Thôn văn hóa, Chưa đạt]",
        }
    )
    plan, problems = check_plan_text(text)
    assert problems == []
    assert plan is not None
    tong_ho = plan.form("thang").question("tong_ho")
    assert (tong_ho.label, tong_ho.unit) == ("Tổng số hộ", "hộ")
    assert plan.form("thang").question("rac").choices == ("Thôn văn hóa", "Chưa đạt")


def test_a_question_without_a_label_is_labelled_by_its_ask_shortened() -> None:
    """The label rule (README, The plan file): ``label`` is optional; without it a question's
    label is its ``ask`` without the question mark, cut at a word to 40 characters."""
    long_ask = (
        "Trong tháng, thôn đã tổ chức bao nhiêu buổi sinh hoạt cộng đồng về phòng chống "
        "tệ nạn xã hội?"
    )
    plan, problems = check_plan_text(edit({17: f"ask: {long_ask}"}))
    assert problems == [] and plan is not None
    assert plan.form("thang").question("tong_ho").label == "Bao nhiêu hộ"
    assert plan.form("thang").question("rac").label == "Có thu gom rác không"
    label = plan.form("thang").question("ho_dien").label
    assert label == "Trong tháng, thôn đã tổ chức bao nhiêu…"
    assert len(label) <= MAX_SHORT_LABEL
    assert long_ask.startswith(label.removesuffix("…"))
    # a label the plan gives is kept as written
    plan, problems = check_plan_text(edit({13: "ask: Bao nhiêu hộ?\n        label: Số hộ"}))
    assert plan is not None and plan.form("thang").question("tong_ho").label == "Số hộ"


@pytest.mark.parametrize(
    ("ask", "label"),
    [
        ("Bao nhiêu hộ?", "Bao nhiêu hộ"),
        ("Ghi chú:", "Ghi chú"),
        ("  Số   hộ  nghèo ? ", "Số hộ nghèo"),
        ("?", "?"),
        ("x" * 60, "x" * 39 + "…"),
    ],
)
def test_short_label(ask: str, label: str) -> None:
    assert short_label(ask) == label


def test_unknown_top_level_keys_are_ignored() -> None:
    text = BASE + "awards:\n  remind: [20, 24]\nnomination_kinds: [nguoi_tot]\n"
    plan, problems = check_plan_text(text)
    assert problems == []
    assert plan is not None


def test_share_yes_and_sum_indicators() -> None:
    text = BASE + (
        "  - id: ty_le_rac\n"  # 40
        "    title: Thôn thu gom rác\n"
        "    share_yes: rac\n"
        "  - id: tong_ho_ca_xa\n"
        "    title: Tổng số hộ\n"
        "    sum: tong_ho\n"
        "    unit: hộ\n"
        "    target: 1000\n"
    )
    plan, problems = check_plan_text(text)
    assert problems == []
    assert plan is not None
    rac = plan.indicators[1]
    assert (rac.kind, rac.questions, rac.unit, rac.target) == ("share_yes", ("rac",), "%", None)
    total = plan.indicators[2]
    assert (total.kind, total.unit, total.target) == ("sum", "hộ", Target(">=", Decimal(1000)))


def test_constants() -> None:
    assert QUESTION_TYPES == ("integer", "decimal", "yes_no", "choice", "text", "photo")
    assert PERIOD_KINDS == ("week", "month", "quarter", "year")


# ------------------------------------------------------------------- problems, one at a time

PROBLEM_CASES: list[tuple[str, str, int | None, str]] = [
    # (case name, text, line, part of the message)
    ("yaml syntax", edit({8: "title: Báo cáo: tháng"}), 8, "Lỗi cú pháp YAML"),
    ("yaml unclosed list", edit({5: "villages: [Thôn A, Thôn Bình"}), 6, "Lỗi cú pháp YAML"),
    ("yaml duplicate key", edit({10: "due: 25\n    due: 26"}), 11, "“due” bị lặp lại"),
    ("plan version", edit({1: "plan: 2"}), 1, "phải là 1"),
    ("plan version text", edit({1: "plan: một"}), 1, "phải là 1"),
    ("empty title", edit({2: "title: ''"}), 2, "“title”"),
    ("unknown timezone", edit({4: "timezone: Asia/Ha_Noi"}), 4, "Múi giờ “Asia/Ha_Noi”"),
    ("impossible date", BASE + "starts: 2024-13-01\n", 40, "Ngày “starts” không hợp lệ"),
    ("date as words", BASE + "ends: cuối năm\n", 40, "Ngày “ends” không hợp lệ"),
    (
        "starts after ends",
        BASE + "starts: 2024-12-31\nends: 2024-01-01\n",
        40,
        "sau ngày kết thúc",
    ),
    ("villages empty", edit({5: "villages: []"}), 5, "“villages” đang trống"),
    ("villages not a list", edit({5: "villages: Thôn A"}), 5, "“villages” phải là một danh sách"),
    ("duplicate village name", edit({5: "villages: [Thôn A, thon a]"}), 5, "Tên thôn “thon a”"),
    (
        "duplicate village name in a block list",
        edit({5: "villages:\n  - Thôn A\n  - Thôn Bình\n  - THÔN BÌNH"}),
        8,
        "bị trùng",
    ),
    (
        "duplicate village id",
        edit({5: "villages: [{id: a, name: Thôn A}, {id: a, name: Thôn B}]"}),
        5,
        "Mã thôn “a” bị trùng",
    ),
    ("village id bad", edit({5: "villages: [{id: Thôn-A, name: Thôn A}]"}), 5, "Mã “Thôn-A”"),
    ("village without name", edit({5: "villages: [{id: a}]"}), 5, "“name”"),
    ("village not a name", edit({5: "villages: [[Thôn A]]"}), 5, "Mỗi thôn"),
    ("no forms", "\n".join(BASE_LINES[:5]) + "\nforms: []\n", 6, "chưa có biểu mẫu"),
    ("forms not a list", "\n".join(BASE_LINES[:5]) + "\nforms: thang\n", 6, "“forms” phải là"),
    ("bad form id", edit({7: "- id: Tháng"}), 7, "Mã “Tháng” không hợp lệ"),
    ("form id with dash", edit({7: "- id: bao-cao"}), 7, "Mã “bao-cao” không hợp lệ"),
    ("duplicate form id", edit({27: "- id: thang"}), 27, "Mã biểu mẫu “thang” bị trùng"),
    ("form without title", edit({8: None}), 7, "Thiếu khóa bắt buộc “title”"),
    ("unknown period", edit({9: "period: daily"}), 9, "Kỳ báo cáo “daily”"),
    ("due zero", edit({10: "due: 0"}), 10, "“due”"),
    ("due not an integer", edit({10: "due: 2.5"}), 10, "“due”"),
    ("due as text", edit({10: "due: ngày 25"}), 10, "“due”"),
    ("due past the week", edit({30: "due: 8"}), 30, "tối đa 7"),
    ("form without due", edit({30: None}), 27, "Thiếu khóa bắt buộc “due”"),
    ("no questions", edit({31: "questions: []", 32: None, 33: None, 34: None}), 31, "chưa có câu"),
    ("questions missing", edit({31: None, 32: None, 33: None, 34: None}), 27, "“questions”"),
    ("bad question id", edit({12: "- id: Tong Ho"}), 12, "Mã “Tong Ho” không hợp lệ"),
    (
        "duplicate question id in another form",
        edit({32: "- id: tong_ho"}),
        32,
        "Mã câu hỏi “tong_ho” bị trùng",
    ),
    ("duplicate question id", edit({20: "- id: ho_dien"}), 20, "Mã câu hỏi “ho_dien” bị trùng"),
    ("missing ask", edit({13: None}), 12, "Thiếu khóa bắt buộc “ask”"),
    ("empty ask", edit({13: "ask:"}), 13, "“ask”"),
    ("missing type", edit({14: None}), 12, "Thiếu khóa bắt buộc “type”"),
    ("unknown type", edit({14: "type: number"}), 14, "Loại câu hỏi “number”"),
    ("choice without choices", edit({22: "type: choice"}), 20, "ít nhất 2 lựa chọn"),
    (
        "choice with one choice",
        edit({22: "type: choice\n        choices: [Có]"}),
        23,
        "ít nhất 2 lựa chọn",
    ),
    (
        "duplicate choice",
        edit({22: "type: choice\n        choices:\n          - Có\n          - có"}),
        25,
        "Lựa chọn “có” bị trùng",
    ),
    (
        "choices on a text question",
        edit({25: "type: text\n        choices: [a, b]"}),
        26,
        "Chỉ câu hỏi loại choice",
    ),
    ("min not a number", edit({15: "min: nhiều"}), 15, "“min” phải là một số"),
    ("max not a number", edit({15: "max: [1]"}), 15, "“max” phải là một số"),
    ("min above max", edit({15: "min: 10\n        max: 5"}), 15, "“min” (10) lớn hơn “max” (5)"),
    ("min on a text question", edit({25: "type: text\n        min: 1"}), 26, "“min” chỉ dùng"),
    ("max on a yes_no question", edit({22: "type: yes_no\n        max: 1"}), 23, "“max” chỉ dùng"),
    ("at_most missing question", edit({19: "at_most: tong"}), 19, "“tong” không có"),
    ("at_most itself", edit({19: "at_most: ho_dien"}), 19, "chính câu hỏi này"),
    ("at_most non-numeric", edit({19: "at_most: rac"}), 19, "“rac” không phải dạng số"),
    ("at_most not an id", edit({19: "at_most: [tong_ho]"}), 19, "“at_most” phải là mã"),
    (
        "at_most other form",
        edit({34: "type: integer\n        at_most: tong_ho"}),
        35,
        "biểu mẫu khác (thang)",
    ),
    (
        "at_most on a yes_no question",
        edit({22: "type: yes_no\n        at_most: tong_ho"}),
        23,
        "“at_most” chỉ dùng",
    ),
    ("unknown question key", edit({15: "mn: 1"}), 15, "Khóa “mn” không dùng được"),
    ("optional not a boolean", edit({26: "optional: có"}), 26, "“optional” phải là true"),
    (
        "indicators not a list",
        edit({36: None, 37: None, 38: None, 39: None}) + "  x: 1\n",
        35,
        "“indicators” phải là một danh sách",
    ),
    ("indicator without id", edit({36: "- name: ty_le"}), 36, "Thiếu khóa bắt buộc “id”"),
    ("indicator without title", edit({37: None}), 36, "Thiếu khóa bắt buộc “title”"),
    ("indicator bad id", edit({36: "- id: Tỷ lệ"}), 36, "Mã “Tỷ lệ”"),
    (
        "duplicate indicator id",
        BASE + "  - id: ty_le_dien\n    title: Lần nữa\n    share_yes: rac\n",
        40,
        "Mã chỉ tiêu “ty_le_dien” bị trùng",
    ),
    ("indicator without kind", edit({38: "unit: '%'"}), 36, "đúng một trong"),
    (
        "indicator with two kinds",
        edit({38: "ratio: [ho_dien, tong_ho]\n    sum: tong_ho"}),
        36,
        "đúng một trong",
    ),
    ("ratio of one", edit({38: "ratio: [ho_dien]"}), 38, "đúng hai mã câu hỏi"),
    ("ratio of three", edit({38: "ratio: [ho_dien, tong_ho, rac]"}), 38, "đúng hai"),
    ("ratio not a list", edit({38: "ratio: ho_dien"}), 38, "đúng hai mã câu hỏi"),
    ("ratio missing question", edit({38: "ratio: [ho_dien, tong]"}), 38, "“tong” không có"),
    (
        "ratio missing question in a block list",
        edit({38: "ratio:\n      - ho_dien\n      - tong"}),
        40,
        "“tong” không có",
    ),
    ("ratio non-numeric", edit({38: "ratio: [rac, tong_ho]"}), 38, "“ratio” cần câu hỏi dạng số"),
    (
        "ratio across forms",
        edit({38: "ratio: [vu_viec, tong_ho]"}),
        38,
        "phải thuộc cùng một biểu mẫu",
    ),
    ("sum non-numeric", edit({38: "sum: ghi_chu"}), 38, "“sum” cần câu hỏi dạng số"),
    ("sum missing question", edit({38: "sum: dien_tich"}), 38, "“dien_tich” không có"),
    ("share_yes non-yes_no", edit({38: "share_yes: tong_ho"}), 38, "cần câu hỏi loại yes_no"),
    ("share_yes a list", edit({38: "share_yes: [rac]"}), 38, "“share_yes” phải là mã"),
    ("bad target", edit({39: 'target: "khoảng 100"'}), 39, "Mục tiêu “khoảng 100”"),
    ("target without number", edit({39: 'target: ">="'}), 39, "Mục tiêu “>=”"),
    ("target a list", edit({39: "target: [100]"}), 39, "Mục tiêu"),
]


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [case[1:] for case in PROBLEM_CASES],
    ids=[case[0] for case in PROBLEM_CASES],
)
def test_each_problem_is_reported_on_its_line(text: str, line: int | None, fragment: str) -> None:
    assert_problem(text, line, fragment)


@pytest.mark.parametrize("key", ["plan", "title", "commune", "timezone", "villages", "forms"])
def test_missing_required_key(key: str) -> None:
    number = {"plan": 1, "title": 2, "commune": 3, "timezone": 4, "villages": 5}.get(key)
    if key == "forms":
        text = "\n".join(BASE_LINES[:5]) + "\n"
    else:
        text = edit({number: None}) if number else BASE
    problems = problems_of(text)
    assert Problem(1, f"Thiếu khóa bắt buộc “{key}”.") in problems


def test_syntax_error_is_the_only_problem() -> None:
    problems = problems_of(edit({2: "title: a: b", 9: "period: daily"}))
    assert len(problems) == 1
    assert problems[0].line == 2


def test_empty_and_non_mapping_plans() -> None:
    assert problems_of("") == [Problem(None, "Tệp kế hoạch trống.")]
    assert problems_of("# chỉ có ghi chú\n") == [Problem(None, "Tệp kế hoạch trống.")]
    [problem] = problems_of("- Thôn 1\n- Thôn 2\n")
    assert problem.line == 1


def test_unknown_yaml_tag_is_a_problem_not_an_exception() -> None:
    [problem] = problems_of(BASE + "extra: !thu x\n")
    assert problem.line == 40
    assert "Lỗi cú pháp YAML" in problem.message


@pytest.mark.parametrize(
    ("text", "line", "column", "fragments"),
    [
        (
            edit({8: "title: Báo cáo: tháng"}),
            8,
            19,
            ["dấu hai chấm “:” ở chỗ không được dùng", '"Báo cáo: tháng"'],
        ),
        (
            edit({5: "villages: [Thôn A, Thôn Bình"}),
            6,
            6,
            ["danh sách mở bằng “[” ở dòng 5", "“]” đóng"],
        ),
        (edit({2: "title: 'Thi đua thử"}), None, None, ["chuỗi mở bằng dấu ngoặc ở dòng 2"]),
        (edit({10: "due:\t25"}), 10, 9, ["ký tự Tab"]),
        (edit({10: "due 25"}), 10, 5, ["thiếu dấu hai chấm"]),
        (
            edit({12: "- id: tong_ho\n       ask: Bao nhiêu hộ?"}),
            13,
            8,
            ["thụt lề của dòng này không khớp"],
        ),
        (edit({13: "ask: *hộ"}), 13, 16, ["dấu “*” hoặc “&”"]),
        (edit({2: "title: Thi đua\x07 thử"}), 2, 15, ["ký tự điều khiển", "#x0007"]),
        (BASE + "---\nplan: 1\n", 40, 1, ["chỉ được chứa một kế hoạch"]),
    ],
    ids=["colon", "list", "quote", "tab", "no colon", "indent", "alias", "bell", "two"],
)
def test_a_yaml_syntax_error_is_said_in_vietnamese_at_its_line_and_column(
    text: str, line: int | None, column: int | None, fragments: list[str]
) -> None:
    [problem] = problems_of(text)
    if line is not None:
        assert (problem.line, problem.column) == (line, column)
        assert str(problem).startswith(f"dòng {line}, cột {column}: Lỗi cú pháp YAML: ")
    else:  # at the end of the file: the line it opened on is in the message
        assert problem.line is not None and problem.column is not None
    for fragment in fragments:
        assert fragment in problem.message
    # PyYAML's English is not what the officer reads
    for english in ("mapping values", "expected", "found", "while scanning", "could not"):
        assert english not in problem.message


# --------------------------------------------------------------------------- many problems at once


def test_every_problem_is_reported_at_once_in_line_order() -> None:
    text = edit(
        {
            1: "plan: 3",
            4: "timezone: Sao/Hoa",
            9: "period: fortnight",
            15: "mn: 1",
            19: "at_most: tong",
            22: "type: boolean",
            30: "due: 0",
            38: "ratio: [ho_dien]",
            39: "target: nhiều",
        }
    )
    problems = problems_of(text)
    assert [p.line for p in problems] == [1, 4, 9, 15, 19, 22, 30, 38, 39]
    assert "phải là 1" in problems[0].message
    assert "Sao/Hoa" in problems[1].message
    assert "fortnight" in problems[2].message
    assert "“mn”" in problems[3].message
    assert "“tong”" in problems[4].message
    assert "“boolean”" in problems[5].message
    assert "“due”" in problems[6].message
    assert "đúng hai" in problems[7].message
    assert "nhiều" in problems[8].message


@pytest.mark.parametrize(
    ("changes", "line"),
    [
        ({14: "type: so_nguyen"}, 14),
        ({13: None}, 12),
        ({13: "ask: ''"}, 13),
        ({14: None}, 12),
    ],
)
def test_a_broken_question_is_reported_once(changes: dict[int, str | None], line: int) -> None:
    # tong_ho is still known by its id: the at_most and the ratio pointing at it
    # are not reported as pointing at a missing question, and its min is not blamed.
    problems = problems_of(edit(changes))
    assert [p.line for p in problems] == [line]


# --------------------------------------------------------------------------- files and errors


def test_check_plan_reads_files(tmp_path: Path) -> None:
    good = tmp_path / "tot.yaml"
    good.write_text(BASE, encoding="utf-8")
    plan, problems = check_plan(str(good))
    assert problems == []
    assert plan is not None and plan.source == good


def test_check_plan_never_raises_for_missing_or_unreadable_files(tmp_path: Path) -> None:
    plan, problems = check_plan(tmp_path / "khong_co.yaml")
    assert plan is None
    assert len(problems) == 1 and problems[0].line is None
    assert "Không đọc được tệp kế hoạch" in problems[0].message

    binary = tmp_path / "nhi_phan.yaml"
    binary.write_bytes(b"\xff\xfe\x00plan")
    plan, problems = check_plan(binary)
    assert plan is None and len(problems) == 1


def test_problem_str() -> None:
    assert str(Problem(12, "Thiếu khóa.")) == "dòng 12: Thiếu khóa."
    assert str(Problem(None, "Tệp kế hoạch trống.")) == "Tệp kế hoạch trống."


def test_load_plan_raises_plan_error_with_every_problem(tmp_path: Path) -> None:
    bad = tmp_path / "hong.yaml"
    bad.write_text(edit({1: "plan: 2", 10: "due: 0"}), encoding="utf-8")
    with pytest.raises(PlanError) as caught:
        load_plan(bad)
    error = caught.value
    assert [p.line for p in error.problems] == [1, 10]
    lines = str(error).splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("dòng 1: ") and "phải là 1" in lines[0]
    assert lines[1].startswith("dòng 10: ") and "“due”" in lines[1]


def test_load_plan_returns_the_plan(tmp_path: Path) -> None:
    good = tmp_path / "tot.yaml"
    good.write_text(BASE, encoding="utf-8")
    plan = load_plan(good)
    assert plan.form("tuan").due == 5


# --------------------------------------------------------------------------- schedule

# BASE has 39 lines: a schedule section appended to it starts on line 40.


def schedule_of(section: str) -> Schedule:
    plan, problems = check_plan_text(BASE + section)
    assert problems == []
    assert plan is not None
    return plan.schedule


def test_schedule_defaults_when_absent() -> None:
    plan, problems = check_plan_text(BASE)
    assert problems == [] and plan is not None
    assert plan.schedule == Schedule()
    assert plan.schedule.reminders == (-3, 0, 1)
    assert plan.schedule.reminder_time == time(8, 0)
    assert (plan.schedule.digest_weekday, plan.schedule.digest_time) == (0, time(7, 30))
    assert plan.schedule.quiet_hours == QuietHours(time(21, 0), time(7, 0))
    assert load_plan(DEFAULT_PLAN).schedule == Schedule()
    assert "schedule" in PLAN_KEYS


def test_plan_can_still_be_built_without_a_schedule() -> None:
    plan = Plan(1, "t", "c", "Asia/Ho_Chi_Minh", None, None, (), (), ())
    assert plan.schedule == Schedule()


@pytest.mark.parametrize("section", ["schedule:\n", "schedule: {}\n", "schedule: null\n"])
def test_empty_schedule_section_means_defaults(section: str) -> None:
    assert schedule_of(section) == Schedule()


def test_every_schedule_key_is_optional() -> None:
    assert schedule_of("schedule:\n  reminders: [2]\n") == Schedule(reminders=(2,))
    assert schedule_of("schedule:\n  reminder_time: '09:15'\n") == Schedule(
        reminder_time=time(9, 15)
    )
    assert schedule_of("schedule:\n  digest: friday 17:00\n") == Schedule(
        digest_weekday=4, digest_time=time(17, 0)
    )
    assert schedule_of("schedule:\n  quiet_hours: 22:00-06:00\n") == Schedule(
        quiet_hours=QuietHours(time(22), time(6))
    )


def test_full_schedule_section() -> None:
    schedule = schedule_of(
        "schedule:\n"
        "  reminders: [1, -3, 0, -7]\n"
        '  reminder_time: "07:45"\n'
        '  digest: "thứ bảy 16:30"\n'
        '  quiet_hours: "22:30-06:15"\n'
    )
    assert schedule == Schedule(
        reminders=(-7, -3, 0, 1),
        reminder_time=time(7, 45),
        digest_weekday=5,
        digest_time=time(16, 30),
        quiet_hours=QuietHours(time(22, 30), time(6, 15)),
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("[]", ()),
        ("[0]", (0,)),
        ("[-31, 31]", (-31, 31)),
        ("[3, 2, 1, -1]", (-1, 1, 2, 3)),
        ("\n    - 1\n    - -3", (-3, 1)),
    ],
)
def test_reminders(value: str, expected: tuple[int, ...]) -> None:
    assert schedule_of(f"schedule:\n  reminders: {value}\n").reminders == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"08:00"', time(8, 0)),
        ('"8:00"', time(8, 0)),
        ("08:00", time(8, 0)),
        ("8:00", time(8, 0)),  # YAML 1.1 reads this as 480 (base 60): still 08:00
        ("'7:05'", time(7, 5)),
        ("'20:59'", time(20, 59)),
        ("'07:00'", time(7, 0)),  # when the quiet hours end
        (" ' 9:30 '", time(9, 30)),
    ],
)
def test_reminder_time(value: str, expected: time) -> None:
    assert schedule_of(f"schedule:\n  reminder_time: {value}\n").reminder_time == expected


def test_unquoted_times_past_noon_and_midnight() -> None:
    schedule = schedule_of(
        "schedule:\n  reminder_time: 0:30\n  digest: monday 23:59\n  quiet_hours: false\n"
    )
    assert (schedule.reminder_time, schedule.digest_time) == (time(0, 30), time(23, 59))
    assert schedule_of("schedule:\n  reminder_time: 13:05\n").reminder_time == time(13, 5)


@pytest.mark.parametrize(
    ("value", "weekday", "moment"),
    [
        ("monday 07:30", 0, time(7, 30)),
        ("Monday 7:30", 0, time(7, 30)),
        ("TUESDAY 08:00", 1, time(8, 0)),
        ("wednesday 08:00", 2, time(8, 0)),
        ("thursday 08:00", 3, time(8, 0)),
        ("friday 17:00", 4, time(17, 0)),
        ("saturday 10:00", 5, time(10, 0)),
        ("sunday 18:00", 6, time(18, 0)),
        ("thứ hai 07:30", 0, time(7, 30)),
        ("Thứ Ba 07:30", 1, time(7, 30)),
        ("thứ tư 07:30", 2, time(7, 30)),
        ("thứ năm 07:30", 3, time(7, 30)),
        ("thứ sáu 07:30", 4, time(7, 30)),
        ("THỨ BẢY 07:30", 5, time(7, 30)),
        ("chủ nhật 07:30", 6, time(7, 30)),
        ("Chủ Nhật 07:30", 6, time(7, 30)),
        ("thu hai 07:30", 0, time(7, 30)),
        ("thu bay 07:30", 5, time(7, 30)),
        ("chu nhat 07:30", 6, time(7, 30)),
        ("thu 2 07:30", 0, time(7, 30)),
        ("thứ 4 07:30", 2, time(7, 30)),
        ("thu 7 07:30", 5, time(7, 30)),
        ("cn 07:30", 6, time(7, 30)),
        ("CN 9:00", 6, time(9, 0)),
        ("  thứ   hai   07:30 ", 0, time(7, 30)),
    ],
)
def test_digest(value: str, weekday: int, moment: time) -> None:
    schedule = schedule_of(f'schedule:\n  digest: "{value}"\n')
    assert (schedule.digest_weekday, schedule.digest_time) == (weekday, moment)


@pytest.mark.parametrize("value", ["null", "false", "", "~"])
def test_digest_can_be_turned_off(value: str) -> None:
    schedule = schedule_of(f"schedule:\n  digest: {value}\n")
    assert schedule.digest_weekday is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"21:00-07:00"', QuietHours(time(21), time(7))),
        ("22:00-06:00", QuietHours(time(22), time(6))),
        ("'22:00 - 6:00'", QuietHours(time(22), time(6))),
        ("'22:00–06:00'", QuietHours(time(22), time(6))),
        ("'12:00-13:30'", QuietHours(time(12), time(13, 30))),
        ("null", None),
        ("false", None),
    ],
)
def test_quiet_hours(value: str, expected: QuietHours | None) -> None:
    assert schedule_of(f"schedule:\n  quiet_hours: {value}\n").quiet_hours == expected


def test_quiet_hours_contains() -> None:
    night = QuietHours(time(21), time(7))
    for inside in (time(21), time(23, 59), time(0), time(3), time(6, 59, 59)):
        assert night.contains(inside), inside
    for outside in (time(7), time(12), time(20, 59, 59)):
        assert not night.contains(outside), outside
    lunch = QuietHours(time(12), time(13, 30))
    assert lunch.contains(time(12)) and lunch.contains(time(13, 29))
    assert not lunch.contains(time(13, 30)) and not lunch.contains(time(11, 59))
    assert not lunch.contains(time(0))
    assert str(night) == "21:00–07:00"


SCHEDULE_PROBLEMS: list[tuple[str, str, int, str]] = [
    # (case name, section appended to BASE, line, part of the message)
    ("not a mapping", "schedule: [1, 2]\n", 40, "“schedule” phải là một bảng các khóa"),
    ("a string", "schedule: hằng ngày\n", 40, "“schedule” phải là một bảng các khóa"),
    (
        "unknown key",
        "schedule:\n  reminders: [1]\n  remind: [2]\n",
        42,
        "Khóa “remind” không dùng được trong lịch gửi “schedule”; các khóa hợp lệ: "
        "reminders, reminder_time, digest, quiet_hours",
    ),
    ("reminders not a list", "schedule:\n  reminders: 3\n", 41, "“reminders” phải là"),
    ("reminders null", "schedule:\n  reminders:\n", 41, "“reminders” phải là"),
    ("reminder as text", "schedule:\n  reminders: [-3, ba]\n", 41, "Ngày nhắc “ba”"),
    ("reminder a float", "schedule:\n  reminders: [1.5]\n", 41, "Ngày nhắc “1.5”"),
    ("reminder a bool", "schedule:\n  reminders: [true]\n", 41, "Ngày nhắc “true”"),
    ("reminder a string number", "schedule:\n  reminders: ['1']\n", 41, "Ngày nhắc “1”"),
    ("reminder too early", "schedule:\n  reminders: [-32]\n", 41, "từ -31 đến 31"),
    ("reminder too late", "schedule:\n  reminders: [32]\n", 41, "từ -31 đến 31"),
    (
        "reminder too late in a block list",
        "schedule:\n  reminders:\n    - 1\n    - 45\n",
        43,
        "Ngày nhắc “45”",
    ),
    ("duplicate reminder", "schedule:\n  reminders: [0, 1, 0]\n", 41, "Ngày nhắc “0” bị trùng"),
    (
        "duplicate reminder in a block list",
        "schedule:\n  reminders:\n    - -3\n    - 0\n    - -3\n",
        44,
        "Ngày nhắc “-3” bị trùng",
    ),
    ("reminder_time 24:00", "schedule:\n  reminder_time: '24:00'\n", 41, "“24:00”"),
    ("reminder_time 24:00 unquoted", "schedule:\n  reminder_time: 24:00\n", 41, "“24:00”"),
    ("reminder_time 8h", "schedule:\n  reminder_time: 8h\n", 41, "Giờ “reminder_time”"),
    ("reminder_time 08:60", "schedule:\n  reminder_time: '08:60'\n", 41, "“08:60”"),
    ("reminder_time 8:60 unquoted", "schedule:\n  reminder_time: 8:60\n", 41, "“8:60”"),
    ("reminder_time a number", "schedule:\n  reminder_time: 8\n", 41, "“8”"),
    ("reminder_time minutes", "schedule:\n  reminder_time: 480\n", 41, "“480”"),
    ("reminder_time seconds", "schedule:\n  reminder_time: 8:00:00\n", 41, "“8:00:00”"),
    ("reminder_time empty", "schedule:\n  reminder_time:\n", 41, "“null”"),
    ("reminder_time AM", "schedule:\n  reminder_time: 8:00 AM\n", 41, "“8:00 AM”"),
    ("digest without time", "schedule:\n  digest: monday\n", 41, "“digest” không hợp lệ"),
    ("digest true", "schedule:\n  digest: true\n", 41, "“digest” không hợp lệ: “true”"),
    ("digest time only", "schedule:\n  digest: '07:30'\n", 41, "“digest” không hợp lệ"),
    ("digest time only unquoted", "schedule:\n  digest: 7:30\n", 41, "“7:30”"),
    ("digest bad weekday", "schedule:\n  digest: funday 07:30\n", 41, "“funday”"),
    ("digest weekday number", "schedule:\n  digest: thu 8 07:30\n", 41, "“thu 8”"),
    ("digest bad time", "schedule:\n  digest: monday 25:00\n", 41, "“25:00”"),
    ("digest time first", "schedule:\n  digest: 07:30 monday\n", 41, "“07:30”"),
    ("quiet_hours one time", "schedule:\n  quiet_hours: '21:00'\n", 41, "“quiet_hours”"),
    ("quiet_hours unquoted", "schedule:\n  quiet_hours: 21:00\n", 41, "“21:00”"),
    ("quiet_hours hours", "schedule:\n  quiet_hours: 21-7\n", 41, "“21-7”"),
    ("quiet_hours bad time", "schedule:\n  quiet_hours: 21:00-24:00\n", 41, "“21:00-24:00”"),
    ("quiet_hours true", "schedule:\n  quiet_hours: true\n", 41, "“true”"),
    ("quiet_hours empty span", "schedule:\n  quiet_hours: 21:00-21:00\n", 41, "cùng lúc"),
]


@pytest.mark.parametrize(
    ("section", "line", "fragment"),
    [case[1:] for case in SCHEDULE_PROBLEMS],
    ids=[case[0] for case in SCHEDULE_PROBLEMS],
)
def test_each_schedule_problem_is_reported_on_its_line(
    section: str, line: int, fragment: str
) -> None:
    assert_problem(BASE + section, line, fragment)


@pytest.mark.parametrize(
    ("section", "line", "key"),
    [
        ("schedule:\n  reminder_time: '22:00'\n", 41, "reminder_time"),
        ("schedule:\n  reminder_time: '21:00'\n", 41, "reminder_time"),
        ("schedule:\n  reminder_time: 6:59\n", 41, "reminder_time"),
        ("schedule:\n  digest: sunday 06:00\n", 41, "digest"),
        ("schedule:\n  quiet_hours: 12:00-13:00\n  reminder_time: 12:30\n", 42, "reminder_time"),
        # left at their defaults, the times are blamed on the quiet hours that cover them
        ("schedule:\n  quiet_hours: 06:00-09:00\n", 41, "reminder_time"),
        ("schedule:\n  quiet_hours: 07:00-07:45\n", 41, "digest"),
    ],
)
def test_a_time_within_the_quiet_hours_is_a_problem(section: str, line: int, key: str) -> None:
    problems = problems_of(BASE + section)
    [problem] = [p for p in problems if f"“{key}”" in p.message]
    assert problem.line == line
    assert "rơi vào giờ yên lặng" in problem.message
    assert "khi hết giờ yên lặng" in problem.message


def test_both_times_within_the_quiet_hours() -> None:
    problems = problems_of(BASE + "schedule:\n  quiet_hours: '05:00-09:00'\n")
    assert [p.line for p in problems] == [41, 41]
    assert problems[0].message == (
        "Giờ “reminder_time” (08:00) rơi vào giờ yên lặng 05:00–09:00: tin sẽ chỉ được gửi "
        "khi hết giờ yên lặng. Hãy dời sang một giờ ngoài khoảng này."
    )
    assert "“digest” (07:30)" in problems[1].message


def test_times_at_the_edges_of_the_quiet_hours() -> None:
    schedule = schedule_of(
        "schedule:\n  reminder_time: '07:00'\n  digest: monday 20:59\n  quiet_hours: 21:00-07:00\n"
    )
    assert (schedule.reminder_time, schedule.digest_time) == (time(7), time(20, 59))


def test_a_turned_off_digest_may_keep_any_time() -> None:
    schedule = schedule_of(
        "schedule:\n  digest: false\n  quiet_hours: 07:00-08:00\n  reminder_time: '09:00'\n"
    )
    assert schedule.digest_weekday is None
    assert schedule.quiet_hours == QuietHours(time(7), time(8))


def test_without_quiet_hours_any_time_will_do() -> None:
    schedule = schedule_of(
        "schedule:\n  quiet_hours: null\n  reminder_time: '23:30'\n  digest: cn 03:00\n"
    )
    assert (schedule.reminder_time, schedule.digest_weekday, schedule.digest_time) == (
        time(23, 30),
        6,
        time(3, 0),
    )


def test_every_schedule_problem_is_reported_at_once() -> None:
    text = edit({10: "due: 0"}) + (
        "schedule:\n"  # 40
        "  reminders: [-3, x, -3]\n"
        "  reminder_time: 8h\n"
        "  digest: someday 7:30\n"
        "  quiet_hours: 21:00\n"
        "  weekly: true\n"  # 45
    )
    problems = problems_of(text)
    assert [p.line for p in problems] == [10, 41, 41, 42, 43, 44, 45]
    assert "“due”" in problems[0].message
    assert "Ngày nhắc “x”" in problems[1].message
    assert "Ngày nhắc “-3” bị trùng" in problems[2].message
    assert "“8h”" in problems[3].message
    assert "“someday”" in problems[4].message
    assert "“21:00”" in problems[5].message
    assert "Khóa “weekly”" in problems[6].message


def test_the_quiet_hours_are_checked_with_what_could_be_read() -> None:
    # a time that could not be read is reported once, not also against the quiet hours
    problems = problems_of(BASE + "schedule:\n  reminder_time: '22:00'\n  digest: monday\n")
    assert [p.line for p in problems] == [41, 42]
    assert "rơi vào giờ yên lặng" in problems[0].message
    assert "“digest” không hợp lệ" in problems[1].message
    problems = problems_of(BASE + "schedule:\n  reminder_time: '24:00'\n  digest: cn 06:00\n")
    assert [p.line for p in problems] == [41, 42]
    assert "“24:00”" in problems[0].message
    assert "rơi vào giờ yên lặng" in problems[1].message
    problems = problems_of(BASE + "schedule:\n  reminder_time: '22:00'\n  quiet_hours: 21h\n")
    assert [p.line for p in problems] == [42]
    problems = problems_of(BASE + "schedule:\n  reminders: [x]\n  reminder_time: '22:00'\n")
    assert [p.line for p in problems] == [41, 42]


def test_schedule_problems_go_through_load_plan(tmp_path: Path) -> None:
    bad = tmp_path / "hong.yaml"
    bad.write_text(BASE + "schedule:\n  reminder_time: '24:00'\n", encoding="utf-8")
    with pytest.raises(PlanError) as caught:
        load_plan(bad)
    assert [p.line for p in caught.value.problems] == [41]
    assert str(caught.value).startswith("dòng 41: Giờ “reminder_time” không hợp lệ: “24:00”")


# --------------------------------------------------------------------------- nomination kinds

# Like the schedule, a nomination_kinds section appended to BASE starts on line 40.


def kinds_of(section: str) -> tuple[str, ...]:
    plan, problems = check_plan_text(BASE + section)
    assert problems == []
    assert plan is not None
    return plan.nomination_kinds


def test_nomination_kinds_default_when_absent() -> None:
    plan, problems = check_plan_text(BASE)
    assert problems == [] and plan is not None
    assert (
        plan.nomination_kinds
        == DEFAULT_NOMINATION_KINDS
        == (
            "Sản xuất kinh doanh giỏi",
            "Từ thiện nhân đạo",
            "Sáng kiến cải tiến",
            "Cán bộ gương mẫu",
            "Người tốt việc tốt",
            "Khác",
        )
    )
    assert load_plan(DEFAULT_PLAN).nomination_kinds == DEFAULT_NOMINATION_KINDS
    assert "nomination_kinds" in PLAN_KEYS
    built = Plan(1, "t", "c", "Asia/Ho_Chi_Minh", None, None, (), (), ())
    assert built.nomination_kinds == DEFAULT_NOMINATION_KINDS


def test_custom_nomination_kinds_keep_their_order() -> None:
    assert kinds_of(
        "nomination_kinds:\n  - Hiến đất làm đường\n  - '  Dân vận khéo  '\n  - Khác\n"
    ) == ("Hiến đất làm đường", "Dân vận khéo", "Khác")
    assert kinds_of("nomination_kinds: [Một loại]\n") == ("Một loại",)


def test_nomination_kinds_at_the_limits() -> None:
    twelve = [f"Loại {n}" for n in range(1, 13)]
    assert kinds_of(f"nomination_kinds: [{', '.join(twelve)}]\n") == tuple(twelve)
    longest = "Đ" * 40
    assert kinds_of(f"nomination_kinds: [{longest}]\n") == (longest,)


def test_nomination_kind_length_counts_letters_not_code_points() -> None:
    # the same 40 letters written decomposed (a letter, then its marks) still fit
    decomposed = unicodedata.normalize("NFD", "Ắ" * 40)
    assert len(decomposed) > 40
    assert kinds_of(f"nomination_kinds: ['{decomposed}']\n") == ("Ắ" * 40,)


NOMINATION_KIND_PROBLEMS: list[tuple[str, str, int, str]] = [
    # (case name, section appended to BASE, line, part of the message)
    ("not a list", "nomination_kinds: Khác\n", 40, "“nomination_kinds” phải là một danh sách"),
    ("a mapping", "nomination_kinds:\n  a: b\n", 40, "“nomination_kinds” phải là một danh sách"),
    ("null", "nomination_kinds:\n", 40, "“nomination_kinds” phải là một danh sách"),
    ("empty list", "nomination_kinds: []\n", 40, "“nomination_kinds” đang trống"),
    ("a number", "nomination_kinds:\n  - Khác\n  - 12\n", 42, "Loại gương “12” phải là một chuỗi"),
    ("a bool", "nomination_kinds: [true]\n", 40, "Loại gương “true” phải là một chuỗi"),
    ("a null item", "nomination_kinds:\n  -\n", 41, "Loại gương “null” phải là một chuỗi"),
    ("a nested list", "nomination_kinds:\n  - [a, b]\n", 41, "phải là một chuỗi chữ"),
    ("an empty name", "nomination_kinds:\n  - Khác\n  - ''\n", 42, "không được để trống"),
    ("a blank name", "nomination_kinds: ['   ']\n", 40, "không được để trống"),
    (
        "too long",
        "nomination_kinds:\n  - Khác\n  - " + "a" * 41 + "\n",
        42,
        "dài quá: nhiều nhất 40 ký tự",
    ),
    (
        "duplicate",
        "nomination_kinds:\n  - Khác\n  - Từ thiện\n  - Khác\n",
        43,
        "Loại gương “Khác” bị trùng với “Khác”",
    ),
    (
        "duplicate without case or diacritics",
        "nomination_kinds:\n  - Từ thiện nhân đạo\n  - tu thien  nhan dao\n",
        42,
        "Loại gương “tu thien  nhan dao” bị trùng với “Từ thiện nhân đạo”",
    ),
    (
        "too many",
        "nomination_kinds: [" + ", ".join(f"Loại {n}" for n in range(1, 14)) + "]\n",
        40,
        "Có 13 loại gương trong “nomination_kinds”, nhiều nhất được 12 loại",
    ),
]


@pytest.mark.parametrize(
    ("section", "line", "fragment"),
    [case[1:] for case in NOMINATION_KIND_PROBLEMS],
    ids=[case[0] for case in NOMINATION_KIND_PROBLEMS],
)
def test_each_nomination_kind_problem_is_reported_on_its_line(
    section: str, line: int, fragment: str
) -> None:
    assert_problem(BASE + section, line, fragment)


def test_every_nomination_kind_problem_is_reported_at_once() -> None:
    text = edit({10: "due: 0"}) + (
        "nomination_kinds:\n"  # 40
        "  - Khác\n"
        "  - 7\n"
        "  - ''\n"
        f"  - {'x' * 41}\n"
        "  - KHÁC\n"  # 45
        "  - Hiến đất\n"
    )
    problems = problems_of(text)
    assert [p.line for p in problems] == [10, 42, 43, 44, 45]
    assert "“due”" in problems[0].message
    assert "“7”" in problems[1].message
    assert "không được để trống" in problems[2].message
    assert "dài quá" in problems[3].message
    assert "bị trùng với “Khác”" in problems[4].message


def test_nomination_kind_problems_go_through_load_plan(tmp_path: Path) -> None:
    bad = tmp_path / "hong.yaml"
    bad.write_text(BASE + "nomination_kinds: []\n", encoding="utf-8")
    with pytest.raises(PlanError) as caught:
        load_plan(bad)
    assert [p.line for p in caught.value.problems] == [40]
    assert str(caught.value).startswith(
        "dòng 40: Danh sách loại gương “nomination_kinds” đang trống"
    )
