from __future__ import annotations

import time
from decimal import Decimal

import pytest
from babel.numbers import format_decimal
from hypothesis import example, given
from hypothesis import strategies as st

from bot.i18n import format_number, use_locale
from bot.reports.numbers import (
    MAX_DIGITS,
    MAX_NUMBER,
    Ambiguous,
    Invalid,
    NumberKind,
    Parsed,
    ParseResult,
    clean_decimal,
    digit_count,
    limit_problem,
    parse_number,
)
from bot.text import normalize_text

D = Decimal


def vi(value: Decimal) -> str:
    return format_decimal(value, locale="vi", decimal_quantization=False)


def amb(a: str, b: str) -> Ambiguous:
    return Ambiguous((D(a), D(b)))


# --- normalize_text -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Không", "khong"),
        ("Thôn văn hoá", "thon van hoa"),
        ("Thôn văn hóa", "thon van hoa"),
        ("  ĐỒNG   Tâm\t\n", "dong tam"),
        ("Tỷ", "ty"),
        ("tỉ", "ti"),
        ("Nghìn", "nghin"),
        ("", ""),
        ("   ", ""),
        ("2.310.000,5 đ", "2.310.000,5 d"),
    ],
)
def test_normalize_text(text: str, expected: str) -> None:
    assert normalize_text(text) == expected


def test_normalize_text_decomposed_input() -> None:
    import unicodedata

    nfd = unicodedata.normalize("NFD", "Thôn văn hoá")
    assert normalize_text(nfd) == "thon van hoa"


# --- table of examples --------------------------------------------------------

