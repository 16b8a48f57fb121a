from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.money import InvalidMoney, Money, divide_rounding_half_up

nanos = st.integers(min_value=-(10**20), max_value=10**20)


@given(nanos)
def test_format_then_parse_gives_back_the_same_amount(value: int) -> None:
    if abs(value) >= 10**21:
        return
    money = Money(value)
    assert Money.parse(money.format()) == money


@given(nanos, nanos)
def test_addition_and_subtraction_are_exact(a: int, b: int) -> None:
    assert (Money(a) + Money(b)).nanos == a + b
    assert (Money(a) + Money(b) - Money(b)) == Money(a)


@pytest.mark.parametrize(
    ("text", "nanos"),
    [("0.000150", 150_000), ("12", 12_000_000_000), ("0.000000001", 1), ("-1.5", -1_500_000_000)],
)
def test_parse_decimal_strings(text: str, nanos: int) -> None:
    assert Money.parse(text).nanos == nanos


@pytest.mark.parametrize("bad", ["1e3", "0.0000000001", "abc", "", "1.", ".5", "1,5", "NaN", "inf"])
def test_parse_refuses_what_is_not_an_exact_decimal(bad: str) -> None:
    with pytest.raises(InvalidMoney):
        Money.parse(bad)


@pytest.mark.parametrize("not_text", [0.1, 1, None, True])
def test_parse_refuses_numbers_and_other_types(not_text: object) -> None:
    with pytest.raises(InvalidMoney):
        Money.parse(not_text)


def test_money_from_a_float_is_an_error() -> None:
    with pytest.raises(InvalidMoney):
        Money(0.1)  # type: ignore[arg-type]
    with pytest.raises(InvalidMoney):
        Money(True)


def test_format_keeps_six_decimals_at_least_and_nine_at_most() -> None:
    assert Money(150_000).format() == "0.000150"
    assert Money(1).format() == "0.000000001"
    assert Money.usd(5).format() == "5.000000"
    assert Money.usd(5).format(2) == "5.00"
    assert Money(-1_500_000_000).format() == "-1.500000"


@given(st.integers(-(10**15), 10**15), st.integers(1, 10**9))
def test_rounding_is_to_nearest_with_halves_away_from_zero(
    numerator: int, denominator: int
) -> None:
    result = divide_rounding_half_up(numerator, denominator)
    # |exact - result| <= 1/2, and an exact half goes away from zero.
    assert abs(numerator - result * denominator) * 2 <= denominator
    if abs(numerator - result * denominator) * 2 == denominator:
        assert abs(result * denominator) > abs(numerator)
