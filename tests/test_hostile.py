"""Hostile input at every screen: the corpus of ``tests/hostile/corpus.py`` through
``Conversations.handle`` on a real SQLite file, one transaction per message.

Each state is set up once by talking to the bot (registration, ``/baocao``, answers, …)
and its saved draft kept; before each input the draft is put back with
``tx.save_draft`` (a state without a draft gets its draft deleted), the person's locale
set back to Vietnamese and the two standing nominations put back to their status, so
every input meets the same screen. A stranger is a fresh user id per input.

What runs where (``STATES``, 31 states; the corpus has 536 inputs): all 536 at the
stranger, at a head with no draft and at a head on the whole-number question
(``report:ask:integer``); at each of the other 28 states a fixed-seed sample of ``SAMPLE``
(60) plus every ``button`` case (50: button data made with the open draft's step number,
which reach the deepest branches) and every ``ordinary`` answer (30, so each state is also
left the right way), 122 to 135 inputs a state: 5,237 inputs in all, about 17 s on two
cores. The other states: the secretariat and the chair with no draft; a report draft on
the form menu (a plan with a photo form, ``photo_plan``), the period menu, the screen that
offers to start from last period's answers (``prefill``), a number with ``at_most``, a
decimal, a yes/no, a choice, a text and a photo question, the ambiguous-number, one-reading
and far-from-last-period confirmations, the summary, the summary of a report sent being
corrected, the edit menu and the cancel confirmation; a nomination at each of its steps
(who, village, deed, kind, photos with none and with three), its summary and its cancel
confirmation; the secretariat typing a question (``/duyet <id> bosung``) and the nominator
typing the answer (``/traloi <id>``).

After every input: ``handle`` returned; there is a reply; every reply reads as Vietnamese
and no text or button label is over 4,096 characters, no button data over 64 bytes;
the draft saved is JSON and fits its flow (a report draft's answers fit their questions,
a nomination draft's texts and photos their limits); no report stored unless the input
was a valid Gửi at the summary, and then exactly one, whose answers all fit; no person
registered unless a stranger sent a live invite code; nominations stored only by a Gửi at
a nomination's summary, within their limits; a nomination's status changed only by the
secretariat or by the nominator's answer. Texts typed are stored as typed (less control
characters), so format patterns are echoed literally, never interpreted.

``SHOWN_ONCE`` are inputs that once broke a reply (a command or a language quoted whole, a
button carrying a whole typed command); they are checked on their own as well.
"""

from __future__ import annotations

import itertools
import json
import random
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any

import pytest

from bot.domain import NEEDS_INFO, REVIEW, Nomination
from bot.messages import Attachment, Choice, Incoming, InputKind, Reply
from bot.nominations.flow import DEED_LIMIT, MAX_PHOTOS, NAME_LIMIT
from bot.plan.model import Plan, Question, check_plan_text
from bot.reports.engine import TEXT_LIMIT, menu_number
from bot.text import clean_text, normalize_text
from handlers.conversation import Conversations
from handlers.nominations import WORDS_LIMIT
from storage.repository import Transaction
from storage.sqlite import SqliteStorage
from tests.conftest import SMALL_PLAN, FakeClock, add_invite
from tests.hostile.corpus import CORPUS, Case, printable

SAMPLE = 60
SEED = 20261124
TELEGRAM_TEXT = 4096
CALLBACK_BYTES = 64
LIVE_CODE = "K7QXM2PA"  # an unused invite; the corpus types it once, as "K7QX-M2PA"
VIETNAMESE = frozenset(
    "ăâđêôơưàáạảãèéẹẻẽìíịỉĩòóọỏõùúụủũỳýỵỷỹ"
    "ấầẩẫậắằẳẵặếềểễệốồổỗộớờởỡợứừửữự"
    "ĂÂĐÊÔƠƯÀÁẠẢÃÈÉẸẺẼÌÍỊỈĨÒÓỌỎÕÙÚỤỦŨỲÝỴỶỸ"
    "ẤẦẨẪẬẮẰẲẴẶẾỀỂỄỆỐỒỔỖỘỚỜỞỠỢỨỪỬỮỰ"
)
PLAIN_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
MAX_NUMBER = Decimal(10**15 - 1)

# The small plan with a second form whose first question takes a photo (the small plan
# has none); two forms also give the form menu (``pick_form``).
PHOTO_FORM = """\
  - id: anh
    title: Ảnh minh chứng
    period: month
    due: 25
    questions:
      - id: anh_duong
        ask: Gửi một tấm ảnh con đường vừa bê tông hóa.
        label: Ảnh đường
        type: photo
      - id: mo_ta
        ask: Mô tả ngắn?
        label: Mô tả
        type: text
"""


