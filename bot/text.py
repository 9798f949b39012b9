"""Text helpers for matching what people type in Vietnamese."""

from __future__ import annotations

import unicodedata

__all__ = ["normalize_text"]


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
