"""The Zalo channel: the Zalo Bot API over a thin ``httpx`` client, webhook or long polling.

The webhook is the production mode: an event is stored in the inbox before the 200 goes
back, so Zalo redelivers what the bot did not store. Polling is for trying the bot: Zalo
drops the events that arrive while no ``getUpdates`` is open and has no offsets, so the
poller polls again the moment an event comes back and lets the inbox store it meanwhile.

Zalo has no buttons: every choice is a numbered text menu (``numbered_menu``), answered by
its number or its words. Texts are cut under 2,000 UTF-16 units (with a margin); files (the
digest's workbook and chart) cannot be sent, so they are announced in words instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

import httpx
from aiohttp import web

from bot.app.config import ConfigError
from bot.channels.base import (
    ChannelDown,
    Receiver,
    Rejected,
    Suspect,
    TemporaryFailure,
    Throttled,
    numbered_menu,
    split_text,
    utf16_length,
)
from bot.i18n import _
from bot.messages import MAX_FILE_BYTES, Attachment, Incoming, Reply
from bot.ratelimit import Limits, Pacer

log = logging.getLogger(__name__)

CHANNEL = "zalo"
TEXT_LIMIT = 1900  # UTF-16 units per message: Zalo takes 2,000; a margin for how it counts
SECRET_HEADER = "X-Bot-Api-Secret-Token"
MIN_SECRET, MAX_SECRET = 8, 256  # what Zalo takes as a secret_token
STORE_WAIT = 10.0  # seconds a webhook call waits for its event to be stored before a 503
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


class ZaloDown(ZaloError):
    """No connection could be made (refused, DNS, the network): nothing reached Zalo."""

    def __init__(self, description: str) -> None:
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
        except httpx.ConnectTimeout:
            raise ZaloDown(f"{method}: ConnectTimeout") from None
        except httpx.TimeoutException:
            raise ZaloTimeout(f"{method} timed out") from None
        except httpx.ConnectError as error:
            raise ZaloDown(f"{method}: {type(error).__name__}") from None
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
    web_page: bool = False  # the web page is served: a file's note points there


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
    if not message.get("message_id"):
        log.warning("zalo: an event without a message id (%s): applied, never deduplicated", name)
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
            caption = message.get("caption")
            text = caption if isinstance(caption, str) else ""
            return replace(base, kind="photo", text=text, attachments=(attachment,))
    if name == "message.unsupported.received":
        return replace(base, unreadable=True)
    # A sticker, a voice note, a video…: "other", with what it was.
    what = name.removeprefix("message.").removesuffix(".received")
    return replace(base, detail=what if what != name else "")


class ZaloChannel:
    name = CHANNEL
    takes_files = False  # files are announced in words

    def __init__(self, options: ZaloOptions, receiver: Receiver) -> None:
        check_webhook(options)
        self.options = options
        self.receiver = receiver
        self.client = ZaloClient(options.token, options.api_url)
        self.pacer = Pacer(options.limits or Limits(rate=options.rate_limit))
        self.ready = False
        self._poller: asyncio.Task[None] | None = None
        self._runner: web.AppRunner | None = None

    # -- receiving ----------------------------------------------------------------------

    async def connect(self) -> None:
        """Check the token (``getMe``), then serve the webhook or start polling. Raises
        ``ConfigError`` when Zalo refuses the token or the webhook, ``ChannelDown`` when it
        cannot be reached or answers with its own trouble (the caller tries again)."""
        try:
            me = await self.client.call("getMe")
        except ZaloError as error:
            raise self._connect_error(error) from None
        log.info("zalo: bot %s", (me or {}).get("account_name", "?"))
        if self.options.webhook_url:
            await self._start_webhook()
        else:
            await self._stop_webhook()
            self._poller = asyncio.create_task(self._poll(), name="zalo-poll")
        self.ready = True

    @staticmethod
    def _connect_error(error: ZaloError) -> Exception:
        if error.code == 401:
            return ConfigError(
                _("Zalo từ chối token: kiểm tra lại ZALO_BOT_TOKEN (lấy từ Zalo Bot Creator).")
            )
        return ChannelDown(str(error))

    async def _stop_webhook(self) -> None:
        """Polling and a webhook exclude each other: remove a webhook left set. Zalo answers
        404 or 400 when none was ever set: that is logged, not an error."""
        try:
            await self.client.call("deleteWebhook")
        except ZaloDown as error:
            raise ChannelDown(str(error)) from None
        except ZaloError as error:
            log.info("zalo: no webhook to remove (%s)", error)

    async def _poll(self) -> None:
        """Poll, hand each event to the inbox without waiting for it, and poll again at once:
        Zalo drops what arrives while no poll is open."""
        failures = 0
        timeout = self.options.poll_timeout
        while True:
            try:
                event = await self.client.call(
                    "getUpdates", {"timeout": str(timeout)}, read_timeout=timeout + 10, retry=False
                )
            except asyncio.CancelledError:
                raise
            except ZaloTimeout:
                continue  # the long poll outlived its read timeout: poll again
            except ZaloError as error:
                if error.code == NO_UPDATE:
                    failures = 0
                    continue
                failures += 1
                pause = min(2.0**failures, 60.0)
                if failures == 1 or failures % 20 == 0:
                    log.warning(
                        "zalo: getUpdates failed (%s); trying again (%s failure%s so far)",
                        error,
                        failures,
                        "" if failures == 1 else "s",
                    )
                await asyncio.sleep(pause)
                continue
            if failures:
                log.info("zalo: getUpdates works again")
            failures = 0
            incoming = incoming_from_event(event) if event else None
            if incoming is not None:
                self.receiver.receive(incoming)  # stored while the next poll is open

    async def _start_webhook(self) -> None:
        options = self.options
        assert options.webhook_url
        try:
            await self.client.call(
                "setWebhook",
                {"url": options.webhook_url, "secret_token": options.webhook_secret or ""},
            )
        except ZaloError as error:
            if error.code in (400, 401):
                raise ConfigError(
                    _("Zalo không nhận webhook {url}: {error}").format(
                        url=options.webhook_url, error=error.description
                    )
                ) from None
            raise ChannelDown(str(error)) from None
        if self._runner is None:
            path = "/" + options.webhook_url.rstrip("/").rsplit("/", 1)[-1]
            app = web.Application(client_max_size=MAX_BODY)
            app.router.add_post(path, self._on_webhook)
            self._runner = web.AppRunner(app, access_log=None)
            await self._runner.setup()
            site = web.TCPSite(self._runner, options.webhook_listen, options.webhook_port)
            await site.start()
        log.info("zalo: webhook on port %s", options.webhook_port)

    async def _on_webhook(self, request: web.Request) -> web.Response:
        """200 only once the event is stored: Zalo sends again what is not acknowledged."""
        expected = self.options.webhook_secret or ""
        given = request.headers.get(SECRET_HEADER, "")
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            return web.Response(status=403, text="forbidden")
        try:
            body = await request.json()
        except ValueError:
            return web.Response(status=400, text="not JSON")
        incoming = incoming_from_event(body)
        if incoming is None:
            return web.Response(status=200, text="ignored")
        stored = self.receiver.receive(incoming)
        try:
            await asyncio.wait_for(asyncio.shield(stored), STORE_WAIT)
        except TimeoutError:
            return web.Response(status=503, text="not stored yet")
        return web.Response(status=200, text="ok")

    async def fetch(self, incoming: Incoming) -> Incoming:
        """The photo downloaded from its URL (too large or unreachable: left without it)."""
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
        self.ready = False
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
        if self._runner is not None:
            await self._runner.cleanup()
        await self.client.close()

    # -- sending ------------------------------------------------------------------------

    def parts(self, replies: list[Reply]) -> list[Any]:
        """Texts under 2,000 UTF-16 units; files become a line saying where to find them."""
        found: list[Any] = []
        for reply in replies:
            found.extend(split_text(numbered_menu(reply), TEXT_LIMIT, utf16_length))
            if reply.files:
                if self.options.web_page:
                    note = _(
                        "(Tin này có kèm {count} tệp (ảnh, bảng tính hoặc biểu đồ). Zalo không "
                        "nhận tệp: bảng tính, biểu đồ và ảnh của đề cử có trên trang web của "
                        "thidua (gõ /web); ảnh khác thì xem trên Telegram nếu bạn có dùng.)"
                    )
                else:
                    note = _(
                        "(Tin này có kèm {count} tệp (ảnh, bảng tính hoặc biểu đồ). Zalo không "
                        "nhận tệp: xem chúng trên Telegram nếu bạn có dùng, hoặc nhờ cán bộ xã "
                        "xuất bằng lệnh thidua export.)"
                    )
                found.append(note.format(count=len(reply.files)))
        return found

    async def send_part(self, chat_id: str, part: Any) -> None:
        await self.pacer.wait(chat_id)
        try:
            await self.client.call(
                "sendMessage", {"chat_id": chat_id, "text": str(part)}, retry=False
            )
        except ZaloDown as error:
            raise ChannelDown(error.description) from error
        except ZaloTimeout as error:
            raise TemporaryFailure(error.description) from error
        except ZaloError as error:
            if error.code == 429:  # "Quota exceeded", with no retry_after
                raise Throttled(error.description or "429") from error
            if error.code == 403:  # Zalo's "Internal server error"
                raise Suspect(error.description or "403") from error
            if error.code == 401:
                raise ChannelDown(error.description or "401") from error
            if error.code == 0 or error.code >= 500:
                raise TemporaryFailure(error.description) from error
            raise Rejected(error.description) from error


def check_webhook(options: ZaloOptions) -> None:
    """Refuse, before calling Zalo, a webhook Zalo would refuse: an address that is not
    HTTPS, a secret of other than 8–256 characters."""
    if not options.webhook_url:
        return
    parts = urlsplit(options.webhook_url)
    if parts.scheme != "https" or not parts.hostname:
        raise ConfigError(
            _(
                "ZALO_WEBHOOK_URL phải là một địa chỉ HTTPS công khai, ví dụ "
                "https://ten-mien/zalo-thidua, không phải “{url}”."
            ).format(url=options.webhook_url)
        )
    secret = options.webhook_secret or ""
    if not MIN_SECRET <= len(secret) <= MAX_SECRET:
        raise ConfigError(
            _(
                "ZALO_WEBHOOK_URL cần đi kèm ZALO_WEBHOOK_SECRET: một chuỗi bí mật từ {n} "
                "đến {m} ký tự."
            ).format(n=MIN_SECRET, m=MAX_SECRET)
        )
