"""The console channel in this process, over a text stdin and stdout: a report with a
photo question (a terminal cannot send one, and says so), "Giống kỳ trước", a correction,
and English; no text it prints names a button, since a terminal has none."""

from __future__ import annotations

import io

from bot.channels.console import ConsoleChannel
from bot.domain import Identity
from bot.plan.model import check_plan_text
from handlers.conversation import Conversations
from storage.sqlite import SqliteStorage
from tests.button_words import button_words
from tests.conftest import SMALL_PLAN, FakeClock

PHOTO_QUESTION = """\
      - id: anh_duong
        ask: Gửi một tấm ảnh con đường vừa bê tông hóa.
        label: Ảnh đường
        type: photo
        optional: true
"""
TERMINAL = "Cửa sổ dòng lệnh không gửi được ảnh."


async def console_session(storage: SqliteStorage, clock: FakeClock, lines: list[str]) -> str:
    """What the console prints for ``lines`` typed by the head of Thôn 1, under the small
    plan with an optional photo question last."""
    text = SMALL_PLAN.read_text(encoding="utf-8").replace(
        "indicators:", PHOTO_QUESTION + "indicators:", 1
    )
    plan, problems = check_plan_text(text)
    assert plan is not None, problems
    async with storage.transaction() as tx:
        person = await tx.person_by_identity("console", "head-1")
        if person is None:
            person = await tx.create_person("Anh Ba", "head", "thon_1", "vi", clock())
            await tx.add_identity(person.id, Identity("console", "head-1", "head-1"), clock())
    out = io.StringIO()
    channel = ConsoleChannel(
        Conversations(plan, storage, clock),
        "head-1",
        "Anh Ba",
        stdin=io.StringIO("\n".join(lines) + "\n"),
        stdout=out,
    )
    await channel.serve()
    return out.getvalue()


async def test_the_console_says_a_photo_cannot_be_sent_from_a_terminal(
    storage: SqliteStorage, clock: FakeClock
) -> None:
    lines = ["/baocao", "2", "412", "400", "1", "12,5", "1", "bo qua"]
    out = await console_session(storage, clock, lines)
    before, _sep, photo = out.partition("Gửi một tấm ảnh con đường vừa bê tông hóa.")
    assert photo and TERMINAL not in before  # said where a photo is asked, not before
    assert TERMINAL in photo and "gõ “Bỏ qua”" in photo
    done = await console_session(storage, clock, ["Bỏ qua", "1"])
    assert "7. Ảnh đường: (bỏ qua)" in done and "Đã nhận Báo cáo tháng" in done
    assert button_words([out, done]) == []


async def test_a_whole_console_session_never_names_a_button(
    storage: SqliteStorage, clock: FakeClock
) -> None:
    async with storage.transaction() as tx:
        person = await tx.create_person("Anh Ba", "head", "thon_1", "vi", clock())
        await tx.add_identity(person.id, Identity("console", "head-1", "head-1"), clock())
        october = {"tong_ho": "400", "ho_co_dien": "380", "thu_gom_rac": True}
        october |= {"dien_tich_lua": "12.5", "loai": "Chưa đạt", "ghi_chu": None}
        await tx.add_report("thon_1", "thang", "2026-10", october, person.id, clock())
    lines = [
        "/huongdan",
        "/baocao",
        "Giống kỳ trước",  # the optional photo and note left empty
        "1: 420",
        "4: 12.5",  # a decimal question: which number?
        "1",
        "3: rồi",
        "1",  # Gửi
        "/baocao",
        "Sửa kỳ tháng 11/2026 (đã gửi)",
        "/huy",
        "2",  # Không, làm tiếp
        "Quay lại",
        "/ngonngu",
        "English",
        "1: 430",
        "Edit",
        "1",
        "Back",
        "Back",
        "1",  # Send
        "/detcu",
        "Bà Lan",
        "1",
        "Nấu cơm cho người ốm.",
        "1",
        "/huy",
        "1",
        "/xyz",
    ]
    out = await console_session(storage, clock, lines)
    assert "Đã điền sẵn các câu trả lời kỳ tháng 10/2026." in out
    assert TERMINAL in out  # "Back" from the summary reaches the photo question
    assert "Switched to English." in out and "phiên bản 2" not in out.split("English")[0]
    assert button_words([out]) == [], button_words([out])


def test_the_scan_finds_button_words() -> None:
    found = button_words(["Bấm Gửi để gửi.", "Press Send", "tap a button", "Chọn Gửi."])
    assert len(found) == 3 and "Bấm" in found[0]
