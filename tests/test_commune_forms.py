"""The commune's own forms (``level: commune``), the commune officer who fills them, the
baseline forms an officer fills once per village, and the digest against the baselines:
real SQLite, ``Conversations`` as Telegram sends to it, the Telegram and Zalo stand-ins."""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from bot.app.cli import main
from bot.channels.telegram import TelegramChannel
from bot.channels.zalo import ZaloChannel, ZaloOptions
from bot.domain import Person, Report
from bot.messages import Incoming, Reply
from bot.outputs.digest import FormSection, indicator_figures, reporting
from bot.outputs.export import spreadsheet_csv, to_csv
from bot.outputs.workbook import build_workbook
from bot.plan.model import COMMUNE_ID, Plan, load_plan
from bot.plan.periods import parse_period
from bot.plan.removals import InUse, find_removals
from bot.plan.schedule import ReminderDue
from bot.ratelimit import Limits
from bot.reports import reminders
from bot.reports.engine import Begin, Draft, FormEngine, FormOption, Input
from handlers.conversation import Conversations
from handlers.digest import digest_in
from handlers.inbox import Inbox
from scheduler.jobs import Jobs
from scheduler.outbox import Outbox
from storage.sqlite import SqliteStorage
from tests.button_words import button_words
from tests.conftest import FakeClock, add_invite, attach
from tests.standin.telegram import BotApiStandIn
from tests.standin.zalo import ZaloApiStandIn, zalo_id
from tests.test_outbox import register, sent_texts

COMMUNE_PLAN = Path(__file__).parent / "plans" / "commune.yaml"
VN = ZoneInfo("Asia/Ho_Chi_Minh")
Q3 = {"thu_ngan_sach": "2000", "dien_tich_gieo": "4900", "dien_tich_tuoi": "4400"}

_updates = itertools.count(1)


@pytest.fixture(scope="module")
def small_plan() -> Plan:
    """The plan every fixture of conftest builds on, here one with a commune form and a
    baseline form."""
    return load_plan(COMMUNE_PLAN)


def vn(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=VN)


async def send(conversations: Conversations, user: str, text: str) -> list[Reply]:
    incoming = Incoming(
        channel="telegram",
        user_id=user,
        chat_id=user,
        kind="text",
        text=text,
        update_key=str(next(_updates)),
        display_name="Anh Năm",
    )
    return (await conversations.handle(incoming)).replies


def joined(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


def labels(replies: list[Reply]) -> list[str]:
    return [c.label for c in replies[-1].choices]


async def officer_registered(
    conversations: Conversations, storage: SqliteStorage, clock: FakeClock
) -> str:
    """An officer invited (no village) and registered as Telegram user 50; the welcome."""
    await add_invite(storage, clock, "OFFI2345", None, role="officer")
    return joined(await send(conversations, "50", "/start OFFI2345"))


async def report(
    storage: SqliteStorage,
    village: str,
    form: str,
    period: str,
    answers: dict[str, Any],
    by: int,
    when: datetime,
) -> None:
    async with storage.transaction() as tx:
        await tx.add_report(village, form, period, answers, by, when)


# -- the officer -----------------------------------------------------------------------


def test_invite_role_officer_needs_no_village_and_registers_an_officer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", "sqlite:///thidua.db")
    monkeypatch.setenv("PLAN_FILE", str(COMMUNE_PLAN))
    monkeypatch.setenv("THIDUA_NOW", "2026-11-24T10:00+07:00")
    assert main(["invite", "--role", "officer"]) == 0
    out = capsys.readouterr().out
    assert "Mã mời cán bộ xã – Xã Thử" in out
    code = out.strip().splitlines()[-1]
    assert main(["invite", "--role", "officer", "--village", "Thôn 1"]) == 2
    assert "không gắn với thôn" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["invite", "--help"])
    assert "officer (cán bộ xã" in capsys.readouterr().out

    async def use_it() -> tuple[str, list[Person]]:
        storage = await SqliteStorage.open(tmp_path / "thidua.db")
        try:
            clock = FakeClock(vn(11, 24, 10))
            replies = await send(Conversations(load_plan(COMMUNE_PLAN), storage, clock), "9", code)
            async with storage.transaction() as tx:
                return joined(replies), await tx.people()
        finally:
            await storage.close()

    welcome, people = asyncio.run(use_it())
    assert "Bạn đã đăng ký là cán bộ xã của xã Thử" in welcome
    assert "số liệu năm làm mốc của từng thôn" in welcome
    assert [(p.role, p.village_id) for p in people] == [("officer", None)]


