"""Providers: the base of every provider contract and the registry of provider classes.

Plugins register provider *classes* at start-up (``register_payment_providers``,
``register_tax_providers``, ``register_shipping_providers``,
``register_affiliate_providers``). Which provider serves which region, and
with which configuration, is data: a row of ``region_providers`` per
activation. :func:`core.providers.runtime.active` turns those rows into
configured provider instances, cached per region, so no hook is called while
a request is handled.
"""

from __future__ import annotations

from abc import ABC
from typing import Any, ClassVar

import msgspec


class Provider(ABC):
    """The base of every provider: a stable ``code``, a ``Config`` Struct, async methods.

    An instance is made per activation (a region's row) with its validated
    configuration in :attr:`config`. Calls are wrapped by the services in a
    time budget of :attr:`timeout` seconds; a provider that raises or runs
    over makes the operation fail closed with 503.
    """

    #: ``payment``, ``tax``, ``shipping`` or ``affiliate``; set by each contract.
    kind: ClassVar[str]
    #: A stable, unique code (``manual``, ``rate_table``…); lowercase, digits, ``_``.
    code: ClassVar[str]
    #: A human name for the admin.
    name: ClassVar[str]
    #: The provider's configuration, validated when a store activates it.
    Config: ClassVar[type[msgspec.Struct]]
    #: Seconds one call may take.
    timeout: ClassVar[float] = 3.0

    def __init__(self, config: Any) -> None:
        self.config = config

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.kind}:{self.code}>"
