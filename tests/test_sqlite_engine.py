"""SQLite's engine: units of work on the loop's thread, the WAL checkpointed in a worker
thread, another process's lock waited for without holding the loop up."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

import storage.sqlite as engine
from storage.repository import StorageBusy
from storage.sqlite import SqliteStorage

T0 = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)


async def test_a_unit_of_work_runs_on_the_loops_thread_and_checkpoints_run_beside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "CHECKPOINT_EVERY", 5)
    ran_in: list[str] = []
    real = engine._checkpoint

    def checkpoint(path: Path, mode: str) -> None:
        ran_in.append(threading.current_thread().name)
        real(path, mode)

    monkeypatch.setattr(engine, "_checkpoint", checkpoint)
    store = await SqliteStorage.open(tmp_path / "thidua.db")
    try:
        conn = store._conn
        assert conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
        for n in range(4):
            async with store.transaction() as tx:
                await tx.set_meta(f"k{n}", "v")
        assert ran_in == [] and store._checkpoint is None
        async with store.transaction() as tx:  # the fifth commit
            await tx.set_meta("k4", "v")
        assert store._checkpoint is not None
        await store._checkpoint
        assert len(ran_in) == 1 and ran_in[0] != threading.main_thread().name
        # the pages are in the database file itself: a reader without the WAL sees them
        with sqlite3.connect(f"file:{tmp_path / 'thidua.db'}?mode=ro", uri=True) as reader:
            assert reader.execute("SELECT COUNT(*) FROM meta").fetchone()[0] == 5
    finally:
        await store.close()


async def test_a_database_another_process_holds_is_waited_for_without_blocking_the_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While another connection holds the write lock, a unit of work waits with
    ``asyncio.sleep`` (other tasks run meanwhile), goes on once the lock is let go, and is
    StorageBusy, nothing written, after BUSY_TIMEOUT."""
    path = tmp_path / "thidua.db"
    store = await SqliteStorage.open(path)
    blocker = sqlite3.connect(path, isolation_level=None)
    ticks = 0

    async def ticking() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(ticking())
    try:
        blocker.execute("BEGIN IMMEDIATE")

        async def write() -> None:
            async with store.transaction() as tx:
                await tx.set_meta("waited", "yes")

        writing = asyncio.create_task(write())
        await asyncio.sleep(0.3)
        assert not writing.done() and ticks >= 10  # waiting, the loop free
        blocker.execute("ROLLBACK")
        await asyncio.wait_for(writing, 5)
        async with store.transaction() as tx:
            assert await tx.meta("waited") == "yes"

        monkeypatch.setattr(engine, "BUSY_TIMEOUT", 0.3)
        blocker.execute("BEGIN IMMEDIATE")
        with pytest.raises(StorageBusy):
            async with store.transaction() as tx:
                await tx.set_meta("given_up", "yes")
        blocker.execute("ROLLBACK")
        async with store.transaction() as tx:
            assert await tx.meta("given_up") is None
    finally:
        ticker.cancel()
        blocker.close()
        await store.close()
