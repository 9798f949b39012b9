"""The Zalo channel: the Zalo Bot API over a thin ``httpx`` client, long polling or webhook.

Zalo has no buttons: every choice is a numbered text menu (``numbered_menu``), answered by
its number or its words. Texts are cut under 2,000 characters; files (the digest's
workbook and chart) cannot be sent, so they are announced in words instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

import httpx
from aiohttp import web

from bot.channels.base import (
    Rejected,
    RetryLater,
    TemporaryFailure,
    Unreachable,
    numbered_menu,
    split_text,
)
from bot.config import ConfigError
from bot.i18n import _, use_locale
from bot.messages import MAX_FILE_BYTES, Attachment, Incoming, Reply
from bot.ratelimit import Limits, Pacer
from handlers.conversation import Conversations

log = logging.getLogger(__name__)

CHANNEL = "zalo"
TEXT_LIMIT = 2000
SECRET_HEADER = "X-Bot-Api-Secret-Token"
MIN_SECRET = 8  # Zalo refuses a shorter secret_token
MAX_BODY = 256 * 1024  # a webhook event is a few hundred bytes
NO_UPDATE = 408  # getUpdates' "nothing new"
# Methods that change nothing: safe to call again after a timeout or a server error.
SAFE_METHODS = frozenset({"getMe", "getUpdates", "getWebhookInfo", "deleteWebhook", "setWebhook"})


class ZaloError(Exception):
    """An answer with ``ok: false`` (or none at all); never carries the token."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(f"Zalo Bot API error {code}: {description}")
        self.code = code
        self.description = description


class ZaloTimeout(ZaloError):
    def __init__(self, description: str = "timed out") -> None:
        super().__init__(0, description)


