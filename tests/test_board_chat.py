"""Everyone sees the board: ``/bangdiem`` through ``Conversations``, the monthly message to
heads through the outbox, the digest's section and the workbook's sheet, on a real SQLite
file with reports sent at injected times."""

from __future__ import annotations

import io
import itertools
from dataclasses import replace
from datetime import datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from bot.clock import system_clock
from bot.domain import Person
from bot.messages import Incoming
from bot.plan.model import Plan, QuietHours, check_plan_text
from bot.plan.schedule import quiet_until
from handlers.conversation import Conversations
from handlers.digest import digest_text, digest_workbook, read_digest
from handlers.scoreboard import add_claim, finalize, score_events
from scheduler.jobs import BOARD, Jobs, Scheduler, last_board_time
from scheduler.outbox import Outbox
from storage.sqlite import SqliteStorage
from tests import engines
from tests.boards import SCORING_YAML
from tests.conftest import SMALL_PLAN, FakeClock
from tests.fakes import RecordingChannel
from tests.test_outbox import register

VN = ZoneInfo("Asia/Ho_Chi_Minh")
_keys = itertools.count(1)
# Households on the grid (of 100) per village; Thôn 6 never reports.
ON_GRID = {"thon_1": 100, "thon_2": 90, "thon_3": 80, "thon_4": 70, "thon_5": 50}


def at(day: int, hour: int, minute: int = 0, month: int = 11, year: int = 2026) -> datetime:
    """A moment on the Vietnamese wall clock."""
    return datetime(year, month, day, hour, minute, tzinfo=VN)


@pytest.fixture(scope="module")
def plan() -> Plan:
    """The small test plan with six villages and the test scoring (max 50: Điện lưới 10
    from 50 % to 100 %, Thu gom rác 10, on time 15, sent 5, good deeds 10 at 2,5)."""
    villages = ", ".join(f"Thôn {n}" for n in range(1, 7))
    text = SMALL_PLAN.read_text(encoding="utf-8").replace(
        "villages: [Thôn 1, Thôn 2, Thôn 3]", f"villages: [{villages}]"
    )
    found, problems = check_plan_text(text + SCORING_YAML)
    assert found is not None and found.scoring is not None, problems
    return found


@pytest.fixture
def talk(plan: Plan, storage: SqliteStorage, clock: FakeClock) -> Conversations:
    return Conversations(plan, storage, clock)


async def seed(storage: SqliteStorage, clock: FakeClock) -> dict[str, Person]:
    """Heads of Thôn 1, 5 and 6, a secretary, the chair and a commune officer; January to
    October 2026 reported by Thôn 1–5 on the 20th (on time), but Thôn 5's January and
    February reports came in on the 26th (late).

    As of 24/11/2026 ten reports are due (November's is due on the 25th), so:
    Thôn 1: 10 + 10 + 15 + 5 + 0 = 40; Thôn 2: 10 × (90 − 50)/50 = 8 → 38; Thôn 3: 6 → 36;
    Thôn 4: 4 → 34; Thôn 5: 0 + 10 + 15 × 8/10 = 12 + 5 = 27; Thôn 6: 0. No village has a
    good deed, so none reaches 70 % of each criterion: all Chưa hoàn thành."""
    people = {
        "one": await register(storage, clock, "Anh Một", 1001, village="thon_1"),
        "five": await register(storage, clock, "Chị Năm", 1005, village="thon_5"),
        "six": await register(storage, clock, "Ông Sáu", 1006, village="thon_6"),
        "clerk": await register(storage, clock, "Chị Thư", 2001, "secretariat", None),
        "chair": await register(storage, clock, "Ông Chủ tịch", 2002, "chair", None),
        "officer": await register(storage, clock, "Cán bộ Lan", 3001, "officer", None),
    }
    async with storage.transaction() as tx:
        for village, households in ON_GRID.items():
            for month in range(1, 11):
                late = village == "thon_5" and month <= 2
                answers = {
                    "tong_ho": "100",
                    "ho_co_dien": str(households),
                    "thu_gom_rac": True,
                    "loai": "Chưa đạt",
                }
                when = at(26 if late else 20, 9, month=month)
                await tx.add_report(
                    village, "thang", f"2026-{month:02d}", answers, people["one"].id, when
                )
    return people


async def say(talk: Conversations, user: int, text: str) -> str:
    incoming = Incoming(
        "telegram", str(user), str(user), "text", text, update_key=f"b{next(_keys)}"
    )
    outcome = await talk.handle(incoming)
    return "\n".join(reply.text for reply in outcome.replies)


