"""The scoreboard's storage and glue over real SQLite files: migration 007 of an existing
database, each storage method, and handlers/scoreboard (computed events recorded only when
a figure changes, finalize and reopen, claims accepted and refused, the history kept)."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import storage.sqlite as sqlite_module
from bot.domain import Identity, Invite
from bot.messages import Reply
from bot.plan.model import Criterion, Grade, Plan, Scoring
from bot.scoring.board import ACCEPTED, PENDING, REFUSED
from handlers import scoreboard
from handlers.scoreboard import ScoreError
from storage.repository import Storage
from storage.sqlite import SqliteStorage, SqliteTransaction
from tests import engines

YEAR = 2026
AS_OF = date(2026, 11, 24)
NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)  # 10:00 in Asia/Ho_Chi_Minh
BY = "Hội đồng TĐKT, họp ngày 20/12/2026"


def at(month: int, day: int, hour: int = 3) -> datetime:
    return datetime(YEAR, month, day, hour, 0, tzinfo=UTC)


def answers(households: int, powered: int, waste: bool) -> dict[str, Any]:
    # Stored as the engine stores them: numbers as strings.
    return {"tong_ho": str(households), "ho_co_dien": str(powered), "thu_gom_rac": waste}


@pytest.fixture(scope="module")
def plan(small_plan: Plan) -> Plan:
    return replace(
        small_plan,
        scoring=Scoring(
            criteria=(
                Criterion(
                    "dien", "Điện lưới", Decimal(10), indicator="ty_le_dien", zero_at=Decimal(80)
                ),
                Criterion("rac", "Thu gom rác", Decimal(10), indicator="thon_thu_gom_rac"),
                Criterion("dung_han", "Báo cáo đúng hạn", Decimal(15), measure="on_time"),
                Criterion("day_du", "Báo cáo đầy đủ", Decimal(10), measure="completeness"),
                Criterion(
                    "guong",
                    "Gương người tốt, việc tốt",
                    Decimal(10),
                    measure="good_deeds",
                    per_item=Decimal("2.5"),
                ),
            ),
            grades=(Grade("Khá", at_least=Decimal(20)), Grade("Chưa hoàn thành")),
        ),
    )


async def person(tx: SqliteTransaction, role: str = "head", village: str | None = "thon_1") -> int:
    created = await tx.create_person(f"{role} {village}", role, village, "vi", at(1, 2))
    return created.id


async def accept_nomination(
    tx: SqliteTransaction, nominator: int, village: str, when: datetime
) -> int:
    nomination = await tx.add_nomination(
        nominator, "Bà Lan", village, "Hiến đất làm đường", "Từ thiện", [], YEAR, when
    )
    assert await tx.change_nomination(
        nomination.id, "review", "phat_hien", nominator, "accepted", "", when
    )
    return nomination.id


async def seed(storage: SqliteStorage) -> dict[str, int]:
    """Three villages as of 24/11/2026 (ten monthly reports due, January to October):
    Thôn 1 sent October on time and November early, and has two good deeds accepted;
    Thôn 2 sent October late; Thôn 3 sent nothing."""
    async with storage.transaction() as tx:
        ids = {
            "head1": await person(tx, "head", "thon_1"),
            "head2": await person(tx, "head", "thon_2"),
            "head3": await person(tx, "head", "thon_3"),
            "secretary": await person(tx, "secretariat", None),
        }
        await tx.add_report("thon_1", "thang", "2026-10", answers(200, 180, True), ids["head1"],
                            at(10, 20))  # fmt: skip
        await tx.add_report("thon_1", "thang", "2026-11", answers(200, 190, True), ids["head1"],
                            at(11, 20))  # fmt: skip
        await tx.add_report("thon_2", "thang", "2026-10", answers(100, 100, False), ids["head2"],
                            at(10, 27))  # fmt: skip
        await accept_nomination(tx, ids["head1"], "thon_1", at(3, 1))
        await accept_nomination(tx, ids["head1"], "thon_1", at(6, 1))
    return ids


def points(board: Any, village: str) -> dict[str, Decimal]:
    return {s.criterion.id: s.points for s in board.village(village).criteria}


async def events(storage: SqliteStorage, kind: str | None = None) -> list[dict[str, Any]]:
    async with storage.transaction() as tx:
        found = await scoreboard.score_events(tx, YEAR)
    return [e for e in found if kind is None or e["kind"] == kind]


# -- migration 007 ------------------------------------------------------------------------


def dump(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but schema_version, in rowid order."""
    with sqlite3.connect(path) as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' AND name <> 'schema_version'"
            )
        ]
        return {t: list(conn.execute(f"SELECT * FROM {t} ORDER BY rowid")) for t in tables}


