"""SQLite storage: one file in WAL mode, one transaction per unit of work, migrations at start.

A unit of work runs on the event loop's thread through the standard ``sqlite3`` module:
each statement is a C call of microseconds, with no hand-off to a worker thread and back
(aiosqlite's way, which cost a step about seven round trips). What could block the loop
for long is kept off it: the write connection never checkpoints the WAL itself
(``wal_autocheckpoint=0``); a second connection copies the WAL into the database in a
worker thread after every ``CHECKPOINT_EVERY`` commits (a PASSIVE checkpoint, which
neither waits for nor holds up the writer), and a unit of work that finds the database
locked by another process waits for it asynchronously. Long reads (``reading()``) run on
a third connection, through aiosqlite's thread. Commits are as durable as before
(``synchronous=NORMAL``: a commit survives the process's crash; the checkpoints sync).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import date, datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import aiosqlite

from storage.repository import SchemaTooNew, StorageBusy
from storage.sql import SqlTransaction, iso

BUSY_TIMEOUT = 5.0  # seconds a unit of work waits for another process's write lock
CHECKPOINT_EVERY = 200  # commits between two checkpoints of the WAL


def sqlite_path(database_url: str) -> Path:
    """``sqlite:///thidua.db`` → ``thidua.db`` (relative); ``sqlite:////var/x.db`` → absolute."""
    if database_url.startswith("sqlite:///"):
        rest = database_url[len("sqlite:///") :]
        if not rest:
            raise ValueError("DATABASE_URL has no file name")
        return Path(rest)
    scheme = urlparse(database_url).scheme or database_url
    raise ValueError(f"unsupported DATABASE_URL scheme {scheme!r}: only sqlite:/// is available")


def _migrations() -> list[tuple[int, str]]:
    folder = resources.files("storage") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text(encoding="utf-8")))
    return sorted(found)


def _statements(sql: str) -> list[str]:
    """A migration's statements, in order: whole-line ``--`` comments dropped, split where a
    statement is complete (a trigger's body keeps its inner semicolons)."""
    statements: list[str] = []
    pending = ""
    for line in sql.splitlines(keepends=True):
        if line.lstrip().startswith("--"):
            continue
        pending += line
        if sqlite3.complete_statement(pending):
            if pending.strip().rstrip(";").strip():
                statements.append(pending.strip())
            pending = ""
    if pending.strip():
        statements.append(pending.strip())
    return statements


