"""End to end: the real python-telegram-bot Application over HTTP against a Bot API stand-in."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app.config import ConfigError
from bot.channels.telegram import TelegramChannel, TelegramOptions
from bot.plan.model import Plan
from handlers.inbox import Inbox
from scheduler.outbox import Outbox
from storage.sqlite import SqliteStorage
from tests import engines
from tests.conftest import FakeClock, add_invite, attach
from tests.standin.telegram import BotApiStandIn, SimUser


@pytest.fixture
def channel(telegram: TelegramChannel) -> TelegramChannel:
    return telegram


def texts(messages: list[dict[str, object]]) -> str:
    return "\n".join(str(m.get("text", "")) for m in messages)


async def fill_report(user: SimUser, households: str) -> str:
    """A head files the small plan's monthly report with buttons and typed answers."""
    menu = await user.say("/baocao")
    assert "quá hạn" in texts(menu)
    await user.press(user.button("Kỳ tháng 11/2026"))
    await user.say(households)  # first answer after the question was shown
    await user.say("400")
    await user.press(user.button("Có"))
    await user.say("12,5 ha")
    await user.say("thon van hoa")
    summary = await user.press(user.button("Bỏ qua"))
    assert "Tóm tắt" in texts(summary)
    receipt = await user.press(user.button("Gửi"))
    return texts(receipt)


async def test_two_heads_register_and_report(
    standin: BotApiStandIn, channel: TelegramChannel, storage: SqliteStorage, clock: FakeClock
) -> None:
    await add_invite(storage, clock, "HEAD2345", "thon_1")
    await add_invite(storage, clock, "HEAD6789", "thon_2")
    an = standin.user(101, "An", "Nguyễn")
    binh = standin.user(102, "Bình", "Trần")
    welcome = await an.say("/start HEAD2345")
    assert "trưởng thôn" in texts(welcome) and "Thôn 1" in texts(welcome)
    welcome = await binh.say("HEAD6789")
    assert "Thôn 2" in texts(welcome)

    receipt = await fill_report(an, "412")
    assert "Đã nhận" in receipt and "Thôn 1" in receipt
    receipt = await fill_report(binh, "1.234")
    assert "Thôn 2" in receipt

    async with storage.transaction() as tx:
        reports = await tx.reports("2026-11")
    assert {(r.village_id, r.answers["tong_ho"], r.answers["dien_tich_lua"]) for r in reports} == {
        ("thon_1", "412", "12.5"),
        ("thon_2", "1234", "12.5"),
    }
    # Buttons came as inline keyboards with callback data inside the limits
    assert any(m.get("reply_markup") for m in standin.messages_to(101))


async def test_the_command_menu_lists_every_command_in_both_languages(
    standin: BotApiStandIn, channel: TelegramChannel
) -> None:
    """One menu for everyone (no scopes): Vietnamese by default, English names for English
    speakers; the stand-in checks each entry against the Bot API's BotCommand limits."""
    menus = {json.loads(key)[1]: menu for key, menu in standin.commands.items()}
    assert {json.loads(key)[0]["type"] for key in standin.commands} == {"default"}
    assert set(menus) == {"", "en"}
    vietnamese = {c["command"]: c["description"] for c in menus[""]}
    assert list(vietnamese) == [
        "baocao", "detcu", "detcu_ds", "traloi", "tucham", "tucham_ds", "bangdiem", "huy",
        "tonghop", "xuat", "bantin", "web", "huongdan", "ngonngu",
    ]  # fmt: skip
    assert vietnamese["tucham"] == "Tự chấm điểm thi đua của thôn"
    assert vietnamese["tucham_ds"] == "Các đề nghị chấm lại (của thôn, hoặc đang chờ xét)"
    assert vietnamese["bangdiem"] == "Bảng điểm thi đua"
    english = [c["command"] for c in menus["en"]]
    assert english == [
        "report", "nominate", "nominations", "answer", "assess", "assessments", "scoreboard",
        "cancel", "digest", "export", "bulletin", "web", "help", "language",
    ]  # fmt: skip
    assert menus["en"][0]["description"] == "Send your village's report"