async def schema_6(path: Path, monkeypatch: pytest.MonkeyPatch) -> SqliteStorage:
    """A database as version 6 of the schema left it."""
    every = sqlite_module._migrations()
    with monkeypatch.context() as patched:
        patched.setattr(sqlite_module, "_migrations", lambda: [m for m in every if m[0] <= 6])
        return await SqliteStorage.open(path)


async def revoke_at_schema_6(tx: SqliteTransaction, person_id: int, now: datetime) -> None:
    """``revoke_person`` as it was while the schema was at 6 (no web sign-ins yet)."""
    await tx._run("UPDATE people SET revoked_at = ? WHERE id = ?", (now, person_id))
    await tx._run("DELETE FROM identities WHERE person_id = ?", (person_id,))
    await tx._run("DELETE FROM drafts WHERE person_id = ?", (person_id,))
    await tx._run(
        "UPDATE outbox SET failed_at = ?, last_error = 'revoked', owner = NULL,"
        " lease_until = NULL WHERE person_id = ? AND sent_at IS NULL AND failed_at IS NULL",
        (now, person_id),
    )
    await tx._run(
        "UPDATE invites SET voided_at = ? WHERE person_id = ? AND used_at IS NULL"
        " AND voided_at IS NULL",
        (now, person_id),
    )


async def test_migration_keeps_an_existing_database_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.db"
    old = await schema_6(path, monkeypatch)
    async with old.transaction() as tx:
        head = await tx.create_person("Anh Một", "head", "thon_1", "vi", at(1, 2))
        secretary = await tx.create_person("Chị Thư", "secretariat", None, "en", at(1, 3))
        await tx.add_identity(head.id, Identity("telegram", "1001", "1001", "Một"), at(1, 2))
        await tx.add_identity(secretary.id, Identity("zalo", "z9", "z9", "Thư"), at(1, 3))
        await tx.add_report("thon_1", "thang", "2026-10", answers(200, 180, True), head.id,
                            at(10, 20))  # fmt: skip
        await tx.add_report("thon_1", "thang", "2026-10", answers(200, 185, True), head.id,
                            at(10, 21))  # fmt: skip
        await tx.save_draft(head.id, {"flow": "report", "step": 2}, at(10, 22))
        await tx.create_invite(Invite("ABC123", "head", "thon_2", at(10, 1), at(10, 8)))
        await tx.use_invite("ABC123", at(10, 2))
        await tx.invite_used_by("ABC123", secretary.id)
        await accept_nomination(tx, head.id, "thon_1", at(3, 1))
        await tx.queue_message(
            "digest:x", secretary.id, Identity("zalo", "z9", "z9"), "vi", [Reply("Tổng hợp")],
            at(10, 3),
        )  # fmt: skip
        await revoke_at_schema_6(tx, secretary.id, at(10, 30))
    await old.close()
    before = dump(path)
    assert before["people"] and before["identities"] and before["reports"]

    migrated = await SqliteStorage.open(path)
    try:
        after = dump(path)
        for table, rows in before.items():
            assert after[table] == rows, table
        with sqlite3.connect(path) as conn:
            assert list(conn.execute("PRAGMA foreign_key_check")) == []
            assert max(v for (v,) in conn.execute("SELECT version FROM schema_version")) == 9
        async with migrated.transaction() as tx:
            found = await tx.person(head.id)
            assert found is not None and found.identities[0].user_id == "1001"
            officer = await tx.create_person("Cô Xã", "officer", None, "vi", at(11, 1))
            assert officer.role == "officer" and officer.id == secretary.id + 1
            assert (await tx.latest_report("thon_1", "thang", "2026-10")).version == 2  # type: ignore[union-attr]
        # Foreign keys are enforced again after the migration.
        with pytest.raises(sqlite3.IntegrityError):
            async with migrated.transaction() as tx:
                await tx.add_identity(999, Identity("telegram", "7", "7"), at(11, 2))
        with pytest.raises(sqlite3.IntegrityError):
            async with migrated.transaction() as tx:
                await tx.create_person("X", "mayor", None, "vi", at(11, 2))
    finally:
        await migrated.close()


