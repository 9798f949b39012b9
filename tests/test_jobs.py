"""Reminders, late notices and the weekly digest, end to end with a clock the tests move:
real SQLite, the real python-telegram-bot Application against the Bot API stand-in."""

from __future__ import annotations

import io
import logging
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger

from bot.channels.telegram import TelegramChannel
from bot.clock import clock_from, system_clock
from bot.domain import Person
from bot.plan.model import Plan, check_plan_text
from bot.plan.schedule import last_digest_time, last_reminder_time
from bot.reports.engine import Draft
from handlers.conversation import Conversations
from scheduler.jobs import Jobs, Scheduler, ShiftedTrigger
from storage.sqlite import SqliteStorage
from tests import engines
from tests.conftest import SMALL_PLAN, FakeClock
from tests.standin.telegram import BotApiStandIn
from tests.test_outbox import make_outbox, register, sent_texts
from web.signin import WebLinks, new_session

VN = ZoneInfo("Asia/Ho_Chi_Minh")
ANSWERS = {
    "tong_ho": "100",
    "ho_co_dien": "50",
    "thu_gom_rac": True,
    "dien_tich_lua": None,
    "loai": "Chưa đạt",
    "ghi_chu": None,
}


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    """A moment of November 2026 on the Vietnamese wall clock."""
    return datetime(2026, month, day, hour, minute, tzinfo=VN)


async def report(storage: SqliteStorage, person: Person, village: str, when: datetime) -> None:
    async with storage.transaction() as tx:
        await tx.add_report(village, "thang", "2026-11", ANSWERS, person.id, when)


class People:
    def __init__(self, one: Person, two: Person, three: Person, clerk: Person, chair: Person):
        self.one, self.two, self.three, self.clerk, self.chair = one, two, three, clerk, chair


@pytest.fixture
async def people(storage: SqliteStorage, clock: FakeClock) -> People:
    return People(
        await register(storage, clock, "Anh Một", 1001, village="thon_1"),
        await register(storage, clock, "Chị Hai", 1002, village="thon_2"),
        await register(storage, clock, "Ông Ba", 1003, village="thon_3"),
        await register(storage, clock, "Chị Thư", 2001, "secretariat", None),
        await register(storage, clock, "Ông Chủ tịch", 2002, "chair", None),
    )


async def test_reminders_go_only_to_heads_not_done_and_only_once_across_a_restart(
    standin: BotApiStandIn,
    telegram: TelegramChannel,
    storage: SqliteStorage,
    clock: FakeClock,
    small_plan: Plan,
    people: People,
    database_url: str,
    conversations: Conversations,
) -> None:
    await report(storage, people.two, "thon_2", at(24, 9))  # Thôn 2 is done
    # Ông Ba has answered two questions of November's report and stopped.
    draft = Draft(village="thon_3", form="thang", period="2026-11", index=2, seq=3)
    draft.answers = {"tong_ho": "80", "ho_co_dien": "70"}
    async with storage.transaction() as tx:
        await tx.save_draft(people.three.id, draft.to_dict(), clock())

    clock.now = at(25, 8)  # the due day, at the reminder time
    jobs = Jobs(small_plan, storage, clock)
    assert await jobs.remind(clock()) == 2
    outbox = make_outbox(storage, telegram, clock, small_plan)
    assert await outbox.send_due() == 2

    [to_one] = standin.messages_to(1001)
    assert to_one["text"].startswith("Kính gửi Anh Một: hôm nay, Thứ Tư, 25/11/2026, là hạn gửi")
    assert "Báo cáo tháng kỳ tháng 11/2026 của Thôn 1" in to_one["text"]
    buttons = to_one["reply_markup"]["inline_keyboard"]
    assert buttons == [[{"text": "Báo cáo ngay", "callback_data": "/baocao thang 2026-11"}]]
    assert standin.messages_to(1002) == []
    [to_three] = standin.messages_to(1003)
    assert "đang làm dở báo cáo này (2/6 câu đã trả lời)" in to_three["text"]

    # A restart: the database file opened anew, new jobs and sender with nothing in memory;
    # the catch-up and the same day's run queue nothing.
    reopened = await engines.open_url(database_url)
    try:
        clock.now = at(25, 9)
        again = Jobs(small_plan, reopened, clock)
        await again.catch_up()
        assert await again.remind(at(25, 8)) == 0
        assert await make_outbox(reopened, telegram, clock, small_plan).send_due() == 0
    finally:
        await reopened.close()
    assert len(standin.messages_to(1001)) == 1 and len(standin.messages_to(1003)) == 1

    # "Làm tiếp" continues the draft where it stopped: the third question, answers kept.
    user = standin.user(1003, "Ông Ba")
    replies = await user.press("/baocao thang 2026-11")
    text = "\n".join(str(m.get("text", "")) for m in replies)
    assert "Bạn đang làm dở Báo cáo tháng kỳ tháng 11/2026" in text
    assert "Thôn đã đăng ký thu gom rác chưa?" in text
    async with storage.transaction() as tx:
        kept = await tx.draft(people.three.id)
    assert kept is not None and kept["answers"] == {"tong_ho": "80", "ho_co_dien": "70"}


