"""Payments taken through providers, and their refunds."""

from __future__ import annotations

from piccolo.columns import JSON, BigInt, ForeignKey, Integer, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from core.db.columns import ID_LENGTH, id_column, timestamp_now
from core.db.engine import UNBOUND
from core.stores.tables import Store


class Payment(Table, tablename="payments", db=UNBOUND):
    """A payment session opened with a provider for a cart (and later its order)."""

    caravan_unique = (("store", "provider", "reference"),)

    id = id_column()
    store = ForeignKey(Store, on_delete=OnDelete.cascade, null=False)
    cart_id = Varchar(length=ID_LENGTH, index=True)
    order_id = Varchar(length=ID_LENGTH, null=True, default=None, index=True)
    region_id = Varchar(length=ID_LENGTH)
    provider = Varchar(length=64)
    reference = Varchar(length=255)
    #: See :data:`core.payments.providers.PaymentStatus`.
    status = Varchar(length=32)
    amount = BigInt()
    currency = Varchar(length=3)
    captured = BigInt(default=0)
    refunded = BigInt(default=0)
    #: The cart version the session was opened for: a changed cart needs a new session.
    cart_version = Integer(default=0)
    next_action = JSON(default="{}")
    data = JSON(default="{}")
    created_at = timestamp_now()
    updated_at = timestamp_now()


class Refund(Table, tablename="refunds", db=UNBOUND):
    """Money given back through a payment's provider."""

    id = id_column()
    store = ForeignKey(Store, on_delete=OnDelete.cascade, null=False)
    payment_id = Varchar(length=ID_LENGTH, index=True)
    order_id = Varchar(length=ID_LENGTH, index=True)
    amount = BigInt()
    currency = Varchar(length=3)
    reference = Varchar(length=255, default="")
    status = Varchar(length=16)
    reason = Varchar(length=500, default="")
    created_at = timestamp_now()
