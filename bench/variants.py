"""thidua's Telegram bot with some settings changed, for the benchmark: what ``thidua run``
does, but with a ``TelegramChannel`` and storage connection set up here.

    python -m bench.variants FEATURE[+FEATURE...]

Features:

- ``nodefaults``: no ``Defaults(tzinfo=…)`` on the Application (nothing uses it, and with
  Defaults set PTB inspects every parameter of every Bot API call);
- ``syncdb``: the same SQL on the same database, but through the standard ``sqlite3`` module
  on the event loop's thread instead of aiosqlite's worker thread (no thread hand-off per
  statement);
- ``poolN`` (``pool8``…): at most N connections in the bot's HTTP pool (PTB's default is 256;
  httpcore checks every pooled connection, with two system calls each, around every request);
- ``shipped``: nothing changed.

Settings come from the environment, as for ``thidua run``.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import sys
from collections.abc import Iterable, Sequence
from typing import Any

import aiosqlite

from bot.app.bootstrap import App, build, setup_logging
from bot.app.config import Settings
from bot.channels.telegram import TelegramChannel, TelegramOptions, Tuning
from storage.sqlite import SqliteStorage, sqlite_path

FEATURES = ("nodefaults", "syncdb", "poolN", "shipped")


def known_feature(feature: str) -> bool:
    if feature.startswith("pool"):
        return feature[4:].isdigit() and int(feature[4:]) > 0
    return feature in FEATURES


def pool_size(features: set[str]) -> int | None:
    sizes = [int(f[4:]) for f in features if f.startswith("pool")]
    return sizes[0] if sizes else None


class SyncConnection:
    """The part of ``aiosqlite.Connection`` that ``SqliteStorage`` uses, run synchronously
    with ``sqlite3`` on the calling thread (awaiting it never suspends)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Cursor:
        return self._conn.execute(sql, tuple(params))

    async def execute_fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        return self._conn.execute(sql, tuple(params)).fetchall()

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> sqlite3.Cursor:
        return self._conn.executemany(sql, rows)

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        self._conn.close()


async def use_sync_connection(storage: SqliteStorage, settings: Settings) -> None:
    """Swap the storage's aiosqlite connection for a ``SyncConnection`` on the same file,
    with the same pragmas (migrations have already run)."""
    old: aiosqlite.Connection = storage._conn
    await old.close()
    conn = sqlite3.connect(
        sqlite_path(settings.database_url), isolation_level="DEFERRED", check_same_thread=False
    )
    conn.row_factory = sqlite3.Row
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
        conn.execute(f"PRAGMA {pragma}")
    conn.execute("PRAGMA busy_timeout=5000")
    storage._conn = SyncConnection(conn)  # type: ignore[assignment]


async def serve(app: App, features: set[str]) -> None:
    s = app.settings
    assert s.telegram_token
    if "syncdb" in features:
        assert isinstance(app.storage, SqliteStorage)
        await use_sync_connection(app.storage, s)
    options = TelegramOptions(
        token=s.telegram_token, api_url=s.telegram_api_url, rate_limit=s.telegram_rate_limit
    )
    tuning = Tuning(
        defaults="nodefaults" not in features,
        connection_pool_size=pool_size(features),
    )
    channel = TelegramChannel(options, app.inbox, app.plan.tz, tuning)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    app.add_channel(channel)
    await app.inbox.start()
    await channel.connect()
    await app.start_background()
    try:
        await stop.wait()
    finally:
        await app.close()


async def run(features: set[str]) -> None:
    settings = Settings.from_env()
    setup_logging(settings)
    await serve(await build(settings), features)


def main() -> None:
    features = set(sys.argv[1].split("+")) if len(sys.argv) > 1 else set()
    if not features or not all(map(known_feature, features)):
        raise SystemExit(f"usage: python -m bench.variants FEATURE[+FEATURE...]; {FEATURES}")
    asyncio.run(run(features))


if __name__ == "__main__":
    main()
