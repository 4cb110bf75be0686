"""Money: integer minor units, ISO 4217 exponents, exact conversions, formatting."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.kernel.money import MAX_AMOUNT, CurrencyError, Money, exponent, format_money, is_currency

CURRENCIES = ["JPY", "KRW", "EUR", "USD", "SGD", "IDR", "KWD", "BHD", "JOD"]


@pytest.mark.parametrize(
    ("currency", "digits"),
    [("JPY", 0), ("KRW", 0), ("EUR", 2), ("USD", 2), ("SGD", 2), ("KWD", 3), ("BHD", 3)],
)
def test_exponents_follow_iso_4217(currency: str, digits: int) -> None:
    assert exponent(currency) == digits


def test_unknown_currencies_are_refused() -> None:
    assert not is_currency("XXQ")
    assert not is_currency("eur")
    with pytest.raises(CurrencyError):
        exponent("XXQ")


@given(
    amount=st.integers(min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT),
    currency=st.sampled_from(CURRENCIES),
)
def test_decimal_round_trip_is_exact(amount: int, currency: str) -> None:
    money = Money(amount, currency)
    assert Money.from_decimal(money.to_decimal(), currency) == money


@given(
    a=st.integers(min_value=0, max_value=MAX_AMOUNT),
    b=st.integers(min_value=0, max_value=MAX_AMOUNT),
    currency=st.sampled_from(CURRENCIES),
)
def test_addition_and_subtraction_are_exact(a: int, b: int, currency: str) -> None:
    total = Money(a, currency) + Money(b, currency)
    assert total.amount == a + b
    assert (total - Money(b, currency)).amount == a


def test_mixing_currencies_is_an_error() -> None:
    with pytest.raises(ValueError, match="cannot mix EUR and USD"):
        Money(1, "EUR") + Money(1, "USD")


@pytest.mark.parametrize(
    ("value", "currency", "rounding", "expected"),
    [
        (Decimal("12.345"), "EUR", None, 1234),  # half-even by default
        (Decimal("12.355"), "EUR", None, 1236),
        (Decimal("12.345"), "EUR", ROUND_HALF_UP, 1235),
        (Decimal("1234.5"), "JPY", None, 1234),
        (Decimal("1.2345"), "KWD", None, 1234),
        (Decimal("1.2355"), "KWD", ROUND_HALF_UP, 1236),
    ],
)
def test_rounding_is_named(
    value: Decimal, currency: str, rounding: str | None, expected: int
) -> None:
    money = (
        Money.from_decimal(value, currency)
        if rounding is None
        else Money.from_decimal(value, currency, rounding)
    )
    assert money == Money(expected, currency)


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "expected"),
    [
        (1299, "EUR", "de", "12,99\xa0€"),
        (1299, "EUR", "fr", "12,99\xa0€"),
        (1299, "EUR", "en", "€12.99"),
        (1499, "USD", "en", "$14.99"),
        (2190, "SGD", "en", "SGD\xa021.90"),
        (1500, "JPY", "ja", "￥1,500"),
        (1234, "KWD", "en", "KWD\xa01.234"),
        (123456789, "IDR", "id", "Rp\xa01.234.567,89"),
        (0, "EUR", "de", "0,00\xa0€"),
        (-1299, "EUR", "en", "-€12.99"),
    ],
)
def test_formatting_per_locale(amount: int, currency: str, locale: str, expected: str) -> None:
    assert format_money(amount, currency, locale) == expected
    assert Money(amount, currency).format(locale) == expected
