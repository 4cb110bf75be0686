"""Request and response bodies of the shipping zone admin API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, UnsetType

from core.plugins import MAX_LIST, Amount, CountryCode, CurrencyCode, Name

Basis = Literal["weight", "subtotal"]
Countries = Annotated[list[CountryCode], msgspec.Meta(min_length=1, max_length=MAX_LIST)]
Days = Annotated[int, msgspec.Meta(ge=0, le=365)]
#: A band limit: grams for ``weight``, minor units for ``subtotal``.
Bound = Annotated[int, msgspec.Meta(ge=0, le=10**12)]


class ZoneCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A new shipping zone; a country belongs to one zone of the store."""

    name: Name
    countries: Countries


class ZoneUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Changes to a zone; absent fields stay as they are."""

    name: Name | None = None
    countries: Countries | None = None


class RateCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A new rate of a zone.

    It is offered when the cart's ``basis`` value (total weight in grams, or
    subtotal in minor units) is at least ``min`` and, if ``max`` is set, below
    ``max``; it costs ``amount`` (``currency`` minor units), nothing when the
    subtotal is at least ``free_above``.
    """

    name: Name
    amount: Amount
    currency: CurrencyCode
    basis: Basis = "weight"
    min: Bound = 0
    max: Bound | None = None
    free_above: Amount | None = None
    min_days: Days | None = None
    max_days: Days | None = None


class RateUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Changes to a rate; absent fields stay as they are, ``null`` clears an optional one."""

    name: Name | None = None
    amount: Amount | None = None
    currency: CurrencyCode | None = None
    basis: Basis | None = None
    min: Bound | None = None
    max: Bound | UnsetType | None = UNSET
    free_above: Amount | UnsetType | None = UNSET
    min_days: Days | UnsetType | None = UNSET
    max_days: Days | UnsetType | None = UNSET


class RateRead(msgspec.Struct, kw_only=True):
    """A rate of a zone."""

    id: str
    zone_id: str
    name: str
    basis: Basis
    min: int
    max: int | None
    amount: int
    currency: str
    free_above: int | None
    min_days: int | None
    max_days: int | None
    created_at: datetime
    updated_at: datetime


class ZoneRead(msgspec.Struct, kw_only=True):
    """A shipping zone with its rates (oldest first)."""

    id: str
    name: str
    countries: list[str]
    rates: list[RateRead]
    created_at: datetime
    updated_at: datetime
