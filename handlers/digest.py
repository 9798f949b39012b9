"""Build the digest from storage: one section per form's period, figures against targets."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from bot.digest import FormSection, indicator_figures, render_digest, reporting
from bot.periods import PeriodKind, current_period, parse_period
from bot.plan import Plan
from storage.repository import Storage, Transaction


async def digest_sections(
    plan: Plan, tx: Transaction, now: datetime, period: str | None = None
) -> list[FormSection]:
    """One section per form: its current period (or ``period``, for the forms of its kind)."""
    wanted = parse_period(period) if period is not None else None
    sections = []
    for form in plan.forms:
        if wanted is not None and wanted.kind != form.period:
            continue
        this = wanted or current_period(cast(PeriodKind, form.period), now, plan.tz)
        current = await tx.period_answers(form.id, this.key)
        previous = await tx.period_answers(form.id, this.previous().key)
        first = await tx.first_sent(form.id, this.key)
        sections.append(
            FormSection(
                form.id,
                reporting(plan, form.id, this, first),
                indicator_figures(plan, form.id, current, previous),
                current,
            )
        )
    return sections


async def digest_in(plan: Plan, tx: Transaction, now: datetime, period: str | None = None) -> str:
    """The digest as text, read within the unit of work ``tx``."""
    sections = await digest_sections(plan, tx, now, period)
    return render_digest(plan, sections, now.astimezone(plan.tz).date())


async def digest_text(
    plan: Plan, storage: Storage, now: datetime, period: str | None = None
) -> str:
    async with storage.transaction() as tx:
        return await digest_in(plan, tx, now, period)