async def test_the_reminder_button_opens_the_period_when_there_is_no_draft(
    standin: BotApiStandIn,
    telegram: TelegramChannel,
    storage: SqliteStorage,
    clock: FakeClock,
    small_plan: Plan,
    people: People,
) -> None:
    clock.now = at(22, 8)
    await Jobs(small_plan, storage, clock).remind(clock())
    await make_outbox(storage, telegram, clock, small_plan).send_due()
    user = standin.user(1001, "Anh Một")
    replies = await user.press(user.button("Báo cáo ngay"))
    text = "\n".join(str(m.get("text", "")) for m in replies)
    assert "Thôn hiện có bao nhiêu hộ?" in text  # straight to the first question, no menu
    async with storage.transaction() as tx:
        draft = await tx.draft(people.one.id)
    assert draft is not None and (draft["form"], draft["period"]) == ("thang", "2026-11")


async def test_the_day_after_the_due_date_heads_are_reminded_and_officers_told_who_is_late(
    standin: BotApiStandIn,
    telegram: TelegramChannel,
    storage: SqliteStorage,
    clock: FakeClock,
    small_plan: Plan,
    people: People,
) -> None:
    await report(storage, people.one, "thon_1", at(25, 20))  # on time: the due day, evening
    await report(storage, people.two, "thon_2", at(26, 7))  # late: the morning after
    clock.now = at(26, 8)
    assert await Jobs(small_plan, storage, clock).remind(clock()) == 3  # Ông Ba + 2 officers
    await make_outbox(storage, telegram, clock, small_plan).send_due()

    [late] = standin.messages_to(1003)
    assert "đã quá hạn (Thứ Tư, 25/11/2026) mà xã chưa nhận được" in late["text"]
    assert standin.messages_to(1001) == [] and standin.messages_to(1002) == []
    for officer in (2001, 2002):
        [notice] = sent_texts(standin, officer)
        assert notice.startswith(
            "Báo cáo tháng kỳ tháng 11/2026 (hạn Thứ Tư, 25/11/2026): 2/3 thôn chưa gửi đúng hạn."
        )
        assert "Chưa gửi: Thôn 3" in notice
        assert "Gửi muộn: Thôn 2" in notice
        assert "Không nhắc được" not in notice


async def test_no_reminder_on_other_days_or_before_the_plan(
    storage: SqliteStorage, clock: FakeClock, small_plan: Plan, people: People
) -> None:
    jobs = Jobs(small_plan, storage, clock)
    assert await jobs.remind(at(24, 8)) == 0  # 22, 25 and 26 are the days
    assert await jobs.remind(at(22, 8, month=11).replace(year=2023)) == 0  # before `starts`
    assert await jobs.remind(at(22, 8)) == 3  # three days before: every head


async def test_a_missed_run_is_caught_up_within_12_hours_else_skipped(
    storage: SqliteStorage,
    clock: FakeClock,
    small_plan: Plan,
    people: People,
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock.now = at(25, 19, 59)  # 11 h 59 min after 08:00
    jobs = Jobs(small_plan, storage, clock)
    await jobs.catch_up()
    async with storage.transaction() as tx:
        assert len(await tx.outbox("reminder:")) == 3

    clock.now = at(26, 20, 1)  # 12 h 1 min after the day-after reminder: too late
    with caplog.at_level(logging.WARNING, logger="scheduler.jobs"):
        await jobs.catch_up()
    async with storage.transaction() as tx:
        assert len(await tx.outbox("reminder:")) == 3
        assert await tx.outbox("late:") == []
    assert "skipped" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="scheduler.jobs"):
        await jobs.catch_up()  # said once, not at every start
    assert "skipped" not in caplog.text


