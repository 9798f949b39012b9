"""The package as ``pip install .`` installs it: a wheel built from the source, installed
into a fresh virtual environment, run from outside the checkout."""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import babel

ROOT = Path(__file__).resolve().parent.parent

# What a build does not need (and what must not leak into one).
SKIP = {
    ".venv",
    ".git",
    ".hypothesis",
    ".pytest_cache",
    ".ruff_cache",
    "__pycache__",
    "build",
    "dist",
    "tests",
    "bench",
    "exports",
    "data",
}


def _ignore(directory: str, names: list[str]) -> set[str]:
    return {
        name
        for name in names
        if name in SKIP or name.endswith((".egg-info", ".db", ".db-wal", ".db-shm", ".mo"))
    }


def test_an_installed_wheel_speaks_english(tmp_path: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, ignore=_ignore)
    dist = tmp_path / "dist"
    # As `pip install .` builds it, without reaching an index: the build backend comes from
    # the test extras (setuptools, wheel), already installed here.
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "wheel", str(source), "--no-deps"),
            *("--no-build-isolation", "--no-index", "-q", "-w", str(dist)),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    [wheel] = dist.glob("thidua-*.whl")
    with zipfile.ZipFile(wheel) as packed:  # the web page's files and migrations ship too
        names = set(packed.namelist())
    assert {"web/templates/base.html", "web/static/thidua.css"} <= names
    assert {"storage/migrations/009_web.sql", "storage/migrations/postgresql/009_web.sql"} <= names

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "--python", str(python), "install"),
            *("--no-deps", "--no-index", "-q", str(wheel)),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    # The wheel's dependencies without an index: Babel (all i18n needs) from this
    # environment, after the wheel's own files on the path.
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    (site / "dependencies.pth").write_text(
        str(Path(babel.__file__).resolve().parent.parent) + "\n", encoding="utf-8"
    )

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    done = subprocess.run(
        [
            str(python),
            "-c",
            "import bot.i18n as i18n\n"
            "with i18n.use_locale('en'):\n"
            "    print(i18n._('Trợ lý phong trào thi đua của xã.'))\n"
            "print(i18n.__file__)\n",
        ],
        cwd=outside,
        env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    english, where = done.stdout.strip().splitlines()
    assert Path(where).is_relative_to(env_dir), where  # the installed copy, not the checkout
    assert english == "The commune's emulation movement assistant."
