from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime

import pytest

from bot.domain import Nomination
from bot.i18n import use_locale
from bot.nominations.bulletin import bulletin_text, spoken_date
from bot.plan.model import Plan
from bot.plan.periods import parse_period

WEEK = parse_period("2026-W48")  # Monday 23 to Sunday 29 November 2026
AT = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


def nomination(
    number: int, nominee: str, village_id: str, deed: str, kind: str, status: str
) -> Nomination:
    return Nomination(
        id=number,
        number=f"ĐC-2026-{number:04d}",
        nominator_id=1,
        nominee=nominee,
        village_id=village_id,
        deed=deed,
        kind=kind,
        status=status,
        created_at=AT,
        updated_at=AT,
    )


SUMMED_UP = nomination(
    3,
    "Bà Nguyễn Thị Lan",
    "thon_1",
    "Nhặt được ví có 5 triệu đồng và giấy tờ, đã trả lại người đánh rơi",
    "Người tốt việc tốt",
    "tong_ket",
)
SPREAD = nomination(
    7,
    "Chi hội Nông dân Thôn 3",
    "thon_3",
    "Góp công, góp đất làm 300 mét đường bê tông liên xóm.",
    "Sáng kiến cải tiến",
    "nhan_rong",
)

EXPECTED = """\
Thưa toàn thể bà con nhân dân xã Thử!
Sau đây là Bản tin gương người tốt, việc tốt tuần từ ngày 23 tháng 11 năm 2026 đến ngày 29 \
tháng 11 năm 2026.

Bà Nguyễn Thị Lan, ở Thôn 1, với việc làm: Nhặt được ví có 5 triệu đồng và giấy tờ, đã trả \
lại người đánh rơi. Đây là gương thuộc nhóm Người tốt việc tốt, đã được Hội đồng Thi đua – \
Khen thưởng xã tổng kết.

Chi hội Nông dân Thôn 3, ở Thôn 3, với việc làm: Góp công, góp đất làm 300 mét đường bê tông \
liên xóm. Đây là gương thuộc nhóm Sáng kiến cải tiến, đã được xã chọn để nhân rộng và đề nghị \
biểu dương.

Mời bà con cùng học tập và làm theo những tấm gương trên. Khi biết người tốt, việc tốt ở thôn \
mình, xin bà con báo với trưởng thôn để xã kịp thời ghi nhận, biểu dương. Xin cảm ơn bà con đã \
lắng nghe."""

EMPTY = (
    "Tuần từ ngày 23 tháng 11 năm 2026 đến ngày 29 tháng 11 năm 2026, xã chưa có gương "
    "người tốt, việc tốt mới được tổng kết."
)


def no_emoji(text: str) -> bool:
    return all(unicodedata.category(ch) != "So" for ch in text)


def test_spoken_date() -> None:
    assert spoken_date(date(2026, 11, 23)) == "ngày 23 tháng 11 năm 2026"
    assert spoken_date(date(2027, 1, 5)) == "ngày 5 tháng 1 năm 2027"


def test_the_full_bulletin_of_a_week(small_plan: Plan) -> None:
    text = bulletin_text(small_plan, WEEK, [(SUMMED_UP, "tong_ket"), (SPREAD, "nhan_rong")])
    assert text == EXPECTED
    assert no_emoji(text)


def test_nominations_are_read_in_the_order_given(small_plan: Plan) -> None:
    text = bulletin_text(small_plan, WEEK, [(SPREAD, "nhan_rong"), (SUMMED_UP, "tong_ket")])
    paragraphs = text.split("\n\n")
    assert len(paragraphs) == 4
    assert paragraphs[1].startswith("Chi hội Nông dân Thôn 3, ở Thôn 3")
    assert paragraphs[2].startswith("Bà Nguyễn Thị Lan, ở Thôn 1")


def test_the_stage_reached_is_the_one_given(small_plan: Plan) -> None:
    # a nomination that went on to Nhân rộng later is read with the stage it reached that week
    later = nomination(9, "Anh Trần Văn Bình", "thon_2", "Hiến 200 m² đất", "Khác", "nhan_rong")
    text = bulletin_text(small_plan, WEEK, [(later, "tong_ket")])
    assert "Anh Trần Văn Bình, ở Thôn 2, với việc làm: Hiến 200 m² đất. " in text
    assert "nhóm Khác, đã được Hội đồng Thi đua – Khen thưởng xã tổng kết." in text
    assert "nhân rộng" not in text


def test_an_empty_week_is_one_line(small_plan: Plan) -> None:
    text = bulletin_text(small_plan, WEEK, [])
    assert text == EMPTY
    assert "\n" not in text
    assert no_emoji(text)


def test_nothing_unspeakable_reaches_the_bulletin(small_plan: Plan) -> None:
    typed = nomination(
        11,
        "Em Lê Minh 🌟",
        "thon_2",
        "Cứu bạn bị đuối nước 👍🏽🙏\n\nrồi đưa bạn về nhà ❤️",
        "Người tốt việc tốt",
        "tong_ket",
    )
    text = bulletin_text(small_plan, WEEK, [(typed, "tong_ket")])
    assert no_emoji(text)
    assert all(unicodedata.category(ch) not in ("Sk", "Cf") for ch in text)
    assert "\ufe0f" not in text
    assert len(text.split("\n\n")) == 3  # a blank line in the deed does not split it
    assert "Em Lê Minh, ở Thôn 2, với việc làm: Cứu bạn bị đuối nước rồi đưa bạn về nhà." in text


def test_a_village_no_longer_in_the_plan_is_left_out(small_plan: Plan) -> None:
    gone = nomination(12, "Ông Hồ Văn Tư", "thon_9", "Dọn vệ sinh đường làng", "Khác", "tong_ket")
    text = bulletin_text(small_plan, WEEK, [(gone, "tong_ket")])
    assert "Ông Hồ Văn Tư, với việc làm: Dọn vệ sinh đường làng. Đây là gương" in text
    assert "thon_9" not in text


def test_a_stage_that_is_not_featured_is_refused(small_plan: Plan) -> None:
    with pytest.raises(ValueError, match="boi_duong"):
        bulletin_text(small_plan, WEEK, [(SUMMED_UP, "boi_duong")])


def test_no_markdown_or_bullets(small_plan: Plan) -> None:
    text = bulletin_text(small_plan, WEEK, [(SUMMED_UP, "tong_ket"), (SPREAD, "nhan_rong")])
    for mark in ("*", "_", "`", "#", "•", "- ", "[", "]"):
        assert mark not in text, mark


def test_english_locale_does_not_crash(small_plan: Plan) -> None:
    # English translations are not in the catalog yet: only check that it works at all
    with use_locale("en"):
        empty = bulletin_text(small_plan, WEEK, [])
        full = bulletin_text(small_plan, WEEK, [(SUMMED_UP, "tong_ket"), (SPREAD, "nhan_rong")])
        day = spoken_date(date(2026, 11, 23))
    assert empty and "\n" not in empty
    assert full.count("\n\n") == 3
    assert "23" in day and "2026" in day