async def test_weekly_digest_reaches_each_officer_once_a_week_with_workbook_and_chart(
    standin: BotApiStandIn,
    telegram: TelegramChannel,
    storage: SqliteStorage,
    clock: FakeClock,
    small_plan: Plan,
    people: People,
    tmp_path: Path,
) -> None:
    from openpyxl import load_workbook

    async with storage.transaction() as tx:  # October, reported by all three
        for person, village in ((people.one, "thon_1"), (people.two, "thon_2")):
            await tx.add_report(
                village, "thang", "2026-10", ANSWERS, person.id, at(20, 9, month=10)
            )
        await tx.add_report(
            "thon_3", "thang", "2026-10", {**ANSWERS, "ho_co_dien": "100"}, people.three.id,
            at(20, 9, month=10),
        )  # fmt: skip

    clock.now = at(2, 7, 30)  # Monday 2 November, the first digest after October ended
    jobs = Jobs(small_plan, storage, clock)
    assert await jobs.weekly_digest(clock()) == 2
    assert await jobs.weekly_digest(clock()) == 0  # the same week: nothing more
    clock.now = at(2, 9)
    await jobs.catch_up()
    await make_outbox(storage, telegram, clock, small_plan).send_due()

    for officer in (2001, 2002):
        messages = standin.messages_to(officer)
        text = "\n".join(str(m.get("text", "")) for m in messages)
        assert "Báo cáo tháng – kỳ tháng 10/2026 (hạn 25/10/2026) – số liệu cuối kỳ" in text
        assert "Đã báo cáo: 3/3 thôn" in text
        # (50 + 50 + 100) / 300 households
        assert "Tỷ lệ hộ dùng điện lưới: 66,7% (3/3 thôn; mục tiêu ≥ 100%): chưa đạt" in text
        assert "Báo cáo tháng – kỳ tháng 11/2026 (hạn 25/11/2026)\nĐã báo cáo: 0/3 thôn" in text
        documents = [m for m in messages if "document" in m]
        photos = [m for m in messages if "photo" in m]
        assert len(documents) == 1 and len(photos) == 1
    uploads = [c for c in standin.calls("sendDocument") if c.status == 200]
    book = load_workbook(io.BytesIO(uploads[0].params["document"].data))
    assert "Tổng hợp" in book.sheetnames
    pngs = [c for c in standin.calls("sendPhoto") if c.status == 200]
    assert pngs[0].params["photo"].data.startswith(b"\x89PNG\r\n\x1a\n")

    clock.now = at(9, 7, 30)  # next Monday: a new week, a new digest, no final October
    assert await jobs.weekly_digest(clock()) == 2
    async with storage.transaction() as tx:
        assert len(await tx.outbox("digest:")) == 4


async def test_the_digest_lists_people_the_bot_cannot_reach(
    standin: BotApiStandIn,
    telegram: TelegramChannel,
    storage: SqliteStorage,
    clock: FakeClock,
    small_plan: Plan,
    people: People,
) -> None:
    clock.now = at(22, 8)
    jobs = Jobs(small_plan, storage, clock)
    await jobs.remind(clock())
    standin.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user", chat_id=1002)
    await make_outbox(storage, telegram, clock, small_plan).send_due()
    clock.now = at(23, 7, 30)
    await jobs.weekly_digest(clock())
    await make_outbox(storage, telegram, clock, small_plan).send_due()
    text = "\n".join(sent_texts(standin, 2001))
    assert (
        "Không liên lạc được (đã chặn bot hoặc bỏ tài khoản):\n- Chị Hai (Thôn 2), từ 22/11/2026"
        in text
    )
    # Nobody queues for her any more until she writes again.
    clock.now = at(25, 8)
    await jobs.remind(clock())
    async with storage.transaction() as tx:
        keys = [row["key"] for row in await tx.outbox("reminder:")]
    assert not any(key.startswith(f"reminder:{people.two.id}:thang:2026-11:d+0") for key in keys)
    # …and the late notice says her village could not be reminded.
    clock.now = at(26, 8)
    await jobs.remind(clock())
    await make_outbox(storage, telegram, clock, small_plan).send_due()
    notice = sent_texts(standin, 2001)[-1]
    assert "Chưa gửi: Thôn 1, Thôn 2, Thôn 3" in notice
    assert "Không nhắc được (chưa có trưởng thôn đăng ký, hoặc không liên lạc được): Thôn 2" in (
        notice
    )


