"""Commune figures: weighted ratios, shares, sums, changes, reporting and on-time rates, what
each figure stands on, and the chart's data."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from bot.outputs.chart import (
    LABEL_WIDTH,
    LATE,
    LEFT_TITLE_WIDTH,
    MET,
    MISSING,
    NOT_DUE,
    NOT_ENOUGH,
    ON_TIME,
    RIGHT_TITLE_WIDTH,
    ChartData,
    chart_data,
    draw,
)
from bot.outputs.digest import (
    FormSection,
    indicator_figures,
    indicator_value,
    render_digest,
    reporting,
    village_list,
)
from bot.plan.model import Plan, check_plan_text, load_plan
from bot.plan.periods import parse_period
from handlers.digest import digest_chart, digest_chart_data, digest_text, read_digest
from storage.sqlite import SqliteStorage
from tests.conftest import SMALL_PLAN


def test_ratio_is_weighted_not_an_average_of_percentages(small_plan: Plan) -> None:
    ratio = small_plan.indicator("ty_le_dien")
    answers = {
        "thon_1": {"tong_ho": "100", "ho_co_dien": "50"},  # 50 %
        "thon_2": {"tong_ho": "300", "ho_co_dien": "300"},  # 100 %
        "thon_3": {"tong_ho": "200", "ho_co_dien": None},  # skipped: left out entirely
    }
    value = indicator_value(ratio, answers)
    assert value == Decimal(350) / Decimal(400) * 100  # 87,5 %, not the 75 % average
    assert round(value, 1) == Decimal("87.5")


def test_share_yes_counts_only_villages_that_answered(small_plan: Plan) -> None:
    share = small_plan.indicator("thon_thu_gom_rac")
    answers = {"thon_1": {"thu_gom_rac": True}, "thon_2": {"thu_gom_rac": False}, "thon_3": {}}
    assert indicator_value(share, answers) == Decimal(50)


def test_sum_and_no_data(small_plan: Plan) -> None:
    area = small_plan.indicator("dien_tich")
    assert indicator_value(area, {"a": {"dien_tich_lua": "12.5"}, "b": {"dien_tich_lua": "3"}}) == (
        Decimal("15.5")
    )
    assert indicator_value(area, {"a": {"dien_tich_lua": None}}) is None
    assert indicator_value(small_plan.indicator("ty_le_dien"), {}) is None


def test_figures_carry_target_marks_and_changes_in_points(small_plan: Plan) -> None:
    every = ("thon_1", "thon_2", "thon_3")
    current = {v: {"tong_ho": "200", "ho_co_dien": "200", "thu_gom_rac": True} for v in every}
    previous = {v: {"tong_ho": "200", "ho_co_dien": "190", "thu_gom_rac": False} for v in every}
    figures = {f.indicator.id: f for f in indicator_figures(small_plan, "thang", current, previous)}
    power = figures["ty_le_dien"]
    assert power.value == 100 and power.met is True and power.change == Decimal(5)
    assert power.is_percentage and (power.counted, power.total) == (3, 3)
    area = figures["dien_tich"]
    assert area.value is None and area.met is None and area.change is None
    assert (area.counted, area.total) == (0, 3)


@given(
    st.lists(
        st.tuples(st.integers(1, 5000), st.integers(0, 5000)).map(lambda t: (t[0], min(t))),
        min_size=1,
        max_size=30,
    )
)
def test_ratio_lies_between_the_smallest_and_largest_village_rate(
    pairs: list[tuple[int, int]],
) -> None:
    from bot.plan.model import Indicator

    ratio = Indicator("r", "r", "ratio", ("n", "d"), None)
    answers = {str(i): {"d": str(d), "n": str(n)} for i, (d, n) in enumerate(pairs)}
    rates = [Decimal(n) / Decimal(d) * 100 for d, n in pairs]
    value = indicator_value(ratio, answers)
    assert value is not None
    assert min(rates) - Decimal("1e-20") <= value <= max(rates) + Decimal("1e-20")


def test_reporting_and_on_time_rates(small_plan: Plan) -> None:
    period = parse_period("2026-11")
    # due 25 November: the end of that day in Asia/Ho_Chi_Minh is 16:59:59 UTC
    sent = {
        "thon_1": datetime(2026, 11, 25, 16, 59, tzinfo=UTC),  # 23:59 local: on time
        "thon_2": datetime(2026, 11, 25, 17, 1, tzinfo=UTC),  # 00:01 on the 26th: late
    }
    status = reporting(small_plan, "thang", period, sent)
    assert status.reported == ["thon_1", "thon_2"]
    assert status.on_time == ["thon_1"]
    assert status.late == ["thon_2"]
    assert status.missing == ["thon_3"]


def test_the_chart_keeps_to_the_worst_villages_when_there_are_many(small_plan: Plan) -> None:
    import io
    from dataclasses import replace

    from PIL import Image

    from bot.outputs.chart import MAX_VILLAGE_ROWS, _worst, build_chart
    from bot.plan.model import Village

    villages = tuple(Village(f"thon_{n}", f"Thôn {n}") for n in range(1, 201))
    plan = replace(small_plan, villages=villages)
    period = parse_period("2026-10")
    sent = datetime(2026, 10, 20, tzinfo=UTC)
    # Every village on time except numbers 150-199 (missing) and 5 (late).
    first = {v.id: sent for v in villages if not 150 <= int(v.id[5:]) <= 199}
    first["thon_5"] = datetime(2026, 10, 27, tzinfo=UTC)
    history = [reporting(plan, "thang", period, first)]
    worst = _worst([v.id for v in villages], history)
    assert len(worst) == MAX_VILLAGE_ROWS
    bad = {"thon_5", *(f"thon_{n}" for n in range(150, 200))}
    assert bad <= set(worst)  # all 51, then on-time ones, shown in the plan's order
    assert worst == sorted(worst, key=lambda v: int(v[5:]))
    png = build_chart(plan, [], history)
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG" and image.height < 3000


# -- what each figure stands on (issue 10, point 9) ------------------------------------------

NOVEMBER = parse_period("2026-11")
AFTER_DUE = date(2026, 11, 30)  # the 25th has passed
SENT = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


def nam_dong_answers(plan: Plan, count: int) -> dict[str, dict[str, Any]]:
    """The first ``count`` villages of the plan, each with the same full monthly report:
    300 households, all on the grid, 30 of them poor, a cultural village, 260 ha sown."""
    answers: dict[str, Any] = {
        "tong_ho": "300", "ho_co_dien": "300", "ho_nuoc_hop_ve_sinh": "300",
        "ho_nuoc_sach": "150", "thu_gom_rac": True, "ho_ngheo": "30", "ho_can_ngheo": "15",
        "gia_dinh_van_hoa": "290", "thon_van_hoa": True, "tre_trong_do_tuoi": "80",
        "tre_den_truong": "80", "dan_so": "1200", "nguoi_co_bhyt": "1170",
        "duong_truc_xom_km": "10", "duong_cung_hoa_km": "9", "hoa_giai": "10",
        "hoa_giai_thanh": "9", "nam_dang_ky_nvqs": "12", "dien_tich_gieo_trong": "260",
    }  # fmt: skip
    return {v.id: dict(answers) for v in plan.villages[:count]}


def nam_dong_digest(plan: Plan, count: int, previous: int = 0) -> str:
    current = nam_dong_answers(plan, count)
    section = FormSection(
        "thang",
        reporting(plan, "thang", NOVEMBER, {v: SENT for v in current}),
        indicator_figures(plan, "thang", current, nam_dong_answers(plan, previous)),
        current,
    )
    return render_digest(plan, [section], AFTER_DUE)


def test_one_village_of_nineteen_gives_no_verdict_only_what_it_stands_on() -> None:
    plan = load_plan()  # Nam Dong: 19 villages
    assert len(plan.villages) == 19
    text = nam_dong_digest(plan, 1)
    first = plan.villages[0].name
    assert "Đã báo cáo: 1/19 thôn" in text
    assert f"Chưa báo cáo: 18 thôn, tất cả trừ {first}" in text
    # a share and a ratio from one village: no verdict, the coverage instead
    assert "- Tỷ lệ thôn đạt Thôn văn hóa: 100% (mục tiêu ≥ 100%): chưa đủ số liệu (1/19 thôn)" in (
        text
    )
    assert "- Tỷ lệ hộ dùng điện lưới quốc gia: 100% (mục tiêu ≥ 100%): chưa đủ số liệu" in text
    # one village's area is never held against the whole commune's target
    assert (
        "- Tổng diện tích gieo trồng: 260 ha (mục tiêu ≥ 4.833 ha): chưa đủ số liệu (1/19 thôn)"
        in text
    )
    # no target: the coverage still
    assert "- Số nam công dân đã đăng ký NVQS: 12 người (1/19 thôn)" in text
    # a change target with no baseline yet: says so, no verdict
    assert "- Tỷ lệ hộ nghèo: 10% (mục tiêu giảm ≥ 1 điểm %): chưa đủ số liệu (1/19 thôn)" in text
    assert ": đạt" not in text and "chưa đạt" not in text


def test_nineteen_villages_of_nineteen_give_verdicts_and_their_coverage() -> None:
    plan = load_plan()
    text = nam_dong_digest(plan, 19)
    assert "Đã báo cáo: 19/19 thôn" in text and "Chưa báo cáo" not in text
    assert "- Tỷ lệ thôn đạt Thôn văn hóa: 100% (19/19 thôn; mục tiêu ≥ 100%): đạt" in text
    assert "- Tổng diện tích gieo trồng: 4.940 ha (19/19 thôn; mục tiêu ≥ 4.833 ha): đạt" in text
    assert "- Tỷ lệ người dân tham gia BHYT: 97,5% (19/19 thôn; mục tiêu ≥ 95%): đạt" in text
    assert "- Tỷ lệ hòa giải thành: 90% (19/19 thôn; mục tiêu > 80%): đạt" in text
    assert "- Số nam công dân đã đăng ký NVQS: 228 người (19/19 thôn)" in text
    assert (
        "- Tỷ lệ hộ nghèo: 10% (19/19 thôn; mục tiêu giảm ≥ 1 điểm %): "
        "chưa có số liệu năm làm mốc" in text
    )  # no village's 2023 figures (form nen_2023) and no commune figure in the plan
    assert "chưa đủ số liệu" not in text


def test_ratios_need_min_coverage_and_sums_need_every_village() -> None:
    plan = load_plan()
    figures = {
        count: {
            f.indicator.id: f
            for f in indicator_figures(plan, "thang", nam_dong_answers(plan, count), {})
        }
        for count in (15, 16, 18)
    }
    # 15/19 = 78,9 % of the villages: under the default 80 %; 16/19 = 84,2 %: enough
    assert figures[15]["ty_le_bhyt"].met is None and figures[15]["ty_le_bhyt"].reached is True
    assert figures[16]["ty_le_bhyt"].met is True
    assert figures[16]["ty_le_thon_van_hoa"].met is True
    # a sum stands on every village or says nothing
    assert figures[18]["tong_dien_tich_gieo_trong"].met is None
    assert figures[18]["tong_dien_tich_gieo_trong"].counted == 18
    lower = replace(plan, min_coverage=Decimal(50))
    half = {
        f.indicator.id: f
        for f in indicator_figures(lower, "thang", nam_dong_answers(lower, 10), {})
    }
    assert half["ty_le_bhyt"].met is True  # 10/19 = 52,6 % ≥ 50 %
    assert half["tong_dien_tich_gieo_trong"].met is None


def test_a_ratio_stands_on_the_villages_that_gave_both_numbers(small_plan: Plan) -> None:
    answers = {
        "thon_1": {"tong_ho": "100", "ho_co_dien": "100"},
        "thon_2": {"tong_ho": "100", "ho_co_dien": None},  # one number: not counted
        "thon_3": {"tong_ho": "100", "ho_co_dien": "100", "thu_gom_rac": True},
        "thon_9": {"tong_ho": "100", "ho_co_dien": "0"},  # no longer in the plan
    }
    figures = {f.indicator.id: f for f in indicator_figures(small_plan, "thang", answers, {})}
    assert (figures["ty_le_dien"].counted, figures["ty_le_dien"].total) == (2, 3)
    assert figures["ty_le_dien"].value == 100  # thon_9 left out
    assert figures["thon_thu_gom_rac"].counted == 1


def test_the_change_is_given_only_when_both_periods_stand_on_enough() -> None:
    plan = load_plan()
    assert "so với kỳ trước" not in nam_dong_digest(plan, 19, previous=1)
    assert "so với kỳ trước" not in nam_dong_digest(plan, 1, previous=19)
    text = nam_dong_digest(plan, 19, previous=19)
    assert "- Số nam công dân đã đăng ký NVQS: 228 người (19/19 thôn); 0 người so với kỳ trước" in (
        text
    )
    assert "làm mốc; 0 điểm phần trăm so với kỳ trước" in text
    assert "mục tiêu ≥ 4.833 ha): đạt; 0 ha so với kỳ trước" in text


def test_long_village_lists_are_folded() -> None:
    ids = [f"v{n}" for n in range(1, 20)]
    names = {v: f"Thôn {v[1:]}" for v in ids}
    assert village_list(ids[:3], names, ids) == "Thôn 1, Thôn 2, Thôn 3"
    assert village_list(ids[1:], names, ids) == "18 thôn, tất cả trừ Thôn 1"
    assert village_list(ids, names, ids) == "cả 19 thôn"
    assert village_list(ids[:14], names, ids) == "14 thôn, tất cả trừ " + ", ".join(
        f"Thôn {n}" for n in range(15, 20)
    )
    assert village_list(ids[:10], names, ids) == "10 thôn: " + ", ".join(
        f"Thôn {n}" for n in range(1, 11)
    )
    assert village_list(ids[:10], names) == "10 thôn: " + ", ".join(
        f"Thôn {n}" for n in range(1, 11)
    )  # late villages: counted and named, never by the others


@pytest.mark.parametrize(
    ("value", "expected"), [("70", Decimal(70)), ('"90%"', Decimal(90)), ("100", Decimal(100))]
)
def test_min_coverage_in_the_plan(value: str, expected: Decimal) -> None:
    text = SMALL_PLAN.read_text(encoding="utf-8") + f"min_coverage: {value}\n"
    plan, problems = check_plan_text(text)
    assert plan is not None, problems
    assert plan.min_coverage == expected
    default, _problems = check_plan_text(SMALL_PLAN.read_text(encoding="utf-8"))
    assert default is not None and default.min_coverage == Decimal(80)


@pytest.mark.parametrize("value", ["0", "120", "nhiều", "true", "-5"])
def test_plan_check_refuses_a_min_coverage_that_is_no_percentage(value: str) -> None:
    text = SMALL_PLAN.read_text(encoding="utf-8")
    lines = text.count("\n")
    plan, problems = check_plan_text(text + f"min_coverage: {value}\n")
    assert plan is None
    assert [p.line for p in problems] == [lines + 1]
    assert "min_coverage" in str(problems[0])


# -- the chart (issue 10, point 10): tested by its data and the PNG's size --------------------

VN_NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)  # 10:00 in Vietnam, before the 25th


async def chart_of(storage: SqliteStorage, plan: Plan) -> tuple[ChartData, bytes]:
    """Three villages' reports (the first on time in October and November, the second
    late in October, the third never) and the chart of the digest of 24 November."""
    one, two = plan.villages[0].id, plan.villages[1].id
    async with storage.transaction() as tx:
        person = await tx.create_person("An", "head", one, "vi", VN_NOW)
        october = datetime(2026, 10, 20, 3, 0, tzinfo=UTC)
        await tx.add_report(one, "thang", "2026-10", {"tong_ho": "10"}, person.id, october)
        await tx.add_report(two, "thang", "2026-10", {"tong_ho": "10"}, person.id,
                            october.replace(day=27))  # fmt: skip
        await tx.add_report(one, "thang", "2026-11", {"tong_ho": "10"}, person.id,
                            october.replace(month=11))  # fmt: skip
    async with storage.reading() as tx:
        data = await read_digest(plan, tx, VN_NOW)
    return digest_chart_data(plan, data), digest_chart(plan, data)


async def test_the_chart_of_a_plan_that_started_last_month(storage: SqliteStorage) -> None:
    plan = replace(load_plan(), starts=date(2026, 10, 1))
    chart, png = await chart_of(storage, plan)
    grid = chart.grid
    assert grid.periods == ("2026-10", "2026-11")  # not six months, most before the plan
    assert len(grid.villages) == 19 and grid.total_villages == 19
    rows = dict(zip(grid.villages, grid.states, strict=True))
    one, two, three = (v.name for v in plan.villages[:3])
    assert rows[one] == (ON_TIME, ON_TIME)
    assert rows[two] == (LATE, NOT_DUE)  # November is due on the 25th: not missing yet
    assert rows[three] == (MISSING, NOT_DUE)
    assert {row[1] for row in grid.states} == {ON_TIME, NOT_DUE}
    labels = [label for label, _colour in chart.grid_legend]
    assert labels == ["Đúng hạn", "Gửi muộn", "Chưa gửi, đã quá hạn", "Chưa gửi, chưa đến hạn"]
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG"
        assert image.size == chart.pixels  # the size its data asks for
    assert chart.pixels[0] == 13 * 110 and chart.pixels[1] >= 0.3 * 19 * 110


async def test_without_starts_the_grid_begins_at_the_first_period_reported(
    storage: SqliteStorage,
) -> None:
    chart, _png = await chart_of(storage, replace(load_plan(), starts=None))
    assert chart.grid.periods == ("2026-10", "2026-11")


async def test_a_plan_that_started_long_ago_shows_six_periods(storage: SqliteStorage) -> None:
    chart, _png = await chart_of(storage, load_plan())  # starts 2024-01-01
    assert chart.grid.periods == ("2026-06", "2026-07", "2026-08", "2026-09", "2026-10",
                                  "2026-11")  # fmt: skip
    first = dict(zip(chart.grid.villages, chart.grid.states, strict=True))
    assert first[load_plan().villages[0].name][:4] == (MISSING,) * 4


def test_the_bars_are_values_against_targets_in_the_digests_units() -> None:
    plan = load_plan()
    every = indicator_figures(plan, "thang", nam_dong_answers(plan, 19), {})
    chart = chart_data(plan, every, [], AFTER_DUE)
    assert [g.unit for g in chart.groups] == ["%", "ha"]  # one axis per unit
    percent, area = chart.groups
    assert "%" in percent.axis_label and "ha" in area.axis_label
    assert "mục tiêu" in percent.axis_label  # it says what the black line is
    (sown,) = area.bars
    assert (sown.value, sown.target, sown.status) == (4940.0, 4833.0, MET)
    assert sown.text == "4.940 ha (mục tiêu ≥ 4.833 ha)\nđạt, 19/19 thôn"
    bhyt = next(b for b in percent.bars if b.label.startswith("Tỷ lệ người dân"))
    assert (bhyt.value, bhyt.target) == (97.5, 95.0)  # the value itself, not % of target
    # indicators without a target are not drawn against one, nor a change target whose
    # baseline is not known
    assert not any("NVQS" in b.label for g in chart.groups for b in g.bars)
    assert not any("hộ nghèo" in b.label for g in chart.groups for b in g.bars)
    # once the villages' 2023 figures are in (12 % poor), poverty is drawn against the level
    # that meets "decrease >= 1": 12 − 1 = 11 %
    baselines = {
        v.id: {"tong_ho_2023": "300", "ho_ngheo_2023": "36", "ho_can_ngheo_2023": "18"}
        for v in plan.villages
    }
    known = indicator_figures(plan, "thang", nam_dong_answers(plan, 19), {}, baselines=baselines)
    poor = next(
        b
        for g in chart_data(plan, known, [], AFTER_DUE).groups
        for b in g.bars
        if b.label.startswith("Tỷ lệ hộ nghèo")
    )
    assert (poor.value, poor.target, poor.status) == (10.0, 11.0, MET)
    assert all(g.limit > max(b.target or 0 for b in g.bars) for g in chart.groups)
    one = chart_data(plan, indicator_figures(plan, "thang", nam_dong_answers(plan, 1), {}), [],
                     AFTER_DUE)  # fmt: skip
    (sown,) = one.groups[1].bars
    assert sown.status == NOT_ENOUGH
    assert sown.text == "260 ha (mục tiêu ≥ 4.833 ha)\nchưa đủ số liệu (1/19 thôn)"
    assert [label for label, _colour in one.bar_legend] == [
        "Đạt mục tiêu", "Chưa đạt", "Chưa đủ số liệu để đánh giá"
    ]  # fmt: skip


async def test_every_title_and_legend_fits_in_the_chart(storage: SqliteStorage) -> None:
    import matplotlib.pyplot as plt

    plan = replace(load_plan(), starts=date(2026, 10, 1))
    figures = indicator_figures(plan, "thang", nam_dong_answers(plan, 1), {})
    status = reporting(plan, "thang", NOVEMBER, {})
    chart = chart_data(plan, figures, [status], date(2026, 11, 24))
    assert max(len(line) for line in chart.indicators_title.splitlines()) <= LEFT_TITLE_WIDTH
    assert max(len(line) for line in chart.grid_title.splitlines()) <= RIGHT_TITLE_WIDTH
    assert all(
        len(line) <= LABEL_WIDTH
        for g in chart.groups
        for b in g.bars
        for line in b.label.split("\n")
    )
    fig = draw(chart)
    try:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
        frame = fig.bbox
        texts = [fig._suptitle, *fig.legends]  # type: ignore[attr-defined]
        for ax in fig.axes:
            texts += [ax.title, *ax.get_yticklabels(), *ax.texts]
        for text in texts:
            if text is None or not text.get_visible():
                continue
            box = text.get_window_extent(renderer)
            assert box.x0 >= -1 and box.y0 >= -1, text
            assert box.x1 <= frame.x1 + 1 and box.y1 <= frame.y1 + 1, text
    finally:
        plt.close(fig)


async def test_the_digest_lists_the_reports_corrected_in_its_week(
    storage: SqliteStorage, small_plan: Plan
) -> None:
    """The hook for the corrections (issue 10, point 6): the reports given a new version
    in the seven days before the digest, each with its versions."""
    october = datetime(2026, 10, 20, 3, 0, tzinfo=UTC)
    async with storage.transaction() as tx:
        person = await tx.create_person("An", "head", "thon_1", "vi", october)
        for village, corrected in (("thon_1", VN_NOW.replace(day=21)), ("thon_2", october)):
            await tx.add_report(village, "thang", "2026-10", {"tong_ho": "412"}, person.id,
                                october)  # fmt: skip
            await tx.add_report(village, "thang", "2026-10", {"tong_ho": "420"}, person.id,
                                corrected)  # fmt: skip
    async with storage.reading() as tx:
        data = await read_digest(small_plan, tx, VN_NOW, text_only=True)
    text = digest_text(small_plan, data)
    assert [c.village_id for c in data.corrections] == ["thon_1"]  # thon_2's is too old
    assert "phiên bản 1 → 2" in text and text.count("phiên bản") == 1
    assert text.index("Báo cáo tháng – kỳ tháng 11/2026") < text.index("phiên bản 1 → 2")
