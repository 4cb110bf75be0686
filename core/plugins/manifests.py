"""Plugin manifests: what a plugin says of itself, checked at start-up.

Every plugin implements the ``plugin_manifest`` hook and returns a
:class:`Manifest`. The host adds what it knows better than the plugin: the
providers its hooks registered, each with the JSON Schema of its ``Config``.
A plugin without a manifest, with a malformed one, or made for another
Caravan API fails start-up with a message naming the plugin and the fix.

Example::

    from core.plugins.hookspecs import hookimpl
    from core.plugins.manifests import Manifest

    @hookimpl
    def plugin_manifest():
        return Manifest(
            name="caravan-ovo",
            version="1.2.0",
            author="Example Payments Ltd",
            summary="OVO e-wallet payments for Indonesia",
            license="MIT",
            caravan_api=">=1.0,<2",
            countries=["ID"],
            permissions=["orders:read"],
        )
"""

from __future__ import annotations

import re
from typing import Any, Final, Literal

import msgspec
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from core.auth.scopes import ALL_SCOPES
from core.kernel.validation import countries
from core.plugins.hookspecs import API_VERSION
from core.providers.registry import ProviderRegistry

_NAME: Final = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
_REGION: Final = re.compile(r"^[A-Za-z0-9 _-]{1,40}$")


class Manifest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What a plugin declares about itself (the ``plugin_manifest`` hook returns one)."""

    #: The distribution's name, e.g. ``caravan-ovo``.
    name: str
    #: Its version (PEP 440), e.g. ``1.2.0``.
    version: str
    author: str
    #: One line: what it adds and for whom.
    summary: str
    #: An SPDX identifier or a licence name.
    license: str
    #: The Caravan API versions it supports (a PEP 440 specifier), e.g. ``>=1.0,<2``.
    caravan_api: str
    homepage: str = ""
    #: ISO 3166-1 alpha-2 codes of the countries it is meant for (none: anywhere).
    countries: list[str] = []
    #: Names of the markets it is meant for, e.g. ``EU`` or ``Southeast Asia``.
    regions: list[str] = []
    #: The staff scopes a store grants when it installs the plugin, e.g. ``orders:read``.
    permissions: list[str] = []


class PluginProvider(msgspec.Struct, frozen=True, kw_only=True):
    """A provider a plugin adds, with the JSON Schema of its configuration."""

    kind: str
    code: str
    name: str
    config_schema: dict[str, Any]


#: What a plugin can add, as the marketplace files it.
PluginKind = Literal["payment", "tax", "shipping", "affiliate", "localisation"]


class PluginDescription(msgspec.Struct, frozen=True, kw_only=True):
    """A plugin as the host knows it: its manifest and the providers it registered."""

    plugin: str
    manifest: Manifest
    providers: list[PluginProvider]
    #: What it adds: its providers' kinds, and ``localisation`` for translations.
    kinds: list[PluginKind] = []


class PluginError(RuntimeError):
    """A plugin the host cannot start with; the message names it and the fix."""


def problems(manifest: Manifest, *, here: bool = True) -> list[str]:
    """What is wrong with ``manifest`` (empty when nothing is); with ``here``, a
    Caravan API range that excludes this deployment's is wrong too."""
    found: list[str] = []
    if not _NAME.match(manifest.name):
        found.append(f"name {manifest.name!r} must be lowercase letters, digits, '.', '_' or '-'")
    try:
        Version(manifest.version)
    except InvalidVersion:
        found.append(f"version {manifest.version!r} is not a PEP 440 version (e.g. 1.2.0)")
    for field in ("author", "summary", "license"):
        value = getattr(manifest, field)
        if not value.strip() or len(value) > 200:
            found.append(f"{field} must be 1-200 characters")
    if manifest.homepage and not manifest.homepage.startswith(("https://", "http://")):
        found.append(f"homepage {manifest.homepage!r} must be an http(s) URL")
    unknown = [c for c in manifest.countries if c not in countries()]
    if unknown:
        found.append(f"countries {unknown} are not ISO 3166-1 alpha-2 codes")
    bad_regions = [r for r in manifest.regions if not _REGION.match(r)]
    if bad_regions:
        found.append(f"regions {bad_regions} must be 1-40 letters, digits, spaces or '-'")
    unknown = [p for p in manifest.permissions if p not in ALL_SCOPES]
    if unknown:
        found.append(
            f"permissions {unknown} are unknown; use scopes such as {sorted(ALL_SCOPES)[:3]}"
        )
    try:
        supported = SpecifierSet(manifest.caravan_api)
    except InvalidSpecifier:
        found.append(
            f"caravan_api {manifest.caravan_api!r} is not a version range (e.g. '>=1.0,<2')"
        )
    else:
        if here and not supported.contains(API_VERSION):
            found.append(
                f"it supports Caravan API {manifest.caravan_api} but this deployment provides "
                f"{API_VERSION}; install a release of the plugin made for API {API_VERSION}"
            )
    return found


def _providers(registry: ProviderRegistry, plugin: str) -> list[PluginProvider]:
    found = []
    for (kind, code), owner in sorted(registry.owners.items()):
        if owner != plugin:
            continue
        cls = registry.classes[kind, code]
        found.append(
            PluginProvider(
                kind=kind,
                code=code,
                name=str(getattr(cls, "name", code)),
                config_schema=msgspec.json.schema(cls.Config),
            )
        )
    return found


def describe(
    plugins: list[str],
    manifests: dict[str, Any],
    translating: set[str],
    registry: ProviderRegistry,
) -> dict[str, PluginDescription]:
    """Every plugin (by name, as ``plugins`` lists them) with its checked manifest
    (what its ``plugin_manifest`` hook returned, in ``manifests``) and the
    providers it put in ``registry``; ``translating`` names the plugins that
    register translations.

    Raises :class:`PluginError` for a plugin without a manifest or with a bad
    one, and for two plugins with one name.
    """
    out: dict[str, PluginDescription] = {}
    names: dict[str, str] = {}
    for plugin in plugins:
        if plugin not in manifests:
            raise PluginError(
                f"plugin {plugin!r} has no manifest: implement the plugin_manifest hook "
                "returning core.plugins.Manifest(name=..., version=..., author=..., "
                "summary=..., license=..., caravan_api=...)"
            )
        manifest = manifests[plugin]
        if not isinstance(manifest, Manifest):
            raise PluginError(
                f"plugin {plugin!r}: plugin_manifest returned {type(manifest).__name__}, "
                "not a core.plugins.Manifest"
            )
        found = problems(manifest)
        if found:
            raise PluginError(f"plugin {plugin!r} has a bad manifest: " + "; ".join(found))
        if manifest.name in names:
            raise PluginError(
                f"plugins {names[manifest.name]!r} and {plugin!r} both call themselves "
                f"{manifest.name!r}; rename one"
            )
        names[manifest.name] = plugin
        providers = _providers(registry, plugin)
        kinds = {p.kind for p in providers} | ({"localisation"} if plugin in translating else set())
        out[plugin] = PluginDescription(
            plugin=plugin,
            manifest=manifest,
            providers=providers,
            kinds=sorted(kinds),  # type: ignore[arg-type]
        )
    return out
