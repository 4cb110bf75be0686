"""API tokens: the operator's and store staff's secret tokens."""

from __future__ import annotations

from piccolo.columns import JSON, ForeignKey, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from core.db.columns import id_column, timestamp_now
from core.db.engine import UNBOUND
from core.stores.tables import Store


class ApiToken(Table, tablename="api_tokens", db=UNBOUND):
    """A secret bearer token, stored as its SHA-256 hash.

    ``store`` is empty for operator tokens, which manage stores.
    """

    id = id_column()
    store = ForeignKey(Store, on_delete=OnDelete.cascade, null=True, index=True)
    kind = Varchar(length=16)
    name = Varchar(length=200)
    token_hash = Varchar(length=64, unique=True)
    token_hint = Varchar(length=16)
    scopes = JSON(default="[]")
    created_at = timestamp_now()
    expires_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
