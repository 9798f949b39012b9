"""The one build step pyproject.toml cannot say: the gettext catalogs go into the package.

``build_py`` copies ``locales/<language>/LC_MESSAGES/*.po`` into ``bot/locales/`` of the
build, so a wheel (``pip install .``) carries them and ``bot/i18n.py`` finds them next to
itself; the catalogs are read with Babel when first needed, so nothing is compiled here.
An editable install (``pip install -e .``, what ``make`` does) reads ``locales/`` of the
checkout instead.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

SOURCE = Path("locales")  # builds run in the project's directory
TARGET = Path("bot") / "locales"


class BuildPyWithCatalogs(build_py):
    """``build_py`` that also copies the ``.po`` catalogs into ``bot/locales``."""

    def catalogs(self) -> list[tuple[Path, Path]]:
        """(source, file in the build) of every catalog; none for an editable install."""
        if getattr(self, "editable_mode", False):
            return []
        return [
            (po, Path(self.build_lib) / TARGET / po.relative_to(SOURCE))
            for po in sorted(SOURCE.glob("*/LC_MESSAGES/*.po"))
        ]

    def run(self) -> None:
        super().run()
        for source, target in self.catalogs():
            self.mkpath(str(target.parent))
            self.copy_file(str(source), str(target))

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        return [
            *super().get_outputs(include_bytecode),
            *(str(target) for _source, target in self.catalogs()),
        ]


setup(cmdclass={"build_py": BuildPyWithCatalogs})
