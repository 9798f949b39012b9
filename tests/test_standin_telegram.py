"""Tests for the Telegram Bot API stand-in, driven by the real python-telegram-bot."""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.standin.telegram import BotApiStandIn, UploadedFile

CHAT = 1001


@pytest.fixture
async def standin() -> AsyncIterator[BotApiStandIn]:
    server = BotApiStandIn()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def bot(standin: BotApiStandIn) -> AsyncIterator[Bot]:
    async with Bot(
        standin.token, base_url=standin.base_url, base_file_url=standin.base_file_url
    ) as instance:
        yield instance


def _remember(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    context.bot_data.setdefault("seen", []).append(update.update_id)


async def _on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _remember(update, context)
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Đồng ý", callback_data="vote:yes"),
                InlineKeyboardButton("Từ chối", callback_data="vote:no"),
            ]
        ]
    )
    assert update.effective_message is not None
    await update.effective_message.reply_text("Bạn đồng ý không?", reply_markup=keyboard)


async def _on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _remember(update, context)
    message = update.effective_message
    assert message is not None and message.text is not None
    await message.reply_text(message.text)


async def _on_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None
    telegram_file = await message.photo[-1].get_file()
    data = await telegram_file.download_as_bytearray()
    await message.reply_text(f"Ảnh {len(data)} byte")


async def _on_sticker(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text("Đã nhận nhãn dán")


async def _on_voice(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None and message.voice is not None
    await message.reply_text(f"Tin nhắn thoại {message.voice.file_id}")


async def _on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and query.message is not None
    await query.answer("Đã nhận")
    await query.edit_message_reply_markup(None)
    await context.bot.send_message(query.message.chat.id, f"Bạn chọn: {query.data}")


@pytest.fixture
async def app(standin: BotApiStandIn) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    application = (
        ApplicationBuilder()
        .token(standin.token)
        .base_url(standin.base_url)
        .base_file_url(standin.base_file_url)
        .build()
    )
    application.add_handler(CommandHandler("start", _on_start))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, _on_text))
    application.add_handler(MessageHandler(filters.PHOTO, _on_photo))
    application.add_handler(MessageHandler(filters.Sticker.ALL, _on_sticker))
    application.add_handler(MessageHandler(filters.VOICE, _on_voice))
    application.add_handler(CallbackQueryHandler(_on_button))
    await application.initialize()
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0, timeout=1)
    try:
        yield application
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()


def _url(standin: BotApiStandIn, method: str, token: str | None = None) -> str:
    return f"{standin.base_url}{token or standin.token}/{method}"


async def _call(
    standin: BotApiStandIn, method: str, data: dict[str, Any]
) -> tuple[int, dict[str, Any], list[str]]:
    """POST form data straight to the stand-in; return status, body and the new violations."""
    before = len(standin.violations)
    async with httpx.AsyncClient() as client:
        response = await client.post(_url(standin, method), data=data)
    return response.status_code, response.json(), standin.violations[before:]