async def test_stranger_is_refused(standin: BotApiStandIn, channel: TelegramChannel) -> None:
    stranger = standin.user(555, "Lạ")
    for text in ("/baocao", "xin chào"):
        reply = await stranger.say(text)
        assert "chưa đăng ký" in texts(reply)
    reply = await stranger.send_sticker()
    assert "chưa đăng ký" in texts(reply)


async def test_invite_lockout(
    standin: BotApiStandIn, channel: TelegramChannel, storage: SqliteStorage, clock: FakeClock
) -> None:
    await add_invite(storage, clock, "GOOD2345")
    guesser = standin.user(777, "Đoán")
    for attempt in range(4):
        reply = await guesser.say(f"/start WRONG{attempt}23")
        assert "không đúng" in texts(reply)
    fifth = await guesser.say("/start WRONG923")
    assert "khóa" in texts(fifth)
    refused = await guesser.say("/start GOOD2345")
    assert "khóa" in texts(refused)
    clock.advance(hours=1, seconds=1)
    ok = await guesser.say("/start GOOD2345")
    assert "Chào mừng" in texts(ok)


async def test_update_delivered_twice_is_applied_once(
    standin: BotApiStandIn, channel: TelegramChannel, storage: SqliteStorage, clock: FakeClock
) -> None:
    await add_invite(storage, clock, "HEAD2345")
    head = standin.user(201, "Hai")
    await head.say("/start HEAD2345")
    await head.say("/baocao")
    await head.press(head.button("Kỳ tháng 11/2026"))
    await head.say("412")
    answer_update = head.last_update_id
    assert answer_update is not None
    before = len(standin.messages_to(201))
    standin.deliver_again(answer_update)
    await head.say("/baocao")  # a later message: its reply proves the redelivery was handled
    after = standin.messages_to(201)[before:]
    assert len(after) == 1, texts(after)
    assert "Câu 2/6" in texts(after)
    async with storage.transaction() as tx:
        person = await tx.person_by_identity("telegram", "201")
        assert person is not None
        draft = await tx.draft(person.id)
    assert draft is not None and draft["answers"] == {"tong_ho": "412"}


async def test_photo_sticker_voice_where_a_number_is_expected(
    standin: BotApiStandIn, channel: TelegramChannel, storage: SqliteStorage, clock: FakeClock
) -> None:
    await add_invite(storage, clock, "HEAD2345")
    head = standin.user(301, "Ba")
    await head.say("/start HEAD2345")
    await head.say("/baocao")
    await head.press(head.button("Kỳ tháng 11/2026"))
    assert "không phải ảnh" in texts(await head.send_photo())
    assert "chưa đọc được nhãn dán" in texts(await head.send_sticker())
    assert "chưa nghe được tin nhắn thoại" in texts(await head.send_voice())
    assert "Đã ghi: 412 hộ" in texts(await head.say("412"))


async def test_webhook_mode_checks_the_secret(
    standin: BotApiStandIn,
    inbox: Inbox,
    outbox: Outbox,
    small_plan: Plan,
    storage: SqliteStorage,
    clock: FakeClock,
    unused_tcp_port: int,
    tmp_path: Path,
) -> None:
    import httpx

    options = TelegramOptions(
        token=standin.token,
        api_url=standin.base_url,
        rate_limit=0,
        webhook_url=f"https://bot.example.vn/tg-{unused_tcp_port}",
        webhook_secret="s3cret-token-0123456789",
        webhook_port=unused_tcp_port,
        webhook_listen="127.0.0.1",
    )
    for short in (None, "s3cret-token", "bí-mật-có-dấu-0123456"):
        with pytest.raises(ConfigError, match="THIDUA_WEBHOOK_SECRET"):
            TelegramChannel(replace(options, webhook_secret=short), inbox, small_plan.tz)
    telegram = TelegramChannel(options, inbox, small_plan.tz)
    attach(telegram, inbox, outbox)
    await telegram.connect()
    try:
        set_hook = [r for r in standin.requests if r.method == "setWebhook"]
        assert set_hook and set_hook[-1].params["secret_token"] == "s3cret-token-0123456789"
        update = {
            "update_id": 5001,
            "message": {
                "message_id": 1,
                "date": 1_790_000_000,
                "chat": {"id": 401, "type": "private", "first_name": "Web"},
                "from": {"id": 401, "is_bot": False, "first_name": "Web"},
                "text": "xin chào",
            },
        }
        url = f"http://127.0.0.1:{unused_tcp_port}/tg-{unused_tcp_port}"
        async with httpx.AsyncClient() as client:
            wrong = await client.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "nope"}
            )
            assert wrong.status_code == 403
            assert standin.messages_to(401) == []
            right = await client.post(
                url,
                json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token-0123456789"},
            )
            assert right.status_code == 200
        replies = await standin.wait_messages(401, 1)
        assert "chưa đăng ký" in texts(replies)
    finally:
        await telegram.stop()