async def test_a_migration_that_leaves_a_broken_reference_keeps_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "broken.db"
    old = await schema_6(path, monkeypatch)
    await old.close()
    with sqlite3.connect(path) as conn:  # foreign keys off: an identity of nobody
        conn.execute(
            "INSERT INTO identities (channel, user_id, person_id, chat_id, last_seen_at)"
            " VALUES ('telegram', '5', 42, '5', '2026-01-01T00:00:00+00:00')"
        )
    with pytest.raises(sqlite3.IntegrityError, match="broken reference"):
        await SqliteStorage.open(path)
    with sqlite3.connect(path) as conn:
        assert max(v for (v,) in conn.execute("SELECT version FROM schema_version")) == 6
        tables = {n for (n,) in conn.execute("SELECT name FROM sqlite_master")}
        assert "score_events" not in tables and "people" in tables


def test_migration_statements_keep_a_trigger_whole() -> None:
    sql = (
        "-- a comment; with a semicolon\nCREATE TABLE t (x);\n"
        "CREATE TRIGGER t_kept BEFORE DELETE ON t\nBEGIN\n"
        "    SELECT RAISE(ABORT, 'no');\nEND;\nDROP TABLE u;"
    )
    statements = sqlite_module._statements(sql)
    assert len(statements) == 3
    assert statements[1].startswith("CREATE TRIGGER") and statements[1].endswith("END;")


# -- storage methods ----------------------------------------------------------------------


async def test_report_records(storage: SqliteStorage) -> None:
    async with storage.transaction() as tx:
        head = await person(tx)
        first = await tx.add_report("thon_1", "thang", "2026-10", answers(200, 180, True), head,
                                    at(10, 20))  # fmt: skip
        latest = await tx.add_report("thon_1", "thang", "2026-10", answers(200, 186, False),
                                     head, at(10, 29))  # fmt: skip
        await tx.add_report("thon_2", "thang", "2026-10", answers(90, 90, True), head, at(10, 24))
        await tx.add_report("thon_2", "thang", "2026-09", answers(90, 80, True), head, at(9, 24))
        await tx.add_report("thon_3", "khac", "2026-10", {"x": "1"}, head, at(10, 24))
        records = await tx.report_records([("thang", "2026-10"), ("thang", "2026-08")])
        assert await tx.report_records([]) == []
        # only the answers asked for; none at all for a form read only for its sent times
        narrow = await tx.report_records([("thang", "2026-10")], ["ho_co_dien", "tong_ho"])
        bare = await tx.report_records([("thang", "2026-10")], [])
    assert [r.answers for r in narrow] == [
        {"tong_ho": "200", "ho_co_dien": "186"},
        {"tong_ho": "90", "ho_co_dien": "90"},
    ]
    assert [(r.answers, r.first_sent, r.report_id) for r in bare] == [
        ({}, r.first_sent, r.report_id) for r in narrow
    ]
    assert [(r.village_id, r.period) for r in records] == [
        ("thon_1", "2026-10"),
        ("thon_2", "2026-10"),
    ]
    one = records[0]
    assert one.first_sent == first.submitted_at  # the first version's time
    assert one.report_id == latest.id  # the latest version's answers
    assert one.answers == {"tong_ho": "200", "ho_co_dien": "186", "thu_gom_rac": False}