EXAMPLES: list[tuple[str, NumberKind, ParseResult]] = [
    # Vietnamese grouping and decimal comma
    ("2.310.000.000", "integer", Parsed(D("2310000000"))),
    ("2.310.000.000", "decimal", Parsed(D("2310000000"))),
    ("1.234", "integer", Parsed(D("1234"))),
    ("1.234,5", "decimal", Parsed(D("1234.5"))),
    ("1.234.567,89", "decimal", Parsed(D("1234567.89"))),
    ("1,5", "decimal", Parsed(D("1.5"))),
    ("2,75", "decimal", Parsed(D("2.75"))),
    ("0,5", "decimal", Parsed(D("0.5"))),
    ("12,50", "decimal", Parsed(D("12.5"))),
    ("0", "integer", Parsed(D("0"))),
    ("90", "integer", Parsed(D("90"))),
    ("1.234.567", "decimal", Parsed(D("1234567"))),
    ("1.234.567", "integer", Parsed(D("1234567"))),
    # multipliers
    ("65 triệu", "integer", Parsed(D("65000000"))),
    ("65triệu", "integer", Parsed(D("65000000"))),
    ("65 TRIỆU", "integer", Parsed(D("65000000"))),
    ("65 trieu", "integer", Parsed(D("65000000"))),
    ("2,3 tỷ", "integer", Parsed(D("2300000000"))),
    ("2,3 tỉ", "integer", Parsed(D("2300000000"))),
    ("2,3 ty", "integer", Parsed(D("2300000000"))),
    ("2,3 Tỷ", "decimal", Parsed(D("2300000000"))),
    ("5 nghìn", "integer", Parsed(D("5000"))),
    ("5 ngàn", "integer", Parsed(D("5000"))),
    ("5 nghin", "integer", Parsed(D("5000"))),
    ("5k", "integer", Parsed(D("5000"))),
    ("5K", "integer", Parsed(D("5000"))),
    ("5 tr", "integer", Parsed(D("5000000"))),
    ("1tr5", "integer", Parsed(D("1500000"))),
    ("1 tr5", "integer", Parsed(D("1500000"))),
    ("1tr25", "integer", Parsed(D("1250000"))),
    ("1tr500", "integer", Parsed(D("1500000"))),
    ("2ty3", "integer", Parsed(D("2300000000"))),
    ("2tỷ3", "integer", Parsed(D("2300000000"))),
    ("1k5", "integer", Parsed(D("1500"))),
    ("1k25", "integer", Parsed(D("1250"))),
    ("1k2345", "integer", Invalid("not_integer")),
    ("1,5 triệu", "integer", Parsed(D("1500000"))),
    ("1,5tr", "integer", Parsed(D("1500000"))),
    ("0.5 triệu", "integer", Parsed(D("500000"))),
    ("2 tỷ đồng", "integer", Parsed(D("2000000000"))),
    ("1tr5 đồng", "integer", Parsed(D("1500000"))),
    # the next digits after a space: one, or three (two could be 1.020 or 1.200)
    ("1 nghìn 2", "integer", Parsed(D("1200"))),
    ("1 nghìn 2 hộ", "integer", Parsed(D("1200"))),
    ("1 nghìn 200", "integer", Parsed(D("1200"))),
    ("2 triệu 3", "integer", Parsed(D("2300000"))),
    ("1 triệu 250", "integer", Parsed(D("1250000"))),
    ("1tr 5", "integer", Parsed(D("1500000"))),
    ("1 tỷ 2", "decimal", Parsed(D("1200000000"))),
    ("1 nghìn 25", "integer", Invalid("not_a_number")),
    ("1 nghìn 2345", "integer", Invalid("not_a_number")),
    ("1 nghìn 2 trăm", "integer", Invalid("not_a_number")),
    ("1,5 nghìn 2", "integer", Invalid("not_a_number")),
    # spaces
    ("  90  ", "integer", Parsed(D("90"))),
    ("2 310 000", "integer", Parsed(D("2310000"))),
    ("2\u00a0310\u00a0000", "integer", Parsed(D("2310000"))),
    ("1 234,5", "decimal", Parsed(D("1234.5"))),
    ("2 310 triệu", "integer", Parsed(D("2310000000"))),
    # trailing units
    ("90 hộ", "integer", Parsed(D("90"))),
    ("90 hộ.", "integer", Parsed(D("90"))),
    ("90 hộ gia đình", "integer", Parsed(D("90"))),
    ("12,5 ha", "decimal", Parsed(D("12.5"))),
    ("3 km", "decimal", Parsed(D("3"))),
    ("3km", "decimal", Parsed(D("3"))),
    ("3 kg", "decimal", Parsed(D("3"))),
    ("95%", "decimal", Parsed(D("95"))),
    ("95 %", "decimal", Parsed(D("95"))),
    ("100 người", "integer", Parsed(D("100"))),
    ("100 m2", "integer", Parsed(D("100"))),
    ("2.310.000.000 đồng", "integer", Parsed(D("2310000000"))),
    ("2.310.000.000đ", "integer", Parsed(D("2310000000"))),
    ("5 trẻ em", "integer", Parsed(D("5"))),
    # ambiguous: never guessed
    ("12.5", "decimal", amb("12.5", "125")),
    ("12.5", "integer", amb("12.5", "125")),
    ("1.5", "decimal", amb("1.5", "15")),
    ("3.25", "decimal", amb("3.25", "325")),
    ("12.50", "decimal", amb("12.5", "1250")),
    ("1.234", "decimal", amb("1.234", "1234")),
    ("1234.567", "integer", amb("1234.567", "1234567")),
    ("1,234", "integer", amb("1.234", "1234")),
    ("1,000", "integer", amb("1", "1000")),
    # a comma before three digits is asked about on a decimal question too
    ("1,234", "decimal", amb("1.234", "1234")),
    ("1,200", "decimal", amb("1.2", "1200")),
    ("1,200 ha", "decimal", amb("1.2", "1200")),
    ("12.5 triệu", "decimal", amb("12500000", "125000000")),
    ("12.5 triệu", "integer", amb("12500000", "125000000")),
    ("1.5tr", "integer", amb("1500000", "15000000")),
    ("1.234 tỷ", "integer", amb("1234000000", "1234000000000")),
    ("1,234 triệu", "integer", amb("1234000", "1234000000")),
    ("1,234 triệu", "decimal", amb("1234000", "1234000000")),
    ("12.5%", "decimal", amb("12.5", "125")),
    ("12.5 ha", "decimal", amb("12.5", "125")),
    # leading zero before a single dot is a decimal point
    ("0.5", "decimal", Parsed(D("0.5"))),
    ("0.25", "decimal", Parsed(D("0.25"))),
    ("0.5", "integer", Invalid("not_integer")),
    ("0.500", "integer", Invalid("not_integer")),
    # negative
    ("-5", "integer", Invalid("negative")),
    ("- 5", "integer", Invalid("negative")),
    ("\u22125", "integer", Invalid("negative")),
    ("-1,5", "decimal", Invalid("negative")),
    ("-12.5", "decimal", Invalid("negative")),
    ("-0", "integer", Parsed(D("0"))),
    # not an integer
    ("1,5", "integer", Invalid("not_integer")),
    ("0,5", "integer", Invalid("not_integer")),
    ("1.234,5", "integer", Invalid("not_integer")),
    ("1,2345 nghìn", "integer", Invalid("not_integer")),
    # empty
    ("", "decimal", Invalid("empty")),
    ("   ", "integer", Invalid("empty")),
    ("\n\t", "integer", Invalid("empty")),
    # not a number
    ("mười hai", "integer", Invalid("not_a_number")),
    ("abc", "decimal", Invalid("not_a_number")),
    ("1 2", "integer", Invalid("not_a_number")),
    ("12 34", "integer", Invalid("not_a_number")),
    ("2 3100", "integer", Invalid("not_a_number")),
    ("90 hộ 5", "integer", Invalid("not_a_number")),
    ("90 hộ, 5 người", "integer", Invalid("not_a_number")),
    ("1.23.567", "decimal", Invalid("not_a_number")),
    ("1.2345.678", "integer", Invalid("not_a_number")),
    ("1234.567.890", "integer", Invalid("not_a_number")),
    ("0.234.567", "integer", Invalid("not_a_number")),
    ("1.23,5", "decimal", Invalid("not_a_number")),
    ("1,234,567", "integer", Invalid("not_a_number")),
    ("1,2.3", "decimal", Invalid("not_a_number")),
    ("12.", "decimal", Invalid("not_a_number")),
    ("12,", "decimal", Invalid("not_a_number")),
    (",5", "decimal", Invalid("not_a_number")),
    (".5", "decimal", Invalid("not_a_number")),
    ("-", "integer", Invalid("not_a_number")),
    ("--5", "integer", Invalid("not_a_number")),
    ("-abc", "integer", Invalid("not_a_number")),
    ("1.5E+6", "decimal", Invalid("not_a_number")),
    ("1e6", "decimal", Invalid("not_a_number")),
    ("5 trăm", "integer", Invalid("not_a_number")),
    ("1 triệu rưỡi", "integer", Invalid("not_a_number")),
    ("2 triệu tư", "integer", Invalid("not_a_number")),
    ("12 phẩy 5", "decimal", Invalid("not_a_number")),
    ("5 nghìn tỷ", "integer", Invalid("not_a_number")),
    ("1,5tr5", "integer", Invalid("not_a_number")),
    ("1.000tr5", "integer", Invalid("not_a_number")),
    ("1tr5,5", "integer", Invalid("not_a_number")),
]


