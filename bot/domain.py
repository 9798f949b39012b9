"""Records of the domain: people, invites, reports. Plain data, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

ROLE_HEAD = "head"
ROLE_SECRETARIAT = "secretariat"
ROLE_CHAIR = "chair"
ROLE_ADMIN = "admin"
ROLES = (ROLE_HEAD, ROLE_SECRETARIAT, ROLE_CHAIR, ROLE_ADMIN)


@dataclass(frozen=True)
class Identity:
    channel: str
    user_id: str
    chat_id: str
    display_name: str = ""
    last_seen_at: datetime | None = None


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    role: str
    village_id: str | None
    locale: str
    created_at: datetime
    is_console: bool = False
    identities: tuple[Identity, ...] = ()


@dataclass(frozen=True)
class Invite:
    code: str
    role: str
    village_id: str | None
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    used_by: int | None = None


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
