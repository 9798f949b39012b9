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


# Embeddings, overrides and isolates: invisible, they reorder what follows (a name that
# reads otherwise than it is written); the marks U+200E/U+200F are harmless and kept.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def clean_text(text: str) -> str:
    """A text a person typed, fit to store and show: control characters removed (NUL,
    escape sequences, C1 codes; a workbook cell refuses most of them; bidirectional
    overrides and isolates), line breaks kept as
    ``\\n`` (``\\r\\n`` and ``\\r`` too), a tab made a space, the ends stripped; ``""`` when
    nothing visible is left (only spaces and invisible characters such as U+200B).
    ``"Bà\\x00 Lan\\r\\n"`` → ``"Bà Lan"``."""
    if text.isprintable():  # the common case: nothing to remove
        cleaned = text.strip()
    else:
        text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
        cleaned = "".join(
            ch
            for ch in text
            if ch == "\n" or (unicodedata.category(ch) != "Cc" and ch not in BIDI_CONTROLS)
        ).strip()
    if any(not ch.isspace() and unicodedata.category(ch) != "Cf" for ch in cleaned):
        return cleaned
    return ""


def shortened(text: str, limit: int = 40) -> str:
    """``text`` as quoted back to a person: cut to ``limit`` characters, with "…"."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def without_surrogates(text: str) -> str:
    """``text`` with lone UTF-16 surrogates (which JSON can carry and UTF-8 cannot store)
    made "?"; anything else unchanged."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


NAME_LIMIT = 100  # characters of a display name kept


def display_name(text: str) -> str:
    """A platform's display name fit to store and show: cleaned, on one line, at most
    ``NAME_LIMIT`` characters."""
    return shortened(" ".join(clean_text(text).split()), NAME_LIMIT)


# Words that begin a place's name and are written in lower case inside a sentence.
_PLACE_WORDS = ("Xã ", "Phường ", "Thị trấn ", "Thôn ", "Buôn ", "Bon ", "Tổ dân phố ")


def in_sentence(name: str) -> str:
    """A place's name as written inside a sentence: ``Xã Nam Dong`` → ``xã Nam Dong``."""
    for word in _PLACE_WORDS:
        if name.startswith(word):
            return word.lower() + name[len(word) :]
    return name
