"""What the admin API reads and writes about providers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

ProviderKind = Literal["payment", "tax", "shipping", "affiliate"]


class ProviderInfo(msgspec.Struct, kw_only=True):
    """An installed provider class: what a store can activate."""

    kind: ProviderKind
    code: str
    name: str
    plugin: str
    #: JSON Schema of the provider's configuration.
    config_schema: dict[str, Any]


class ActivationWrite(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Activate (or reconfigure) a provider in a region."""

    config: Annotated[dict[str, Any], msgspec.Meta(max_length=100)] = {}
    #: Lower first: the tax provider used is the first enabled one; options and
    #: payment methods are listed in this order.
    priority: Annotated[int, msgspec.Meta(ge=0, le=1000)] = 0
    enabled: bool = True


class ActivationRead(msgspec.Struct, kw_only=True):
    """A provider active (or disabled) in a region."""

    id: str
    region_id: str
    kind: ProviderKind
    code: str
    name: str
    config: dict[str, Any]
    priority: int
    enabled: bool
    created_at: datetime
