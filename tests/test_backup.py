"""``thidua backup`` and ``thidua restore`` over real SQLite files: a consistent copy of a
database being written to, nothing overwritten, no restore under a running bot."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app.cli import main
from storage.backup import DatabaseHeld, NotABackup, backup_database, restore_database
from storage.sqlite import SqliteStorage

WHEN = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)


async def write_reports(path: Path, count: int, started: asyncio.Event) -> None:
    """``count`` reports of Thôn 1, each in its own unit of work, as a running bot commits."""
    store = await SqliteStorage.open(path)
    try:
        async with store.transaction() as tx:
            head = await tx.create_person("Nguyễn An", "head", "thon_1", "vi", WHEN)
        for n in range(count):
            async with store.transaction() as tx:
                await tx.add_report(
                    "thon_1", "thang", f"period-{n:04d}", {"tong_ho": str(n)}, head.id, WHEN
                )
            if n == 20:
                started.set()
            await asyncio.sleep(0)
    finally:
        await store.close()


def report_ids(path: Path) -> list[int]:
    with sqlite3.connect(path) as conn:
        ids = [row[0] for row in conn.execute("SELECT id FROM reports ORDER BY id")]
    conn.close()
    return ids


async def test_a_backup_taken_while_reports_are_written_is_consistent(tmp_path: Path) -> None:
    database, copy = tmp_path / "thidua.db", tmp_path / "copy.db"
    started = asyncio.Event()
    writer = asyncio.create_task(write_reports(database, 400, started))
    await started.wait()
    copied = await asyncio.to_thread(backup_database, database, copy)
    await writer
    ids = report_ids(copy)
    # a committed prefix of what was written: every report up to one, none half there
    assert ids == list(range(1, len(ids) + 1)) and 20 < len(ids) <= 400
    assert (copied.people, copied.reports, copied.schema) == (1, len(ids), copied.schema)
    assert copied.schema >= 7
    assert not copy.with_name("copy.db-wal").exists()  # one self-contained file
    with pytest.raises(FileExistsError):
        backup_database(database, copy)  # never overwritten
    assert report_ids(copy) == ids
    with pytest.raises(FileNotFoundError):
        backup_database(tmp_path / "none.db", tmp_path / "other.db")
    assert not (tmp_path / "other.db").exists()


async def test_restore_waits_for_no_bot_and_keeps_the_database_it_replaces(
    tmp_path: Path,
) -> None:
    database, copy, keep = tmp_path / "thidua.db", tmp_path / "copy.db", tmp_path / "kept.db"
    await write_reports(database, 3, asyncio.Event())
    backup_database(database, copy)
    await write_reports(database, 2, asyncio.Event())  # written after the backup
    serving = await SqliteStorage.open(database)
    await serving.serve_alone("bot-1", lambda _who: None)  # a running bot holds it
    try:
        with pytest.raises(DatabaseHeld):
            restore_database(copy, database, keep)
    finally:
        await serving.close()
    assert len(report_ids(database)) == 5 and not keep.exists()
    # the bot stopped (its lock went with it)
    restored = restore_database(copy, database, keep)
    assert restored.reports == 3 and len(report_ids(database)) == 3
    assert len(report_ids(keep)) == 5  # nothing lost: the replaced database kept whole
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database" * 100)
    with pytest.raises(NotABackup):
        restore_database(junk, database, tmp_path / "kept-2.db")
    assert len(report_ids(database)) == 3 and not (tmp_path / "kept-2.db").exists()


def test_the_commands_say_what_they_did_in_vietnamese(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", "sqlite:///thidua.db")
    monkeypatch.setenv("THIDUA_NOW", (WHEN + timedelta(days=1)).isoformat())
    asyncio.run(write_reports(tmp_path / "thidua.db", 2, asyncio.Event()))

    assert main(["backup", "sao-luu.db"]) == 0
    out = capsys.readouterr().out
    assert "Đã sao lưu thidua.db vào sao-luu.db: lược đồ" in out
    assert "1 người dùng, 2 báo cáo" in out
    assert main(["backup", "sao-luu.db"]) == 2
    assert "bản sao lưu không ghi đè" in capsys.readouterr().err

    assert main(["restore", "sao-luu.db"]) == 0
    out = capsys.readouterr().out
    assert "Đã khôi phục thidua.db từ sao-luu.db" in out
    kept = list(tmp_path.glob("thidua.db.truoc-khoi-phuc-*"))
    assert len(kept) == 1 and kept[0].name in out
    assert main(["restore", "khong-co.db"]) == 2
    assert "Không có tệp sao lưu khong-co.db" in capsys.readouterr().err

    monkeypatch.setenv("DATABASE_URL", "postgresql://localhost/thidua")
    assert main(["backup", "x.db"]) == 2
    assert "pg_dump" in capsys.readouterr().err
