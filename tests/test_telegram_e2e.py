"""End to end: the real python-telegram-bot Application over HTTP against a Bot API stand-in."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.channels.telegram import TelegramChannel, TelegramOptions
from bot.config import ConfigError
from bot.plan import Plan
from handlers.inbox import Inbox
from scheduler.outbox import Outbox
from storage.sqlite import SqliteStorage
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
