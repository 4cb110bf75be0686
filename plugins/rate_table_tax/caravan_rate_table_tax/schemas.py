"""Request and response bodies of the tax rate admin API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from core.plugins import Code, CountryCode

#: A decimal fraction ``0 <= rate < 1`` with at most 6 decimals (``"0.19"``, ``"0.055"``).
Rate = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^0(\.[0-9]{1,6})?$",
        description="A decimal fraction, 0 <= rate < 1, at most 6 decimals: 0.19 is 19 %.",
        examples=["0.19", "0.055"],
    ),
]
Subdivision = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[A-Z0-9]{1,3}$",
        description="ISO 3166-2 subdivision suffix (CA of US-CA).",
    ),
]
TaxName = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class TaxRateCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A new rate: a country (or one of its subdivisions) and tax category."""

    country: CountryCode
    rate: Rate
    category: Code = "standard"
    subdivision: Subdivision | None = None
    name: TaxName = "VAT"


class TaxRateUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Changes to a rate; absent fields stay as they are."""

    rate: Rate | None = None
    name: TaxName | None = None


class TaxRateRead(msgspec.Struct, kw_only=True):
    """A tax rate of the store."""

    id: str
    country: str
    subdivision: str | None
    category: str
    rate: str
    name: str
    created_at: datetime
    updated_at: datetime
