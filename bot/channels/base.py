"""The one interface every channel adapter implements, and rendering shared by them."""

from __future__ import annotations

from typing import Any, Protocol

from bot.i18n import _
from bot.messages import Reply


class Channel(Protocol):
    """A way to reach people: Telegram, the console, later Zalo."""

    name: str

    async def start(self) -> None:
        """Begin receiving messages (returns once receiving runs in the background)."""

    async def stop(self) -> None: ...

    async def send(self, chat_id: str, replies: list[Reply], locale: str) -> None:
        """Send replies at once (all parts, no resuming)."""

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


class Unreachable(DeliveryError):
    """The person cannot be reached on this channel (blocked the bot, left, deleted)."""


class Rejected(DeliveryError):
    """The platform refused this message itself: sending it again would fail again."""


def split_text(text: str, limit: int) -> list[str]:
    """Cut ``text`` into pieces of at most ``limit`` characters, at paragraph breaks where
    possible, then at line breaks, then at spaces; never loses a character but blank edges."""
    if len(text) <= limit:
        return [text]
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = -1
        for sep in ("\n\n", "\n", " "):
            cut = window.rfind(sep, 0, limit + 1)
            if cut > 0:
                break
        if cut <= 0:
            cut = limit
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
