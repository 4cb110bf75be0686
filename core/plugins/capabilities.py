"""Storefront capabilities: what plugins let a theme show.

A plugin returns :class:`Capability` objects from the
``register_storefront_capabilities`` hook (once, at start-up): a payment
badge, a "pay in instalments" note under the price, a loyalty widget… A
storefront reads ``GET /store/capabilities`` for its region and renders what
it knows how to: the capabilities of the plugins its store installed, less
those tied to a provider that is not active in the region.

Example::

    @hookimpl
    def register_storefront_capabilities():
        return [
            Capability(
                code="ovo.pay_button",
                title="Pay with OVO",
                provider="payment:ovo",
                data={"logo": "https://cdn.example.com/ovo.svg"},
            )
        ]
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Final, get_args

import msgspec
from litestar import Request, get

from core.plugins.installs import service as installs
from core.plugins.manifests import PluginError
from core.providers import runtime as providers
from core.providers.schemas import ProviderKind
from core.stores.context import RegionParam, Shopper, shopper

_CODE: Final = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]{0,63}$")
_PROVIDER: Final = re.compile(rf"^({'|'.join(get_args(ProviderKind))}):[a-z][a-z0-9_]{{0,63}}$")


class Capability(msgspec.Struct, frozen=True, kw_only=True):
    """Something a storefront theme can show, declared by a plugin."""

    #: ``<plugin>.<name>``, unique on the deployment, e.g. ``ovo.pay_button``.
    code: str
    title: str
    description: str = ""
    #: ``kind:code`` of the provider it belongs to: shown only in the regions where
    #: that provider is active. Empty: wherever the plugin is installed.
    provider: str = ""
    #: What the theme needs to render it (JSON values: a logo URL, a colour…).
    data: dict[str, Any] = {}


class StoreCapability(msgspec.Struct, frozen=True, kw_only=True):
    """A capability as the storefront API shows it."""

    code: str
    #: The package of the plugin it comes from.
    plugin: Annotated[str, msgspec.Meta(description="The plugin's package.")]
    title: str
    description: str
    provider: str
    data: dict[str, Any]


def collect(registered: list[tuple[str, Any]], packages: dict[str, str]) -> list[StoreCapability]:
    """Every capability the plugins returned from ``register_storefront_capabilities``
    (``(plugin, returned)`` pairs), checked: a bad one fails start-up naming its
    plugin. ``packages`` maps plugin names to packages."""
    found: dict[str, StoreCapability] = {}
    for plugin, returned in registered:
        for item in returned or []:
            if not isinstance(item, Capability):
                raise PluginError(
                    f"plugin {plugin!r}: register_storefront_capabilities returned {item!r}, "
                    "not a core.plugins.Capability"
                )
            if not _CODE.match(item.code):
                raise PluginError(
                    f"plugin {plugin!r}: capability code {item.code!r} must read "
                    "'<plugin>.<name>' in lowercase letters, digits and '_'"
                )
            if item.provider and not _PROVIDER.match(item.provider):
                raise PluginError(
                    f"plugin {plugin!r}: capability {item.code!r} names provider "
                    f"{item.provider!r}; write it as 'kind:code', e.g. 'payment:ovo'"
                )
            if item.code in found:
                raise PluginError(
                    f"plugin {plugin!r}: capability code {item.code!r} is taken by "
                    f"{found[item.code].plugin!r}; choose another"
                )
            try:
                data = msgspec.json.decode(msgspec.json.encode(item.data))
            except (TypeError, msgspec.EncodeError) as exc:
                raise PluginError(
                    f"plugin {plugin!r}: the data of capability {item.code!r} is not JSON: {exc}"
                ) from None
            found[item.code] = StoreCapability(
                code=item.code,
                plugin=packages.get(plugin, plugin),
                title=item.title,
                description=item.description,
                provider=item.provider,
                data=data,
            )
    return sorted(found.values(), key=lambda c: c.code)


async def for_shopper(shopper: Shopper, everything: list[StoreCapability]) -> list[StoreCapability]:
    """Of ``everything`` the application's plugins register, what a storefront shows
    in the shopper's region."""
    if not everything:
        return []
    installed = await installs.installed_packages(shopper.context.store_id)
    kinds = {c.provider.partition(":")[0] for c in everything if c.provider}
    active = {
        f"{kind}:{provider.code}"
        for kind in kinds
        for provider in await providers.active(shopper.region.id, kind)
    }
    return [
        c for c in everything if c.plugin in installed and (not c.provider or c.provider in active)
    ]


@get("/store/capabilities", operation_id="storeListCapabilities", tags=["store"])
async def store_capabilities(
    request: Request[Any, Any, Any], region: RegionParam = None
) -> list[StoreCapability]:
    """What the store's plugins let the theme show in the region: payment badges,
    widgets… (see ``register_storefront_capabilities``)."""
    everything = request.app.state.plugins.capabilities
    return await for_shopper(await shopper(request, region), everything)


STORE_ROUTES = [store_capabilities]
