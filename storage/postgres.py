"""PostgreSQL storage on asyncpg: a pool of connections, one transaction per unit of work.

The queries are ``storage.sql``'s, with PostgreSQL's spelling of the few fragments that
differ and ``?`` turned into ``$n``. In one process, units of work take turns as on SQLite
(a lock: what the inbox, the outbox and the jobs of one process expect of each other); long
reads (``reading()``) run beside them on connections of their own. Several processes may
serve one database at once: their units of work run concurrently (READ COMMITTED), the
read-then-write steps take a transaction-scoped advisory lock (``_serialize``) and the
outbox is claimed with ``FOR UPDATE SKIP LOCKED``. Migrations run at start in one
transaction under an advisory lock, so instances starting together apply them once.
Every connection names its commune (``thidua.commune``), which fills ``commune_id`` and,
for roles that are not superusers, keeps the connection to that commune's rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from functools import lru_cache
from importlib import resources
from typing import Any

import asyncpg

from storage.repository import SchemaTooNew, StorageBusy
from storage.sql import SqlTransaction

log = logging.getLogger(__name__)

DEFAULT_COMMUNE = "default"
MIGRATION_LOCK = 0x7468_6964_7561  # "thidua": the advisory lock migrations run under
POOL_SIZE = 10
RELISTEN = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)  # seconds between tries to listen again

# What means "try the unit of work again" rather than a fault in it.
TRANSIENT = (
    ConnectionError,
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.LockNotAvailableError,
    asyncpg.exceptions.QueryCanceledError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.InternalClientError,  # a connection the server ended mid-exchange
    asyncpg.exceptions.DiskFullError,
)


def is_postgres_url(database_url: str) -> bool:
    return database_url.startswith(("postgresql://", "postgres://"))


def _migrations() -> list[tuple[int, str]]:
    folder = resources.files("storage") / "migrations" / "postgresql"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text(encoding="utf-8")))
    return sorted(found)


_PLACEHOLDER = re.compile(r"'(?:[^']|'')*'|\?")


@lru_cache(maxsize=1024)
def numbered(sql: str) -> str:
    """``?`` placeholders as PostgreSQL's ``$1``, ``$2``… (none inside string literals)."""
    count = 0

    def number(match: re.Match[str]) -> str:
        nonlocal count
        if match.group(0) != "?":
            return match.group(0)
        count += 1
        return f"${count}"

    return _PLACEHOLDER.sub(number, sql)


