"""The default plan's monthly report (plans/nam-dong-2024.yaml, 20 questions) as a village
filed it last month, for the end-to-end tests that count a month with little change."""

from __future__ import annotations

from typing import Any

from bot.plan.model import Plan, load_plan

# October 2026 for Thôn 1, every one of the monthly form's 20 questions answered.
OCTOBER: dict[str, Any] = {
    "tong_ho": "412",
    "ho_co_dien": "410",
    "ho_nuoc_hop_ve_sinh": "400",
    "ho_nuoc_sach": "150",
    "thu_gom_rac": True,
    "ho_ngheo": "12",
    "ho_can_ngheo": "20",
    "gia_dinh_van_hoa": "380",
    "thon_van_hoa": True,
    "tre_trong_do_tuoi": "95",
    "tre_den_truong": "94",
    "dan_so": "1650",
    "nguoi_co_bhyt": "1600",
    "duong_truc_xom_km": "8.5",
    "duong_cung_hoa_km": "6.2",
    "hoa_giai": "3",
    "hoa_giai_thanh": "2",
    "nam_dang_ky_nvqs": "14",
    "dien_tich_gieo_trong": "310.5",
    "ghi_chu": "Đường trục thôn đang sửa.",
}
# What changed in November: three numbers, typed at the summary one message each.
CHANGES = ("3: 405", "6: 11", "16: 4")
NOVEMBER = OCTOBER | {
    "ho_nuoc_hop_ve_sinh": "405",
    "ho_ngheo": "11",
    "hoa_giai": "4",
    "ghi_chu": None,  # a note is this month's own: not carried over
}
MESSAGE_BUDGET = 8  # from /baocao to Gửi, every message the head sends (issue 10, point 4)


def nam_dong() -> Plan:
    """The default plan, whose monthly form has the 20 questions counted here."""
    plan = load_plan()
    assert [q.id for q in plan.form("thang").questions] == list(OCTOBER)
    return plan
