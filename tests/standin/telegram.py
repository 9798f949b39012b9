# ruff: noqa: ASYNC109  (the waiting helpers take a per-call `timeout`, like the tests expect)
"""A Telegram Bot API stand-in for end-to-end tests.

``BotApiStandIn`` is a small aiohttp server that speaks enough of the Bot API for the real
python-telegram-bot ``Application`` to run long polling against it (``base_url`` /
``base_file_url`` point at it).  Every request is checked against the published Bot API spec
(``api.min.json``); problems are appended to ``BotApiStandIn.violations`` and answered the way
the real API would answer them (usually ``400 Bad Request``).

``SimUser`` plays a person in a private chat with the bot: it pushes updates (text, button
presses, photos, stickers, voice notes, documents) and waits for the bot's replies.

Violations are protocol errors a bot must never make (a wrong type, an unknown parameter, a
text over 4,096 or a caption over 1,024 UTF-16 code units, as Telegram counts them, a
non-HTTPS webhook URL, answering an unknown callback query or one already answered).  What a
bot meets in normal life is answered like Telegram answers it and is no violation: a callback
query answered more than ``callback_ttl`` seconds after the press (400 "query is too old"),
``getUpdates`` while a webhook is set (409), flood control, injected failures.

Updates reach the bot by long polling or, after ``setWebhook``, by webhook: the stand-in
POSTs each update (JSON, with ``X-Telegram-Bot-Api-Secret-Token`` when a secret was set) to
the webhook URL, one at a time per chat in ``update_id`` order and at most
``max_connections`` at once, retrying every ``webhook_retry`` seconds until the bot answers
2xx; every attempt is recorded in ``webhook_posts``.  Telegram demands an HTTPS URL while the
bot serves plain HTTP behind a proxy: ``route_webhook`` plays that proxy.

Off by default, the stand-in also applies Telegram-like flood control (``global_rate``,
``chat_rate``, ``group_rate``: sliding windows over message-sending requests, answered
``429 Too Many Requests`` with ``retry_after``) and injects failures and slow answers on
request (``fail_next``, ``delay_next``).  It can be stopped and started again on the same
port (``LocalApi``) to play Telegram being unreachable for a while.
"""

from __future__ import annotations

import asyncio
import copy
import json
import math
import os
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from tests.standin.server import LocalApi

JSONDict = dict[str, Any]
_Handler = Callable[[JSONDict], Awaitable[Any]]

# The published Bot API spec, kept beside the stand-in (see spec/LICENSE) so that tests
# need no download and run from any checkout.
DEFAULT_SPEC_PATH = Path(__file__).resolve().parent / "spec" / "api.min.json"
SPEC_ENV_VAR = "TELEGRAM_API_SPEC"

#: Update types delivered when ``allowed_updates`` was never set (or set to an empty list).
DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_ANSWER = 200
MAX_CALLBACK_DATA_BYTES = 64

#: How long after a button press Telegram still takes ``answerCallbackQuery`` (default).
CALLBACK_TTL = 15.0
CALLBACK_TOO_OLD = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)

WEBHOOK_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
#: ``setWebhook``'s ``max_connections`` when not given, and its allowed range.
DEFAULT_MAX_CONNECTIONS = 40
MAX_CONNECTIONS_RANGE = (1, 100)
#: How long the stand-in waits for the bot's webhook to answer (default), in seconds.
WEBHOOK_TIMEOUT = 10.0
#: How long after a failed webhook POST the update is POSTed again (default), in seconds.
WEBHOOK_RETRY = 1.0
_SECRET_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")

#: Methods whose names start with these send, edit, copy or forward messages and so are subject
#: to flood control (``sendChatAction`` sends no message and is exempt).
FLOOD_LIMITED_PREFIXES = ("send", "edit", "copy", "forward")
FLOOD_EXEMPT_METHODS = frozenset({"sendChatAction"})
#: The sliding window of ``BotApiStandIn.global_rate``, in seconds.
GLOBAL_WINDOW = 1.0

_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)


def is_flood_limited(method: str) -> bool:
    """Whether ``method`` sends a message and so counts toward the flood-control windows."""
    return method.startswith(FLOOD_LIMITED_PREFIXES) and method not in FLOOD_EXEMPT_METHODS


def default_spec_path() -> Path:
    """The spec file: ``$TELEGRAM_API_SPEC`` if set, else the copy in ``spec/``."""
    env = os.environ.get(SPEC_ENV_VAR)
    return Path(env) if env else DEFAULT_SPEC_PATH


@lru_cache(maxsize=8)
def _load_spec(path: str) -> JSONDict:
    with open(path, encoding="utf-8") as fh:
        data: JSONDict = json.load(fh)
    return data