def _changed(status: str) -> int:
    """The row count of a command tag ("UPDATE 3", "INSERT 0 1", "DELETE 0")."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


class PostgresTransaction(SqlTransaction):
    AGGREGATE = "string_agg({}, ',')"
    JSON_TEXT = "to_json({})::text"
    JSON_LIST = "COALESCE(json_agg({}), '[]'::json)"
    JSON_OBJECT = "json_build_object"
    JSON_ARRAY = "json_build_array"
    FILE_IN_ANSWER = "(value::json ->> 'file_id')"
    CONTAINS = "strpos({}::text, {}) > 0"
    LATER = "GREATEST({}, {})"
    EARLIER = "LEAST({}, {})"
    TIMESTAMP = "::timestamptz"
    DOCUMENT = "::json"
    SKIP_LOCKED = " FOR UPDATE OF o SKIP LOCKED"
    SCOPE = "commune_id, "

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return list(await self._conn.fetch(numbered(sql), *params))

    async def _run(self, sql: str, params: Sequence[Any] = ()) -> int:
        return _changed(await self._conn.execute(numbered(sql), *params))

    async def _many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        batch = list(rows)
        if batch:
            await self._conn.executemany(numbered(sql), batch)

    async def _serialize(self, key: str) -> None:
        await self._conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || ':'"
            " || current_setting('thidua.commune') || ':' || $1, 0))",
            key,
        )


class AdvisoryLead:
    """A lead held as a session-level advisory lock, on a connection of its own (not the
    pool's): PostgreSQL lets it go the moment that connection ends, however its process
    ended, and another instance's ``take`` then succeeds."""

    def __init__(self, database_url: str, commune: str, name: str) -> None:
        self._url = database_url
        self._key = f"lead:{commune}:{name}"
        self._conn: asyncpg.Connection | None = None

    async def take(self) -> bool:
        try:
            if self._conn is None or self._conn.is_closed():
                self._conn = await asyncpg.connect(self._url)
            taken = await self._conn.fetchval(
                "SELECT pg_try_advisory_lock(hashtextextended(current_schema() || ':' || $1, 0))",
                self._key,
            )
        except (OSError, *TRANSIENT, asyncpg.PostgresError):
            await self.release()
            return False
        return bool(taken)

    async def held(self) -> bool:
        if self._conn is None or self._conn.is_closed():
            return False
        try:
            mine = await self._conn.fetchval(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND pid = pg_backend_pid()"
            )
        except (OSError, *TRANSIENT, asyncpg.PostgresError):
            await self.release()
            return False
        return bool(mine)

    async def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            with contextlib.suppress(OSError, *TRANSIENT, asyncpg.PostgresError):
                await conn.close(timeout=5)


class PooledPace:
    """A channel's pace in the ``send_pace`` row, by the database's clock (the instances'
    clocks may differ by a little; the database's is one): each turn is one statement on a
    connection of the pool, outside any unit of work, the row's lock ordering the
    instances that ask at once."""

    def __init__(self, pool: asyncpg.Pool, channel: str) -> None:
        self._pool = pool
        self._channel = channel

    async def turn(self, interval: float) -> float:
        try:
            wait = await self._pool.fetchval(
                "INSERT INTO send_pace (channel, next_at) VALUES"
                " ($1, clock_timestamp() + make_interval(secs => $2))"
                " ON CONFLICT (commune_id, channel) DO UPDATE SET next_at ="
                " GREATEST(send_pace.next_at, clock_timestamp()) + make_interval(secs => $2)"
                " RETURNING EXTRACT(EPOCH FROM next_at - clock_timestamp())::float8 - $2",
                self._channel,
                interval,
            )
        except (OSError, *TRANSIENT, asyncpg.PostgresError) as error:
            # the database unreachable: the message waits one interval more, paced alone
            log.warning("the shared pace of %s could not be read: %s", self._channel, error)
            return interval
        return max(0.0, float(wait))


class PostgresStorage:
    """``Storage`` on a PostgreSQL database, shared with any number of other instances."""

    def __init__(self, pool: asyncpg.Pool, commune: str, database_url: str = "") -> None:
        self._pool = pool
        self._url = database_url
        self._lock = asyncio.Lock()
        self.commune = commune
        self._queue_channel = f"thidua_outbox:{commune}"  # NOTIFY's, when a message is queued
        self._listener: asyncpg.Connection | None = None
        self._wake: Callable[[], None] | None = None
        self._relistening: asyncio.Task[None] | None = None
        self._closing = False

    @classmethod
    async def open(
        cls, database_url: str, commune: str = DEFAULT_COMMUNE, pool_size: int = POOL_SIZE
    ) -> PostgresStorage:
        """Connect (a pool of up to ``pool_size`` connections) and migrate. Query parameters
        of the URL other than asyncpg's own are server settings (``?search_path=x``)."""
        pool = await asyncpg.create_pool(
            database_url,
            min_size=1,
            max_size=pool_size,
            server_settings={"thidua.commune": commune, "application_name": "thidua"},
        )
        storage = cls(pool, commune, database_url)
        try:
            await storage.migrate()
        except BaseException:
            await pool.close()
            raise
        return storage

    async def migrate(self) -> int:
        """Apply the migrations not yet applied, in one transaction under an advisory lock
        (an instance starting meanwhile waits, then finds them applied); returns the schema
        version. A database migrated by a newer thidua raises SchemaTooNew, unchanged."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
            if await conn.fetchval("SELECT to_regclass('schema_version')") is None:
                # (a role that may use the tables but not create any gets this far too)
                await conn.execute("CREATE TABLE schema_version (version integer NOT NULL)")
            current = int(await conn.fetchval("SELECT MAX(version) FROM schema_version") or 0)
            migrations = _migrations()
            known = migrations[-1][0] if migrations else 0
            if current > known:
                raise SchemaTooNew(current, known)
            for version, sql in migrations:
                if version <= current:
                    continue
                await conn.execute(sql)
                await conn.execute("INSERT INTO schema_version (version) VALUES ($1)", version)
                current = version
        return current

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresTransaction]:
        """One unit of work on a connection of the pool: committed whole when the block
        ends, rolled back on error; a connection lost or a conflict the database gives up
        on (serialization, deadlock) raises ``StorageBusy``."""
        async with self._lock, self._unit_of_work() as tx:
            yield tx

    @asynccontextmanager
    async def _unit_of_work(self) -> AsyncIterator[PostgresTransaction]:
        try:
            conn = await self._pool.acquire()
        except (OSError, *TRANSIENT) as error:
            raise StorageBusy(str(error)) from error
        try:
            transaction = conn.transaction()
            await transaction.start()
            tx = PostgresTransaction(conn)
            try:
                yield tx
            except BaseException:
                with contextlib.suppress(asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
                    await transaction.rollback()
                raise
            else:
                if tx.queued:  # delivered to the listeners when (and only if) this commits
                    await conn.execute("SELECT pg_notify($1, '')", self._queue_channel)
                await transaction.commit()
        except TRANSIENT as error:
            raise StorageBusy(str(error)) from error
        finally:
            await self._pool.release(conn)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[PostgresTransaction]:
        """A consistent read-only view (REPEATABLE READ) that holds up no unit of work."""
        try:
            async with self._pool.acquire() as conn:
                async with conn.transaction(isolation="repeatable_read", readonly=True):
                    yield PostgresTransaction(conn)
        except TRANSIENT as error:
            raise StorageBusy(str(error)) from error

    def lead(self, name: str) -> AdvisoryLead:
        return AdvisoryLead(self._url, self.commune, name)

    def pace(self, channel: str) -> PooledPace:
        return PooledPace(self._pool, channel)

    async def serve_alone(self, owner: str, on_standby: Callable[[str], None]) -> None:
        """Return at once: several instances serve one PostgreSQL database together (a gone
        one's outbox claims end with its heartbeat, or its lease; none voids another's)."""

    async def beat(self, owner: str, until: datetime) -> None:
        """``owner``'s sender is alive until ``until``: one statement on a connection of the
        pool, never waiting behind this process's units of work (a heartbeat held up there
        would let the others take this sender's claims while it still sends them)."""
        async with self._pool.acquire() as conn:
            await PostgresTransaction(conn).sender_alive(owner, until)

    async def on_queued(self, wake: Callable[[], None]) -> None:
        """Call ``wake`` whenever an instance (this one too) commits a queued message: the
        others' senders look at the outbox at once instead of at their next tick. The
        listening connection, lost (the server restarted), is made again with growing
        pauses; ``wake`` is called then too, for what was queued meanwhile."""
        self._wake = wake
        await self._listen()

    async def _listen(self) -> None:
        conn = await asyncpg.connect(self._url)
        await conn.add_listener(self._queue_channel, lambda *_: self._woken())
        conn.add_termination_listener(self._listener_lost)
        self._listener = conn

    def _woken(self) -> None:
        if self._wake is not None:
            self._wake()

    def _listener_lost(self, _conn: object) -> None:
        if self._closing:
            return
        log.warning("the outbox's NOTIFY connection was lost; listening again")
        self._relistening = asyncio.get_running_loop().create_task(self._listen_again())

    async def _listen_again(self) -> None:
        for attempt in itertools.count():
            await asyncio.sleep(RELISTEN[min(attempt, len(RELISTEN) - 1)])
            try:
                await self._listen()
            except (OSError, *TRANSIENT, asyncpg.PostgresError):
                continue
            log.info("the outbox's NOTIFY connection is back")
            self._woken()
            return

    async def close(self) -> None:
        self._closing = True
        if self._relistening is not None:
            self._relistening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._relistening
        if self._listener is not None:
            with contextlib.suppress(OSError, *TRANSIENT, asyncpg.PostgresError):
                await self._listener.close(timeout=5)
            self._listener = None
        await self._pool.close()