@pytest.mark.parametrize(("text", "kind", "expected"), EXAMPLES)
def test_examples(text: str, kind: NumberKind, expected: ParseResult) -> None:
    assert parse_number(text, kind) == expected


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("khoảng 450", "450"),
        ("Khoảng 450 hộ", "450"),
        ("khoang 1.234", "1234"),
        ("tầm 30", "30"),
        ("chừng 12", "12"),
        ("gần 2 triệu", "2000000"),
        ("xấp xỉ 7", "7"),
        ("~450", "450"),
        ("≈ 450", "450"),
        ("about 450", "450"),
    ],
)
def test_an_approximate_number_is_read_and_marked(text: str, value: str) -> None:
    assert parse_number(text, "integer") == Parsed(D(value), approximate=True)
    assert parse_number(value, "integer") == Parsed(D(value), approximate=False)


@pytest.mark.parametrize("text", ["khoảng", "khoảng hộ", "tầm", "khoảngg 5", "hơn 450"])
def test_an_approximation_word_alone_is_no_number(text: str) -> None:
    assert parse_number(text, "integer") == Invalid("not_a_number")


def test_an_approximate_ambiguous_number_is_still_asked_about() -> None:
    assert parse_number("khoảng 12.5", "decimal") == amb("12.5", "125")


def test_default_kind_is_decimal() -> None:
    assert parse_number("1,5") == Parsed(D("1.5"))


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("-5", "integer", Parsed(D("-5"))),
        ("- 5", "integer", Parsed(D("-5"))),
        ("\u22125", "integer", Parsed(D("-5"))),
        ("-1,5", "decimal", Parsed(D("-1.5"))),
        ("-2,3 tỷ", "integer", Parsed(D("-2300000000"))),
        ("-12.5", "decimal", amb("-12.5", "-125")),
        ("-1,5", "integer", Invalid("not_integer")),
        ("-0", "integer", Parsed(D("0"))),
    ],
)
def test_allow_negative(text: str, kind: NumberKind, expected: ParseResult) -> None:
    assert parse_number(text, kind, allow_negative=True) == expected


