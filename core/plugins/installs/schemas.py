"""What the admin API reads and writes about installed plugins."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from core.plugins.manifests import PluginDescription


class InstallRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Install a plugin of the deployment in the calling store (or grant again)."""

    #: The permissions granted: exactly those the plugin's manifest asks for.
    permissions: Annotated[list[str], msgspec.Meta(max_length=50)] = []


class Installation(msgspec.Struct, kw_only=True):
    """A plugin installed in a store."""

    package: str
    plugin: str
    version: str
    permissions: list[str]
    installed_at: datetime


class PluginInStore(msgspec.Struct, kw_only=True):
    """A plugin of the deployment, and whether the calling store installed it."""

    description: PluginDescription
    installation: Installation | None
    #: Installed, but the plugin (upgraded since) asks for other permissions than the
    #: store granted: grant again with ``PUT /admin/installations/{package}``.
    needs_grant: bool = False
