"""The installations of plugins in stores."""

from __future__ import annotations

from piccolo.columns import JSON, ForeignKey, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from core.db.columns import id_column, timestamp_now
from core.db.engine import UNBOUND
from core.stores.tables import Store


class StorePlugin(Table, tablename="store_plugins", db=UNBOUND):
    """A plugin a store installed (or once installed: ``uninstalled_at`` set).

    The row outlives an uninstall so a store that once used a plugin may
    still review it in the marketplace; installing again revives it.
    """

    caravan_unique = (("store", "package"),)
    caravan_indexes = (("package", "version"),)

    id = id_column()
    store = ForeignKey(Store, on_delete=OnDelete.cascade, null=False, index=True)
    #: The plugin's distribution (its manifest ``name``), e.g. ``caravan-ovo``.
    package = Varchar(length=100)
    #: Its entry-point name on this deployment, e.g. ``ovo``.
    plugin = Varchar(length=100)
    #: The version installed.
    version = Varchar(length=64)
    #: The scopes the store granted (JSON list).
    permissions = JSON(default="[]")
    installed_at = timestamp_now()
    uninstalled_at = Timestamptz(null=True, default=None)