def test_unknown_kind_rejected() -> None:
    with pytest.raises(ValueError):
        parse_number("1", "float")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("1tr5", "integer", "1500000"),
        ("65 triệu", "integer", "65000000"),
        ("2,3 tỷ", "decimal", "2300000000"),
        ("1,50", "decimal", "1.5"),
        ("1,0", "decimal", "1"),
        ("0,000", "decimal", "0"),
        ("1.000.000", "integer", "1000000"),
    ],
)
def test_results_have_no_exponent_surprises(text: str, kind: NumberKind, expected: str) -> None:
    result = parse_number(text, kind)
    assert isinstance(result, Parsed)
    assert str(result.value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (D("1.5E+6"), "1500000"),
        (D("1E+9"), "1000000000"),
        (D("12.50"), "12.5"),
        (D("0.000"), "0"),
        (D("-0"), "0"),
        (D("-2.5E+3"), "-2500"),
        (D("1234567890123456789012345678901234567890"), "1234567890123456789012345678901234567890"),
    ],
)
def test_clean_decimal(value: Decimal, expected: str) -> None:
    assert str(clean_decimal(value)) == expected


# --- properties: what Babel writes, we read back ------------------------------

integers = st.integers(min_value=0, max_value=int(MAX_NUMBER))
non_integral = st.builds(
    lambda n, places: Decimal(n).scaleb(-places),
    st.integers(min_value=1, max_value=10**12),
    st.integers(min_value=1, max_value=8),
).filter(lambda d: d != d.to_integral_value())

MULTIPLIERS: list[tuple[str, int]] = [
    ("nghìn", 10**3),
    ("ngàn", 10**3),
    ("k", 10**3),
    ("triệu", 10**6),
    ("Triệu", 10**6),
    ("tr", 10**6),
    ("tỷ", 10**9),
    ("tỉ", 10**9),
    ("ty", 10**9),
    ("TỶ", 10**9),
]
multipliers = st.sampled_from(MULTIPLIERS)
separators = st.sampled_from(["", " "])
units = st.sampled_from(["hộ", "ha", "người", "km", "%", "đồng", "hộ gia đình"])


def one_dot_group_no_comma(text: str) -> bool:
    return text.count(".") == 1 and "," not in text


def one_comma_three_digits(text: str) -> bool:
    """``1,234``: no dot, and a comma before exactly three digits (1,234 or 1.234)."""
    _head, comma, tail = text.partition(",")
    digits = "".join(ch for ch in tail if ch.isdigit())
    return "." not in text and bool(comma) and len(digits) == 3 and tail.startswith(digits)


def assert_reads_back(result: ParseResult, value: Decimal, text: str) -> None:
    if isinstance(result, Ambiguous):
        assert one_dot_group_no_comma(text) or one_comma_three_digits(text), (text, result)
        assert value == result.options[0] or one_dot_group_no_comma(text), (text, result)
        assert value in result.options
    else:
        assert result == Parsed(value), (text, result)


@given(integers)
@example(0)
@example(1234)
@example(2_310_000_000)
def test_babel_integers_read_back_as_integers(n: int) -> None:
    value = Decimal(n)
    assert parse_number(vi(value), "integer") == Parsed(value)


@given(integers)
def test_babel_integers_on_decimal_question(n: int) -> None:
    value = Decimal(n)
    text = vi(value)
    assert_reads_back(parse_number(text, "decimal"), value, text)


@given(non_integral)
@example(Decimal("1234.5"))
@example(Decimal("0.5"))
@example(Decimal("12.5"))
def test_babel_decimals_read_back(value: Decimal) -> None:
    text = vi(value)
    assert_reads_back(parse_number(text, "decimal"), value, text)


@given(non_integral)
def test_babel_decimals_are_not_integers(value: Decimal) -> None:
    assert parse_number(vi(value), "integer") in (
        Invalid("not_integer"),
        # "1,234" on an integer question: English thousands or Vietnamese decimal
        Ambiguous((value, value * 1000)),
    )


