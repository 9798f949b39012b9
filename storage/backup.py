"""Backing up and restoring a SQLite database with SQLite's online backup API.

The backup API copies the database page by page through SQLite itself, so the copy is a
consistent snapshot even while a running bot writes (in WAL mode a reader never blocks the
writer), and the WAL's committed pages are in it — copying the file would miss them.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


class DatabaseHeld(Exception):
    """A running ``thidua run`` serves this database (it holds ``<database>.lock``)."""


class NotABackup(Exception):
    """The file is not a thidua database SQLite can read whole."""


@dataclass(frozen=True)
class Copied:
    """What a backup or restore copied: the schema version and the people and reports in it."""

    schema: int
    people: int
    reports: int


def _summary(conn: sqlite3.Connection) -> Copied:
    """Check ``conn``'s database whole (``PRAGMA integrity_check``) and say what it holds;
    NotABackup when it is damaged or not a thidua database."""
    try:
        verdict = conn.execute("PRAGMA integrity_check").fetchone()
        if verdict is None or verdict[0] != "ok":
            raise NotABackup(str(verdict[0] if verdict else "no answer"))
        schema = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
        people = conn.execute("SELECT COUNT(*) FROM people").fetchone()[0]
        reports = conn.execute("SELECT COUNT(*) FROM reports").fetchone()[0]
    except sqlite3.DatabaseError as error:
        raise NotABackup(str(error)) from None
    return Copied(int(schema or 0), int(people), int(reports))


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def backup_database(source: Path, target: Path) -> Copied:
    """Copy the database ``source`` into the new file ``target`` (FileExistsError when it
    exists; nothing is overwritten), consistent even while a bot writes to ``source``, and
    check the copy whole."""
    if not source.exists():
        raise FileNotFoundError(source)
    if target.exists():
        raise FileExistsError(target)
    src = _read_only(source)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
            # one self-contained file: no -wal beside it, and reading it creates none
            dst.execute("PRAGMA journal_mode=DELETE")
            return _summary(dst)
        finally:
            dst.close()
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    finally:
        src.close()


@contextlib.contextmanager
def _served_by_none(database: Path) -> Iterator[None]:
    """Hold the lock ``thidua run`` serves ``database`` under (``<database>.lock``, see
    ``SqliteStorage.serve_alone``), so no bot serves it meanwhile; DatabaseHeld when one
    does."""
    fd = os.open(database.with_name(database.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DatabaseHeld(str(database)) from None
        yield
    finally:
        os.close(fd)  # releases the lock


def restore_database(backup: Path, database: Path, keep: Path | None) -> Copied:
    """Put the backup ``backup`` back as ``database``: refused (DatabaseHeld) while a bot
    serves it, and (NotABackup) when the backup is damaged or not a thidua database; the
    database it replaces is first backed up to ``keep`` (when it exists), so nothing is lost."""
    src = _read_only(backup)
    try:
        _summary(src)
        with _served_by_none(database):
            if keep is not None and database.exists():
                backup_database(database, keep)
            dst = sqlite3.connect(database)
            try:
                src.backup(dst)
                return _summary(dst)
            finally:
                dst.close()
    finally:
        src.close()
