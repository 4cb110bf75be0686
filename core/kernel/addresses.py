"""Postal addresses, as carts, orders and customer address books hold them."""

from __future__ import annotations

from typing import Annotated

import msgspec

from core.kernel.validation import CountryCode, Issues

Line = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Short = Annotated[str, msgspec.Meta(max_length=64)]
Phone = Annotated[str, msgspec.Meta(max_length=32, pattern=r"^\+?[0-9 ()./-]{3,32}$")]


class Address(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """A postal address; ``country`` is ISO 3166-1 alpha-2, ``subdivision`` ISO 3166-2's suffix."""

    first_name: Line
    last_name: Line
    line1: Line
    city: Line
    country: CountryCode
    postal_code: Short | None = None
    subdivision: Short | None = None
    line2: Line | None = None
    company: Line | None = None
    phone: Phone | None = None


def check_address(issues: Issues, field: str, address: Address | None) -> None:
    """Record what msgspec cannot check about ``address`` (a known country)."""
    if address is not None:
        issues.country(f"{field}.country", address.country)