async def test_secretariat_gets_the_workbook_with_xuat(
    standin: BotApiStandIn, channel: TelegramChannel, storage: SqliteStorage, clock: FakeClock
) -> None:
    import io

    from openpyxl import load_workbook

    await add_invite(storage, clock, "SECR2345", None, role="secretariat")
    await add_invite(storage, clock, "HEAD2345", "thon_1")
    secretary = standin.user(601, "Thư ký")
    head = standin.user(602, "Trưởng thôn")
    await secretary.say("/start SECR2345")
    await head.say("/start HEAD2345")
    await fill_report(head, "412")
    refused = await head.say("/xuat")
    assert "dành cho thường trực" in texts(refused)
    sent = await secretary.say("/xuat", replies=2)
    assert "Bảng tính" in texts(sent[:1])
    document = sent[1]["document"]
    assert document.filename.endswith(".xlsx")
    book = load_workbook(io.BytesIO(document.data))
    rows = [[c.value for c in row] for row in book.worksheets[1].iter_rows()]
    assert ["Thôn 1", 412, 400, "Có", 12.5, "Thôn văn hóa", None] in rows
    assert book.sheetnames[1] == "Báo cáo tháng 2026-11"  # the period in the name
    # one village of three: the summary gives the figure and what it stands on, no verdict
    summary = {row[0].value: [c.value for c in row] for row in book.worksheets[0].iter_rows()}
    assert summary["Tỷ lệ hộ dùng điện lưới"][5:] == [1, 3, "chưa đủ số liệu (1/3 thôn)"]