async def _post(
    client: httpx.AsyncClient, standin: BotApiStandIn, method: str, data: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    """Like ``_call`` on an open client: quick enough for sub-second flood-control windows."""
    response = await client.post(_url(standin, method), data=data)
    return response.status_code, response.json()


async def _sleep_until(moment: float) -> None:
    await asyncio.sleep(max(moment - time.monotonic(), 0))


def _markup(*buttons: dict[str, Any]) -> str:
    return json.dumps({"inline_keyboard": [list(buttons)]}, ensure_ascii=False)


# ---- driving the real PTB Application ----------------------------------------------------


async def test_user_says_hello_and_gets_the_echo(
    standin: BotApiStandIn, app: Application[Any, Any, Any, Any, Any, Any]
) -> None:
    user = standin.user(CHAT, "Lan")
    replies = await user.say("xin chào")
    assert [r["text"] for r in replies] == ["xin chào"]
    assert replies[0]["chat_id"] == CHAT
    called = {r.method for r in standin.requests}
    assert {"getMe", "deleteWebhook", "getUpdates", "sendMessage"} <= called
    assert standin.violations == []


async def test_button_press_round_trip(
    standin: BotApiStandIn, app: Application[Any, Any, Any, Any, Any, Any]
) -> None:
    user = standin.user(CHAT)
    replies = await user.say("/start")
    assert replies[0]["text"] == "Bạn đồng ý không?"
    assert user.last_buttons() == [("Đồng ý", "vote:yes"), ("Từ chối", "vote:no")]
    keyboard_message = standin.last_bot_message(CHAT)
    assert keyboard_message is not None

    replies = await user.press(user.button("Đồng ý"))
    assert [r["text"] for r in replies] == ["Bạn chọn: vote:yes"]
    assert user.last_callback_query_id is not None
    assert standin.callback_answers[user.last_callback_query_id]["text"] == "Đã nhận"
    first = standin.bot_messages(CHAT)[0]
    assert first["message_id"] == keyboard_message["message_id"]
    assert "reply_markup" not in first
    assert "edit_date" in first

    with pytest.raises(AssertionError, match="no button"):
        user.button("Không tồn tại")
    with pytest.raises(AssertionError, match="no button with callback_data"):
        await user.press("vote:maybe", message=keyboard_message)
    assert standin.violations == []


async def test_redelivered_update_reaches_the_bot_twice(
    standin: BotApiStandIn, app: Application[Any, Any, Any, Any, Any, Any]
) -> None:
    user = standin.user(CHAT)
    await user.say("một lần nữa")
    update_id = user.last_update_id
    assert update_id is not None
    since = len(standin.messages_to(CHAT))

    standin.deliver_again(update_id)
    again = await standin.wait_messages(CHAT, 1, since=since, timeout=2)
    assert again[0]["text"] == "một lần nữa"
    assert app.bot_data["seen"].count(update_id) == 2

    assert await standin.wait_until(lambda: not standin.pending_updates(), timeout=1)
    assert standin.violations == []


async def test_media_updates_and_file_download(
    standin: BotApiStandIn, app: Application[Any, Any, Any, Any, Any, Any]
) -> None:
    user = standin.user(CHAT)
    replies = await user.send_photo(data=b"x" * 1234)
    assert replies[0]["text"] == "Ảnh 1234 byte"
    assert standin.calls("getFile")[0].params == {"file_id": "PHOTO1"}
    assert (await user.send_sticker())[0]["text"] == "Đã nhận nhãn dán"
    assert (await user.send_voice(file_id="VOICE7"))[0]["text"] == "Tin nhắn thoại VOICE7"
    assert standin.violations == []


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_retry_after_from_fail_next(standin: BotApiStandIn, bot: Bot) -> None:
    standin.fail_next("sendMessage", 429, "Too Many Requests: retry after 3", retry_after=3)
    with pytest.raises(RetryAfter) as excinfo:
        await bot.send_message(CHAT, "chậm lại")
    assert "Retry in 3 seconds" in str(excinfo.value)
    assert standin.requests[-1].status == 429
    assert standin.messages_to(CHAT) == []

    await bot.send_message(CHAT, "lần hai")
    assert [m["text"] for m in standin.messages_to(CHAT)] == ["lần hai"]
    assert standin.violations == []


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_flood_control_reaches_ptb_as_retry_after(standin: BotApiStandIn, bot: Bot) -> None:
    standin.chat_rate = (1, 2.5)
    await bot.send_message(CHAT, "một")
    with pytest.raises(RetryAfter) as excinfo:
        await bot.send_message(CHAT, "hai")
    assert "Retry in 3 seconds" in str(excinfo.value)
    await bot.send_message(CHAT + 1, "chat khác")
    assert [m["text"] for m in standin.messages_to(CHAT)] == ["một"]
    assert [(r.method, r.status) for r in standin.flood_rejections] == [("sendMessage", 429)]
    assert standin.flood_rejections[0].params["text"] == "hai"
    assert standin.violations == []


async def test_forbidden_and_server_errors_reach_ptb(standin: BotApiStandIn, bot: Bot) -> None:
    blocked = CHAT + 1
    standin.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user", chat_id=blocked)
    await bot.send_message(CHAT, "vẫn tới")
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(blocked, "bị chặn")
    await bot.send_message(blocked, "lần sau thì tới")

    for code, description in ((502, "Bad Gateway"), (500, "Internal Server Error")):
        standin.fail_next("sendMessage", code, description)
        with pytest.raises(NetworkError, match=description) as excinfo:
            await bot.send_message(CHAT, "lỗi máy chủ")
        assert type(excinfo.value) is NetworkError
        assert standin.requests[-1].status == code

    assert [m["text"] for m in standin.messages_to(CHAT)] == ["vẫn tới"]
    assert [m["text"] for m in standin.messages_to(blocked)] == ["lần sau thì tới"]
    assert standin.flood_rejections == []
    assert standin.violations == []


async def test_delay_next_times_out_ptb_but_stores_the_message(
    standin: BotApiStandIn, bot: Bot
) -> None:
    standin.delay_next("sendMessage", 0.5, chat_id=CHAT)
    await bot.send_message(CHAT + 1, "không bị chậm", read_timeout=0.2)
    with pytest.raises(TimedOut):
        await bot.send_message(CHAT, "chậm", read_timeout=0.1)
    assert [m["text"] for m in standin.messages_to(CHAT)] == ["chậm"]
    assert standin.calls("sendMessage")[-1].status == 200

    sent = await bot.send_message(CHAT, "nhanh", read_timeout=0.2)
    assert sent.text == "nhanh"
    assert len(standin.sent_times()) == 3
    assert standin.violations == []


async def test_document_upload_and_download_through_ptb(standin: BotApiStandIn, bot: Bot) -> None:
    payload = "thôn,điểm\nĐông,9\n".encode()
    sent = await bot.send_document(
        CHAT,
        InputFile(io.BytesIO(payload), filename="bao_cao.csv"),
        caption="Báo cáo tháng",
    )
    assert sent.document is not None and sent.document.file_name == "bao_cao.csv"
    assert sent.caption == "Báo cáo tháng"
    params = standin.messages_to(CHAT)[0]
    upload = params["document"]
    assert isinstance(upload, UploadedFile)
    assert (upload.filename, upload.size, upload.data) == ("bao_cao.csv", len(payload), payload)

    telegram_file = await bot.get_file(sent.document.file_id)
    assert bytes(await telegram_file.download_as_bytearray()) == payload

    photo = await bot.send_photo(CHAT, b"\x89PNG fake", caption="<b>Ảnh</b>", parse_mode="HTML")
    assert photo.caption == "Ảnh"
    assert photo.photo[-1].file_size == len(b"\x89PNG fake")
    assert standin.violations == []


async def test_commands_edits_and_not_modified(standin: BotApiStandIn, bot: Bot) -> None:
    await bot.set_my_commands([("bao_cao", "Gửi báo cáo"), ("start", "Bắt đầu")])
    commands = await bot.get_my_commands()
    assert [c.command for c in commands] == ["bao_cao", "start"]
    await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()

    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]])
    sent = await bot.send_message(CHAT, "Nội dung", reply_markup=keyboard)
    with pytest.raises(BadRequest, match="not modified"):
        await bot.edit_message_text("Nội dung", CHAT, sent.message_id, reply_markup=keyboard)
    edited = await bot.edit_message_text("Mới", CHAT, sent.message_id)
    assert edited.text == "Mới"
    current = standin.last_bot_message(CHAT)
    assert current is not None and current["text"] == "Mới" and "reply_markup" not in current
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", CHAT, 999)
    assert standin.violations == []

    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([("BaoCao", "Sai")])
    assert any("lowercase" in v for v in standin.violations)