class ZaloClient:
    """One function, ``call``: POST ``{base}/bot{token}/{method}`` with a JSON body."""

    def __init__(
        self,
        token: str,
        base_url: str,
        timeout: float = 15.0,
        retries: int = 3,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._url = f"{base_url.rstrip('/')}/bot{token}/"
        self._http = httpx.AsyncClient(timeout=timeout)
        self._retries = retries
        self._sleep = sleep

    async def close(self) -> None:
        await self._http.aclose()

    async def call(
        self,
        method: str,
        payload: dict[str, Any] | None = None,
        read_timeout: float | None = None,
        retry: bool = True,
    ) -> Any:
        """The result, or ``ZaloError``. With ``retry``, a 429 (nothing was done) is tried
        again after a pause, and timeouts and server errors for methods that change nothing;
        a message is never re-sent blindly (``retry=False`` leaves that to the outbox)."""
        attempt = 0
        while True:
            try:
                return await self._once(method, payload or {}, read_timeout)
            except ZaloError as error:
                again = retry and (
                    error.code == 429
                    or (
                        method in SAFE_METHODS
                        and (isinstance(error, ZaloTimeout) or error.code >= 500)
                    )
                )
                if not again or attempt >= self._retries:
                    raise
            attempt += 1
            await self._sleep(min(2.0**attempt, 30.0))

    async def _once(self, method: str, payload: dict[str, Any], read_timeout: float | None) -> Any:
        timeout = (
            httpx.Timeout(self._http.timeout.connect, read=read_timeout) if read_timeout else None
        )
        try:
            if timeout is not None:
                response = await self._http.post(self._url + method, json=payload, timeout=timeout)
            else:
                response = await self._http.post(self._url + method, json=payload)
        except httpx.TimeoutException:
            raise ZaloTimeout(f"{method} timed out") from None
        except httpx.TransportError as error:
            raise ZaloError(0, f"{method}: {type(error).__name__}") from None
        try:
            data = response.json()
        except ValueError:
            raise ZaloError(response.status_code, f"{method}: not a JSON answer") from None
        if isinstance(data, dict) and data.get("ok"):
            return data.get("result")
        code = data.get("error_code") if isinstance(data, dict) else None
        description = data.get("description", "") if isinstance(data, dict) else ""
        raise ZaloError(int(code or response.status_code), str(description))

    async def download(self, url: str, limit: int = MAX_FILE_BYTES) -> bytes | None:
        """A photo the person sent; None when larger than ``limit`` or not reachable."""
        try:
            async with self._http.stream("GET", url) as response:
                if response.status_code != 200:
                    return None
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > limit:
                        return b""  # too large: the caller says so
                    chunks.append(chunk)
                return b"".join(chunks)
        except httpx.HTTPError:
            return None


@dataclass(frozen=True)
class ZaloOptions:
    token: str
    api_url: str = "https://bot-api.zaloplatforms.com"
    webhook_url: str | None = None
    webhook_secret: str | None = None
    webhook_port: int = 8444
    webhook_listen: str = "0.0.0.0"
    rate_limit: float = 10.0  # messages per second in all (Zalo publishes none)
    limits: Limits | None = None
    poll_timeout: int = 30


def incoming_from_event(body: Any) -> Incoming | None:
    """The channel-neutral form of a Zalo event (bare or wrapped in ``{ok, result}``)."""
    event = body.get("result") if isinstance(body, dict) and "result" in body else body
    if not isinstance(event, dict):
        return None
    message = event.get("message")
    if not isinstance(message, dict):
        return None
    sender = message.get("from") or {}
    chat = message.get("chat") or {}
    if sender.get("is_bot") or not sender.get("id") or not chat.get("id"):
        return None
    if str(chat.get("chat_type", "PRIVATE")).upper() != "PRIVATE":
        return None  # reports are personal: the bot talks in private chats only
    name = str(event.get("event_name", ""))
    base = Incoming(
        channel=CHANNEL,
        user_id=str(sender["id"]),
        chat_id=str(chat["id"]),
        kind="other",
        # Applied once per event; an event without an id cannot be told from a repeat.
        update_key=f"{name}:{message['message_id']}" if message.get("message_id") else None,
        display_name=str(sender.get("display_name") or sender.get("name") or ""),
    )
    if name == "message.text.received" and isinstance(message.get("text"), str):
        return replace(base, kind="text", text=message["text"])
    if name == "message.image.received":
        url = message.get("photo_url") or message.get("photo")
        if isinstance(url, str) and url:
            attachment = Attachment(url, None, "image/jpeg")
            return replace(base, kind="photo", attachments=(attachment,))
    if name == "message.unsupported.received":
        return replace(base, unreadable=True)
    return base  # a sticker…: "other"


class ZaloChannel:
    name = CHANNEL

    def __init__(self, options: ZaloOptions, conversations: Conversations) -> None:
        self.options = options
        self.conversations = conversations
        self.client = ZaloClient(options.token, options.api_url)
        self.pacer = Pacer(options.limits or Limits(rate=options.rate_limit))
        self._poller: asyncio.Task[None] | None = None
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # -- receiving ----------------------------------------------------------------------

    async def start(self) -> None:
        me = await self.client.call("getMe")
        log.info("zalo: bot %s", (me or {}).get("account_name", "?"))
        if self.options.webhook_url:
            await self._start_webhook()
        else:
            await self.client.call("deleteWebhook")  # polling and a webhook exclude each other
            self._poller = asyncio.create_task(self._poll(), name="zalo-poll")

    async def _poll(self) -> None:
        failures = 0
        timeout = self.options.poll_timeout
        while True:
            try:
                event = await self.client.call(
                    "getUpdates", {"timeout": str(timeout)}, read_timeout=timeout + 10
                )
            except asyncio.CancelledError:
                raise
            except ZaloError as error:
                if error.code == NO_UPDATE:
                    failures = 0
                    continue
                failures += 1
                pause = min(2.0**failures, 60.0)
                log.warning("zalo: getUpdates failed (%s); again in %s s", error, pause)
                await asyncio.sleep(pause)
                continue
            failures = 0
            if event:
                await self.on_event(event)

    async def _start_webhook(self) -> None:
        options = self.options
        assert options.webhook_url
        if len(options.webhook_secret or "") < MIN_SECRET:
            raise ConfigError(
                _(
                    "ZALO_WEBHOOK_URL cần đi kèm ZALO_WEBHOOK_SECRET: một chuỗi bí mật từ {n} "
                    "ký tự trở lên."
                ).format(n=MIN_SECRET)
            )
        await self.client.call(
            "setWebhook", {"url": options.webhook_url, "secret_token": options.webhook_secret or ""}
        )
        path = "/" + options.webhook_url.rstrip("/").rsplit("/", 1)[-1]
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post(path, self._on_webhook)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, options.webhook_listen, options.webhook_port)
        await site.start()
        log.info("zalo: webhook on port %s", options.webhook_port)

    async def _on_webhook(self, request: web.Request) -> web.Response:
        expected = self.options.webhook_secret or ""
        given = request.headers.get(SECRET_HEADER, "")
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            return web.Response(status=403, text="forbidden")
        try:
            body = await request.json()
        except ValueError:
            return web.Response(status=400, text="not JSON")
        # Answer at once; the event is applied after (and only once, by its key).
        task = asyncio.create_task(self.on_event(body))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return web.Response(status=200, text="ok")

    async def on_event(self, body: Any) -> None:
        try:
            incoming = incoming_from_event(body)
            if incoming is None:
                return
            if incoming.kind == "photo":
                incoming = await self._with_photo(incoming)
            outcome = await self.conversations.handle(incoming)
            await self.send(incoming.chat_id, outcome.replies, outcome.locale)
        except Exception:
            log.exception("zalo: could not handle an event")

    async def _with_photo(self, incoming: Incoming) -> Incoming:
        attachment = incoming.attachments[0]
        data = await self.client.download(attachment.file_id)
        if data == b"":
            fetched = Attachment(attachment.file_id, MAX_FILE_BYTES + 1, attachment.mime_type)
        elif data is None:
            fetched = attachment
        else:
            fetched = Attachment(attachment.file_id, len(data), attachment.mime_type, data)
        return replace(incoming, attachments=(fetched,))

    async def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
        if self._runner is not None:
            await self._runner.cleanup()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.client.close()

    # -- sending ------------------------------------------------------------------------

    def parts(self, replies: list[Reply]) -> list[Any]:
        """Texts under 2,000 characters; files become a line saying where to find them."""
        found: list[Any] = []
        for reply in replies:
            found.extend(split_text(numbered_menu(reply), TEXT_LIMIT))
            if reply.files:
                found.append(
                    _(
                        "(Tin này có kèm {count} tệp (ảnh, bảng tính hoặc biểu đồ). Zalo không "
                        "nhận tệp: xem chúng trên Telegram nếu bạn có dùng, hoặc nhờ cán bộ xã "
                        "xuất bằng lệnh thidua export.)"
                    ).format(count=len(reply.files))
                )
        return found

    async def send_part(self, chat_id: str, part: Any) -> None:
        await self.pacer.wait(chat_id)
        try:
            await self.client.call(
                "sendMessage", {"chat_id": chat_id, "text": str(part)}, retry=False
            )
        except ZaloTimeout as error:
            raise TemporaryFailure(error.description) from error
        except ZaloError as error:
            if error.code == 429:
                raise RetryLater(1.0, error.description) from error
            if error.code == 403:
                raise Unreachable(error.description) from error
            if error.code == 0 or error.code >= 500:
                raise TemporaryFailure(error.description) from error
            raise Rejected(error.description) from error

    async def send(self, chat_id: str, replies: list[Reply], locale: str) -> None:
        """Replies to a message, at once (429s were retried by the client)."""
        with use_locale(locale):
            for part in self.parts(replies):
                for attempt in range(4):
                    try:
                        await self.send_part(chat_id, part)
                        break
                    except RetryLater as error:  # obey the flood limit, then try again
                        self.pacer.hold(error.seconds * (attempt + 1))
                    except (TemporaryFailure, Unreachable, Rejected) as error:
                        log.warning("zalo: a reply was not delivered: %s", error)
                        return
                else:
                    log.warning("zalo: a reply was not delivered: still flood-limited")
                    return