def photo_plan() -> Plan:
    text = SMALL_PLAN.read_text(encoding="utf-8").replace(
        "indicators:", PHOTO_FORM + "indicators:", 1
    )
    plan, problems = check_plan_text(text)
    assert plan is not None, problems
    return plan


def setup_photo(n: int) -> tuple[Attachment, ...]:
    data = b"\xff\xd8\xff\xe0" + f"setup photo {n}".encode() * 30
    return (Attachment(f"SETUP{n}", len(data), "image/jpeg", data),)


# -- the world: people, nominations, and the saved screen of every state ---------------


@dataclass
class Actor:
    user_id: str
    bot: Conversations
    person_id: int | None = None


@dataclass
class State:
    name: str
    actor: Actor | None  # None: a stranger (a fresh user id per input)
    draft: dict[str, Any] | None
    everything: bool = False  # the whole corpus, else the sample


@dataclass
class World:
    storage: SqliteStorage
    clock: FakeClock
    bot: Conversations  # the small plan's (strangers talk to it)
    head: Actor
    photo_head: Actor
    secretariat: Actor
    chair: Actor
    review_id: int = 0  # a nomination waiting for review (the secretariat's draft asks)
    asked_id: int = 0  # a nomination waiting for the head's answer
    states: dict[str, State] = field(default_factory=dict)
    updates: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    strangers: Iterator[int] = field(default_factory=lambda: itertools.count(900_000))

    def incoming(self, user_id: str, case: Case, text: str) -> Incoming:
        return Incoming(
            channel="telegram",
            user_id=user_id,
            chat_id=user_id,
            kind=case.kind,
            text=text,
            update_key=str(next(self.updates)),
            display_name="Anh Ba",
            attachments=case.attachments,
            unreadable=case.unreadable,
            detail=case.detail,
        )

    async def say(self, actor: Actor, text: str, kind: InputKind = "text") -> list[Reply]:
        incoming = self.incoming(actor.user_id, Case("setup", text, kind=kind), text)
        outcome = await actor.bot.handle(incoming)
        if actor.person_id is None:
            actor.person_id = outcome.person_id
        return outcome.replies

    async def draft(self, actor: Actor) -> dict[str, Any] | None:
        assert actor.person_id is not None
        async with self.storage.transaction() as tx:
            return await tx.draft(actor.person_id)

    async def keep(
        self, name: str, actor: Actor, mode: str | None, everything: bool = False
    ) -> None:
        """Remember the actor's screen now as state ``name`` (checking it is that screen)."""
        draft = await self.draft(actor)
        if mode is None:
            assert draft is None, draft
        else:
            assert draft is not None and draft.get("mode", draft.get("flow")) == mode, draft
        self.states[name] = State(name, actor, draft, everything)

    async def forget(self, actor: Actor) -> None:
        assert actor.person_id is not None
        async with self.storage.transaction() as tx:
            await tx.delete_draft(actor.person_id)