@given(integers, units)
def test_babel_integers_with_unit(n: int, unit: str) -> None:
    value = Decimal(n)
    assert parse_number(f"{vi(value)} {unit}", "integer") == Parsed(value)


@given(non_integral, units)
def test_babel_decimals_with_unit(value: Decimal, unit: str) -> None:
    text = vi(value)
    assert_reads_back(parse_number(f"{text} {unit}", "decimal"), value, text)


@given(st.integers(min_value=0, max_value=10**9), multipliers, separators)
@example(999_999, ("tỷ", 10**9), " ")
@example(1_000_000, ("tỷ", 10**9), " ")
def test_babel_integers_with_multiplier(n: int, mult: tuple[str, int], sep: str) -> None:
    word, factor = mult
    text = vi(Decimal(n))
    expected = Decimal(n * factor)
    for kind in ("integer", "decimal"):
        result = parse_number(f"{text}{sep}{word}", kind)
        if expected <= MAX_NUMBER:
            assert_reads_back(result, expected, text)
        else:  # the multiplier counts: beyond the ceiling once multiplied
            assert result == Invalid("too_large"), (text, word, result)


@given(non_integral, multipliers, separators)
def test_babel_decimals_with_multiplier(value: Decimal, mult: tuple[str, int], sep: str) -> None:
    word, factor = mult
    text = vi(value)
    expected = value * factor
    for typed in (f"{text}{sep}{word}", f"{text}{sep}{word} đồng"):
        result = parse_number(typed, "decimal")
        if expected <= MAX_NUMBER:
            assert_reads_back(result, expected, text)
        else:
            assert result == Invalid("too_large"), (typed, result)


@given(st.integers(min_value=1, max_value=10**12), st.sampled_from(["integer", "decimal"]))
def test_negative_round_trip(n: int, kind: NumberKind) -> None:
    text = "-" + vi(Decimal(n))
    assert parse_number(text, kind) == Invalid("negative")
    result = parse_number(text, kind, allow_negative=True)
    assert_reads_back(result, Decimal(-n), text)


@given(integers)
def test_integral_results_are_quantized(n: int) -> None:
    result = parse_number(vi(Decimal(n)), "integer")
    assert isinstance(result, Parsed)
    assert result.value.as_tuple().exponent == 0
    assert "E" not in str(result.value)


# --- properties: ambiguity is flagged, never guessed ---------------------------

digit_strings = st.text(alphabet="0123456789", min_size=1, max_size=10)
# both readings of "a.b" within the 15 digits: at most 8 digits, then at most 7
leading = st.integers(min_value=1, max_value=10**8 - 1).map(str)
not_three_digits = st.text(alphabet="0123456789", min_size=1, max_size=7).filter(
    lambda b: len(b) != 3
)
# and once multiplied by up to a billion, within 999 999 999 999 999
short_leading = st.integers(min_value=1, max_value=9999).map(str)
short_not_three = st.text(alphabet="0123456789", min_size=1, max_size=2)


@given(leading, not_three_digits, st.sampled_from(["integer", "decimal"]))
@example("12", "5", "decimal")
@example("1", "5", "integer")
@example("3", "25", "decimal")
@example("12", "50", "decimal")
@example("1", "2345", "integer")
def test_single_dot_is_ambiguous(a: str, b: str, kind: NumberKind) -> None:
    result = parse_number(f"{a}.{b}", kind)
    assert isinstance(result, Ambiguous), result
    assert result.options == (Decimal(f"{a}.{b}"), Decimal(a + b))


@given(short_leading, short_not_three, multipliers, st.sampled_from(["integer", "decimal"]))
def test_single_dot_with_multiplier_is_ambiguous(
    a: str, b: str, mult: tuple[str, int], kind: NumberKind
) -> None:
    word, factor = mult
    result = parse_number(f"{a}.{b} {word}", kind)
    assert isinstance(result, Ambiguous), result
    assert result.options == (Decimal(f"{a}.{b}") * factor, Decimal(a + b) * factor)


@given(st.integers(min_value=1, max_value=999), st.integers(min_value=0, max_value=999))
def test_dot_three_digits(a: int, b: int) -> None:
    text = f"{a}.{b:03d}"
    assert parse_number(text, "integer") == Parsed(Decimal(f"{a}{b:03d}"))
    assert parse_number(text, "decimal") == Ambiguous(
        (clean_decimal(Decimal(text)), Decimal(f"{a}{b:03d}"))
    )