async def test_baseline_answers(storage: SqliteStorage) -> None:
    async with storage.transaction() as tx:
        officer = await person(tx, "officer", None)
        await tx.add_report("thon_1", "nen", "2023", {"ho_ngheo": "12", "tong_ho": "200"},
                            officer, at(2, 1))  # fmt: skip
        await tx.add_report("thon_1", "nen", "2023", {"ho_ngheo": "11", "tong_ho": "200"},
                            officer, at(2, 2))  # fmt: skip
        await tx.add_report("thon_1", "nen", "2022", {"ho_ngheo": "30"}, officer, at(2, 3))
        await tx.add_report("thon_1", "nen_b", "2023", {"tong_ho": "201", "dat": True}, officer,
                            at(2, 4))  # fmt: skip
        await tx.add_report("thon_2", "nen_b", "2023", {"dat": False}, officer, at(2, 4))
        await tx.add_report("thon_3", "thang", "2026-10", {"tong_ho": "5"}, officer, at(10, 4))
        found = await tx.baseline_answers(["nen", "nen_b"])
        assert await tx.baseline_answers([]) == {}
    assert found == {
        # the latest period's latest version; a later form wins a shared question
        "thon_1": {"ho_ngheo": "11", "tong_ho": "201", "dat": True},
        "thon_2": {"dat": False},
    }


async def test_accepted_nominations_in_the_window(storage: SqliteStorage) -> None:
    async with storage.transaction() as tx:
        head = await person(tx)
        await accept_nomination(tx, head, "thon_1", at(1, 1, 0))  # the first instant
        await accept_nomination(tx, head, "thon_1", at(6, 1))
        await accept_nomination(tx, head, "thon_2", at(12, 31, 0))  # the last instant
        await accept_nomination(tx, head, "thon_2", at(12, 31, 1))  # after the window
        refused = await tx.add_nomination(head, "Ông Ba", "thon_3", "Việc", "Khác", [], YEAR,
                                          at(5, 1))  # fmt: skip
        await tx.change_nomination(refused.id, "review", "closed", head, "rejected", "", at(5, 2))
        waiting = await tx.add_nomination(head, "Ông Tư", "thon_3", "Việc", "Khác", [], YEAR,
                                          at(5, 1))  # fmt: skip
        await tx.change_nomination(waiting.id, "review", "needs_info", head, "asked", "", at(5, 2))
        found = await tx.accepted_nominations(at(1, 1, 0), at(12, 31, 0))
    assert found == {"thon_1": 2, "thon_2": 1}


async def test_claims_and_their_review(storage: SqliteStorage) -> None:
    async with storage.transaction() as tx:
        head = await person(tx)
        secretary = await person(tx, "secretariat", None)
        photo = await tx.store_file(b"evidence", "image/jpeg", at(11, 1))
        first = await tx.add_claim(YEAR, "thon_1", "dien", Decimal("96.5"), "Đã kéo điện",
                                   photo, head, at(11, 1))  # fmt: skip
        second = await tx.add_claim(YEAR, "thon_2", "dung_han", Decimal(10), "Gửi qua Zalo",
                                    None, head, at(11, 2))  # fmt: skip
        await tx.add_claim(YEAR - 1, "thon_1", "dien", Decimal(90), "Năm trước", None, head,
                           at(11, 2))  # fmt: skip
        assert first.status == PENDING and first.value == Decimal("96.5")
        assert first.photo == photo and first.created_at == at(11, 1)
        assert await tx.claim(first.id) == first
        assert await tx.claim(9999) is None
        assert [c.id for c in await tx.claims(YEAR)] == [first.id, second.id]
        assert [c.id for c in await tx.claims(YEAR, village_id="thon_2")] == [second.id]
        assert await tx.review_claim(first.id, ACCEPTED, secretary, "Đúng", at(11, 3))
        # reviewed once: a second reviewer changes nothing
        assert not await tx.review_claim(first.id, REFUSED, secretary, "Sai", at(11, 4))
        reviewed = await tx.claim(first.id)
        assert reviewed is not None and reviewed.status == ACCEPTED
        assert reviewed.reviewed_by == secretary and reviewed.reviewed_at == at(11, 3)
        assert reviewed.comment == "Đúng"
        assert [c.id for c in await tx.claims(YEAR, status=PENDING)] == [second.id]
        # housekeeping keeps a claim's photo, not a file nothing refers to
        await tx.store_file(b"forgotten", "image/jpeg", at(11, 1))
        assert await tx.forget_files(at(12, 31)) == 1
        assert await tx.file(photo) == (b"evidence", "image/jpeg")