async def test_the_officers_help_says_what_an_officer_does(
    conversations: Conversations, storage: SqliteStorage, clock: FakeClock
) -> None:
    await officer_registered(conversations, storage, clock)
    text = joined(await send(conversations, "50", "/huongdan"))
    assert "Vai trò của bạn: cán bộ xã." in text
    assert "/baocao: gửi (hoặc làm tiếp) báo cáo của xã" in text
    assert "số liệu năm làm mốc của từng thôn (chọn thôn trước" in text
    assert "/tonghop" not in text  # the council's tools are not an officer's
    refused = joined(await send(conversations, "50", "/tonghop"))
    assert "dành cho thường trực" in refused


# -- the commune's form ------------------------------------------------------------------


async def test_the_officer_fills_the_commune_form_from_last_quarter_and_corrects_it(
    conversations: Conversations, storage: SqliteStorage, clock: FakeClock
) -> None:
    clock.now = vn(10, 12, 10)
    await officer_registered(conversations, storage, clock)
    async with storage.transaction() as tx:
        [officer] = await tx.people()
    await report(storage, COMMUNE_ID, "xa_quy", "2026-Q3", Q3, officer.id, vn(7, 15, 9))

    menu = await send(conversations, "50", "/baocao")
    assert labels(menu) == [
        "Báo cáo quý của xã",
        "Số liệu năm 2023 (làm mốc) (đã nhập 0/3 thôn)",
    ]
    prefill = await send(conversations, "50", "1")
    text = joined(prefill)
    assert "Báo cáo quý của xã kỳ quý IV/2026 của xã Thử." in text
    assert "Xã đã báo cáo kỳ quý III/2026." in text
    assert labels(prefill) == ["Giống kỳ trước", "Trả lời từng câu"]
    summary = joined(await send(conversations, "50", "Giống kỳ trước"))
    assert "Tóm tắt Báo cáo quý của xã của xã Thử, kỳ quý IV/2026:" in summary
    assert "1. Thu ngân sách: 2.000 triệu đồng" in summary
    edited = joined(await send(conversations, "50", "1: 2500"))
    assert "1. Thu ngân sách: 2.500 triệu đồng (kỳ trước: 2.000 triệu đồng)" in edited
    receipt = joined(await send(conversations, "50", "Gửi"))
    assert "Đã nhận Báo cáo quý của xã của xã Thử, kỳ quý IV/2026." in receipt
    async with storage.transaction() as tx:
        sent = await tx.latest_report(COMMUNE_ID, "xa_quy", "2026-Q4")
    assert sent is not None and sent.submitted_by == officer.id
    assert sent.answers == {**Q3, "thu_ngan_sach": "2500"}

    # A correction within corrections_days: the summary opens with what was sent.
    clock.advance(days=1)
    menu = await send(conversations, "50", "/baocao")
    assert labels(menu)[0] == "Báo cáo quý của xã (đã gửi kỳ này)"
    opened = joined(await send(conversations, "50", "1"))
    assert "Sửa Báo cáo quý của xã kỳ quý IV/2026 đã gửi (phiên bản 1)" in opened
    assert "Bản sửa Báo cáo quý của xã của xã Thử, kỳ quý IV/2026:" in opened
    changed = joined(await send(conversations, "50", "3: 4000"))
    assert "3. Diện tích được tưới: 4.000 ha (đã gửi: 4.400 ha)" in changed
    again = joined(await send(conversations, "50", "Gửi"))
    assert "Đây là phiên bản 2" in again
    async with storage.transaction() as tx:
        versions = [r for r in await tx.reports(history=True) if r.form_id == "xa_quy"]
    assert [(r.period, r.version, r.village_id) for r in versions] == [
        ("2026-Q3", 1, COMMUNE_ID),
        ("2026-Q4", 1, COMMUNE_ID),
        ("2026-Q4", 2, COMMUNE_ID),
    ]


