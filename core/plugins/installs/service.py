"""Installing plugins in a store, and what an installation allows.

Installing grants the permissions the plugin's manifest asks for (the
installing token must hold them itself) and records the version. Only an
installed plugin's providers can be activated in the store's regions.
Uninstalling removes those activations, and is refused while one of them is
the only provider of its kind in a region, unless forced.
"""

from __future__ import annotations

from typing import Any

from core.auth.service import check_grantable
from core.db.engine import (
    advisory_lock,
    fetch,
    insert,
    is_unique_violation,
    now,
    select,
    sql_values,
    transaction,
    write,
)
from core.events import outbox
from core.kernel.errors import CaravanError
from core.kernel.ids import new_id
from core.kernel.scope import Cached, app_scope
from core.plugins.current import current_host
from core.plugins.installs import errors
from core.plugins.installs.schemas import Installation, InstallRequest, PluginInStore
from core.plugins.installs.tables import StorePlugin
from core.plugins.manifests import PluginDescription
from core.providers import runtime as providers
from core.providers.registry import provider_registry


def _names(default_plugins: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in default_plugins.split(",") if name.strip())


def default_plugins() -> tuple[str, ...]:
    """The plugins new stores have installed (the settings' ``default_plugins``)."""
    return _names(app_scope().settings.default_plugins)


def available(package: str) -> PluginDescription:
    """The deployment's plugin whose package is ``package``, else a 404 problem."""
    for description in current_host().descriptions.values():
        if description.manifest.name == package:
            return description
    raise CaravanError(errors.PLUGIN_NOT_AVAILABLE, package=package)


def package_of_provider(kind: str, code: str) -> str | None:
    """The package of the plugin that registered provider ``kind``/``code``."""
    owner = provider_registry().owners.get((kind, code))
    description = current_host().descriptions.get(owner) if owner else None
    return description.manifest.name if description else None


def _installation(row: dict[str, Any]) -> Installation:
    return Installation(
        package=row["package"],
        plugin=row["plugin"],
        version=row["version"],
        permissions=row["permissions"],
        installed_at=row["installed_at"],
    )


async def _row(store_id: str, package: str) -> dict[str, Any] | None:
    """The store's installation row of ``package`` (installed or not), if any."""
    rows = await select(StorePlugin, "store = {} AND package = {}", store_id, package)
    return rows[0] if rows else None


async def installations(store_id: str) -> list[Installation]:
    """The plugins installed in a store, by package."""
    rows = await select(
        StorePlugin, "store = {} AND uninstalled_at IS NULL ORDER BY package", store_id
    )
    return [_installation(row) for row in rows]


#: The packages installed in each store, read by every storefront capabilities
#: request and changed rarely (this process forgets a store's at once when it
#: changes them, other processes within a second).
_installed: Cached[str, frozenset[str]] = Cached("plugins.installed", ttl=1.0)


async def installed_packages(store_id: str) -> frozenset[str]:
    """The packages installed in a store (see :data:`_installed`)."""

    async def load() -> frozenset[str]:
        return frozenset(i.package for i in await installations(store_id))

    return await _installed.get().get_or_load(store_id, load)


async def plugins_in_store(store_id: str) -> list[PluginInStore]:
    """Every plugin of the deployment, with the store's installation of it."""
    installed = {i.package: i for i in await installations(store_id)}
    found = []
    for _, description in sorted(current_host().descriptions.items()):
        installation = installed.get(description.manifest.name)
        asked = sorted(set(description.manifest.permissions))
        found.append(
            PluginInStore(
                description=description,
                installation=installation,
                needs_grant=installation is not None and installation.permissions != asked,
            )
        )
    return found


async def ever_installed(store_id: str, package: str) -> bool:
    """Whether the store installed ``package`` at some time (it may have uninstalled it)."""
    return await _row(store_id, package) is not None


def _grant(description: PluginDescription, granted: list[str], held: frozenset[str]) -> None:
    requested = sorted(set(description.manifest.permissions))
    if sorted(set(granted)) != requested:
        raise CaravanError(
            errors.PERMISSIONS_NOT_GRANTED,
            package=description.manifest.name,
            requested=", ".join(requested) or "no permissions",
            extra={"requested": requested},
        )
    check_grantable(held, granted)  # a token grants only what it holds


async def install(
    store_id: str, package: str, data: InstallRequest, held: frozenset[str]
) -> Installation:
    """Install a plugin of the deployment in a store, granting its permissions; for
    an installed plugin, record the grants and version again (after an upgrade
    that asks for other permissions, say)."""
    description = available(package)
    _grant(description, data.permissions, held)
    values: dict[str, Any] = {
        "plugin": description.plugin,
        "version": description.manifest.version,
        "permissions": sorted(set(data.permissions)),
        "installed_at": now(),
        "uninstalled_at": None,
    }
    try:
        await _record_install(store_id, package, values)
    except Exception as exc:
        if not is_unique_violation(exc):
            raise
        # A concurrent request installed it first: this one grants again.
        await _record_install(store_id, package, values)
    finally:
        _installed.get().discard(store_id)
    row = await _row(store_id, package)
    assert row is not None
    return _installation(row)


