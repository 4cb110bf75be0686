"""The provider classes every installed plugin registers, by kind and code."""

from __future__ import annotations

import re
from functools import lru_cache

import pluggy

from core.affiliates.providers import AffiliateProvider
from core.payments.providers import PaymentProvider
from core.providers import Provider
from core.shipping.providers import ShippingProvider
from core.tax.providers import TaxProvider

KINDS: dict[str, type[Provider]] = {
    "payment": PaymentProvider,
    "tax": TaxProvider,
    "shipping": ShippingProvider,
    "affiliate": AffiliateProvider,
}
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def _listed(words: list[str]) -> str:
    """``a, b or c``."""
    return " or ".join([", ".join(words[:-1]), words[-1]] if len(words) > 1 else words)


class ProviderRegistryError(RuntimeError):
    """A plugin registered a provider the host cannot accept (start-up fails)."""


class ProviderRegistry:
    """Provider classes by ``(kind, code)``."""

    def __init__(self) -> None:
        self.classes: dict[tuple[str, str], type[Provider]] = {}
        self.owners: dict[tuple[str, str], str] = {}

    def add(self, cls: type[Provider], owner: str) -> None:
        """Register ``cls`` (from plugin ``owner``); a bad or duplicate code raises."""
        kind = next((k for k, base in KINDS.items() if issubclass(cls, base)), None)
        if kind is None:
            raise ProviderRegistryError(
                f"plugin {owner!r}: {cls.__qualname__} is not a {_listed(list(KINDS))} "
                f"provider; subclass {_listed([base.__name__ for base in KINDS.values()])}"
            )
        code = getattr(cls, "code", None)
        if not isinstance(code, str) or not _CODE.match(code):
            raise ProviderRegistryError(
                f"plugin {owner!r}: {cls.__qualname__}.code must be lowercase letters, "
                f"digits and '_' (got {code!r})"
            )
        if not isinstance(getattr(cls, "Config", None), type):
            raise ProviderRegistryError(
                f"plugin {owner!r}: {cls.__qualname__} needs a msgspec Struct named Config"
            )
        key = (kind, code)
        if key in self.classes and (self.classes[key] is not cls or self.owners[key] != owner):
            raise ProviderRegistryError(
                f"plugin {owner!r}: {kind} provider code {code!r} is already registered by "
                f"plugin {self.owners[key]!r}; choose another code"
            )
        self.classes[key] = cls
        self.owners[key] = owner

    def get(self, kind: str, code: str) -> type[Provider] | None:
        """The class registered as ``code`` of ``kind``, or ``None``."""
        return self.classes.get((kind, code))

    def of_kind(self, kind: str) -> list[type[Provider]]:
        """Every class of ``kind``, by code."""
        return [cls for (k, _), cls in sorted(self.classes.items()) if k == kind]


def build_registry(pm: pluggy.PluginManager) -> ProviderRegistry:
    """Collect the provider classes every plugin's hooks return."""
    registry = ProviderRegistry()
    hooks = {
        "payment": pm.hook.register_payment_providers,
        "tax": pm.hook.register_tax_providers,
        "shipping": pm.hook.register_shipping_providers,
        "affiliate": pm.hook.register_affiliate_providers,
    }
    for hook in hooks.values():
        for impl in hook.get_hookimpls():
            owner = impl.plugin_name
            registered: list[type[Provider]] = impl.function() or []  # type: ignore[assignment]
            for cls in registered:
                registry.add(cls, owner)
    return registry


@lru_cache(maxsize=1)
def provider_registry() -> ProviderRegistry:
    """The process-wide registry, built once from the installed plugins."""
    from core.plugins.host import plugin_manager

    return build_registry(plugin_manager())
