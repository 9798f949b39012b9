# ruff: noqa: ASYNC109  (the waiting helpers take a per-call `timeout`, like the tests expect)
"""A Zalo Bot API stand-in for end-to-end tests.

``ZaloApiStandIn`` is a small aiohttp server on 127.0.0.1 that speaks enough of the Zalo Bot
API (``POST {base_url}/bot{token}/{method}`` with a JSON body) for a real HTTP client to run
long polling (``getUpdates``) or a webhook against it.  Every request is recorded in
``requests``; whatever a real API would refuse is appended to ``violations`` and answered the
way the real API answers (``{"ok": false, "error_code": N, "description": ...}`` with HTTP
status ``N``).

What counts as a violation: a non-POST request, a body that is not a JSON object, an unknown
method, a missing/mistyped/unknown parameter, an empty or too long (> 2,000 UTF-16 units)
text, a chat id that is not one of Zalo's (20 hexadecimal digits), an unknown chat action, a
webhook URL or secret the real API would not take.  Not violations (a bot meets them in normal
life): a wrong token (401), ``getUpdates`` while a webhook is set (409), "nothing new" (408),
``deleteWebhook`` (404) or ``getWebhookInfo`` (400) when no webhook is set, flood control
(429) and failures injected with ``fail_next`` (Zalo documents 403 as "Internal server error"
and answers 429 "Quota exceeded" without a ``retry_after``).

As Zalo warns, polling misses events: an event pushed while no ``getUpdates`` is open waits
``drop_after`` seconds for one (a real network's latency) and is then dropped, recorded in
``dropped``.  Zalo has no offsets: an event handed to a poll is gone from the queue.

``ZaloUser`` plays a person in a private chat with the bot: it sends text, image, sticker and
unsupported events (queued for ``getUpdates``, or POSTed to the webhook when one is set) and
waits for the bot's replies.  In polling mode it first waits for the bot to have a
``getUpdates`` open (``open_polls > 0``), since a person's message only reaches a bot that is
polling; the raw ``push`` does not wait (and so can lose an event, as Zalo does).

The stand-in can be stopped and started again on the same port (``LocalApi``), to play Zalo
being unreachable for a while.

Stand-in allowances, not the real API: the webhook URL the bot registers (HTTPS, as Zalo
demands) is reached through ``route_webhook`` (a reverse proxy to a local port, as in front
of a real bot), ``getUpdates`` waits at most ``poll_cap`` seconds (default 1) whatever
``timeout`` asks, and an empty POST body counts as ``{}``.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import mimetypes
import re
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from types import EllipsisType
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp
from aiohttp import web

from tests.standin.server import LocalApi

JSONDict = dict[str, Any]

#: The longest text (and caption) ``sendMessage``/``sendPhoto`` take, in UTF-16 code units.
MAX_TEXT = 2000
SECRET_HEADER = "X-Bot-Api-Secret-Token"
SECRET_MIN, SECRET_MAX = 8, 256
CHAT_ACTIONS = frozenset({"typing", "upload_photo"})
#: ``getUpdates`` timeout (seconds) when the request gives none.
DEFAULT_POLL_TIMEOUT = 30
#: The sliding window of ``ZaloApiStandIn.rate``, in seconds.
RATE_WINDOW = 1.0
#: Methods whose names start with this count toward ``rate``.
RATE_LIMITED_PREFIX = "send"
#: How long the stand-in waits for the bot's webhook to answer a POST.
WEBHOOK_TIMEOUT = 10.0

TEXT_EVENT = "message.text.received"
IMAGE_EVENT = "message.image.received"
STICKER_EVENT = "message.sticker.received"
UNSUPPORTED_EVENT = "message.unsupported.received"

#: Parameters per method: name -> required.  Every parameter is a string.
METHOD_PARAMS: dict[str, dict[str, bool]] = {
    "getMe": {},
    "getUpdates": {"timeout": False},
    "setWebhook": {"url": True, "secret_token": True},
    "deleteWebhook": {},
    "getWebhookInfo": {},
    "sendMessage": {"chat_id": True, "text": True},
    "sendPhoto": {"chat_id": True, "photo": True, "caption": False},
    "sendSticker": {"chat_id": True, "sticker": True},
    "sendChatAction": {"chat_id": True, "action": True},
}

#: A Zalo user (and private chat) id: 20 lowercase hexadecimal digits.
ZALO_ID = re.compile(r"^[0-9a-f]{20}$")


def zalo_id(seed: str | int) -> str:
    """A Zalo user id (20 lowercase hexadecimal digits), the same for the same seed."""
    return hashlib.sha256(str(seed).encode()).hexdigest()[:20]


def utf16_len(text: str) -> int:
    """The length of ``text`` in UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


