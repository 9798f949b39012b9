"""After ``pybabel update``: fill the source-language catalog and list what is missing.

Source strings are Vietnamese, so the ``vi`` catalog translates each message to
itself; every other catalog must translate every message. Exits 1 when a
catalog has an untranslated or fuzzy entry.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

HERE = Path(__file__).resolve().parent
SOURCE_LOCALE = "vi"


def main() -> int:
    missing = 0
    for po_path in sorted(HERE.glob("*/LC_MESSAGES/thidua.po")):
        locale = po_path.parent.parent.name
        with po_path.open("rb") as fp:
            catalog = read_po(fp, locale=locale)
        for message in catalog:
            if not message.id:
                continue
            if locale == SOURCE_LOCALE:
                message.string = message.id
                message.flags.discard("fuzzy")
            elif not message.string or message.fuzzy:
                missing += 1
                print(f"{locale}: untranslated: {message.id!r}")
        if locale == SOURCE_LOCALE:
            catalog.obsolete.clear()
            with po_path.open("wb") as fp:
                write_po(fp, catalog, width=100, omit_header=False)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