async def build_world(storage: SqliteStorage, clock: FakeClock, bot: Conversations) -> World:
    photo_bot = Conversations(photo_plan(), storage, clock)
    world = World(
        storage,
        clock,
        bot,
        head=Actor("101", bot),
        photo_head=Actor("102", photo_bot),  # in thon_2, under the plan with a photo form
        secretariat=Actor("103", bot),
        chair=Actor("104", bot),
    )
    for actor, code, village, role in (
        (world.head, "HEAD2345", "thon_1", "head"),
        (world.photo_head, "FOTO2345", "thon_2", "head"),
        (world.secretariat, "SECR2345", None, "secretariat"),
        (world.chair, "CHAI2345", None, "chair"),
    ):
        await add_invite(storage, clock, code, village, role)
        await world.say(actor, f"/start {code}")
        assert actor.person_id is not None, actor
    await add_invite(storage, clock, LIVE_CODE)
    head, sec = world.head, world.secretariat
    world.states["stranger"] = State("stranger", None, None, everything=True)
    await world.keep("head:idle", head, None, everything=True)
    await world.keep("secretariat:idle", sec, None)
    await world.keep("chair:idle", world.chair, None)

    # Reports: October is missing, so /baocao first asks which period.
    await world.say(head, "/baocao")
    await world.keep("report:pick_period", head, "pick_period")
    await world.forget(head)
    async with storage.transaction() as tx:  # last period, far from what is typed below
        assert head.person_id is not None
        answers = {"tong_ho": "100", "ho_co_dien": "90", "thu_gom_rac": True}
        answers |= {"dien_tich_lua": "10", "loai": "Chưa đạt", "ghi_chu": None}
        await tx.add_report("thon_1", "thang", "2026-10", answers, head.person_id, clock())
    await world.say(head, "/baocao")  # last period sent: start from it, or answer each
    await world.keep("report:prefill", head, "prefill")
    await world.say(head, "Trả lời từng câu")
    await world.keep("report:ask:integer", head, "ask", everything=True)
    await world.say(head, "1.5")  # 1,5 households cannot be: 15, to confirm
    await world.keep("report:confirm_reading", head, "confirm_reading")
    await world.say(head, "Nhập lại")
    await world.say(head, "500")
    await world.keep("report:confirm_far", head, "confirm_far")
    await world.say(head, "Nhập lại")
    await world.say(head, "100")
    await world.keep("report:ask:integer_at_most", head, "ask")
    await world.say(head, "90")
    await world.keep("report:ask:yes_no", head, "ask")
    await world.say(head, "có")
    await world.keep("report:ask:decimal", head, "ask")
    await world.say(head, "1.5")
    await world.keep("report:ambiguous", head, "ambiguous")
    await world.say(head, "Quay lại")
    await world.say(head, "12,5")
    await world.keep("report:ask:choice", head, "ask")
    await world.say(head, "Thôn văn hóa")
    await world.keep("report:ask:text", head, "ask")
    await world.say(head, "đường đã sửa")
    await world.keep("report:summary", head, "summary")
    await world.say(head, "Sửa")
    await world.keep("report:edit_pick", head, "edit_pick")
    await world.say(head, "Quay lại")
    await world.say(head, "/huy")
    await world.keep("report:confirm_cancel", head, "confirm_cancel")
    await world.forget(head)
    await world.say(head, "/baocao")
    await world.say(head, "Sửa kỳ tháng 10/2026 (đã gửi)")  # October, sent: to correct
    await world.keep("report:summary:correction", head, "summary")
    await world.forget(head)

    photo = world.photo_head
    await world.say(photo, "/baocao")
    await world.keep("report:pick_form", photo, "pick_form")
    await world.say(photo, "Ảnh minh chứng")
    await world.say(photo, "2")  # this month, not the late one
    await world.keep("report:ask:photo", photo, "ask")

    # A nomination, step by step.
    await world.say(head, "/detcu")
    await world.keep("nomination:who", head, "who")
    await world.say(head, "Bà Lan")
    await world.keep("nomination:village", head, "village")
    await world.say(head, "1")
    await world.keep("nomination:deed", head, "deed")
    await world.say(head, "Nấu cơm cho bệnh nhân nghèo.")
    await world.keep("nomination:kind", head, "kind")
    await world.say(head, "1")
    await world.keep("nomination:photos", head, "photos")
    for n in range(MAX_PHOTOS):
        jpeg = Case("setup", kind="photo", attachments=setup_photo(n))
        await head.bot.handle(world.incoming(head.user_id, jpeg, ""))
    await world.keep("nomination:summary", head, "summary")
    await world.say(head, "Quay lại")
    await world.keep("nomination:photos_full", head, "photos")
    await world.say(head, "Xong")
    await world.say(head, "/huy")
    await world.keep("nomination:confirm_cancel", head, "confirm_cancel")
    await world.forget(head)

    # Two standing nominations: one waiting for review, one asked about.
    async with storage.transaction() as tx:
        assert head.person_id is not None and sec.person_id is not None
        for nominee in ("Ông Tư", "Chị Năm"):
            made = await tx.add_nomination(
                head.person_id, nominee, "thon_1", "Dọn rác.", "Khác", [], 2026, clock()
            )
            if nominee == "Ông Tư":
                world.review_id = made.id
            else:
                world.asked_id = made.id
        assert await tx.change_nomination(
            world.asked_id, REVIEW, NEEDS_INFO, sec.person_id, "asked", "Ở xóm nào?", clock()
        )
    await world.say(sec, f"/duyet {world.review_id} bosung")
    await world.keep("review:words", sec, "review")
    await world.say(head, f"/traloi {world.asked_id}")
    await world.keep("answer:words", head, "answer")
    return world


