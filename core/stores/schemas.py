"""Request and response bodies of stores, regions and storefronts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, UnsetType

from core.auth.service import TokenRecord
from core.kernel.validation import (
    MAX_LIST,
    Code,
    CountryCode,
    CurrencyCode,
    Handle,
    LocaleCode,
    Name,
    Url,
)

Settings = Annotated[dict[str, Any], msgspec.Meta(max_length=100)]
Countries = Annotated[list[CountryCode], msgspec.Meta(min_length=1, max_length=MAX_LIST)]
Locales = Annotated[list[LocaleCode], msgspec.Meta(min_length=1, max_length=20)]
Origins = Annotated[list[Url], msgspec.Meta(max_length=50)]


class StoreCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A new store (brand)."""

    handle: Handle
    name: Name
    base_currency: CurrencyCode
    home_country: CountryCode
    default_locale: LocaleCode = "en"
    settings: Settings = {}


class StoreUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Changes to a store; absent fields stay as they are."""

    name: Name | None = None
    base_currency: CurrencyCode | None = None
    home_country: CountryCode | None = None
    default_locale: LocaleCode | None = None
    settings: Settings | None = None


class StoreRead(msgspec.Struct, kw_only=True):
    """A store."""

    id: str
    handle: str
    name: str
    base_currency: str
    home_country: str
    default_locale: str
    settings: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class StoreCreated(msgspec.Struct, kw_only=True):
    """A new store and its first staff token (with every scope; shown once)."""

    store: StoreRead
    admin_token: str
    token: TokenRecord


class RegionCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A new region (market) of the store."""

    code: Code
    name: Name
    currency: CurrencyCode
    countries: Countries
    locales: Locales
    tax_inclusive: bool = False


class RegionUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Changes to a region; absent fields stay as they are."""

    name: Name | None = None
    currency: CurrencyCode | None = None
    countries: Countries | None = None
    locales: Locales | None = None
    tax_inclusive: bool | None = None


class RegionRead(msgspec.Struct, kw_only=True):
    """A region of the store."""

    id: str
    code: str
    name: str
    currency: str
    countries: list[str]
    locales: list[str]
    default_locale: str
    tax_inclusive: bool
    created_at: datetime
    updated_at: datetime


class StorefrontCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A new storefront; its publishable key is returned once."""

    name: Name
    cors_origins: Origins = []
    default_region: str | None = None


class StorefrontUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Changes to a storefront; absent fields stay as they are.

    ``"default_region": null`` clears the default region.
    """

    name: Name | None = None
    cors_origins: Origins | None = None
    default_region: str | UnsetType | None = UNSET


class StorefrontRead(msgspec.Struct, kw_only=True):
    """A storefront (its key only as a hint)."""

    id: str
    name: str
    key_hint: str
    cors_origins: list[str]
    default_region: str | None
    created_at: datetime
    updated_at: datetime


class StorefrontWithKey(msgspec.Struct, kw_only=True):
    """A storefront with its publishable key (on creation and key rotation)."""

    storefront: StorefrontRead
    publishable_key: str


class StoreRegionRead(msgspec.Struct, kw_only=True):
    """A region as the storefront API shows it."""

    code: str
    name: str
    currency: str
    countries: list[str]
    locales: list[str]
    tax_inclusive: bool
