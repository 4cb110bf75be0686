"""Carts and their lines."""

from __future__ import annotations

from piccolo.columns import JSON, BigInt, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from core.catalog.tables import Variant
from core.db.columns import ID_LENGTH, id_column, timestamp_now
from core.db.engine import UNBOUND
from core.stores.tables import Region, Store


class Cart(Table, tablename="carts", db=UNBOUND):
    """A shopper's cart in one region; its totals are recomputed on every change."""

    #: The admin's listing (by store and status, newest first). No index names a
    #: column that a cart's changes write, so PostgreSQL updates carts in place.
    caravan_indexes = (("store", "status", "id"),)

    id = id_column()
    store = ForeignKey(Store, on_delete=OnDelete.cascade, null=False)
    region = ForeignKey(Region, on_delete=OnDelete.cascade, null=False)
    customer_id = Varchar(length=ID_LENGTH, null=True, default=None, index=True)
    #: open → completed (an order was placed) or abandoned.
    status = Varchar(length=16, default="open")
    currency = Varchar(length=3)
    locale = Varchar(length=16)
    email = Varchar(length=254, null=True, default=None)
    shipping_address = JSON(null=True, default=None)
    billing_address = JSON(null=True, default=None)
    #: ``{"provider": "table_rate", "option_id": "…", "name": "…", "amount": 500}``
    shipping_method = JSON(null=True, default=None)
    #: The code of the KOL who referred the shopper (copied onto the order).
    referral_code = Varchar(length=64, null=True, default=None)
    subtotal = BigInt(default=0)
    discount_total = BigInt(default=0)
    shipping_total = BigInt(default=0)
    tax_total = BigInt(default=0)
    total = BigInt(default=0)
    #: Bumped by every change; a payment session remembers the version it was opened for.
    version = Integer(default=1)
    order_id = Varchar(length=ID_LENGTH, null=True, default=None)
    created_at = timestamp_now()
    updated_at = timestamp_now()
    completed_at = Timestamptz(null=True, default=None)


class CartLine(Table, tablename="cart_lines", db=UNBOUND):
    """A variant and quantity in a cart, with its computed amounts (minor units)."""

    caravan_unique = (("cart", "variant"),)

    id = id_column()
    cart = ForeignKey(Cart, on_delete=OnDelete.cascade, null=False)
    variant = ForeignKey(Variant, on_delete=OnDelete.cascade, null=False)
    product_id = Varchar(length=ID_LENGTH)
    quantity = Integer()
    unit_price = BigInt(default=0)
    subtotal = BigInt(default=0)
    discount = BigInt(default=0)
    tax = BigInt(default=0)
    tax_rate = Varchar(length=16, default="0")
    total = BigInt(default=0)
    created_at = timestamp_now()
