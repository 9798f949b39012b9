"""Text helpers for matching what people type in Vietnamese."""

from __future__ import annotations

import unicodedata

__all__ = ["clean_text", "normalize_text"]


def normalize_text(text: str) -> str:
    """Fold ``text`` for diacritics-insensitive matching.

    Lowercases, removes every combining mark (tones and vowel hats), maps ``đ`` to
    ``d``, collapses runs of whitespace to one space and strips the ends:
    ``"  Thôn  Văn hoá "`` → ``"thon van hoa"``, ``"Không"`` → ``"khong"``.
    """
    decomposed = unicodedata.normalize("NFD", text.lower())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    stripped = stripped.replace("đ", "d")
    return " ".join(stripped.split())


def clean_text(text: str) -> str:
    """A text a person typed, fit to store and show: control characters removed (NUL,
    escape sequences, C1 codes; a workbook cell refuses most of them), line breaks kept as
    ``\\n`` (``\\r\\n`` and ``\\r`` too), a tab made a space, the ends stripped; ``""`` when
    nothing visible is left (only spaces and invisible characters such as U+200B).
    ``"Bà\\x00 Lan\\r\\n"`` → ``"Bà Lan"``."""
    if text.isprintable():  # the common case: nothing to remove
        cleaned = text.strip()
    else:
        text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
        cleaned = "".join(
            ch for ch in text if ch == "\n" or unicodedata.category(ch) != "Cc"
        ).strip()
    if any(not ch.isspace() and unicodedata.category(ch) != "Cf" for ch in cleaned):
        return cleaned
    return ""
