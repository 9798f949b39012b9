"""Build the digest from storage: one section per form's period, figures against targets."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from bot.chart import build_chart
from bot.digest import FormSection, indicator_figures, render_digest, reporting
from bot.periods import PeriodKind, current_period, parse_period
from bot.plan import Plan
from storage.repository import Transaction


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


CHART_PERIODS = 6


async def chart_png(plan: Plan, tx: Transaction, now: datetime, period: str | None = None) -> bytes:
    """The digest's chart: every indicator against its target, and the first form's
    reporting by village over the last six periods."""
    sections = await digest_sections(plan, tx, now, period)
    figures = [figure for section in sections for figure in section.figures]
    history = []
    if sections:
        form_id = sections[0].form_id
        this = sections[0].reporting.period
        periods = [this]
        while len(periods) < CHART_PERIODS:
            periods.insert(0, periods[0].previous())
        if plan.starts is not None:  # no report was expected before the plan began
            periods = [p for p in periods if p.end >= plan.starts] or [this]
        for each in periods:
            history.append(reporting(plan, form_id, each, await tx.first_sent(form_id, each.key)))
    return build_chart(plan, figures, history)