async def test_score_events_are_kept_for_good(storage: Storage, database_url: str) -> None:
    async with storage.transaction() as tx:
        first = await tx.add_score_event(
            YEAR, "computed", at(11, 1), "thon_1", "dien", Decimal("7.5"), Decimal(95),
            data={"period": "2026-11"},
        )  # fmt: skip
        await tx.add_score_event(YEAR, "computed", at(11, 2), "thon_1", "dien", Decimal(5),
                                 Decimal(90))  # fmt: skip
        await tx.add_score_event(YEAR, "computed", at(11, 2), "thon_2", "dien", Decimal(0), None)
        await tx.add_score_event(YEAR, "finalized", at(11, 3), actor=BY)
        await tx.add_score_event(YEAR - 1, "computed", at(11, 2), "thon_3", "dien", Decimal(9))
        assert await tx.last_computed(YEAR) == {
            ("thon_1", "dien"): Decimal(5),
            ("thon_2", "dien"): Decimal(0),
        }
        kept = await tx.score_events(YEAR)
        only = await tx.score_events(YEAR, "thon_2")
    assert [e["kind"] for e in kept] == ["computed", "computed", "computed", "finalized"]
    assert kept[0]["id"] == first and kept[0]["points"] == Decimal("7.5")
    assert kept[0]["value"] == Decimal(95) and kept[0]["data"] == {"period": "2026-11"}
    assert kept[0]["at"] == at(11, 1) and kept[3]["actor"] == BY and kept[3]["village_id"] is None
    assert [e["village_id"] for e in only] == ["thon_2", None]  # the year-wide ones too
    for statement in ("UPDATE score_events SET points = '10'", "DELETE FROM score_events"):
        with pytest.raises(engines.RAISED, match="append-only"):
            await engines.execute(database_url, statement)
    with pytest.raises(engines.REFUSED):
        await engines.execute(
            database_url,
            "INSERT INTO score_events (year, kind, at)"
            " VALUES (2026, 'guessed', '2026-11-01T00:00:00+00:00')",
        )


async def test_snapshots(storage: Storage) -> None:
    async with storage.transaction() as tx:
        assert await tx.current_snapshot(YEAR) is None
        snap = await tx.add_snapshot(YEAR, AS_OF, {"villages": [], "max": "100"}, BY, None,
                                     at(12, 20))  # fmt: skip
        assert snap.frozen and snap.as_of == AS_OF and snap.board == {"villages": [], "max": "100"}
        assert snap.finalized_by == BY and snap.finalized_at == at(12, 20)
        assert await tx.current_snapshot(YEAR) == snap
        assert await tx.current_snapshot(YEAR + 1) is None
    with pytest.raises(engines.REFUSED):  # one frozen board a year at a time
        async with storage.transaction() as tx:
            await tx.add_snapshot(YEAR, AS_OF, {}, BY, None, at(12, 21))
    async with storage.transaction() as tx:
        assert await tx.reopen_snapshot(snap.id, "Sai số liệu thôn 2", None, at(12, 22))
        assert not await tx.reopen_snapshot(snap.id, "Lần nữa", None, at(12, 23))
        reopened = await tx.current_snapshot(YEAR)
        assert reopened is not None and not reopened.frozen
        assert reopened.reopened_at == at(12, 22) and reopened.reopen_reason == "Sai số liệu thôn 2"
        again = await tx.add_snapshot(YEAR, AS_OF, {}, BY, None, at(12, 24))
        assert (await tx.current_snapshot(YEAR)) == again


# -- handlers/scoreboard -------------------------------------------------------------------