def _param(value: Any) -> Any:
    """A parameter as SQLite stores it: moments as ISO text in UTC (they compare as text),
    days as ISO text, Decimals as their exact text."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


_STORED_AS_IS = frozenset({str, int, float, bytes, bool, type(None)})


def sqlite_params(values: Sequence[Any]) -> tuple[Any, ...]:
    """Parameters as SQLite stores them (``_param``), plain ones passed as they are."""
    return tuple(v if type(v) in _STORED_AS_IS else _param(v) for v in values)


class SqliteStorage:
    """``Storage`` on one SQLite file; units of work are serialized by a lock."""

    STANDBY_POLL = 1.0  # seconds between looks at the instance lock while on standby

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()
        self._path = path
        self._instance_lock: int | None = None  # the file descriptor, while this one serves
        self._reader: aiosqlite.Connection | None = None
        self._reader_lock = asyncio.Lock()
        self._commits = 0  # since the last checkpoint began
        self._checkpoint: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, path: str | Path) -> SqliteStorage:
        path = Path(path)
        if path.parent and not path.parent.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: the transactions are this class's own (BEGIN IMMEDIATE at a
        # unit of work's first statement, COMMIT at its end).
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA wal_autocheckpoint=0")
            conn.execute("PRAGMA busy_timeout=0")  # waiting is ``_begin``'s, off the loop
            storage = cls(conn, path)
            await storage.migrate()
        except BaseException:
            conn.close()
            raise
        return storage

    async def serve_alone(self, owner: str, on_standby: Callable[[str], None]) -> None:
        """Wait until this process is the only one serving the database: a second
        ``thidua run`` on the same file waits here, on standby (``on_standby`` is told who
        serves), and takes over within a second of the first one's end, however it ended
        (the lock is the kernel's, on ``<database>.lock``). Then the claims on the outbox
        of the senders that are gone are void, so nothing waits for their leases."""
        lock_path = self._path.with_name(self._path.name + ".lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not told:
                    holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
                    on_standby(holder or "?")
                    told = True
                await asyncio.sleep(self.STANDBY_POLL)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{owner}\n".encode(), 0)
        self._instance_lock = fd
        async with self.transaction() as tx:
            await tx.release_claims(owner)

    async def migrate(self) -> int:
        """Apply the migrations not yet applied, all in one transaction; returns the schema
        version. Foreign keys are off while they run (SQLite can only switch them outside a
        transaction), so a migration may rebuild a table other tables refer to the way SQLite
        documents it (create the new table, copy, drop the old, rename); before the commit
        ``PRAGMA foreign_key_check`` must find no row pointing nowhere, or nothing is kept.
        Two processes starting at once apply them once: the second waits for the first's
        write lock, then finds them applied."""
        async with self._lock:
            enforced = bool(self._conn.execute("PRAGMA foreign_keys").fetchone()[0])
            self._conn.execute("PRAGMA foreign_keys=OFF")
            try:
                await _begin(self._conn)
                try:
                    current = self._apply_migrations(check=enforced)
                    self._conn.execute("COMMIT")
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
            finally:
                if enforced:
                    self._conn.execute("PRAGMA foreign_keys=ON")
        return current

    def _apply_migrations(self, check: bool) -> int:
        """The migrations after the stored schema version, in order, inside the open
        transaction; with ``check``, refuses (raises) when they left a broken reference."""
        conn = self._conn
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
        current = int((row[0] if row else None) or 0)
        migrations = _migrations()
        known = migrations[-1][0] if migrations else 0
        if current > known:  # a newer thidua migrated it: leave it as it is
            raise SchemaTooNew(current, known)
        applied = False
        for version, sql in migrations:
            if version <= current:
                continue
            for statement in _statements(sql):
                conn.execute(statement)
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
            current = version
            applied = True
        if applied and check:
            broken = conn.execute("PRAGMA foreign_key_check").fetchall()
            if broken:
                shown = ", ".join(f"{r[0]} row {r[1]} -> {r[2]}" for r in broken[:5])
                raise sqlite3.IntegrityError(
                    f"the migrations left {len(broken)} broken reference(s): {shown}"
                )
        return current

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteTransaction]:
        """One unit of work: committed whole when the block ends, rolled back on error.
        Units of work on this storage never interleave (the lock). A unit of work takes
        the database's write lock with its first statement (waiting up to BUSY_TIMEOUT
        while another process holds it), so with another process on the same file it never
        reads a state that one commits over. A locked or failing database raises
        ``StorageBusy``."""
        async with self._lock:
            tx = SqliteTransaction(self._conn)
            try:
                yield tx
            except sqlite3.OperationalError as error:
                self._rollback()
                raise StorageBusy(str(error)) from error
            except BaseException:
                self._rollback()
                raise
            else:
                if self._conn.in_transaction:
                    try:
                        self._conn.execute("COMMIT")
                    except sqlite3.OperationalError as error:
                        self._rollback()
                        raise StorageBusy(str(error)) from error
                    self._committed()

    def _committed(self) -> None:
        """Start a checkpoint in a worker thread every CHECKPOINT_EVERY commits."""
        self._commits += 1
        if self._commits < CHECKPOINT_EVERY or (
            self._checkpoint is not None and not self._checkpoint.done()
        ):
            return
        self._commits = 0
        self._checkpoint = asyncio.get_running_loop().create_task(
            asyncio.to_thread(_checkpoint, self._path, "PASSIVE")
        )

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[SqliteReading]:
        """A read-only snapshot on a second connection, in aiosqlite's thread: long reads
        (a digest over every village) run there without holding the lock the units of work
        take, and without holding up the event loop, while those go on (SQLite's WAL lets
        one writer and readers work at once)."""
        async with self._reader_lock:
            if self._reader is None:
                self._reader = await aiosqlite.connect(self._path, isolation_level=None)
                self._reader.row_factory = aiosqlite.Row
                await self._reader.execute("PRAGMA query_only=ON")
                await self._reader.execute("PRAGMA busy_timeout=5000")
            await self._reader.execute("BEGIN")
            try:
                yield SqliteReading(self._reader)
            finally:
                await self._reader.execute("ROLLBACK")

    def _rollback(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")

    def lead(self, name: str) -> SoleLead:
        return SoleLead()

    def pace(self, channel: str) -> None:
        return None

    async def beat(self, owner: str, until: datetime) -> None:
        """Nothing to write: one process serves the file (``serve_alone``), and the claims
        of the one before it are voided when it takes over, so no other sender needs to
        know this one is alive."""

    async def on_queued(self, wake: Callable[[], None]) -> None:
        """One process serves the file: what it queues, it wakes its own sender for."""

    async def close(self) -> None:
        if self._checkpoint is not None:
            with contextlib.suppress(Exception):
                await self._checkpoint
        if self._reader is not None:
            await self._reader.close()
            self._reader = None
        self._conn.close()  # the last connection to close checkpoints the WAL
        if self._instance_lock is not None:
            os.close(self._instance_lock)  # the standby, if any, takes over now
            self._instance_lock = None


class SoleLead:
    """A lead on SQLite: one process serves a file (``serve_alone``), so it holds them all."""

    async def take(self) -> bool:
        return True

    async def held(self) -> bool:
        return True

    async def release(self) -> None:
        return None


def _checkpoint(path: Path, mode: str) -> None:
    """Copy the WAL's committed pages into the database file, on a connection of its own
    (run in a worker thread)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout=5000")
        conn.execute(f"PRAGMA wal_checkpoint({mode})")
    finally:
        conn.close()


async def _begin(conn: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE (the write lock), waiting without blocking the event loop while
    another process holds the lock, for up to BUSY_TIMEOUT; then OperationalError."""
    deadline = time.monotonic() + BUSY_TIMEOUT
    pause = 0.001
    while True:
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) and "busy" not in str(error):
                raise
            if time.monotonic() >= deadline:
                raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.05)


class SqliteTransaction(SqlTransaction):
    """The queries on the write connection, on the loop's thread; the transaction (and the
    write lock) begins at the first statement."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        if not self._conn.in_transaction:
            await _begin(self._conn)
        return self._conn.execute(sql, sqlite_params(params)).fetchall()

    async def _run(self, sql: str, params: Sequence[Any] = ()) -> int:
        if not self._conn.in_transaction:
            await _begin(self._conn)
        return self._conn.execute(sql, sqlite_params(params)).rowcount

    async def _many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        if not self._conn.in_transaction:
            await _begin(self._conn)
        self._conn.executemany(sql, map(sqlite_params, rows))


class SqliteReading(SqlTransaction):
    """The queries on the read-only connection, through aiosqlite's thread."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return list(await self._conn.execute_fetchall(sql, sqlite_params(params)))

    async def _run(self, sql: str, params: Sequence[Any] = ()) -> int:
        raise sqlite3.OperationalError("a reading() view is read-only")

    async def _many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        raise sqlite3.OperationalError("a reading() view is read-only")
