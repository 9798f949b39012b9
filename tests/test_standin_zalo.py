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

from tests.standin.zalo import (
    SECRET_HEADER,
    TEXT_EVENT,
    ZALO_ID,
    ZaloApiStandIn,
    utf16_len,
    zalo_id,
)

USER = zalo_id("chị Lan")
SECRET = "s3cret-token-123"
#: The public HTTPS address the "bot" registers; route_webhook sends it to the local server.
PUBLIC = "https://bot.example.vn"


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
    """Serve ``bot.on_webhook`` at ``/zalo-hook`` on a free local port; yields the local
    base URL (``http://127.0.0.1:PORT``), to be reached through ``route_webhook``."""
    app = web.Application()
    app.router.add_post("/zalo-hook", bot.on_webhook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = int(runner.addresses[0][1])
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def until_polling(standin: ZaloApiStandIn, count: int = 1) -> None:
    """Wait until ``count`` getUpdates requests are open."""
    assert await standin.wait_until(lambda: standin.open_polls == count, timeout=2.0)


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
    assert standin.violations == ["sendMessage: text is 2001 UTF-16 units (maximum 2000)"]
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
    assert standin.violations == []

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
    async with webhook_server(bot) as local:
        standin.route_webhook(PUBLIC, local)
        hook = {"url": f"{PUBLIC}/zalo-hook", "secret_token": SECRET}
        assert (await call(client, standin, "setWebhook", hook)).is_success

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
        assert {p.url for p in standin.webhook_posts} == {f"{PUBLIC}/zalo-hook"}
        assert {p.target for p in standin.webhook_posts} == {f"{local}/zalo-hook"}

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


async def test_fail_next_one_error(standin: ZaloApiStandIn, client: httpx.AsyncClient) -> None:
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


# ---- events missed while nobody polls ------------------------------------------------------


async def test_event_dropped_when_no_poll_takes_it_in_time(
    standin: ZaloApiStandIn, client: httpx.AsyncClient
) -> None:
    standin.drop_after = 0.1
    event = standin.user(USER).text_event("không ai nghe")
    pushed_at = time.monotonic()
    standin.push(event)
    assert standin.pending_events() == [event]
    assert await standin.wait_until(lambda: bool(standin.dropped), timeout=1.0)
    assert time.monotonic() - pushed_at >= 0.1
    assert standin.dropped == [event]
    assert standin.pending_events() == []
    # A poll opening afterwards finds nothing: the event is lost, as on Zalo.
    assert (await call(client, standin, "getUpdates", {"timeout": "0"})).status_code == 408
    assert standin.violations == []


async def test_event_reaches_an_open_poll_or_one_opening_in_time(
    standin: ZaloApiStandIn, client: httpx.AsyncClient
) -> None:
    standin.drop_after = 0.2
    user = standin.user(USER)
    poll = asyncio.create_task(call(client, standin, "getUpdates", {"timeout": "30"}))
    await until_polling(standin)
    waiting = user.text_event("có người nghe")
    standin.push(waiting)
    assert (await poll).json()["result"] == waiting

    late = user.text_event("poll tới kịp")
    standin.push(late)
    await asyncio.sleep(0.1)  # within drop_after
    assert (await call(client, standin, "getUpdates", {"timeout": "30"})).json()["result"] == late

    standin.drop_after = None  # kept until a poll comes
    kept = user.text_event("giữ mãi")
    standin.push(kept)
    await asyncio.sleep(0.25)  # past the earlier drop_after
    assert standin.pending_events() == [kept]
    assert (await call(client, standin, "getUpdates", {"timeout": "30"})).json()["result"] == kept
    assert standin.dropped == []
    assert standin.violations == []


async def test_open_polls_counts_the_waiting_get_updates(
    standin: ZaloApiStandIn, client: httpx.AsyncClient
) -> None:
    assert standin.open_polls == 0
    polls = [
        asyncio.create_task(call(client, standin, "getUpdates", {"timeout": "30"}))
        for _ in range(2)
    ]
    await until_polling(standin, 2)
    standin.push(standin.user(USER).text_event("một"))
    done, _ = await asyncio.wait(polls, return_when=asyncio.FIRST_COMPLETED)
    assert [task.result().status_code for task in done] == [200]
    assert standin.open_polls == 1
    standin.push(standin.user(USER).text_event("hai"))  # taken by the remaining poll
    assert [(await task).status_code for task in polls] == [200, 200]
    assert standin.open_polls == 0
    assert standin.dropped == []


async def test_say_waits_for_the_bot_to_poll(
    standin: ZaloApiStandIn, client: httpx.AsyncClient
) -> None:
    standin.drop_after = 0.05
    bot = MiniBot(client, standin)
    user = standin.user(USER)
    say = asyncio.create_task(user.say("tôi nói trước", timeout=2.0))
    await asyncio.sleep(0.2)  # longer than drop_after: a raw push would be lost by now
    assert not say.done() and standin.pushed == []
    async with polling(bot):
        assert await say == [{"text": "Bạn nói: tôi nói trước"}]
        assert await user.say("rồi nói tiếp") == [{"text": "Bạn nói: rồi nói tiếp"}]
        assert await user.say("không cần trả lời", replies=0) == []
    assert standin.dropped == []

    # Nobody polls (the server has seen the bot's last poll go): say() gives up without
    # pushing anything.
    await until_polling(standin, 0)
    with pytest.raises(AssertionError, match="not polling"):
        await user.say("có ai không?", timeout=0.2)
    assert len(standin.pushed) == 3
    assert standin.violations == []


# ---- webhook management ----------------------------------------------------------------------


async def test_webhook_info_and_delete_without_a_webhook(
    standin: ZaloApiStandIn, client: httpx.AsyncClient
) -> None:
    info = await call(client, standin, "getWebhookInfo")
    assert (info.status_code, info.json()["ok"], info.json()["error_code"]) == (400, False, 400)
    deleted = await call(client, standin, "deleteWebhook")
    assert (deleted.status_code, deleted.json()["error_code"]) == (404, 404)

    hook = {"url": f"{PUBLIC}/zalo-hook", "secret_token": SECRET}
    assert (await call(client, standin, "setWebhook", hook)).status_code == 200
    info = await call(client, standin, "getWebhookInfo")
    assert info.status_code == 200 and info.json()["result"]["url"] == hook["url"]
    assert (await call(client, standin, "deleteWebhook")).status_code == 200
    assert (await call(client, standin, "deleteWebhook")).status_code == 404
    assert (await call(client, standin, "getWebhookInfo")).status_code == 400
    # A bot meets these in normal life (removing a webhook it is unsure of): no violation.
    assert standin.violations == []


async def test_webhook_url_must_be_https_and_is_reached_through_the_route(
    standin: ZaloApiStandIn, client: httpx.AsyncClient
) -> None:
    bot = MiniBot(client, standin)
    user = standin.user(USER)
    async with webhook_server(bot) as local:
        plain = {"url": f"{local}/zalo-hook", "secret_token": SECRET}
        refused = await call(client, standin, "setWebhook", plain)
        assert refused.status_code == 400
        assert refused.json()["description"] == "Bad Request: url must be an HTTPS URL"
        assert standin.violations == [
            f"setWebhook: webhook url must be an https URL, got '{local}/zalo-hook'"
        ]
        assert standin.webhook_url == ""

        hook = {"url": f"{PUBLIC}/zalo-hook?v=1", "secret_token": SECRET}
        assert (await call(client, standin, "setWebhook", hook)).is_success
        # Not routed yet: nothing leaves 127.0.0.1, the POST has nowhere to go.
        assert await standin.post_to_webhook(user.text_event("chưa có đường")) == 0
        assert "route_webhook" in (standin.webhook_posts[-1].error or "")
        assert standin.webhook_posts[-1].target == ""
        assert bot.seen == []

        standin.route_webhook(PUBLIC + "/", local)
        assert await user.say("qua proxy") == [{"text": "Bạn nói: qua proxy"}]
        assert standin.webhook_posts[-1].target == f"{local}/zalo-hook?v=1"
        assert standin.webhook_posts[-1].url == hook["url"]
        assert bot.headers == [SECRET]
    assert len(standin.violations) == 1


# ---- validation ------------------------------------------------------------------------------


def test_zalo_ids_are_deterministic_hex() -> None:
    assert zalo_id("thôn 1") == zalo_id("thôn 1") != zalo_id("thôn 2")
    assert zalo_id(7001) == zalo_id("7001")
    assert all(ZALO_ID.match(zalo_id(seed)) for seed in ("a", 1, "Người dùng", ""))
    assert len(zalo_id("x")) == 20


@pytest.mark.parametrize(
    "chat_id",
    ["7001", "7a2f9c01d4e85b36", zalo_id("x").upper(), zalo_id("x")[:19], zalo_id("x") + "0"],
)
async def test_a_chat_id_that_is_not_a_zalo_id_is_refused(
    standin: ZaloApiStandIn, client: httpx.AsyncClient, chat_id: str
) -> None:
    response = await call(client, standin, "sendMessage", {"chat_id": chat_id, "text": "chào"})
    assert response.status_code == 400
    assert response.json()["description"] == "Bad Request: invalid chat_id"
    assert standin.violations == [
        f"sendMessage: chat_id {chat_id!r} is not a Zalo id (20 hexadecimal digits)"
    ]
    assert standin.messages_to(chat_id) == []


async def test_text_length_is_counted_in_utf16_units(
    standin: ZaloApiStandIn, client: httpx.AsyncClient
) -> None:
    fits = "😀" * 1000
    assert (len(fits), utf16_len(fits)) == (1000, 2000)
    sent = await call(client, standin, "sendMessage", {"chat_id": USER, "text": fits})
    assert sent.status_code == 200
    plain = await call(client, standin, "sendMessage", {"chat_id": USER, "text": "ệ" * 2000})
    assert plain.status_code == 200
    assert standin.violations == []

    over = "😀" * 1001  # 1,001 characters, 2,002 UTF-16 units
    refused = await call(client, standin, "sendMessage", {"chat_id": USER, "text": over})
    assert refused.status_code == 400
    assert refused.json()["description"] == "Bad Request: text is too long"
    caption = {"chat_id": USER, "photo": "https://example.com/a.jpg", "caption": over}
    assert (await call(client, standin, "sendPhoto", caption)).status_code == 400
    assert standin.violations == [
        "sendMessage: text is 2002 UTF-16 units (maximum 2000)",
        "sendPhoto: caption is 2002 UTF-16 units (maximum 2000)",
    ]
    assert standin.messages_to(USER) == [{"text": fits}, {"text": "ệ" * 2000}]


async def test_fail_next_403_and_429_sequences(
    standin: ZaloApiStandIn, client: httpx.AsyncClient
) -> None:
    standin.fail_next("sendMessage", 403, "Internal server error")
    standin.fail_next("sendMessage", 429, "Quota exceeded")
    standin.fail_next("sendMessage", 429, "Quota exceeded")
    standin.fail_next("sendPhoto", 403, "Internal server error")
    body = {"chat_id": USER, "text": "tin"}
    answers = [await call(client, standin, "sendMessage", body) for _ in range(4)]
    assert [a.status_code for a in answers] == [403, 429, 429, 200]
    assert [a.json() for a in answers[:3]] == [
        {"ok": False, "error_code": 403, "description": "Internal server error"},
        {"ok": False, "error_code": 429, "description": "Quota exceeded"},
        {"ok": False, "error_code": 429, "description": "Quota exceeded"},
    ]  # no retry_after: Zalo gives none
    assert standin.messages_to(USER) == [{"text": "tin"}]
    photo = {"chat_id": USER, "photo": "https://example.com/a.jpg"}
    assert (await call(client, standin, "sendPhoto", photo)).status_code == 403
    assert (await call(client, standin, "sendPhoto", photo)).status_code == 200
    assert standin.flood_rejections == []
    assert standin.violations == []


# ---- restarting --------------------------------------------------------------------------------


async def test_stopped_standin_starts_again_on_the_same_port(
    client: httpx.AsyncClient, unused_tcp_port: int
) -> None:
    standin = ZaloApiStandIn(port=unused_tcp_port)
    await standin.start()
    try:
        assert standin.port == unused_tcp_port and standin.serving
        body = {"chat_id": USER, "text": "trước"}
        assert (await call(client, standin, "sendMessage", body)).is_success
        await standin.stop()
        assert not standin.serving
        with pytest.raises(httpx.ConnectError):
            await call(client, standin, "getMe")
        await standin.start()
        assert standin.port == unused_tcp_port
        body = {"chat_id": USER, "text": "sau"}
        assert (await call(client, standin, "sendMessage", body)).is_success
        assert standin.messages_to(USER) == [{"text": "trước"}, {"text": "sau"}]
    finally:
        await standin.stop()


async def test_a_free_port_is_kept_across_a_restart(client: httpx.AsyncClient) -> None:
    standin = ZaloApiStandIn()
    await standin.start()
    port = standin.port
    assert port != 0
    await standin.stop()
    await standin.start()
    try:
        assert standin.port == port
        assert (await call(client, standin, "getMe")).is_success
        with pytest.raises(RuntimeError, match="already serving"):
            await standin.start()
    finally:
        await standin.stop()