async def test_the_secretariat_and_the_chair_get_the_whole_table(
    talk: Conversations, storage: SqliteStorage, clock: FakeClock
) -> None:
    await seed(storage, clock)
    text = await say(talk, 2001, "/bangdiem")
    assert text.splitlines() == [
        "BẢNG ĐIỂM THI ĐUA NĂM 2026 – Xã Thử",
        "Tạm tính đến hết ngày 24/11/2026; tối đa 50 điểm.",
        "",
        "1. Thôn 1: 40 – Chưa hoàn thành",
        "2. Thôn 2: 38 – Chưa hoàn thành",
        "3. Thôn 3: 36 – Chưa hoàn thành",
        "4. Thôn 4: 34 – Chưa hoàn thành",
        "5. Thôn 5: 27 – Chưa hoàn thành",
        "6. Thôn 6: 0 – Chưa hoàn thành; thiếu số liệu: Điện lưới, Thu gom rác",
    ]
    assert await say(talk, 2002, "/scoreboard") == text  # the English name works too
    # The board was read in the conversation's transaction and its points recorded.
    async with storage.transaction() as tx:
        events = await score_events(tx, 2026)
    computed = {(e["village_id"], e["criterion_id"]): e["points"] for e in events}
    assert computed[("thon_5", "dung_han")] == 12
    assert len(events) == 6 * 5  # once: the second /bangdiem changed nothing


async def test_a_head_gets_the_village_rank_top_three_and_what_it_lacks(
    talk: Conversations, storage: SqliteStorage, clock: FakeClock
) -> None:
    await seed(storage, clock)
    text = await say(talk, 1005, "/bangdiem")
    assert text.startswith(
        "BẢNG ĐIỂM THI ĐUA NĂM 2026 – Thôn 5\n"
        "Tạm tính đến hết ngày 24/11/2026; tối đa 50 điểm.\n\n"
        "Điểm của thôn: 27/50 – Chưa hoàn thành – hạng 5/6\n"
        "- Điện lưới: 0/10\n"
        "- Thu gom rác: 10/10\n"
        "- Báo cáo đúng hạn: 12/15\n"
        "- Báo cáo đầy đủ: 5/5\n"
        "- Gương người tốt: 0/10\n\n"
        "Dẫn đầu toàn xã: 1. Thôn 1: 40; 2. Thôn 2: 38; 3. Thôn 3: 36.\n\n"
    )
    # Hoàn thành: 35 points (70 % of 50), each criterion 70 % of its own. 8 points short:
    # Điện lưới to 8 points is 50 + 0,8 × 50 = 90 %, 40 more households of 100; good deeds
    # to 8 points is 4 of them at 2,5; on time to 15 is 10 of 10, 2 more than the 8.
    assert (
        "Để lên loại Hoàn thành, thôn cần thêm 8 điểm (mỗi tiêu chí cần đạt từ 70% điểm "
        "tối đa của nó trở lên):\n" in text
    )
    assert "- Điện lưới 50% → cần 90% (thêm 40 hộ)\n" in text
    assert "- cần thêm 4 gương người tốt, việc tốt được xã ghi nhận\n" in text
    assert "- còn thiếu 2 báo cáo đúng hạn\n" in text
    assert text.endswith(
        "Cố gắng lên, thôn sẽ đạt loại Hoàn thành!\n\n"
        "Gõ /tucham để xem số liệu của từng tiêu chí và đề nghị chấm lại nếu chưa đúng."
    )
    # Never the villages below the top three, nor their points.
    for other in ("Thôn 4", "Thôn 6", "34"):
        assert other not in text


async def test_a_frozen_board_says_so_and_later_reports_do_not_change_it(
    talk: Conversations, storage: SqliteStorage, clock: FakeClock, plan: Plan
) -> None:
    people = await seed(storage, clock)
    async with storage.transaction() as tx:
        by = "Hội đồng TĐKT, họp ngày 24/11/2026"
        await finalize(tx, plan, 2026, clock().date(), by, people["chair"].id, clock())
    async with storage.transaction() as tx:  # Thôn 6 reports at last
        await tx.add_report(
            "thon_6", "thang", "2026-11", {"tong_ho": "10", "ho_co_dien": "10"}, 1, clock()
        )
    clock.advance(days=3)
    table = await say(talk, 2001, "/bangdiem")
    assert table.splitlines()[1] == (
        "Bảng điểm đã được Hội đồng chốt ngày 24/11/2026 (Hội đồng TĐKT, họp ngày "
        "24/11/2026); tối đa 50 điểm."
    )
    assert "6. Thôn 6: 0 – Chưa hoàn thành" in table
    head = await say(talk, 1006, "/bangdiem")
    assert "Bảng điểm đã được Hội đồng chốt ngày 24/11/2026" in head
    assert "hạng 6/6" in head and "Để lên loại" not in head


