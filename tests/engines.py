"""The engines the storage and end-to-end tests run on: SQLite files and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from storage.postgres import DEFAULT_COMMUNE, PostgresStorage, is_postgres_url
from storage.repository import Storage
from storage.sqlite import SqliteStorage, sqlite_path

# THIDUA_TEST_ENGINES=sqlite runs the suite on SQLite alone (the calendar runs do: the
# clock they fake is the tests', which both engines receive the same way).
ENGINES = tuple(
    name
    for name in os.environ.get("THIDUA_TEST_ENGINES", "sqlite,postgresql").split(",")
    if name in ("sqlite", "postgresql")
) or ("sqlite",)
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/test"
SKIPPED = "no PostgreSQL server answers at"

_server: str | None = None
_refused: str | None = None


def postgres_server() -> str:
    """THIDUA_TEST_POSTGRES (default: the machine's server), once it answered a query;
    skips the test when it does not, or fails it with THIDUA_REQUIRE_POSTGRES=1."""
    global _server, _refused
    if "postgresql" not in ENGINES:
        pytest.skip("THIDUA_TEST_ENGINES leaves PostgreSQL out")
    url = os.environ.get("THIDUA_TEST_POSTGRES", DEFAULT_SERVER)
    if _server is None and _refused is None:

        async def probe() -> None:
            conn = await asyncpg.connect(url, timeout=3)
            try:
                await conn.fetchval("SELECT 1")
            finally:
                await conn.close()

        try:
            # in a thread of its own: the caller may be inside the test's event loop
            with ThreadPoolExecutor(1) as thread:
                thread.submit(asyncio.run, probe()).result()
            _server = url
        except (OSError, asyncpg.PostgresError, TimeoutError) as error:
            _refused = f"{error.__class__.__name__}: {error}"
    if _server is None:
        parts = urlsplit(url)
        where = f"{parts.hostname}:{parts.port or 5432}"  # never the user or the password
        message = f"{SKIPPED} {where} ({_refused})"
        if os.environ.get("THIDUA_REQUIRE_POSTGRES") == "1":
            pytest.fail(message + "; THIDUA_REQUIRE_POSTGRES=1 requires one", pytrace=False)
        pytest.skip(message)
    return _server


def with_search_path(url: str, schema: str) -> str:
    """``url`` with its connections' search_path set to ``schema``."""
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, f"search_path={schema}") if q)
    return urlunsplit(parts._replace(query=query))


@asynccontextmanager
async def postgres_schema(server: str) -> AsyncIterator[str]:
    """A fresh, empty schema in the server's database (a database of its own for one
    test, cheaper than CREATE DATABASE), as a DATABASE_URL; dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    conn = await asyncpg.connect(server)
    try:
        await conn.execute(f"CREATE SCHEMA {schema}")
    finally:
        await conn.close()
    try:
        yield with_search_path(server, schema)
    finally:
        conn = await asyncpg.connect(server)
        try:
            await conn.execute(f"DROP SCHEMA {schema} CASCADE")
        finally:
            await conn.close()


async def open_url(database_url: str) -> Storage:
    """The storage a DATABASE_URL names (as ``thidua`` opens it)."""
    if is_postgres_url(database_url):
        return await PostgresStorage.open(database_url)
    return await SqliteStorage.open(sqlite_path(database_url))


# The errors each engine raises when the schema refuses a change (a key taken, a reference
# to nothing, a CHECK failed) and when a trigger does (an append-only table).
REFUSED: tuple[type[Exception], ...] = (
    sqlite3.IntegrityError,
    asyncpg.exceptions.IntegrityConstraintViolationError,
)
RAISED: tuple[type[Exception], ...] = (sqlite3.DatabaseError, asyncpg.exceptions.RaiseError)


async def execute(database_url: str, sql: str) -> None:
    """Run one statement on the database directly (beside the storage, as an operator or
    another program would), committed."""
    if is_postgres_url(database_url):
        conn = await asyncpg.connect(
            database_url, server_settings={"thidua.commune": DEFAULT_COMMUNE}
        )
        try:
            await conn.execute(sql)
        finally:
            await conn.close()
        return
    with contextlib.closing(sqlite3.connect(sqlite_path(database_url))) as conn, conn:
        conn.execute(sql)


async def fetch(database_url: str, sql: str) -> list[tuple[object, ...]]:
    """The rows of one query run on the database directly (beside the storage)."""
    if is_postgres_url(database_url):
        conn = await asyncpg.connect(database_url)
        try:
            return [tuple(row) for row in await conn.fetch(sql)]
        finally:
            await conn.close()
    with contextlib.closing(sqlite3.connect(sqlite_path(database_url))) as conn:
        return [tuple(row) for row in conn.execute(sql)]


@asynccontextmanager
async def held(database_url: str) -> AsyncIterator[None]:
    """The database held by another program for the block's time: SQLite's write lock
    (BEGIN IMMEDIATE), or on PostgreSQL an exclusive lock on the inbox and the outbox; the
    storage's units of work that write there wait until the block ends."""
    if is_postgres_url(database_url):
        conn = await asyncpg.connect(database_url)
        try:
            async with conn.transaction():
                await conn.execute("LOCK TABLE inbox, outbox IN ACCESS EXCLUSIVE MODE")
                yield
        finally:
            await conn.close()
        return
    blocker = sqlite3.connect(sqlite_path(database_url), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
