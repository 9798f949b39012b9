"""The one interface every channel adapter implements, and rendering shared by them."""

from __future__ import annotations

import asyncio
import unicodedata
from collections.abc import Callable
from typing import Any, Protocol

from bot.i18n import _
from bot.messages import Incoming, Reply


class Receiver(Protocol):
    """Where a channel hands what it receives (``handlers.inbox.Inbox``)."""

    def receive(self, incoming: Incoming) -> asyncio.Future[None]:
        """Take an event now; the future completes once it is stored."""


class Channel(Protocol):
    """A way to reach people (Zalo, Telegram): receiving into a ``Receiver``, sending what
    the outbox hands it, one platform call at a time."""

    name: str
    ready: bool  # connected: the outbox sends through it only then
    takes_files: bool  # False: files are announced in words (so none is made for it)

    async def connect(self) -> None:
        """Reach the platform and begin receiving (in the background). Raises
        ``ChannelDown`` when the platform cannot be reached (the caller tries again later)
        and ``bot.app.config.ConfigError`` when it refuses the configuration (a token)."""

    async def stop(self) -> None: ...

    async def fetch(self, incoming: Incoming) -> Incoming:
        """The event with its attachments' content fetched from the platform (left without
        it when too large or not reachable)."""

    def parts(self, replies: list[Reply]) -> list[Any]:
        """The platform calls that deliver ``replies`` (in the current locale), in order;
        the outbox records how many went through and resumes after them."""

    async def send_part(self, chat_id: str, part: Any) -> None:
        """Make one platform call; raise a ``DeliveryError`` when it did not go through."""


class DeliveryError(Exception):
    """A platform call that did not deliver; the subclass says what to do next."""


class RetryLater(DeliveryError):
    """The platform asked to wait (Telegram 429 ``retry_after``) before sending again."""

    def __init__(self, seconds: float, detail: str = "") -> None:
        super().__init__(detail or f"retry after {seconds:g} s")
        self.seconds = seconds


class TemporaryFailure(DeliveryError):
    """A timeout, a network error or a server error: the same call may work later."""


class ChannelDown(DeliveryError):
    """The platform could not be reached at all (connection refused, DNS, the network): the
    message did not leave, and the channel's other messages would fail the same way."""


class Throttled(TemporaryFailure):
    """The platform refused for too many messages without saying for how long (Zalo's 429):
    the channel backs off, and the attempt counts."""


class Suspect(TemporaryFailure):
    """A failure that may mean the person cannot be reached, or may be the platform's own
    (Zalo's 403, "internal server error"): retried; counted against the identity."""


class Unreachable(DeliveryError):
    """The person cannot be reached on this channel (blocked the bot, left, deleted)."""


class Rejected(DeliveryError):
    """The platform refused this message itself: sending it again would fail again."""


def utf16_length(text: str) -> int:
    """The length in UTF-16 code units, as Telegram and Zalo count it (an emoji counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def _fitting(text: str, limit: int, length: Callable[[str], int]) -> int:
    """The most characters of ``text``'s start whose ``length`` is at most ``limit``, never
    cutting a combining mark from its letter."""
    if length is len:
        end = min(limit, len(text))
    else:
        end, used = 0, 0
        for char in text:
            used += length(char)
            if used > limit:
                break
            end += 1
    while 0 < end < len(text) and unicodedata.combining(text[end]):
        end -= 1
    return max(end, 1)


def split_text(text: str, limit: int, length: Callable[[str], int] = len) -> list[str]:
    """Cut ``text`` into pieces of at most ``limit`` (as ``length`` counts: characters, or
    ``utf16_length``), at paragraph breaks where possible, then at line breaks, then at
    spaces; never loses a character but blank edges."""
    if length(text) <= limit:
        return [text]
    pieces: list[str] = []
    rest = text
    while length(rest) > limit:
        end = _fitting(rest, limit, length)
        window = rest[: end + 1]
        cut = -1
        for sep in ("\n\n", "\n", " "):
            cut = window.rfind(sep, 0, end + 1)
            if cut > 0:
                break
        if cut <= 0:
            cut = end
        piece = rest[:cut].rstrip()
        if piece:
            pieces.append(piece)
        rest = rest[cut:].lstrip("\n ")
    if rest:
        pieces.append(rest)
    return pieces


def numbered_menu(reply: Reply) -> str:
    """A reply as text for channels without buttons: choices become ``1. Có   2. Không``."""
    if not reply.choices:
        return reply.text
    if all(choice.is_command for choice in reply.choices):
        words = "; ".join(
            _("{label}: gõ {command}").format(label=c.label, command=c.value) for c in reply.choices
        )
        return f"{reply.text}\n({words})"
    if reply.typed_answer:
        words = "; ".join(_("gõ “{label}”").format(label=choice.label) for choice in reply.choices)
        return f"{reply.text}\n({words})"
    if len(reply.choices) <= 3 and all(len(c.label) <= 20 for c in reply.choices):
        menu = "   ".join(f"{i}. {c.label}" for i, c in enumerate(reply.choices, 1))
    else:
        menu = "\n".join(f"{i}. {c.label}" for i, c in enumerate(reply.choices, 1))
    numbers = [str(i) for i in range(1, len(reply.choices) + 1)]
    if len(numbers) == 2:
        how = _("Trả lời {a} hoặc {b}.").format(a=numbers[0], b=numbers[1])
    else:
        how = _("Trả lời một số từ 1 đến {n}.").format(n=len(numbers))
    return f"{reply.text}\n\n{menu}\n{how}"