async def test_others_and_wrong_years_are_answered_clearly(
    talk: Conversations, storage: SqliteStorage, clock: FakeClock, small_plan: Plan
) -> None:
    await seed(storage, clock)
    refused = await say(talk, 3001, "/bangdiem")
    assert refused.startswith("Bảng điểm toàn xã dành cho thường trực và Chủ tịch")
    assert "Năm “hai” không hợp lệ" in await say(talk, 2001, "/bangdiem hai")
    assert "Năm 2027 chưa bắt đầu" in await say(talk, 2001, "/bangdiem 2027")
    assert "Kế hoạch bắt đầu từ ngày 1/1/2024 nên không có bảng điểm năm 2023" in await say(
        talk, 2001, "/bangdiem 2023"
    )
    # Last year: every report of 2025 was due and none was sent.
    last_year = await say(talk, 2001, "/bangdiem 2025")
    assert "BẢNG ĐIỂM THI ĐUA NĂM 2025" in last_year
    assert "Tạm tính đến hết ngày 31/12/2025" in last_year
    assert "1. Thôn 1: 0 – Chưa hoàn thành" in last_year
    help_text = await say(talk, 1001, "/huongdan")
    assert "/bangdiem: điểm và hạng của thôn" in help_text
    without = Conversations(small_plan, storage, clock)  # a plan with no scoring
    assert "chưa có phần chấm điểm thi đua" in await say(without, 2001, "/bangdiem")


def outbox_for(storage: SqliteStorage, clock: FakeClock, plan: Plan) -> Outbox:
    channel = RecordingChannel()
    return Outbox(
        storage,
        {channel.name: channel},
        clock,
        lambda moment: quiet_until(plan.schedule, moment, plan.tz),
    )


def sent(outbox: Outbox, chat: int) -> list[str]:
    channel = outbox.channels["telegram"]
    assert isinstance(channel, RecordingChannel)
    return channel.texts(str(chat))


async def test_the_monthly_message_reaches_each_reachable_head_once_a_month(
    storage: SqliteStorage, clock: FakeClock, plan: Plan, database_url: str
) -> None:
    people = await seed(storage, clock)
    async with storage.transaction() as tx:  # Ông Sáu blocked the bot
        await tx.mark_unreachable("telegram", "1006", clock())
    clock.now = at(1, 8, month=12)
    jobs = Jobs(plan, storage, clock)
    assert await jobs.monthly_board(clock()) == 2  # Anh Một and Chị Năm
    assert await jobs.monthly_board(clock()) == 0  # the same month: nothing more
    outbox = outbox_for(storage, clock, plan)
    assert await outbox.send_due() == 2
    [to_five] = sent(outbox, 1005)
    # December 1st: November's report was due on the 25th; Thôn 5 has not sent it.
    assert "Điểm của thôn: 25,5/50 – Chưa hoàn thành – hạng 5/6" in to_five
    assert "Tạm tính đến hết ngày 1/12/2026" in to_five
    assert "Thôn 4" not in to_five
    [to_one] = sent(outbox, 1001)
    assert "hạng 1/6" in to_one
    assert sent(outbox, 1006) == [] and sent(outbox, 2001) == []
    async with storage.transaction() as tx:
        keys = sorted(row["key"] for row in await tx.outbox("board:"))
    assert keys == [f"board:{people['one'].id}:2026-12", f"board:{people['five'].id}:2026-12"]

    # A restart: the database opened anew, new jobs; the catch-up and the same month's run
    # queue nothing.
    reopened = await engines.open_url(database_url)
    try:
        clock.now = at(1, 9, month=12)
        again = Jobs(plan, reopened, clock)
        await again.catch_up()
        assert await again.monthly_board(at(1, 8, month=12)) == 0
    finally:
        await reopened.close()

    # January: last year's board, all its reports due by then.
    clock.now = at(1, 8, month=1, year=2027)
    assert await jobs.monthly_board(clock()) == 2
    await outbox.send_due()
    assert "BẢNG ĐIỂM THI ĐUA NĂM 2026 – Thôn 5" in sent(outbox, 1005)[-1]


