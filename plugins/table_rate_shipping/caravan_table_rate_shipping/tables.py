"""Shipping zones (countries) and their rates, per store."""

from __future__ import annotations

from piccolo.columns import JSON, BigInt, ForeignKey, Integer, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from core.plugins import UNBOUND, Store, id_column, timestamp_now


class ShippingZone(Table, tablename="table_rate_shipping_zones", db=UNBOUND):
    """A set of countries shipped to on the same rates."""

    id = id_column()
    store = ForeignKey(Store, on_delete=OnDelete.cascade, null=False, index=True)
    name = Varchar(length=200)
    #: ISO 3166-1 alpha-2 codes, as the staff listed them (JSON list).
    countries = JSON(default="[]")
    created_at = timestamp_now()
    updated_at = timestamp_now()


class ShippingZoneCountry(Table, tablename="table_rate_shipping_countries", db=UNBOUND):
    """A country of a zone; the key makes a country belong to one zone per store."""

    caravan_unique = (("store", "country"),)

    id = id_column()
    store = ForeignKey(Store, on_delete=OnDelete.cascade, null=False)
    zone = ForeignKey(ShippingZone, on_delete=OnDelete.cascade, null=False, index=True)
    country = Varchar(length=2)


class ShippingRate(Table, tablename="table_rate_shipping_rates", db=UNBOUND):
    """A way to ship to a zone, offered when the cart's weight or value is in its band."""

    id = id_column()
    store = ForeignKey(Store, on_delete=OnDelete.cascade, null=False)
    zone = ForeignKey(ShippingZone, on_delete=OnDelete.cascade, null=False, index=True)
    name = Varchar(length=200)
    #: ``weight`` (the band is in grams) or ``subtotal`` (in minor units).
    basis = Varchar(length=16)
    #: The band: ``band_min <= value`` and, when ``band_max`` is set, ``value < band_max``.
    band_min = BigInt(default=0)
    band_max = BigInt(null=True, default=None)
    amount = BigInt()
    currency = Varchar(length=3)
    #: Free when the cart's subtotal is at least this (minor units).
    free_above = BigInt(null=True, default=None)
    min_days = Integer(null=True, default=None)
    max_days = Integer(null=True, default=None)
    created_at = timestamp_now()
    updated_at = timestamp_now()
