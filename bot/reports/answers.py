"""A stored answer as a person reads it, wherever it is shown (a digest's correction line,
the web page's tables and report history)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bot.i18n import _, format_number
from bot.plan.model import Question
from bot.reports.numbers import stored_number


def answer_number(question: Question | None, value: Any) -> Decimal | None:
    """The answer as a finite number, when it is one and its question (if known) takes one."""
    if question is not None and not question.numeric:
        return None
    number = stored_number(value)
    return number if number is not None and number.is_finite() else None


def answer_text(question: Question | None, value: Any, unit: bool = True) -> str:
    """``1.240 hộ`` (a number in the current locale, with its question's unit unless
    ``unit=False``), ``Có``/``Không``, ``(ảnh)``, a text or a choice as given; "" for no
    answer. Never raises, whatever was stored."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("Có") if value else _("Không")
    if isinstance(value, dict):
        return _("(ảnh)")
    number = answer_number(question, value)
    if number is None:
        return str(value)
    try:
        text = format_number(number)
    except ArithmeticError:
        text = str(value)
    return f"{text} {question.unit}" if unit and question is not None and question.unit else text
