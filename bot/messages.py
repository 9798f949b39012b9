"""What flows between a channel and the core: incoming messages and abstract replies.

A reply carries *choices*, not buttons: Telegram renders them as an inline
keyboard, channels without buttons (console, Zalo) as a numbered text menu.
Nothing here knows any channel.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Literal

InputKind = Literal["text", "choice", "photo", "other"]
MAX_FILE_BYTES = 10 * 1024 * 1024  # the largest photo a person may send; larger is refused


@dataclass(frozen=True)
class Choice:
    label: str  # what the person sees (already translated)
    value: str  # the token that comes back when it is chosen (short: fits Telegram's 64 bytes)

    @property
    def is_command(self) -> bool:
        """A button that stands for a command (``/baocao thang 2026-11``): channels without
        buttons tell people to type the command instead."""
        return self.value.startswith("/")


@dataclass(frozen=True)
class OutgoingFile:
    """A file the bot sends: a workbook, a chart."""

    name: str
    data: bytes
    is_image: bool = False
    caption: str = ""  # shown with a photo (what the person wrote when they sent it)


@dataclass(frozen=True)
class Recipe:
    """A reply made when it is sent rather than when it is decided: reading the whole
    commune's figures and rendering a workbook take long, so the transaction that answers a
    command records only this, and the sender renders it (off the event loop, on a read-only
    snapshot, outside any transaction)."""

    kind: str  # "digest", "workbook", "bulletin"
    at: datetime  # the moment the command was given: which periods, which week
    period: str | None = None


@dataclass(frozen=True)
class Reply:
    text: str
    choices: tuple[Choice, ...] = ()
    # True when the answer is typed (a number, a text) and the choices are extras such as
    # "Bỏ qua": a numbered menu must then offer them as words, since a number is an answer.
    typed_answer: bool = False
    files: tuple[OutgoingFile, ...] = ()
    recipe: Recipe | None = None  # rendered when sent; ``text`` is then only a fallback
    # The screen asks for a photo: a channel that cannot send one (the console) says so.
    asks_photo: bool = False


@dataclass(frozen=True)
class Attachment:
    """A file a person sent (photo, or an image sent as a document)."""

    file_id: str
    size: int | None = None
    mime_type: str | None = None
    data: bytes | None = None  # the content, when the channel fetched it


@dataclass(frozen=True)
class Incoming:
    """One message from a person, as a channel adapter hands it to the core."""

    channel: str  # "telegram", "console", …
    user_id: str  # the person's id on that channel
    chat_id: str  # where replies go
    kind: InputKind
    text: str = ""  # the text typed, or the chosen choice's value
    update_key: str | None = None  # the channel's id of the update, for applying each once
    display_name: str = ""
    language_code: str | None = None
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)
    unreadable: bool = False  # the channel says it cannot show the content (Zalo privacy)
    detail: str = ""  # for "other": what it was (sticker, voice…), when the channel says

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, as the inbox stores it: attachments without their content (the
        channel fetches it again when the event is applied)."""
        # Every other field is a plain value: no deep copy needed (asdict's).
        data = {name: getattr(self, name) for name in _INCOMING_FIELDS}
        data["attachments"] = [
            {"file_id": a.file_id, "size": a.size, "mime_type": a.mime_type}
            for a in self.attachments
        ]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Incoming:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["attachments"] = tuple(Attachment(**a) for a in data.get("attachments", ()))
        return cls(**known)

    @property
    def command(self) -> tuple[str, str] | None:
        """``("/baocao", "args")`` when the text is a command, else None. A button may
        carry a command too (a reminder's "Báo cáo ngay")."""
        if self.kind not in ("text", "choice") or not self.text.startswith("/"):
            return None
        head, _, rest = self.text.strip().partition(" ")
        name = head.split("@", 1)[0].lower()
        return name, rest.strip()


_INCOMING_FIELDS = tuple(f.name for f in fields(Incoming) if f.name != "attachments")
