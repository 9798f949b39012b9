"""Records of the domain: people, invites, reports. Plain data, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.messages import Reply

ROLE_HEAD = "head"
ROLE_SECRETARIAT = "secretariat"
ROLE_CHAIR = "chair"
ROLE_ADMIN = "admin"
ROLE_OFFICER = "officer"  # a commune officer (cán bộ xã): fills the commune's own forms
ROLES = (ROLE_HEAD, ROLE_SECRETARIAT, ROLE_CHAIR, ROLE_ADMIN, ROLE_OFFICER)
# Channels that only answer while someone sits at them: the bot cannot start a talk there.
LOCAL_CHANNELS = ("console",)
# Channels that can receive files (a workbook, a chart); Zalo cannot.
FILE_CHANNELS = ("telegram", "console")


REPLY_KEY = "reply:"  # the outbox key of the replies to an inbox event: reply:<event id>


@dataclass(frozen=True)
class Identity:
    channel: str
    user_id: str
    chat_id: str
    display_name: str = ""
    last_seen_at: datetime | None = None
    unreachable_at: datetime | None = None  # the channel said it cannot deliver here
    failing_since: datetime | None = None  # deliveries have failed since, for no known reason


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    role: str
    village_id: str | None
    locale: str
    created_at: datetime
    is_console: bool = False
    identities: tuple[Identity, ...] = ()  # most recently used first
    revoked_at: datetime | None = None

    @property
    def reachable(self) -> Identity | None:
        """Where to send what the bot starts itself: the most recently used identity that
        its channel has not reported unreachable (never a local channel such as the console)."""
        return next(
            (
                i
                for i in self.identities
                if i.unreachable_at is None and i.channel not in LOCAL_CHANNELS
            ),
            None,
        )

    @property
    def reachable_with_files(self) -> Identity | None:
        """The most recently used reachable identity on a channel that takes files."""
        return next(
            (
                i
                for i in self.identities
                if i.unreachable_at is None
                and i.channel in FILE_CHANNELS
                and i.channel not in LOCAL_CHANNELS
            ),
            None,
        )

    @property
    def unreachable(self) -> bool:
        """Known on some channel, but every channel said it cannot deliver there."""
        return any(i.unreachable_at is not None for i in self.identities) and (
            self.reachable is None
        )


@dataclass(frozen=True)
class Invite:
    code: str
    role: str
    village_id: str | None
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    used_by: int | None = None
    person_id: int | None = None  # links a new channel to this person instead
    voided_at: datetime | None = None  # its person was revoked before it was used


@dataclass(frozen=True)
class WebLink:
    """A sign-in link to the web page as stored: the SHA-256 of its token (the token itself
    lives only in the chat message), whom it signs in, the page it opens, until when."""

    token_hash: str
    person_id: int
    target: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None


@dataclass(frozen=True)
class WebSession:
    """A signed-in browser as stored: the SHA-256 of its cookie, whose it is, the CSRF token
    its forms carry, when it was last used (it ends after an idle spell) or ended."""

    id_hash: str
    person_id: int
    csrf: str
    created_at: datetime
    seen_at: datetime
    ended_at: datetime | None = None


@dataclass(frozen=True)
class Report:
    id: int
    village_id: str
    form_id: str
    period: str
    version: int
    submitted_at: datetime
    submitted_by: int
    answers: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class QueuedMessage:
    """A message in the outbox: what to send, where, and how far sending got."""

    id: int
    key: str
    person_id: int | None  # None for a reply to someone not registered
    channel: str
    chat_id: str
    locale: str
    replies: list[Reply]
    parts_sent: int = 0  # platform calls already confirmed (never repeated)
    attempts: int = 0
    owner: str | None = None  # the sender that claimed it, while its lease runs

    @property
    def is_reply(self) -> bool:
        """An answer to what someone sent (someone is waiting for it)."""
        return self.key.startswith(REPLY_KEY)


# Nominations (gương người tốt, việc tốt): from sending until closed.
REVIEW, NEEDS_INFO, CLOSED = "review", "needs_info", "closed"
STAGES = ("phat_hien", "boi_duong", "tong_ket", "nhan_rong")  # the plan's four stages
NOMINATION_STATUSES = (REVIEW, NEEDS_INFO, *STAGES, CLOSED)


@dataclass(frozen=True)
class Nomination:
    id: int
    number: str  # ĐC-2026-0007
    nominator_id: int
    nominee: str  # a person's name or a collective
    village_id: str
    deed: str
    kind: str
    status: str  # one of NOMINATION_STATUSES
    created_at: datetime
    updated_at: datetime
    photos: tuple[str, ...] = ()  # stored file keys
    captions: tuple[str, ...] = ()  # each photo's caption ("" for none)


@dataclass(frozen=True)
class NominationEvent:
    """One change of a nomination: who, when, what it became, and their comment."""

    nomination_id: int
    at: datetime
    person_id: int | None
    action: str  # sent, accepted, asked, answered, rejected, advanced, moved_back, closed
    status: str  # the status after the change
    comment: str = ""
