"""Money in integer minor units.

``Money(amount=1299, currency="EUR")`` is 12.99 EUR. The exponent of each
currency comes from ISO 4217 through babel (JPY 0, EUR 2, KWD 3). Floats never
appear: conversions go through :class:`decimal.Decimal` and every rounding is
named where it happens.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache
from typing import Final

import msgspec
from babel import Locale
from babel.numbers import format_currency, get_currency_precision, list_currencies

#: The largest amount accepted anywhere in the API (fits a signed 64-bit column
#: with room for sums): 10^15 minor units.
MAX_AMOUNT: Final = 10**15

_LETTER_DIGIT: Final = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")
_CURRENCIES: Final = frozenset(c for c in list_currencies() if len(c) == 3 and c.isalpha())


class CurrencyError(ValueError):
    """An unknown or malformed ISO 4217 currency code."""


def is_currency(code: str) -> bool:
    """Return whether ``code`` is a known ISO 4217 alphabetic code (upper case)."""
    return code in _CURRENCIES


def check_currency(code: str) -> str:
    """Return ``code`` if it is a known currency, else raise :class:`CurrencyError`."""
    if not is_currency(code):
        raise CurrencyError(code)
    return code


@lru_cache(maxsize=512)
def exponent(currency: str) -> int:
    """Return the ISO 4217 minor-unit exponent of ``currency`` (EUR → 2)."""
    return int(get_currency_precision(check_currency(currency)))


class Money(msgspec.Struct, frozen=True):
    """An amount of one currency in integer minor units."""

    amount: int
    currency: str

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot mix {self.currency} and {other.currency}")

    def to_decimal(self) -> Decimal:
        """Return the amount in major units, exactly (1299 EUR → Decimal('12.99'))."""
        return Decimal(self.amount).scaleb(-exponent(self.currency))

    @classmethod
    def from_decimal(cls, value: Decimal, currency: str, rounding: str = ROUND_HALF_EVEN) -> Money:
        """Return ``value`` major units as Money, rounded to minor units with ``rounding``."""
        minor = value.scaleb(exponent(currency)).quantize(Decimal(1), rounding=rounding)
        return cls(int(minor), currency)

    def format(self, locale: Locale | str) -> str:
        """Format for display in ``locale`` ("12,99 €" in de, "€12.99" in en)."""
        return format_money(self.amount, self.currency, str(locale))


@lru_cache(maxsize=4096)
def format_money(amount: int, currency: str, locale: str) -> str:
    """Format ``amount`` minor units of ``currency`` for ``locale``.

    The currency's own number of decimals is always shown (so JPY has none and
    KWD three), whatever the locale's default pattern says.
    """
    digits = exponent(currency)
    value = Decimal(amount).scaleb(-digits)
    text = format_currency(
        value, currency, locale=locale, currency_digits=True, decimal_quantization=True
    )
    # CLDR currency spacing, which babel does not apply: a letter symbol and a
    # digit are kept apart by a no-break space ("SGD 21.90", "Rp 1.234,00").
    return _LETTER_DIGIT.sub("\xa0", str(text))
