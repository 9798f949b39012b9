"""``thidua db copy``: a commune's whole database from one engine to the other, verified.

Both databases are opened (and so migrated) by their storage first; the copy then works on
the tables themselves: every table in the order its references need, the rows with their
ids, in one transaction on the target. Before that transaction commits, every table is read
back from the target and compared with the source: the same number of rows and the same
checksum (SHA-256 over the rows in a canonical text form, sorted, so that both engines'
spellings of a moment, a number or a yes/no compare equal). A target that holds any row
already is refused, and nothing is written to it.
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import asyncpg

from storage.sql import iso
from storage.sqlite import sqlite_params

# Every table a commune's data lives in, each after the tables it refers to.
TABLES = (
    "people",
    "identities",
    "invites",
    "invite_failures",
    "drafts",
    "files",
    "reports",
    "answers",
    "meta",
    "nominations",
    "nomination_photos",
    "nomination_events",
    "inbox",
    "outbox",
    "outbox_files",
    "score_claims",
    "score_events",
    "score_snapshots",
)
# What running instances keep for each other (their pace, which of them are alive) and the
# web page's sign-in links and sessions: not a commune's data, so not copied (people sign in
# to the web page again on the new database).
RUNTIME = ("send_pace", "senders", "web_links", "web_sessions")
ENGINE_ONLY = {"commune_id"}  # PostgreSQL's, filled by the target from THIDUA_COMMUNE
BATCH = 500


class CopyRefused(Exception):
    """The copy was not made; the target is as it was. ``reason``: ``not_empty`` (the
    tables holding rows), ``schema`` (a table whose columns differ: the versions differ),
    ``differs`` (a table read back unlike the source), ``broken`` (rows referring to
    nothing); ``tables``: the tables concerned, with a count where one applies."""

    def __init__(self, reason: str, tables: Sequence[tuple[str, int]]) -> None:
        super().__init__(f"{reason}: {', '.join(f'{t} ({n})' for t, n in tables)}")
        self.reason = reason
        self.tables = list(tables)


@dataclass(frozen=True)
class Table:
    name: str
    rows: int
    checksum: str


def canonical(value: Any) -> str:
    """One value as text both engines' spellings of it give alike."""
    if value is None:
        return "\x00"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return "b:" + hashlib.sha256(bytes(value)).hexdigest()
    return str(value)


def checksum(rows: Iterable[Sequence[Any]]) -> tuple[int, str]:
    """How many rows, and the SHA-256 of their canonical forms, sorted."""
    lines = sorted("\x1f".join(map(canonical, row)) for row in rows)
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line.encode("utf-8", "surrogatepass"))
        digest.update(b"\x1e")
    return len(lines), digest.hexdigest()