async def test_a_workbook_being_made_holds_up_no_one_else(
    standin: BotApiStandIn,
    channel: TelegramChannel,
    storage: SqliteStorage,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """/xuat records a recipe in its transaction; the workbook is made when it is sent,
    from a read-only snapshot and in a worker thread: while it is being made, a head's
    answer is applied and answered, and the storage lock is free."""
    import threading

    import handlers.digest

    await add_invite(storage, clock, "SECR2345", None, role="secretariat")
    await add_invite(storage, clock, "HEAD2345", "thon_1")
    secretary = standin.user(701, "Thư ký")
    head = standin.user(702, "Trưởng thôn")
    await secretary.say("/start SECR2345")
    await head.say("/start HEAD2345")
    await head.say("/baocao")
    await head.press(head.button("Kỳ tháng 11/2026"))
    making, release = threading.Event(), threading.Event()
    real = handlers.digest.digest_workbook
    lock_held: list[bool] = []

    def slow(plan: object, data: object) -> bytes:
        making.set()
        # SQLite's units of work take turns on one lock; PostgreSQL's have none to hold
        lock_held.append(isinstance(storage, SqliteStorage) and storage._lock.locked())
        release.wait(10)
        return real(plan, data)  # type: ignore[arg-type]

    monkeypatch.setattr(handlers.digest, "digest_workbook", slow)
    standin.push_update({"message": standin._user_message(secretary, {"text": "/xuat"})})
    assert await asyncio.to_thread(making.wait, 5)
    answered = await head.say("412")  # while the workbook is being made
    assert "Đã ghi: 412 hộ" in texts(answered)
    assert not any(m.get("document") for m in standin.messages_to(701))
    release.set()
    assert await standin.wait_until(
        lambda: any(m.get("document") for m in standin.messages_to(701)), timeout=10
    )
    assert lock_held == [False]


def press_update(standin: BotApiStandIn, user: SimUser, label: str) -> dict[str, object]:
    """A press of the button ``label`` of the last message, as Telegram sends it."""
    message = standin.last_bot_message(user.chat_id)
    assert message is not None
    return {
        "callback_query": {
            "id": f"q-{standin._next_id()}",
            "from": user.user_object(),
            "message": message,
            "chat_instance": "1",
            "data": user.button(label),
        }
    }


async def at_question_3(
    standin: BotApiStandIn, storage: SqliteStorage, clock: FakeClock
) -> SimUser:
    """A head of Thôn 1, registered, on the third question (yes/no) of November's report."""
    await add_invite(storage, clock, "HEAD2345")
    head = standin.user(801, "Tám")
    await head.say("/start HEAD2345")
    await head.say("/baocao")
    await head.press(head.button("Kỳ tháng 11/2026"))
    await head.say("412")
    assert "Câu 3/6" in texts(await head.say("400"))
    return head


async def draft_answers(storage: SqliteStorage) -> dict[str, object]:
    async with storage.transaction() as tx:
        person = await tx.person_by_identity("telegram", "801")
        assert person is not None
        draft = await tx.draft(person.id)
    assert draft is not None
    return dict(draft["answers"])


async def test_a_press_and_a_number_typed_right_after_are_applied_in_that_order(
    standin: BotApiStandIn, channel: TelegramChannel, storage: SqliteStorage, clock: FakeClock
) -> None:
    head = await at_question_3(standin, storage, clock)
    since = len(standin.messages_to(801))
    standin.push_update(press_update(standin, head, "Có"))  # the yes/no question
    standin.push_update({"message": standin._user_message(head, {"text": "12,5"})})  # the next
    await standin.wait_messages(801, 2, since)
    answers = await draft_answers(storage)
    assert answers["thu_gom_rac"] is True and answers["dien_tich_lua"] == "12.5"


async def test_a_press_whose_answer_comes_too_late_is_applied_all_the_same(
    standin: BotApiStandIn, channel: TelegramChannel, storage: SqliteStorage, clock: FakeClock
) -> None:
    head = await at_question_3(standin, storage, clock)
    standin.callback_ttl = 0.0  # every answer to a press is refused as "query is too old"
    moved_on = await head.press(head.button("Có"))
    assert "Câu 4/6" in texts(moved_on)
    await standin.wait_until(lambda: bool(standin.expired_callback_answers))
    assert (await draft_answers(storage))["thu_gom_rac"] is True


async def test_a_receipt_lost_to_a_502_is_sent_again(
    standin: BotApiStandIn,
    channel: TelegramChannel,
    storage: SqliteStorage,
    clock: FakeClock,
    outbox: Outbox,
    inbox: Inbox,
) -> None:
    """The report is stored with its receipt queued, in one transaction; the receipt that
    met a 502 waits in the outbox and goes out on the retry, 2 s later."""
    head = await at_question_3(standin, storage, clock)
    await head.press(head.button("Có"))
    await head.say("bo qua")
    await head.say("thon van hoa")
    summary = await head.press(head.button("Bỏ qua"))
    assert "Tóm tắt" in texts(summary)
    standin.fail_next("sendMessage", 502, "Bad Gateway")
    since = len(standin.messages_to(801))
    await head.press(head.button("Gửi"), replies=0)
    await standin.wait_until(lambda: standin.calls("sendMessage")[-1].status == 502)
    await inbox.idle()  # the attempt is recorded
    async with storage.transaction() as tx:
        assert len(await tx.reports()) == 1
        waiting = [r for r in await tx.outbox("reply:") if r["sent_at"] is None]
    assert len(waiting) == 1 and waiting[0]["attempts"] == 1
    assert len(standin.messages_to(801)) == since
    clock.advance(seconds=2)
    assert await outbox.send_due() == 1
    assert "Đã nhận Báo cáo tháng" in texts(standin.messages_to(801)[since:])


async def test_polling_confirms_an_update_only_once_it_is_stored(
    standin: BotApiStandIn,
    channel: TelegramChannel,
    storage: SqliteStorage,
    clock: FakeClock,
    database_url: str,
) -> None:
    """Every getUpdates offset (which tells Telegram it may forget what came before) is
    sent only when each update before it is in the inbox."""
    original = standin._handlers["getUpdates"]
    pushed: list[int] = []
    unstored: list[int] = []

    async def checking(params: dict[str, object]) -> object:
        offset = params.get("offset")
        if isinstance(offset, int) and pushed:
            stored = await engines.fetch(database_url, "SELECT update_key FROM inbox")
            keys = {key for (key,) in stored}
            unstored.extend(u for u in pushed if u < offset and str(u) not in keys)
        return await original(params)

    standin._handlers["getUpdates"] = checking
    await add_invite(storage, clock, "HEAD2345")
    head = standin.user(803, "Tám")
    for text in ("/start HEAD2345", "/baocao", "/huongdan", "xin chào"):
        await head.say(text)
        assert head.last_update_id is not None
        pushed.append(head.last_update_id)
    await head.say("/huongdan")
    assert len(pushed) == 4 and unstored == []


async def test_a_month_like_the_last_takes_a_few_presses_and_answers(
    standin: BotApiStandIn, storage: SqliteStorage, clock: FakeClock
) -> None:
    """The default plan's 20-question monthly report, three numbers changed from October,
    with Telegram's buttons: at most 8 messages from /baocao to Gửi (7 here: the form,
    "Giống kỳ trước", three changes typed at the summary, Gửi)."""
    from bot.plan.schedule import quiet_until
    from bot.ratelimit import Limits
    from handlers.conversation import Conversations
    from tests.nam_dong import CHANGES, MESSAGE_BUDGET, NOVEMBER, OCTOBER, nam_dong

    plan = nam_dong()
    village = plan.village("Thôn 1")
    assert village is not None
    conversations = Conversations(plan, storage, clock)
    sender = Outbox(
        storage,
        {},
        clock,
        lambda moment: quiet_until(plan.schedule, moment, plan.tz),
        render=conversations.renderer.render,
    )
    conversations.queued = sender.wake
    inbox = Inbox(storage, conversations, sender, clock)
    await inbox.start()
    options = TelegramOptions(
        token=standin.token,
        api_url=standin.base_url,
        poll_timeout=1,
        limits=Limits(chat_burst=100),
        send_timeout=1.0,
    )
    channel = TelegramChannel(options, inbox, plan.tz)
    attach(channel, inbox, sender)
    await channel.connect()
    try:
        await add_invite(storage, clock, "HEAD2345", village.id)
        head = standin.user(401, "Ba")
        await head.say("/start HEAD2345")
        async with storage.transaction() as tx:
            person = await tx.person_by_identity("telegram", "401")
            assert person is not None
            october = clock() - timedelta(days=30)
            await tx.add_report(village.id, "thang", "2026-10", OCTOBER, person.id, october)

        sent: list[str] = []

        async def say(text: str) -> str:
            sent.append(text)
            return texts(await head.say(text))

        async def press(label: str) -> str:
            sent.append(label)
            return texts(await head.press(head.button(label)))

        assert "Bạn muốn gửi báo cáo nào?" in await say("/baocao")
        offer = await press("Báo cáo tháng")
        assert "Thôn đã báo cáo kỳ tháng 10/2026" in offer
        assert [label for label, _data in head.last_buttons()][:2] == [
            "Giống kỳ trước",
            "Trả lời từng câu",
        ]
        summary = await press("Giống kỳ trước")
        assert "1. Tổng số hộ: 412 hộ" in summary and "20. Ghi chú: (bỏ qua)" in summary
        for change in CHANGES:
            summary = await say(change)
        assert "6. Hộ nghèo: 11 hộ (kỳ trước: 12 hộ)" in summary
        receipt = await press("Gửi")
        assert "Đã nhận Báo cáo tháng của Thôn 1, kỳ tháng 11/2026" in receipt
        assert len(sent) == 7 <= MESSAGE_BUDGET, sent
        async with storage.transaction() as tx:
            report = await tx.latest_report(village.id, "thang", "2026-11")
        assert report is not None and report.answers == NOVEMBER
    finally:
        await channel.stop()
        await inbox.stop()
        await sender.flush()
