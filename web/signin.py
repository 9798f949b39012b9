"""Signing in to the web page by the bot: single-use links sent in the chat, and sessions.

A link carries a random token; only its SHA-256 is stored, with the person it signs in, the
page it opens and until when it holds. Opening the link shows a button; pressing it takes
the link (once: ``Transaction.use_web_link``) and starts a session, whose cookie is another
random token stored by its SHA-256 too. Nothing here knows HTTP: ``web.server`` does.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from bot.domain import Person, WebLink, WebSession
from storage.repository import Transaction

LINK_VALID = timedelta(minutes=10)  # a link /web sends
DIGEST_LINK_VALID = timedelta(days=3)  # a link in a digest, read when the reader has time
SESSION_IDLE = timedelta(hours=8)  # a session ends after this long unused
TOUCH_EVERY = timedelta(minutes=1)  # a session's last use is written at most this often
TOKEN_BYTES = 32


def token_hash(token: str) -> str:
    """The SHA-256 of a token, as stored (the token itself is never stored)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def same(a: str, b: str) -> bool:
    """Whether two tokens are equal, in time that does not tell how much of them is."""
    return hmac.compare_digest(
        a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass")
    )


def safe_target(target: str) -> str:
    """``target`` when it is a path on this site, else the overview: a link never sends
    anyone to another site."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@dataclass(frozen=True)
class WebLinks:
    """Makes sign-in links to the web page at ``base`` (THIDUA_WEB_URL)."""

    base: str

    async def link(
        self,
        tx: Transaction,
        person: Person,
        now: datetime,
        target: str = "/",
        valid: timedelta = LINK_VALID,
    ) -> str:
        """A new single-use link signing ``person`` in and opening ``target``, stored in
        ``tx`` (so it holds across restarts and on every instance)."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        await tx.create_web_link(
            WebLink(token_hash(token), person.id, safe_target(target), now, now + valid)
        )
        return f"{self.base.rstrip('/')}/vao/{token}"


def digest_target(at: datetime) -> str:
    """The path of the page of a digest made at ``at`` (its text, chart and workbook)."""
    return "/tong-hop?luc=" + quote(at.isoformat())


def link_refusal(link: WebLink | None, person: Person | None, now: datetime) -> str | None:
    """Why a link cannot sign anyone in (``forged``, ``revoked``, ``used``, ``expired``), or
    None when it can."""
    if link is None:
        return "forged"
    if person is None or person.revoked_at is not None:
        return "revoked"
    if link.used_at is not None:
        return "used"
    if now >= link.expires_at:
        return "expired"
    return None


def new_session(person_id: int, now: datetime) -> tuple[str, WebSession]:
    """A new session's cookie value and what is stored of it."""
    cookie = secrets.token_urlsafe(TOKEN_BYTES)
    csrf = secrets.token_urlsafe(TOKEN_BYTES)
    return cookie, WebSession(token_hash(cookie), person_id, csrf, now, now)


def session_alive(session: WebSession | None, person: Person | None, now: datetime) -> bool:
    """A session still holds: not ended, used within SESSION_IDLE, its person not revoked."""
    return (
        session is not None
        and session.ended_at is None
        and now - session.seen_at < SESSION_IDLE
        and person is not None
        and person.revoked_at is None
    )
