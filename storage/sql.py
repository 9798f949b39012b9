"""The queries both engines share: every ``Transaction`` method, written once.

An engine supplies the executor (``_all``, ``_run``, ``_many``), the few SQL fragments the
two dialects spell differently (class attributes), and ``_serialize`` for the read-then-write
steps (a report's next version, a year's next nomination number). Parameters are written
with ``?`` and passed as Python values (``datetime``, ``Decimal``, ``bool``); an engine
adapts them to its types, and rows come back as mappings readable by name and position.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from bot.domain import (
    REPLY_KEY,
    REVIEW,
    Identity,
    Invite,
    Nomination,
    NominationEvent,
    Person,
    QueuedMessage,
    Report,
    WebLink,
    WebSession,
)
from bot.messages import Choice, Incoming, OutgoingFile, Recipe, Reply
from bot.scoring.board import PENDING, Claim, ReportRecord
from storage.repository import Snapshot

LOCAL_KEY = "local:"  # the inbox key of an event its channel gave no id

Row = Mapping[str, Any]


def iso(value: datetime) -> str:
    """A moment as ISO text in UTC (SQLite's timestamps; texts compare as the moments do)."""
    return value.astimezone(UTC).isoformat()


def _at(value: datetime | str) -> datetime:
    """A stored moment: PostgreSQL gives a ``datetime``, SQLite and JSON give ISO text."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _dt(value: datetime | str | None) -> datetime | None:
    return None if value is None else _at(value)


def _day(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _json(value: Any) -> Any:
    """A stored JSON document (text on both engines)."""
    return json.loads(value) if isinstance(value, str | bytes) else value


def _among(column: str, values: Sequence[Any]) -> str:
    """``column IN (?, …)`` for ``values``; FALSE for none (PostgreSQL has no empty IN)."""
    return f"{column} IN ({', '.join('?' for _ in values)})" if values else "FALSE"


class SqlTransaction:
    """The ``Transaction`` protocol over an engine's executor (see the module's docstring)."""

    # The fragments the dialects spell differently (SQLite's spelling here).
    AGGREGATE = "group_concat({})"  # texts joined with commas
    JSON_TEXT = "json_quote({})"  # a text as a JSON string
    JSON_LIST = "json_group_array({})"  # rows as a JSON array ('[]' for none)
    JSON_OBJECT = "json_object"  # json_object('k', v, …)
    JSON_ARRAY = "json_array"
    FILE_IN_ANSWER = "json_extract(value, '$.file_id')"
    CONTAINS = "instr({}, {}) > 0"
    LATER = "MAX({}, {})"  # the later of two moments
    EARLIER = "MIN({}, {})"  # … and the earlier
    TIMESTAMP = ""  # the cast a moment parameter needs where no column gives its type
    DOCUMENT = ""  # … and a JSON document's
    SKIP_LOCKED = ""  # rows another transaction holds are passed over (PostgreSQL)
    SCOPE = ""  # the conflict target's leading key columns (PostgreSQL: the commune)

    queued = False  # this unit of work queued a message (PostgreSQL tells the others)

    _PERSON = ""  # a person with their identities, most recently used first (one query)
    _NOMINATION = ""  # a nomination with its photos' keys and captions, in order

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Spell the dialect's composite fragments once per engine."""
        super().__init_subclass__(**kwargs)
        identity = cls.JSON_LIST.format(
            f"{cls.JSON_OBJECT}('channel', channel, 'user_id', user_id, 'chat_id', chat_id,"
            " 'display_name', display_name, 'last_seen_at', last_seen_at,"
            " 'unreachable_at', unreachable_at, 'failing_since', failing_since)"
        )
        cls._PERSON = (
            f"p.*, (SELECT {identity} FROM (SELECT * FROM identities WHERE person_id = p.id"
            " ORDER BY last_seen_at DESC) AS i) AS ids"
        )
        photos = cls.JSON_LIST.format(f"{cls.JSON_ARRAY}(file_key, caption)")
        cls._NOMINATION = (
            f"n.*, (SELECT {photos} FROM (SELECT file_key, caption FROM nomination_photos"
            " WHERE nomination_id = n.id ORDER BY position) AS ph) AS photos"
        )

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Run one statement; its rows."""
        raise NotImplementedError

    async def _run(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; how many rows it changed."""
        raise NotImplementedError

    async def _many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement once per row of parameters."""
        raise NotImplementedError

    async def _serialize(self, key: str) -> None:
        """Hold the lock named ``key`` until this unit of work ends (a read-then-write step
        two units of work may not interleave on); SQLite's units of work hold the
        database's write lock already."""

    async def _one(self, sql: str, params: Sequence[Any] = ()) -> Any | None:
        rows = await self._all(sql, params)
        return rows[0] if rows else None

    # inbox -----------------------------------------------------------------

    async def receive_events(self, events: Sequence[Incoming], now: datetime) -> list[int | None]:
        ids: list[int | None] = []
        for incoming in events:
            key = incoming.update_key or f"{LOCAL_KEY}{uuid.uuid4().hex}"
            rows = await self._all(
                "INSERT INTO inbox (channel, update_key, user_id, event, received_at)"
                f" VALUES (?, ?, ?, ?, ?) ON CONFLICT ({self.SCOPE}channel, update_key) DO NOTHING"
                " RETURNING id",
                (
                    incoming.channel,
                    key,
                    incoming.user_id,
                    json.dumps(incoming.to_dict(), ensure_ascii=False),
                    now,
                ),
            )
            ids.append(int(rows[0][0]) if rows else None)
        return ids

    async def hold_sender(self, channel: str, user_id: str) -> None:
        await self._serialize(f"sender:{channel}:{user_id}")

    async def first_pending(self, channel: str, user_id: str) -> tuple[int, Incoming] | None:
        row = await self._one(
            "SELECT id, event FROM inbox WHERE applied_at IS NULL AND channel = ?"
            " AND user_id = ? ORDER BY id LIMIT 1",
            (channel, user_id),
        )
        return (row["id"], Incoming.from_dict(_json(row["event"]))) if row else None

    async def claim_event(self, event_id: int, now: datetime) -> bool:
        changed = await self._run(
            "UPDATE inbox SET applied_at = ? WHERE id = ? AND applied_at IS NULL",
            (now, event_id),
        )
        return changed == 1

    async def pending_events(self) -> list[tuple[int, Incoming]]:
        rows = await self._all("SELECT id, event FROM inbox WHERE applied_at IS NULL ORDER BY id")
        return [(row["id"], Incoming.from_dict(_json(row["event"]))) for row in rows]

    async def revive_reply(self, channel: str, update_key: str, now: datetime) -> bool:
        changed = await self._run(
            "UPDATE outbox SET failed_at = NULL, attempts = 0, not_before = ?, owner = NULL,"
            " lease_until = NULL WHERE failed_at IS NOT NULL AND key = CAST(? AS TEXT) || CAST(("
            "SELECT id FROM inbox WHERE channel = ? AND update_key = ?) AS TEXT)",
            (now, REPLY_KEY, channel, update_key),
        )
        return changed == 1

    async def forget_events(self, before: datetime) -> int:
        changed = await self._run(
            "DELETE FROM inbox WHERE applied_at IS NOT NULL AND applied_at < ?", (before,)
        )
        return changed

    async def meta(self, key: str) -> str | None:
        row = await self._one("SELECT value FROM meta WHERE key = ?", (key,))
        return row["value"] if row else None

    async def set_meta(self, key: str, value: str) -> None:
        await self._run(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            f" ON CONFLICT ({self.SCOPE}key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # people ----------------------------------------------------------------

    @staticmethod
    def _person(row: Row | None) -> Person | None:
        if row is None:
            return None
        ids = _json(row["ids"])
        return Person(
            id=row["id"],
            name=row["name"],
            role=row["role"],
            village_id=row["village_id"],
            locale=row["locale"],
            created_at=_at(row["created_at"]),
            is_console=bool(row["is_console"]),
            revoked_at=_dt(row["revoked_at"]),
            identities=tuple(
                Identity(
                    i["channel"],
                    i["user_id"],
                    i["chat_id"],
                    i["display_name"],
                    _dt(i["last_seen_at"]),
                    _dt(i["unreachable_at"]),
                    _dt(i["failing_since"]),
                )
                for i in ids
            ),
        )

    async def person_by_identity(self, channel: str, user_id: str) -> Person | None:
        row = await self._one(
            f"SELECT {self._PERSON} FROM people p JOIN identities i ON i.person_id = p.id"
            " WHERE i.channel = ? AND i.user_id = ? AND p.revoked_at IS NULL",
            (channel, user_id),
        )
        return self._person(row)

    async def person_with_draft(
        self, channel: str, user_id: str
    ) -> tuple[Person, dict[str, Any] | None] | None:
        row = await self._one(
            f"SELECT {self._PERSON}, (SELECT state FROM drafts d WHERE d.person_id = p.id) AS draft"
            " FROM people p JOIN identities i ON i.person_id = p.id"
            " WHERE i.channel = ? AND i.user_id = ? AND p.revoked_at IS NULL",
            (channel, user_id),
        )
        person = self._person(row)
        if row is None or person is None:
            return None
        return person, (_json(row["draft"]) if row["draft"] else None)

    async def person(self, person_id: int) -> Person | None:
        row = await self._one(f"SELECT {self._PERSON} FROM people p WHERE p.id = ?", (person_id,))
        return self._person(row)

    async def people(
        self, include_revoked: bool = False, unreachable_only: bool = False
    ) -> list[Person]:
        conditions = [] if include_revoked else ["p.revoked_at IS NULL"]
        if unreachable_only:
            conditions.append(
                "EXISTS (SELECT 1 FROM identities u WHERE u.person_id = p.id"
                " AND u.unreachable_at IS NOT NULL)"
            )
        where = (" WHERE " + " AND ".join(conditions)) if conditions else ""
        rows = await self._all(f"SELECT {self._PERSON} FROM people p{where} ORDER BY p.id")
        return [p for p in map(self._person, rows) if p is not None]

    async def create_person(
        self,
        name: str,
        role: str,
        village_id: str | None,
        locale: str,
        now: datetime,
        is_console: bool = False,
    ) -> Person:
        rows = await self._all(
            "INSERT INTO people (name, role, village_id, locale, is_console, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (name, role, village_id, locale, is_console, now),
        )
        person = await self.person(int(rows[0][0]))
        assert person is not None
        return person

    async def add_identity(self, person_id: int, identity: Identity, now: datetime) -> None:
        await self._run(
            "INSERT INTO identities"
            " (channel, user_id, person_id, chat_id, display_name, last_seen_at)"
            f" VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT ({self.SCOPE}channel, user_id) DO UPDATE"
            " SET person_id = excluded.person_id, chat_id = excluded.chat_id,"
            " display_name = excluded.display_name, last_seen_at = excluded.last_seen_at,"
            " unreachable_at = NULL, failing_since = NULL, failures = 0",
            (
                identity.channel,
                identity.user_id,
                person_id,
                identity.chat_id,
                identity.display_name,
                now,
            ),
        )

    async def touch_identity(self, identity: Identity, now: datetime) -> None:
        await self._run(
            "UPDATE identities SET chat_id = ?, last_seen_at = ?, unreachable_at = NULL,"
            " display_name = CASE WHEN ? <> '' THEN ? ELSE display_name END"
            " WHERE channel = ? AND user_id = ?",
            (
                identity.chat_id,
                now,
                identity.display_name,
                identity.display_name,
                identity.channel,
                identity.user_id,
            ),
        )

    async def set_locale(self, person_id: int, locale: str) -> None:
        await self._run("UPDATE people SET locale = ? WHERE id = ?", (locale, person_id))

    async def revoke_person(self, person_id: int, now: datetime) -> bool:
        changed = await self._run(
            "UPDATE people SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            (now, person_id),
        )
        if changed != 1:
            return False
        await self._run("DELETE FROM identities WHERE person_id = ?", (person_id,))
        await self._run("DELETE FROM drafts WHERE person_id = ?", (person_id,))
        await self._run(
            "UPDATE outbox SET failed_at = ?, last_error = 'revoked', owner = NULL,"
            " lease_until = NULL WHERE person_id = ? AND sent_at IS NULL AND failed_at IS NULL",
            (now, person_id),
        )
        await self._run(
            "UPDATE invites SET voided_at = ? WHERE person_id = ? AND used_at IS NULL"
            " AND voided_at IS NULL",
            (now, person_id),
        )
        await self._run(
            "UPDATE web_sessions SET ended_at = ? WHERE person_id = ? AND ended_at IS NULL",
            (now, person_id),
        )
        await self._run(
            "UPDATE web_links SET used_at = ? WHERE person_id = ? AND used_at IS NULL",
            (now, person_id),
        )
        return True

    # the web page --------------------------------------------------------------

    async def create_web_link(self, link: WebLink) -> None:
        await self._run(
            "INSERT INTO web_links (token_hash, person_id, target, created_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (link.token_hash, link.person_id, link.target, link.created_at, link.expires_at),
        )

    async def web_link(self, token_hash: str) -> WebLink | None:
        row = await self._one("SELECT * FROM web_links WHERE token_hash = ?", (token_hash,))
        if row is None:
            return None
        return WebLink(
            row["token_hash"],
            row["person_id"],
            row["target"],
            _at(row["created_at"]),
            _at(row["expires_at"]),
            _dt(row["used_at"]),
        )

    async def use_web_link(self, token_hash: str, now: datetime) -> bool:
        changed = await self._run(
            "UPDATE web_links SET used_at = ? WHERE token_hash = ? AND used_at IS NULL"
            " AND expires_at > ?",
            (now, token_hash, now),
        )
        return changed == 1

    async def create_web_session(self, session: WebSession) -> None:
        await self._run(
            "INSERT INTO web_sessions (id_hash, person_id, csrf, created_at, seen_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                session.id_hash,
                session.person_id,
                session.csrf,
                session.created_at,
                session.seen_at,
            ),
        )

    async def web_session(self, id_hash: str) -> WebSession | None:
        row = await self._one("SELECT * FROM web_sessions WHERE id_hash = ?", (id_hash,))
        if row is None:
            return None
        return WebSession(
            row["id_hash"],
            row["person_id"],
            row["csrf"],
            _at(row["created_at"]),
            _at(row["seen_at"]),
            _dt(row["ended_at"]),
        )

    async def touch_web_session(self, id_hash: str, now: datetime) -> None:
        await self._run(
            "UPDATE web_sessions SET seen_at = ? WHERE id_hash = ? AND ended_at IS NULL",
            (now, id_hash),
        )

    async def end_web_session(self, id_hash: str, now: datetime) -> None:
        await self._run(
            "UPDATE web_sessions SET ended_at = ? WHERE id_hash = ? AND ended_at IS NULL",
            (now, id_hash),
        )

    async def forget_web(self, before: datetime) -> int:
        links = await self._run("DELETE FROM web_links WHERE expires_at < ?", (before,))
        sessions = await self._run(
            "DELETE FROM web_sessions WHERE seen_at < ? OR ended_at < ?", (before, before)
        )
        return links + sessions

    # invites ---------------------------------------------------------------

    async def create_invite(self, invite: Invite) -> None:
        await self._run(
            "INSERT INTO invites (code, role, village_id, created_at, expires_at, person_id)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                invite.code,
                invite.role,
                invite.village_id,
                invite.created_at,
                invite.expires_at,
                invite.person_id,
            ),
        )

    async def invite(self, code: str) -> Invite | None:
        row = await self._one("SELECT * FROM invites WHERE code = ?", (code,))
        if row is None:
            return None
        return Invite(
            code=row["code"],
            role=row["role"],
            village_id=row["village_id"],
            created_at=_at(row["created_at"]),
            expires_at=_at(row["expires_at"]),
            used_at=_dt(row["used_at"]),
            used_by=row["used_by"],
            person_id=row["person_id"],
            voided_at=_dt(row["voided_at"]),
        )

    async def use_invite(self, code: str, now: datetime) -> bool:
        changed = await self._run(
            "UPDATE invites SET used_at = ? WHERE code = ? AND used_at IS NULL"
            " AND voided_at IS NULL AND expires_at > ?",
            (now, code, now),
        )
        return changed == 1

    async def invite_used_by(self, code: str, person_id: int) -> None:
        await self._run("UPDATE invites SET used_by = ? WHERE code = ?", (person_id, code))

    async def forget_invite_failures(self, before: datetime) -> int:
        changed = await self._run("DELETE FROM invite_failures WHERE at < ?", (before,))
        return changed

    async def record_invite_failure(self, channel: str, user_id: str, now: datetime) -> None:
        await self._run(
            "INSERT INTO invite_failures (channel, user_id, at) VALUES (?, ?, ?)",
            (channel, user_id, now),
        )

    async def invite_failures_since(
        self, channel: str, user_id: str, since: datetime
    ) -> list[datetime]:
        rows = await self._all(
            "SELECT at FROM invite_failures WHERE channel = ? AND user_id = ? AND at >= ?"
            " ORDER BY at",
            (channel, user_id, since),
        )
        return [_at(r["at"]) for r in rows]

    # conversation state ----------------------------------------------------

    async def draft(self, person_id: int) -> dict[str, Any] | None:
        row = await self._one("SELECT state FROM drafts WHERE person_id = ?", (person_id,))
        return _json(row["state"]) if row else None

    async def save_draft(self, person_id: int, state: dict[str, Any], now: datetime) -> None:
        await self._run(
            "INSERT INTO drafts (person_id, state, updated_at) VALUES (?, ?, ?)"
            f" ON CONFLICT ({self.SCOPE}person_id) DO UPDATE SET state = excluded.state,"
            " updated_at = excluded.updated_at",
            (person_id, json.dumps(state, ensure_ascii=False), now),
        )

    async def delete_draft(self, person_id: int) -> None:
        await self._run("DELETE FROM drafts WHERE person_id = ?", (person_id,))

    # reports ---------------------------------------------------------------

    async def add_report(
        self,
        village_id: str,
        form_id: str,
        period: str,
        answers: dict[str, Any],
        person_id: int,
        now: datetime,
    ) -> Report:
        await self._serialize(f"report:{village_id}:{form_id}:{period}")
        row = await self._one(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM reports"
            " WHERE village_id = ? AND form_id = ? AND period = ?",
            (village_id, form_id, period),
        )
        version = int(row[0]) if row else 1
        rows = await self._all(
            "INSERT INTO reports (village_id, form_id, period, version, submitted_at, submitted_by)"
            " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (village_id, form_id, period, version, now, person_id),
        )
        report_id = int(rows[0][0])
        await self._many(
            "INSERT INTO answers (report_id, question_id, position, value) VALUES (?, ?, ?, ?)",
            [
                (report_id, qid, pos, json.dumps(value, ensure_ascii=False))
                for pos, (qid, value) in enumerate(answers.items())
            ],
        )
        return Report(report_id, village_id, form_id, period, version, now, person_id, answers)

    async def _reports(self, rows: list[Row]) -> list[Report]:
        result = []
        for row in rows:
            answer_rows = await self._all(
                "SELECT question_id, value FROM answers WHERE report_id = ? ORDER BY position",
                (row["id"],),
            )
            result.append(
                Report(
                    id=row["id"],
                    village_id=row["village_id"],
                    form_id=row["form_id"],
                    period=row["period"],
                    version=row["version"],
                    submitted_at=_at(row["submitted_at"]),
                    submitted_by=row["submitted_by"],
                    answers={a["question_id"]: _json(a["value"]) for a in answer_rows},
                )
            )
        return result

    async def latest_report(self, village_id: str, form_id: str, period: str) -> Report | None:
        rows = await self._all(
            "SELECT * FROM reports WHERE village_id = ? AND form_id = ? AND period = ?"
            " ORDER BY version DESC LIMIT 1",
            (village_id, form_id, period),
        )
        found = await self._reports(rows)
        return found[0] if found else None

    async def report_before(self, village_id: str, form_id: str, period: str) -> Report | None:
        rows = await self._all(
            "SELECT * FROM reports WHERE village_id = ? AND form_id = ? AND period < ?"
            " ORDER BY period DESC, version DESC LIMIT 1",
            (village_id, form_id, period),
        )
        found = await self._reports(rows)
        return found[0] if found else None

    async def corrected_reports(self, since: datetime) -> list[tuple[Report, Report]]:
        # Few rows: the versions after a report's first, sent since ``since``.
        groups = await self._all(
            "SELECT village_id, form_id, period, MIN(version) - 1 AS base,"
            " MIN(submitted_at) AS first_at FROM reports"
            " WHERE version > 1 AND submitted_at >= ? GROUP BY village_id, form_id, period"
            " ORDER BY first_at, village_id, form_id, period",
            (since,),
        )
        found = []
        for village_id, form_id, period, base, _first in groups:
            rows = await self._all(
                "SELECT * FROM reports WHERE form_id = ? AND period = ? AND village_id = ?"
                " AND (version = ? OR version = (SELECT MAX(version) FROM reports"
                " WHERE form_id = ? AND period = ? AND village_id = ?)) ORDER BY version",
                (form_id, period, village_id, base, form_id, period, village_id),
            )
            pair = await self._reports(rows)
            if len(pair) == 2:
                found.append((pair[0], pair[1]))
        return found

    async def period_answers(
        self, form_id: str, period: str, questions: Sequence[str] | None = None
    ) -> dict[str, dict[str, Any]]:
        # One row per village, its answers joined into one JSON object by the database (each value
        # is already JSON): a digest reads 2,000 villages' answers in a few thousand Python
        # steps instead of one per answer.
        only = ""
        if questions is not None:
            only = f" AND {_among('a.question_id', questions)}"
        rows = await self._all(
            f"SELECT r.village_id, '{{' || {self._answer_pairs(nullable=False)} || '}}' AS answers"
            " FROM reports r JOIN answers a ON a.report_id = r.id"
            " WHERE r.form_id = ? AND r.period = ? AND r.version = ("
            "   SELECT MAX(l.version) FROM reports l WHERE l.form_id = r.form_id"
            f"   AND l.period = r.period AND l.village_id = r.village_id){only}"
            " GROUP BY r.id",
            (form_id, period, *(questions or ())),
        )
        return {village_id: _json(answers) for village_id, answers in rows}

    async def first_sent(self, form_id: str, period: str) -> dict[str, datetime]:
        rows = await self._all(
            "SELECT village_id, MIN(submitted_at) AS first FROM reports"
            " WHERE form_id = ? AND period = ? GROUP BY village_id",
            (form_id, period),
        )
        return {row["village_id"]: _at(row["first"]) for row in rows}

    async def reports(
        self, period: str | None = None, history: bool = False, village_id: str | None = None
    ) -> list[Report]:
        conditions = []
        params: list[Any] = []
        if period is not None:
            conditions.append("r.period = ?")
            params.append(period)
        if village_id is not None:
            conditions.append("r.village_id = ?")
            params.append(village_id)
        if not history:
            conditions.append(
                "r.version = (SELECT MAX(version) FROM reports l WHERE l.village_id = r.village_id"
                " AND l.form_id = r.form_id AND l.period = r.period)"
            )
        where = (" WHERE " + " AND ".join(conditions)) if conditions else ""
        rows = await self._all(
            f"SELECT r.* FROM reports r{where}"
            " ORDER BY r.period, r.form_id, r.village_id, r.version",
            tuple(params),
        )
        return await self._reports(rows)

    async def villages_in_use(self, now: datetime) -> dict[str, dict[str, int]]:
        rows = await self._all(
            "SELECT village_id, 'reports' AS what, COUNT(DISTINCT form_id || ':' || period) AS n"
            " FROM reports GROUP BY village_id"
            " UNION ALL SELECT village_id, 'people', COUNT(*) FROM people"
            " WHERE village_id IS NOT NULL AND revoked_at IS NULL GROUP BY village_id"
            " UNION ALL SELECT village_id, 'nominations', COUNT(*) FROM nominations"
            " GROUP BY village_id"
            " UNION ALL SELECT village_id, 'claims', COUNT(*) FROM score_claims"
            " GROUP BY village_id"
            " UNION ALL SELECT village_id, 'invites', COUNT(*) FROM invites"
            " WHERE village_id IS NOT NULL AND used_at IS NULL AND voided_at IS NULL"
            " AND expires_at > ? GROUP BY village_id",
            (now,),
        )
        found: dict[str, dict[str, int]] = {}
        for village_id, what, count in rows:
            found.setdefault(village_id, {})[what] = count
        return found

    async def forms_in_use(self) -> dict[str, int]:
        rows = await self._all(
            "SELECT form_id, COUNT(DISTINCT village_id || ':' || period) FROM reports"
            " GROUP BY form_id"
        )
        return {form_id: count for form_id, count in rows}

    async def questions_in_use(self) -> set[tuple[str, str]]:
        # DISTINCT keeps only the pairs (a GROUP BY with counts sorts every answer: 3× the
        # time over two million answers).
        rows = await self._all(
            "SELECT DISTINCT r.form_id, a.question_id FROM reports r"
            " JOIN answers a ON a.report_id = r.id"
        )
        return {(form_id, question_id) for form_id, question_id in rows}

    async def question_answers(self, form_id: str, question_id: str) -> int:
        row = await self._one(
            "SELECT COUNT(*) FROM reports r JOIN answers a ON a.report_id = r.id"
            " WHERE r.form_id = ? AND a.question_id = ?",
            (form_id, question_id),
        )
        return int(row[0]) if row else 0

    # outbox ----------------------------------------------------------------

    async def queue_message(
        self,
        key: str,
        person_id: int | None,
        identity: Identity,
        locale: str,
        replies: list[Reply],
        now: datetime,
        owner: str | None = None,
        lease_until: datetime | None = None,
    ) -> QueuedMessage | None:
        claim = owner is not None
        ts = self.TIMESTAMP
        rows = await self._all(
            "INSERT INTO outbox (key, person_id, channel, chat_id, locale, replies,"
            " created_at, not_before, owner, lease_until)"
            f" SELECT ?, CAST(? AS BIGINT), ?, ?, ?, ?{self.DOCUMENT}, ?{ts}, ?{ts},"
            " CASE WHEN free THEN ? END,"
            f" CASE WHEN free THEN ?{ts} END"
            " FROM (SELECT ? AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.channel = ?"
            " AND e.chat_id = ? AND e.sent_at IS NULL AND e.failed_at IS NULL) AS free) AS f"
            " WHERE TRUE ON CONFLICT DO NOTHING RETURNING id, owner",
            (
                key,
                person_id,
                identity.channel,
                identity.chat_id,
                locale,
                json.dumps([_reply_dict(r) for r in replies], ensure_ascii=False),
                now,
                now,
                owner,
                lease_until,
                claim,
                identity.channel,
                identity.chat_id,
            ),
        )
        if not rows:
            return None
        message_id, claimed_by = int(rows[0][0]), rows[0][1]
        self.queued = True
        files = [
            (message_id, index, position, f.name, f.is_image, f.data, f.caption)
            for index, reply in enumerate(replies)
            for position, f in enumerate(reply.files)
        ]
        if files:
            await self._many(
                "INSERT INTO outbox_files"
                " (outbox_id, reply, position, name, is_image, data, caption)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                files,
            )
        return QueuedMessage(
            message_id,
            key,
            person_id,
            identity.channel,
            identity.chat_id,
            locale,
            list(replies),
            owner=claimed_by,
        )

    async def is_queued(self, key: str) -> bool:
        return await self._one("SELECT 1 FROM outbox WHERE key = ?", (key,)) is not None

    async def claim_messages(
        self,
        owner: str,
        now: datetime,
        lease_until: datetime,
        channels: Sequence[str],
        limit: int,
        replies_only: bool = False,
    ) -> list[QueuedMessage]:
        if not channels:
            return []
        marks = ", ".join("?" for _ in channels)
        stamp = now
        only = " AND substr(o.key, 1, ?) = ?" if replies_only else ""
        extra: tuple[Any, ...] = (len(REPLY_KEY), REPLY_KEY) if replies_only else ()
        # A message is claimed when it is due, nobody holds it (no claim, or its lease ran
        # out, or its sender is known gone: past its ``alive_until``), and no earlier message
        # to its chat is still waiting (for a retry, or in a live sender's hands).
        gone = "SELECT s.owner FROM senders s WHERE s.alive_until <= ?"
        rows = await self._all(
            "UPDATE outbox SET owner = ?, lease_until = ? WHERE id IN ("
            " SELECT o.id FROM outbox o WHERE o.sent_at IS NULL AND o.failed_at IS NULL"
            f" AND o.channel IN ({marks}) AND o.not_before <= ?{only}"
            f" AND (o.owner IS NULL OR o.lease_until <= ? OR o.owner IN ({gone}))"
            " AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.channel = o.channel"
            " AND e.chat_id = o.chat_id AND e.sent_at IS NULL AND e.failed_at IS NULL"
            " AND e.id < o.id AND (e.not_before > ? OR (e.owner IS NOT NULL AND"
            f" e.lease_until > ? AND e.owner NOT IN ({gone}))))"
            f" ORDER BY o.id LIMIT ?{self.SKIP_LOCKED}) RETURNING *",
            (owner, lease_until, *channels, stamp, *extra, stamp, stamp, stamp, stamp, stamp,
             limit),
        )  # fmt: skip
        if not rows:
            return []
        rows.sort(key=lambda row: row["id"])
        ids = [row["id"] for row in rows]
        files: dict[tuple[int, int], list[OutgoingFile]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            id_marks = ", ".join("?" for _ in chunk)
            for f in await self._all(
                "SELECT outbox_id, reply, name, is_image, data, caption FROM outbox_files"
                f" WHERE outbox_id IN ({id_marks}) ORDER BY outbox_id, reply, position",
                tuple(chunk),
            ):
                files.setdefault((f["outbox_id"], f["reply"]), []).append(
                    OutgoingFile(f["name"], bytes(f["data"]), bool(f["is_image"]), f["caption"])
                )
        return [
            QueuedMessage(
                id=row["id"],
                key=row["key"],
                person_id=row["person_id"],
                channel=row["channel"],
                chat_id=row["chat_id"],
                locale=row["locale"],
                replies=[
                    _reply_from(data, files.get((row["id"], index), []))
                    for index, data in enumerate(_json(row["replies"]))
                ],
                parts_sent=row["parts_sent"],
                attempts=row["attempts"],
                owner=row["owner"],
            )
            for row in rows
        ]

    async def release_messages(self, message_ids: Sequence[int]) -> None:
        for start in range(0, len(message_ids), 500):
            chunk = list(message_ids[start : start + 500])
            marks = ", ".join("?" for _ in chunk)
            await self._run(
                f"UPDATE outbox SET owner = NULL, lease_until = NULL WHERE id IN ({marks})",
                tuple(chunk),
            )

    async def sender_alive(self, owner: str, until: datetime) -> None:
        await self._run(
            "INSERT INTO senders (owner, alive_until) VALUES (?, ?)"
            f" ON CONFLICT ({self.SCOPE}owner) DO UPDATE SET alive_until = excluded.alive_until",
            (owner, until),
        )
        # the senders gone long ago: their leases ran out too
        await self._run("DELETE FROM senders WHERE alive_until < ?", (until - timedelta(hours=1),))

    async def sender_gone(self, owner: str) -> None:
        await self._run(
            "UPDATE outbox SET owner = NULL, lease_until = NULL WHERE owner = ?"
            " AND sent_at IS NULL AND failed_at IS NULL",
            (owner,),
        )
        await self._run("DELETE FROM senders WHERE owner = ?", (owner,))

    async def release_claims(self, keep_owner: str) -> int:
        changed = await self._run(
            "UPDATE outbox SET owner = NULL, lease_until = NULL WHERE owner IS NOT NULL"
            " AND owner <> ? AND sent_at IS NULL AND failed_at IS NULL",
            (keep_owner,),
        )
        return changed

    async def next_due(
        self, channels: Sequence[str], replies_only: bool = False
    ) -> datetime | None:
        if not channels:
            return None
        marks = ", ".join("?" for _ in channels)
        only = " AND substr(key, 1, ?) = ?" if replies_only else ""
        extra: tuple[Any, ...] = (len(REPLY_KEY), REPLY_KEY) if replies_only else ()
        # A claimed message falls due when its claim ends: its lease, or its sender's
        # ``alive_until`` when that comes first (a sender killed).
        alive = "(SELECT s.alive_until FROM senders s WHERE s.owner = outbox.owner)"
        claim_ends = self.EARLIER.format("lease_until", f"COALESCE({alive}, lease_until)")
        row = await self._one(
            "SELECT MIN(CASE WHEN owner IS NULL THEN not_before"
            f" ELSE {self.LATER.format('not_before', claim_ends)} END) AS due FROM outbox"
            f" WHERE sent_at IS NULL AND failed_at IS NULL AND channel IN ({marks}){only}",
            (*channels, *extra),
        )
        return _dt(row["due"]) if row else None

    async def message_progress(self, message_id: int, parts_sent: int) -> None:
        await self._run("UPDATE outbox SET parts_sent = ? WHERE id = ?", (parts_sent, message_id))

    async def message_sent(self, message_id: int, parts_sent: int, now: datetime) -> None:
        await self._run(
            "UPDATE outbox SET parts_sent = ?, sent_at = ?, owner = NULL, lease_until = NULL"
            " WHERE id = ?",
            (parts_sent, now, message_id),
        )

    async def message_retry(
        self, message_id: int, attempts: int, not_before: datetime, error: str
    ) -> None:
        await self._run(
            "UPDATE outbox SET attempts = ?, not_before = ?, last_error = ?, owner = NULL,"
            " lease_until = NULL WHERE id = ?",
            (attempts, not_before, error, message_id),
        )

    async def message_failed(
        self, message_id: int, attempts: int, now: datetime, error: str
    ) -> None:
        await self._run(
            "UPDATE outbox SET attempts = ?, failed_at = ?, last_error = ?, owner = NULL,"
            " lease_until = NULL WHERE id = ?",
            (attempts, now, error, message_id),
        )

    async def outbox(self, key_prefix: str = "") -> list[dict[str, Any]]:
        rows = await self._all(
            "SELECT id, key, person_id, channel, chat_id, created_at, not_before, parts_sent,"
            " attempts, last_error, sent_at, failed_at, owner, lease_until FROM outbox"
            " WHERE substr(key, 1, ?) = ? ORDER BY id",
            (len(key_prefix), key_prefix),
        )
        moments = ("created_at", "not_before", "sent_at", "failed_at", "lease_until")
        return [
            {name: _dt(value) if name in moments else value for name, value in dict(row).items()}
            for row in rows
        ]

    async def mark_unreachable(self, channel: str, chat_id: str, now: datetime) -> int:
        changed = await self._run(
            "UPDATE identities SET unreachable_at = ?"
            " WHERE channel = ? AND chat_id = ? AND unreachable_at IS NULL",
            (now, channel, chat_id),
        )
        return changed

    async def delivery_failed(
        self, channel: str, chat_id: str, now: datetime
    ) -> tuple[datetime, int] | None:
        rows = await self._all(
            "UPDATE identities SET failing_since = COALESCE(failing_since, ?),"
            " failures = failures + 1 WHERE channel = ? AND chat_id = ?"
            " RETURNING failing_since, failures",
            (now, channel, chat_id),
        )
        if not rows:
            return None
        since = _dt(rows[0]["failing_since"])
        assert since is not None
        return since, int(rows[0]["failures"])

    async def delivery_recovered(self, channel: str, chat_id: str) -> None:
        await self._run(
            "UPDATE identities SET failing_since = NULL, failures = 0"
            " WHERE channel = ? AND chat_id = ? AND failing_since IS NOT NULL",
            (channel, chat_id),
        )

    async def failing_chats(self) -> list[tuple[str, str]]:
        rows = await self._all(
            "SELECT channel, chat_id FROM identities WHERE failing_since IS NOT NULL"
        )
        return [(row["channel"], row["chat_id"]) for row in rows]

    async def forget_outbox(self, before: datetime) -> int:
        changed = await self._run(
            "DELETE FROM outbox WHERE COALESCE(sent_at, failed_at) < ?", (before,)
        )
        return changed

    async def drafts(self, person_ids: list[int]) -> dict[int, dict[str, Any]]:
        found: dict[int, dict[str, Any]] = {}
        for start in range(0, len(person_ids), 500):
            chunk = person_ids[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            rows = await self._all(
                f"SELECT person_id, state FROM drafts WHERE person_id IN ({marks})", tuple(chunk)
            )
            found.update({row["person_id"]: _json(row["state"]) for row in rows})
        return found

    # files -----------------------------------------------------------------

    async def store_file(self, data: bytes, mime_type: str | None, now: datetime) -> str:
        key = hashlib.sha256(data).hexdigest()
        await self._run(
            "INSERT INTO files (key, mime_type, size, data, created_at)"
            f" VALUES (?, ?, ?, ?, ?) ON CONFLICT ({self.SCOPE}key) DO NOTHING",
            (key, mime_type, len(data), data, now),
        )
        return key

    async def forget_files(self, before: datetime) -> int:
        # Kept while a nomination, a report's answer, a score claim or an open draft still
        # refers to it.
        changed = await self._run(
            "DELETE FROM files WHERE created_at < ? AND key NOT IN ("
            " SELECT file_key FROM nomination_photos UNION"
            " SELECT photo FROM score_claims WHERE photo IS NOT NULL UNION"
            f" SELECT {self.FILE_IN_ANSWER} FROM answers WHERE value LIKE '{{%')"
            " AND NOT EXISTS (SELECT 1 FROM drafts d WHERE"
            f" {self.CONTAINS.format('d.state', 'files.key')})",
            (before,),
        )
        return changed

    async def file(self, key: str) -> tuple[bytes, str | None] | None:
        row = await self._one("SELECT data, mime_type FROM files WHERE key = ?", (key,))
        return (bytes(row["data"]), row["mime_type"]) if row else None

    # nominations -----------------------------------------------------------

    async def add_nomination(
        self,
        nominator_id: int,
        nominee: str,
        village_id: str,
        deed: str,
        kind: str,
        photos: list[str],
        year: int,
        now: datetime,
        captions: Sequence[str] = (),
    ) -> Nomination:
        await self._serialize(f"nomination:{year}")
        row = await self._one(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM nominations WHERE year = ?", (year,)
        )
        seq = int(row[0]) if row else 1
        number = f"ĐC-{year}-{seq:04d}"
        rows = await self._all(
            "INSERT INTO nominations (year, seq, number, nominator_id, nominee, village_id,"
            " deed, kind, status, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (year, seq, number, nominator_id, nominee, village_id, deed, kind, REVIEW,
             now, now),
        )  # fmt: skip
        nomination_id = int(rows[0][0])
        await self._many(
            "INSERT INTO nomination_photos (nomination_id, position, file_key, caption)"
            " VALUES (?, ?, ?, ?)",
            [
                (
                    nomination_id,
                    position,
                    key,
                    captions[position] if position < len(captions) else "",
                )
                for position, key in enumerate(photos)
            ],
        )
        await self._event(nomination_id, now, nominator_id, "sent", REVIEW, "")
        found = await self.nomination(nomination_id)
        assert found is not None
        return found

    async def _event(
        self,
        nomination_id: int,
        at: datetime,
        person_id: int | None,
        action: str,
        status: str,
        comment: str,
    ) -> None:
        await self._run(
            "INSERT INTO nomination_events (nomination_id, at, person_id, action, status, comment)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (nomination_id, at, person_id, action, status, comment),
        )

    async def change_nomination(
        self,
        nomination_id: int,
        expected_status: str,
        status: str,
        person_id: int,
        action: str,
        comment: str,
        now: datetime,
    ) -> bool:
        changed = await self._run(
            "UPDATE nominations SET status = ?, updated_at = ? WHERE id = ? AND status = ?",
            (status, now, nomination_id, expected_status),
        )
        if changed != 1:
            return False
        await self._event(nomination_id, now, person_id, action, status, comment)
        return True

    def _answer_pairs(self, nullable: bool) -> str:
        """The "question": answer pairs of the joined ``answers a`` rows, comma-separated
        (each value is JSON already); with ``nullable``, rows of a LEFT JOIN that found no
        answer give nothing, and no rows give ''."""
        pair = f"{self.JSON_TEXT.format('a.question_id')} || ':' || COALESCE(a.value, 'null')"
        if not nullable:
            return self.AGGREGATE.format(pair)
        present = f"CASE WHEN a.question_id IS NOT NULL THEN {pair} END"
        return f"COALESCE({self.AGGREGATE.format(present)}, '')"

    @staticmethod
    def _nomination(row: Row) -> Nomination:
        return Nomination(
            id=row["id"],
            number=row["number"],
            nominator_id=row["nominator_id"],
            nominee=row["nominee"],
            village_id=row["village_id"],
            deed=row["deed"],
            kind=row["kind"],
            status=row["status"],
            created_at=_at(row["created_at"]),
            updated_at=_at(row["updated_at"]),
            photos=tuple(key for key, _caption in _json(row["photos"])),
            captions=tuple(caption for _key, caption in _json(row["photos"])),
        )

    async def nomination(self, nomination_id: int) -> Nomination | None:
        row = await self._one(
            f"SELECT {self._NOMINATION} FROM nominations n WHERE n.id = ?", (nomination_id,)
        )
        return self._nomination(row) if row else None

    async def nominations(
        self,
        nominator_id: int | None = None,
        statuses: Sequence[str] | None = None,
        since: datetime | None = None,
    ) -> list[Nomination]:
        conditions: list[str] = []
        params: list[Any] = []
        if nominator_id is not None:
            conditions.append("n.nominator_id = ?")
            params.append(nominator_id)
        if statuses is not None:
            conditions.append(_among("n.status", statuses))
            params.extend(statuses)
        if since is not None:
            conditions.append("n.created_at >= ?")
            params.append(since)
        where = (" WHERE " + " AND ".join(conditions)) if conditions else ""
        rows = await self._all(
            f"SELECT {self._NOMINATION} FROM nominations n{where} ORDER BY n.id", tuple(params)
        )
        return [self._nomination(row) for row in rows]

    async def nomination_events(
        self,
        nomination_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[NominationEvent]:
        conditions: list[str] = []
        params: list[Any] = []
        if nomination_id is not None:
            conditions.append("nomination_id = ?")
            params.append(nomination_id)
        if since is not None:
            conditions.append("at >= ?")
            params.append(since)
        if until is not None:
            conditions.append("at < ?")
            params.append(until)
        where = (" WHERE " + " AND ".join(conditions)) if conditions else ""
        rows = await self._all(f"SELECT * FROM nomination_events{where} ORDER BY id", tuple(params))
        return [
            NominationEvent(
                nomination_id=row["nomination_id"],
                at=_at(row["at"]),
                person_id=row["person_id"],
                action=row["action"],
                status=row["status"],
                comment=row["comment"],
            )
            for row in rows
        ]

    # the scoreboard -----------------------------------------------------------

    async def report_records(
        self, form_periods: Sequence[tuple[str, str]], questions: Sequence[str] | None = None
    ) -> list[ReportRecord]:
        # One query per 400 (form, period) pairs: the latest version of each village's report
        # with its answers joined into one JSON object (as period_answers does) and the time
        # its first version was sent.
        pairs = list(dict.fromkeys(form_periods))
        asked = list(dict.fromkeys(questions)) if questions is not None else None
        only = ""
        if asked is not None:
            marks = ", ".join("?" for _ in asked)
            only = f" AND a.question_id IN ({marks})" if asked else " AND FALSE"
        found: list[ReportRecord] = []
        for start in range(0, len(pairs), 400):
            chunk = pairs[start : start + 400]
            wanted = ", ".join("(?, ?)" for _ in chunk)
            rows = await self._all(
                f"WITH wanted (form_id, period) AS (VALUES {wanted}),"
                " latest AS (SELECT r.village_id, r.form_id, r.period, MAX(r.version) AS version,"
                "   MIN(r.submitted_at) AS first_at FROM reports r JOIN wanted w"
                "   ON w.form_id = r.form_id AND w.period = r.period"
                "   GROUP BY r.form_id, r.period, r.village_id)"
                " SELECT l.village_id, l.form_id, l.period, l.first_at, r.id AS report_id,"
                f" '{{' || {self._answer_pairs(nullable=True)} || '}}' AS answers"
                # a report without answers (or none asked for): {}
                " FROM latest l JOIN reports r ON r.form_id = l.form_id AND r.period = l.period"
                "   AND r.village_id = l.village_id AND r.version = l.version"
                f" LEFT JOIN answers a ON a.report_id = r.id{only}"
                " GROUP BY r.id, l.village_id, l.form_id, l.period, l.first_at"
                " ORDER BY l.form_id, l.period, l.village_id",
                (*(value for pair in chunk for value in pair), *(asked or ())),
            )
            found.extend(
                ReportRecord(
                    village_id=row["village_id"],
                    form_id=row["form_id"],
                    period=row["period"],
                    first_sent=_at(row["first_at"]),
                    report_id=int(row["report_id"]),
                    answers=_json(row["answers"]),
                )
                for row in rows
            )
        found.sort(key=lambda r: (r.form_id, r.period, r.village_id))
        return found

    async def baseline_answers(self, form_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        if not form_ids:
            return {}
        marks = ", ".join("?" for _ in form_ids)
        rows = await self._all(
            "SELECT r.village_id, r.form_id,"
            f" '{{' || {self._answer_pairs(nullable=True)} || '}}' AS answers"
            # a report without answers: {}
            " FROM reports r LEFT JOIN answers a ON a.report_id = r.id"
            f" WHERE r.form_id IN ({marks}) AND r.id = (SELECT l.id FROM reports l"
            "   WHERE l.form_id = r.form_id AND l.village_id = r.village_id"
            "   ORDER BY l.period DESC, l.version DESC LIMIT 1)"
            " GROUP BY r.id",
            tuple(form_ids),
        )
        order = {form_id: n for n, form_id in enumerate(form_ids)}
        merged: dict[str, dict[str, Any]] = {}
        for row in sorted(rows, key=lambda row: order[row["form_id"]]):
            merged.setdefault(row["village_id"], {}).update(_json(row["answers"]))
        return merged

    async def accepted_nominations(self, since: datetime, until: datetime) -> dict[str, int]:
        rows = await self._all(
            "SELECT n.village_id, COUNT(DISTINCT n.id) FROM nominations n"
            " JOIN nomination_events e ON e.nomination_id = n.id"
            " WHERE e.action = 'accepted' AND e.at >= ? AND e.at <= ?"
            " GROUP BY n.village_id",
            (since, until),
        )
        return {village_id: int(count) for village_id, count in rows}

    @staticmethod
    def _claim(row: Row) -> Claim:
        return Claim(
            id=row["id"],
            year=row["year"],
            village_id=row["village_id"],
            criterion_id=row["criterion_id"],
            value=Decimal(row["value"]),
            reason=row["reason"],
            person_id=row["person_id"],
            created_at=_at(row["created_at"]),
            status=row["status"],
            photo=row["photo"],
            reviewed_by=row["reviewed_by"],
            reviewed_at=_dt(row["reviewed_at"]),
            comment=row["comment"],
        )

    async def add_claim(
        self,
        year: int,
        village_id: str,
        criterion_id: str,
        value: Decimal,
        reason: str,
        photo: str | None,
        person_id: int,
        now: datetime,
    ) -> Claim:
        rows = await self._all(
            "INSERT INTO score_claims (year, village_id, criterion_id, value, reason, photo,"
            " person_id, created_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
            (year, village_id, criterion_id, value, reason, photo, person_id, now,
             PENDING),
        )  # fmt: skip
        return self._claim(rows[0])

    async def claim(self, claim_id: int) -> Claim | None:
        row = await self._one("SELECT * FROM score_claims WHERE id = ?", (claim_id,))
        return self._claim(row) if row else None

    async def claims(
        self, year: int, status: str | None = None, village_id: str | None = None
    ) -> list[Claim]:
        conditions = ["year = ?"]
        params: list[Any] = [year]
        if status is not None:
            conditions.append("status = ?")
            params.append(status)
        if village_id is not None:
            conditions.append("village_id = ?")
            params.append(village_id)
        rows = await self._all(
            f"SELECT * FROM score_claims WHERE {' AND '.join(conditions)} ORDER BY id",
            tuple(params),
        )
        return [self._claim(row) for row in rows]

    async def review_claim(
        self,
        claim_id: int,
        status: str,
        person_id: int | None,
        comment: str,
        now: datetime,
        expected_status: str = PENDING,
    ) -> bool:
        changed = await self._run(
            "UPDATE score_claims SET status = ?, reviewed_by = ?, reviewed_at = ?, comment = ?"
            " WHERE id = ? AND status = ?",
            (status, person_id, now, comment, claim_id, expected_status),
        )
        return changed == 1

    async def add_score_event(
        self,
        year: int,
        kind: str,
        now: datetime,
        village_id: str | None = None,
        criterion_id: str | None = None,
        points: Decimal | None = None,
        value: Decimal | None = None,
        claim_id: int | None = None,
        person_id: int | None = None,
        actor: str = "",
        reason: str = "",
        data: dict[str, Any] | None = None,
    ) -> int:
        rows = await self._all(
            "INSERT INTO score_events (year, village_id, criterion_id, kind, points, value,"
            " claim_id, person_id, actor, reason, at, data)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                year,
                village_id,
                criterion_id,
                kind,
                points,
                value,
                claim_id,
                person_id,
                actor,
                reason,
                now,
                json.dumps(data or {}, ensure_ascii=False, default=str),
            ),
        )
        return int(rows[0][0])

    async def score_events(self, year: int, village_id: str | None = None) -> list[dict[str, Any]]:
        only = ""
        params: tuple[Any, ...] = (year,)
        if village_id is not None:
            only = " AND (village_id = ? OR village_id IS NULL)"
            params = (year, village_id)
        rows = await self._all(
            f"SELECT * FROM score_events WHERE year = ?{only} ORDER BY id", params
        )
        return [
            {
                "id": row["id"],
                "year": row["year"],
                "village_id": row["village_id"],
                "criterion_id": row["criterion_id"],
                "kind": row["kind"],
                "points": None if row["points"] is None else Decimal(row["points"]),
                "value": None if row["value"] is None else Decimal(row["value"]),
                "claim_id": row["claim_id"],
                "person_id": row["person_id"],
                "actor": row["actor"],
                "reason": row["reason"],
                "at": _at(row["at"]),
                "data": _json(row["data"]),
            }
            for row in rows
        ]

    async def last_computed(self, year: int) -> dict[tuple[str, str], Decimal]:
        rows = await self._all(
            "SELECT village_id, criterion_id, points FROM score_events WHERE id IN ("
            " SELECT MAX(id) FROM score_events WHERE year = ? AND kind = 'computed'"
            " GROUP BY village_id, criterion_id)",
            (year,),
        )
        return {
            (row["village_id"], row["criterion_id"]): Decimal(row["points"])
            for row in rows
            if row["points"] is not None
        }

    @staticmethod
    def _snapshot(row: Row) -> Snapshot:
        finalized_at = _dt(row["finalized_at"])
        assert finalized_at is not None
        return Snapshot(
            id=row["id"],
            year=row["year"],
            as_of=_day(row["as_of"]),
            board=_json(row["board"]),
            finalized_at=finalized_at,
            finalized_by=row["finalized_by"],
            person_id=row["person_id"],
            reopened_at=_dt(row["reopened_at"]),
            reopened_by=row["reopened_by"],
            reopen_reason=row["reopen_reason"],
        )

    async def add_snapshot(
        self,
        year: int,
        as_of: date,
        board: dict[str, Any],
        finalized_by: str,
        person_id: int | None,
        now: datetime,
    ) -> Snapshot:
        rows = await self._all(
            "INSERT INTO score_snapshots (year, as_of, board, finalized_at, finalized_by,"
            " person_id) VALUES (?, ?, ?, ?, ?, ?) RETURNING *",
            (
                year,
                as_of,
                json.dumps(board, ensure_ascii=False),
                now,
                finalized_by,
                person_id,
            ),
        )
        return self._snapshot(rows[0])

    async def current_snapshot(self, year: int) -> Snapshot | None:
        row = await self._one(
            "SELECT * FROM score_snapshots WHERE year = ? ORDER BY id DESC LIMIT 1", (year,)
        )
        return self._snapshot(row) if row else None

    async def reopen_snapshot(
        self, snapshot_id: int, reason: str, person_id: int | None, now: datetime
    ) -> bool:
        changed = await self._run(
            "UPDATE score_snapshots SET reopened_at = ?, reopened_by = ?, reopen_reason = ?"
            " WHERE id = ? AND reopened_at IS NULL",
            (now, person_id, reason, snapshot_id),
        )
        return changed == 1


def _reply_dict(reply: Reply) -> dict[str, Any]:
    data: dict[str, Any] = {
        "text": reply.text,
        "choices": [[c.label, c.value] for c in reply.choices],
        "typed_answer": reply.typed_answer,
    }
    if reply.recipe is not None:
        recipe = reply.recipe
        data["recipe"] = [recipe.kind, iso(recipe.at), recipe.period]
    return data


def _reply_from(data: dict[str, Any], files: list[OutgoingFile]) -> Reply:
    recipe = None
    if data.get("recipe"):
        kind, at, period = data["recipe"]
        recipe = Recipe(kind, _at(at), period)
    return Reply(
        data["text"],
        tuple(Choice(label, value) for label, value in data["choices"]),
        bool(data["typed_answer"]),
        tuple(files),
        recipe,
    )