async def test_markdown_v2_escaping_and_html_tags(standin: BotApiStandIn, bot: Bot) -> None:
    await bot.send_message(CHAT, "*Xin chào* thôn Đông\\!", parse_mode=ParseMode.MARKDOWN_V2)
    await bot.send_message(CHAT, "<b>Điểm</b> &lt;5 &amp; tốt", parse_mode=ParseMode.HTML)
    texts = [m["text"] for m in standin.bot_messages(CHAT)]
    assert texts == ["Xin chào thôn Đông!", "Điểm <5 & tốt"]
    assert standin.violations == []

    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(CHAT, "Xin chào.", parse_mode=ParseMode.MARKDOWN_V2)
    assert "reserved" in standin.violations[-1]
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(CHAT, "Điểm <5", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(CHAT, "dòng 1<br>dòng 2", parse_mode=ParseMode.HTML)
    assert len(standin.violations) == 3


# ---- raw requests: the validator itself --------------------------------------------------


async def test_violations_for_raw_requests(standin: BotApiStandIn) -> None:
    status, body, found = await _call(standin, "sendMessage", {"chat_id": 1, "text": "x" * 4097})
    assert (status, body["description"]) == (400, "Bad Request: message is too long")
    assert len(found) == 1 and "4097" in found[0]
    status, _, found = await _call(standin, "sendMessage", {"chat_id": 1, "text": "ạ" * 4096})
    assert (status, found) == (200, [])

    long_data = "a" * 62 + "ạ"  # 63 characters, 65 bytes
    status, body, found = await _call(
        standin,
        "sendMessage",
        {
            "chat_id": 1,
            "text": "chọn",
            "reply_markup": _markup({"text": "X", "callback_data": long_data}),
        },
    )
    assert (status, body["description"]) == (400, "Bad Request: BUTTON_DATA_INVALID")
    assert len(found) == 1 and "65 bytes" in found[0]
    status, _, found = await _call(
        standin,
        "sendMessage",
        {
            "chat_id": 1,
            "text": "chọn",
            "reply_markup": _markup({"text": "X", "callback_data": long_data[1:]}),
        },
    )
    assert (status, found) == (200, [])

    status, _, found = await _call(
        standin, "sendMessage", {"chat_id": 1, "text": "hi", "colour": "red"}
    )
    assert status == 200
    assert found == ["sendMessage: unknown parameter 'colour' (not a field of sendMessage)"]

    status, body, found = await _call(standin, "sendMessage", {"chat_id": 1})
    assert (status, body["description"]) == (400, "Bad Request: message text is empty")
    assert found == ["sendMessage: missing required parameter 'text'"]
    status, body, found = await _call(standin, "answerCallbackQuery", {"text": "ok"})
    assert status == 400 and "callback_query_id" in found[0]

    assert [m["text"] for m in standin.messages_to(1)] == ["ạ" * 4096, "chọn", "hi"]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"chat_id": 1, "text": "a", "message_thread_id": "abc"}, "must be Integer"),
        ({"chat_id": 1, "text": "a", "disable_notification": "yes"}, "must be Boolean"),
        ({"chat_id": 1, "text": "a", "reply_markup": "{not json"}, "JSON-serialized"),
        ({"chat_id": 1, "text": "a", "reply_markup": "[]"}, "JSON-serialized"),
        ({"chat_id": 1, "text": "a", "entities": '{"type": "bold"}'}, "Array of MessageEntity"),
        (
            {
                "chat_id": 1,
                "text": "a",
                "reply_markup": _markup({"text": "", "callback_data": "x"}),
            },
            "non-empty",
        ),
        (
            {
                "chat_id": 1,
                "text": "a",
                "reply_markup": _markup({"text": "X", "callback_data": "x", "url": "https://a.vn"}),
            },
            "exactly one action",
        ),
        ({"chat_id": 1, "text": "a", "reply_markup": _markup({"text": "X"})}, "exactly one action"),
        ({"chat_id": 1, "text": "a", "parse_mode": "Markdown3"}, "unsupported parse_mode"),
        ({"chat_id": 1, "text": "   "}, "empty"),
        ({"chat_id": 1, "action": "dancing"}, "unknown chat action"),
        ({"callback_query_id": "1", "text": "x" * 201}, "201 characters"),
        ({"chat_id": 1, "document": "BQAD", "caption": "c" * 1025}, "1025 characters"),
    ],
)
async def test_type_and_markup_checks(
    standin: BotApiStandIn, data: dict[str, Any], expected: str
) -> None:
    method = (
        "sendChatAction"
        if "action" in data
        else "answerCallbackQuery"
        if "callback_query_id" in data
        else "sendDocument"
        if "document" in data
        else "sendMessage"
    )
    status, body, found = await _call(standin, method, data)
    assert status == 400, body
    assert body["ok"] is False and body["error_code"] == 400
    assert any(expected in v for v in found), found