async def test_heads_never_see_the_commune_or_baseline_forms_nor_officers_the_villages(
    conversations: Conversations, storage: SqliteStorage, clock: FakeClock
) -> None:
    clock.now = vn(10, 12, 10)
    await add_invite(storage, clock, "HEAD2345", "thon_1")
    await send(conversations, "1", "/start HEAD2345")
    menu = await send(conversations, "1", "/baocao")
    assert labels(menu) == ["Kỳ tháng 9/2026 (trễ hạn)", "Kỳ tháng 10/2026"]
    assert "quý" not in joined(menu) and "2023" not in joined(menu)
    await send(conversations, "1", "/huy")
    # Nor by the command a reminder's button carries: the head's own menu instead.
    typed = await send(conversations, "1", "/baocao xa_quy 2026-Q4")
    assert "Báo cáo quý" not in joined(typed)
    assert labels(typed) == ["Kỳ tháng 9/2026 (trễ hạn)", "Kỳ tháng 10/2026"]
    await send(conversations, "1", "/huy")
    typed = await send(conversations, "1", "/baocao nen_2023 2023")
    assert "2023" not in joined(typed)

    await officer_registered(conversations, storage, clock)
    officer = await send(conversations, "50", "/baocao")
    assert all("tháng" not in label for label in labels(officer))

    await add_invite(storage, clock, "CLRK2345", None, role="secretariat")
    await send(conversations, "60", "/start CLRK2345")
    refused = joined(await send(conversations, "60", "/baocao"))
    assert "Báo cáo do trưởng thôn và cán bộ xã gửi" in refused


async def test_a_heads_draft_of_a_form_the_plan_gives_to_the_commune_is_dropped(
    small_plan: Plan, conversations: Conversations, storage: SqliteStorage, clock: FakeClock
) -> None:
    clock.now = vn(10, 12, 10)
    await add_invite(storage, clock, "HEAD2345", "thon_1")
    await send(conversations, "1", "/start HEAD2345")
    await send(conversations, "1", "/baocao")
    question = joined(await send(conversations, "1", "2"))
    assert "Câu 1/2 · Báo cáo tháng · kỳ tháng 10/2026" in question
    await send(conversations, "1", "120")
    forms = tuple(
        replace(form, level="commune") if form.id == "thang" else form for form in small_plan.forms
    )
    edited = Conversations(replace(small_plan, forms=forms), storage, clock)
    said = joined(await send(edited, "1", "5"))
    assert "“Báo cáo tháng” nay do người khác điền" in said
    async with storage.transaction() as tx:
        [head] = await tx.people()
        assert await tx.draft(head.id) is None
        assert await tx.reports() == []


# -- baseline forms ----------------------------------------------------------------------


