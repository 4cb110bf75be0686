"""Activating providers in a store's regions, with a configuration validated
against the provider's ``Config`` (secrets sealed), and listing them.

An activation is a row of ``region_providers``; only a provider of a plugin the
store installed can be activated.
"""

from __future__ import annotations

from typing import Any

import msgspec

from core.db.engine import now, transaction
from core.kernel import secrets
from core.kernel.errors import CaravanError
from core.kernel.ids import new_id
from core.plugins.installs import service as installs
from core.providers import Provider, errors
from core.providers.registry import KINDS, provider_registry
from core.providers.runtime import forget
from core.providers.schemas import ActivationRead, ActivationWrite, ProviderInfo
from core.stores import service as stores
from core.stores.tables import RegionProvider
from core.web.validation import validation_issue


def registered_providers() -> list[ProviderInfo]:
    """Every provider class the installed plugins register."""
    registry = provider_registry()
    return [
        ProviderInfo(
            kind=kind,  # type: ignore[arg-type]
            code=code,
            name=cls.name,
            plugin=registry.owners[(kind, code)],
            config_schema=msgspec.json.schema(cls.Config),
        )
        for (kind, code), cls in sorted(registry.classes.items())
    ]


def _class(kind: str, code: str) -> type[Provider]:
    cls = provider_registry().get(kind, code) if kind in KINDS else None
    if cls is None:
        raise CaravanError(errors.PROVIDER_NOT_FOUND, kind=kind, code=code)
    return cls


def parse_config(cls: type[Provider], raw: dict[str, Any]) -> Any:
    """Validate ``raw`` against ``cls.Config`` (strictly, as request bodies are)."""
    try:
        return msgspec.convert(raw, cls.Config, strict=True)
    except msgspec.ValidationError as exc:
        raise CaravanError(
            errors.INVALID_PROVIDER_CONFIG,
            errors=[validation_issue(exc, "config")],
            kind=cls.kind,
            code=cls.code,
        ) from None


def _read(row: dict[str, Any]) -> ActivationRead:
    cls = provider_registry().get(row["kind"], row["provider_code"])
    secret = secrets.secret_fields(cls.Config) if cls else frozenset()
    return ActivationRead(
        id=row["id"],
        region_id=row["region"],
        kind=row["kind"],
        code=row["provider_code"],
        name=cls.name if cls else row["provider_code"],
        config=secrets.masked(row["config"], secret),
        priority=row["priority"],
        enabled=row["enabled"],
        created_at=row["created_at"],
    )


async def list_activations(store_id: str, region_id: str) -> list[ActivationRead]:
    """The providers activated in a region of ``store_id``, by kind and priority."""
    await stores.get_region(store_id, region_id)
    rows = (
        await RegionProvider.select()
        .where((RegionProvider.store == store_id) & (RegionProvider.region == region_id))
        .order_by(RegionProvider.kind)
        .order_by(RegionProvider.priority)
        .order_by(RegionProvider.id)
        .output(load_json=True)
    )
    return [_read(row) for row in rows]


async def activate(
    store_id: str, region_id: str, kind: str, code: str, data: ActivationWrite
) -> ActivationRead:
    """Activate (or reconfigure) provider ``kind``/``code`` in a region."""
    cls = _class(kind, code)
    config = parse_config(cls, data.config)
    await stores.get_region(store_id, region_id)
    where = (
        (RegionProvider.region == region_id)
        & (RegionProvider.kind == kind)
        & (RegionProvider.provider_code == code)
    )
    async with transaction():
        await installs.require_installed(store_id, kind, code)
        existing = (
            await RegionProvider.select(RegionProvider.id, RegionProvider.config)
            .where(where)
            .output(load_json=True)
            .first()
        )
        stored = secrets.seal(
            msgspec.to_builtins(config),
            secrets.secret_fields(cls.Config),
            existing["config"] if existing else {},
        )
        if existing:
            await RegionProvider.update(
                {
                    RegionProvider.config: stored,
                    RegionProvider.priority: data.priority,
                    RegionProvider.enabled: data.enabled,
                }
            ).where(where)
        else:
            await RegionProvider.insert(
                RegionProvider(
                    id=new_id("rprov"),
                    store=store_id,
                    region=region_id,
                    kind=kind,
                    provider_code=code,
                    config=stored,
                    priority=data.priority,
                    enabled=data.enabled,
                    created_at=now(),
                )
            )
    forget(region_id)
    row = await RegionProvider.select().where(where).output(load_json=True).first()
    assert row is not None
    return _read(row)


async def deactivate(store_id: str, region_id: str, kind: str, code: str) -> None:
    """Remove provider ``kind``/``code`` from a region."""
    _class(kind, code)
    await stores.get_region(store_id, region_id)
    where = (
        (RegionProvider.store == store_id)
        & (RegionProvider.region == region_id)
        & (RegionProvider.kind == kind)
        & (RegionProvider.provider_code == code)
    )
    async with transaction():
        found = await RegionProvider.select(RegionProvider.id).where(where).first()
        if not found:
            raise CaravanError(errors.PROVIDER_NOT_ACTIVE, kind=kind, code=code)
        await RegionProvider.delete().where(where)
    forget(region_id)


async def rotate_secrets() -> int:
    """Re-encrypt every stored secret under the first key of ``CARAVAN_SECRET_KEYS``;
    returns how many activations were rewritten."""
    rows = await RegionProvider.select(
        RegionProvider.id, RegionProvider.region, RegionProvider.config
    ).output(load_json=True)
    done = 0
    for row in rows:
        fresh = secrets.rotated(row["config"])
        if fresh != row["config"]:
            async with transaction():
                await RegionProvider.update({RegionProvider.config: fresh}).where(
                    RegionProvider.id == row["id"]
                )
            forget(row["region"])
            done += 1
    return done
