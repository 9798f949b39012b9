"""Tests for the Telegram Bot API stand-in, driven by the real python-telegram-bot."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Conflict, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.standin.telegram import (
    CALLBACK_TOO_OLD,
    WEBHOOK_SECRET_HEADER,
    BotApiStandIn,
    UploadedFile,
)

CHAT = 1001
#: The public HTTPS base of the bot's webhook; ``route_webhook`` sends it to a local server.
PUBLIC = "https://bot.example.vn"
HOOK = f"{PUBLIC}/tg-hook"
SECRET = "s3cret-token_1"


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


def _build_app(standin: BotApiStandIn) -> Application[Any, Any, Any, Any, Any, Any]:
    """A real PTB ``Application`` against the stand-in, with the handlers above."""
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
    return application


@pytest.fixture
async def app(standin: BotApiStandIn) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    application = _build_app(standin)
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
        ({"chat_id": 1, "document": "BQAD", "caption": "c" * 1025}, "1025 UTF-16 code units"),
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


# ---- callback queries expire ----------------------------------------------------------------


async def test_callback_query_expires_after_callback_ttl(standin: BotApiStandIn, bot: Bot) -> None:
    standin.callback_ttl = 0.2
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]])
    await bot.send_message(CHAT, "chọn", reply_markup=keyboard)
    user = standin.user(CHAT)

    press = asyncio.create_task(user.press("a", replies=0, timeout=2))
    await asyncio.sleep(0)
    in_time = user.last_callback_query_id
    assert in_time is not None
    assert await bot.answer_callback_query(in_time, text="Đã nhận")
    assert await press == []

    press = asyncio.create_task(user.press("a", replies=0, timeout=2))
    await asyncio.sleep(0)
    late = user.last_callback_query_id
    assert late is not None and late != in_time
    await asyncio.sleep(0.25)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(late, text="Muộn rồi")
    assert await press == []  # press(replies=0) returns once the bot answered, even too late
    before = standin.requests[-1]
    assert (before.method, before.status) == ("answerCallbackQuery", 400)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(late)  # the bot retrying: still too old
    assert standin.expired_callback_answers == [late, late]
    assert set(standin.callback_answers) == {in_time}
    # A busy or restarting bot meets this: not a violation.
    assert standin.violations == []

    status, body, found = await _call(
        standin, "answerCallbackQuery", {"callback_query_id": in_time}
    )
    assert (status, body["description"]) == (400, CALLBACK_TOO_OLD)
    assert found == [f"answerCallbackQuery: callback query {in_time!r} is answered twice"]
    status, _, found = await _call(standin, "answerCallbackQuery", {"callback_query_id": "42"})
    assert status == 400
    assert found == ["answerCallbackQuery: callback query '42' is unknown"]


async def test_callback_query_answered_in_time_through_ptb(
    standin: BotApiStandIn, app: Application[Any, Any, Any, Any, Any, Any]
) -> None:
    standin.callback_ttl = 0.5
    user = standin.user(CHAT)
    await user.say("/start")
    assert [r["text"] for r in await user.press("vote:no")] == ["Bạn chọn: vote:no"]
    assert standin.expired_callback_answers == []
    assert standin.violations == []


# ---- webhook delivery -----------------------------------------------------------------------


@dataclass
class Receipt:
    """One POST the test's webhook receiver got."""

    update: dict[str, Any]
    headers: dict[str, str]
    started: float
    status: int


@dataclass
class Receiver:
    """A tiny webhook: answers the first POSTs with ``statuses`` (then 200), each after
    ``delay`` seconds, and records what it got and how many were under way at once."""

    statuses: list[int] = field(default_factory=list)
    delay: float = 0.0
    receipts: list[Receipt] = field(default_factory=list)
    active: dict[Any, int] = field(default_factory=dict)
    most_at_once: int = 0
    most_per_chat: int = 0

    async def handle(self, request: web.Request) -> web.Response:
        update = await request.json()
        chat = update["message"]["chat"]["id"] if "message" in update else None
        status = self.statuses.pop(0) if self.statuses else 200
        self.receipts.append(Receipt(update, dict(request.headers), time.monotonic(), status))
        self.active[chat] = self.active.get(chat, 0) + 1
        self.most_at_once = max(self.most_at_once, sum(self.active.values()))
        self.most_per_chat = max(self.most_per_chat, self.active[chat])
        try:
            await asyncio.sleep(self.delay)
        finally:
            self.active[chat] -= 1
        return web.Response(status=status, text="ok")

    def ids(self, chat: int | None = None) -> list[int]:
        return [
            r.update["update_id"]
            for r in self.receipts
            if chat is None or r.update["message"]["chat"]["id"] == chat
        ]