async def test_the_officer_fills_the_baseline_village_by_village_and_corrects_it(
    conversations: Conversations, storage: SqliteStorage, clock: FakeClock
) -> None:
    await officer_registered(conversations, storage, clock)
    await send(conversations, "50", "/baocao")
    villages = await send(conversations, "50", "2")
    assert "Số liệu năm 2023 (làm mốc) kỳ năm 2023: chọn thôn để nhập số liệu." in joined(villages)
    assert labels(villages) == ["Thôn 1", "Thôn 2", "Thôn 3", "Quay lại"]
    back = await send(conversations, "50", "Quay lại")
    assert "Bạn muốn gửi báo cáo nào?" in joined(back)
    await send(conversations, "50", "2")
    first = joined(await send(conversations, "50", "2"))
    assert "Câu 1/2 · Số liệu năm 2023 (làm mốc) · kỳ năm 2023" in first
    assert "Năm 2023 thôn có bao nhiêu hộ?" in first
    await send(conversations, "50", "200")
    summary = joined(await send(conversations, "50", "8"))
    assert "Tóm tắt Số liệu năm 2023 (làm mốc) của Thôn 2, kỳ năm 2023:" in summary
    receipt = joined(await send(conversations, "50", "Gửi"))
    assert "Đã nhận Số liệu năm 2023 (làm mốc) của Thôn 2, kỳ năm 2023." in receipt
    assert "Gõ /baocao để nhập số liệu của thôn khác." in receipt

    # Years after 2023 and long past any corrections_days, the village's figures are shown
    # and corrected: a new version, the old one kept.
    menu = await send(conversations, "50", "/baocao")
    assert labels(menu)[1] == "Số liệu năm 2023 (làm mốc) (đã nhập 1/3 thôn)"
    villages = await send(conversations, "50", "2")
    assert labels(villages)[:3] == ["Thôn 1", "Thôn 2 (đã nhập)", "Thôn 3"]
    shown = joined(await send(conversations, "50", "thôn 2"))
    assert "Sửa Số liệu năm 2023 (làm mốc) kỳ năm 2023 đã gửi (phiên bản 1)" in shown
    assert "1. Tổng số hộ năm 2023: 200 hộ" in shown and "2. Hộ nghèo năm 2023: 8 hộ" in shown
    await send(conversations, "50", "2: 9")
    again = joined(await send(conversations, "50", "Gửi"))
    assert "Đây là phiên bản 2" in again
    async with storage.transaction() as tx:
        kept = [(r.village_id, r.period, r.version) for r in await tx.reports(history=True)]
        baselines = await tx.baseline_answers(["nen_2023"])
    assert kept == [("thon_2", "2023", 1), ("thon_2", "2023", 2)]
    assert baselines == {"thon_2": {"tong_ho_2023": "200", "ho_ngheo_2023": "9"}}


def test_a_baseline_form_is_never_due_and_a_commune_form_has_one_reporter(
    small_plan: Plan,
) -> None:
    year = parse_period("2026")
    assert reporting(small_plan, "nen_2023", year, {}).expected == ()
    quarter = parse_period("2026-Q4")
    status = reporting(small_plan, "xa_quy", quarter, {})
    assert status.expected == (COMMUNE_ID,) and status.missing == [COMMUNE_ID]
    assert reporting(small_plan, "thang", parse_period("2026-11"), {}).expected == (
        "thon_1",
        "thon_2",
        "thon_3",
    )


def test_the_commune_is_never_a_removed_village(small_plan: Plan) -> None:
    in_use = InUse({COMMUNE_ID: {"reports": 4}, "thon_9": {"reports": 1}}, {"xa_quy": 4}, {})
    removals = find_removals(small_plan, in_use, None)
    assert [(r.kind, r.id) for r in removals] == [("village", "thon_9")]


# -- reminders ---------------------------------------------------------------------------