async def test_a_long_digest_is_split_under_telegrams_limit(
    standin: BotApiStandIn,
    telegram: TelegramChannel,
    storage: SqliteStorage,
    clock: FakeClock,
    tmp_path: Path,
) -> None:
    villages = ", ".join(f"Thôn Buôn Làng Số {n} Phía Đông Suối" for n in range(1, 301))
    text = SMALL_PLAN.read_text(encoding="utf-8").replace(
        "villages: [Thôn 1, Thôn 2, Thôn 3]", f"villages: [{villages}]"
    )
    plan, problems = check_plan_text(text)
    assert plan is not None, problems
    clerk = await register(storage, clock, "Chị Thư", 2001, "secretariat", None)
    assert clerk.reachable is not None
    # Every other village reports: the 150 others are named (a list with no short
    # complement is counted, then named in full).
    async with storage.transaction() as tx:
        head = await tx.create_person("Anh Ba", "head", plan.villages[0].id, "vi", clock())
        for village in plan.villages[::2]:
            await tx.add_report(village.id, "thang", "2026-11", {"tong_ho": "10"}, head.id,
                                clock())  # fmt: skip
    assert len(await Jobs(plan, storage, clock).digest_now()) == 1
    await make_outbox(storage, telegram, clock, plan).send_due()
    pieces = [m["text"] for m in standin.messages_to(2001) if "text" in m]
    assert len(pieces) >= 3 and all(len(p) <= 4096 for p in pieces)
    joined = " ".join(pieces)
    assert "Chưa báo cáo: 150 thôn: Thôn Buôn Làng Số 2 Phía Đông Suối" in joined
    for n in (2, 150, 300):
        assert f"Thôn Buôn Làng Số {n} Phía Đông Suối" in joined


def test_the_scheduler_runs_at_the_plans_wall_clock_times(small_plan: Plan) -> None:
    # The machine's own clock: no offset to apply (and nothing here depends on the date).
    scheduler = Scheduler(Jobs(small_plan, None, system_clock))  # type: ignore[arg-type]
    reminders = scheduler.aps.get_job("reminders")
    digest = scheduler.aps.get_job("digest")
    after = at(24, 10)
    fire = reminders.trigger.get_next_fire_time(None, after)
    assert fire == at(25, 8)
    assert last_reminder_time(small_plan.schedule, fire, VN) == fire
    weekly = digest.trigger.get_next_fire_time(None, after)
    assert weekly == at(30, 7, 30)  # Monday
    assert last_digest_time(small_plan.schedule, weekly, VN) == weekly


def test_a_clock_ahead_of_the_machine_fires_the_jobs_at_its_own_wall_clock_times(
    small_plan: Plan,
) -> None:
    offset = timedelta(days=-7, hours=3, seconds=12.5)
    trigger = ShiftedTrigger(CronTrigger(timezone=VN, hour=8, minute=0), offset)
    machine = at(24, 10) - offset  # the machine's time while the bot's clock reads 24/11 10:00
    fire = trigger.get_next_fire_time(None, machine)
    assert fire is not None and fire + offset == at(25, 8)
    again = trigger.get_next_fire_time(fire, fire)
    assert again is not None and again + offset == at(26, 8)
    shifted = Scheduler(Jobs(small_plan, None, clock_from(at(24, 10))))  # type: ignore[arg-type]
    assert isinstance(shifted.aps.get_job("reminders").trigger, ShiftedTrigger)