@contextlib.asynccontextmanager
async def serving(receiver: Receiver) -> AsyncIterator[str]:
    """Serve ``receiver`` at ``/tg-hook`` on a free local port; yields the local base URL."""
    application = web.Application()
    application.router.add_post("/tg-hook", receiver.handle)
    runner = web.AppRunner(application, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def _message(chat: int, text: str) -> dict[str, Any]:
    return {
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": chat, "type": "private", "first_name": "Dân"},
            "text": text,
        }
    }


async def test_webhook_retries_until_the_bot_answers_2xx(standin: BotApiStandIn, bot: Bot) -> None:
    receiver = Receiver(statuses=[500])
    async with serving(receiver) as local:
        standin.route_webhook(PUBLIC, local)
        standin.webhook_retry = 0.2
        assert await bot.set_webhook(HOOK, secret_token=SECRET)
        user = standin.user(CHAT, "Lan")
        said = asyncio.create_task(user.say("xin chào", replies=0, timeout=3))
        assert await standin.wait_until(lambda: len(standin.webhook_posts) == 1, timeout=2)
        info = await bot.get_webhook_info()
        assert (info.url, info.pending_update_count) == (HOOK, 1)
        assert (
            info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
        )
        assert isinstance(info.last_error_date, datetime)
        assert await said == []  # confirmed by the 2xx of the second attempt

    update_id = user.last_update_id
    posts = standin.webhook_posts
    assert [(p.update_id, p.status) for p in posts] == [(update_id, 500), (update_id, 200)]
    assert posts[0].error == "Wrong response from the webhook: 500 Internal Server Error"
    assert posts[1].error is None
    assert posts[1].time - posts[0].time >= 0.2
    assert {(p.url, p.target) for p in posts} == {(HOOK, f"{local}/tg-hook")}
    first, second = receiver.receipts
    assert first.update == second.update
    assert first.update["update_id"] == update_id
    assert first.update["message"]["text"] == "xin chào"
    assert first.headers[WEBHOOK_SECRET_HEADER] == SECRET
    assert first.headers["Content-Type"] == "application/json"

    status, body, _ = await _call(standin, "getWebhookInfo", {})
    result = body["result"]
    assert status == 200 and result["pending_update_count"] == 0
    assert result["max_connections"] == 40 and result["has_custom_certificate"] is False
    assert isinstance(result["last_error_date"], int)
    assert result["last_error_message"].endswith("500 Internal Server Error")
    assert standin.pending_updates() == []
    assert standin.violations == []


async def test_webhook_one_update_at_a_time_per_chat_in_order(
    standin: BotApiStandIn, bot: Bot
) -> None:
    a, b = CHAT, CHAT + 1
    receiver = Receiver(delay=0.03)
    async with serving(receiver) as local:
        standin.route_webhook(PUBLIC, local)
        assert await bot.set_webhook(HOOK)
        ids = [
            standin.push_update(_message(chat, f"{chat}-{i}")) for i in range(3) for chat in (a, b)
        ]
        assert await standin.wait_until(lambda: not standin.pending_updates(), timeout=2)
        assert receiver.ids(a) == ids[0::2] and receiver.ids(b) == ids[1::2]
        assert (receiver.most_per_chat, receiver.most_at_once) == (1, 2)
        assert WEBHOOK_SECRET_HEADER not in receiver.receipts[0].headers  # no secret was set

        # max_connections bounds the deliveries under way overall.
        assert await bot.set_webhook(HOOK, max_connections=1)
        receiver.receipts.clear()
        receiver.most_at_once = 0
        ids = [standin.push_update(_message(chat, "lần hai")) for chat in (a, b, a, b)]
        assert await standin.wait_until(lambda: not standin.pending_updates(), timeout=2)
        assert receiver.ids() == ids and receiver.most_at_once == 1

        # A failing update holds back its own chat only.
        assert await bot.set_webhook(HOOK)
        standin.webhook_retry = 0.3
        receiver.receipts.clear()
        receiver.statuses = [500]
        first_a = standin.push_update(_message(a, "lỗi trước"))
        later = [standin.push_update(_message(chat, "sau")) for chat in (a, b, b, b)]
        assert await standin.wait_until(
            lambda: set(later[1:]).isdisjoint(standin.pending_updates()), timeout=2
        )
        assert standin.pending_updates() == [first_a, later[0]]  # b went on while a waited
        assert await standin.wait_until(lambda: not standin.pending_updates(), timeout=2)
        assert receiver.ids(a) == [first_a, first_a, later[0]]
        assert [r.status for r in receiver.receipts if r.update["update_id"] == first_a] == [
            500,
            200,
        ]
    assert standin.violations == []


