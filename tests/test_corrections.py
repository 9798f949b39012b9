"""Corrections after sending (issue 10, point 6): a report already sent may be corrected
until the plan's ``corrections_days`` after its due day; ``/baocao`` offers it, the summary
opens with what was sent, a new version is kept with the old ones, and the digest can list
what was corrected since a moment."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest

from bot.domain import Report
from bot.messages import Incoming, Reply
from bot.plan.model import Plan, check_plan_text
from bot.plan.periods import parse_period
from bot.reports.corrections import (
    corrections_of,
    corrections_paragraph,
    corrections_until,
    open_for_corrections,
)
from handlers.conversation import Conversations
from storage.sqlite import SqliteStorage
from tests.conftest import SMALL_PLAN, FakeClock, add_invite

_updates = itertools.count(1)
OCTOBER: dict[str, Any] = {
    "tong_ho": "412",
    "ho_co_dien": "400",
    "thu_gom_rac": True,
    "dien_tich_lua": "12.5",
    "loai": "Thôn văn hóa",
    "ghi_chu": None,
}


async def send(conversations: Conversations, text: str, user: str = "1") -> list[Reply]:
    incoming = Incoming("zalo", user, user, "text", text, update_key=str(next(_updates)))
    return (await conversations.handle(incoming)).replies


def joined(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


def labels(replies: list[Reply]) -> list[str]:
    return [c.label for c in replies[-1].choices]


async def head_with_october(
    conversations: Conversations, storage: SqliteStorage, clock: FakeClock
) -> int:
    """A registered head of Thôn 1 whose October report was sent on 20/10/2026."""
    await add_invite(storage, clock, "HEAD2345", "thon_1")
    await send(conversations, "/start HEAD2345")
    async with storage.transaction() as tx:
        person = await tx.person_by_identity("zalo", "1")
        assert person is not None
        sent_at = clock().replace(month=10, day=20)
        await tx.add_report("thon_1", "thang", "2026-10", OCTOBER, person.id, sent_at)
    return person.id


async def test_a_sent_report_is_corrected_into_a_new_version(
    conversations: Conversations, storage: SqliteStorage, clock: FakeClock
) -> None:
    await head_with_october(conversations, storage, clock)
    offer = await send(conversations, "/baocao")  # 24/11: October's last day to correct
    assert labels(offer) == ["Giống kỳ trước", "Trả lời từng câu", "Sửa kỳ tháng 10/2026 (đã gửi)"]
    opened = joined(await send(conversations, "3"))
    assert "Sửa Báo cáo tháng kỳ tháng 10/2026 đã gửi (phiên bản 1)" in opened
    assert "Bản sửa Báo cáo tháng của Thôn 1, kỳ tháng 10/2026:" in opened
    assert "1. Tổng số hộ: 412 hộ\n" in opened and "3. Thu gom rác: Có\n" in opened
    over = joined(await send(conversations, "1: 390"))  # checked at once: 400 have power
    assert "390 hộ nhỏ hơn “Hộ có điện” (400 hộ)" in over
    await send(conversations, "Quay lại")
    changed = joined(await send(conversations, "1: 420"))
    assert "1. Tổng số hộ: 420 hộ (đã gửi: 412 hộ)" in changed
    receipt = joined(await send(conversations, "Gửi"))
    assert "kỳ tháng 10/2026" in receipt and "phiên bản 2" in receipt
    async with storage.transaction() as tx:
        versions = [r for r in await tx.reports(history=True) if r.period == "2026-10"]
    assert [(r.version, r.answers["tong_ho"]) for r in versions] == [(1, "412"), (2, "420")]
    assert versions[0].answers == OCTOBER  # the old version kept as it was


async def test_a_current_period_sent_opens_for_correction_with_its_answers(
    conversations: Conversations, storage: SqliteStorage, clock: FakeClock
) -> None:
    await head_with_october(conversations, storage, clock)
    await send(conversations, "/baocao")
    await send(conversations, "Giống kỳ trước")
    await send(conversations, "2: 405")
    assert "phiên bản" not in joined(await send(conversations, "Gửi"))
    menu = await send(conversations, "/baocao")
    assert labels(menu) == ["Sửa kỳ tháng 11/2026 (đã gửi)", "Sửa kỳ tháng 10/2026 (đã gửi)"]
    opened = joined(await send(conversations, "1"))
    assert "kỳ tháng 11/2026 đã gửi (phiên bản 1)" in opened
    assert "2. Hộ có điện: 405 hộ\n" in opened
    assert "phiên bản 2" in joined(await send(conversations, "Gửi"))


async def test_corrections_close_after_corrections_days(
    conversations: Conversations, storage: SqliteStorage, clock: FakeClock
) -> None:
    await head_with_october(conversations, storage, clock)
    await send(conversations, "/baocao")
    await send(conversations, "Sửa kỳ tháng 10/2026 (đã gửi)")  # opened on the last day
    await send(conversations, "1: 420")
    clock.advance(days=1)  # 25/11: 31 days after October's due day
    refused = joined(await send(conversations, "Gửi"))
    assert "chỉ được sửa đến hết ngày 24/11/2026" in refused
    async with storage.transaction() as tx:
        latest = await tx.latest_report("thon_1", "thang", "2026-10")
    assert latest is not None and latest.version == 1
    offer = await send(conversations, "/baocao")
    assert labels(offer) == ["Giống kỳ trước", "Trả lời từng câu"]  # October no longer
    typed = await send(conversations, "/huy")
    assert "Bỏ bản nháp" in joined(typed)
    await send(conversations, "Có, bỏ bản nháp")
    asked = joined(await send(conversations, "/baocao thang 2026-10"))  # a reminder's command
    assert "Sửa kỳ" not in asked and "Thôn đã báo cáo kỳ tháng 10/2026" in asked


def plan_with(extra: str) -> tuple[Plan | None, list[str]]:
    text = SMALL_PLAN.read_text(encoding="utf-8") + extra
    plan, problems = check_plan_text(text)
    return plan, [f"{p.line}: {p.message}" for p in problems]


def test_corrections_days_is_read_and_checked() -> None:
    plan, problems = plan_with("")
    assert plan is not None and plan.corrections_days == 30, problems
    plan, problems = plan_with("corrections_days: 0\n")
    assert plan is not None and plan.corrections_days == 0, problems
    form, october = plan.form("thang"), parse_period("2026-10")
    assert corrections_until(plan, form, october) == october.due_date(25)
    assert open_for_corrections(plan, form, october, october.due_date(25))
    assert not open_for_corrections(plan, form, october, october.due_date(25) + timedelta(1))
    for bad in ("-1", "400", "mười", "1.5", "true"):
        plan, problems = plan_with(f"corrections_days: {bad}\n")
        assert plan is None and any("corrections_days" in p for p in problems), (bad, problems)
        assert all(p.split(":")[0].isdigit() for p in problems)  # with its line


async def test_the_digest_can_list_what_was_corrected_since_a_moment(
    conversations: Conversations, storage: SqliteStorage, clock: FakeClock, small_plan: Plan
) -> None:
    week_ago = clock() - timedelta(days=7)
    await head_with_october(conversations, storage, clock)
    async with storage.transaction() as tx:
        assert corrections_of(await tx.corrected_reports(week_ago)) == []
    await send(conversations, "/baocao")
    await send(conversations, "Sửa kỳ tháng 10/2026 (đã gửi)")
    await send(conversations, "1: 420")
    await send(conversations, "3: không")
    await send(conversations, "Gửi")
    clock.advance(hours=1)
    await send(conversations, "/baocao")
    await send(conversations, "Sửa kỳ tháng 10/2026 (đã gửi)")
    await send(conversations, "2: 405")
    await send(conversations, "Gửi")  # version 3
    async with storage.transaction() as tx:
        pairs = await tx.corrected_reports(week_ago)
        later = await tx.corrected_reports(clock() + timedelta(minutes=1))
    assert [(old.version, new.version) for old, new in pairs] == [(1, 3)]
    assert later == []
    [correction] = corrections_of(pairs)
    assert (correction.village_id, correction.form_id, correction.period) == (
        "thon_1",
        "thang",
        "2026-10",
    )
    assert [(c.question_id, c.before, c.after) for c in correction.changes] == [
        ("tong_ho", "412", "420"),
        ("ho_co_dien", "400", "405"),
        ("thu_gom_rac", True, False),
    ]
    paragraph = corrections_paragraph(small_plan, [correction], week_ago)
    assert paragraph is not None
    assert paragraph.startswith("Báo cáo đã gửi được sửa lại từ ngày 17/11/2026:\n")
    assert (
        "- Thôn 1 · Báo cáo tháng kỳ tháng 10/2026: phiên bản 1 → 3 (ngày 24/11/2026): "
        "Tổng số hộ 412 hộ → 420 hộ; Hộ có điện 400 hộ → 405 hộ; Thu gom rác Có → Không"
    ) in paragraph
    assert corrections_paragraph(small_plan, [], week_ago) is None


def test_a_correction_line_names_at_most_four_changes(small_plan: Plan, clock: FakeClock) -> None:
    old = Report(1, "thon_1", "thang", "2026-10", 1, clock(), 1, OCTOBER)
    changed = {
        "tong_ho": "500",
        "ho_co_dien": "450",
        "thu_gom_rac": False,
        "dien_tich_lua": None,
        "loai": "Chưa đạt",
        "ghi_chu": "Đã sửa",
    }
    new = Report(2, "thon_1", "thang", "2026-10", 2, clock(), 1, changed)
    [correction] = corrections_of([(old, new)])
    paragraph = corrections_paragraph(small_plan, [correction], clock())
    assert paragraph is not None
    assert "Diện tích lúa 12,5 ha → (bỏ qua); và 2 câu khác" in paragraph
    same = corrections_of([(old, Report(3, "thon_1", "thang", "2026-10", 2, clock(), 1, OCTOBER))])
    assert "không đổi câu trả lời nào" in (corrections_paragraph(small_plan, same, clock()) or "")


@pytest.mark.parametrize(("days", "offered"), [(0, False), (29, False), (30, True), (60, True)])
async def test_corrections_follow_the_plans_days(
    storage: SqliteStorage, clock: FakeClock, days: int, offered: bool
) -> None:
    text = SMALL_PLAN.read_text(encoding="utf-8") + f"corrections_days: {days}\n"
    plan, problems = check_plan_text(text)
    assert plan is not None, problems
    conversations = Conversations(plan, storage, clock)
    await head_with_october(conversations, storage, clock)
    offer = await send(conversations, "/baocao")  # 24/11 is 30 days after 25/10
    correct = "Sửa kỳ tháng 10/2026 (đã gửi)"
    assert labels(offer)[:2] == ["Giống kỳ trước", "Trả lời từng câu"]
    assert (correct in labels(offer)) is offered


async def test_a_correction_is_listed_in_the_next_digest(
    conversations: Conversations, storage: SqliteStorage, clock: FakeClock, small_plan: Plan
) -> None:
    from handlers.digest import digest_in

    await head_with_october(conversations, storage, clock)
    async with storage.transaction() as tx:
        assert "được sửa lại" not in await digest_in(small_plan, tx, clock())
    await send(conversations, "/baocao")
    await send(conversations, "Sửa kỳ tháng 10/2026 (đã gửi)")
    await send(conversations, "1: 420")
    await send(conversations, "Gửi")
    clock.advance(days=6)  # the next Monday's digest
    async with storage.transaction() as tx:
        digest = await digest_in(small_plan, tx, clock())
        versions = [r.version for r in await tx.reports(history=True) if r.period == "2026-10"]
    assert versions == [1, 2]
    assert (
        "Thôn 1 · Báo cáo tháng kỳ tháng 10/2026: phiên bản 1 → 2 (ngày 24/11/2026): "
        "Tổng số hộ 412 hộ → 420 hộ"
    ) in digest, digest
    clock.advance(days=7)  # the digest after: listed once
    async with storage.transaction() as tx:
        assert "phiên bản 1 → 2" not in await digest_in(small_plan, tx, clock())