async def test_officers_are_reminded_of_the_commune_form_as_heads_of_theirs(
    standin: BotApiStandIn,
    telegram: TelegramChannel,
    storage: SqliteStorage,
    clock: FakeClock,
    small_plan: Plan,
    outbox: Outbox,
) -> None:
    clock.now = vn(10, 12, 10)
    heads = [
        await register(storage, clock, f"Trưởng thôn {n}", 1000 + n, village=f"thon_{n}")
        for n in (1, 2, 3)
    ]
    officer = await register(storage, clock, "Anh Năm", 3001, "officer", None)
    await register(storage, clock, "Chị Thư", 2001, "secretariat", None)
    await register(storage, clock, "Ông Chủ tịch", 2002, "chair", None)
    jobs = Jobs(small_plan, storage, clock)

    clock.now = vn(10, 20, 8)  # the commune form's due day (the heads' is the 25th)
    assert await jobs.remind(clock()) == 1
    assert await jobs.remind(clock()) == 0  # once per form, period, person and day
    assert await outbox.send_due() == 1
    [reminder] = standin.messages_to(3001)
    assert reminder["text"].startswith(
        "Kính gửi Anh Năm: hôm nay, Thứ Ba, 20/10/2026, là hạn gửi Báo cáo quý của xã kỳ "
        "quý IV/2026 của xã Thử."
    )
    assert reminder["reply_markup"]["inline_keyboard"] == [
        [{"text": "Báo cáo ngay", "callback_data": "/baocao xa_quy 2026-Q4"}]
    ]
    # The officer answered one question and stopped.
    draft = Draft(village=COMMUNE_ID, form="xa_quy", period="2026-Q4", index=1, seq=3)
    draft.answers = {"thu_ngan_sach": "2500"}
    async with storage.transaction() as tx:
        await tx.save_draft(officer.id, draft.to_dict(), clock())

    # The day after, in the quiet hours: queued, sent in the morning; the officer is told
    # of the report they left open, the council that the commune has not sent it.
    clock.now = vn(10, 21, 22, 30)
    assert await jobs.remind(vn(10, 21, 8)) == 3
    assert await outbox.send_due() == 0
    clock.now = vn(10, 22, 7, 5)
    assert await outbox.send_due() == 3
    late = sent_texts(standin, 3001)[-1]
    assert "đã quá hạn (Thứ Ba, 20/10/2026) mà chưa được gửi" in late
    assert "đang làm dở báo cáo này (1/3 câu đã trả lời)" in late
    for council in (2001, 2002):
        [notice] = sent_texts(standin, council)
        assert notice == (
            "Báo cáo quý của xã kỳ quý IV/2026 (hạn Thứ Ba, 20/10/2026): xã Thử chưa gửi.\n"
            "Cán bộ xã đã được nhắc lại hôm nay."
        )
    for head in heads:
        assert standin.messages_to(int(head.identities[0].chat_id)) == []

    # The baseline form is never reminded, whatever its period's days.
    for day in (date(2026, 12, 28), date(2026, 12, 31), date(2027, 1, 1)):
        clock.now = vn(day.month, day.day, 8, year=day.year)
        assert await jobs.remind(clock()) == 0
    assert len(standin.messages_to(3001)) == 2

    # "Làm tiếp" goes on where the officer stopped.
    user = standin.user(3001, "Anh Năm")
    opened = "\n".join(str(m.get("text", "")) for m in await user.press(user.button("Làm tiếp")))
    assert "Bạn đang làm dở Báo cáo quý của xã kỳ quý IV/2026" in opened
    assert "Câu 2/3 · Báo cáo quý của xã · kỳ quý IV/2026" in opened


def test_the_late_notice_of_a_commune_form(small_plan: Plan) -> None:
    due = ReminderDue("xa_quy", parse_period("2026-Q4"), 1, date(2026, 10, 20))
    late = reminders.late_notice(small_plan, due, [], [COMMUNE_ID], [])
    assert late.text == (
        "Báo cáo quý của xã kỳ quý IV/2026 (hạn Thứ Ba, 20/10/2026): xã Thử gửi muộn."
    )
    nobody = reminders.late_notice(small_plan, due, [COMMUNE_ID], [], [COMMUNE_ID])
    assert "chưa có cán bộ xã đăng ký" in nobody.text
    assert "thidua invite --role officer" in nobody.text


# -- the digest --------------------------------------------------------------------------


async def seed_digest(storage: SqliteStorage, clock: FakeClock) -> int:
    """Three villages' November, their 2023 baselines, the commune's fourth quarter."""
    async with storage.transaction() as tx:
        by = (await tx.create_person("Anh Năm", "officer", None, "vi", clock())).id
    for village, households, poor, then_households, then_poor in (
        ("thon_1", 100, 3, 100, 5),
        ("thon_2", 200, 4, 200, 8),
        ("thon_3", 100, 1, 100, 3),
    ):
        answers = {"tong_ho": str(households), "ho_ngheo": str(poor)}
        await report(storage, village, "thang", "2026-11", answers, by, vn(11, 20, 9))
        then = {"tong_ho_2023": str(then_households), "ho_ngheo_2023": str(then_poor)}
        await report(storage, village, "nen_2023", "2023", then, by, vn(11, 2, 9))
    commune = {"thu_ngan_sach": "2500", "dien_tich_gieo": "4940", "dien_tich_tuoi": "4500"}
    await report(storage, COMMUNE_ID, "xa_quy", "2026-Q4", commune, by, vn(10, 15, 9))
    return by