STATES = (
    "stranger",
    "head:idle",
    "secretariat:idle",
    "chair:idle",
    "report:pick_form",
    "report:pick_period",
    "report:prefill",
    "report:ask:integer",
    "report:ask:integer_at_most",
    "report:ask:decimal",
    "report:ask:yes_no",
    "report:ask:choice",
    "report:ask:text",
    "report:ask:photo",
    "report:ambiguous",
    "report:confirm_reading",
    "report:confirm_far",
    "report:summary",
    "report:summary:correction",
    "report:edit_pick",
    "report:confirm_cancel",
    "nomination:who",
    "nomination:village",
    "nomination:deed",
    "nomination:kind",
    "nomination:photos",
    "nomination:photos_full",
    "nomination:summary",
    "nomination:confirm_cancel",
    "review:words",
    "answer:words",
)


def cases_for(state: State) -> list[Case]:
    if state.everything:
        return list(CORPUS)
    rng = random.Random(f"{SEED}:{state.name}")
    sample = rng.sample(range(len(CORPUS)), SAMPLE)
    wanted = set(sample)
    wanted |= {i for i, c in enumerate(CORPUS) if c.category in ("button", "ordinary")}
    return [CORPUS[i] for i in sorted(wanted)]


# -- what must hold ---------------------------------------------------------------------


def vietnamese(text: str) -> bool:
    return any(ch in VIETNAMESE for ch in unicodedata.normalize("NFC", text))


def reply_problems(replies: list[Reply]) -> list[str]:
    if not replies:
        return ["no reply"]
    problems = []
    for reply in replies:
        shown = printable(reply.text)
        if not reply.text.strip():
            problems.append(f"an empty reply text {printable(reply.text)}")
        elif not vietnamese(reply.text):
            problems.append(f"a reply not in Vietnamese: {shown}")
        if len(reply.text) > TELEGRAM_TEXT:
            problems.append(f"a reply of {len(reply.text)} characters: {shown}")
        for choice in reply.choices:
            if not choice.label.strip() or len(choice.label) > TELEGRAM_TEXT:
                problems.append(f"a button label of {len(choice.label)} characters")
            size = len(choice.value.encode("utf-8"))
            if not 1 <= size <= CALLBACK_BYTES:
                problems.append(f"button data of {size} bytes: {printable(choice.value, 40)}")
    return problems


def clean(text: str) -> bool:
    """No control character but the line break."""
    return all(ch == "\n" or unicodedata.category(ch) != "Cc" for ch in text)


def number_problem(question: Question, value: Any) -> str | None:
    if not isinstance(value, str) or not PLAIN_NUMBER.fullmatch(value):
        return f"not a plain number string: {printable(value)}"
    try:
        number = Decimal(value)
    except InvalidOperation:
        return f"not a Decimal: {value!r}"
    digits = number.normalize().as_tuple().digits
    if not number.is_finite() or len(digits) > 15 or abs(number) > MAX_NUMBER:
        return f"beyond 15 digits: {value}"
    if question.type == "integer" and number != number.to_integral_value():
        return f"not whole: {value}"
    if question.min is not None and number < question.min:
        return f"{value} below the minimum {question.min}"
    if question.max is not None and number > question.max:
        return f"{value} above the maximum {question.max}"
    if number < 0 and (question.min is None or question.min >= 0):
        return f"negative: {value}"
    return None


def answer_problem(question: Question, value: Any, files: set[str]) -> str | None:
    """Why ``value`` does not fit ``question``, or None."""
    if value is None:
        return None if question.optional else "a required answer left empty"
    if question.numeric:
        return number_problem(question, value)
    if question.type == "yes_no":
        return None if isinstance(value, bool) else f"yes/no not a bool: {value!r}"
    if question.type == "choice":
        return None if value in question.choices else f"not a choice: {printable(value)}"
    if question.type == "text":
        if not isinstance(value, str) or not 0 < len(value) <= TEXT_LIMIT:
            return f"a text of {len(value) if isinstance(value, str) else '?'} characters"
        return None if clean(value) else f"a text with control characters: {printable(value)}"
    if question.type == "photo":
        key = value.get("file_id") if isinstance(value, dict) else None
        return None if isinstance(key, str) and key in files else f"a photo not stored: {value!r}"
    return f"an unknown question type {question.type}"