async def test_json_and_multipart_bodies(standin: BotApiStandIn) -> None:
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    async with httpx.AsyncClient() as client:
        response = await client.post(
            _url(standin, "sendMessage"),
            json={"chat_id": 5, "text": "json ok", "reply_markup": markup},
        )
        assert response.status_code == 200
        assert response.json()["result"]["reply_markup"] == markup

        response = await client.post(
            _url(standin, "sendDocument"),
            data={"chat_id": "7", "caption": "Báo cáo"},
            files={"document": ("bao_cao.csv", b"a,b\n1,2\n", "text/csv")},
        )
        assert response.status_code == 200
        document = response.json()["result"]["document"]
        assert (document["file_name"], document["file_size"]) == ("bao_cao.csv", 8)

        response = await client.post(
            _url(standin, "sendMessage"),
            json={"chat_id": 5, "text": "x", "disable_notification": "yes", "reply_markup": None},
        )
        assert response.status_code == 400
        assert "must be Boolean" in standin.violations.pop()

        response = await client.get(_url(standin, "getMe"))
        assert response.json()["result"]["username"] == "thidua_test_bot"

    assert standin.messages_to(5)[0]["reply_markup"] == markup
    upload = standin.messages_to(7)[0]["document"]
    assert isinstance(upload, UploadedFile)
    assert (upload.filename, upload.size, upload.content_type) == ("bao_cao.csv", 8, "text/csv")
    assert standin.violations == []


