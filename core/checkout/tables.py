"""Saved responses of idempotent requests."""

from __future__ import annotations

from piccolo.columns import ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from core.db.columns import id_column, timestamp_now
from core.db.engine import UNBOUND
from core.stores.tables import Store


class IdempotencyKey(Table, tablename="idempotency_keys", db=UNBOUND):
    """One ``Idempotency-Key`` of one store: the request it was first used for and its response."""

    caravan_unique = (("store", "key"),)

    id = id_column()
    store = ForeignKey(Store, on_delete=OnDelete.cascade, null=False)
    key = Varchar(length=255)
    #: SHA-256 of method, path and body of the first request.
    fingerprint = Varchar(length=64)
    #: in_flight → done.
    state = Varchar(length=16, default="in_flight")
    #: While in flight: when another request may take the key over (the first one crashed).
    locked_until = Timestamptz()
    status_code = Integer(default=0)
    content_type = Varchar(length=100, default="")
    body = Text(default="")
    created_at = timestamp_now()
    expires_at = Timestamptz(index=True)