# --------------------------------------------------------------------------------------------
# Public records
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart/form-data request."""

    filename: str | None
    content_type: str | None
    size: int
    data: bytes = field(repr=False)


@dataclass
class ApiRequest:
    """One Bot API call received by the stand-in."""

    method: str
    params: JSONDict
    time: float
    http_method: str = "POST"
    status: int = 200


@dataclass
class WebhookPost:
    """One attempt to deliver an update to the bot's webhook.

    ``url`` is the webhook URL the bot set, ``target`` where the POST went (through
    ``route_webhook``; empty when it had nowhere to go on this machine); ``time`` is
    ``time.monotonic()`` when the attempt started.  ``status`` is the bot's HTTP answer, 0 when
    there was none (refused, timed out, no route), with ``error`` saying why (Telegram's words,
    as ``getWebhookInfo`` reports them).
    """

    url: str
    update_id: int
    status: int
    error: str | None
    time: float
    target: str = ""


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Issue:
    message: str
    fatal: bool = True
    error: str = "Bad Request: invalid request"


class _ApiError(Exception):
    def __init__(
        self,
        code: int,
        description: str,
        *,
        violation: str | None = None,
        parameters: JSONDict | None = None,
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.violation = violation
        self.parameters = parameters


_INT_RE = re.compile(r"-?\d+")


def _kind(value: Any) -> str:
    if isinstance(value, UploadedFile):
        return f"an uploaded file {value.filename!r}"
    if isinstance(value, bool):
        return f"boolean {value!r}"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class _Validator:
    """Checks parameter values against the ``types`` section of the Bot API spec."""

    PRIMITIVES = frozenset({"Integer", "Float", "Boolean", "String", "InputFile"})

    def __init__(self, spec: JSONDict) -> None:
        self.methods: dict[str, JSONDict] = spec["methods"]
        self.types: dict[str, JSONDict] = spec["types"]
        self._by_lower = {name.lower(): name for name in self.methods}

    def method_name(self, name: str) -> str | None:
        return self._by_lower.get(name.lower())

    @staticmethod
    def is_json_type(type_expr: str) -> bool:
        return type_expr.startswith("Array of ") or type_expr not in _Validator.PRIMITIVES

    # ---- nested (already JSON-decoded) values --------------------------------------------

    def check(self, value: Any, type_expr: str, path: str) -> list[_Issue]:
        if type_expr.startswith("Array of "):
            if not isinstance(value, list):
                return [_Issue(f"{path} must be an array ({type_expr}), got {_kind(value)}")]
            inner = type_expr[len("Array of ") :]
            issues: list[_Issue] = []
            for index, item in enumerate(value):
                issues += self.check(item, inner, f"{path}[{index}]")
            return issues
        ok: bool
        if type_expr == "Integer":
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif type_expr == "Float":
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        elif type_expr == "Boolean":
            ok = isinstance(value, bool)
        elif type_expr == "String":
            ok = isinstance(value, str)
        elif type_expr == "InputFile":
            ok = isinstance(value, UploadedFile | str)
        else:
            return self._check_object(value, type_expr, path)
        if ok:
            return []
        return [_Issue(f"{path} must be {type_expr}, got {_kind(value)}")]

    def check_union(self, value: Any, types: list[str], path: str) -> list[_Issue]:
        if len(types) == 1:
            return self.check(value, types[0], path)
        results = [self.check(value, t, path) for t in types]
        best = min(results, key=lambda issues: (sum(i.fatal for i in issues), len(issues)))
        if not any(i.fatal for i in best):
            return best
        if all(self.is_json_type(t) for t in types) and isinstance(value, dict | list):
            return best
        return [_Issue(f"{path} must be {' or '.join(types)}, got {_kind(value)}")]

    def _check_object(self, value: Any, type_name: str, path: str) -> list[_Issue]:
        spec = self.types.get(type_name)
        if spec is None:
            return []
        if spec.get("subtypes"):
            return self.check_union(value, list(spec["subtypes"]), path)
        if not isinstance(value, dict):
            return [_Issue(f"{path} must be a {type_name} object, got {_kind(value)}")]
        fields = spec.get("fields") or []
        if not fields:
            return []
        by_name = {f["name"]: f for f in fields}
        issues: list[_Issue] = []
        for key in value:
            if key not in by_name:
                issues.append(
                    _Issue(f"{path} has unknown field {key!r} (not in {type_name})", fatal=False)
                )
        for f in fields:
            name = f["name"]
            if name not in value:
                if f["required"]:
                    issues.append(
                        _Issue(
                            f"{path} is missing required field {name!r} of {type_name}",
                            error=f"Bad Request: can't parse {type_name}: field {name!r} missing",
                        )
                    )
                continue
            issues += self.check_union(value[name], list(f["types"]), f"{path}.{name}")
        issues += self._extra_object_checks(type_name, value, path)
        return issues

    @staticmethod
    def _extra_object_checks(type_name: str, value: JSONDict, path: str) -> list[_Issue]:
        issues: list[_Issue] = []
        if type_name == "InlineKeyboardButton":
            text = value.get("text")
            if not isinstance(text, str) or not text.strip():
                issues.append(
                    _Issue(
                        f"{path}: inline button text must be non-empty",
                        error="Bad Request: BUTTON_TEXT_INVALID",
                    )
                )
            actions = sorted(set(value) - {"text", "icon_custom_emoji_id", "style"})
            if len(actions) != 1:
                issues.append(
                    _Issue(
                        f"{path}: inline button {text!r} must have exactly one action field, "
                        f"has {actions or 'none'}",
                        error="Bad Request: text buttons are unallowed in the inline keyboard",
                    )
                )
            data = value.get("callback_data")
            if isinstance(data, str):
                size = len(data.encode("utf-8"))
                if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                    issues.append(
                        _Issue(
                            f"{path}: callback_data {data!r} is {size} bytes in UTF-8 "
                            f"(allowed 1-{MAX_CALLBACK_DATA_BYTES})",
                            error="Bad Request: BUTTON_DATA_INVALID",
                        )
                    )
        elif type_name == "KeyboardButton":
            text = value.get("text")
            if not isinstance(text, str) or not text.strip():
                issues.append(
                    _Issue(
                        f"{path}: keyboard button text must be non-empty",
                        error="Bad Request: BUTTON_TEXT_INVALID",
                    )
                )
        elif type_name == "BotCommand":
            command = value.get("command")
            if isinstance(command, str) and not re.fullmatch(r"[a-z0-9_]{1,32}", command):
                issues.append(
                    _Issue(
                        f"{path}: command {command!r} must be 1-32 characters of lowercase "
                        "English letters, digits and underscores",
                        error="Bad Request: BOT_COMMAND_INVALID",
                    )
                )
            description = value.get("description")
            if isinstance(description, str) and not 1 <= len(description) <= 256:
                issues.append(
                    _Issue(
                        f"{path}: command description must be 1-256 characters, "
                        f"got {len(description)}",
                        error="Bad Request: BOT_COMMAND_DESCRIPTION_INVALID",
                    )
                )
        return issues

    # ---- top-level request parameters (strings from forms, or JSON values) ----------------

    def decode_param(
        self,
        name: str,
        raw: Any,
        types: list[str],
        uploads: dict[str, UploadedFile],
    ) -> tuple[Any, list[_Issue]]:
        best: tuple[Any, list[_Issue]] | None = None
        parse_failures: list[str] = []
        for type_expr in types:
            ok, value, issues = self._decode_one(name, raw, type_expr, uploads)
            if not ok:
                parse_failures.append(type_expr)
                continue
            if not any(i.fatal for i in issues):
                return value, issues
            if best is None or sum(i.fatal for i in issues) < sum(i.fatal for i in best[1]):
                best = (value, issues)
        if best is not None:
            return best
        json_types = [t for t in types if self.is_json_type(t)]
        if json_types and len(json_types) == len(types):
            error = (
                "Bad Request: can't parse reply keyboard markup JSON object"
                if name == "reply_markup"
                else f"Bad Request: can't parse {name} JSON object"
            )
            kinds = " or ".join(types)
            return raw, [
                _Issue(
                    f"parameter {name!r} must be a JSON-serialized {kinds}, got {_kind(raw)}",
                    error=error,
                )
            ]
        return raw, [
            _Issue(
                f"parameter {name!r} must be {' or '.join(types)}, got {_kind(raw)}",
                error=f"Bad Request: invalid parameter {name!r}",
            )
        ]

    def _decode_one(
        self, name: str, raw: Any, type_expr: str, uploads: dict[str, UploadedFile]
    ) -> tuple[bool, Any, list[_Issue]]:
        if type_expr == "InputFile":
            if isinstance(raw, UploadedFile):
                return True, raw, []
            if isinstance(raw, str) and raw.startswith("attach://"):
                upload = uploads.get(raw[len("attach://") :])
                if upload is not None:
                    return True, upload, []
            return False, raw, []
        if isinstance(raw, UploadedFile):
            return False, raw, []
        if type_expr == "Integer":
            if isinstance(raw, str) and _INT_RE.fullmatch(raw.strip()):
                return True, int(raw), []
            if isinstance(raw, int) and not isinstance(raw, bool):
                return True, raw, []
            return False, raw, []
        if type_expr == "Float":
            if isinstance(raw, str):
                try:
                    number = float(raw)
                except ValueError:
                    return False, raw, []
                return number == number and abs(number) != float("inf"), number, []
            if isinstance(raw, int | float) and not isinstance(raw, bool):
                return True, float(raw), []
            return False, raw, []
        if type_expr == "Boolean":
            if isinstance(raw, bool):
                return True, raw, []
            if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
                return True, raw.strip().lower() == "true", []
            return False, raw, []
        if type_expr == "String":
            if isinstance(raw, str):
                return True, raw, []
            if isinstance(raw, int | float) and not isinstance(raw, bool):
                return True, str(raw), []
            return False, raw, []
        # A JSON-serialized object or array.
        value = raw
        if isinstance(raw, str):
            try:
                value = json.loads(raw)
            except ValueError:
                return False, raw, []
        want_array = type_expr.startswith("Array of ")
        if want_array and not isinstance(value, list):
            return False, raw, []
        if not want_array and not isinstance(value, dict):
            return False, raw, []
        return True, value, self.check(value, type_expr, name)


# --------------------------------------------------------------------------------------------
# Formatting (parse_mode) rendering and validation
# --------------------------------------------------------------------------------------------

_HTML_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "tg-emoji",
        "code",
        "pre",
        "blockquote",
        "tg-time",
    }
)
_HTML_TAG_RE = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)"
    r"((?:\s+[a-zA-Z_-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'>]+))?)*)\s*>"
)
_HTML_ENTITY_RE = re.compile(r"&(lt|gt|amp|quot|#\d+|#[xX][0-9a-fA-F]+);")
_HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_MD2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _render_html(text: str) -> tuple[str, str | None]:
    out: list[str] = []
    stack: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "<":
            match = _HTML_TAG_RE.match(text, i)
            if match is None:
                name = re.match(r"</?([^\s>]*)", text[i:])
                tag = name.group(1) if name else ""
                return "".join(out), (
                    f'Unsupported start tag "{tag}" at byte offset {_byte_offset(text, i)}'
                )
            closing, tag = match.group(1) == "/", match.group(2).lower()
            if tag not in _HTML_TAGS:
                kind = "end" if closing else "start"
                return "".join(out), (
                    f'Unsupported {kind} tag "{tag}" at byte offset {_byte_offset(text, i)}'
                )
            if closing:
                if not stack or stack[-1] != tag:
                    expected = f'"</{stack[-1]}>"' if stack else "no end tag"
                    return "".join(out), (
                        f"Unmatched end tag at byte offset {_byte_offset(text, i)}, "
                        f'expected {expected}, found "</{tag}>"'
                    )
                stack.pop()
            else:
                stack.append(tag)
            i = match.end()
            continue
        if char == "&":
            match = _HTML_ENTITY_RE.match(text, i)
            if match is not None:
                entity = match.group(1)
                if entity in _HTML_NAMED:
                    out.append(_HTML_NAMED[entity])
                else:
                    number = entity[1:]
                    code = int(number[1:], 16) if number[:1] in "xX" else int(number)
                    out.append(chr(code) if 0 < code < 0x110000 else "\ufffd")
                i = match.end()
                continue
        out.append(char)
        i += 1
    if stack:
        return "".join(out), f'Can\'t find end tag corresponding to start tag "{stack[-1]}"'
    return "".join(out), None


def _find_unescaped(text: str, needle: str, start: int) -> int:
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text.startswith(needle, i):
            return i
        i += 1
    return -1


def _unescape_md2(text: str) -> str:
    return re.sub(r"\\([\x01-\x7e])", r"\1", text)


def _render_markdown_v2(text: str) -> tuple[str, str | None]:
    out: list[str] = []
    stack: list[str] = []
    i = 0
    n = len(text)

    def reserved(char: str, index: int) -> tuple[str, str]:
        return "".join(out), (
            f"Character '{char}' is reserved and must be escaped with the preceding '\\' "
            f"(byte offset {_byte_offset(text, index)})"
        )

    def toggle(kind: str) -> None:
        if stack and stack[-1] == kind:
            stack.pop()
        else:
            stack.append(kind)

    while i < n:
        char = text[i]
        at_line_start = i == 0 or text[i - 1] == "\n"
        if char == "\\":
            if i + 1 < n and 0 < ord(text[i + 1]) < 127:
                out.append(text[i + 1])
                i += 2
            else:
                out.append(char)
                i += 1
            continue
        if char == "`":
            if text.startswith("```", i):
                end = _find_unescaped(text, "```", i + 3)
                if end < 0:
                    return "".join(out), "Can't find end of Pre entity"
                body = text[i + 3 : end]
                first, newline, rest = body.partition("\n")
                if newline and re.fullmatch(r"[\w+#.-]*", first):
                    body = rest
                out.append(_unescape_md2(body))
                i = end + 3
            else:
                end = _find_unescaped(text, "`", i + 1)
                if end < 0:
                    return "".join(out), "Can't find end of Code entity"
                out.append(_unescape_md2(text[i + 1 : end]))
                i = end + 1
            continue
        if at_line_start and text.startswith("**>", i):
            i += 3
            continue
        if at_line_start and char == ">":
            i += 1
            continue
        if char in "*~":
            toggle(char)
            i += 1
            continue
        if char == "_":
            if stack and stack[-1] == "_":
                stack.pop()
                i += 1
            elif text.startswith("__", i):
                toggle("__")
                i += 2
            else:
                toggle("_")
                i += 1
            continue
        if char == "|":
            if text.startswith("||", i):
                toggle("||")
                i += 2
                continue
            return reserved(char, i)
        if char == "[" or (char == "!" and text.startswith("![", i)):
            stack.append("[")
            i += 1 if char == "[" else 2
            continue
        if char == "]":
            if not stack or stack[-1] != "[":
                return reserved(char, i)
            stack.pop()
            if i + 1 < n and text[i + 1] == "(":
                end = _find_unescaped(text, ")", i + 2)
                if end < 0:
                    return "".join(out), "Can't find end of a URL"
                i = end + 1
            else:
                i += 1
            continue
        if char in _MD2_RESERVED:
            return reserved(char, i)
        out.append(char)
        i += 1
    if stack:
        names = {
            "*": "Bold",
            "_": "Italic",
            "__": "Underline",
            "~": "Strikethrough",
            "||": "Spoiler",
            "[": "TextUrl",
        }
        return "".join(out), f"Can't find end of {names.get(stack[-1], 'an')} entity"
    return "".join(out), None


def _render_markdown(text: str) -> tuple[str, str | None]:
    out: list[str] = []
    open_entity: tuple[str, int] | None = None
    i = 0
    n = len(text)
    while i < n:
        char = text[i]
        if char == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            out.append(text[i + 1])
            i += 2
            continue
        if open_entity is None and char == "`":
            fence = "```" if text.startswith("```", i) else "`"
            end = text.find(fence, i + len(fence))
            if end < 0:
                return "".join(out), (
                    f"Can't find end of the entity starting at byte offset {_byte_offset(text, i)}"
                )
            out.append(text[i + len(fence) : end])
            i = end + len(fence)
            continue
        if char in "*_":
            if open_entity is None:
                open_entity = (char, i)
            elif open_entity[0] == char:
                open_entity = None
            else:
                out.append(char)
            i += 1
            continue
        if open_entity is None and char == "[":
            close = text.find("](", i + 1)
            end = text.find(")", close + 2) if close >= 0 else -1
            if close < 0 or end < 0:
                return "".join(out), (
                    f"Can't find end of the entity starting at byte offset {_byte_offset(text, i)}"
                )
            out.append(text[i + 1 : close])
            i = end + 1
            continue
        out.append(char)
        i += 1
    if open_entity is not None:
        return "".join(out), (
            "Can't find end of the entity starting at byte offset "
            f"{_byte_offset(text, open_entity[1])}"
        )
    return "".join(out), None


def render_text(text: str, parse_mode: str | None) -> tuple[str, str | None]:
    """Return (text after entity parsing, parse error or None) for a given ``parse_mode``."""
    mode = (parse_mode or "").lower()
    if not mode:
        return text, None
    if mode == "html":
        return _render_html(text)
    if mode == "markdownv2":
        return _render_markdown_v2(text)
    if mode == "markdown":
        return _render_markdown(text)
    return text, f"Unsupported parse_mode {parse_mode!r}"


# --------------------------------------------------------------------------------------------
# State
# --------------------------------------------------------------------------------------------


@dataclass(eq=False)
class _Pending:
    update_id: int
    update: JSONDict
    forced: bool = False
    #: Webhook mode: a POST of it is under way / not to be tried again before this time.
    in_flight: bool = False
    retry_at: float = 0.0


@dataclass
class _ChatState:
    chat: JSONDict
    next_message_id: int = 1
    messages: dict[int, JSONDict] = field(default_factory=dict)
    bot_message_ids: list[int] = field(default_factory=list)
    content: dict[int, tuple[Any, ...]] = field(default_factory=dict)


@dataclass
class _Failure:
    error_code: int
    description: str
    retry_after: int | None
    chat_id: int | str | None = None


@dataclass
class _Delay:
    seconds: float
    chat_id: int | str | None = None


def _chat_matches(wanted: int | str | None, params: JSONDict) -> bool:
    """Whether a request with ``params`` goes to chat ``wanted`` (``None`` matches any)."""
    return wanted is None or str(params.get("chat_id")) == str(wanted)


def _is_group(chat_id: int | str) -> bool:
    """Groups, supergroups and channels have negative ids (``@username`` targets are channels)."""
    return isinstance(chat_id, str) or chat_id < 0


def _update_type(update: JSONDict) -> str:
    for key in update:
        if key != "update_id":
            return key
    return ""


def _update_chat(update: JSONDict) -> tuple[str, Any]:
    """What webhook deliveries serialise on: the update's chat, else its sender, else itself."""
    body = update.get(_update_type(update))
    if isinstance(body, dict):
        message = body.get("message")
        chat = body.get("chat") or (message.get("chat") if isinstance(message, dict) else None)
        if isinstance(chat, dict) and "id" in chat:
            return ("chat", chat["id"])
        sender = body.get("from")
        if isinstance(sender, dict) and "id" in sender:
            return ("user", sender["id"])
    return ("update", update.get("update_id"))