async def test_unknown_method_and_wrong_token(standin: BotApiStandIn) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(_url(standin, "sendTelepathy"), data={"chat_id": 1})
        assert response.status_code == 404
        assert response.json() == {
            "ok": False,
            "error_code": 404,
            "description": "Not Found: method not found",
        }
        response = await client.post(_url(standin, "getMe", token="999:WRONG"))
        assert response.status_code == 401
        assert response.json()["description"] == "Unauthorized"
    assert standin.violations == ["sendTelepathy: no such Bot API method"]


async def test_long_polling_offset_limit_and_allowed_updates(standin: BotApiStandIn) -> None:
    async with httpx.AsyncClient(timeout=5) as client:

        async def get_updates(**params: Any) -> list[dict[str, Any]]:
            response = await client.post(_url(standin, "getUpdates"), data=params)
            assert response.status_code == 200, response.text
            result: list[dict[str, Any]] = response.json()["result"]
            return result

        started = time.monotonic()
        poll = asyncio.create_task(get_updates(timeout=1))
        await asyncio.sleep(0.1)
        first = standin.push_update({"message": {"message_id": 1, "date": 0, "text": "a"}})
        updates = await poll
        assert time.monotonic() - started < 0.6
        assert [u["update_id"] for u in updates] == [first]

        ids = [standin.push_update({"message": {"text": str(i)}}) for i in range(3)]
        assert ids == [first + 1, first + 2, first + 3]
        updates = await get_updates(offset=first + 1, limit=2)
        assert [u["update_id"] for u in updates] == ids[:2]
        assert standin.pending_updates() == ids

        standin.push_update({"callback_query": {"id": "1"}})
        updates = await get_updates(offset=ids[-1] + 1, allowed_updates='["callback_query"]')
        assert [_kind(u) for u in updates] == ["callback_query"]
        assert await get_updates(offset=updates[-1]["update_id"] + 1) == []

        started = time.monotonic()
        assert await get_updates(timeout=1) == []
        assert 0.9 <= time.monotonic() - started < 1.5
    assert standin.violations == []


def _kind(update: dict[str, Any]) -> str:
    return next(key for key in update if key != "update_id")


# ---- flood control and failure injection, raw requests ------------------------------------


async def test_global_rate_sliding_window(standin: BotApiStandIn) -> None:
    standin.global_rate = 3
    async with httpx.AsyncClient() as client:

        async def send(chat: int) -> int:
            status, _ = await _post(client, standin, "sendMessage", {"chat_id": chat, "text": "x"})
            return status

        assert [await send(chat) for chat in (1, 2, 3)] == [200, 200, 200]
        status, body = await _post(client, standin, "sendMessage", {"chat_id": 4, "text": "y"})
        assert (status, body) == (
            429,
            {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 1",
                "parameters": {"retry_after": 1},
            },
        )
        photo = {"chat_id": 4, "photo": "https://a.vn/x.jpg"}
        assert (await _post(client, standin, "sendPhoto", photo))[0] == 429
        assert [r.method for r in standin.flood_rejections] == ["sendMessage", "sendPhoto"]
        assert all(r.status == 429 for r in standin.flood_rejections)
        assert standin.messages_to(4) == []

        sent = standin.sent_times()
        assert len(sent) == 3 and sent == sorted(sent)
        await _sleep_until(sent[-1] + 1.02)
        assert [await send(chat) for chat in (4, 5, 6, 7)] == [200, 200, 200, 429]

        standin.global_rate = None
        assert [await send(chat) for chat in range(8, 14)] == [200] * 6
    assert len(standin.flood_rejections) == 3
    assert standin.violations == []