_FAKE_JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64 + b"\xff\xd9"


def _now_ms() -> int:
    return int(time.time() * 1000)


# --------------------------------------------------------------------------------------------
# Public records
# --------------------------------------------------------------------------------------------


@dataclass
class ApiRequest:
    """One Bot API call received by the stand-in (``status`` is the HTTP status answered)."""

    method: str
    params: JSONDict
    time: float
    http_method: str = "POST"
    status: int = 200


@dataclass
class SentMessage:
    """Something the bot sent to a chat (``content`` is what ``messages_to`` lists)."""

    method: str
    chat_id: str
    message_id: str
    date: int
    content: JSONDict


@dataclass
class WebhookPost:
    """One POST of an event to the bot's webhook.

    ``url`` is the webhook URL set by the bot and ``target`` where the POST went (through
    ``route_webhook``; empty when it had nowhere to go on this machine).  ``secret`` is the
    ``X-Bot-Api-Secret-Token`` header sent (``None``: none); ``status`` is the bot's HTTP
    answer, 0 when there was none (refused connection, timeout, no route), with ``error``.
    """

    url: str
    body: JSONDict
    secret: str | None
    time: float
    status: int = 0
    error: str | None = None
    target: str = ""


# --------------------------------------------------------------------------------------------
# Internals
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Issue:
    message: str
    fatal: bool = True
    description: str = "Bad Request: invalid request"