def report_draft_problems(plan: Plan, draft: dict[str, Any], files: set[str]) -> list[str]:
    form = next((f for f in plan.forms if f.id == draft.get("form")), None)
    if draft.get("form") is not None and form is None:
        return [f"a draft of an unknown form {draft.get('form')!r}"]
    problems = []
    if form is not None:
        if not 0 <= draft.get("index", -1) < len(form.questions):
            problems.append(f"question index {draft.get('index')} out of range")
        questions = {q.id: q for q in form.questions}
        for key, value in draft.get("answers", {}).items():
            question = questions.get(key)
            problem = "an answer to no question" if question is None else None
            problem = problem or answer_problem(question, value, files)  # type: ignore[arg-type]
            if problem:
                problems.append(f"answer {key}: {problem}")
    for value in draft.get("pending", []):
        try:
            number = Decimal(value)
            ok = number.is_finite() and len(number.normalize().as_tuple().digits) <= 15
        except (InvalidOperation, TypeError):
            ok = False
        if not ok:
            problems.append(f"a pending number {printable(value)}")
    if len(draft.get("typed", "")) > 40:
        problems.append("the typed text kept at full length")
    return problems


def nomination_text_problems(plan: Plan, fields: dict[str, Any], files: set[str]) -> list[str]:
    problems = []
    for key, limit in (("nominee", NAME_LIMIT), ("deed", DEED_LIMIT)):
        value = fields.get(key, "")
        if not isinstance(value, str) or len(value) > limit or not clean(value):
            problems.append(f"{key} {printable(value)} ({len(value)} characters)")
    photos = fields.get("photos", [])
    if len(photos) > MAX_PHOTOS or not all(p in files for p in photos):
        problems.append(f"photos {photos!r}")
    village = fields.get("village")
    if village is not None and plan.village(village) is None:
        problems.append(f"an unknown village {village!r}")
    kind = fields.get("kind")
    if kind is not None and kind not in plan.nomination_kinds:
        problems.append(f"an unknown kind {kind!r}")
    return problems


def draft_problems(plan: Plan, draft: dict[str, Any], files: set[str]) -> list[str]:
    try:
        if json.loads(json.dumps(draft)) != draft:
            return ["a draft that does not survive JSON"]
    except (TypeError, ValueError) as error:
        return [f"a draft that is not JSON: {error}"]
    flow = draft.get("flow", "report")
    if flow == "report":
        return report_draft_problems(plan, draft, files)
    if flow == "nomination":
        return nomination_text_problems(plan, draft, files)
    if flow in ("review", "answer"):
        ok = isinstance(draft.get("nomination"), int) and isinstance(draft.get("prompt"), str)
        return [] if ok else [f"a {flow} draft {draft!r}"]
    return [f"a draft of an unknown flow {flow!r}"]


def report_problems(
    plan: Plan, village: str, form_id: str, answers: dict[str, Any], files: set[str]
) -> list[str]:
    form = next(f for f in plan.forms if f.id == form_id)
    problems = [
        f"stored {q.id}: {problem}"
        for q in form.questions
        if (problem := answer_problem(q, answers.get(q.id), files))
    ]
    for question in form.questions:
        other = question.at_most
        if other and answers.get(question.id) is not None and answers.get(other) is not None:
            if Decimal(answers[question.id]) > Decimal(answers[other]):
                problems.append(f"stored {question.id} above {other}")
    if plan.village(village) is None:
        problems.append(f"a report for an unknown village {village}")
    return problems


def answers_files(answers: dict[str, Any]) -> list[str]:
    return [v["file_id"] for v in answers.values() if isinstance(v, dict) and "file_id" in v]


def sent(case: Case, text: str, seq: int | None) -> bool:
    """Whether the input is a valid Gửi on a summary (its words, its number, its button)."""
    if case.unreadable:
        return False
    if case.kind == "choice":
        return text == f"{seq}:send"
    folded = normalize_text(text)
    return case.kind == "text" and (folded == "gui" or menu_number(folded) == 1)


def live_code(case: Case) -> bool:
    """Whether a stranger's message carries the live invite code (``/start CODE`` or the
    code alone; case, spaces, ``-`` and ``.`` ignored)."""
    if case.kind != "text" or case.unreadable:
        return False
    text = case.text.strip()
    if text.startswith("/"):
        name, _sep, args = text.partition(" ")
        if name.split("@")[0].lower() != "/start":
            return False
        text = args
    return re.sub(r"[\s\-.]", "", text).upper() == LIVE_CODE


def typed_words(case: Case) -> str | None:
    """The words a typed text leaves once cleaned, when it is not a command."""
    if case.kind != "text" or case.unreadable or case.text.startswith("/"):
        return None
    return clean_text(case.text)


@dataclass
class Seen:
    """What storage held before (or after) an input."""

    reports: dict[tuple[str, str, str, int], dict[str, Any]]  # (village, form, period, v)
    people: int
    live_invite_unused: bool
    nominations: dict[int, Nomination]
    draft: dict[str, Any] | None


