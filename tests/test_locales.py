"""The catalogs are complete: every string the code marks is translated in vi and en."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from bot.i18n import _, format_number, use_locale

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None}
PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def code_messages() -> set[str]:
    found: set[str] = set()
    for package in ("bot", "handlers", "storage", "scheduler"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / package, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def catalog(locale: str) -> Catalog:
    with (ROOT / "locales" / locale / "LC_MESSAGES" / "thidua.po").open("rb") as fp:
        return read_po(fp, locale=locale)


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_every_marked_string_is_translated(locale: str) -> None:
    cat = catalog(locale)
    missing = []
    for message_id in sorted(code_messages()):
        entry = cat.get(message_id)
        if entry is None or not entry.string or entry.fuzzy:
            missing.append(message_id)
            continue
        if sorted(PLACEHOLDER.findall(message_id)) != sorted(PLACEHOLDER.findall(entry.string)):
            missing.append(f"placeholders differ: {message_id}")
    assert not missing, f"{locale}: run `make locales-update` and translate: {missing}"
    # the checks `pybabel compile` runs (python-format placeholders and the like)
    problems = [(m.id, [str(e) for e in errors]) for m, errors in cat.check() if errors]
    assert not problems, problems


def test_english_is_used_for_an_english_speaker() -> None:
    with use_locale("en"):
        assert _("Có") == "Yes"
        assert format_number(1234.5) == "1,234.5"
    with use_locale("vi"):
        assert _("Có") == "Có"
        assert format_number(1234.5) == "1.234,5"
    with use_locale("fr-FR"):  # unsupported: Vietnamese first
        assert _("Có") == "Có"