async def test_tonghop_in_the_week_after_a_month_ends_shows_its_final_figures(
    storage: SqliteStorage, clock: FakeClock, people: People, conversations: Conversations
) -> None:
    from bot.messages import Incoming

    await report(storage, people.one, "thon_1", at(20, 9))
    clock.now = at(3, 9, month=12)
    asked = await conversations.handle(
        Incoming("telegram", "2001", "2001", "text", "/tonghop", update_key="d1")
    )
    text = asked.replies[0].text
    final = text.index("Báo cáo tháng – kỳ tháng 11/2026 (hạn 25/11/2026) – số liệu cuối kỳ")
    assert "Đã báo cáo: 1/3 thôn" in text[final:]
    assert text.index("Báo cáo tháng – kỳ tháng 12/2026") > final
    clock.now = at(9, 9, month=12)  # more than a week later: the current month only
    later = await conversations.handle(
        Incoming("telegram", "2001", "2001", "text", "/tonghop", update_key="d2")
    )
    assert "tháng 11/2026" not in later.replies[0].text


async def test_housekeeping_forgets_what_no_one_needs_and_keeps_the_rest(
    storage: SqliteStorage, clock: FakeClock, small_plan: Plan
) -> None:

    from bot.domain import Identity
    from bot.messages import Incoming, Reply

    def event(key: str) -> Incoming:
        return Incoming("telegram", "9", "9", "text", key, update_key=key)

    start = clock()
    async with storage.transaction() as tx:
        person = await tx.create_person("Anh Ba", "head", "thon_1", "vi", start)
        await tx.add_identity(person.id, Identity("telegram", "9", "9"), start)
        old, waiting = await tx.receive_events([event("old"), event("waiting")], start)
        assert old and waiting
        await tx.claim_event(old, start)
        message = await tx.queue_message("m", person.id, Identity("telegram", "9", "9"), "vi",
                                         [Reply("x")], start)  # fmt: skip
        assert message is not None
        await tx.message_sent(message.id, 1, start)
        await tx.record_invite_failure("telegram", "66", start)
        orphan = await tx.store_file(b"orphan photo", "image/jpeg", start)
        in_draft = await tx.store_file(b"photo in a draft", "image/jpeg", start)
        await tx.save_draft(person.id, {"flow": "nomination", "photos": [in_draft]}, start)
        kept = await tx.store_file(b"a nomination's photo", "image/jpeg", start)
        await tx.add_nomination(person.id, "Bà Lan", "thon_1", "Việc tốt", "Khác", [kept],
                                2026, start)  # fmt: skip
        await WebLinks("http://127.0.0.1").link(tx, person, start)  # its 10 minutes pass
        await tx.create_web_session(new_session(person.id, start)[1])  # left idle
        _cookie, used = new_session(person.id, start)
        await tx.create_web_session(used)
    jobs = Jobs(small_plan, storage, clock)
    assert set((await jobs.housekeeping()).values()) == {0}  # nothing old enough yet
    clock.advance(days=91)
    async with storage.transaction() as tx:  # used until now: kept
        await tx.touch_web_session(used.id_hash, clock())
    done = await jobs.housekeeping()
    assert done == {
        "events": 1, "messages": 1, "invite failures": 1, "files": 1, "web sign-ins": 2
    }  # fmt: skip
    async with storage.reading() as tx:
        assert await tx.web_session(used.id_hash) is not None
    async with storage.transaction() as tx:
        assert [event_id for event_id, _e in await tx.pending_events()] == [waiting]
        assert await tx.file(orphan) is None
        assert await tx.file(in_draft) is not None and await tx.file(kept) is not None
    assert Scheduler(Jobs(small_plan, storage, system_clock)).aps.get_job("housekeeping")


def test_the_late_notice_folds_long_lists_of_villages() -> None:
    from datetime import date

    from bot.plan.model import load_plan
    from bot.plan.periods import parse_period
    from bot.plan.schedule import ReminderDue
    from bot.reports.reminders import late_notice
    from tests.conftest import ROOT

    plan = load_plan(ROOT / "plans" / "nam-dong-2024.yaml")
    due = ReminderDue("thang", parse_period("2026-11"), 1, date(2026, 11, 25))
    ids = [v.id for v in plan.villages]
    text = late_notice(plan, due, ids[1:], [], ids[1:]).text
    assert "Chưa gửi: 18 thôn, tất cả trừ Thôn 1" in text
    assert "18/19 thôn chưa gửi đúng hạn" in text
    assert "Thôn 19" not in text
