"""The storage interface the core depends on.

One ``Storage`` per process; every change happens inside ``transaction()``,
which yields a ``Transaction`` holding all reads and writes of one unit of
work; long reads may use ``reading()``, a read-only snapshot. ``storage.sqlite`` and
``storage.postgres`` implement it, both on the queries of ``storage.sql``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from bot.domain import (
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
from bot.messages import Incoming, Reply
from bot.scoring.board import PENDING, Claim, ReportRecord

# The kinds of score events (every change to a score is one, kept for good).
SCORE_EVENT_KINDS = (
    "computed",  # the rules gave new points from the data
    "claimed",  # a head claimed another figure
    "accepted",  # the secretariat accepted a claim (its points now count)
    "refused",  # … or refused it, with a comment
    "agreed",  # a head agreed with the provisional points
    "finalized",  # the council froze the board
    "reopened",  # … and opened it again, with a reason
)


class StorageBusy(Exception):
    """The database could not do the work now (locked by another process, out of space…);
    the same unit of work may succeed if tried again."""


class SchemaTooNew(Exception):
    """The database was migrated by a newer thidua (its schema ``stored`` is past the last
    migration this code has, ``known``): nothing is changed in it."""

    def __init__(self, stored: int, known: int) -> None:
        super().__init__(f"database schema {stored} is newer than this code's {known}")
        self.stored = stored
        self.known = known


@dataclass(frozen=True)
class Snapshot:
    """A year's board as the council froze it: the board's lossless record
    (``bot.scoring.rules.board_to_record``), the scoring date it was computed as of, when and
    by whom it was frozen; a reopened one says when, by whom and why."""

    id: int
    year: int
    as_of: date
    board: dict[str, Any]
    finalized_at: datetime
    finalized_by: str
    person_id: int | None = None
    reopened_at: datetime | None = None
    reopened_by: int | None = None
    reopen_reason: str | None = None

    @property
    def frozen(self) -> bool:
        """The board still stands as frozen (not reopened)."""
        return self.reopened_at is None


class Transaction(Protocol):
    # the inbox: what people send, stored before it is acknowledged, applied from here
    async def receive_events(self, events: Sequence[Incoming], now: datetime) -> list[int | None]:
        """Store ``events`` in this order; each one's inbox id (the order it is applied in),
        or None for an event stored before under the same channel and update key."""

    async def hold_sender(self, channel: str, user_id: str) -> None:
        """Hold the sender's lock until this unit of work ends: no other process applies
        one of their events meanwhile (one process's units of work take turns anyway)."""

    async def first_pending(self, channel: str, user_id: str) -> tuple[int, Incoming] | None:
        """The sender's oldest event stored and not yet applied, whichever instance stored
        it; None when none is left."""

    async def claim_event(self, event_id: int, now: datetime) -> bool:
        """Mark a stored event applied (in the transaction that applies it); False when it
        was applied already."""

    async def pending_events(self) -> list[tuple[int, Incoming]]:
        """Events stored and not yet applied, oldest first."""

    async def revive_reply(self, channel: str, update_key: str, now: datetime) -> bool:
        """Queue again the replies to a stored event that were given up (the platform sent
        the event once more); False when there were none to revive."""

    async def forget_events(self, before: datetime) -> int:
        """Drop events applied before ``before`` (no channel redelivers that late)."""

    async def meta(self, key: str) -> str | None: ...
    async def set_meta(self, key: str, value: str) -> None: ...

    # people
    async def person_by_identity(self, channel: str, user_id: str) -> Person | None: ...
    async def person(self, person_id: int) -> Person | None: ...
    async def person_with_draft(
        self, channel: str, user_id: str
    ) -> tuple[Person, dict[str, Any] | None] | None:
        """The person behind an identity and their open conversation, in one read."""

    async def people(
        self, include_revoked: bool = False, unreachable_only: bool = False
    ) -> list[Person]:
        """Everyone (not revoked, unless asked), or only those a channel reported
        unreachable on at least one identity."""

    async def create_person(
        self,
        name: str,
        role: str,
        village_id: str | None,
        locale: str,
        now: datetime,
        is_console: bool = False,
    ) -> Person: ...
    async def add_identity(self, person_id: int, identity: Identity, now: datetime) -> None: ...
    async def touch_identity(self, identity: Identity, now: datetime) -> None: ...
    async def set_locale(self, person_id: int, locale: str) -> None: ...
    async def revoke_person(self, person_id: int, now: datetime) -> bool:
        """End a person's access: identities and draft removed, queued messages to them
        cancelled, invites linked to them voided, their web sessions ended and sign-in links
        spent; False when unknown or already revoked."""

    # invites
    async def create_invite(self, invite: Invite) -> None: ...
    async def invite(self, code: str) -> Invite | None: ...
    async def use_invite(self, code: str, now: datetime) -> bool:
        """Take an invite: True for the one caller that found it unused, not voided and not
        expired; False for everyone else."""

    async def invite_used_by(self, code: str, person_id: int) -> None: ...
    async def forget_invite_failures(self, before: datetime) -> int: ...
    async def record_invite_failure(self, channel: str, user_id: str, now: datetime) -> None: ...
    async def invite_failures_since(
        self, channel: str, user_id: str, since: datetime
    ) -> list[datetime]: ...

    # conversation state
    async def draft(self, person_id: int) -> dict[str, Any] | None: ...
    async def save_draft(self, person_id: int, state: dict[str, Any], now: datetime) -> None: ...
    async def delete_draft(self, person_id: int) -> None: ...
    async def drafts(self, person_ids: list[int]) -> dict[int, dict[str, Any]]:
        """person id -> open conversation, for those of ``person_ids`` that have one."""

    # reports
    async def add_report(
        self,
        village_id: str,
        form_id: str,
        period: str,
        answers: dict[str, Any],
        person_id: int,
        now: datetime,
    ) -> Report: ...
    async def latest_report(self, village_id: str, form_id: str, period: str) -> Report | None: ...
    async def report_before(self, village_id: str, form_id: str, period: str) -> Report | None:
        """The latest version of the most recent report of an earlier period."""

    async def corrected_reports(self, since: datetime) -> list[tuple[Report, Report]]:
        """Reports given a new version at or after ``since`` (a correction): for each, the
        version that stood before the first of those and the latest version, oldest
        correction first."""

    async def period_answers(
        self, form_id: str, period: str, questions: Sequence[str] | None = None
    ) -> dict[str, dict[str, Any]]:
        """village id -> question id -> answer, from the latest version of each village's
        report of ``form_id`` for ``period`` (only ``questions``, when given)."""

    async def first_sent(self, form_id: str, period: str) -> dict[str, datetime]:
        """village id -> when the first version of its report for ``period`` was sent."""

    async def reports(
        self, period: str | None = None, history: bool = False, village_id: str | None = None
    ) -> list[Report]:
        """Reports (latest versions only unless ``history``; only ``village_id``'s when
        given), oldest first."""

    # the ids stored data refers to (a plan that drops one of them cuts its data off)
    async def villages_in_use(self, now: datetime) -> dict[str, dict[str, int]]:
        """village id -> how many of each thing refer to it: ``reports`` (village, form and
        period; versions counted once), ``people`` (not revoked), ``nominations``,
        ``claims`` (self-assessment claims, any status) and ``invites`` (unused, not voided,
        still valid at ``now``); only non-zero counts."""

    async def forms_in_use(self) -> dict[str, int]:
        """form id -> how many reports (village and period; versions counted once) it has."""

    async def questions_in_use(self) -> set[tuple[str, str]]:
        """(form id, question id) of every stored answer (one scan, no counting)."""

    async def question_answers(self, form_id: str, question_id: str) -> int:
        """How many stored answers (every version) a question of a form has."""

    # outbox: what the bot says, queued in the transaction that decided it, then sent
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
        """Queue ``replies`` for ``identity``'s chat; None (and nothing queued) when a message
        with this ``key`` was queued before — a key names what a message is, once. With an
        ``owner``, the message is claimed for it at once unless an earlier message to the
        same chat is still waiting (the returned message's ``owner`` says which)."""

    async def is_queued(self, key: str) -> bool: ...
    async def claim_messages(
        self,
        owner: str,
        now: datetime,
        lease_until: datetime,
        channels: Sequence[str],
        limit: int,
        replies_only: bool = False,
    ) -> list[QueuedMessage]:
        """Claim for ``owner`` until ``lease_until`` the messages due by ``now`` that no one
        holds and that no earlier waiting message to the same chat precedes (only replies,
        with ``replies_only``); oldest first."""

    async def release_messages(self, message_ids: Sequence[int]) -> None:
        """Give claimed messages back unsent."""

    async def sender_alive(self, owner: str, until: datetime) -> None:
        """``owner``'s sender is alive until ``until`` (it says so again before then); once
        past it, its claims are void for the other senders (it was killed)."""

    async def sender_gone(self, owner: str) -> None:
        """``owner``'s sender stopped: its claims released, its row dropped."""

    async def release_claims(self, keep_owner: str) -> int:
        """Void every claim not held by ``keep_owner`` (its senders are known to be gone)."""

    async def next_due(
        self, channels: Sequence[str], replies_only: bool = False
    ) -> datetime | None:
        """When the next waiting message (only replies, with ``replies_only``) falls due."""

    async def message_progress(self, message_id: int, parts_sent: int) -> None: ...
    async def message_sent(self, message_id: int, parts_sent: int, now: datetime) -> None: ...
    async def message_retry(
        self, message_id: int, attempts: int, not_before: datetime, error: str
    ) -> None: ...
    async def message_failed(
        self, message_id: int, attempts: int, now: datetime, error: str
    ) -> None: ...
    async def outbox(self, key_prefix: str = "") -> list[dict[str, Any]]:
        """The outbox's rows (without contents) whose key starts with ``key_prefix``, as dicts
        (the moments as ``datetime``), oldest first."""

    async def mark_unreachable(self, channel: str, chat_id: str, now: datetime) -> int:
        """Record that the channel cannot deliver to this chat (cleared when the person
        writes again)."""

    async def delivery_failed(
        self, channel: str, chat_id: str, now: datetime
    ) -> tuple[datetime, int] | None:
        """Count a failed delivery that proves nothing by itself; since when deliveries to
        this chat have been failing, and how many times (None: no such identity)."""

    async def delivery_recovered(self, channel: str, chat_id: str) -> None: ...
    async def failing_chats(self) -> list[tuple[str, str]]:
        """(channel, chat id) of identities whose deliveries have been failing."""

    async def forget_outbox(self, before: datetime) -> int:
        """Drop messages sent or given up before ``before``."""

    # files people sent
    async def store_file(self, data: bytes, mime_type: str | None, now: datetime) -> str:
        """Keep ``data`` (once, by content); returns its key."""

    async def file(self, key: str) -> tuple[bytes, str | None] | None: ...
    async def forget_files(self, before: datetime) -> int:
        """Drop files stored before ``before`` that nothing refers to any more."""

    # nominations
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
        """A new nomination waiting for review, numbered ĐC-<year>-<next of that year>."""

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
        """Move a nomination from ``expected_status`` to ``status`` and record the change;
        False (nothing changed) when it was no longer in ``expected_status``."""

    async def nomination(self, nomination_id: int) -> Nomination | None: ...
    async def nominations(
        self,
        nominator_id: int | None = None,
        statuses: Sequence[str] | None = None,
        since: datetime | None = None,
    ) -> list[Nomination]: ...
    async def nomination_events(
        self,
        nomination_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[NominationEvent]: ...

    # the scoreboard: what it is computed from, claims, its history, the frozen boards
    async def report_records(
        self, form_periods: Sequence[tuple[str, str]], questions: Sequence[str] | None = None
    ) -> list[ReportRecord]:
        """For each (form id, period) asked, every village's report of it: the answers (only
        to ``questions``, when given) and id of its latest version and when its first version
        was sent; ordered by form, period and village."""

    async def baseline_answers(self, form_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """village id -> question id -> answer: for each of ``form_ids``, the latest version
        of the village's latest report of it (latest period), merged in the order of
        ``form_ids`` (a later form's answer wins for a question id both have)."""

    async def accepted_nominations(self, since: datetime, until: datetime) -> dict[str, int]:
        """village id -> how many of its nominations were accepted by the secretariat (an
        ``accepted`` event) at a moment in [``since``, ``until``], both included."""

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
        """A new claim, waiting for review."""

    async def claim(self, claim_id: int) -> Claim | None: ...
    async def claims(
        self, year: int, status: str | None = None, village_id: str | None = None
    ) -> list[Claim]:
        """The year's claims (only of ``status`` / ``village_id`` when given), oldest first."""

    async def review_claim(
        self,
        claim_id: int,
        status: str,
        person_id: int | None,
        comment: str,
        now: datetime,
        expected_status: str = PENDING,
    ) -> bool:
        """Move a claim from ``expected_status`` to ``status`` (accepted or refused), with the
        reviewer, the moment and the comment; False (nothing changed) when it was no longer
        in ``expected_status`` (someone reviewed it first) or is unknown."""

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
        """Append one change to a score (``kind`` one of SCORE_EVENT_KINDS) to the year's
        history, which nothing ever changes or deletes; returns its id."""

    async def score_events(self, year: int, village_id: str | None = None) -> list[dict[str, Any]]:
        """The year's score history, oldest first (only ``village_id``'s and the year-wide
        ones when given): dicts with id, year, village_id, criterion_id, kind, points and
        value (Decimal or None), claim_id, person_id, actor, reason, at (datetime), data."""

    async def last_computed(self, year: int) -> dict[tuple[str, str], Decimal]:
        """(village id, criterion id) -> the points of the latest ``computed`` event."""

    async def add_snapshot(
        self,
        year: int,
        as_of: date,
        board: dict[str, Any],
        finalized_by: str,
        person_id: int | None,
        now: datetime,
    ) -> Snapshot:
        """Freeze a year's board (``board``: its JSON-able record). A year has at most one
        frozen board at a time: refused (IntegrityError) while another is not reopened."""

    async def current_snapshot(self, year: int) -> Snapshot | None:
        """The year's latest frozen board, reopened or not; None when it was never frozen."""

    async def reopen_snapshot(
        self, snapshot_id: int, reason: str, person_id: int | None, now: datetime
    ) -> bool:
        """Mark a frozen board reopened, with who, when and why; False when it was already
        reopened or is unknown."""

    # the web page: sign-in links sent in the chat, and the sessions they open
    async def create_web_link(self, link: WebLink) -> None: ...
    async def web_link(self, token_hash: str) -> WebLink | None: ...
    async def use_web_link(self, token_hash: str, now: datetime) -> bool:
        """Take a link: True for the one caller that found it unused and unexpired at
        ``now``; False for everyone else."""

    async def create_web_session(self, session: WebSession) -> None: ...
    async def web_session(self, id_hash: str) -> WebSession | None: ...
    async def touch_web_session(self, id_hash: str, now: datetime) -> None:
        """The session was used at ``now`` (its idle spell starts again)."""

    async def end_web_session(self, id_hash: str, now: datetime) -> None: ...
    async def forget_web(self, before: datetime) -> int:
        """Drop links that expired and sessions last used or ended before ``before``."""


class SharedPace(Protocol):
    """One channel's pace shared by every instance serving the database."""

    async def turn(self, interval: float) -> float:
        """Take the next turn ``interval`` seconds after the one before (or now, after a
        quiet spell); the seconds to wait for it."""


class Lead(Protocol):
    """The right to do something only one instance may do at a time (the scheduled jobs)."""

    async def take(self) -> bool:
        """Try to take it, without waiting; True while this instance holds it."""

    async def held(self) -> bool:
        """Whether it is still held (False once the database let it go, its connection
        lost)."""

    async def release(self) -> None: ...


class Storage(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[Transaction]: ...
    def reading(self) -> AbstractAsyncContextManager[Transaction]:
        """A consistent read-only view that does not hold up the units of work (write
        through ``transaction`` only)."""

    async def close(self) -> None: ...
    def lead(self, name: str) -> Lead:
        """The lead named ``name`` among the instances serving this database."""

    async def beat(self, owner: str, until: datetime) -> None:
        """``owner``'s sender is alive until ``until`` (``Transaction.sender_alive``), written
        at once, not behind this process's other units of work."""

    async def on_queued(self, wake: Callable[[], None]) -> None:
        """Call ``wake`` when another instance serving the database queues a message."""

    def pace(self, channel: str) -> SharedPace | None:
        """The channel's pace shared with the other instances, or None where one process
        serves the database (it paces alone)."""

    async def serve_alone(self, owner: str, on_standby: Callable[[str], None]) -> None:
        """Return once this process may serve the database (waiting on standby while another
        one does, where the engine allows only one), the claims of gone senders void."""


async def keep_draft(
    tx: Transaction, person_id: int, state: dict[str, Any] | None, now: datetime
) -> None:
    """Save a person's open conversation, or forget it when there is none left."""
    if state is None:
        await tx.delete_draft(person_id)
    else:
        await tx.save_draft(person_id, state, now)


async def people_names(tx: Transaction) -> dict[int, str]:
    """person id -> name, everyone's (the revoked too: what they did keeps their name)."""
    return {p.id: p.name for p in await tx.people(include_revoked=True)}
