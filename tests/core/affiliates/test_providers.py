"""The affiliate kind in the plugin host: plugins register programmes through their hook,
the registry files them as ``affiliate`` providers, and the worker runs the core's
commission subscribers by default."""

from __future__ import annotations

import msgspec
import pytest

from core.affiliates.providers import AffiliateProvider
from core.affiliates.service import SUBSCRIBERS
from core.events.worker import Worker
from core.plugins.current import current_host
from core.plugins.hookspecs import hookimpl
from core.plugins.host import build_registry, create_plugin_manager
from core.providers import Provider
from core.providers.registry import ProviderRegistry, ProviderRegistryError
from tests.core.affiliates import fakes


class ProgrammePlugin:
    @hookimpl
    def register_affiliate_providers(self) -> list[type[AffiliateProvider]]:
        return [fakes.Programme]


def test_the_hook_registers_affiliate_providers() -> None:
    pm = create_plugin_manager(load_entry_points=False)
    pm.register(ProgrammePlugin(), "kol-plugin")
    registry = build_registry(pm)
    assert registry.get("affiliate", "kol_programme") is fakes.Programme
    assert registry.owners[("affiliate", "kol_programme")] == "kol-plugin"
    assert registry.of_kind("affiliate") == [fakes.Programme]
    assert registry.of_kind("payment") == []


def test_a_class_of_no_known_kind_is_refused_with_every_kind_named() -> None:
    class Loyalty(Provider):
        code = "loyalty"
        name = "Loyalty points"

        class Config(msgspec.Struct, forbid_unknown_fields=True):
            pass

    with pytest.raises(ProviderRegistryError) as refused:
        ProviderRegistry().add(Loyalty, "points-plugin")
    assert str(refused.value) == (
        "plugin 'points-plugin': "
        "test_a_class_of_no_known_kind_is_refused_with_every_kind_named.<locals>.Loyalty "
        "is not a payment, tax, shipping or affiliate provider; subclass PaymentProvider, "
        "TaxProvider, ShippingProvider or AffiliateProvider"
    )


async def test_a_worker_runs_the_commission_subscribers_by_default() -> None:
    async with Worker(subscribers=current_host().subscribers) as worker:
        names = [subscriber.name for subscriber in worker.subscribers]
    assert names[: len(SUBSCRIBERS)] == ["affiliate-commissions", "affiliate-reversals"]
    assert [s.events for s in SUBSCRIBERS] == [
        ("order.paid",),
        ("order.refunded", "order.canceled"),
    ]