async def test_webhook_failures_are_reported_like_telegram(
    standin: BotApiStandIn, bot: Bot, unused_tcp_port: int
) -> None:
    standin.webhook_retry = 0.05
    # Nothing routed and not this machine: never reached, as if the host did not resolve.
    assert await bot.set_webhook("https://nowhere.example/hook")
    update_id = standin.push_update(_message(CHAT, "đi đâu?"))
    assert await standin.wait_until(lambda: len(standin.webhook_posts) >= 2, timeout=2)
    assert {(p.update_id, p.status, p.target) for p in standin.webhook_posts} == {
        (update_id, 0, "")
    }
    assert standin.webhook_posts[0].error == "Failed to resolve host: Name or service not known"

    # Routed to a port nobody listens on.
    standin.route_webhook(PUBLIC, f"http://127.0.0.1:{unused_tcp_port}")
    assert await bot.set_webhook(HOOK)
    since = len(standin.webhook_posts)
    assert await standin.wait_until(lambda: len(standin.webhook_posts) > since, timeout=2)
    assert standin.webhook_posts[since].error == "Connection refused"
    assert (await bot.get_webhook_info()).last_error_message == "Connection refused"

    # A bot slower than webhook_timeout.
    receiver = Receiver(delay=0.5)
    async with serving(receiver) as local:
        standin.route_webhook(PUBLIC, local)
        standin.webhook_timeout = 0.1
        standin.webhook_retry = 5.0
        assert await bot.set_webhook(HOOK)
        since = len(standin.webhook_posts)
        assert await standin.wait_until(lambda: len(standin.webhook_posts) > since, timeout=2)
        post = standin.webhook_posts[since]
        assert (post.status, post.error) == (0, "Read timeout expired")
        assert post.target == f"{local}/tg-hook"
        assert await bot.delete_webhook()
    assert standin.pending_updates() == [update_id]
    assert standin.violations == []


async def test_delete_webhook_stops_deliveries_and_pending_stay_for_get_updates(
    standin: BotApiStandIn, bot: Bot, unused_tcp_port: int
) -> None:
    standin.webhook_retry = 0.05
    standin.route_webhook(PUBLIC, f"http://127.0.0.1:{unused_tcp_port}")  # refused
    assert await bot.set_webhook(HOOK)
    update_id = standin.push_update(_message(CHAT, "chờ"))
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates(timeout=0)
    assert standin.requests[-1].status == 409
    assert await standin.wait_until(lambda: len(standin.webhook_posts) >= 2, timeout=2)

    assert await bot.delete_webhook()
    stopped_at = len(standin.webhook_posts)
    await asyncio.sleep(0.2)  # four retry periods
    assert len(standin.webhook_posts) <= stopped_at + 1  # at most the one under way
    info = await bot.get_webhook_info()
    assert (info.url, info.pending_update_count) == ("", 1)
    updates = await bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == [update_id]
    assert updates[0].message is not None and updates[0].message.text == "chờ"
    assert standin.violations == []  # the 409 is normal life, not a violation


async def test_set_webhook_takes_only_https_and_a_valid_secret(
    standin: BotApiStandIn, bot: Bot
) -> None:
    with pytest.raises(
        BadRequest, match=r"(?i)bad webhook: HTTPS url must be provided for webhook"
    ):
        await bot.set_webhook("http://bot.example.vn/tg-hook")
    assert standin.webhook_url == ""
    assert standin.violations == [
        "setWebhook: webhook url must be an HTTPS URL, got 'http://bot.example.vn/tg-hook'"
    ]
    status, body, found = await _call(standin, "setWebhook", {"url": "ftp://bot.example.vn/x"})
    assert (status, body["description"]) == (
        400,
        "Bad Request: bad webhook: HTTPS url must be provided for webhook",
    )
    assert len(found) == 1
    standin.violations.pop()
    with pytest.raises(BadRequest, match=r"(?i)secret token"):
        await bot.set_webhook(HOOK, secret_token="bí mật")
    assert len(standin.violations) == 2 and "secret_token" in standin.violations[-1]
    assert standin.webhook_url == ""

    assert await bot.set_webhook(HOOK, secret_token=SECRET)
    assert (standin.webhook_url, standin.webhook_secret) == (HOOK, SECRET)
    assert await bot.set_webhook("")  # an empty url removes the webhook
    assert standin.webhook_url == ""
    assert len(standin.violations) == 2


