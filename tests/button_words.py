"""Words that only fit a channel with buttons: Zalo and the console have none, so no text
they show may ask to tap, press or click one (Vietnamese or English)."""

from __future__ import annotations

import re

BUTTON_WORDS = re.compile(
    r"\b(bấm|nhấn|nút|tap|taps|tapped|tapping|press|pressed|pressing|button|buttons|click)\b",
    re.IGNORECASE,
)


def button_words(texts: list[str]) -> list[str]:
    """Every text of ``texts`` that names a button, with the word found, for a message."""
    found = []
    for text in texts:
        match = BUTTON_WORDS.search(text)
        if match is not None:
            found.append(f"{match.group(0)!r} in {text[:300]!r}")
    return found
