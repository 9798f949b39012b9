"""The text helpers: matching what people type, and cleaning what they type to keep."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.text import clean_text, normalize_text


@pytest.mark.parametrize(
    ("typed", "cleaned"),
    [
        ("Bà Lan", "Bà Lan"),
        ("  Bà  Lan \n", "Bà  Lan"),  # only the ends: a text keeps its spacing
        ("Bà\x00 Lan", "Bà Lan"),
        ("dòng 1\r\ndòng 2\rdòng 3\ndòng 4", "dòng 1\ndòng 2\ndòng 3\ndòng 4"),
        ("a\tb", "a b"),
        ("\x1b[31mđỏ\x1b[0m", "[31mđỏ[0m"),
        ("a\x7fb\x80c\x85d\x9fe", "abcde"),  # DEL and C1 codes too
        ("{0} %s {name} ${HOME}", "{0} %s {name} ${HOME}"),
        ("👨‍👩‍👧‍👦 🇻🇳", "👨‍👩‍👧‍👦 🇻🇳"),  # joiners inside visible text stay
        ("\u202eđường\u202c", "đường"),  # overrides and isolates reorder text: dropped
        ("\u200fđường\u200e", "\u200fđường\u200e"),  # the marks are harmless: kept
        ("", ""),
        ("\x00", ""),
        ("\u200b\u200c\u200d\u2060\ufeff", ""),  # nothing visible
        (" \u202e\t\n\u3000", ""),
    ],
)
def test_clean_text(typed: str, cleaned: str) -> None:
    assert clean_text(typed) == cleaned


@given(st.text())
def test_clean_text_keeps_no_control_character_but_the_line_break(text: str) -> None:
    cleaned = clean_text(text)
    assert all(ch == "\n" or ch.isprintable() or not ch.isascii() for ch in cleaned)
    assert not any(ord(ch) < 0x20 and ch != "\n" for ch in cleaned)
    assert not any(0x7F <= ord(ch) <= 0x9F for ch in cleaned)
    assert cleaned == cleaned.strip() and clean_text(cleaned) == cleaned
    assert len(cleaned) <= len(text)


def test_normalize_text_folds_case_marks_and_spaces() -> None:
    assert normalize_text("  Thôn  Văn hoá ") == "thon van hoa"
    assert normalize_text("ĐÚNG") == "dung"
