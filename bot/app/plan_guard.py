"""The start-up guard: a plan must not drop what stored data refers to.

``thidua run`` calls ``check_stored`` before it serves: the villages, forms and questions
that have stored data and that the plan no longer has (``bot.plan.removals``), less those
an earlier ``thidua run --accept-removals`` accepted. When it runs, ``remember_run`` stores
the plan's text (the snapshot the next start finds old lines in) and what was accepted.
``thidua plan check --database`` calls ``check_stored`` too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.plan.model import Plan
from bot.plan.removals import InUse, Removal, find_removals
from storage.repository import Storage

SNAPSHOT_KEY = "plan_snapshot"  # the text of the plan the bot last started with
SNAPSHOT_FILE_KEY = "plan_snapshot_file"  # the file it was read from
SNAPSHOT_AT_KEY = "plan_snapshot_at"  # when
ACCEPTED_KEY = "accepted_removals"  # JSON list of ``Removal.key``s a run was told to accept


@dataclass(frozen=True)
class Guarded:
    """What the plan drops: ``removals`` not accepted yet, ``accepted`` by an earlier run."""

    removals: list[Removal]
    accepted: list[Removal]
    snapshot_known: bool


async def check_stored(storage: Storage, plan: Plan, now: datetime) -> Guarded:
    """The villages, forms and questions with stored data that ``plan`` lacks, read from
    a snapshot of the database (the bot may be running)."""
    forms = {form.id: {q.id for q in form.questions} for form in plan.forms}
    async with storage.reading() as tx:
        # answers are counted only for the questions gone from forms the plan still has
        questions = {
            (form_id, question_id): await tx.question_answers(form_id, question_id)
            for form_id, question_id in sorted(await tx.questions_in_use())
            if form_id in forms and question_id not in forms[form_id]
        }
        in_use = InUse(await tx.villages_in_use(now), await tx.forms_in_use(), questions)
        snapshot = await tx.meta(SNAPSHOT_KEY)
        accepted_text = await tx.meta(ACCEPTED_KEY)
    accepted_keys = set(json.loads(accepted_text)) if accepted_text else set()
    found = find_removals(plan, in_use, snapshot)
    return Guarded(
        [r for r in found if r.key not in accepted_keys],
        [r for r in found if r.key in accepted_keys],
        snapshot is not None,
    )


async def remember_run(
    storage: Storage, plan_file: Path, text: str, guarded: Guarded, now: datetime
) -> None:
    """Store the plan this run starts with and what it accepts: every removal it starts
    with (accepted before or now); one the plan has again, or whose data is gone, is
    forgotten, so dropping it once more is asked about once more."""
    accepted = sorted({r.key for r in guarded.accepted} | {r.key for r in guarded.removals})
    async with storage.transaction() as tx:
        await tx.set_meta(SNAPSHOT_KEY, text)
        await tx.set_meta(SNAPSHOT_FILE_KEY, str(plan_file))
        await tx.set_meta(SNAPSHOT_AT_KEY, now.isoformat())
        await tx.set_meta(ACCEPTED_KEY, json.dumps(accepted, ensure_ascii=False))