class Side(Protocol):
    async def columns(self, table: str) -> list[str]: ...
    async def count(self, table: str) -> int: ...
    async def rows(self, table: str, columns: Sequence[str]) -> list[tuple[Any, ...]]: ...
    async def insert(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None: ...
    async def begin(self) -> None: ...
    async def begin_reading(self) -> None: ...
    async def finish(self) -> None: ...
    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...
    async def close(self) -> None: ...


class SqliteSide:
    """A SQLite file, through the standard module (a command, not the bot: it may block)."""

    def __init__(self, path: Path) -> None:
        self._conn = sqlite3.connect(path, isolation_level=None)
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._conn.execute("PRAGMA busy_timeout=5000")

    async def columns(self, table: str) -> list[str]:
        return [row[1] for row in self._conn.execute(f"PRAGMA table_info({table})")]

    async def count(self, table: str) -> int:
        return int(self._conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])

    async def rows(self, table: str, columns: Sequence[str]) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self._conn.execute(f"SELECT {', '.join(columns)} FROM {table}")]

    async def insert(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        marks = ", ".join("?" for _ in columns)
        self._conn.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
            map(sqlite_params, rows),
        )

    async def begin(self) -> None:
        self._conn.execute("BEGIN IMMEDIATE")

    async def begin_reading(self) -> None:
        """One snapshot for every table read (a bot may go on writing meanwhile)."""
        self._conn.execute("BEGIN")
        self._conn.execute("SELECT COUNT(*) FROM schema_version").fetchone()

    async def finish(self) -> None:
        broken = self._conn.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            tables: dict[str, int] = {}
            for row in broken:
                tables[row[0]] = tables.get(row[0], 0) + 1
            raise CopyRefused("broken", sorted(tables.items()))

    async def commit(self) -> None:
        self._conn.execute("COMMIT")

    async def rollback(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    async def close(self) -> None:
        self._conn.close()


class PostgresSide:
    """One commune's rows of a PostgreSQL database (``commune_id`` = the commune)."""

    def __init__(self, conn: asyncpg.Connection, commune: str) -> None:
        self._conn = conn
        self._commune = commune
        self._types: dict[str, dict[str, str]] = {}
        self._transaction: Any = None

    @classmethod
    async def connect(cls, url: str, commune: str) -> PostgresSide:
        conn = await asyncpg.connect(url, server_settings={"thidua.commune": commune})
        return cls(conn, commune)

    async def _column_types(self, table: str) -> dict[str, str]:
        if table not in self._types:
            rows = await self._conn.fetch(
                "SELECT column_name, data_type FROM information_schema.columns"
                " WHERE table_name = $1 AND table_schema = current_schema()"
                " ORDER BY ordinal_position",
                table,
            )
            self._types[table] = {row["column_name"]: row["data_type"] for row in rows}
        return self._types[table]

    async def columns(self, table: str) -> list[str]:
        return list(await self._column_types(table))

    async def count(self, table: str) -> int:
        return int(
            await self._conn.fetchval(
                f"SELECT COUNT(*) FROM {table} WHERE commune_id = $1", self._commune
            )
        )

    async def rows(self, table: str, columns: Sequence[str]) -> list[tuple[Any, ...]]:
        found = await self._conn.fetch(
            f"SELECT {', '.join(columns)} FROM {table} WHERE commune_id = $1", self._commune
        )
        return [tuple(row) for row in found]

    async def insert(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        types = await self._column_types(table)
        kinds = [types[c] for c in columns]
        marks = ", ".join(f"${n}" for n in range(1, len(columns) + 1))
        await self._conn.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
            [
                [_postgres_value(v, kind) for v, kind in zip(row, kinds, strict=True)]
                for row in rows
            ],
        )

    async def begin(self) -> None:
        self._transaction = self._conn.transaction()
        await self._transaction.start()

    async def begin_reading(self) -> None:
        """One snapshot for every table read (the bots may go on writing meanwhile)."""
        self._transaction = self._conn.transaction(isolation="repeatable_read", readonly=True)
        await self._transaction.start()

    async def finish(self) -> None:
        """The identity columns continue after the ids copied."""
        for table in TABLES:
            if "id" in await self._column_types(table):
                await self._conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                    f" GREATEST((SELECT MAX(id) FROM {table}), 1))"
                )

    async def commit(self) -> None:
        await self._transaction.commit()

    async def rollback(self) -> None:
        if self._transaction is not None:
            with contextlib.suppress(asyncpg.InterfaceError):
                await self._transaction.rollback()

    async def close(self) -> None:
        await self._conn.close()


def _postgres_value(value: Any, kind: str) -> Any:
    """A SQLite value as the PostgreSQL column of ``kind`` takes it."""
    if value is None or not isinstance(value, str | int) or isinstance(value, bool):
        return value
    if kind == "timestamp with time zone" and isinstance(value, str):
        return datetime.fromisoformat(value)
    if kind == "date" and isinstance(value, str):
        return date.fromisoformat(value)
    if kind == "numeric":
        return Decimal(value)
    if kind == "boolean":
        return bool(value)
    return value


async def copy_database(source: Side, target: Side) -> list[Table]:
    """Copy every table from ``source`` to an empty ``target``, verify it, commit; each
    table's row count and checksum. CopyRefused (the target unchanged) when the target
    holds rows or a table differs once copied."""
    plan: list[tuple[str, list[str]]] = []
    for table in TABLES:
        theirs = set(await target.columns(table)) - ENGINE_ONLY
        ours = [c for c in await source.columns(table) if c not in ENGINE_ONLY]
        if set(ours) != theirs:
            raise CopyRefused("schema", [(table, len(set(ours) ^ theirs))])
        plan.append((table, ours))
    full = [(table, n) for table, _ in plan if (n := await target.count(table))]
    if full:
        raise CopyRefused("not_empty", full)
    copied: list[Table] = []
    await source.begin_reading()
    await target.begin()
    try:
        for table, columns in plan:
            rows = await source.rows(table, columns)
            for start in range(0, len(rows), BATCH):
                await target.insert(table, columns, rows[start : start + BATCH])
            expected = checksum(rows)
            found = checksum(await target.rows(table, columns))
            if found != expected:
                raise CopyRefused("differs", [(table, found[0])])
            copied.append(Table(table, *expected))
        await target.finish()
        await target.commit()
    except BaseException:
        await target.rollback()
        raise
    finally:
        await source.rollback()
    return copied