class _ApiError(Exception):
    def __init__(self, code: int, description: str, *, violation: str | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.violation = violation


@dataclass
class _Failure:
    error_code: int
    description: str


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return f"boolean {value!r}"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if value is None:
        return "null"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _summary(content: JSONDict) -> str:
    for key in ("text", "caption", "photo", "sticker", "action"):
        if key in content:
            value = content[key]
            text = repr(value)
            return text if len(text) <= 80 else text[:77] + "..."
    return repr(content)


def _message_id_of(event: JSONDict) -> Any:
    message = event.get("message")
    return message.get("message_id") if isinstance(message, dict) else None


class ZaloApiStandIn(LocalApi):
    """A fake Zalo Bot API server for one bot token.

    ``rate`` (``None``: off; may be changed at any time): at most this many ``send*`` requests
    that passed validation in any sliding second; one past it is answered ``429 Too Many
    Requests``, counts toward nothing and is appended to ``flood_rejections``.

    ``drop_after`` (seconds, default 1.0; ``None``: never): how long an event pushed for
    polling waits for a ``getUpdates`` before it is dropped into ``dropped``.  ``open_polls``
    is how many ``getUpdates`` requests are waiting right now.  ``port`` (0: a free one) is
    where it serves, kept across ``stop``/``start``.
    """

    def __init__(
        self,
        token: str = "1234567890:zalo-test-token",
        *,
        rate: int | None = None,
        port: int = 0,
    ) -> None:
        super().__init__(port)
        self.token = token
        head = token.split(":", 1)[0]
        self.bot_id = head if head else "1234567890"
        self.account_name = "bot.thidua"
        self.poll_cap: float = 1.0
        self.rate: int | None = rate
        #: How long a pushed event waits for a poll before it is dropped (None: forever).
        self.drop_after: float | None = 1.0
        self.dropped: list[JSONDict] = []
        #: ``getUpdates`` requests waiting right now.
        self.open_polls = 0

        self.requests: list[ApiRequest] = []
        self.violations: list[str] = []
        self.flood_rejections: list[ApiRequest] = []
        self.sent: list[SentMessage] = []
        self.chat_actions: list[JSONDict] = []
        self.webhook_posts: list[WebhookPost] = []
        self.pushed: list[JSONDict] = []
        self.downloads: list[str] = []
        self.files: dict[str, bytes] = {}
        self.webhook_url: str = ""
        self.webhook_secret: str = ""
        self.webhook_updated_at: int = _now_ms()

        self._users: dict[str, ZaloUser] = {}
        self._outbox: dict[str, list[JSONDict]] = {}
        self._queue: deque[tuple[float, JSONDict]] = deque()
        self._failures: dict[str, list[_Failure]] = {}
        self._rate_sent: deque[float] = deque()
        self._session: aiohttp.ClientSession | None = None
        self._push_tasks: set[asyncio.Task[int]] = set()

        self._handlers: dict[str, Callable[[JSONDict], Any]] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendSticker": self._send_sticker,
            "sendChatAction": self._send_chat_action,
        }

    # ---- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/files/{name}", self._handle_file)
        await self._serve(app)

    async def stop(self) -> None:
        """Stop serving: pending long polls end (408), webhook pushes still running are
        cancelled."""
        self._closed = True
        self._notify()
        for task in list(self._push_tasks):
            task.cancel()
        if self._push_tasks:
            await asyncio.gather(*self._push_tasks, return_exceptions=True)
        await self._unserve()
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def base_url(self) -> str:
        """The bare base URL; the bot appends ``/bot{token}/{method}``."""
        return f"http://127.0.0.1:{self.port}"

    def api_url(self, method: str) -> str:
        return f"{self.base_url}/bot{self.token}/{method}"

    # ---- test-facing API -----------------------------------------------------------------

    def user(self, user_id: str, display_name: str = "Người dùng") -> ZaloUser:
        """The simulated person ``user_id`` (the same object on every call)."""
        user_id = str(user_id)
        existing = self._users.get(user_id)
        if existing is not None:
            return existing
        sim = ZaloUser(self, user_id, display_name)
        self._users[user_id] = sim
        return sim

    def add_file(self, name: str, data: bytes) -> str:
        """Serve ``data`` at ``GET /files/<name>``; returns that URL."""
        self.files[name] = data
        return f"{self.base_url}/files/{quote(name, safe='')}"

    def push(self, event: JSONDict) -> None:
        """Queue ``event`` for ``getUpdates`` (dropped if no poll takes it within
        ``drop_after``), or, while a webhook is set, POST it there in the background (its
        outcome lands in ``webhook_posts``)."""
        payload = copy.deepcopy(event)
        self.pushed.append(copy.deepcopy(payload))
        if self.webhook_url:
            task = asyncio.get_running_loop().create_task(self.post_to_webhook(payload))
            self._push_tasks.add(task)
            task.add_done_callback(self._push_tasks.discard)
        else:
            self._queue.append((time.monotonic(), payload))
            if self.drop_after is not None:
                asyncio.get_running_loop().call_later(self.drop_after + 0.001, self._expire)
        self._notify()

    def _expire(self) -> None:
        """Drop the queued events no poll took in time."""
        if self.drop_after is None:
            return
        limit = time.monotonic() - self.drop_after
        while self._queue and self._queue[0][0] <= limit:
            self.dropped.append(self._queue.popleft()[1])
        self._notify()

    def deliver_again(self, event: JSONDict) -> None:
        """The same event once more (same ``message_id``), as a server re-delivering it."""
        self.push(event)

    def pending_events(self) -> list[JSONDict]:
        """Events queued for ``getUpdates`` and not handed out yet."""
        return [copy.deepcopy(event) for _at, event in self._queue]

    async def post_to_webhook(
        self,
        event: JSONDict,
        *,
        wrapped: bool = False,
        secret: str | EllipsisType | None = ...,
    ) -> int:
        """POST ``event`` to the webhook now; returns the bot's HTTP status (0: no answer).

        The POST goes where ``route_webhook`` sends the webhook URL (an unrouted URL off this
        machine is not reached: status 0 with an ``error``).  ``wrapped`` sends
        ``{"ok": true, "result": event}``; ``secret`` is the header value (``...``: the one
        given to ``setWebhook``, ``None``: no header at all).
        """
        if not self.webhook_url:
            raise AssertionError("no webhook is set (the bot has not called setWebhook)")
        body: JSONDict = {"ok": True, "result": event} if wrapped else event
        body = copy.deepcopy(body)
        value = self.webhook_secret if isinstance(secret, EllipsisType) else secret
        headers = {"Content-Type": "application/json"}
        if value is not None:
            headers[SECRET_HEADER] = value
        target = self._route(self.webhook_url)
        post = WebhookPost(self.webhook_url, body, value, time.monotonic(), target=target or "")
        if target is None:
            post.error = (
                f"no route to {self.webhook_url}: the stand-in reaches only 127.0.0.1 "
                "(call route_webhook)"
            )
            self.webhook_posts.append(post)
            self._notify()
            return 0
        if self._session is None:
            self._session = aiohttp.ClientSession()
        try:
            async with self._session.post(
                target,
                data=json.dumps(body, ensure_ascii=False).encode("utf-8"),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=WEBHOOK_TIMEOUT),
            ) as response:
                await response.read()
                post.status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            post.error = f"{type(exc).__name__}: {exc}"
        self.webhook_posts.append(post)
        self._notify()
        return post.status

    def fail_next(self, method: str, error_code: int, description: str) -> None:
        """Answer the next ``method`` request with this error (it changes nothing and does not
        count toward ``rate``), e.g. ``fail_next("sendMessage", 403, "Forbidden")``."""
        if method not in METHOD_PARAMS:
            raise ValueError(f"{method!r} is not a simulated Zalo Bot API method")
        self._failures.setdefault(method, []).append(_Failure(error_code, description))

    def messages_to(self, chat_id: str) -> list[JSONDict]:
        """What the bot sent to ``chat_id``, in order: ``{"text": ...}``,
        ``{"photo": ..., "caption": ...}``, ``{"sticker": ...}``."""
        return copy.deepcopy(self._outbox.get(str(chat_id), []))

    def calls(self, method: str) -> list[ApiRequest]:
        return [r for r in self.requests if r.method == method]

    async def wait_messages(
        self, chat_id: str, count: int, since: int = 0, timeout: float = 5.0
    ) -> list[JSONDict]:
        """The messages to ``chat_id`` after the first ``since``, once there are ``count``."""
        key = str(chat_id)
        reached = await self.wait_until(
            lambda: len(self._outbox.get(key, ())) - since >= count, timeout
        )
        got = self.messages_to(key)[since:]
        if not reached:
            raise AssertionError(
                f"expected {count} message(s) to chat {key} within {timeout}s, got "
                f"{len(got)}: {[_summary(m) for m in got]}; violations: {self.violations}; "
                f"events dropped (no poll within drop_after): {len(self.dropped)}; "
                f"recent calls: {self._recent_calls()}"
            )
        return got

    # ---- internals used by ZaloUser ------------------------------------------------------

    def _new_message_id(self) -> str:
        return f"{self._next_id():06x}{secrets.token_hex(7)}"

    def _recent_calls(self) -> list[str]:
        calls = [r for r in self.requests if r.method != "getUpdates"][-8:]
        return [f"{r.method} {r.status} {_summary(r.params)}" for r in calls]

    # ---- HTTP ----------------------------------------------------------------------------

    @staticmethod
    def _reply(status: int, payload: JSONDict) -> web.Response:
        return web.json_response(
            payload, status=status, dumps=lambda obj: json.dumps(obj, ensure_ascii=False)
        )

    @classmethod
    def _error(cls, code: int, description: str) -> web.Response:
        return cls._reply(code, {"ok": False, "error_code": code, "description": description})

    async def _handle_api(self, request: web.Request) -> web.Response:
        record = ApiRequest(
            method=request.match_info["method"],
            params={},
            time=time.monotonic(),
            http_method=request.method,
        )
        self.requests.append(record)
        if record.method != "getUpdates":
            self._last_activity = record.time
        response: web.Response | None = None
        try:
            if request.match_info["token"] != self.token:
                response = self._error(401, "Unauthorized")
            else:
                response = await self._dispatch(request, record)
            return response
        finally:
            record.status = response.status if response is not None else 499
            if record.method != "getUpdates":
                self._last_activity = time.monotonic()
            self._notify()

    async def _dispatch(self, request: web.Request, record: ApiRequest) -> web.Response:
        method = record.method
        if request.method != "POST":
            self.violations.append(f"{method}: sent with HTTP {request.method}, not POST")
            return self._error(400, "Bad Request: only POST is supported")
        if method not in self._handlers:
            self.violations.append(f"{method}: no such Zalo Bot API method")
            return self._error(404, "Not Found: method not found")
        raw = await request.read()
        params: Any = {}
        if raw.strip():
            try:
                params = json.loads(raw)
            except ValueError:
                self.violations.append(
                    f"{method}: body is not JSON (Content-Type {request.content_type!r})"
                )
                return self._error(400, "Bad Request: body is not valid JSON")
        if not isinstance(params, dict):
            self.violations.append(f"{method}: body is {_kind(params)}, not a JSON object")
            return self._error(400, "Bad Request: body must be a JSON object")
        record.params = params

        issues = self._validate(method, params)
        for issue in issues:
            self.violations.append(f"{method}: {issue.message}")

        queued = self._failures.get(method)
        if queued:
            failure = queued.pop(0)
            return self._error(failure.error_code, failure.description)

        fatal = next((issue for issue in issues if issue.fatal), None)
        if fatal is not None:
            return self._error(400, fatal.description)

        if self._flood_rejected(method):
            self.flood_rejections.append(record)
            return self._error(429, "Too Many Requests")

        try:
            result = await self._handlers[method](params)
        except _ApiError as exc:
            if exc.violation:
                self.violations.append(f"{method}: {exc.violation}")
            return self._error(exc.code, exc.description)
        except Exception as exc:
            self.violations.append(f"{method}: the stand-in failed: {exc!r}")
            return self._error(500, f"Internal Server Error: {exc!r}")
        return self._reply(200, {"ok": True, "result": result})

    def _flood_rejected(self, method: str) -> bool:
        if self.rate is None or not method.startswith(RATE_LIMITED_PREFIX):
            return False
        now = time.monotonic()
        while self._rate_sent and self._rate_sent[0] <= now - RATE_WINDOW:
            self._rate_sent.popleft()
        if len(self._rate_sent) >= self.rate:
            return True
        self._rate_sent.append(now)
        return False

    async def _handle_file(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        data = self.files.get(name)
        if data is None:
            return web.Response(status=404, text="Not Found")
        self.downloads.append(name)
        self._notify()
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return web.Response(body=data, content_type=content_type)

    # ---- validation ----------------------------------------------------------------------

    def _validate(self, method: str, params: JSONDict) -> list[_Issue]:
        spec = METHOD_PARAMS[method]
        issues: list[_Issue] = []
        for name, value in params.items():
            if name not in spec:
                issues.append(
                    _Issue(f"unknown parameter {name!r} (not a field of {method})", fatal=False)
                )
                continue
            if value is None and not spec[name]:
                continue
            if isinstance(value, str):
                continue
            if name == "timeout" and isinstance(value, int) and not isinstance(value, bool):
                issues.append(
                    _Issue(f"timeout must be a string of seconds, got {value!r}", fatal=False)
                )
                continue
            issues.append(
                _Issue(
                    f"parameter {name!r} must be a string, got {_kind(value)}",
                    description=f"Bad Request: {name} must be a string",
                )
            )
        for name, required in spec.items():
            if required and params.get(name) is None:
                issues.append(
                    _Issue(
                        f"missing required parameter {name!r}",
                        description=f"Bad Request: {name} is required",
                    )
                )
        if any(issue.fatal for issue in issues):
            return issues
        return issues + self._semantic_checks(method, params)

    @staticmethod
    def _semantic_checks(method: str, params: JSONDict) -> list[_Issue]:
        issues: list[_Issue] = []
        chat_id = params.get("chat_id")
        if isinstance(chat_id, str) and not chat_id.strip():
            issues.append(_Issue("chat_id is empty", description="Bad Request: chat_id is empty"))
        elif isinstance(chat_id, str) and not ZALO_ID.match(chat_id):
            issues.append(
                _Issue(
                    f"chat_id {chat_id!r} is not a Zalo id (20 hexadecimal digits)",
                    description="Bad Request: invalid chat_id",
                )
            )
        for name in ("text", "caption"):
            value = params.get(name)
            if not isinstance(value, str):
                continue
            if name == "text" and not value.strip():
                issues.append(
                    _Issue(
                        "text is empty" if not value else "text is only whitespace",
                        description="Bad Request: text is empty",
                    )
                )
            elif utf16_len(value) > MAX_TEXT:
                issues.append(
                    _Issue(
                        f"{name} is {utf16_len(value)} UTF-16 units (maximum {MAX_TEXT})",
                        description=f"Bad Request: {name} is too long",
                    )
                )
        if method == "sendPhoto" and isinstance(params.get("photo"), str):
            photo = urlsplit(params["photo"])
            if photo.scheme not in ("http", "https") or not photo.netloc:
                issues.append(
                    _Issue(
                        f"photo must be an http(s) URL, got {_kind(params['photo'])}",
                        description="Bad Request: photo must be a URL",
                    )
                )
        if method == "sendSticker" and params.get("sticker") == "":
            issues.append(_Issue("sticker is empty", description="Bad Request: sticker is empty"))
        if method == "sendChatAction" and params.get("action") not in CHAT_ACTIONS:
            issues.append(
                _Issue(
                    f"unknown chat action {params.get('action')!r} "
                    f"(valid: {', '.join(sorted(CHAT_ACTIONS))})",
                    description="Bad Request: invalid action",
                )
            )
        if method == "getUpdates":
            timeout = params.get("timeout")
            if isinstance(timeout, str) and not timeout.strip().isdigit():
                issues.append(
                    _Issue(
                        f"timeout must be a whole number of seconds, got {timeout!r}",
                        description="Bad Request: invalid timeout",
                    )
                )
        if method == "setWebhook":
            url = params.get("url")
            if isinstance(url, str):
                parts = urlsplit(url)
                if not parts.netloc or parts.scheme != "https":
                    issues.append(
                        _Issue(
                            f"webhook url must be an https URL, got {url!r}",
                            description="Bad Request: url must be an HTTPS URL",
                        )
                    )
            secret = params.get("secret_token")
            if isinstance(secret, str) and not SECRET_MIN <= len(secret) <= SECRET_MAX:
                issues.append(
                    _Issue(
                        f"secret_token is {len(secret)} characters "
                        f"(allowed {SECRET_MIN}-{SECRET_MAX})",
                        description="Bad Request: invalid secret_token",
                    )
                )
        return issues

    # ---- method implementations ----------------------------------------------------------

    async def _get_me(self, params: JSONDict) -> JSONDict:
        return {
            "id": self.bot_id,
            "account_name": self.account_name,
            "account_type": "BASIC",
            "can_join_groups": False,
        }

    async def _get_updates(self, params: JSONDict) -> JSONDict:
        if self.webhook_url:
            raise _ApiError(409, "Conflict: webhook is active")
        raw = params.get("timeout")
        asked = float(str(raw).strip()) if raw is not None else float(DEFAULT_POLL_TIMEOUT)
        deadline = time.monotonic() + min(asked, self.poll_cap)
        self.open_polls += 1
        self._notify()
        try:
            while True:
                self._expire()
                if self._queue:
                    return self._queue.popleft()[1]
                remaining = deadline - time.monotonic()
                if self._closed or remaining <= 0:
                    raise _ApiError(408, "Request timeout")
                event = self._changed
                try:
                    await asyncio.wait_for(event.wait(), remaining)
                except TimeoutError:
                    pass
        finally:
            self.open_polls -= 1

    async def _set_webhook(self, params: JSONDict) -> JSONDict:
        self.webhook_url = params["url"]
        self.webhook_secret = params["secret_token"]
        self.webhook_updated_at = _now_ms()
        return {"url": self.webhook_url, "updated_at": self.webhook_updated_at}

    async def _delete_webhook(self, params: JSONDict) -> JSONDict:
        if not self.webhook_url:
            raise _ApiError(404, "Not Found: no webhook is set")
        self.webhook_url = ""
        self.webhook_secret = ""
        self.webhook_updated_at = _now_ms()
        return {"url": "", "updated_at": self.webhook_updated_at}

    async def _get_webhook_info(self, params: JSONDict) -> JSONDict:
        if not self.webhook_url:
            raise _ApiError(400, "Bad Request: no webhook is set")
        return {"url": self.webhook_url, "updated_at": self.webhook_updated_at}

    def _store(self, method: str, params: JSONDict) -> JSONDict:
        chat_id = params["chat_id"]
        content = {k: v for k, v in params.items() if k != "chat_id" and v is not None}
        message_id = self._new_message_id()
        date = _now_ms()
        self.sent.append(SentMessage(method, chat_id, message_id, date, copy.deepcopy(content)))
        self._outbox.setdefault(chat_id, []).append(content)
        return {"message_id": message_id, "date": date}

    async def _send_message(self, params: JSONDict) -> JSONDict:
        return self._store("sendMessage", params)

    async def _send_photo(self, params: JSONDict) -> JSONDict:
        return self._store("sendPhoto", params)

    async def _send_sticker(self, params: JSONDict) -> JSONDict:
        return self._store("sendSticker", params)

    async def _send_chat_action(self, params: JSONDict) -> bool:
        self.chat_actions.append(copy.deepcopy(params))
        return True


class ZaloUser:
    """A person in a private chat with the bot (the chat id is the user id)."""

    def __init__(self, standin: ZaloApiStandIn, user_id: str, display_name: str) -> None:
        self.standin = standin
        self.id = user_id
        self.chat_id = user_id
        self.display_name = display_name
        self.last_event: JSONDict | None = None

    @property
    def messages(self) -> list[JSONDict]:
        """Everything the bot sent to this chat."""
        return self.standin.messages_to(self.chat_id)

    # ---- building events (nothing is sent) ------------------------------------------------

    def event(self, event_name: str, **content: Any) -> JSONDict:
        """An event from this person with a fresh ``message_id``."""
        message: JSONDict = {
            "from": {"id": self.id, "display_name": self.display_name, "is_bot": False},
            "chat": {"id": self.chat_id, "chat_type": "PRIVATE"},
            "message_id": self.standin._new_message_id(),
            "date": _now_ms(),
            **content,
        }
        return {"event_name": event_name, "message": message}

    def text_event(self, text: str) -> JSONDict:
        return self.event(TEXT_EVENT, text=text)

    def image_event(self, photo_url: str, caption: str | None = None) -> JSONDict:
        content: JSONDict = {"photo_url": photo_url}
        if caption is not None:
            content["caption"] = caption
        return self.event(IMAGE_EVENT, **content)

    def sticker_event(self, sticker: str = "bfe458bf64fa8da4d4eb") -> JSONDict:
        return self.event(STICKER_EVENT, sticker=sticker)

    def unsupported_event(self) -> JSONDict:
        return self.event(UNSUPPORTED_EVENT)

    # ---- sending ---------------------------------------------------------------------------

    async def send_event(
        self, event: JSONDict, replies: int = 1, timeout: float = 5.0
    ) -> list[JSONDict]:
        """Deliver ``event`` (webhook POST if a webhook is set, else the polling queue) and
        wait for ``replies`` messages to this chat; ``replies=0`` waits until the bot took
        the event and went quiet.

        In polling mode the event is pushed only once the bot has a ``getUpdates`` open
        (waiting for one up to ``timeout``; AssertionError if none opens), since a person's
        message reaches only a bot that is polling and would otherwise be dropped after
        ``drop_after``.
        """
        standin = self.standin
        deadline = time.monotonic() + timeout
        since = len(standin.messages_to(self.chat_id))
        self.last_event = copy.deepcopy(event)
        if standin.webhook_url:
            standin.pushed.append(copy.deepcopy(event))
            status = await standin.post_to_webhook(event)
            if not 200 <= status < 300:
                error = standin.webhook_posts[-1].error if standin.webhook_posts else None
                raise AssertionError(
                    f"the bot's webhook {standin.webhook_url} answered {status or error!r} "
                    f"to {event['event_name']}"
                )
        else:
            if not await standin.wait_until(lambda: standin.open_polls > 0, timeout):
                raise AssertionError(
                    f"the bot was not polling (no getUpdates open) within {timeout}s, so "
                    f"{event['event_name']} would not reach it"
                )
            standin.push(event)
            if replies <= 0:
                message_id = _message_id_of(event)
                taken = await standin.wait_until(
                    lambda: all(_message_id_of(e) != message_id for _at, e in standin._queue),
                    max(deadline - time.monotonic(), 0.0),
                )
                if not taken:
                    raise AssertionError(
                        f"the bot did not fetch event {message_id} within {timeout}s"
                    )
        remaining = max(deadline - time.monotonic(), 0.0)
        if replies <= 0:
            await standin.idle(quiet=0.05, timeout=max(remaining, 0.1))
            return []
        return await standin.wait_messages(self.chat_id, replies, since, remaining)

    async def say(self, text: str, replies: int = 1, timeout: float = 5.0) -> list[JSONDict]:
        return await self.send_event(self.text_event(text), replies, timeout)

    async def send_photo(
        self,
        data: bytes = _FAKE_JPEG,
        replies: int = 1,
        caption: str | None = None,
        timeout: float = 5.0,
    ) -> list[JSONDict]:
        """Send an image: ``data`` is served by the stand-in at the event's ``photo_url``."""
        url = self.standin.add_file(f"photo-{self.standin._next_id()}.jpg", data)
        return await self.send_event(self.image_event(url, caption), replies, timeout)

    async def send_sticker(self, replies: int = 1, timeout: float = 5.0) -> list[JSONDict]:
        return await self.send_event(self.sticker_event(), replies, timeout)

    async def send_unsupported(self, replies: int = 1, timeout: float = 5.0) -> list[JSONDict]:
        return await self.send_event(self.unsupported_event(), replies, timeout)