async def _record_install(store_id: str, package: str, values: dict[str, Any]) -> None:
    """Write an installation (a new row, a revived one, or new grants) and, unless it
    was installed already, its ``plugin.installed`` event."""
    async with transaction():
        existing = await _row(store_id, package)
        fresh = existing is None or existing["uninstalled_at"] is not None
        if existing is None:
            await insert(
                StorePlugin,
                [{"id": new_id("splug"), "store": store_id, "package": package, **values}],
            )
        else:
            kept = values if fresh else {**values, "installed_at": existing["installed_at"]}
            await write(
                "UPDATE store_plugins SET plugin = {}, version = {}, permissions = {}, "
                "installed_at = {}, uninstalled_at = {} WHERE id = {}",
                *sql_values(StorePlugin, kept),
                existing["id"],
            )
        if fresh:
            event = {k: values[k] for k in ("version", "permissions")}
            await outbox.emit(store_id, "plugin.installed", {"package": package, **event})


async def install_defaults(store_id: str) -> None:
    """Install the deployment's default plugins in a new store (inside its transaction)."""
    descriptions = current_host().descriptions
    stamp = now()
    await insert(
        StorePlugin,
        [
            {
                "id": new_id("splug"),
                "store": store_id,
                "package": descriptions[name].manifest.name,
                "plugin": name,
                "version": descriptions[name].manifest.version,
                "permissions": sorted(set(descriptions[name].manifest.permissions)),
                "installed_at": stamp,
            }
            for name in default_plugins()
            if name in descriptions
        ],
    )


async def require_installed(store_id: str, kind: str, code: str) -> None:
    """Refuse (409) to use provider ``kind``/``code`` in a store that has not
    installed its plugin. In a transaction, an uninstall of the store waits for it
    to end (so it cannot leave an activation of a plugin it removed)."""
    await advisory_lock(_plugins_of(store_id))
    package = package_of_provider(kind, code)
    row = await _row(store_id, package) if package else None
    if row is None or row["uninstalled_at"] is not None:
        raise CaravanError(errors.PLUGIN_NOT_INSTALLED, package=package or code)


def _plugins_of(store_id: str) -> str:
    """The key that serialises a store's uninstalls with its activations."""
    return f"plugins:{store_id}"


def _sole_providers(
    activations: list[dict[str, Any]], codes: set[tuple[str, str]]
) -> dict[str, list[str]]:
    """Regions (by kind) where the plugin's providers are the only enabled ones."""
    by_region: dict[tuple[str, str], list[tuple[str, bool]]] = {}
    for row in activations:
        key = (row["region_code"], row["kind"])
        by_region.setdefault(key, []).append((row["provider_code"], bool(row["enabled"])))
    sole: dict[str, list[str]] = {}
    for (region, kind), rows in sorted(by_region.items()):
        enabled = [code for code, on in rows if on]
        if enabled and all((kind, code) in codes for code in enabled):
            sole.setdefault(kind, []).append(region)
    return sole


async def uninstall(store_id: str, package: str, *, force: bool = False) -> None:
    """Uninstall a plugin from a store, removing its providers from the store's regions."""
    async with transaction():
        await advisory_lock(_plugins_of(store_id))
        row = await _row(store_id, package)
        if row is None or row["uninstalled_at"] is not None:
            raise CaravanError(errors.INSTALLATION_NOT_FOUND, package=package)
        codes = {key for key, owner in provider_registry().owners.items() if owner == row["plugin"]}
        activations = await fetch(
            "SELECT p.region, r.code AS region_code, p.kind, p.provider_code, p.enabled "
            "FROM region_providers p JOIN regions r ON r.id = p.region WHERE p.store = {}",
            store_id,
        )
        sole = _sole_providers(activations, codes)
        if sole and not force:
            kind, regions = next(iter(sole.items()))
            raise CaravanError(
                errors.PLUGIN_IN_USE,
                package=package,
                kind=kind,
                regions=", ".join(regions),
                extra={"regions": sole},
            )
        mine = [a for a in activations if (a["kind"], a["provider_code"]) in codes]
        for kind, code in sorted({(a["kind"], a["provider_code"]) for a in mine}):
            await write(
                "DELETE FROM region_providers "
                "WHERE store = {} AND kind = {} AND provider_code = {}",
                store_id,
                kind,
                code,
            )
        await write("UPDATE store_plugins SET uninstalled_at = {} WHERE id = {}", now(), row["id"])
        await outbox.emit(
            store_id,
            "plugin.uninstalled",
            {"package": package, "regions": sorted({a["region_code"] for a in mine})},
        )
    _installed.get().discard(store_id)
    for region in {a["region"] for a in mine}:
        providers.forget(region)
