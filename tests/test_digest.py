"""Commune figures: weighted ratios, shares, sums, changes, reporting and on-time rates."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from bot.outputs.digest import indicator_figures, indicator_value, reporting
from bot.plan.model import Plan
from bot.plan.periods import parse_period


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
    current = {"thon_1": {"tong_ho": "200", "ho_co_dien": "200", "thu_gom_rac": True}}
    previous = {"thon_1": {"tong_ho": "200", "ho_co_dien": "190", "thu_gom_rac": False}}
    figures = {f.indicator.id: f for f in indicator_figures(small_plan, "thang", current, previous)}
    power = figures["ty_le_dien"]
    assert power.value == 100 and power.met is True and power.change == Decimal(5)
    assert power.is_percentage
    area = figures["dien_tich"]
    assert area.value is None and area.met is None and area.change is None


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