@given(st.integers(min_value=1, max_value=999), st.integers(min_value=0, max_value=999))
def test_comma_three_digits(a: int, b: int) -> None:
    text = f"{a},{b:03d}"
    decimal_reading = clean_decimal(Decimal(f"{a}.{b:03d}"))
    both = Ambiguous((decimal_reading, Decimal(f"{a}{b:03d}")))
    assert parse_number(text, "decimal") == both  # 1,200: 1,2 or 1.200, on any question
    assert parse_number(text, "integer") == both


@given(digit_strings)
def test_leading_zero_dot_is_decimal(b: str) -> None:
    value = clean_decimal(Decimal(f"0.{b}"))
    assert parse_number(f"0.{b}", "decimal") == Parsed(value)


@given(st.text(max_size=30))
def test_never_crashes(text: str) -> None:
    for kind in ("integer", "decimal"):
        result = parse_number(text, kind)
        assert isinstance(result, Parsed | Ambiguous | Invalid)


# --- limits: 15 digits, 999 999 999 999 999 ----------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("1" * 15, "integer", Parsed(D("1" * 15))),
        ("1" * 16, "integer", Invalid("too_long")),
        ("1" * 26, "integer", Invalid("too_long")),
        ("1" * 26, "decimal", Invalid("too_long")),
        ("1" * 40, "decimal", Invalid("too_long")),
        ("9" * 10_000, "decimal", Invalid("too_long")),
        ("999.999.999.999.999", "integer", Parsed(MAX_NUMBER)),
        ("999 999 999 999 999", "integer", Parsed(MAX_NUMBER)),
        ("1.000.000.000.000.000", "integer", Invalid("too_large")),
        ("1" + "0" * 40, "decimal", Invalid("too_large")),
        ("1" + "0" * 10_000, "decimal", Invalid("too_large")),
        # leading zeros do not count, trailing fractional zeros neither
        ("0" * 30 + "1", "integer", Parsed(D("1"))),
        ("1," + "0" * 30, "decimal", Parsed(D("1"))),
        ("12345678901234,5", "decimal", Parsed(D("12345678901234.5"))),
        ("123456789012345,6", "decimal", Invalid("too_long")),
        ("0,000000000000001", "decimal", Parsed(D("0.000000000000001"))),
        ("0,0000000000000001", "decimal", Invalid("too_long")),
        ("0," + "0" * 10_000 + "1", "decimal", Invalid("too_long")),
        # multiplier words count once multiplied
        ("999999 tỷ", "integer", Parsed(D("999999000000000"))),
        ("1000000 tỷ", "integer", Invalid("too_large")),
        ("1 triệu tỷ", "integer", Invalid("not_a_number")),
        ("999.999.999 triệu", "integer", Parsed(D("999999999000000"))),
        ("1.000.000.000 triệu", "integer", Invalid("too_large")),
        ("999999999999tr5", "integer", Invalid("too_large")),
        ("99999999tr5", "integer", Parsed(D("99999999500000"))),
        ("1,23456789012345 tỷ", "decimal", Parsed(D("1234567890.12345"))),
        ("1,234567890123456 tỷ", "decimal", Invalid("too_long")),
        # a reading beyond the limits is never offered; the other one is the answer
        ("1.5" + "0" * 20, "decimal", Parsed(D("1.5"))),
        ("1.5" + "0" * 20, "integer", Invalid("not_integer")),
        ("9999.999 tỷ", "decimal", Parsed(D("9999999000000"))),
        ("12345678.1234567", "decimal", amb("12345678.1234567", "123456781234567")),
        # odd but harmless: never an exception, never slow
        ("1e999", "decimal", Invalid("not_a_number")),
        ("1E+999", "decimal", Invalid("not_a_number")),
        ("1" * 5000 + ".5", "decimal", Invalid("too_long")),
        ("0" * 5000 + "1.5", "decimal", amb("1.5", "15")),
        ("９９９", "integer", Parsed(D("999"))),
        ("１.２３４ hộ", "integer", Parsed(D("1234"))),
        ("1\u200b234", "integer", Parsed(D("1234"))),
        ("1\u200b2\u200b3", "integer", Parsed(D("123"))),
        ("\ufeff65\u2060 triệu", "integer", Parsed(D("65000000"))),
        ("²", "integer", Invalid("not_a_number")),
    ],
)
def test_limits(text: str, kind: NumberKind, expected: ParseResult) -> None:
    assert parse_number(text, kind) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-" + "1" * 15, Parsed(-D("1" * 15))),
        ("-" + "1" * 16, Invalid("too_long")),
        ("-1.000.000.000.000.000", Invalid("too_large")),
        ("-2 tỷ", Parsed(D("-2000000000"))),
    ],
)
def test_limits_either_way(text: str, expected: ParseResult) -> None:
    assert parse_number(text, "integer", allow_negative=True) == expected