async def test_the_digest_shows_the_commune_on_its_own_and_the_change_from_2023(
    small_plan: Plan, storage: SqliteStorage, clock: FakeClock
) -> None:
    await seed_digest(storage, clock)
    now = vn(11, 30, 7, 30)
    async with storage.transaction() as tx:
        text = await digest_in(small_plan, tx, now)
    paragraphs = text.split("\n\n")
    commune = next(p for p in paragraphs if p.startswith("Báo cáo quý của xã"))
    assert commune == (
        "Báo cáo quý của xã – kỳ quý IV/2026 (hạn 20/10/2026)\n"
        "Báo cáo của xã: đã gửi (1/1), đúng hạn"
    )
    figures = paragraphs[paragraphs.index(commune) + 1]
    assert figures == (
        "Chỉ tiêu:\n"
        "- Thu ngân sách: 2.500 triệu đồng (số liệu của xã; mục tiêu ≥ 2.310 triệu đồng): đạt\n"
        "- Tỷ lệ diện tích được tưới: 91,1% (số liệu của xã; mục tiêu ≥ 90%): đạt"
    )
    # 8 poor households of 400 against 16 of 400 in 2023: 2 % from 4 %, two points down.
    assert (
        "- Tỷ lệ hộ nghèo: 2% (3/3 thôn; năm 2023: 4%, giảm 2 điểm %; "
        "mục tiêu giảm ≥ 1 điểm %): đạt"
    ) in text
    assert "Số liệu năm 2023" not in text  # never due, no section
    assert "Đã báo cáo: 3/3 thôn" in text

    # The commune not yet reported for a quarter: one reporter missing, no figures.
    async with storage.transaction() as tx:
        first = await digest_in(small_plan, tx, now, "2027-Q1")
    assert "Báo cáo của xã: chưa gửi (0/1)" in first
    assert "- Thu ngân sách: chưa có số liệu" in first
    assert "0/3 thôn" not in first and "thôn" not in first.split("\n\n", 1)[1]


def test_the_workbook_and_the_csv_name_the_commune_for_its_own_reports(
    small_plan: Plan,
) -> None:
    """A commune form's report is stored under COMMUNE_ID; a table shows the commune's
    name there, never ``_xa``, next to the villages' names and a removed village's id."""
    sent = vn(10, 15, 9)
    period = parse_period("2026-Q4")
    answers = {COMMUNE_ID: Q3}
    section = FormSection(
        "xa_quy",
        reporting(small_plan, "xa_quy", period, {COMMUNE_ID: sent}),
        indicator_figures(small_plan, "xa_quy", answers, {}),
        answers,
    )
    book = load_workbook(io.BytesIO(build_workbook(small_plan, [section])))
    sheet = book.worksheets[1]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0][:2] == ["Thôn", "Thu ngân sách (triệu đồng)"]
    assert rows[1:] == [["Xã Thử", 2000, 4900, 4400]]
    assert "_xa" not in {c.value for row in sheet.iter_rows() for c in row}

    reports = [
        Report(1, COMMUNE_ID, "xa_quy", "2026-Q4", 1, sent, 1, Q3),
        Report(2, "thon_1", "thang", "2026-11", 1, sent, 1, {"tong_ho": "120"}),
        Report(3, "thon_9", "thang", "2026-11", 1, sent, 1, {"tong_ho": "80"}),
    ]
    plain = list(csv.DictReader(io.StringIO(to_csv(small_plan, reports, {}))))
    assert [(r["village"], r["form"], r["question"]) for r in plain] == [
        ("Xã Thử", "xa_quy", "thu_ngan_sach"),
        ("Xã Thử", "xa_quy", "dien_tich_gieo"),
        ("Xã Thử", "xa_quy", "dien_tich_tuoi"),
        ("Thôn 1", "thang", "tong_ho"),
        ("thon_9", "thang", "tong_ho"),  # no longer in the plan: its id
    ]
    text = spreadsheet_csv(small_plan, reports, {})
    table = list(csv.reader(io.StringIO(text[1:], newline=""), delimiter=";"))
    assert [(row[1], row[2]) for row in table[1:]] == [
        ("Xã Thử", "Báo cáo quý của xã"),
        ("Thôn 1", "Báo cáo tháng"),
        ("thon_9", "Báo cáo tháng"),
    ]
    assert "_xa" not in text