def _summary(params: JSONDict) -> str:
    for key in ("text", "caption"):
        if key in params:
            return repr(params[key])
    for key in ("document", "photo"):
        if key in params:
            value = params[key]
            if isinstance(value, UploadedFile):
                return f"[{key} {value.filename!r}, {value.size} bytes]"
            return f"[{key} {value!r}]"
    return repr(params)


class BotApiStandIn(LocalApi):
    """A fake ``api.telegram.org`` for one bot token, validated against the Bot API spec.

    Flood control (all off when ``None``; the attributes may be changed at any time) applies to
    message-sending methods (see ``is_flood_limited``) that pass validation:

    * ``global_rate``: at most this many such requests in any sliding 1-second window;
    * ``chat_rate``: ``(count, seconds)``, at most ``count`` per chat in any ``seconds`` window;
    * ``group_rate``: the same, additionally, for chats with a negative id (groups).

    A request past a limit is answered ``429 Too Many Requests: retry after N`` with
    ``parameters.retry_after = N`` (whole seconds until the window frees, at least 1), does not
    count toward any window, and is appended to ``flood_rejections``.

    ``callback_ttl`` (seconds, default 15): a callback query answered later than this after
    the press is answered 400 "query is too old ...", recorded in ``expired_callback_answers``
    and not a violation.

    Webhook (after ``setWebhook``): ``webhook_url``, ``webhook_secret``,
    ``webhook_max_connections`` (default 40) as set by the bot; ``webhook_timeout`` (default
    10 s) and ``webhook_retry`` (default 1 s) may be changed at any time; ``webhook_posts``
    records every delivery attempt, ``webhook_last_error`` the last failure as
    ``(unix time, message)``.

    ``port`` (0: a free one) is where it serves, kept across ``stop``/``start``.
    """

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        bot_username: str = "thidua_test_bot",
        spec_path: Path | None = None,
        *,
        global_rate: int | None = None,
        chat_rate: tuple[int, float] | None = None,
        group_rate: tuple[int, float] | None = None,
        port: int = 0,
    ) -> None:
        super().__init__(port)
        self.token = token
        self.bot_username = bot_username
        self.bot_first_name = "Thi đua"
        head = token.split(":", 1)[0]
        self.bot_id = int(head) if head.isdigit() else 123456
        self.spec_path = spec_path or default_spec_path()
        self._validator = _Validator(_load_spec(str(self.spec_path)))

        self.requests: list[ApiRequest] = []
        self.violations: list[str] = []
        self.files: dict[str, bytes] = {}
        self.callback_answers: dict[str, JSONDict] = {}
        self.chat_actions: list[JSONDict] = []
        self.commands: dict[str, list[JSONDict]] = {}
        self.webhook_url: str = ""
        self.webhook_secret: str | None = None
        self.webhook_max_connections: int = DEFAULT_MAX_CONNECTIONS
        self.webhook_timeout: float = WEBHOOK_TIMEOUT
        self.webhook_retry: float = WEBHOOK_RETRY
        self.webhook_posts: list[WebhookPost] = []
        self.webhook_last_error: tuple[int, str] | None = None
        self.callback_ttl: float = CALLBACK_TTL
        #: Query ids answered after ``callback_ttl`` (each refused with "query is too old").
        self.expired_callback_answers: list[str] = []
        self.global_rate: int | None = global_rate
        self.chat_rate: tuple[int, float] | None = chat_rate
        self.group_rate: tuple[int, float] | None = group_rate
        self.flood_rejections: list[ApiRequest] = []

        self._users: dict[int, SimUser] = {}
        self._chats: dict[int | str, _ChatState] = {}
        self._outbox: dict[int | str, list[JSONDict]] = {}
        self._pending: list[_Pending] = []
        self._history: dict[int, JSONDict] = {}
        self._next_update_id = 1
        self._allowed_updates: frozenset[str] | None = None
        self._poll_seq = 0
        self._failures: dict[str, list[_Failure]] = {}
        self._delays: dict[str, list[_Delay]] = {}
        self._global_sent: deque[float] = deque()
        self._chat_sent: dict[int | str, deque[float]] = {}
        self._callbacks: dict[str, bool] = {}
        self._callback_pressed: dict[str, float] = {}
        self._session: aiohttp.ClientSession | None = None
        self._deliveries: set[asyncio.Task[None]] = set()
        self._pump_handle: asyncio.TimerHandle | None = None
        self._file_paths: dict[str, str] = {}
        self._file_meta: dict[str, JSONDict] = {}

        self._handlers: dict[str, _Handler] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "sendChatAction": self._send_chat_action,
            "sendDocument": self._send_document,
            "sendPhoto": self._send_photo,
            "getFile": self._get_file,
        }

    # ---- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Serve on ``port``; with a webhook set, deliveries of pending updates resume."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        await self._serve(app)
        self._pump()

    async def stop(self) -> None:
        """Stop serving: pending long polls end, webhook deliveries under way are cancelled
        (their updates stay pending)."""
        self._closed = True
        self._notify()
        if self._pump_handle is not None:
            self._pump_handle.cancel()
            self._pump_handle = None
        for task in list(self._deliveries):
            task.cancel()
        if self._deliveries:
            await asyncio.gather(*self._deliveries, return_exceptions=True)
        await self._unserve()
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    @property
    def bot_user(self) -> JSONDict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    # ---- test-facing API -----------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str = "Người dùng",
        last_name: str | None = None,
        language_code: str = "vi",
    ) -> SimUser:
        existing = self._users.get(user_id)
        if existing is not None:
            return existing
        sim = SimUser(self, user_id, first_name, last_name, language_code)
        self._users[user_id] = sim
        return sim

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue ``update`` (``update_id`` added when missing) for ``getUpdates``, or, while a
        webhook is set, for delivery to it; returns its ``update_id``."""
        payload = copy.deepcopy(update)
        update_id = payload.get("update_id")
        if update_id is None:
            update_id = self._next_update_id
            payload = {"update_id": update_id, **payload}
        update_id = int(update_id)
        self._next_update_id = max(self._next_update_id, update_id + 1)
        self._history[update_id] = copy.deepcopy(payload)
        query = payload.get("callback_query")
        if isinstance(query, dict) and isinstance(query.get("id"), str):
            # Telegram knows the query from its creation; callback_ttl runs from here.
            self._callbacks.setdefault(query["id"], False)
            self._callback_pressed.setdefault(query["id"], time.monotonic())
        self._pending.append(_Pending(update_id, payload))
        self._notify()
        self._pump()
        return update_id

    def deliver_again(self, update_id: int) -> None:
        """Hand update ``update_id`` to the bot once more (past ``offset``), as Telegram does
        when it is not sure the bot got it."""
        if update_id not in self._history:
            raise AssertionError(f"update {update_id} was never pushed")
        self._pending.append(
            _Pending(update_id, copy.deepcopy(self._history[update_id]), forced=True)
        )
        self._notify()
        self._pump()

    def fail_next(
        self,
        method: str,
        error_code: int,
        description: str,
        retry_after: int | None = None,
        *,
        chat_id: int | str | None = None,
    ) -> None:
        """Answer the next ``method`` request (to ``chat_id`` only, if given) with an error.

        E.g. ``fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")`` or
        ``fail_next("sendMessage", 502, "Bad Gateway")``.  The failed request changes nothing
        and does not count toward flood control.
        """
        name = self._method_name(method)
        self._failures.setdefault(name, []).append(
            _Failure(error_code, description, retry_after, chat_id)
        )

    def delay_next(self, method: str, seconds: float, chat_id: int | str | None = None) -> None:
        """Answer the next ``method`` request (to ``chat_id`` only, if given) ``seconds`` late.

        The request is handled at once (a message is stored, as when a real send succeeded but
        its response was slow); only the HTTP answer waits, so a client with a shorter read
        timeout gives up while the message exists.
        """
        name = self._method_name(method)
        self._delays.setdefault(name, []).append(_Delay(seconds, chat_id))

    def _method_name(self, method: str) -> str:
        name = self._validator.method_name(method)
        if name is None:
            raise ValueError(f"{method!r} is not a Bot API method")
        return name

    def add_file(self, file_id: str, data: bytes) -> None:
        self.files[file_id] = data

    def messages_to(self, chat_id: int | str) -> list[JSONDict]:
        return list(self._outbox.get(chat_id, ()))

    def bot_messages(self, chat_id: int | str) -> list[JSONDict]:
        """Current state (after edits, without deleted ones) of the bot's messages in a chat."""
        state = self._chats.get(chat_id)
        if state is None:
            return []
        return [copy.deepcopy(state.messages[mid]) for mid in state.bot_message_ids]

    def last_bot_message(self, chat_id: int | str) -> JSONDict | None:
        messages = self.bot_messages(chat_id)
        return messages[-1] if messages else None

    def calls(self, method: str) -> list[ApiRequest]:
        return [r for r in self.requests if r.method.lower() == method.lower()]

    def sent_times(self, method: str = "sendMessage") -> list[float]:
        """``time.monotonic()`` arrival times of the ``method`` requests answered 200 OK."""
        return [r.time for r in self.calls(method) if r.status == 200]

    def pending_updates(self) -> list[int]:
        """The ``update_id`` of every update not confirmed yet (by a later ``offset`` or a
        2xx webhook answer), sorted."""
        return sorted(entry.update_id for entry in self._pending)

    async def wait_messages(
        self, chat_id: int | str, count: int, since: int = 0, timeout: float = 5.0
    ) -> list[JSONDict]:
        reached = await self.wait_until(
            lambda: len(self._outbox.get(chat_id, ())) - since >= count, timeout
        )
        got = self.messages_to(chat_id)[since:]
        if not reached:
            raise AssertionError(
                f"expected {count} message(s) to chat {chat_id} within {timeout}s, got "
                f"{len(got)}: {[_summary(m) for m in got]}; violations: {self.violations}; "
                f"recent calls: {self._recent_calls()}"
            )
        return got

    async def wait_calls(
        self, method: str, count: int = 1, since: int = 0, timeout: float = 5.0
    ) -> list[ApiRequest]:
        reached = await self.wait_until(lambda: len(self.calls(method)) - since >= count, timeout)
        got = self.calls(method)[since:]
        if not reached:
            raise AssertionError(
                f"expected {count} {method} call(s) within {timeout}s, got {len(got)}; "
                f"violations: {self.violations}; recent calls: {self._recent_calls()}"
            )
        return got

    # ---- internals used by SimUser -------------------------------------------------------

    def _chat_state(self, chat_id: int | str) -> _ChatState:
        state = self._chats.get(chat_id)
        if state is None:
            state = _ChatState(chat=self._chat_object(chat_id))
            self._chats[chat_id] = state
        return state

    def _chat_object(self, chat_id: int | str) -> JSONDict:
        if isinstance(chat_id, str):
            name = chat_id.lstrip("@")
            fake_id = -1_000_000_000_000 - sum(name.encode("utf-8"))
            return {"id": fake_id, "type": "channel", "title": name, "username": name}
        sim = self._users.get(chat_id)
        if sim is not None:
            return sim.chat_object()
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": "Người dùng"}
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        return {"id": chat_id, "type": kind, "title": f"Nhóm {chat_id}"}

    def _user_message(self, sim: SimUser, content: JSONDict) -> JSONDict:
        state = self._chat_state(sim.chat_id)
        message_id = state.next_message_id
        state.next_message_id += 1
        message: JSONDict = {
            "message_id": message_id,
            "from": sim.user_object(),
            "chat": copy.deepcopy(state.chat),
            "date": int(time.time()),
            **content,
        }
        state.messages[message_id] = message
        return copy.deepcopy(message)

    def _is_confirmed(self, update_id: int) -> bool:
        return all(entry.update_id != update_id for entry in self._pending)

    def _recent_calls(self) -> list[str]:
        calls = [r for r in self.requests if r.method != "getUpdates"][-8:]
        return [f"{r.method} {r.status} {_summary(r.params)}" for r in calls]

    # ---- webhook delivery ----------------------------------------------------------------

    def _is_wanted(self, entry: _Pending) -> bool:
        """Whether the bot's ``allowed_updates`` take ``entry``'s kind of update."""
        kind = _update_type(entry.update)
        if self._allowed_updates is None:
            return kind not in DEFAULT_EXCLUDED_UPDATES
        return kind in self._allowed_updates

    def _pump(self) -> None:
        """While a webhook is set and the stand-in serves, start the POSTs that may go now:
        the first pending update of each chat, if none of that chat is under way and it is
        not waiting for a retry, up to ``webhook_max_connections`` at once; then come back
        when the next failed one is due."""
        if self._pump_handle is not None:
            self._pump_handle.cancel()
            self._pump_handle = None
        if not self.webhook_url or self._closed or self._runner is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._pending = [entry for entry in self._pending if self._is_wanted(entry)]
        now = time.monotonic()
        under_way = sum(entry.in_flight for entry in self._pending)
        chats: set[tuple[str, Any]] = set()
        next_retry: float | None = None
        for entry in sorted(self._pending, key=lambda e: e.update_id):
            chat = _update_chat(entry.update)
            if chat in chats:
                continue  # a chat's updates go one at a time, in update_id order
            chats.add(chat)
            if entry.in_flight:
                continue
            if entry.retry_at > now:
                next_retry = min(next_retry or entry.retry_at, entry.retry_at)
                continue
            if under_way >= self.webhook_max_connections:
                break
            entry.in_flight = True
            under_way += 1
            task = loop.create_task(self._deliver(entry))
            self._deliveries.add(task)
            task.add_done_callback(self._deliveries.discard)
        if next_retry is not None:
            self._pump_handle = loop.call_later(max(next_retry - now, 0.0), self._pump)

    async def _deliver(self, entry: _Pending) -> None:
        """POST ``entry`` to the webhook once, recorded in ``webhook_posts``: on a 2xx answer
        the update is confirmed (no longer pending); otherwise it is due again
        ``webhook_retry`` seconds later and the failure is ``webhook_last_error``."""
        url = self.webhook_url
        if not url:  # deleteWebhook came first: the update stays pending for getUpdates
            entry.in_flight = False
            return
        target = self._route(url)
        post = WebhookPost(url, entry.update_id, 0, None, time.monotonic(), target or "")
        try:
            if target is None:
                # Nothing beyond 127.0.0.1 is reached: an unrouted host is as good as unknown.
                post.error = "Failed to resolve host: Name or service not known"
            else:
                post.status, post.error = await self._post_update(target, entry.update)
        finally:
            entry.in_flight = False
        self.webhook_posts.append(post)
        if 200 <= post.status < 300:
            self._pending = [other for other in self._pending if other is not entry]
        else:
            self.webhook_last_error = (int(time.time()), post.error or "Unknown error")
            entry.retry_at = time.monotonic() + self.webhook_retry
        self._notify()
        self._pump()

    async def _post_update(self, target: str, update: JSONDict) -> tuple[int, str | None]:
        """POST ``update`` as JSON to ``target``: (HTTP status or 0, error message or None)."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        headers = {"Content-Type": "application/json"}
        if self.webhook_secret:
            headers[WEBHOOK_SECRET_HEADER] = self.webhook_secret
        try:
            async with self._session.post(
                target,
                data=json.dumps(update, ensure_ascii=False).encode("utf-8"),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.webhook_timeout),
                allow_redirects=False,
            ) as response:
                await response.read()
                status, reason = response.status, response.reason
        except TimeoutError:
            return 0, "Read timeout expired"
        except aiohttp.ClientConnectorError:
            return 0, "Connection refused"
        except aiohttp.ClientError as exc:
            return 0, f"Connection error: {type(exc).__name__}"
        if 200 <= status < 300:
            return status, None
        return status, f"Wrong response from the webhook: {status} {reason or ''}".rstrip()

    # ---- HTTP ----------------------------------------------------------------------------

    @staticmethod
    def _reply(status: int, payload: JSONDict) -> web.Response:
        return web.json_response(
            payload, status=status, dumps=lambda obj: json.dumps(obj, ensure_ascii=False)
        )

    @classmethod
    def _error(
        cls, code: int, description: str, parameters: JSONDict | None = None
    ) -> web.Response:
        payload: JSONDict = {"ok": False, "error_code": code, "description": description}
        if parameters:
            payload["parameters"] = parameters
        return cls._reply(code, payload)

    async def _read_params(self, request: web.Request) -> dict[str, Any]:
        raw: dict[str, Any] = dict(request.query)
        if not request.can_read_body:
            return raw
        content_type = request.content_type
        if content_type == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise _ApiError(400, "Bad Request: request body must be a JSON object")
            raw.update({key: value for key, value in body.items() if value is not None})
        elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    data = value.file.read()
                    raw[key] = UploadedFile(value.filename, value.content_type, len(data), data)
                else:
                    raw[key] = value
        else:
            body_bytes = await request.read()
            if body_bytes.strip():
                raise _ApiError(400, f"Bad Request: unsupported Content-Type {content_type!r}")
        return raw

    async def _handle_api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._error(401, "Unauthorized")
        asked = request.match_info["method"]
        name = self._validator.method_name(asked)
        record = ApiRequest(
            method=name or asked, params={}, time=time.monotonic(), http_method=request.method
        )
        self.requests.append(record)
        if record.method != "getUpdates":
            self._last_activity = record.time
        response: web.Response | None = None
        try:
            response, delay = await self._dispatch(request, record)
            if delay > 0:
                # The request is already handled; only the answer is late.
                record.status = response.status
                self._notify()
                await asyncio.sleep(delay)
            return response
        finally:
            record.status = response.status if response is not None else 499
            if record.method != "getUpdates":
                self._last_activity = time.monotonic()
            self._notify()

    async def _dispatch(
        self, request: web.Request, record: ApiRequest
    ) -> tuple[web.Response, float]:
        """The answer to ``request`` and how many seconds to hold it back (``delay_next``)."""
        try:
            raw = await self._read_params(request)
        except (_ApiError, ValueError) as exc:
            description = (
                exc.description if isinstance(exc, _ApiError) else "Bad Request: invalid JSON"
            )
            self.violations.append(f"{record.method}: unreadable request body ({description})")
            return self._error(400, description), 0.0
        record.params = dict(raw)
        method_spec = self._validator.methods.get(record.method)
        if method_spec is None:
            self.violations.append(f"{record.method}: no such Bot API method")
            return self._error(404, "Not Found: method not found"), 0.0

        params, issues = self._validate(record.method, method_spec, raw)
        record.params = params
        for issue in issues:
            self.violations.append(f"{record.method}: {issue.message}")
        delay = self._take_delay(record.method, params)
        return await self._answer(record, params, issues), delay

    def _take_delay(self, method: str, params: JSONDict) -> float:
        queued = self._delays.get(method, [])
        for index, delay in enumerate(queued):
            if _chat_matches(delay.chat_id, params):
                return queued.pop(index).seconds
        return 0.0

    def _take_failure(self, method: str, params: JSONDict) -> _Failure | None:
        queued = self._failures.get(method, [])
        for index, failure in enumerate(queued):
            if _chat_matches(failure.chat_id, params):
                return queued.pop(index)
        return None

    def _flood_wait(self, method: str, params: JSONDict) -> int | None:
        """Seconds to ``retry_after`` if flood control rejects the request; else count it."""
        if not is_flood_limited(method):
            return None
        now = time.monotonic()
        chat = params.get("chat_id")
        chat_sent: deque[float] | None = None
        limits: list[tuple[deque[float], int, float]] = []
        if self.global_rate is not None:
            limits.append((self._global_sent, self.global_rate, GLOBAL_WINDOW))
        if isinstance(chat, int | str):
            chat_sent = self._chat_sent.setdefault(chat, deque())
            if self.chat_rate is not None:
                limits.append((chat_sent, *self.chat_rate))
            if self.group_rate is not None and _is_group(chat):
                limits.append((chat_sent, *self.group_rate))
        wait: float | None = None
        for sent, count, seconds in limits:
            recent = [t for t in sent if t > now - seconds]
            if len(recent) >= count:
                # The window frees when enough of its oldest requests have left it.
                frees_at = recent[len(recent) - count] + seconds if count > 0 else now + seconds
                wait = max(wait or 0.0, frees_at - now)
        if wait is not None:
            return max(1, math.ceil(wait))
        longest = max(
            (limit[1] for limit in (self.chat_rate, self.group_rate) if limit is not None),
            default=0.0,
        )
        for sent, window in ((self._global_sent, GLOBAL_WINDOW), (chat_sent, longest)):
            if sent is None:
                continue
            sent.append(now)
            while sent and sent[0] <= now - window:
                sent.popleft()
        return None

    async def _answer(
        self, record: ApiRequest, params: JSONDict, issues: list[_Issue]
    ) -> web.Response:
        failure = self._take_failure(record.method, params)
        if failure is not None:
            parameters = (
                {"retry_after": failure.retry_after} if failure.retry_after is not None else None
            )
            return self._error(failure.error_code, failure.description, parameters)

        fatal = next((issue for issue in issues if issue.fatal), None)
        if fatal is not None:
            return self._error(400, fatal.error)

        retry_after = self._flood_wait(record.method, params)
        if retry_after is not None:
            self.flood_rejections.append(record)
            return self._error(
                429,
                f"Too Many Requests: retry after {retry_after}",
                {"retry_after": retry_after},
            )

        handler = self._handlers.get(record.method)
        if handler is None:
            self.violations.append(
                f"{record.method}: valid Bot API method, but the stand-in does not simulate it"
            )
            return self._error(501, f"Not Implemented: {record.method} is not simulated")
        try:
            result = await handler(params)
        except _ApiError as exc:
            if exc.violation:
                self.violations.append(f"{record.method}: {exc.violation}")
            return self._error(exc.code, exc.description, exc.parameters)
        except Exception as exc:
            self.violations.append(f"{record.method}: the stand-in failed: {exc!r}")
            return self._error(500, f"Internal Server Error: {exc!r}")
        return self._reply(200, {"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return self._error(401, "Unauthorized")
        file_id = self._file_paths.get(request.match_info["path"])
        if file_id is None or file_id not in self.files:
            return self._error(404, "Not Found")
        return web.Response(body=self.files[file_id], content_type="application/octet-stream")

    # ---- validation ----------------------------------------------------------------------

    def _validate(
        self, method: str, method_spec: JSONDict, raw: dict[str, Any]
    ) -> tuple[JSONDict, list[_Issue]]:
        fields: dict[str, JSONDict] = {f["name"]: f for f in method_spec.get("fields") or []}
        uploads = {k: v for k, v in raw.items() if isinstance(v, UploadedFile)}
        attached = {
            ref
            for value in raw.values()
            if isinstance(value, str)
            for ref in re.findall(r"attach://([\w.-]+)", value)
        }
        issues: list[_Issue] = []
        params: JSONDict = {}
        for name, value in raw.items():
            spec_field = fields.get(name)
            if spec_field is None:
                if isinstance(value, UploadedFile) and name in attached:
                    continue
                issues.append(
                    _Issue(f"unknown parameter {name!r} (not a field of {method})", fatal=False)
                )
                params[name] = value
                continue
            decoded, found = self._validator.decode_param(
                name, value, list(spec_field["types"]), uploads
            )
            params[name] = decoded
            issues += found
        for name, spec_field in fields.items():
            if spec_field["required"] and name not in raw:
                if name == "text":
                    error = "Bad Request: message text is empty"
                elif name == "chat_id":
                    error = "Bad Request: chat_id is empty"
                else:
                    error = f'Bad Request: parameter "{name}" is required'
                issues.append(_Issue(f"missing required parameter {name!r}", error=error))
        if not any(i.fatal for i in issues):
            issues += self._semantic_checks(method, params)
        return params, issues

    def _semantic_checks(self, method: str, params: JSONDict) -> list[_Issue]:
        issues: list[_Issue] = []
        parse_mode = params.get("parse_mode")
        if isinstance(parse_mode, str) and parse_mode.lower() not in (
            "html",
            "markdown",
            "markdownv2",
        ):
            issues.append(
                _Issue(
                    f"unsupported parse_mode {parse_mode!r}",
                    error=f"Bad Request: unsupported parse_mode {parse_mode!r}",
                )
            )
            return issues
        if method in ("sendMessage", "editMessageText") and isinstance(params.get("text"), str):
            plain, error = render_text(params["text"], parse_mode)
            if error:
                issues.append(
                    _Issue(
                        f"text cannot be parsed as {parse_mode}: {error}",
                        error=f"Bad Request: can't parse entities: {error}",
                    )
                )
            elif not plain.strip():
                issues.append(
                    _Issue(
                        "text is empty after entity parsing",
                        error="Bad Request: message text is empty",
                    )
                )
            elif _utf16_len(plain) > MAX_TEXT:
                issues.append(
                    _Issue(
                        f"text is {_utf16_len(plain)} UTF-16 code units (maximum {MAX_TEXT})",
                        error="Bad Request: message is too long",
                    )
                )
        if isinstance(params.get("caption"), str):
            plain, error = render_text(params["caption"], parse_mode)
            if error:
                issues.append(
                    _Issue(
                        f"caption cannot be parsed as {parse_mode}: {error}",
                        error=f"Bad Request: can't parse entities: {error}",
                    )
                )
            elif _utf16_len(plain) > MAX_CAPTION:
                issues.append(
                    _Issue(
                        f"caption is {_utf16_len(plain)} UTF-16 code units (maximum {MAX_CAPTION})",
                        error="Bad Request: message caption is too long",
                    )
                )
        if method == "answerCallbackQuery" and isinstance(params.get("text"), str):
            if len(params["text"]) > MAX_CALLBACK_ANSWER:
                issues.append(
                    _Issue(
                        f"text is {len(params['text'])} characters (maximum {MAX_CALLBACK_ANSWER})",
                        error="Bad Request: MESSAGE_TOO_LONG",
                    )
                )
        if method == "sendChatAction" and params.get("action") not in CHAT_ACTIONS:
            issues.append(
                _Issue(
                    f"unknown chat action {params.get('action')!r}",
                    error="Bad Request: wrong parameter action in request",
                )
            )
        if method == "setWebhook" and isinstance(params.get("url"), str) and params["url"]:
            parts = urlsplit(params["url"])
            if parts.scheme != "https" or not parts.netloc:
                issues.append(
                    _Issue(
                        f"webhook url must be an HTTPS URL, got {params['url']!r}",
                        error="Bad Request: bad webhook: HTTPS url must be provided for webhook",
                    )
                )
        if method == "setWebhook" and isinstance(params.get("secret_token"), str):
            if not _SECRET_TOKEN_RE.fullmatch(params["secret_token"]):
                issues.append(
                    _Issue(
                        "secret_token must be 1-256 characters of A-Z, a-z, 0-9, _ and -, got "
                        f"{_kind(params['secret_token'])}",
                        error="Bad Request: secret token contains unallowed characters",
                    )
                )
        if method == "setMyCommands" and isinstance(params.get("commands"), list):
            if len(params["commands"]) > 100:
                issues.append(
                    _Issue("more than 100 commands", error="Bad Request: too many commands")
                )
        if method.startswith("editMessage"):
            by_id = "chat_id" in params and "message_id" in params
            if not by_id and "inline_message_id" not in params:
                issues.append(
                    _Issue(
                        "needs chat_id and message_id, or inline_message_id",
                        error="Bad Request: message identifier is not specified",
                    )
                )
            if method == "editMessageText" and not ("text" in params or "rich_message" in params):
                issues.append(_Issue("needs text", error="Bad Request: text must be non-empty"))
        return issues

    # ---- method implementations ----------------------------------------------------------

    async def _get_me(self, params: JSONDict) -> JSONDict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        if self.webhook_url:
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset: int | None = params.get("offset")
        limit = min(max(int(params.get("limit", 100)), 1), 100)
        timeout = max(int(params.get("timeout", 0)), 0)
        if "allowed_updates" in params:
            allowed = params["allowed_updates"]
            self._allowed_updates = frozenset(allowed) if allowed else None
        self._poll_seq += 1
        my_seq = self._poll_seq
        self._notify()
        if offset is not None and offset < 0:
            self._pending.sort(key=lambda entry: entry.update_id)
            self._pending = self._pending[offset:]
            offset = None
        deadline = time.monotonic() + timeout
        while True:
            if self._closed:
                return []
            if my_seq != self._poll_seq:
                raise _ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one "
                    "bot instance is running",
                )
            batch = self._take_updates(offset, limit)
            remaining = deadline - time.monotonic()
            if batch or remaining <= 0:
                return batch
            event = self._changed
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                pass

    def _take_updates(self, offset: int | None, limit: int) -> list[JSONDict]:
        kept: list[_Pending] = []
        for entry in sorted(self._pending, key=lambda e: e.update_id):
            if offset is not None and entry.update_id < offset and not entry.forced:
                continue
            if not self._is_wanted(entry):
                continue
            kept.append(entry)
        self._pending = kept
        batch = kept[:limit]
        for entry in batch:
            entry.forced = False
        return [copy.deepcopy(entry.update) for entry in batch]

    async def _delete_webhook(self, params: JSONDict) -> bool:
        """Stop webhook deliveries (POSTs under way finish); pending updates stay for
        ``getUpdates`` unless ``drop_pending_updates``."""
        self.webhook_url = ""
        self.webhook_secret = None
        self.webhook_last_error = None
        if params.get("drop_pending_updates"):
            self._pending.clear()
        self._pump()
        return True

    async def _set_webhook(self, params: JSONDict) -> bool:
        """Deliver updates to ``url`` from now on (an empty ``url`` removes the webhook);
        delivery starts once this answer is on its way."""
        url = str(params.get("url", ""))
        if not url:
            return await self._delete_webhook(params)
        self.webhook_url = url
        self.webhook_secret = params.get("secret_token") or None
        low, high = MAX_CONNECTIONS_RANGE
        wanted = int(params.get("max_connections", DEFAULT_MAX_CONNECTIONS))
        self.webhook_max_connections = min(max(wanted, low), high)
        if "allowed_updates" in params:
            allowed = params["allowed_updates"]
            self._allowed_updates = frozenset(allowed) if allowed else None
        self.webhook_last_error = None
        if params.get("drop_pending_updates"):
            self._pending.clear()
        for entry in self._pending:
            entry.retry_at = 0.0
        asyncio.get_running_loop().call_soon(self._pump)
        return True

    async def _get_webhook_info(self, params: JSONDict) -> JSONDict:
        info: JSONDict = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self.webhook_url:
            info["max_connections"] = self.webhook_max_connections
            if self.webhook_last_error is not None:
                info["last_error_date"], info["last_error_message"] = self.webhook_last_error
        if self._allowed_updates is not None:
            info["allowed_updates"] = sorted(self._allowed_updates)
        return info

    @staticmethod
    def _commands_key(params: JSONDict) -> str:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps([scope, params.get("language_code", "")], sort_keys=True)

    async def _set_my_commands(self, params: JSONDict) -> bool:
        self.commands[self._commands_key(params)] = copy.deepcopy(params["commands"])
        return True

    async def _get_my_commands(self, params: JSONDict) -> list[JSONDict]:
        return copy.deepcopy(self.commands.get(self._commands_key(params), []))

    async def _delete_my_commands(self, params: JSONDict) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    def _check_reply_target(self, chat_key: int | str, params: JSONDict) -> None:
        reply = params.get("reply_parameters")
        if not isinstance(reply, dict) or "message_id" not in reply:
            return
        target_chat = reply.get("chat_id", chat_key)
        state = self._chats.get(target_chat)
        if state is None or reply["message_id"] not in state.messages:
            if not reply.get("allow_sending_without_reply"):
                raise _ApiError(400, "Bad Request: message to be replied not found")

    def _store_bot_message(
        self, chat_key: int | str, params: JSONDict, content: JSONDict, content_key: tuple[Any, ...]
    ) -> JSONDict:
        state = self._chat_state(chat_key)
        message_id = state.next_message_id
        state.next_message_id += 1
        message: JSONDict = {
            "message_id": message_id,
            "from": self.bot_user,
            "chat": copy.deepcopy(state.chat),
            "date": int(time.time()),
            **content,
        }
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = copy.deepcopy(markup)
        reply = params.get("reply_parameters")
        if isinstance(reply, dict):
            replied = state.messages.get(reply.get("message_id", -1))
            if replied is not None and reply.get("chat_id", chat_key) == chat_key:
                message["reply_to_message"] = copy.deepcopy(
                    {k: v for k, v in replied.items() if k != "reply_to_message"}
                )
        state.messages[message_id] = message
        state.bot_message_ids.append(message_id)
        state.content[message_id] = content_key
        self._outbox.setdefault(chat_key, []).append(copy.deepcopy(params))
        return copy.deepcopy(message)

    async def _send_message(self, params: JSONDict) -> JSONDict:
        chat_key = params["chat_id"]
        self._check_reply_target(chat_key, params)
        plain, _ = render_text(params["text"], params.get("parse_mode"))
        content: JSONDict = {"text": plain}
        if params.get("entities"):
            content["entities"] = copy.deepcopy(params["entities"])
        key = self._content_key(params, "text")
        return self._store_bot_message(chat_key, params, content, key)

    @staticmethod
    def _content_key(params: JSONDict, text_field: str) -> tuple[Any, ...]:
        return (
            params.get(text_field),
            params.get("parse_mode"),
            json.dumps(params.get("entities") or params.get("caption_entities"), sort_keys=True),
        )

    def _upload(self, params: JSONDict, name: str, prefix: str) -> tuple[str, int, JSONDict]:
        value = params[name]
        if isinstance(value, UploadedFile):
            file_id = f"{prefix}{self._next_id()}"
            self.files[file_id] = value.data
            meta: JSONDict = {}
            if value.filename:
                meta["file_name"] = value.filename
            if value.content_type:
                meta["mime_type"] = value.content_type
            self._file_meta[file_id] = meta
            return file_id, value.size, meta
        if value in self.files:
            return value, len(self.files[value]), dict(self._file_meta.get(value, {}))
        if re.match(r"https?://", value):
            return f"{prefix}{self._next_id()}", 0, {}
        raise _ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")

    def _media_content(self, params: JSONDict) -> JSONDict:
        content: JSONDict = {}
        if isinstance(params.get("caption"), str):
            content["caption"], _ = render_text(params["caption"], params.get("parse_mode"))
            if params.get("caption_entities"):
                content["caption_entities"] = copy.deepcopy(params["caption_entities"])
        return content

    async def _send_document(self, params: JSONDict) -> JSONDict:
        chat_key = params["chat_id"]
        self._check_reply_target(chat_key, params)
        file_id, size, meta = self._upload(params, "document", "BQACAgDOC")
        document = {"file_id": file_id, "file_unique_id": f"AgAD{file_id}", **meta}
        if size:
            document["file_size"] = size
        content = {"document": document, **self._media_content(params)}
        key = ("document", file_id, *self._content_key(params, "caption"))
        return self._store_bot_message(chat_key, params, content, key)

    async def _send_photo(self, params: JSONDict) -> JSONDict:
        chat_key = params["chat_id"]
        self._check_reply_target(chat_key, params)
        file_id, size, _ = self._upload(params, "photo", "AgACAgPHOTO")
        content = {"photo": _photo_sizes(file_id, size), **self._media_content(params)}
        key = ("photo", file_id, *self._content_key(params, "caption"))
        return self._store_bot_message(chat_key, params, content, key)

    def _editable(self, params: JSONDict) -> tuple[_ChatState, int, JSONDict]:
        if "inline_message_id" in params:
            raise _ApiError(
                400,
                "Bad Request: MESSAGE_ID_INVALID",
                violation="inline messages are not simulated by the stand-in",
            )
        state = self._chats.get(params["chat_id"])
        message_id = params["message_id"]
        if state is None or message_id not in state.messages:
            raise _ApiError(400, "Bad Request: message to edit not found")
        if message_id not in state.bot_message_ids:
            raise _ApiError(400, "Bad Request: message can't be edited")
        return state, message_id, state.messages[message_id]

    @staticmethod
    def _markup_key(markup: Any) -> str:
        return json.dumps(markup, sort_keys=True)

    def _apply_markup(self, message: JSONDict, params: JSONDict) -> None:
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and markup.get("inline_keyboard"):
            message["reply_markup"] = copy.deepcopy(markup)
        else:
            message.pop("reply_markup", None)

    async def _edit_message_text(self, params: JSONDict) -> JSONDict:
        if "text" not in params:
            raise _ApiError(
                400,
                "Bad Request: text must be non-empty",
                violation="rich_message edits are not simulated by the stand-in",
            )
        state, message_id, message = self._editable(params)
        if "text" not in message:
            raise _ApiError(400, "Bad Request: there is no text in the message to edit")
        new_key = self._content_key(params, "text")
        same_markup = self._markup_key(message.get("reply_markup")) == self._markup_key(
            params.get("reply_markup") or None
        )
        if state.content.get(message_id) == new_key and same_markup:
            raise _ApiError(400, _NOT_MODIFIED)
        message["text"], _ = render_text(params["text"], params.get("parse_mode"))
        message.pop("entities", None)
        if params.get("entities"):
            message["entities"] = copy.deepcopy(params["entities"])
        self._apply_markup(message, params)
        message["edit_date"] = int(time.time())
        state.content[message_id] = new_key
        return copy.deepcopy(message)

    async def _edit_message_caption(self, params: JSONDict) -> JSONDict:
        state, message_id, message = self._editable(params)
        if "text" in message:
            raise _ApiError(400, "Bad Request: there is no caption in the message to edit")
        old = state.content.get(message_id, ())
        new_key = (*old[:2], *self._content_key(params, "caption"))
        same_markup = self._markup_key(message.get("reply_markup")) == self._markup_key(
            params.get("reply_markup") or None
        )
        if old == new_key and same_markup:
            raise _ApiError(400, _NOT_MODIFIED)
        message.pop("caption", None)
        message.pop("caption_entities", None)
        message.update(self._media_content(params))
        self._apply_markup(message, params)
        message["edit_date"] = int(time.time())
        state.content[message_id] = new_key
        return copy.deepcopy(message)

    async def _edit_message_reply_markup(self, params: JSONDict) -> JSONDict:
        _, _, message = self._editable(params)
        if self._markup_key(message.get("reply_markup")) == self._markup_key(
            params.get("reply_markup") or None
        ):
            raise _ApiError(400, _NOT_MODIFIED)
        self._apply_markup(message, params)
        message["edit_date"] = int(time.time())
        return copy.deepcopy(message)

    async def _delete_message(self, params: JSONDict) -> bool:
        state = self._chats.get(params["chat_id"])
        message_id = params["message_id"]
        if state is None or message_id not in state.messages:
            raise _ApiError(400, "Bad Request: message to delete not found")
        del state.messages[message_id]
        if message_id in state.bot_message_ids:
            state.bot_message_ids.remove(message_id)
        return True

    async def _answer_callback_query(self, params: JSONDict) -> bool:
        """Answer a pressed button: an unknown query or a second answer is a violation; an
        answer more than ``callback_ttl`` seconds after the press is refused as Telegram
        refuses it, without a violation (a busy or restarting bot meets it)."""
        query_id = params["callback_query_id"]
        answered = self._callbacks.get(query_id)
        if answered is None or answered:
            problem = "answered twice" if answered else "unknown"
            raise _ApiError(
                400, CALLBACK_TOO_OLD, violation=f"callback query {query_id!r} is {problem}"
            )
        pressed = self._callback_pressed.get(query_id)
        if pressed is not None and time.monotonic() - pressed > self.callback_ttl:
            self.expired_callback_answers.append(query_id)
            raise _ApiError(400, CALLBACK_TOO_OLD)
        self._callbacks[query_id] = True
        self.callback_answers[query_id] = copy.deepcopy(params)
        return True

    async def _send_chat_action(self, params: JSONDict) -> bool:
        self.chat_actions.append(copy.deepcopy(params))
        return True

    async def _get_file(self, params: JSONDict) -> JSONDict:
        file_id = params["file_id"]
        if file_id not in self.files:
            raise _ApiError(400, "Bad Request: invalid file_id")
        path = next((p for p, f in self._file_paths.items() if f == file_id), None)
        if path is None:
            name = self._file_meta.get(file_id, {}).get("file_name") or "file"
            suffix = Path(name).suffix
            path = f"documents/file_{self._next_id()}{suffix}"
            self._file_paths[path] = file_id
        return {
            "file_id": file_id,
            "file_unique_id": f"AgAD{file_id}",
            "file_size": len(self.files[file_id]),
            "file_path": path,
        }


def _photo_sizes(file_id: str, size: int) -> list[JSONDict]:
    return [
        {
            "file_id": f"{file_id}-small",
            "file_unique_id": f"AQAD{file_id}-small",
            "width": 90,
            "height": 68,
            "file_size": max(size // 20, 1),
        },
        {
            "file_id": file_id,
            "file_unique_id": f"AQAD{file_id}",
            "width": 1280,
            "height": 960,
            "file_size": max(size, 1),
        },
    ]


_FAKE_JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64 + b"\xff\xd9"
_FAKE_OGG = b"OggS\x00\x02" + b"\x00" * 64
_FAKE_WEBP = b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 64


class SimUser:
    """A person in a private chat with the bot."""

    def __init__(
        self,
        standin: BotApiStandIn,
        user_id: int,
        first_name: str,
        last_name: str | None,
        language_code: str,
    ) -> None:
        self.standin = standin
        self.id = user_id
        self.chat_id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.language_code = language_code
        self.username: str | None = None
        self.last_update_id: int | None = None
        self.last_callback_query_id: str | None = None

    def user_object(self) -> JSONDict:
        user: JSONDict = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def chat_object(self) -> JSONDict:
        chat: JSONDict = {"id": self.chat_id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            chat["last_name"] = self.last_name
        if self.username:
            chat["username"] = self.username
        return chat

    @property
    def messages(self) -> list[JSONDict]:
        """Every sendMessage/sendDocument/sendPhoto params the bot sent to this chat."""
        return self.standin.messages_to(self.chat_id)

    async def _send(self, content: JSONDict, replies: int, timeout: float) -> list[JSONDict]:
        """Push a message update (long polling fetches it; with a webhook set, the stand-in
        delivers it) and wait for ``replies`` messages, or with ``replies=0`` until the bot
        confirmed the update (a later ``offset``, or a 2xx webhook answer) and went quiet."""
        since = len(self.standin.messages_to(self.chat_id))
        message = self.standin._user_message(self, content)
        update_id = self.standin.push_update({"message": message})
        self.last_update_id = update_id
        if replies <= 0:
            confirmed = await self.standin.wait_until(
                lambda: self.standin._is_confirmed(update_id), timeout
            )
            if not confirmed:
                how = (
                    f"take update {update_id} at its webhook (last error: "
                    f"{self.standin.webhook_last_error})"
                    if self.standin.webhook_url
                    else f"fetch update {update_id}"
                )
                raise AssertionError(f"the bot did not {how} within {timeout}s")
            await self.standin.idle(quiet=0.05, timeout=timeout)
            return []
        return await self.standin.wait_messages(self.chat_id, replies, since, timeout)

    async def say(self, text: str, replies: int = 1, timeout: float = 5.0) -> list[JSONDict]:
        content: JSONDict = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": _utf16_len(command)}
            ]
        return await self._send(content, replies, timeout)

    async def send_photo(
        self,
        replies: int = 1,
        file_id: str = "PHOTO1",
        caption: str | None = None,
        data: bytes | None = None,
        timeout: float = 5.0,
    ) -> list[JSONDict]:
        if data is not None or file_id not in self.standin.files:
            self.standin.add_file(file_id, data if data is not None else _FAKE_JPEG)
        payload = self.standin.files[file_id]
        self.standin.add_file(f"{file_id}-small", payload)
        content: JSONDict = {"photo": _photo_sizes(file_id, len(payload))}
        if caption is not None:
            content["caption"] = caption
        return await self._send(content, replies, timeout)

    async def send_sticker(
        self, replies: int = 1, file_id: str = "STICKER1", emoji: str = "👍", timeout: float = 5.0
    ) -> list[JSONDict]:
        if file_id not in self.standin.files:
            self.standin.add_file(file_id, _FAKE_WEBP)
        sticker: JSONDict = {
            "file_id": file_id,
            "file_unique_id": f"AgAD{file_id}",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "file_size": len(self.standin.files[file_id]),
        }
        return await self._send({"sticker": sticker}, replies, timeout)

    async def send_voice(
        self,
        replies: int = 1,
        file_id: str = "VOICE1",
        duration: int = 3,
        data: bytes | None = None,
        timeout: float = 5.0,
    ) -> list[JSONDict]:
        if data is not None or file_id not in self.standin.files:
            self.standin.add_file(file_id, data if data is not None else _FAKE_OGG)
        voice: JSONDict = {
            "file_id": file_id,
            "file_unique_id": f"AgAD{file_id}",
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": len(self.standin.files[file_id]),
        }
        return await self._send({"voice": voice}, replies, timeout)

    async def send_document(
        self,
        file_name: str,
        data: bytes,
        replies: int = 1,
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
        file_id: str | None = None,
        timeout: float = 5.0,
    ) -> list[JSONDict]:
        file_id = file_id or f"DOC{self.standin._next_id()}"
        self.standin.add_file(file_id, data)
        self.standin._file_meta[file_id] = {"file_name": file_name, "mime_type": mime_type}
        document: JSONDict = {
            "file_id": file_id,
            "file_unique_id": f"AgAD{file_id}",
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": len(data),
        }
        content: JSONDict = {"document": document}
        if caption is not None:
            content["caption"] = caption
        return await self._send(content, replies, timeout)

    async def press(
        self,
        callback_data: str,
        replies: int = 1,
        message: JSONDict | None = None,
        timeout: float = 5.0,
    ) -> list[JSONDict]:
        """Press an inline button (a ``callback_query`` update, created now: ``callback_ttl``
        runs from here); ``replies=0`` waits for the bot's answerCallbackQuery instead (taken
        or, if late, refused as too old)."""
        if message is None:
            message = self.standin.last_bot_message(self.chat_id)
            if message is None:
                raise AssertionError(f"the bot has not sent any message to chat {self.chat_id}")
        available = _buttons_of(message)
        if callback_data not in [data for _, data in available]:
            raise AssertionError(
                f"no button with callback_data {callback_data!r} in message "
                f"{message.get('message_id')}; buttons: {available}"
            )
        query_id = str(4_000_000_000_000_000_000 + self.standin._next_id())
        self.last_callback_query_id = query_id
        since = len(self.standin.messages_to(self.chat_id))
        update_id = self.standin.push_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": self.user_object(),
                    "message": copy.deepcopy(message),
                    "chat_instance": str(-(10**18) - abs(self.chat_id)),
                    "data": callback_data,
                }
            }
        )
        self.last_update_id = update_id
        if replies <= 0:
            answered = await self.standin.wait_until(
                lambda: (
                    self.standin._callbacks.get(query_id) is True
                    or query_id in self.standin.expired_callback_answers
                ),
                timeout,
            )
            if not answered:
                raise AssertionError(
                    f"callback query {query_id} was not answered within {timeout}s; "
                    f"violations: {self.standin.violations}"
                )
            return []
        return await self.standin.wait_messages(self.chat_id, replies, since, timeout)

    def last_buttons(self) -> list[tuple[str, str]]:
        message = self.standin.last_bot_message(self.chat_id)
        return _buttons_of(message) if message else []

    def button(self, text: str) -> str:
        buttons = self.last_buttons()
        for label, data in buttons:
            if label == text:
                return data
        raise AssertionError(f"no button {text!r} in the last message; buttons: {buttons}")


def _buttons_of(message: JSONDict) -> list[tuple[str, str]]:
    markup = message.get("reply_markup") or {}
    return [
        (str(button.get("text", "")), str(button.get("callback_data", "")))
        for row in markup.get("inline_keyboard", [])
        for button in row
    ]