@pytest.mark.parametrize(
    ("value", "count"),
    [
        ("0", 0),
        ("0.000", 0),
        ("7", 1),
        ("1000", 4),
        ("1E+3", 4),
        ("12.50", 3),
        ("0.5", 1),
        ("0.05", 2),
        ("1E-15", 15),
        ("-123.45", 5),
        ("999999999999999", 15),
        ("1.5E+6", 7),
        ("1" * 40, 40),
        ("1E+999999", 1_000_000),
    ],
)
def test_digit_count(value: str, count: int) -> None:
    assert digit_count(D(value)) == count


def test_limit_problem() -> None:
    assert limit_problem(MAX_NUMBER) is None
    assert limit_problem(-MAX_NUMBER) is None
    assert limit_problem(MAX_NUMBER + 1) == "too_large"
    assert limit_problem(-MAX_NUMBER - 1) == "too_large"
    assert limit_problem(D("0.0000000000000001")) == "too_long"
    assert limit_problem(D("123456789012345.6")) == "too_long"
    assert limit_problem(D("Infinity")) == "too_large"
    assert limit_problem(D("NaN")) == "too_large"
    assert limit_problem(D("1E+999999999")) == "too_large"
    assert MAX_DIGITS == 15 and MAX_NUMBER == D("999999999999999")


@pytest.mark.parametrize(
    "text",
    [
        "9" * 100_000,
        "1" + "0" * 100_000,
        "0," + "0" * 100_000 + "1",
        "1," + "0" * 100_000,
        "1." * 50_000 + "1",
        "1 " + "000 " * 25_000,
        "１" * 100_000,
        "1\u200b" * 50_000,
        "1e" + "9" * 100_000,
        "1 " + "hộ " * 30_000,
        "-" * 100_000,
    ],
)
def test_huge_inputs_are_answered_quickly(text: str) -> None:
    for kind in ("integer", "decimal"):
        started = time.perf_counter()
        result = parse_number(text, kind)
        assert time.perf_counter() - started < 0.5, (text[:20], result)
        assert isinstance(result, Invalid | Parsed | Ambiguous)


NUMBERISH = [*"0123456789", ".", ",", " ", "-", "0", "9", "k", "e", "%", "\u200b", "９", "\u00a0"]
NUMBERISH += ["tr", "tỷ", "triệu", "nghìn", " hộ", " ha", "000", "999", "."]
numberish_texts = st.lists(st.sampled_from(NUMBERISH), max_size=40).map("".join)


def _always_fine(value: Decimal) -> None:
    """A value parse_number may hand out: within the limits, formatted without raising."""
    assert value.is_finite()
    assert limit_problem(value) is None, value
    assert digit_count(value) <= MAX_DIGITS
    for locale in ("vi", "en"):
        with use_locale(locale):
            assert format_number(value)


@given(st.one_of(st.text(max_size=60), numberish_texts), st.booleans())
@example("1" * 26, False)
@example("9" * 25 + ",5", False)
@example("99999999999999,9 nghìn", False)
@example("1.5" + "0" * 30, False)
@example("-" + "9" * 15, True)
def test_any_text_gives_a_result_within_the_limits(text: str, negative: bool) -> None:
    for kind in ("integer", "decimal"):
        result = parse_number(text, kind, allow_negative=negative)
        assert isinstance(result, Parsed | Ambiguous | Invalid)
        if isinstance(result, Parsed):
            _always_fine(result.value)
        elif isinstance(result, Ambiguous):
            assert len(result.options) == 2
            for option in result.options:
                _always_fine(option)
        else:
            assert result.reason in (
                "empty",
                "not_a_number",
                "negative",
                "not_integer",
                "too_long",
                "too_large",
            )
