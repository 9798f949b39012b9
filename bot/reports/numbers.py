"""Parse numbers the way people type them in Vietnamese chat.

Vietnamese writes ``.`` between thousands groups and ``,`` as the decimal mark
(``2.310.000.000``, ``12,5``), and money is usually said with a multiplier word
(``65 triệu``, ``2,3 tỷ``, ``1tr5``). People used to English conventions type
``12.5`` for twelve and a half, so a lone dot that could be either is reported as
:class:`Ambiguous` and the caller asks which one was meant, as is a comma before exactly
three digits (``1,200``: 1,2 or 1.200); nothing is guessed. A number after ``khoảng``
(about) is read, and marked :attr:`Parsed.approximate` for the caller to confirm.

Every number is capped (:func:`limit_problem`): at most :data:`MAX_DIGITS` digits
(integer digits without leading zeros, plus fractional digits up to the last non-zero
one) and at most :data:`MAX_NUMBER` either way, multiplier words included. Fifteen digits
is what a float (the workbook, the chart) and a spreadsheet keep exactly, and what Babel's
formats and the digest's sums handle with room to spare; Babel's ``format_decimal`` raises
``InvalidOperation`` on a number with more than 25 integer digits.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, localcontext
from functools import lru_cache
from typing import Literal, TypeAlias

from bot.text import normalize_text

__all__ = [
    "MAX_DIGITS",
    "MAX_NUMBER",
    "Ambiguous",
    "Invalid",
    "InvalidReason",
    "NumberKind",
    "ParseResult",
    "Parsed",
    "clean_decimal",
    "digit_count",
    "limit_problem",
    "parse_number",
]

NumberKind = Literal["integer", "decimal"]
InvalidReason = Literal["empty", "not_a_number", "negative", "not_integer", "too_long", "too_large"]
LimitReason = Literal["too_long", "too_large"]

# The most digits a number may have, and the largest number (either way) an answer may be.
MAX_DIGITS = 15
MAX_NUMBER = Decimal(10**MAX_DIGITS - 1)  # 999 999 999 999 999


@dataclass(frozen=True)
class Parsed:
    """One reading, always within the limits (:func:`limit_problem` is None);
    ``approximate`` when it came after a word such as ``khoảng`` (about), so that the
    caller confirms it before keeping it as an exact figure."""

    value: Decimal
    approximate: bool = False


@dataclass(frozen=True)
class Ambiguous:
    """Two readings: first with the dot/comma as a decimal mark, then as a thousands separator.

    Both are within the limits; when only one is, that one is the :class:`Parsed` result.
    """

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
# the next digits of the fraction (``1tr5``; after a space only one digit or three,
# ``1 nghìn 2`` = 1.200, ``1 triệu 250`` = 1.250.000, since ``1 nghìn 20`` could be
# 1.020 as well as 1.200); it must not run into a letter, so ``km`` or ``trăm`` are not
# mistaken for ``k`` / ``tr``.
_MULTIPLIER_RE = re.compile(
    r" ?(?P<word>nghin|ngan|trieu|tr|ty|ti|k)"
    r"(?:(?P<digits>[0-9]+)|\ (?P<spaced>[0-9](?:[0-9]{2})?)(?![0-9]))?(?![^\W\d_])"
)
# Words before a number that say it is approximate ("khoảng 450", "tầm 30"), folded.
_APPROXIMATE_WORDS = (
    "khoang chung",
    "khoang",
    "tam",
    "chung",
    "uoc chung",
    "uoc tinh",
    "uoc khoang",
    "uoc",
    "xap xi",
    "gan",
    "about",
    "around",
    "approximately",
    "approx",
    "roughly",
)
_APPROXIMATE_SIGNS = ("~", "\u2248")  # ~ and ≈

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


def digit_count(value: Decimal) -> int:
    """How many digits ``value`` is written with: its integer digits without leading zeros
    plus its fractional digits up to the last non-zero one (``1000`` → 4, ``12.50`` → 3,
    ``0.05`` → 2, ``0`` → 0). Reads the digits only, so it is cheap at any size and exponent."""
    if not value.is_finite():
        raise ValueError(f"not a finite number: {value}")
    if value.is_zero():
        return 0
    _sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    size = len(digits)
    if exponent < 0:
        # fractional trailing zeros do not count
        trailing = size - len("".join(map(str, digits)).rstrip("0"))
        dropped = min(trailing, -exponent)
        size -= dropped
        exponent += dropped
    if exponent >= 0:
        return size + exponent
    return max(size, -exponent)


def limit_problem(value: Decimal) -> LimitReason | None:
    """Why ``value`` may not be an answer, or None when it may: ``too_large`` beyond
    :data:`MAX_NUMBER` either way (or not finite), ``too_long`` with more than
    :data:`MAX_DIGITS` digits (:func:`digit_count`). Uses no decimal context, so it never
    raises, whatever the exponent."""
    if not value.is_finite() or value.copy_abs() > MAX_NUMBER:
        return "too_large"
    if digit_count(value) > MAX_DIGITS:
        return "too_long"
    return None


def _fold_digits(text: str) -> str:
    """``text`` with every Unicode decimal digit (full-width ``９``, Arabic-Indic…) as its
    ASCII digit and invisible format characters (zero-width space, word joiner, BOM, soft
    hyphen, direction marks) removed; one pass, ASCII text returned as it is."""
    if text.isascii():
        return text
    out = []
    for ch in text:
        if ch.isdecimal():
            out.append(str(unicodedata.decimal(ch)))
        elif unicodedata.category(ch) != "Cf":
            out.append(ch)
    return "".join(out)


def _too_many_digits(int_part: str, frac: str | None, extra: str | None) -> LimitReason | None:
    """A cheap bound before any arithmetic, from the typed digits alone: ``too_long`` when
    even without the zeros at both ends there are more than :data:`MAX_DIGITS` digits,
    ``too_large`` when even the smallest reading has more than :data:`MAX_DIGITS` integer
    digits. Every reading (any multiplier) has at least as many of both, so nothing that
    has a reading within the limits is refused here."""
    digits = "".join(ch for ch in int_part if ch.isdigit()) + (frac or "") + (extra or "")
    if len(digits.strip("0")) > MAX_DIGITS:
        return "too_long"
    groups = int_part.split(".")
    # with one dot and nothing after, the dot may be the decimal mark
    smallest_int = groups[0] if len(groups) == 2 and frac is None else int_part
    if len("".join(ch for ch in smallest_int if ch.isdigit()).lstrip("0")) > MAX_DIGITS:
        return "too_large"
    return None


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
        if frac is not None and len(frac) == 3 and _is_thousands_grouping([head, frac]):
            # "1,234" (and "1,200"): Vietnamese 1,234 or English 1234, on any question.
            return (_decimal(head, frac), _decimal(head + frac))
        return (_decimal(head, frac),)
    if len(groups) > 2 or frac is not None:
        if not _is_thousands_grouping(groups):
            return None
        return (_decimal("".join(groups), frac),)
    a, b = groups
    if not a.strip("0"):  # never int(): it refuses (and is slow on) thousands of digits
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
    the one the person picks). Trailing unit words are ignored. Numbers beyond the limits
    (:func:`limit_problem`) are ``too_long`` or ``too_large``; a reading beyond them is
    never offered. Full-width digits are read as digits and invisible characters between
    them ignored. Never raises for any text, and takes time linear in its length.
    """
    if kind not in ("integer", "decimal"):
        raise ValueError(f"unknown number kind: {kind!r}")
    s = normalize_text(_fold_digits(text))
    if not s:
        return Invalid("empty")
    s, approximate = _without_approximation(s)
    if not s:
        return Invalid("not_a_number")

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
        extra_digits = mult.group("digits") or mult.group("spaced")
        pos = mult.end()
        if s[pos : pos + 1] in (".", ","):
            return Invalid("not_a_number")

    if not _tail_is_unit(s[pos:]):
        return Invalid("not_a_number")
    too_many = _too_many_digits(int_part, frac, extra_digits)
    if too_many is not None:
        return Invalid(too_many)

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

    problems = [limit_problem(v) for v in values]
    if all(problems):
        return Invalid(problems[0] or "too_large")
    values = [v for v, problem in zip(values, problems, strict=True) if problem is None]
    if len(values) == 2:
        return Ambiguous((values[0], values[1]))
    value = values[0]
    if kind == "integer" and value != value.to_integral_value():
        return Invalid("not_integer")
    return Parsed(value, approximate)


def _without_approximation(s: str) -> tuple[str, bool]:
    """A folded text without a leading word or sign saying "about" (``khoang 450``,
    ``~450``), and whether it had one."""
    for sign in _APPROXIMATE_SIGNS:
        if s.startswith(sign):
            return s[len(sign) :].lstrip(), True
    for word in _APPROXIMATE_WORDS:
        if s.startswith(word + " ") or (
            s.startswith(word) and s[len(word) : len(word) + 1].isdigit()
        ):
            return s[len(word) :].lstrip(), True
    return s, False


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
