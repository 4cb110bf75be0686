"""The provider classes an application's plugins register, by kind and code.

Data only: the plugin host (:mod:`core.plugins.host`) fills a registry once at
start-up; request-time code reads the current one with :func:`provider_registry`.
"""

from __future__ import annotations

import re
from contextvars import ContextVar

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


#: The registry of the application serving the current request or task (set by
#: ``PluginHost.activate``; a context variable, so two applications share nothing).
CURRENT: ContextVar[ProviderRegistry] = ContextVar("caravan_provider_registry")


def provider_registry() -> ProviderRegistry:
    """The current application's provider registry."""
    try:
        return CURRENT.get()
    except LookupError:
        raise RuntimeError(
            "no provider registry is active: build the application with create_app() "
            "(or activate a PluginHost)"
        ) from None