async def test_sim_user_in_webhook_mode_with_a_real_ptb_application(
    standin: BotApiStandIn, unused_tcp_port: int
) -> None:
    standin.route_webhook(PUBLIC, f"http://127.0.0.1:{unused_tcp_port}")
    application = _build_app(standin)
    await application.initialize()
    await application.start()
    assert application.updater is not None
    await application.updater.start_webhook(
        listen="127.0.0.1",
        port=unused_tcp_port,
        url_path="tg-hook",
        webhook_url=HOOK,
        secret_token=SECRET,
    )
    try:
        user = standin.user(CHAT, "Lan")
        assert [r["text"] for r in await user.say("xin chào")] == ["xin chào"]
        assert (await user.say("/start"))[0]["text"] == "Bạn đồng ý không?"
        assert [r["text"] for r in await user.press(user.button("Đồng ý"))] == [
            "Bạn chọn: vote:yes"
        ]
        assert (await user.send_photo(data=b"x" * 321))[0]["text"] == "Ảnh 321 byte"
        assert await user.say("chỉ cần nhận", replies=0) == []
        assert user.last_update_id not in standin.pending_updates()  # confirmed by the 2xx
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()
    assert standin.calls("getUpdates") == []
    assert {p.status for p in standin.webhook_posts} == {200}
    assert len(standin.webhook_posts) == 5
    assert standin.pending_updates() == []
    assert standin.violations == []


# ---- text limits in UTF-16 code units -------------------------------------------------------


async def test_text_and_caption_limits_count_utf16_code_units(standin: BotApiStandIn) -> None:
    status, _, found = await _call(standin, "sendMessage", {"chat_id": 1, "text": "😀" * 2048})
    assert (status, found) == (200, [])  # 2,048 characters, 4,096 code units
    status, body, found = await _call(standin, "sendMessage", {"chat_id": 1, "text": "😀" * 2049})
    assert (status, body["description"]) == (400, "Bad Request: message is too long")
    assert found == ["sendMessage: text is 4098 UTF-16 code units (maximum 4096)"]
    html = {"chat_id": 1, "text": f"<b>{'😀' * 2048}</b>", "parse_mode": "HTML"}
    status, _, found = await _call(standin, "sendMessage", html)  # counted after the tags go
    assert (status, found) == (200, [])

    photo = {"chat_id": 1, "photo": "https://a.vn/x.jpg"}
    status, _, found = await _call(standin, "sendPhoto", {**photo, "caption": "😀" * 512})
    assert (status, found) == (200, [])
    status, body, found = await _call(standin, "sendPhoto", {**photo, "caption": "😀" * 513})
    assert (status, body["description"]) == (400, "Bad Request: message caption is too long")
    assert found == ["sendPhoto: caption is 1026 UTF-16 code units (maximum 1024)"]
    assert len(standin.messages_to(1)) == 3


# ---- stopping and starting again ------------------------------------------------------------


async def test_stopped_standin_starts_again_on_the_same_port(unused_tcp_port: int) -> None:
    standin = BotApiStandIn(port=unused_tcp_port)
    await standin.start()
    try:
        assert standin.port == unused_tcp_port
        async with Bot(standin.token, base_url=standin.base_url) as bot:
            await bot.send_message(CHAT, "trước")
            await standin.stop()
            with pytest.raises(NetworkError):
                await bot.send_message(CHAT, "lúc mất mạng")
            await standin.start()
            assert standin.port == unused_tcp_port
            await bot.send_message(CHAT, "sau")  # the same Bot reconnects
        assert [m["text"] for m in standin.messages_to(CHAT)] == ["trước", "sau"]
        assert standin.violations == []
    finally:
        await standin.stop()


async def test_webhook_deliveries_wait_while_stopped_and_resume(
    standin: BotApiStandIn, bot: Bot
) -> None:
    receiver = Receiver()
    async with serving(receiver) as local:
        standin.route_webhook(PUBLIC, local)
        assert await bot.set_webhook(HOOK)
        port = standin.port
        await standin.stop()
        update_id = standin.push_update(_message(CHAT, "trong lúc Telegram ngừng"))
        await asyncio.sleep(0.1)
        assert receiver.receipts == [] and standin.webhook_posts == []
        await standin.start()
        assert standin.port == port
        assert await standin.wait_until(lambda: not standin.pending_updates(), timeout=2)
    assert receiver.ids() == [update_id]
    assert standin.violations == []