async def look(tx: Transaction, actor: Actor | None) -> Seen:
    reports = await tx.reports(history=True)
    invite = await tx.invite(LIVE_CODE)
    draft = None
    if actor is not None:
        assert actor.person_id is not None
        draft = await tx.draft(actor.person_id)
    return Seen(
        {(r.village_id, r.form_id, r.period, r.version): r.answers for r in reports},
        len(await tx.people()),
        invite is not None and invite.used_at is None,
        {n.id: n for n in await tx.nominations()},
        draft,
    )


async def restore(world: World, tx: Transaction, state: State, seen: Seen) -> None:
    """Put the state's screen back, the locale to Vietnamese, the two standing nominations
    to their status (in ``seen`` too)."""
    now = world.clock()
    actor = state.actor
    if actor is not None:
        assert actor.person_id is not None
        if state.draft is None:
            await tx.delete_draft(actor.person_id)
        else:
            await tx.save_draft(actor.person_id, state.draft, now)
        await tx.set_locale(actor.person_id, "vi")
    assert world.secretariat.person_id is not None
    for nomination_id, status in ((world.review_id, REVIEW), (world.asked_id, NEEDS_INFO)):
        found = seen.nominations[nomination_id]
        if found.status != status:
            await tx.change_nomination(
                nomination_id, found.status, status, world.secretariat.person_id, "reset",
                "", now,
            )  # fmt: skip
            seen.nominations[nomination_id] = replace(found, status=status)


async def put_back(world: World, state: State) -> None:
    async with world.storage.transaction() as tx:
        await restore(world, tx, state, await look(tx, state.actor))


async def check_input(
    world: World, state: State, case: Case, seen: Seen | None = None
) -> tuple[list[str], Seen]:
    """Send one input at ``state``: what went wrong, and what storage holds after it (the
    ``seen`` of the next input at the same state, which saves reading it again)."""
    actor = state.actor
    async with world.storage.transaction() as tx:
        seen = seen or await look(tx, actor)
        await restore(world, tx, state, seen)
    seq = state.draft.get("seq") if state.draft else None
    text = case.text
    if case.seq_offset is not None and isinstance(seq, int):
        text = f"{seq + case.seq_offset}:{case.text}"
    user_id = actor.user_id if actor else str(next(world.strangers))
    bot = actor.bot if actor else world.bot
    plan = bot.plan
    try:
        outcome = await bot.handle(world.incoming(user_id, case, text))
    except Exception as error:  # the one thing that must never happen
        async with world.storage.transaction() as tx:
            after = await look(tx, actor)
        return [f"raised {type(error).__name__}: {error}"[:300]], after
    problems = reply_problems(outcome.replies)

    async with world.storage.transaction() as tx:
        after = await look(tx, actor)
        draft = after.draft
        new_reports = {k: v for k, v in after.reports.items() if k not in seen.reports}
        new = [n for i, n in after.nominations.items() if i not in seen.nominations]
        keys = {p for n in new for p in n.photos}
        keys |= {k for answers in new_reports.values() for k in answers_files(answers)}
        if draft is not None:
            keys |= {v for v in draft.get("photos", []) if isinstance(v, str)}
            keys |= set(answers_files(draft.get("answers", {})))
        files = {key for key in keys if await tx.file(key) is not None}
    if draft is not None:
        problems += draft_problems(plan, draft, files)

    # reports: only a valid Gửi on the summary stores one, and then exactly one
    summaries = ("report:summary", "report:summary:correction")
    should_send = state.name in summaries and sent(case, text, seq)
    if len(new_reports) != (1 if should_send else 0):
        problems.append(f"{len(new_reports)} reports stored (a valid Gửi: {should_send})")
    for (village, form_id, _period, _version), answers in new_reports.items():
        problems += report_problems(plan, village, form_id, answers, files)

    # people: only a stranger with the live code registers
    registers = state.actor is None and seen.live_invite_unused and live_code(case)
    if after.people != seen.people + (1 if registers else 0):
        problems.append(f"people {seen.people} → {after.people} (a live code: {registers})")

    # nominations: new ones only by Gửi on a nomination's summary, within the limits
    should_nominate = state.name == "nomination:summary" and sent(case, text, seq)
    if len(new) != (1 if should_nominate else 0):
        problems.append(f"{len(new)} nominations stored (a valid Gửi: {should_nominate})")
    for nomination in new:
        fields = {"nominee": nomination.nominee, "deed": nomination.deed}
        fields |= {"photos": list(nomination.photos), "village": nomination.village_id}
        problems += nomination_text_problems(plan, fields | {"kind": nomination.kind}, files)
        if not nomination.nominee or not nomination.deed or nomination.status != REVIEW:
            problems.append(f"a nomination stored as {nomination!r}"[:200])
    problems += await status_problems(world, state, case, seen, after)
    problems += echo_problems(state, case, draft, outcome.replies)
    return problems, after