async def test_load_board_records_computed_points_once_and_again_only_on_change(
    storage: SqliteStorage, plan: Plan
) -> None:
    ids = await seed(storage)
    async with storage.transaction() as tx:
        board = await scoreboard.load_board(tx, plan, YEAR, AS_OF, NOW)
    assert not board.final
    # Thôn 1: November (the latest period it reported) 190/200 = 95 % → 10 × (95−80)/(100−80)
    # = 7,5; waste collection yes → 10; 1 of 10 reports on time → 15 × 1/10 = 1,5; 1 of 10
    # sent → 1; 2 good deeds × 2,5 = 5. Total 25.
    assert points(board, "thon_1") == {
        "dien": Decimal("7.5"), "rac": 10, "dung_han": Decimal("1.5"), "day_du": 1, "guong": 5,
    }  # fmt: skip
    assert board.village("thon_1").total == 25
    # Thôn 2: 100/100 → 10; no → 0; late → 0 on time, 1 sent → 1. Thôn 3: nothing.
    assert points(board, "thon_2") == {"dien": 10, "rac": 0, "dung_han": 0, "day_du": 1, "guong": 0}
    assert board.village("thon_3").total == 0 and board.village("thon_3").missing == ["dien", "rac"]
    computed = await events(storage, "computed")
    assert len(computed) == 15  # 3 villages × 5 criteria
    dien = next(e for e in computed if (e["village_id"], e["criterion_id"]) == ("thon_1", "dien"))
    assert dien["points"] == Decimal("7.5") and dien["value"] == Decimal(95)
    assert dien["data"]["period"] == "2026-11" and dien["data"]["numerator"] == "190"
    assert dien["data"]["denominator"] == "200" and dien["data"]["as_of"] == "2026-11-24"

    async with storage.transaction() as tx:  # nothing changed: nothing recorded
        again = await scoreboard.load_board(tx, plan, YEAR, AS_OF, NOW + timedelta(hours=1))
    assert again == board
    assert len(await events(storage, "computed")) == 15

    async with storage.transaction() as tx:  # Thôn 2 corrects October: 90/100 → 5
        await tx.add_report("thon_2", "thang", "2026-10", answers(100, 90, False), ids["head2"],
                            at(11, 23))  # fmt: skip
        changed = await scoreboard.load_board(tx, plan, YEAR, AS_OF, NOW + timedelta(hours=2))
    assert changed.village("thon_2").criterion("dien").points == 5
    added = (await events(storage, "computed"))[15:]
    assert [(e["village_id"], e["criterion_id"], e["points"]) for e in added] == [
        ("thon_2", "dien", Decimal(5))
    ]

    async with storage.transaction() as tx:  # a read-only look records nothing
        await tx.add_report("thon_3", "thang", "2026-11", answers(50, 50, True), ids["head3"],
                            at(11, 23))  # fmt: skip
        await scoreboard.load_board(tx, plan, YEAR, AS_OF, NOW, record=False)
    assert len(await events(storage, "computed")) == 16


