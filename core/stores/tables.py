"""Stores (brands), their regions (markets) and storefronts."""

from __future__ import annotations

from piccolo.columns import JSON, BigInt, Boolean, ForeignKey, Integer, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from core.db.columns import id_column, timestamp_now
from core.db.engine import UNBOUND


class Store(Table, tablename="stores", db=UNBOUND):
    """A brand: one tenant whose data is isolated from every other store's."""

    id = id_column()
    handle = Varchar(length=64, unique=True)
    name = Varchar(length=200)
    base_currency = Varchar(length=3)
    home_country = Varchar(length=2)
    default_locale = Varchar(length=16)
    #: Free-form merchant settings (JSON object).
    settings = JSON(default="{}")
    #: Bumped by every catalog write; part of every cached catalog response key.
    catalog_version = BigInt(default=1)
    created_at = timestamp_now()
    updated_at = timestamp_now()


class Region(Table, tablename="regions", db=UNBOUND):
    """A market of a store: countries served, one currency, its locales."""

    caravan_unique = (("store", "code"),)

    id = id_column()
    store = ForeignKey(Store, on_delete=OnDelete.cascade, null=False, index=True)
    code = Varchar(length=32)
    name = Varchar(length=200)
    currency = Varchar(length=3)
    #: ISO 3166-1 alpha-2 codes (JSON list).
    countries = JSON(default="[]")
    #: Locale identifiers, the first is the region's default (JSON list).
    locales = JSON(default="[]")
    tax_inclusive = Boolean(default=False)
    created_at = timestamp_now()
    updated_at = timestamp_now()


class RegionCountry(Table, tablename="region_countries", db=UNBOUND):
    """A country served by a region; the key makes a country belong to one region per store."""

    caravan_unique = (("store", "country"),)

    id = id_column()
    store = ForeignKey(Store, on_delete=OnDelete.cascade, null=False)
    region = ForeignKey(Region, on_delete=OnDelete.cascade, null=False, index=True)
    country = Varchar(length=2)


class RegionProvider(Table, tablename="region_providers", db=UNBOUND):
    """A provider (payment, tax, shipping…) activated in a region, with its config."""

    caravan_unique = (("region", "kind", "provider_code"),)

    id = id_column()
    store = ForeignKey(Store, on_delete=OnDelete.cascade, null=False, index=True)
    region = ForeignKey(Region, on_delete=OnDelete.cascade, null=False, index=True)
    kind = Varchar(length=32)
    provider_code = Varchar(length=64)
    #: Provider configuration (secrets encrypted at rest by the plugin layer).
    config = JSON(default="{}")
    priority = Integer(default=0)
    enabled = Boolean(default=True)
    created_at = timestamp_now()


class Storefront(Table, tablename="storefronts", db=UNBOUND):
    """A storefront application of a store, reached with its publishable key."""

    id = id_column()
    store = ForeignKey(Store, on_delete=OnDelete.cascade, null=False, index=True)
    name = Varchar(length=200)
    #: SHA-256 of the publishable key (the key itself is shown once).
    key_hash = Varchar(length=64, unique=True)
    key_hint = Varchar(length=16)
    #: Allowed CORS origins (JSON list of ``scheme://host[:port]``).
    cors_origins = JSON(default="[]")
    default_region = ForeignKey(Region, on_delete=OnDelete.set_null, null=True)
    created_at = timestamp_now()
    updated_at = timestamp_now()
