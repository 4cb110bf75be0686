"""Every hook a Caravan plugin can implement.

Hooks are synchronous and are called once, at start-up: they *register*
things (tables, migrations, routes, translations, CLI commands) and return
them. Nothing here runs while a request is handled.

A plugin is a module (or class) registered under the ``caravan.plugins``
entry-point group whose functions carry :data:`hookimpl`::

    from caravan_example import tables
    from core.plugins import hookimpl

    @hookimpl
    def register_tables():
        return [tables.LoyaltyCard]
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click
    from piccolo.table import Table

    from core.affiliates.providers import AffiliateProvider
    from core.payments.providers import PaymentProvider
    from core.plugins.capabilities import Capability
    from core.plugins.manifests import Manifest
    from core.shipping.providers import ShippingProvider
    from core.tax.providers import TaxProvider

#: The core's API version; plugins declare the range they support.
API_VERSION = "1.0"

hookspec = pluggy.HookspecMarker("caravan")
hookimpl = pluggy.HookimplMarker("caravan")


# ---------------------------------------------------------------------------
# Identity
# ---------------------------------------------------------------------------


@hookspec(firstresult=True)
def plugin_manifest() -> Manifest:  # type: ignore[empty-body]
    """Return what the plugin declares about itself (every plugin must).

    The host checks it at start-up — a PEP 440 version, a Caravan API range
    that includes this deployment's :data:`API_VERSION`, ISO country codes,
    known permission scopes — and adds the providers the plugin's hooks
    register, with the JSON Schema of each one's ``Config``.

    :returns: a :class:`core.plugins.Manifest`.

    Example::

        @hookimpl
        def plugin_manifest():
            return Manifest(
                name="caravan-ovo", version="1.2.0", author="Example Payments Ltd",
                summary="OVO e-wallet payments for Indonesia", license="MIT",
                caravan_api=">=1.0,<2", countries=["ID"], permissions=["orders:read"],
            )

    .. versionadded:: 1.0
    """


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------


@hookspec
def register_tables() -> list[type[Table]]:  # type: ignore[empty-body]
    """Return the Piccolo tables this plugin owns.

    They are bound to the configured engine at start-up and appear in the
    Alembic metadata, so ``alembic revision --autogenerate`` sees them.

    :returns: a list of Piccolo ``Table`` subclasses.

    Example::

        @hookimpl
        def register_tables():
            return [GiftCard]

    .. versionadded:: 1.0
    """


@hookspec
def register_migrations() -> Path | None:
    """Return the folder of this plugin's Alembic versions (its own branch).

    :returns: a directory path, or ``None``.

    Example::

        @hookimpl
        def register_migrations():
            return Path(__file__).parent / "migrations"

    .. versionadded:: 1.0
    """


# ---------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------


@hookspec
def register_routes() -> list[Any]:  # type: ignore[empty-body]
    """Return Litestar route handlers, controllers or routers to mount.

    :returns: a list of Litestar handlers, ``Controller`` classes or ``Router``s.

    Example::

        @hookimpl
        def register_routes():
            return [LoyaltyController]

    .. versionadded:: 1.0
    """


# ---------------------------------------------------------------------------
# Providers
# ---------------------------------------------------------------------------


@hookspec
def register_payment_providers() -> list[type[PaymentProvider]]:  # type: ignore[empty-body]
    """Return the payment provider classes this plugin adds.

    A store activates a provider per region (with a configuration validated
    against its ``Config``); the checkout then offers it in that region.

    :returns: a list of :class:`core.payments.providers.PaymentProvider` subclasses.

    Example::

        @hookimpl
        def register_payment_providers():
            return [BankTransfer]

    .. versionadded:: 1.0
    """


@hookspec
def register_tax_providers() -> list[type[TaxProvider]]:  # type: ignore[empty-body]
    """Return the tax provider classes this plugin adds.

    :returns: a list of :class:`core.tax.providers.TaxProvider` subclasses.

    Example::

        @hookimpl
        def register_tax_providers():
            return [RateTableTax]

    .. versionadded:: 1.0
    """


@hookspec
def register_shipping_providers() -> list[type[ShippingProvider]]:  # type: ignore[empty-body]
    """Return the shipping provider classes this plugin adds.

    :returns: a list of :class:`core.shipping.providers.ShippingProvider` subclasses.

    Example::

        @hookimpl
        def register_shipping_providers():
            return [TableRateShipping]

    .. versionadded:: 1.0
    """


@hookspec
def register_affiliate_providers() -> list[type[AffiliateProvider]]:  # type: ignore[empty-body]
    """Return the affiliate (KOL programme) provider classes this plugin adds.

    A store activates a provider per region; when an order of that region
    placed with a referral code is paid, the provider is asked for the
    commission it earns, which Caravan records and reverses on refunds.

    :returns: a list of :class:`core.affiliates.providers.AffiliateProvider` subclasses.

    Example::

        @hookimpl
        def register_affiliate_providers():
            return [InfluencerProgramme]

    .. versionadded:: 1.0
    """


@hookspec
def register_event_subscribers() -> list[Any]:  # type: ignore[empty-body]
    """Return the event subscribers this plugin adds.

    Subscribers run in the outbox worker, after the transaction that wrote
    the event has committed, at least once per event (so they must be
    idempotent; the event id is stable across retries).

    :returns: a list of :class:`core.events.subscribers.Subscriber`.

    Example::

        @hookimpl
        def register_event_subscribers():
            return [Subscriber("loyalty-points", ("order.paid",), award_points)]

    .. versionadded:: 1.0
    """


# ---------------------------------------------------------------------------
# Storefront
# ---------------------------------------------------------------------------


@hookspec
def register_storefront_capabilities() -> list[Capability]:  # type: ignore[empty-body]
    """Return what this plugin lets a storefront theme show.

    ``GET /store/capabilities`` lists, for the shopper's region, the
    capabilities of the plugins the store installed; one tied to a provider
    (``provider="payment:ovo"``) only where that provider is active. Codes
    read ``<plugin>.<name>`` and are unique on the deployment; ``data`` is
    JSON the theme renders from.

    :returns: a list of :class:`core.plugins.Capability`.

    Example::

        @hookimpl
        def register_storefront_capabilities():
            return [Capability(code="ovo.pay_button", title="Pay with OVO",
                               provider="payment:ovo", data={"logo": LOGO_URL})]

    .. versionadded:: 1.0
    """


# ---------------------------------------------------------------------------
# Localisation
# ---------------------------------------------------------------------------


@hookspec
def register_translations() -> Path | None:
    """Return a ``locales/`` folder (``<lang>/LC_MESSAGES/*.po``) of extra messages.

    Messages a plugin adds (its error codes, say) are looked up there after
    the core's catalogs.

    :returns: a directory path, or ``None``.

    .. versionadded:: 1.0
    """


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


@hookspec
def register_cli_commands(cli: click.Group) -> None:
    """Add commands to the ``caravan`` command line.

    :param cli: the root ``click`` group; call ``cli.command()`` on it.

    Example::

        @hookimpl
        def register_cli_commands(cli):
            @cli.command()
            def loyalty_sync():
                ...

    .. versionadded:: 1.0
    """