async def test_finalize_freezes_and_reopen_thaws(storage: SqliteStorage, plan: Plan) -> None:
    ids = await seed(storage)
    async with storage.transaction() as tx:
        frozen = await scoreboard.finalize(tx, plan, YEAR, AS_OF, BY, ids["secretary"], NOW)
    assert frozen.final and frozen.finalized_by == BY and frozen.finalized_at == NOW
    (finalized,) = await events(storage, "finalized")
    assert finalized["actor"] == BY and finalized["person_id"] == ids["secretary"]
    assert Decimal(finalized["data"]["villages"]["thon_1"]["total"]) == 25

    async with storage.transaction() as tx:  # Thôn 3 reports after the council's decision
        await tx.add_report("thon_3", "thang", "2026-11", answers(50, 50, True), ids["head3"],
                            at(11, 24, 1))  # fmt: skip
        later = await scoreboard.load_board(tx, plan, YEAR, date(2026, 12, 31), NOW)
    assert later.final and later.finalized_by == BY and later.as_of == AS_OF
    assert later.village("thon_3").total == 0
    assert [v.total for v in later.villages] == [v.total for v in frozen.villages]
    assert len(await events(storage, "computed")) == 15  # nothing computed while frozen

    with pytest.raises(ScoreError, match="đã được chốt"):
        async with storage.transaction() as tx:
            await scoreboard.finalize(tx, plan, YEAR, AS_OF, BY, None, NOW)
    with pytest.raises(ScoreError, match="đã được chốt"):
        async with storage.transaction() as tx:
            await scoreboard.add_claim(tx, plan, YEAR, "thon_3", "dien", Decimal(100), "Lý do",
                                       None, ids["head3"], NOW)  # fmt: skip

    async with storage.transaction() as tx:
        assert await scoreboard.reopen(tx, YEAR, "Thôn 3 gửi bổ sung", None, NOW)
        assert not await scoreboard.reopen(tx, YEAR, "Lần nữa", None, NOW)
        thawed = await scoreboard.load_board(tx, plan, YEAR, AS_OF, NOW)
    assert not thawed.final
    # 50/50 = 100 % → 10, waste collection yes → 10
    assert thawed.village("thon_3").total == 20
    (reopened,) = await events(storage, "reopened")
    assert reopened["reason"] == "Thôn 3 gửi bổ sung"

    async with storage.transaction() as tx:
        refrozen = await scoreboard.finalize(tx, plan, YEAR, AS_OF, BY, None, NOW)
        snapshot = await tx.current_snapshot(YEAR)
    assert refrozen.village("thon_3").total == 20 and snapshot is not None and snapshot.frozen
    with pytest.raises(ScoreError):
        async with storage.transaction() as tx:
            await scoreboard.reopen(tx, YEAR, "   ", None, NOW)
    async with storage.transaction() as tx:
        assert not await scoreboard.reopen(tx, YEAR + 1, "Chưa chốt", None, NOW)


async def test_claims_accepted_and_refused_with_their_history(
    storage: SqliteStorage, plan: Plan
) -> None:
    ids = await seed(storage)
    async with storage.transaction() as tx:
        # Thôn 3 says 96 % of its households have power: 10 × (96−80)/20 = 8 points.
        power = await scoreboard.add_claim(tx, plan, YEAR, "thon_3", "dien", Decimal(96),
                                           "Đã kéo điện xong", None, ids["head3"], NOW)  # fmt: skip
        # Thôn 1 says 10 reports were on time: 15 × 10/10 = 15 points.
        on_time = await scoreboard.add_claim(tx, plan, YEAR, "thon_1", "dung_han", Decimal(10),
                                             "Gửi qua Zalo", None, ids["head1"], NOW)  # fmt: skip
        pending = await scoreboard.claims(tx, YEAR, status=PENDING)
    assert [c.id for c in pending] == [power.id, on_time.id]
    claimed = await events(storage, "claimed")
    assert [(e["claim_id"], e["points"], e["data"]["due"]) for e in claimed] == [
        (power.id, Decimal(8), 10),
        (on_time.id, Decimal(15), 10),
    ]

    later = NOW + timedelta(hours=1)
    async with storage.transaction() as tx:
        accepted = await scoreboard.review_claim(tx, power.id, True, "Đã xác minh",
                                                 ids["secretary"], later, plan=plan)  # fmt: skip
        refused = await scoreboard.review_claim(tx, on_time.id, False, "Tháng 3 gửi muộn",
                                                ids["secretary"], later)  # fmt: skip
        # a second reviewer, and a second review, change nothing
        assert await scoreboard.review_claim(tx, power.id, False, "Sai", None, later) is None
        assert await scoreboard.review_claim(tx, 999, True, "", None, later) is None
        board = await scoreboard.load_board(tx, plan, YEAR, AS_OF, later)
    assert accepted is not None and accepted.status == ACCEPTED
    assert (
        refused is not None and refused.status == REFUSED and refused.comment == "Tháng 3 gửi muộn"
    )
    dien = board.village("thon_3").criterion("dien")
    assert dien.points == 8 and dien.computed == 0 and dien.claim == accepted
    assert board.village("thon_3").missing == ["rac"]
    assert board.village("thon_1").criterion("dung_han").points == Decimal("1.5")
    assert [c.id for c in board.village("thon_1").claims] == [on_time.id]
    (accept_event,) = await events(storage, "accepted")
    assert accept_event["points"] == 8 and accept_event["claim_id"] == power.id
    assert accept_event["person_id"] == ids["secretary"] and accept_event["reason"] == "Đã xác minh"
    (refuse_event,) = await events(storage, "refused")
    assert refuse_event["reason"] == "Tháng 3 gửi muộn" and refuse_event["points"] is None

    async with storage.transaction() as tx:
        for bad in (
            ("thon_9", "dien", "Lý do"),  # no such village
            ("thon_1", "khong_co", "Lý do"),  # no such criterion
            ("thon_1", "dien", "  "),  # no reason
        ):
            with pytest.raises(ScoreError):
                await scoreboard.add_claim(tx, plan, YEAR, bad[0], bad[1], Decimal(90), bad[2],
                                           None, ids["head1"], NOW)  # fmt: skip
        another = await tx.add_claim(YEAR, "thon_2", "rac", Decimal(100), "Có", None,
                                     ids["head2"], NOW)  # fmt: skip
        with pytest.raises(ScoreError):  # a refusal says why
            await scoreboard.review_claim(tx, another.id, False, " ", None, NOW)
        # accepted without the plan at hand: the points recorded when it was claimed
        await scoreboard.add_claim(tx, plan, YEAR, "thon_2", "guong", Decimal(3), "Ba gương",
                                   None, ids["head2"], NOW)  # fmt: skip
        deeds = (await scoreboard.claims(tx, YEAR, village_id="thon_2"))[-1]
        assert await scoreboard.review_claim(tx, deeds.id, True, "", None, NOW) is not None
    assert (await events(storage, "accepted"))[-1]["points"] == Decimal("7.5")  # 3 × 2,5


