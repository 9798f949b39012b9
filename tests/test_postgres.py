"""PostgreSQL's own: migrations under a lock, the commune key on every row, the two schemas
alike, and ``thidua db copy`` from SQLite to PostgreSQL and back."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bot.app.cli import main
from bot.domain import Identity, Invite
from bot.messages import Incoming, OutgoingFile, Reply
from storage.copy import RUNTIME, TABLES
from storage.postgres import PostgresStorage
from storage.repository import SchemaTooNew, Storage
from storage.sqlite import SqliteStorage
from tests import engines
from tests.conftest import SMALL_PLAN

T0 = datetime(2026, 11, 24, 3, 0, 0, 123456, tzinfo=UTC)  # microseconds kept too


@pytest.fixture
async def pg_url(postgres_server: str) -> object:
    async with engines.postgres_schema(postgres_server) as url:
        yield url


async def test_instances_starting_at_once_migrate_once(pg_url: str) -> None:
    """Five instances open one empty database together: the advisory lock lets one apply
    the migrations while the others wait, and each then finds the schema there."""
    stores = await asyncio.gather(*(PostgresStorage.open(pg_url) for _ in range(5)))
    try:
        versions = await engines.fetch(pg_url, "SELECT version FROM schema_version")
        assert versions == [(7,), (8,), (9,)]
        async with stores[3].transaction() as tx:
            person = await tx.create_person("Anh Một", "head", "thon_1", "vi", T0)
        async with stores[0].transaction() as tx:
            assert await tx.person(person.id) == person
    finally:
        await asyncio.gather(*(s.close() for s in stores))


async def test_a_newer_schema_is_refused_unchanged(pg_url: str) -> None:
    store = await PostgresStorage.open(pg_url)
    await store.close()
    await engines.execute(pg_url, "INSERT INTO schema_version (version) VALUES (99)")
    with pytest.raises(SchemaTooNew) as refused:
        await PostgresStorage.open(pg_url)
    assert (refused.value.stored, refused.value.known) == (99, 9)
    assert await engines.fetch(pg_url, "SELECT MAX(version) FROM schema_version") == [(99,)]


async def test_every_row_names_its_commune_and_a_commune_sees_only_its_own(
    pg_url: str, postgres_server: str
) -> None:
    """Two communes in one database: each row carries the commune of the connection that
    wrote it; for a role that is not a superuser (as a deployment's should be), row-level
    security shows each commune its own rows only."""
    store = await PostgresStorage.open(pg_url, commune="nam-dong")
    await store.close()
    schema = pg_url.rsplit("search_path=", 1)[1]
    role = f"thidua_{schema}"
    await engines.execute(
        pg_url,
        f"CREATE ROLE {role} LOGIN; GRANT USAGE ON SCHEMA {schema} TO {role};"
        f" GRANT ALL ON ALL TABLES IN SCHEMA {schema} TO {role};"
        f" GRANT ALL ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
    )
    as_role = pg_url.replace("postgres@", f"{role}@", 1)
    try:
        nam_dong = await PostgresStorage.open(as_role, commune="nam-dong")
        ea_po = await PostgresStorage.open(as_role, commune="ea-po")
        try:
            async with nam_dong.transaction() as tx:
                head = await tx.create_person("Anh Nam", "head", "thon_1", "vi", T0)
                await tx.add_identity(head.id, Identity("zalo", "z1", "z1"), T0)
                await tx.add_report("thon_1", "thang", "2026-11", {"a": 1}, head.id, T0)
            async with ea_po.transaction() as tx:
                other = await tx.create_person("Chị Pô", "head", "thon_1", "vi", T0)
                await tx.add_identity(other.id, Identity("zalo", "z1", "z1"), T0)  # same user id
                assert [p.name for p in await tx.people()] == ["Chị Pô"]
                assert await tx.reports() == []
                assert (await tx.person_by_identity("zalo", "z1")) == await tx.person(other.id)
            async with nam_dong.transaction() as tx:
                assert [p.name for p in await tx.people()] == ["Anh Nam"]
                assert len(await tx.reports()) == 1
        finally:
            await nam_dong.close()
            await ea_po.close()
        rows = await engines.fetch(pg_url, "SELECT commune_id, name FROM people ORDER BY id")
        assert rows == [("nam-dong", "Anh Nam"), ("ea-po", "Chị Pô")]
        for table in TABLES:  # every table of a commune's data has the key, none empty
            [(nulls,)] = await engines.fetch(
                pg_url, f"SELECT COUNT(*) FROM {table} WHERE commune_id IS NULL"
            )
            assert nulls == 0
    finally:
        await engines.execute(
            pg_url,
            f"REASSIGN OWNED BY {role} TO postgres; DROP OWNED BY {role}; DROP ROLE {role}",
        )


async def _columns(url: str) -> dict[str, set[str]]:
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        with sqlite3.connect(path) as conn:
            names = [
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            ]
            return {n: {r[1] for r in conn.execute(f"PRAGMA table_info({n})")} for n in names}
    rows = await engines.fetch(
        url,
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema()",
    )
    found: dict[str, set[str]] = {}
    for table, column in rows:
        found.setdefault(str(table), set()).add(str(column))
    return found


async def test_both_engines_have_the_same_tables_and_columns(pg_url: str, tmp_path: Path) -> None:
    lite = f"sqlite:///{tmp_path / 'thidua.db'}"
    for url in (lite, pg_url):
        await (await engines.open_url(url)).close()
    sqlite_tables = await _columns(lite)
    pg_tables = await _columns(pg_url)
    assert set(sqlite_tables) == set(pg_tables)
    # db copy takes every table but the running instances' own state
    assert set(TABLES) == set(sqlite_tables) - {"schema_version", *RUNTIME}
    for table, columns in sqlite_tables.items():
        extra = {"commune_id"} if table != "schema_version" else set()
        assert pg_tables[table] == columns | extra, table


async def fill(store: Storage) -> None:
    """A little of everything a commune's database holds."""
    async with store.transaction() as tx:
        head = await tx.create_person("Anh Ba", "head", "thon_1", "vi", T0)
        clerk = await tx.create_person("Chị Tư", "secretariat", None, "en", T0, is_console=True)
        await tx.add_identity(head.id, Identity("zalo", "z9", "z9", "Ba"), T0)
        await tx.add_identity(clerk.id, Identity("telegram", "77", "77"), T0)
        await tx.create_invite(Invite("HEAD2345", "head", "thon_2", T0, T0 + timedelta(days=7)))
        await tx.record_invite_failure("zalo", "z5", T0)
        await tx.save_draft(head.id, {"form": "thang", "answers": {"a": "12.5"}}, T0)
        photo = await tx.store_file(b"\x89PNG photo", "image/png", T0)
        await tx.add_report("thon_1", "thang", "2026-11", {"a": 412, "b": "có"}, head.id, T0)
        await tx.add_report("thon_1", "thang", "2026-11", {"a": 413, "b": None}, head.id, T0)
        await tx.set_meta("telegram_username", "thidua_bot")
        nomination = await tx.add_nomination(
            head.id, "Bà Năm", "thon_1", "Hiến đất làm đường", "hien_dat", [photo], 2026, T0,
            ["Con đường"],
        )  # fmt: skip
        await tx.change_nomination(
            nomination.id, "review", "accepted", clerk.id, "accepted", "Tốt", T0
        )
        [event_id] = await tx.receive_events(
            [Incoming("zalo", "z9", "z9", "text", text="xin chào", update_key="u1")], T0
        )
        assert event_id is not None and await tx.claim_event(event_id, T0)
        reply = Reply("Bảng tính", files=(OutgoingFile("a.xlsx", b"PK\x03\x04", False, "x"),))
        await tx.queue_message("digest:1", clerk.id, Identity("telegram", "77", "77"), "en",
                               [reply], T0)  # fmt: skip
        claim = await tx.add_claim(
            2026, "thon_1", "dien", Decimal("97.5"), "Đã kéo điện", photo, head.id, T0
        )
        await tx.add_score_event(2026, "computed", T0, "thon_1", "dien", Decimal("7.5"),
                                 Decimal(95), data={"period": "2026-11"})  # fmt: skip
        await tx.add_score_event(2026, "claimed", T0, "thon_1", "dien", None, Decimal("97.5"),
                                 claim.id, head.id)  # fmt: skip
        await tx.add_snapshot(2026, date(2026, 12, 20), {"villages": [], "max": "100"},
                              "Hội đồng", clerk.id, T0)  # fmt: skip


def sqlite_rows(path: Path) -> dict[str, list[tuple[object, ...]]]:
    with sqlite3.connect(path) as conn:
        return {t: sorted(conn.execute(f"SELECT * FROM {t}"), key=repr) for t in TABLES}


async def test_db_copy_there_and_back_keeps_every_row(
    pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PLAN_FILE", str(SMALL_PLAN))
    source = tmp_path / "nguon.db"
    store = await SqliteStorage.open(source)
    await fill(store)
    await store.close()
    before = sqlite_rows(source)
    assert all(before[t] for t in TABLES), [t for t in TABLES if not before[t]]

    def copy(src: str, dst: str) -> tuple[int, str, str]:
        code = main(["db", "copy", src, dst])
        out, err = capsys.readouterr()
        return code, out, err

    code, out, err = await asyncio.to_thread(copy, f"sqlite:///{source}", pg_url)
    assert code == 0, err
    assert "trùng khớp" in out and "people" in out and "score_snapshots" in out
    back = tmp_path / "ve.db"
    code, out, err = await asyncio.to_thread(copy, pg_url, f"sqlite:///{back}")
    assert code == 0, err
    assert sqlite_rows(back) == before  # every table, every value, every id
    # the PostgreSQL copy serves as the bot would use it, ids continuing after the copied
    pg = await PostgresStorage.open(pg_url)
    try:
        async with pg.transaction() as tx:
            [head, clerk] = await tx.people()
            assert head.identities[0].display_name == "Ba" and clerk.is_console
            report = await tx.latest_report("thon_1", "thang", "2026-11")
            assert report is not None and report.version == 2 and report.answers["a"] == 413
            assert report.submitted_at == T0
            newer = await tx.create_person("Người mới", "head", "thon_2", "vi", T0)
            assert newer.id == clerk.id + 1
            [claim] = await tx.claims(2026)
            assert claim.value == Decimal("97.5")
            snapshot = await tx.current_snapshot(2026)
            assert snapshot is not None and snapshot.as_of == date(2026, 12, 20)
            [message] = await tx.claim_messages("x", T0, T0, ["telegram"], 5)
            assert message.replies[0].files[0].data == b"PK\x03\x04"
    finally:
        await pg.close()


async def test_db_copy_refuses_a_target_that_is_not_empty(
    pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    source = tmp_path / "nguon.db"
    store = await SqliteStorage.open(source)
    await fill(store)
    await store.close()
    target = await PostgresStorage.open(pg_url)
    async with target.transaction() as tx:
        await tx.set_meta("telegram_username", "another_bot")
    await target.close()

    def copy() -> tuple[int, str]:
        code = main(["db", "copy", f"sqlite:///{source}", pg_url])
        return code, capsys.readouterr().err

    code, err = await asyncio.to_thread(copy)
    assert code == 2 and "đích không trống (meta (1 dòng))" in err, err
    assert "vẫn như cũ" in err
    assert await engines.fetch(pg_url, "SELECT key, value FROM meta") == [
        ("telegram_username", "another_bot")
    ]
    assert await engines.fetch(pg_url, "SELECT COUNT(*) FROM people") == [(0,)]


async def test_a_lost_connection_is_storage_busy(pg_url: str) -> None:
    """The server ending a unit of work's connection (a restart, a failover) is StorageBusy:
    the inbox tries the event again, nothing half-applied."""
    from storage.repository import StorageBusy

    store = await PostgresStorage.open(pg_url)
    try:
        with pytest.raises(StorageBusy):
            async with store.transaction() as tx:
                await tx.create_person("Anh Mất", "head", "thon_1", "vi", T0)
                [pid] = await tx._all("SELECT pg_backend_pid()")  # type: ignore[attr-defined]
                await engines.execute(pg_url, f"SELECT pg_terminate_backend({pid[0]})")
                await tx.people()
        async with store.transaction() as tx:  # the pool connects again
            assert await tx.people() == []
    finally:
        await store.close()


def test_make_test_says_when_postgresql_is_skipped(tmp_path: Path) -> None:
    """Without a server, the PostgreSQL tests are skipped with one line saying so."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, THIDUA_TEST_POSTGRES="postgresql://postgres@127.0.0.1:1/test")
    env.pop("THIDUA_REQUIRE_POSTGRES", None)
    env.pop("THIDUA_TEST_ENGINES", None)  # both, as make test runs them
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         "tests/test_outbox.py", "-k", "rows or restart"],
        capture_output=True, text=True, env=env, cwd=Path(__file__).parent.parent, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PostgreSQL tests skipped: no PostgreSQL server answers at 127.0.0.1:1" in done.stdout


async def test_db_copy_into_a_database_another_commune_uses_is_refused_whole(
    pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ids a commune's SQLite file has are taken by another commune's rows in the shared
    database: the copy (its commune's rows empty there) stops at the first clash, one
    Vietnamese line, and leaves nothing of it behind."""
    monkeypatch.chdir(tmp_path)
    source = tmp_path / "nguon.db"
    store = await SqliteStorage.open(source)
    await fill(store)
    await store.close()
    other = await PostgresStorage.open(pg_url, commune="ea-po")
    async with other.transaction() as tx:
        await tx.create_person("Chị Pô", "head", "thon_1", "vi", T0)  # id 1, as in the file
    await other.close()
    monkeypatch.setenv("THIDUA_COMMUNE", "nam-dong")

    def copy() -> tuple[int, str]:
        code = main(["db", "copy", f"sqlite:///{source}", pg_url])
        return code, capsys.readouterr().err

    code, err = await asyncio.to_thread(copy)
    assert code == 2 and "Không sao chép được" in err and "vẫn như cũ" in err, err
    assert "Traceback" not in err
    assert await engines.fetch(pg_url, "SELECT commune_id, name FROM people") == [
        ("ea-po", "Chị Pô")
    ]
    [(rows,)] = await engines.fetch(pg_url, "SELECT COUNT(*) FROM identities")
    assert rows == 0


async def test_the_outbox_listens_again_when_its_notify_connection_is_lost(pg_url: str) -> None:
    """A message another instance queues wakes this one's sender (NOTIFY); the listening
    connection ended by the server (a restart) is made again, with a wake for what may have
    been queued meanwhile, and later messages wake it as before."""
    from bot.domain import Identity
    from bot.messages import Reply

    woken: list[int] = []
    here = await PostgresStorage.open(pg_url)
    there = await PostgresStorage.open(pg_url)

    async def queue(key: str) -> None:
        async with there.transaction() as tx:
            person = await tx.create_person("Anh Ba", "head", "thon_1", "vi", T0)
            await tx.queue_message(key, person.id, Identity("zalo", "z", "z"), "vi",
                                   [Reply("Nhắc")], T0)  # fmt: skip

    async def until(count: int) -> None:
        for _ in range(100):
            if len(woken) >= count:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"woken {len(woken)} times, not {count}")

    try:
        await here.on_queued(lambda: woken.append(1))
        await queue("a")
        await until(1)
        lost = here._listener
        assert lost is not None
        await engines.execute(pg_url, f"SELECT pg_terminate_backend({lost.get_server_pid()})")
        await until(2)  # listening again, and woken for what came meanwhile
        assert here._listener is not lost
        await queue("b")
        await until(3)
    finally:
        await here.close()
        await there.close()