async def test_chat_rate_is_per_chat_and_rejections_do_not_count() -> None:
    async with BotApiStandIn(chat_rate=(2, 0.3)) as server, httpx.AsyncClient() as client:

        async def send(chat: int, text: str) -> int:
            status, _ = await _post(client, server, "sendMessage", {"chat_id": chat, "text": text})
            return status

        started = time.monotonic()
        assert [await send(1, "a"), await send(1, "b"), await send(1, "c")] == [200, 200, 429]
        assert [await send(2, "x"), await send(2, "y")] == [200, 200]
        await _sleep_until(started + 0.15)
        assert await send(1, "d") == 429
        await _sleep_until(started + 0.36)
        # "c" and "d" were rejected, so they do not fill the window.
        assert [await send(1, "e"), await send(1, "f"), await send(1, "g")] == [200, 200, 429]
        assert [m["text"] for m in server.messages_to(1)] == ["a", "b", "e", "f"]
        assert [r.params["text"] for r in server.flood_rejections] == ["c", "d", "g"]
        assert server.violations == []


async def test_group_rate_applies_to_negative_chat_ids() -> None:
    async with BotApiStandIn(group_rate=(2, 0.3)) as server, httpx.AsyncClient() as client:

        async def send(chat: int | str) -> int:
            status, _ = await _post(client, server, "sendMessage", {"chat_id": chat, "text": "t"})
            return status

        started = time.monotonic()
        group = -1001234567890
        assert [await send(group) for _ in range(3)] == [200, 200, 429]
        assert [await send(-42) for _ in range(3)] == [200, 200, 429]
        assert [await send("@kenh_thi_dua") for _ in range(3)] == [200, 200, 429]
        assert [await send(CHAT) for _ in range(5)] == [200] * 5
        await _sleep_until(started + 0.36)
        assert await send(group) == 200
        assert len(server.flood_rejections) == 3
        assert server.violations == []


async def test_flood_control_ignores_non_sending_methods(standin: BotApiStandIn) -> None:
    standin.global_rate = 1
    standin.chat_rate = (1, 5.0)
    markup = _markup({"text": "A", "callback_data": "a"})
    async with httpx.AsyncClient() as client:
        keyboard = {"chat_id": CHAT, "text": "chọn", "reply_markup": markup}
        assert (await _post(client, standin, "sendMessage", keyboard))[0] == 200
        user = standin.user(CHAT)
        press = asyncio.create_task(user.press("a", replies=0, timeout=2))
        await asyncio.sleep(0)
        assert user.last_callback_query_id is not None

        calls: list[tuple[str, dict[str, Any]]] = [
            ("getUpdates", {"timeout": 0}),
            ("getUpdates", {"timeout": 0}),
            ("answerCallbackQuery", {"callback_query_id": user.last_callback_query_id}),
            ("sendChatAction", {"chat_id": CHAT, "action": "typing"}),
            ("sendChatAction", {"chat_id": CHAT, "action": "typing"}),
            ("setMyCommands", {"commands": json.dumps([{"command": "a", "description": "A"}])}),
            ("getMe", {}),
        ]
        for method, data in calls:
            status, body = await _post(client, standin, method, data)
            assert status == 200, (method, body)
        await press

        edit = {"chat_id": CHAT, "message_id": 1, "text": "sửa"}
        status, body = await _post(client, standin, "editMessageText", edit)
    # The per-chat window (5 s) outlasts the global one (1 s): retry after the longer wait.
    assert (status, body["parameters"]) == (429, {"retry_after": 5})
    assert [r.method for r in standin.flood_rejections] == ["editMessageText"]
    assert standin.violations == []


async def test_fail_next_for_one_chat_and_delay_next(standin: BotApiStandIn) -> None:
    standin.fail_next("sendMessage", 502, "Bad Gateway", chat_id="2002")
    async with httpx.AsyncClient() as client:

        async def send(chat: int, text: str) -> tuple[int, dict[str, Any]]:
            return await _post(client, standin, "sendMessage", {"chat_id": chat, "text": text})

        assert (await send(2001, "a"))[0] == 200
        status, body = await send(2002, "b")
        assert (status, body) == (
            502,
            {"ok": False, "error_code": 502, "description": "Bad Gateway"},
        )
        assert (await send(2002, "c"))[0] == 200
        assert [m["text"] for m in standin.messages_to(2002)] == ["c"]

        standin.delay_next("sendMessage", 0.15)
        started = time.monotonic()
        status, body = await send(2003, "chậm")
        assert status == 200 and body["result"]["text"] == "chậm"
        assert time.monotonic() - started >= 0.15
        started = time.monotonic()
        assert (await send(2003, "nhanh"))[0] == 200
        assert time.monotonic() - started < 0.15

    with pytest.raises(ValueError, match="not a Bot API method"):
        standin.delay_next("sendTelepathy", 1.0)
    assert standin.flood_rejections == []
    assert standin.violations == []