async def test_agree_and_the_whole_history(storage: SqliteStorage, plan: Plan) -> None:
    ids = await seed(storage)
    async with storage.transaction() as tx:
        board = await scoreboard.agree(tx, plan, YEAR, "thon_1", ids["head1"], NOW)
        claim = await scoreboard.add_claim(
            tx, plan, YEAR, "thon_2", "rac", Decimal(100), "Đã ký hợp đồng thu gom", None,
            ids["head2"], NOW,
        )  # fmt: skip
        await scoreboard.review_claim(tx, claim.id, True, "", ids["secretary"], NOW, plan=plan)
        await scoreboard.finalize(tx, plan, YEAR, AS_OF, BY, None, NOW)
        with pytest.raises(ScoreError):
            await scoreboard.agree(tx, plan, YEAR, "thon_2", ids["head2"], NOW)
        await scoreboard.reopen(tx, YEAR, "Kiểm tra lại", None, NOW)
        with pytest.raises(ScoreError):
            await scoreboard.agree(tx, plan, YEAR, "thon_9", ids["head2"], NOW)
    assert board.village("thon_1").total == 25
    history = await events(storage)
    (agreed,) = [e for e in history if e["kind"] == "agreed"]
    assert agreed["village_id"] == "thon_1" and agreed["points"] == 25
    assert agreed["data"]["criteria"]["dien"] == "7.5" and agreed["person_id"] == ids["head1"]
    kinds = [e["kind"] for e in history]
    assert kinds[:15] == ["computed"] * 15
    # the accepted claim sets Thôn 2's points, not the computed figure: no computed event
    assert kinds[15:] == ["agreed", "claimed", "accepted", "finalized", "reopened"]
    assert [e["id"] for e in history] == sorted(e["id"] for e in history)


async def test_a_plan_without_scoring_is_refused(storage: SqliteStorage, small_plan: Plan) -> None:
    async with storage.transaction() as tx:
        with pytest.raises(ScoreError, match="chấm điểm"):
            await scoreboard.load_board(tx, small_plan, YEAR, AS_OF, NOW)
