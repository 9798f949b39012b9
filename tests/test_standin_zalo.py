"""Tests for the Zalo Bot API stand-in, driven by a plain httpx client (no bot needed)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiohttp import web

from tests.standin.zalo import SECRET_HEADER, TEXT_EVENT, ZaloApiStandIn

USER = "7a2f9c01d4e85b36"
SECRET = "s3cret-token-123"


@pytest.fixture
async def standin() -> AsyncIterator[ZaloApiStandIn]:
    async with ZaloApiStandIn() as server:
        yield server


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10.0) as http:
        yield http


async def call(
    client: httpx.AsyncClient,
    standin: ZaloApiStandIn,
    method: str,
    body: dict[str, Any] | None = None,
    token: str | None = None,
) -> httpx.Response:
    url = f"{standin.base_url}/bot{token or standin.token}/{method}"
    return await client.post(url, json=body if body is not None else {})


class MiniBot:
    """A few lines of "bot": polls (or takes webhook POSTs) and echoes texts back."""

    def __init__(self, client: httpx.AsyncClient, standin: ZaloApiStandIn) -> None:
        self.client = client
        self.standin = standin
        self.seen: list[dict[str, Any]] = []
        self.headers: list[str | None] = []
        self.bodies: list[Any] = []

    async def handle(self, event: dict[str, Any]) -> None:
        self.seen.append(event)
        message = event["message"]
        chat = message["chat"]["id"]
        if event["event_name"] == TEXT_EVENT:
            reply = f"Bạn nói: {message['text']}"
        elif "photo_url" in message:
            photo = await self.client.get(message["photo_url"])
            reply = f"Ảnh {len(photo.content)} byte"
        else:
            reply = "Chưa hiểu"
        await call(self.client, self.standin, "sendMessage", {"chat_id": chat, "text": reply})

    async def poll_forever(self) -> None:
        while True:
            response = await call(self.client, self.standin, "getUpdates", {"timeout": "30"})
            if response.status_code == 200:
                await self.handle(response.json()["result"])

    async def on_webhook(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER)
        self.headers.append(given)
        body = await request.json()
        self.bodies.append(body)
        if given != SECRET:
            return web.Response(status=403)
        event = body["result"] if "result" in body else body
        await self.handle(event)
        return web.Response(text="ok")


@contextlib.asynccontextmanager
async def polling(bot: MiniBot) -> AsyncIterator[None]:
    task = asyncio.create_task(bot.poll_forever())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@contextlib.asynccontextmanager
async def webhook_server(bot: MiniBot) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_post("/zalo-hook", bot.on_webhook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = int(runner.addresses[0][1])
    try:
        yield f"http://127.0.0.1:{port}/zalo-hook"
    finally:
        await runner.cleanup()


async def test_get_me(standin: ZaloApiStandIn, client: httpx.AsyncClient) -> None:
    response = await call(client, standin, "getMe")
    assert response.status_code == 200
    assert response.json() == {
        "ok": True,
        "result": {
            "id": "1234567890",
            "account_name": "bot.thidua",
            "account_type": "BASIC",
            "can_join_groups": False,
        },
    }
    assert [r.method for r in standin.requests] == ["getMe"]
    assert standin.violations == []


async def test_send_message_and_length_limit(
    standin: ZaloApiStandIn, client: httpx.AsyncClient
) -> None:
    ok = await call(client, standin, "sendMessage", {"chat_id": USER, "text": "Xin chào"})
    assert ok.status_code == 200
    result = ok.json()["result"]
    assert isinstance(result["message_id"], str) and result["message_id"]
    assert result["date"] > 1_600_000_000_000  # milliseconds
    # 2,000 characters are fine, even when each takes several bytes.
    longest = "ệ" * 2000
    assert (
        await call(client, standin, "sendMessage", {"chat_id": USER, "text": longest})
    ).is_success
    assert standin.messages_to(USER) == [{"text": "Xin chào"}, {"text": longest}]
    assert standin.violations == []

    too_long = await call(client, standin, "sendMessage", {"chat_id": USER, "text": "a" * 2001})
    assert too_long.status_code == 400
    assert too_long.json()["ok"] is False and too_long.json()["error_code"] == 400
    assert standin.violations == ["sendMessage: text is 2001 characters (maximum 2000)"]
    assert len(standin.messages_to(USER)) == 2

    empty = await call(client, standin, "sendMessage", {"chat_id": USER, "text": ""})
    missing = await call(client, standin, "sendMessage", {"text": "hi"})
    not_string = await call(client, standin, "sendMessage", {"chat_id": 42, "text": "hi"})
    assert [r.status_code for r in (empty, missing, not_string)] == [400, 400, 400]
    assert len(standin.violations) == 4
    assert [r.status for r in standin.calls("sendMessage")] == [200, 200, 400, 400, 400, 400]


async def test_other_sends_are_validated(
    standin: ZaloApiStandIn, client: httpx.AsyncClient
) -> None:
    photo = {"chat_id": USER, "photo": "https://example.com/a.jpg", "caption": "Ảnh"}
    assert (await call(client, standin, "sendPhoto", photo)).is_success
    assert (
        await call(client, standin, "sendSticker", {"chat_id": USER, "sticker": "x1"})
    ).is_success
    typing = {"chat_id": USER, "action": "typing"}
    assert (await call(client, standin, "sendChatAction", typing)).is_success
    assert standin.violations == []
    assert standin.messages_to(USER) == [
        {"photo": "https://example.com/a.jpg", "caption": "Ảnh"},
        {"sticker": "x1"},
    ]
    assert standin.chat_actions == [typing]

    bad_action = {"chat_id": USER, "action": "record_voice"}
    assert (await call(client, standin, "sendChatAction", bad_action)).status_code == 400
    assert (await call(client, standin, "sendPhoto", {"chat_id": USER})).status_code == 400
    assert (
        await call(client, standin, "sendPhoto", {"chat_id": USER, "photo": "x"})
    ).status_code == 400
    assert len(standin.violations) == 3
    # An unknown parameter is noted, but the message still goes out.
    extra = {"chat_id": USER, "text": "hi", "parse_mode": "HTML"}
    assert (await call(client, standin, "sendMessage", extra)).is_success
    assert "unknown parameter 'parse_mode'" in standin.violations[-1]


async def test_wrong_token(standin: ZaloApiStandIn, client: httpx.AsyncClient) -> None:
    response = await call(client, standin, "getMe", token="999:wrong")
    assert response.status_code == 401
    assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert standin.violations == []


async def test_unknown_method_get_and_non_json(
    standin: ZaloApiStandIn, client: httpx.AsyncClient
) -> None:
    unknown = await call(client, standin, "sendMessages", {"chat_id": USER, "text": "x"})
    assert unknown.status_code == 404
    assert unknown.json()["error_code"] == 404
    assert standin.violations == ["sendMessages: no such Zalo Bot API method"]

    get = await client.get(standin.api_url("getMe"))
    assert get.status_code == 400
    form = await client.post(standin.api_url("sendMessage"), data={"chat_id": USER, "text": "x"})
    assert form.status_code == 400
    array = await client.post(standin.api_url("sendMessage"), json=[USER, "x"])
    assert array.status_code == 400
    assert len(standin.violations) == 4
    assert standin.messages_to(USER) == []


async def test_get_updates_returns_pushed_event_then_408(
    standin: ZaloApiStandIn, client: httpx.AsyncClient
) -> None:
    user = standin.user(USER, "Chị Lan")
    first, second = user.text_event("một"), user.text_event("hai")
    assert first["message"]["message_id"] != second["message"]["message_id"]
    assert first["message"]["from"] == {"id": USER, "display_name": "Chị Lan", "is_bot": False}
    assert first["message"]["chat"] == {"id": USER, "chat_type": "PRIVATE"}
    standin.push(first)
    standin.push(second)

    got = [await call(client, standin, "getUpdates", {"timeout": "30"}) for _ in range(2)]
    assert [r.json() for r in got] == [
        {"ok": True, "result": first},
        {"ok": True, "result": second},
    ]

    standin.poll_cap = 0.3
    started = time.monotonic()
    empty = await call(client, standin, "getUpdates", {"timeout": "30"})
    elapsed = time.monotonic() - started
    assert empty.status_code == 408
    assert empty.json() == {"ok": False, "error_code": 408, "description": "Request timeout"}
    assert 0.25 <= elapsed < 2.0
    started = time.monotonic()
    assert (await call(client, standin, "getUpdates", {"timeout": "0"})).status_code == 408
    assert time.monotonic() - started < 0.25
    assert standin.violations == []


async def test_pending_poll_wakes_on_push_and_on_stop(client: httpx.AsyncClient) -> None:
    async with ZaloApiStandIn() as standin:
        standin.poll_cap = 5.0
        event = standin.user(USER).text_event("chào")
        poll = asyncio.create_task(call(client, standin, "getUpdates", {"timeout": "30"}))
        await asyncio.sleep(0.1)
        started = time.monotonic()
        standin.push(event)
        response = await poll
        assert time.monotonic() - started < 0.5
        assert response.json()["result"] == event

        poll = asyncio.create_task(call(client, standin, "getUpdates", {"timeout": "30"}))
        await asyncio.sleep(0.1)
        started = time.monotonic()
    response = await poll  # the stand-in stopped: the pending poll ended
    assert time.monotonic() - started < 2.0
    assert response.status_code == 408


async def test_get_updates_conflicts_with_webhook(
    standin: ZaloApiStandIn, client: httpx.AsyncClient
) -> None:
    hook = {"url": "https://bot.example.vn/zalo", "secret_token": SECRET}
    set_answer = await call(client, standin, "setWebhook", hook)
    assert set_answer.json()["result"]["url"] == "https://bot.example.vn/zalo"
    assert standin.webhook_url == hook["url"] and standin.webhook_secret == SECRET
    info = await call(client, standin, "getWebhookInfo")
    assert info.json()["result"]["url"] == hook["url"]

    conflict = await call(client, standin, "getUpdates", {"timeout": "30"})
    assert conflict.status_code == 409
    assert conflict.json() == {
        "ok": False,
        "error_code": 409,
        "description": "Conflict: webhook is active",
    }
    deleted = await call(client, standin, "deleteWebhook")
    assert deleted.json()["result"]["url"] == ""
    standin.push(standin.user(USER).text_event("sau khi xoá webhook"))
    assert (await call(client, standin, "getUpdates", {"timeout": "30"})).status_code == 200

    bad_secret = await call(client, standin, "setWebhook", {"url": hook["url"], "secret_token": ""})
    plain_http = {"url": "http://bot.example.vn/zalo", "secret_token": SECRET}
    bad_url = await call(client, standin, "setWebhook", plain_http)
    assert [bad_secret.status_code, bad_url.status_code] == [400, 400]
    assert len(standin.violations) == 2
    assert standin.webhook_url == ""


async def test_say_and_send_photo_while_polling(
    standin: ZaloApiStandIn, client: httpx.AsyncClient
) -> None:
    bot = MiniBot(client, standin)
    user = standin.user(USER)
    async with polling(bot):
        assert await user.say("Báo cáo thôn 1") == [{"text": "Bạn nói: Báo cáo thôn 1"}]
        assert await user.send_photo(b"x" * 1234, caption="Ảnh") == [{"text": "Ảnh 1234 byte"}]
        assert await user.send_sticker() == [{"text": "Chưa hiểu"}]
        assert await user.send_unsupported() == [{"text": "Chưa hiểu"}]
    image = bot.seen[1]
    assert image["event_name"] == "message.image.received"
    assert image["message"]["caption"] == "Ảnh"
    assert [e["event_name"] for e in bot.seen[2:]] == [
        "message.sticker.received",
        "message.unsupported.received",
    ]
    assert len(standin.downloads) == 1
    assert standin.violations == []


async def test_webhook_posts(standin: ZaloApiStandIn, client: httpx.AsyncClient) -> None:
    bot = MiniBot(client, standin)
    user = standin.user(USER)
    async with webhook_server(bot) as url:
        set_answer = await call(client, standin, "setWebhook", {"url": url, "secret_token": SECRET})
        assert set_answer.is_success

        # say() goes to the webhook (correct secret, bare event) instead of the queue.
        assert await user.say("chào") == [{"text": "Bạn nói: chào"}]
        assert bot.headers == [SECRET]
        assert bot.bodies == [user.last_event]
        assert standin.pending_events() == []

        event = user.text_event("gói")
        assert await standin.post_to_webhook(event, wrapped=True) == 200
        assert bot.bodies[-1] == {"ok": True, "result": event}

        assert await standin.post_to_webhook(event, secret=None) == 403
        assert bot.headers[-1] is None
        assert await standin.post_to_webhook(event, secret="wrong-secret") == 403
        assert bot.headers[-1] == "wrong-secret"
        assert [p.status for p in standin.webhook_posts] == [200, 200, 403, 403]

        # push() while a webhook is set POSTs in the background.
        standin.push(user.text_event("nền"))
        assert await standin.wait_until(lambda: len(standin.webhook_posts) == 5)
        assert standin.webhook_posts[-1].status == 200
        await standin.wait_messages(USER, 3, since=0)
    # No one listens any more: no HTTP answer at all.
    assert await standin.post_to_webhook(event) == 0
    assert standin.webhook_posts[-1].error
    assert standin.violations == []


async def test_rate_limit() -> None:
    async with ZaloApiStandIn(rate=3) as standin, httpx.AsyncClient() as client:
        body = {"chat_id": USER, "text": "tin"}
        statuses = [
            (await call(client, standin, "sendMessage", body)).status_code for _ in range(5)
        ]
        assert statuses == [200, 200, 200, 429, 429]
        last = standin.calls("sendMessage")[-1]
        assert standin.flood_rejections == standin.calls("sendMessage")[3:]
        assert last.status == 429
        rejected = await call(client, standin, "sendMessage", body)
        assert rejected.json() == {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests",
        }
        # Other methods are not limited.
        assert (await call(client, standin, "getMe")).is_success
        await asyncio.sleep(1.05)
        assert (await call(client, standin, "sendMessage", body)).is_success
        assert len(standin.messages_to(USER)) == 4
        assert standin.violations == []


async def test_fail_next(standin: ZaloApiStandIn, client: httpx.AsyncClient) -> None:
    standin.fail_next("sendMessage", 403, "Forbidden: user blocked the bot")
    body = {"chat_id": USER, "text": "tin"}
    failed = await call(client, standin, "sendMessage", body)
    assert failed.status_code == 403
    assert failed.json() == {
        "ok": False,
        "error_code": 403,
        "description": "Forbidden: user blocked the bot",
    }
    assert standin.messages_to(USER) == []
    assert (await call(client, standin, "sendMessage", body)).is_success
    assert standin.messages_to(USER) == [{"text": "tin"}]
    with pytest.raises(ValueError):
        standin.fail_next("sendMesage", 500, "typo")
    assert standin.violations == []


async def test_files_are_served(standin: ZaloApiStandIn, client: httpx.AsyncClient) -> None:
    url = standin.add_file("bao-cao thôn.jpg", b"\xff\xd8 image \xff\xd9")
    assert url.startswith(standin.base_url + "/files/")
    response = await client.get(url)
    assert response.status_code == 200
    assert response.content == b"\xff\xd8 image \xff\xd9"
    assert response.headers["content-type"].startswith("image/jpeg")
    assert (await client.get(standin.base_url + "/files/none.jpg")).status_code == 404

    event = standin.user(USER).image_event(url)
    assert (await client.get(event["message"]["photo_url"])).content.startswith(b"\xff\xd8")


async def test_deliver_again_repeats_message_id(
    standin: ZaloApiStandIn, client: httpx.AsyncClient
) -> None:
    event = standin.user(USER).text_event("hai lần")
    standin.push(event)
    standin.deliver_again(event)
    first = await call(client, standin, "getUpdates", {"timeout": "30"})
    second = await call(client, standin, "getUpdates", {"timeout": "30"})
    ids = [r.json()["result"]["message"]["message_id"] for r in (first, second)]
    assert ids == [event["message"]["message_id"]] * 2
    assert standin.pending_events() == []
