"""The providers serving a region at request time, and calling them safely.

:func:`active` turns a region's activations (rows of ``region_providers``) into
configured provider instances, cached per region and rebuilt after every change,
so a request never calls a plugin hook. :func:`call` runs one provider call in
its time budget; a provider that raises or runs over fails the operation closed
with 503, and its answers are checked by the callers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import TypeVar

import msgspec

from core.kernel import secrets
from core.kernel.errors import RETRY_AFTER, CaravanError
from core.kernel.scope import Cached
from core.providers import Provider, errors
from core.providers.registry import provider_registry
from core.stores.tables import RegionProvider

log = logging.getLogger("caravan.providers")
T = TypeVar("T")


#: Configured providers by region id: ``[(kind, code, provider)]`` in priority order.
#: (Trusted for the settings' ``cache_ttl``: other processes' writes.)
_active: Cached[str, list[tuple[str, str, Provider]]] = Cached("providers.active")


def forget(region_id: str) -> None:
    """Drop the cached providers of a region (after its activations changed)."""
    _active.get().discard(region_id)


async def _load(region_id: str) -> list[tuple[str, str, Provider]]:
    rows = (
        await RegionProvider.select(
            RegionProvider.kind, RegionProvider.provider_code, RegionProvider.config
        )
        .where((RegionProvider.region == region_id) & (RegionProvider.enabled == True))  # noqa: E712
        .order_by(RegionProvider.priority)
        .order_by(RegionProvider.id)
        .output(load_json=True)
    )
    found = []
    registry = provider_registry()
    for row in rows:
        cls = registry.get(row["kind"], row["provider_code"])
        if cls is None:
            log.warning(
                "region %s activates %s provider %s, which is not installed; skipped",
                region_id,
                row["kind"],
                row["provider_code"],
            )
            continue
        try:
            raw = secrets.unseal(row["config"], secrets.secret_fields(cls.Config))
            config = msgspec.convert(raw, cls.Config, strict=True)
        except msgspec.ValidationError as exc:
            log.warning(
                "region %s: stored config of %s provider %s is invalid: %s",
                region_id,
                row["kind"],
                row["provider_code"],
                exc,
            )
            continue
        found.append((row["kind"], row["provider_code"], cls(config)))
    return found


async def active(region_id: str, kind: str) -> list[Provider]:
    """The configured providers of ``kind`` enabled in a region, in priority order."""
    providers = await _active.get().get_or_load(region_id, lambda: _load(region_id))
    return [provider for k, _, provider in providers if k == kind]


async def find(region_id: str, kind: str, code: str) -> Provider:
    """The provider ``code`` of ``kind`` enabled in a region, else a 422 problem."""
    for provider in await active(region_id, kind):
        if provider.code == code:
            return provider
    raise CaravanError(errors.PROVIDER_NOT_ACTIVE, kind=kind, code=code)


async def call(provider: Provider, operation: Awaitable[T]) -> T:
    """Await one call of ``provider`` within its time budget.

    A provider that raises (other than a Caravan problem) or runs over its
    budget is logged with its name and fails the operation closed: 503 with
    ``Retry-After``.
    """
    try:
        async with asyncio.timeout(provider.timeout):
            return await operation
    except CaravanError:
        raise
    except Exception as exc:
        log.warning(
            "%s provider %s (plugin %s) failed: %r",
            provider.kind,
            provider.code,
            plugin_of(provider),
            exc,
        )
        raise CaravanError(
            errors.PROVIDER_UNAVAILABLE,
            headers={"retry-after": RETRY_AFTER},
            kind=provider.kind,
            code=provider.code,
        ) from exc


def plugin_of(provider: Provider) -> str:
    """The name of the plugin that registered ``provider`` (for logs)."""
    return provider_registry().owners.get((provider.kind, provider.code), "?")


def bad_answer(provider: Provider, reason: str) -> CaravanError:
    """The error for an impossible provider answer (logged with the provider's name)."""
    log.error(
        "%s provider %s (plugin %s) answered impossibly: %s",
        provider.kind,
        provider.code,
        plugin_of(provider),
        reason,
    )
    return CaravanError(
        errors.PROVIDER_BAD_ANSWER,
        headers={"retry-after": RETRY_AFTER},
        kind=provider.kind,
        code=provider.code,
        reason=reason,
    )
