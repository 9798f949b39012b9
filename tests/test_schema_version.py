"""A database migrated by a newer thidua is refused, never changed: the storage says so, and
every command says it in one Vietnamese line with exit code 2."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from storage.repository import SchemaTooNew
from storage.sqlite import SqliteStorage, _migrations
from tests.test_process import thidua_env

KNOWN = _migrations()[-1][0]


async def newer_database(path: Path) -> None:
    """A database of this code's schema, with one person, then marked as migrated by a later
    version (as a newer thidua leaves it)."""
    store = await SqliteStorage.open(path)
    await store.close()
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO people (name, role, locale, created_at) "
            "VALUES ('Nguyễn An', 'head', 'vi', '2026-11-24T03:00:00+00:00')"
        )
        conn.execute("INSERT INTO schema_version (version) VALUES (?)", (KNOWN + 1,))
    conn.close()


def contents(path: Path) -> list[tuple[str, object]]:
    with sqlite3.connect(path) as conn:
        versions = conn.execute("SELECT version FROM schema_version ORDER BY version").fetchall()
        people = conn.execute("SELECT name, role FROM people").fetchall()
    conn.close()
    return [("versions", versions), ("people", people)]


async def test_the_storage_refuses_a_newer_schema_and_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "thidua.db"
    await newer_database(path)
    before = contents(path)
    with pytest.raises(SchemaTooNew) as raised:
        await SqliteStorage.open(path)
    assert (raised.value.stored, raised.value.known) == (KNOWN + 1, KNOWN)
    assert contents(path) == before


@pytest.mark.parametrize("command", [("users",), ("run", "--or-console", "Thôn 1")])
def test_every_command_says_it_in_one_vietnamese_line(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    path = tmp_path / "thidua.db"
    asyncio.run(newer_database(path))
    done = subprocess.run(
        [sys.executable, "-m", "bot", *command],
        capture_output=True,
        text=True,
        env=thidua_env(tmp_path),
        cwd=tmp_path,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert f"lược đồ {KNOWN + 1}, bản này chỉ biết đến {KNOWN}" in lines[0]
    assert "hãy cài bản thidua mới" in lines[0]
    assert contents(path)[0] == ("versions", [(v,) for v in range(1, KNOWN + 2)])