async def test_a_baseline_given_in_the_plan_wins_and_none_known_says_so(
    small_plan: Plan, storage: SqliteStorage, clock: FakeClock
) -> None:
    await seed_digest(storage, clock)
    now = vn(11, 30, 7, 30)

    def with_poverty(**changes: Any) -> Plan:
        indicators = tuple(
            replace(i, **changes) if i.id == "ty_le_ho_ngheo" else i for i in small_plan.indicators
        )
        return replace(small_plan, indicators=indicators)

    async with storage.transaction() as tx:
        given = await digest_in(with_poverty(baseline=Decimal("2.5")), tx, now)
        unknown = await digest_in(with_poverty(baseline_from=()), tx, now)
    assert (
        "- Tỷ lệ hộ nghèo: 2% (3/3 thôn; năm 2023: 2,5%, giảm 0,5 điểm %; "
        "mục tiêu giảm ≥ 1 điểm %): chưa đạt"
    ) in given
    assert (
        "- Tỷ lệ hộ nghèo: 2% (3/3 thôn; mục tiêu giảm ≥ 1 điểm %): chưa có số liệu năm làm mốc"
    ) in unknown


def test_a_baseline_on_too_few_villages_is_not_held_against_the_commune(
    small_plan: Plan,
) -> None:
    current = {
        "thon_1": {"tong_ho": "100", "ho_ngheo": "3"},
        "thon_2": {"tong_ho": "200", "ho_ngheo": "4"},
        "thon_3": {"tong_ho": "100", "ho_ngheo": "1"},
    }
    two = {
        "thon_1": {"tong_ho_2023": "100", "ho_ngheo_2023": "5"},
        "thon_2": {"tong_ho_2023": "200", "ho_ngheo_2023": "8"},
    }
    [poverty] = indicator_figures(small_plan, "thang", current, {}, baselines=two)
    assert (poverty.baseline, poverty.baseline_counted, poverty.baseline_total) == (
        Decimal(13) / Decimal(300) * 100,
        2,
        3,
    )
    assert not poverty.baseline_known and poverty.met is None  # 2 of 3 is under 80 %
    every = {**two, "thon_3": {"tong_ho_2023": "100", "ho_ngheo_2023": "3"}}
    [poverty] = indicator_figures(small_plan, "thang", current, {}, baselines=every)
    assert poverty.since_baseline == Decimal(-2) and poverty.met is True
    # "increase >= 1" on the same figures: a fall of two points does not meet it.
    target = replace(poverty.indicator.target, direction="increase")
    indicators = tuple(
        replace(i, target=target) if i.id == "ty_le_ho_ngheo" else i for i in small_plan.indicators
    )
    rising = replace(small_plan, indicators=indicators)
    [poverty] = indicator_figures(rising, "thang", current, {}, baselines=every)
    assert poverty.met is False


# -- Zalo ------------------------------------------------------------------------------


@pytest.fixture
async def zalo_api() -> AsyncIterator[ZaloApiStandIn]:
    api = ZaloApiStandIn()
    api.poll_cap = 0.3
    await api.start()
    yield api
    await api.stop()
    assert api.violations == [], api.violations
    texts = [
        str(call.params.get("text") or "") for call in api.requests if call.method == "sendMessage"
    ]
    assert button_words(texts) == []


@pytest.fixture
async def zalo(
    zalo_api: ZaloApiStandIn, inbox: Inbox, outbox: Outbox
) -> AsyncIterator[ZaloChannel]:
    options = ZaloOptions(
        token=zalo_api.token,
        api_url=zalo_api.base_url,
        poll_timeout=1,
        limits=Limits(chat_burst=100),
    )
    channel = ZaloChannel(options, inbox)
    attach(channel, inbox, outbox)
    await channel.connect()
    yield channel
    await channel.stop()


def said(messages: list[dict[str, Any]]) -> str:
    return "\n".join(str(m.get("text", "")) for m in messages)