async def status_problems(
    world: World, state: State, case: Case, seen: Seen, after: Seen
) -> list[str]:
    """A standing nomination changes only by the secretariat's hand, or by the nominator's
    answer typed in the answer flow (then with the words as typed, cleaned)."""
    problems = []
    words = typed_words(case)
    for nomination_id in (world.review_id, world.asked_id):
        before, now = seen.nominations[nomination_id], after.nominations[nomination_id]
        expected = before.status
        if state.name == "answer:words" and nomination_id == world.asked_id and words:
            if len(words) <= WORDS_LIMIT:
                expected = REVIEW
        if state.name == "review:words" and nomination_id == world.review_id and words:
            if len(words) <= WORDS_LIMIT:
                expected = NEEDS_INFO
        by_secretariat = state.actor is world.secretariat and case.text.startswith("/")
        if now.status != expected and not by_secretariat:  # the secretariat's own command
            problems.append(f"nomination {nomination_id}: {before.status} → {now.status}")
        elif now.status != before.status and words and expected != before.status:
            async with world.storage.transaction() as tx:
                events = await tx.nomination_events(nomination_id)
            comment = events[-1].comment
            if comment != words or not clean(comment):
                problems.append(f"the words stored as {printable(comment)}")
    return problems


def echo_problems(
    state: State, case: Case, draft: dict[str, Any] | None, replies: list[Reply]
) -> list[str]:
    """A text the bot keeps is the text typed (cleaned), never interpreted: ``{0}`` stays
    ``{0}``; the next screen shows a name as it was typed."""
    words = typed_words(case)
    before = state.draft or {}
    if not words or draft is None:
        return []
    problems = []
    if state.name == "report:ask:text":
        kept = draft.get("answers", {}).get("ghi_chu")
        if kept != before.get("answers", {}).get("ghi_chu") and kept != words:
            problems.append(f"the note stored as {printable(kept)}")
    for step, key in (("nomination:who", "nominee"), ("nomination:deed", "deed")):
        if state.name == step and draft.get(key) != before.get(key):
            if draft.get(key) != words:
                problems.append(f"the {key} stored as {printable(draft.get(key))}")
            elif key == "nominee" and words not in replies[-1].text:
                problems.append(f"the nominee not shown as typed: {printable(words)}")
    return problems


# -- the tests --------------------------------------------------------------------------

SHOWN_ONCE = (  # (state, text) that once gave a reply too long or a button too big
    ("head:idle", "/" + "a" * 10_000),
    ("head:idle", "/ngonngu " + "z" * 5_000),
    ("nomination:who", "/baocao " + "x" * 10_000),
    ("report:ask:integer", "/detcu Bà Nguyễn Thị Lan, thôn 3, nấu cơm cho người ốm"),
)


def test_the_corpus_is_large_and_covers_every_category() -> None:
    assert len(CORPUS) >= 300
    categories = {case.category for case in CORPUS}
    assert {"emoji", "zero-width", "bidi", "c0", "c1", "escaped", "long", "big-number"} <= (
        categories
    )
    assert {"number-shape", "sql", "format", "markup", "command", "forged", "button"} <= categories
    assert {"photo", "other", "unreadable"} <= categories
    assert any(len(case.text) >= 10_000 for case in CORPUS)
    keys = {(c.kind, c.text, c.attachments, c.detail, c.unreadable, c.seq_offset) for c in CORPUS}
    assert len(keys) == len(CORPUS)  # no duplicates
    assert set(STATES) >= {state for state, _text in SHOWN_ONCE}


@pytest.mark.parametrize("name", STATES)
async def test_hostile_input_at_every_state(
    name: str, storage: SqliteStorage, conversations: Conversations, clock: FakeClock
) -> None:
    world = await build_world(storage, clock, conversations)
    assert set(world.states) == set(STATES)
    state = world.states[name]
    failures = []
    seen = None
    for case in cases_for(state):
        problems, seen = await check_input(world, state, case, seen)
        failures += [f"{case.label}: {problem}" for problem in problems]
    assert not failures, f"{len(failures)} problems at {name}:\n" + "\n".join(failures[:40])


