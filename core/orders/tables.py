"""Orders, their lines, fulfilments and returns."""

from __future__ import annotations

from piccolo.columns import JSON, BigInt, Boolean, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from core.db.columns import ID_LENGTH, id_column, timestamp_now
from core.db.engine import UNBOUND
from core.stores.tables import Store


class OrderCounter(Table, tablename="order_counters", db=UNBOUND):
    """The last order number given out per store (human order numbers, 1001, 1002…)."""

    id = id_column()
    store = ForeignKey(Store, on_delete=OnDelete.cascade, null=False, unique=True)
    value = BigInt(default=1000)


class Order(Table, tablename="orders", db=UNBOUND):
    """A placed order: a frozen copy of the cart, its region, prices and taxes."""

    caravan_unique = (("store", "number"),)
    caravan_indexes = (("store", "status", "id"), ("store", "email"))

    id = id_column()
    store = ForeignKey(Store, on_delete=OnDelete.cascade, null=False)
    number = BigInt()
    cart_id = Varchar(length=ID_LENGTH, unique=True)
    region_id = Varchar(length=ID_LENGTH)
    #: The region as it was: ``{"code", "name", "currency", "tax_inclusive"}``.
    region = JSON(default="{}")
    customer_id = Varchar(length=ID_LENGTH, null=True, default=None, index=True)
    email = Varchar(length=254)
    locale = Varchar(length=16)
    currency = Varchar(length=3)
    tax_inclusive = Boolean(default=False)
    #: See :mod:`core.orders.states`.
    status = Varchar(length=24)
    shipping_address = JSON(null=True, default=None)
    billing_address = JSON(null=True, default=None)
    shipping_method = JSON(null=True, default=None)
    subtotal = BigInt()
    discount_total = BigInt(default=0)
    shipping_total = BigInt(default=0)
    shipping_tax = BigInt(default=0)
    tax_total = BigInt(default=0)
    total = BigInt()
    paid_total = BigInt(default=0)
    refunded_total = BigInt(default=0)
    payment_provider = Varchar(length=64)
    #: The code of the KOL who referred the shopper, as the cart had it.
    referral_code = Varchar(length=64, null=True, default=None)
    #: SHA-256 of the guest's order access token.
    access_token_hash = Varchar(length=64)
    placed_at = timestamp_now()
    paid_at = Timestamptz(null=True, default=None)
    canceled_at = Timestamptz(null=True, default=None)
    updated_at = timestamp_now()


class OrderLine(Table, tablename="order_lines", db=UNBOUND):
    """A frozen line of an order."""

    id = id_column()
    order = ForeignKey(Order, on_delete=OnDelete.cascade, null=False, index=True)
    variant_id = Varchar(length=ID_LENGTH)
    product_id = Varchar(length=ID_LENGTH)
    sku = Varchar(length=64)
    title = Varchar(length=255)
    variant_title = Varchar(length=255, default="")
    quantity = Integer()
    unit_price = BigInt()
    subtotal = BigInt()
    discount = BigInt(default=0)
    tax = BigInt(default=0)
    tax_rate = Varchar(length=16, default="0")
    total = BigInt()
    fulfilled_quantity = Integer(default=0)
    returned_quantity = Integer(default=0)
    refunded_quantity = Integer(default=0)


class Fulfillment(Table, tablename="fulfillments", db=UNBOUND):
    """Lines of an order shipped from one warehouse with a carrier and tracking number."""

    id = id_column()
    store = ForeignKey(Store, on_delete=OnDelete.cascade, null=False)
    order = ForeignKey(Order, on_delete=OnDelete.cascade, null=False, index=True)
    warehouse_id = Varchar(length=ID_LENGTH)
    carrier = Varchar(length=64)
    tracking_number = Varchar(length=128)
    tracking_url = Varchar(length=2048, null=True, default=None)
    #: ``[{"line_id": "…", "quantity": 2}]``
    lines = JSON(default="[]")
    #: shipped → delivered.
    status = Varchar(length=16, default="shipped")
    created_at = timestamp_now()
    delivered_at = Timestamptz(null=True, default=None)


class Return(Table, tablename="returns", db=UNBOUND):
    """A return (RMA): requested by the customer or the merchant, received, refunded."""

    id = id_column()
    store = ForeignKey(Store, on_delete=OnDelete.cascade, null=False)
    order = ForeignKey(Order, on_delete=OnDelete.cascade, null=False, index=True)
    #: requested → received (→ refunded) or canceled.
    status = Varchar(length=16, default="requested")
    #: ``[{"line_id": "…", "quantity": 1, "reason": "…"}]``
    lines = JSON(default="[]")
    requested_by = Varchar(length=16)
    note = Varchar(length=1000, default="")
    warehouse_id = Varchar(length=ID_LENGTH, null=True, default=None)
    restock = Boolean(default=True)
    refund_amount = BigInt(default=0)
    created_at = timestamp_now()
    received_at = Timestamptz(null=True, default=None)


class OrderNote(Table, tablename="order_events", db=UNBOUND):
    """The order's timeline: every status change and action, with who did it."""

    id = id_column()
    order = ForeignKey(Order, on_delete=OnDelete.cascade, null=False, index=True)
    kind = Varchar(length=32)
    from_status = Varchar(length=24, default="")
    to_status = Varchar(length=24, default="")
    actor = Varchar(length=64, default="")
    data = JSON(default="{}")
    created_at = timestamp_now()