async def test_an_officer_on_zalo_fills_the_commune_form_and_a_baseline_by_numbers(
    zalo_api: ZaloApiStandIn, zalo: ZaloChannel, storage: SqliteStorage, clock: FakeClock
) -> None:
    clock.now = vn(10, 12, 10)
    await add_invite(storage, clock, "OFFI2345", None, role="officer")
    officer = zalo_api.user(zalo_id(7050), "Anh Năm")
    assert "cán bộ xã" in said(await officer.say("OFFI2345"))
    async with storage.transaction() as tx:
        [person] = await tx.people()
    await report(storage, COMMUNE_ID, "xa_quy", "2026-Q3", Q3, person.id, vn(7, 15, 9))

    menu = said(await officer.say("/baocao"))
    assert "1. Báo cáo quý của xã\n2. Số liệu năm 2023 (làm mốc) (đã nhập 0/3 thôn)" in menu
    prefill = said(await officer.say("1"))
    assert "1. Giống kỳ trước   2. Trả lời từng câu" in prefill
    first = said(await officer.say("2"))
    assert "Câu 1/3" in first and "Kỳ trước: 2.000 triệu đồng" in first
    kept = said(await officer.say("="))
    assert "Giữ như kỳ trước: 2.000 triệu đồng." in kept
    await officer.say("4940")
    summary = said(await officer.say("="))
    assert "3. Diện tích được tưới: 4.400 ha" in summary and "1. Gửi   2. Sửa   3. Hủy" in summary
    receipt = said(await officer.say("1"))
    assert "Đã nhận Báo cáo quý của xã của xã Thử, kỳ quý IV/2026." in receipt

    await officer.say("/baocao")
    villages = said(await officer.say("2"))
    assert "1. Thôn 1\n2. Thôn 2\n3. Thôn 3\n4. Quay lại" in villages
    await officer.say("3")
    await officer.say("100")
    await officer.say("3")
    receipt = said(await officer.say("1"))
    assert "Đã nhận Số liệu năm 2023 (làm mốc) của Thôn 3, kỳ năm 2023." in receipt
    async with storage.transaction() as tx:
        stored = {(r.village_id, r.form_id, r.period): r.answers for r in await tx.reports()}
    assert stored[(COMMUNE_ID, "xa_quy", "2026-Q4")] == {**Q3, "dien_tich_gieo": "4940"}
    assert stored[("thon_3", "nen_2023", "2023")] == {
        "tong_ho_2023": "100",
        "ho_ngheo_2023": "3",
    }


# -- the engine alone ----------------------------------------------------------------------


def test_a_village_list_changed_under_an_open_choice_is_shown_again(small_plan: Plan) -> None:
    engine = FormEngine(small_plan)
    option = FormOption("nen_2023", "2023", filled=("thon_1",))
    step = engine.open_form(COMMUNE_ID, option, "2023")
    draft = step.draft
    assert draft is not None and draft.mode == "pick_village"
    assert [c.label for c in step.replies[0].choices] == ["Thôn 1 (đã nhập)", "Thôn 2", "Thôn 3"]
    assert engine.reconcile(draft) == (draft, [])  # nothing changed: the same draft

    villages = (*small_plan.villages, replace(small_plan.villages[0], id="thon_4", name="Thôn 4"))
    edited = FormEngine(replace(small_plan, villages=villages))
    fitted, notes = edited.reconcile(draft)
    assert notes == ["Danh sách thôn vừa được sửa trong kế hoạch."]
    assert fitted is not None and fitted.seq > draft.seq  # the old buttons no longer work
    assert edited.reconcile(fitted) == (fitted, [])
    stale = edited.handle(fitted, Input("choice", f"{draft.seq}:v1"))
    assert "Nút này thuộc một câu hỏi trước" in stale.replies[0].text
    chosen = edited.handle(fitted, Input("text", "Thôn 4"))
    assert chosen.effect == Begin("nen_2023", "2023", "thon_4", False)
    reopened = edited.open_form(COMMUNE_ID, option, "2023").draft
    assert reopened is not None
    again = edited.handle(reopened, Input("text", "1"))
    assert again.effect == Begin("nen_2023", "2023", "thon_1", True)  # filled: to correct
