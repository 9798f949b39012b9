"""Parse numbers the way people type them in Vietnamese chat.

Vietnamese writes ``.`` between thousands groups and ``,`` as the decimal mark
(``2.310.000.000``, ``12,5``), and money is usually said with a multiplier word
(``65 triệu``, ``2,3 tỷ``, ``1tr5``). People used to English conventions type
``12.5`` for twelve and a half, so a lone dot that could be either is reported as
:class:`Ambiguous` and the caller asks which one was meant; nothing is guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, localcontext
from functools import lru_cache
from typing import Literal, TypeAlias

from bot.text import normalize_text

__all__ = [
    "Ambiguous",
    "Invalid",
    "InvalidReason",
    "NumberKind",
    "ParseResult",
    "Parsed",
    "clean_decimal",
    "parse_number",
]

NumberKind = Literal["integer", "decimal"]
InvalidReason = Literal["empty", "not_a_number", "negative", "not_integer"]


@dataclass(frozen=True)
class Parsed:
    value: Decimal


@dataclass(frozen=True)
class Ambiguous:
    """Two readings: first with the dot/comma as a decimal mark, then as a thousands separator."""

    options: tuple[Decimal, Decimal]


@dataclass(frozen=True)
class Invalid:
    reason: InvalidReason


ParseResult: TypeAlias = Parsed | Ambiguous | Invalid

_MINUS_SIGNS = frozenset("-\u2212\u2013")

_MULTIPLIERS: dict[str, int] = {
    "nghin": 1_000,
    "ngan": 1_000,
    "k": 1_000,
    "trieu": 1_000_000,
    "tr": 1_000_000,
    "ty": 1_000_000_000,
    "ti": 1_000_000_000,
}

# Leading digits, either grouped by single spaces (1–3 digits, then groups of
# exactly three) or dot-separated groups, then an optional decimal comma part.
_CORE_RE = re.compile(
    r"""
    (?P<int>
        [0-9]{1,3}(?:\ [0-9]{3})+(?![0-9])
      | [0-9]+(?:\.[0-9]+)*
    )
    (?:,(?P<frac>[0-9]+))?
    """,
    re.VERBOSE,
)

# A multiplier word, optionally preceded by a space and optionally followed by
# the next digits of the fraction (``1tr5``); it must not run into a letter, so
# ``km`` or ``trăm`` are not mistaken for ``k`` / ``tr``.
_MULTIPLIER_RE = re.compile(
    r" ?(?P<word>nghin|ngan|trieu|tr|ty|ti|k)(?P<digits>[0-9]+)?(?![^\W\d_])"
)

_UNIT_SYMBOLS = frozenset("%‰°")
_EXPONENT_RE = re.compile(r"e[-+\u2212]?[0-9]")
# Tokens after the number may hold a digit only as a unit power: m2, km2, m3.
_UNIT_WITH_POWER_RE = re.compile(r"[^\W\d_]+[23]")
_TOKEN_PUNCTUATION = ".,;:!?()\"'"

# Words that, right after a number, change its value ("5 trăm", "1 triệu rưỡi",
# "2 triệu tư", "12 phẩy 5"); ignoring them as a unit would silently misread.
_NUMBER_WORDS_AFTER_NUMBER = frozenset(
    {
        *_MULTIPLIERS,
        "tram",
        "chuc",
        "muoi",
        "ruoi",
        "nua",
        "le",
        "linh",
        "phay",
        "cham",
        "mot",
        "hai",
        "ba",
        "bon",
        "tu",
        "nam",
        "sau",
        "bay",
        "tam",
        "chin",
        "lam",
        "van",
        "cu",
        "toi",
        "hundred",
        "thousand",
        "million",
        "billion",
    }
)
# Words that change the value wherever they appear in the trailing text.
_NUMBER_WORDS_ANYWHERE = frozenset({"nghin", "trieu", "tram", "muoi", "ruoi", "phay"})

_ONE = Decimal(1)


def clean_decimal(value: Decimal) -> Decimal:
    """``value`` without exponent surprises.

    Integral values are quantized to 0 places, others lose their trailing zeros:
    ``Decimal("1.5E+6")`` → ``Decimal("1500000")``, ``Decimal("12.50")`` → ``Decimal("12.5")``.
    """
    if not value.is_finite():
        return value
    if value.is_zero():
        return Decimal(0)
    _sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    with localcontext() as ctx:
        ctx.prec = max(28, len(digits) + max(exponent, 0) + 2)
        if value == value.to_integral_value():
            return value.quantize(_ONE)
        return value.normalize()


def _decimal(int_digits: str, frac_digits: str | None = None) -> Decimal:
    return Decimal(f"{int_digits}.{frac_digits}" if frac_digits else int_digits)


def _is_thousands_grouping(groups: list[str]) -> bool:
    """``["1", "234", "567"]``: 1–3 digits without a leading zero, then groups of exactly 3."""
    first, rest = groups[0], groups[1:]
    return (
        1 <= len(first) <= 3
        and not first.startswith("0")
        and bool(rest)
        and all(len(g) == 3 for g in rest)
    )


def _read_core(
    int_part: str, frac: str | None, kind: NumberKind, has_multiplier: bool
) -> tuple[Decimal] | tuple[Decimal, Decimal] | None:
    """The reading(s) of the digits before any multiplier; ``None`` when malformed."""
    if " " in int_part:
        return (_decimal(int_part.replace(" ", ""), frac),)
    groups = int_part.split(".")
    if len(groups) == 1:
        head = groups[0]
        if (
            kind == "integer"
            and frac is not None
            and len(frac) == 3
            and _is_thousands_grouping([head, frac])
        ):
            # "1,234" on a whole-number question: Vietnamese 1,234 or English 1234.
            return (_decimal(head, frac), _decimal(head + frac))
        return (_decimal(head, frac),)
    if len(groups) > 2 or frac is not None:
        if not _is_thousands_grouping(groups):
            return None
        return (_decimal("".join(groups), frac),)
    a, b = groups
    if int(a) == 0:
        return (_decimal(a, b),)
    if kind == "integer" and not has_multiplier and _is_thousands_grouping(groups):
        return (_decimal(a + b),)
    return (_decimal(a, b), _decimal(a + b))


def _tail_is_unit(tail: str) -> bool:
    """Whether the text after the number is only unit words (``hộ``, ``ha``, ``%``, ``m2``…)."""
    if _EXPONENT_RE.match(tail):
        return False
    tokens = tail.split()
    if not tokens:
        return True
    first_char = tokens[0][0]
    if not (first_char.isalpha() or first_char in _UNIT_SYMBOLS):
        return False
    for token in tokens:
        word = token.strip(_TOKEN_PUNCTUATION)
        if word in _NUMBER_WORDS_ANYWHERE:
            return False
        if any(ch in "0123456789" for ch in word) and not _UNIT_WITH_POWER_RE.fullmatch(word):
            return False
    return tokens[0].strip(_TOKEN_PUNCTUATION) not in _NUMBER_WORDS_AFTER_NUMBER


def parse_number(
    text: str, kind: NumberKind = "decimal", allow_negative: bool = False
) -> ParseResult:
    """Read a number typed in a chat answer.

    ``kind="integer"`` rejects non-whole values with ``not_integer`` (except that both
    readings of an :class:`Ambiguous` are returned as they are; the caller validates
    the one the person picks). Trailing unit words are ignored.
    """
    if kind not in ("integer", "decimal"):
        raise ValueError(f"unknown number kind: {kind!r}")
    s = normalize_text(text)
    if not s:
        return Invalid("empty")

    negative = False
    if s[0] in _MINUS_SIGNS:
        negative = True
        s = s[1:].lstrip()

    core = _CORE_RE.match(s)
    if core is None:
        return Invalid("not_a_number")
    int_part, frac = core.group("int"), core.group("frac")
    pos = core.end()
    if s[pos : pos + 1] in (".", ","):
        return Invalid("not_a_number")

    multiplier = 1
    extra_digits: str | None = None
    mult = _MULTIPLIER_RE.match(s, pos)
    if mult is not None:
        multiplier = _MULTIPLIERS[mult.group("word")]
        extra_digits = mult.group("digits")
        pos = mult.end()
        if s[pos : pos + 1] in (".", ","):
            return Invalid("not_a_number")

    if not _tail_is_unit(s[pos:]):
        return Invalid("not_a_number")

    with localcontext() as ctx:
        ctx.prec = len(s) + 30
        if extra_digits is not None:
            if frac is not None or not int_part.isdigit():
                return Invalid("not_a_number")
            readings: tuple[Decimal, ...] | None = (_decimal(int_part, extra_digits),)
        else:
            readings = _read_core(int_part, frac, kind, has_multiplier=mult is not None)
        if readings is None:
            return Invalid("not_a_number")
        values = [clean_decimal(r * multiplier) for r in readings]

    if negative and any(not v.is_zero() for v in values):
        if not allow_negative:
            return Invalid("negative")
        values = [-v for v in values]

    if len(values) == 2:
        return Ambiguous((values[0], values[1]))
    value = values[0]
    if kind == "integer" and value != value.to_integral_value():
        return Invalid("not_integer")
    return Parsed(value)


def stored_number(value: object) -> Decimal | None:
    """A stored numeric answer (``"12.5"``, ``"1234"``) as a Decimal; None for a skipped
    answer, a yes/no, or anything that is not a number."""
    if value is None or isinstance(value, bool):
        return None
    return _stored_decimal(str(value))


@lru_cache(maxsize=8192)
def _stored_decimal(text: str) -> Decimal | None:
    # Answers repeat (household counts, 0, 1…): the digest reads tens of thousands of them.
    try:
        return Decimal(text)
    except ArithmeticError:
        return None
