"""The state of manual payments, kept by reference across processes and restarts."""

from __future__ import annotations

from piccolo.columns import BigInt, ForeignKey, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from core.plugins import ID_LENGTH, UNBOUND, id_column, timestamp_now


class ManualPaymentRecord(Table, tablename="manual_payments", db=UNBOUND):
    """A payment the merchant confirms by hand; its id is the provider reference."""

    caravan_unique = (("store_id", "idempotency_key"),)

    id = id_column()
    store_id = Varchar(length=ID_LENGTH)
    cart_id = Varchar(length=ID_LENGTH)
    #: ``bank_transfer`` or ``cash_on_delivery``.
    kind = Varchar(length=32)
    #: pending → captured (marked paid), or canceled.
    status = Varchar(length=16)
    amount = BigInt()
    currency = Varchar(length=3)
    captured = BigInt(default=0)
    refunded = BigInt(default=0)
    #: The key the session was opened with: a retried opening finds this row.
    idempotency_key = Varchar(length=255)
    created_at = timestamp_now()
    updated_at = timestamp_now()


class ManualPaymentOperation(Table, tablename="manual_payment_operations", db=UNBOUND):
    """A capture or refund, recorded once per idempotency key; a refund's id is its reference."""

    caravan_unique = (("payment", "kind", "idempotency_key"),)

    id = id_column()
    payment = ForeignKey(ManualPaymentRecord, on_delete=OnDelete.cascade, null=False)
    #: ``capture`` or ``refund``.
    kind = Varchar(length=16)
    idempotency_key = Varchar(length=255)
    amount = BigInt()
    #: ``succeeded`` or ``failed`` (refused: more than is left, or a dead payment).
    status = Varchar(length=16)
    failure_reason = Varchar(length=200, default="")
    reason = Varchar(length=500, default="")
    created_at = timestamp_now()