async def test_the_monthly_message_never_goes_out_in_the_quiet_hours(
    storage: SqliteStorage, clock: FakeClock, plan: Plan
) -> None:
    await seed(storage, clock)
    # Quiet from 19:00 to 07:00. The bot was down at 08:00 on the 1st and starts at 19:30:
    # caught up (within 12 hours), queued at once, held while the quiet hours last.
    quiet = QuietHours(time(19, 0), time(7, 0))
    plan = replace(plan, schedule=replace(plan.schedule, quiet_hours=quiet))
    clock.now = at(1, 19, 30, month=12)
    jobs = Jobs(plan, storage, clock)
    await jobs.catch_up()
    async with storage.transaction() as tx:
        assert len(await tx.outbox("board:")) == 3
        assert await tx.meta(f"schedule:{BOARD}") == at(1, 8, month=12).isoformat()
    outbox = outbox_for(storage, clock, plan)
    assert await outbox.send_due() == 0
    clock.now = at(2, 6, 59, month=12)
    assert await outbox.send_due() == 0
    clock.now = at(2, 7, 0, month=12)
    assert await outbox.send_due() == 3
    # Missed by more than 12 hours: skipped, as the reminders are.
    clock.now = at(1, 20, 1, month=1, year=2027)
    await jobs.catch_up()
    async with storage.transaction() as tx:
        assert len(await tx.outbox("board:")) == 3


async def test_no_monthly_message_without_scoring_or_before_anything_is_due(
    storage: SqliteStorage, clock: FakeClock, plan: Plan, small_plan: Plan
) -> None:
    await seed(storage, clock)
    assert await Jobs(small_plan, storage, clock).monthly_board(at(1, 8, month=12)) == 0
    assert await Jobs(plan, storage, clock).monthly_board(at(1, 8, month=1, year=2024)) == 0
    assert Scheduler(Jobs(small_plan, storage, clock)).aps.get_job(BOARD) is None


def test_the_monthly_job_runs_on_the_first_at_the_reminder_time(plan: Plan) -> None:
    # The machine's own clock: no offset to apply (and nothing here depends on the date).
    scheduler = Scheduler(Jobs(plan, None, system_clock))  # type: ignore[arg-type]
    job = scheduler.aps.get_job(BOARD)
    assert job.trigger.get_next_fire_time(None, at(24, 10)) == at(1, 8, month=12)
    assert last_board_time(plan, at(1, 7, 59, month=12)) == at(1, 8)
    assert last_board_time(plan, at(1, 8, month=12)) == at(1, 8, month=12)
    assert last_board_time(plan, at(1, 7, month=1, year=2027)) == at(1, 8, month=12)


async def test_the_digest_has_a_short_scoreboard_section_and_the_workbook_a_sheet(
    storage: SqliteStorage, clock: FakeClock, plan: Plan
) -> None:
    people = await seed(storage, clock)
    async with storage.transaction() as tx:
        await add_claim(tx, plan, 2026, "thon_5", "dien", Decimal(90), "Đã kéo điện", None,
                        people["five"].id, clock())  # fmt: skip
    async with storage.reading() as tx:  # a read-only snapshot serves
        data = await read_digest(plan, tx, clock())
    text = digest_text(plan, data)
    section = text[text.index("Bảng điểm thi đua năm 2026") :].split("\n\n")[0]
    assert section.splitlines() == [
        "Bảng điểm thi đua năm 2026",
        "Tạm tính đến hết ngày 24/11/2026; tối đa 50 điểm.",
        "Dẫn đầu: 1. Thôn 1: 40; 2. Thôn 2: 38; 3. Thôn 3: 36",
        "Xếp loại: Xuất sắc: 0 thôn; Tốt: 0 thôn; Hoàn thành: 0 thôn; Chưa hoàn thành: 6 thôn",
        "Đề nghị chấm lại đang chờ xét: 1",
    ]
    async with storage.transaction() as tx:  # read without recording computed points
        assert [e["kind"] for e in await score_events(tx, 2026)] == ["claimed"]

    book = load_workbook(io.BytesIO(digest_workbook(plan, data)))
    assert book.sheetnames[:2] == ["Tổng hợp", "Bảng điểm"]
    sheet = book["Bảng điểm"]
    rows = [[cell for cell in row] for row in sheet.iter_rows(values_only=True)]
    assert rows[0][0] == "BẢNG ĐIỂM THI ĐUA NĂM 2026 – Xã Thử"
    by_village = {row[1]: row for row in rows if isinstance(row[0], int)}
    assert set(by_village) == {f"Thôn {n}" for n in range(1, 7)}
    assert by_village["Thôn 5"][0] == 5  # rank
    assert 27 in by_village["Thôn 5"] and 12 in by_village["Thôn 5"]  # total, on time
