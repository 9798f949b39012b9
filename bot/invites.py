"""Invite codes and the wrong-code lock-out: pure rules, no storage."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud or copied by hand
CODE_LENGTH = 8
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(hours=1)
LOCKOUT = timedelta(hours=1)
_SHAPE = re.compile(rf"^[A-Z0-9]{{{CODE_LENGTH}}}$")


def generate_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(text: str) -> str | None:
    """The code a person typed (``k7qx-m2pa``, ``K7QX M2PA``), or None if it is not one."""
    candidate = re.sub(r"[\s\-.]", "", text).upper()
    return candidate if _SHAPE.match(candidate) else None


def looks_like_code(text: str) -> bool:
    """Whether a bare message is someone's try at a code, though not of a code's shape: one
    word (or two halves) of 5–16 letters and digits with both in it (``SAI0XYZ``,
    ``k7qx-m2p``); ``xin chào``, ``2024`` or ``toi la so 5`` are not."""
    candidate = text.strip()
    if candidate.count(" ") > 1:
        return False
    joined = re.sub(r"[\s\-.]", "", candidate)
    return (
        5 <= len(joined) <= 16
        and joined.isascii()
        and joined.isalnum()
        and any(c.isdigit() for c in joined)
        and any(c.isalpha() for c in joined)
    )


def locked_until(failures: Sequence[datetime], now: datetime) -> datetime | None:
    """When ``MAX_FAILURES`` wrong codes fell within ``FAILURE_WINDOW``, the lock runs an hour
    from the last of them; returns its end while it is still running."""
    ordered = sorted(failures)
    for i in range(len(ordered) - MAX_FAILURES + 1):
        last = ordered[i + MAX_FAILURES - 1]
        if last - ordered[i] <= FAILURE_WINDOW:
            until = last + LOCKOUT
            if now < until:
                return until
    return None
