"""Commissions that affiliate programmes earned on orders."""

from __future__ import annotations

from piccolo.columns import BigInt, ForeignKey, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from core.db.columns import ID_LENGTH, id_column, timestamp_now
from core.db.engine import UNBOUND
from core.orders.tables import Order
from core.stores.tables import Store


class AffiliateCommission(Table, tablename="affiliate_commissions", db=UNBOUND):
    """What one affiliate provider owes a KOL for one order, minor units of ``currency``.

    Recorded once per order and provider when the order is paid; ``reversed_amount``
    grows with the order's refunds (all of ``amount`` once it is canceled or refunded).
    """

    caravan_unique = (("order", "provider_code"),)
    caravan_indexes = (("store", "affiliate", "id"), ("store", "state", "id"))

    id = id_column()
    store = ForeignKey(Store, on_delete=OnDelete.cascade, null=False, index=True)
    order = ForeignKey(Order, on_delete=OnDelete.cascade, null=False)
    order_number = BigInt()
    region_id = Varchar(length=ID_LENGTH)
    provider_code = Varchar(length=64)
    #: The KOL's code or id at the programme.
    affiliate = Varchar(length=128)
    referral_code = Varchar(length=64)
    #: The programme's own id of the commission, if it keeps one.
    reference = Varchar(length=255, null=True, default=None)
    currency = Varchar(length=3)
    amount = BigInt()
    reversed_amount = BigInt(default=0)
    #: pending → partially_reversed → reversed.
    state = Varchar(length=24, default="pending")
    created_at = timestamp_now()
    updated_at = timestamp_now()