async def test_what_once_broke_a_reply_is_answered_within_the_limits(
    storage: SqliteStorage, conversations: Conversations, clock: FakeClock
) -> None:
    world = await build_world(storage, clock, conversations)
    found = [
        (name, printable(text), problems)
        for name, text in SHOWN_ONCE
        if (problems := (await check_input(world, world.states[name], Case("once", text)))[0])
    ]
    assert not found, found


async def test_format_patterns_are_kept_and_shown_literally(
    storage: SqliteStorage, conversations: Conversations, clock: FakeClock
) -> None:
    """``{0}`` typed as a name, a deed or a note is kept as typed and the summary shows it
    so, with the bot's own words around it intact."""
    world = await build_world(storage, clock, conversations)
    head = world.head
    patterns = ["{0}", "{}", "%s", "%(name)s", "{name}", "{{", "}}", "{0!r}", "${HOME}"]
    for pattern in patterns:
        await put_back(world, world.states["report:ask:text"])
        summary = await world.say(head, f"Ghi chú {pattern} hết")
        assert f"6. Ghi chú: Ghi chú {pattern} hết" in summary[-1].text, summary[-1].text
        await put_back(world, world.states["nomination:who"])
        villages = await world.say(head, f"Bà {pattern}")
        assert f"Bà {pattern} ở thôn nào?" in villages[-1].text
        await world.say(head, "1")
        deed = await world.say(head, f"Làm {pattern} việc tốt")
        assert "Thuộc loại gương nào?" in deed[-1].text
        await world.say(head, "1")
        summary = await world.say(head, "Bỏ qua")
        text = summary[-1].text
        assert f"Người được đề cử: Bà {pattern}\n" in text, text
        assert f"Việc làm: Làm {pattern} việc tốt\n" in text, text
        receipt = await world.say(head, "Gửi")
        assert "Đã nhận đề cử số ĐC-2026-" in receipt[-1].text
    async with storage.transaction() as tx:
        stored = await tx.nominations(nominator_id=head.person_id)
    assert [n.nominee for n in stored if n.nominee.startswith("Bà ")] == [
        f"Bà {p}" for p in patterns
    ]


def test_the_sample_is_fixed_and_reaches_every_kind_of_input() -> None:
    state = State("report:summary", None, {"seq": 3})
    first, again = cases_for(state), cases_for(state)
    assert first == again and len(first) >= SAMPLE
    assert {c.category for c in first} >= {"button", "ordinary"}
    everything = State("stranger", None, None, everything=True)
    assert len(cases_for(everything)) == len(CORPUS)


def test_the_checks_catch_what_they_are_for(small_plan: Plan) -> None:
    """The invariants refuse what they must (so a passing corpus run means something)."""
    assert reply_problems([]) == ["no reply"]
    assert reply_problems([Reply("Có")]) == []
    assert reply_problems([Reply("Yes")]) != []  # not Vietnamese
    assert reply_problems([Reply("Có" + "a" * TELEGRAM_TEXT)]) != []
    assert reply_problems([Reply("Có", (Choice("Gửi", "x" * 65),))]) != []
    form = small_plan.forms[0]
    draft = {"flow": "report", "form": form.id, "index": 0, "answers": {}}
    ok = {"tong_ho": "412", "thu_gom_rac": True, "loai": "Chưa đạt", "ghi_chu": "Bà Lan"}
    assert report_draft_problems(small_plan, draft | {"answers": ok}, set()) == []
    for bad in (
        {"tong_ho": "1e3"},
        {"tong_ho": "9" * 16},
        {"tong_ho": "0"},  # below min 1
        {"tong_ho": "12.5"},
        {"dien_tich_lua": "-1"},
        {"thu_gom_rac": "co"},
        {"loai": "Khác"},
        {"ghi_chu": "a\x00b"},
        {"ghi_chu": "a" * 1001},
        {"nope": "1"},
    ):
        assert report_draft_problems(small_plan, draft | {"answers": bad}, set()), bad
    nomination = {"nominee": "Bà Lan", "deed": "x", "photos": ["k"] * 4}
    assert nomination_text_problems(small_plan, nomination, {"k"})
    assert nomination_text_problems(small_plan, {"nominee": "B\x1b", "deed": "x"}, set())
    assert sent(Case("t", " GỬI "), " GỬI ", 3) and sent(Case("t", "１"), "１", 3)
    assert not sent(Case("t", "G\u200bửi"), "G\u200bửi", 3)
    assert sent(Case("c", kind="choice"), "3:send", 3) and not sent(Case("c"), "2:send", 3)
    assert live_code(Case("t", "/start k7qx-m2pa")) and not live_code(Case("t", "K7QX\u200bM2PA"))
