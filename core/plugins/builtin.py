"""What the core itself registers, as a plugin would: its tables and event subscribers."""

from __future__ import annotations

from piccolo.table import Table

from core.affiliates.service import SUBSCRIBERS as AFFILIATE_SUBSCRIBERS
from core.affiliates.tables import AffiliateCommission
from core.auth.tables import ApiToken
from core.cart.tables import Cart, CartLine
from core.catalog.tables import (
    Collection,
    CollectionProduct,
    Product,
    ProductPrice,
    ProductTranslation,
    Variant,
    VariantPrice,
)
from core.checkout.tables import IdempotencyKey
from core.customers.tables import Customer, CustomerAddress, CustomerSession, LoginAttempt
from core.events.subscribers import Subscriber
from core.events.tables import OutboxEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from core.inventory.tables import (
    InventoryItem,
    RegionWarehouse,
    Reservation,
    StockLevel,
    StockMovement,
    Warehouse,
)
from core.orders.tables import (
    Fulfillment,
    Order,
    OrderCounter,
    OrderLine,
    OrderNote,
    Return,
)
from core.payments.tables import Payment, Refund
from core.plugins.installs.tables import StorePlugin
from core.plugins.marketplace.tables import Author, AuthorToken, Listing, ListingVersion, Review
from core.stores.tables import Region, RegionCountry, RegionProvider, Store, Storefront


def core_tables() -> list[type[Table]]:
    """Return the core's tables, parents before children."""
    return [
        Store,
        Region,
        RegionCountry,
        RegionProvider,
        Storefront,
        StorePlugin,
        ApiToken,
        Product,
        ProductTranslation,
        Variant,
        VariantPrice,
        ProductPrice,
        Collection,
        CollectionProduct,
        Customer,
        CustomerSession,
        CustomerAddress,
        LoginAttempt,
        Warehouse,
        RegionWarehouse,
        InventoryItem,
        StockLevel,
        Reservation,
        StockMovement,
        Cart,
        CartLine,
        Payment,
        Refund,
        OrderCounter,
        Order,
        OrderLine,
        Fulfillment,
        Return,
        OrderNote,
        IdempotencyKey,
        OutboxEvent,
        WebhookEndpoint,
        WebhookDelivery,
        WebhookAttempt,
        Author,
        AuthorToken,
        Listing,
        ListingVersion,
        Review,
        AffiliateCommission,
    ]


def core_subscribers() -> list[Subscriber]:
    """The core's event subscribers; every outbox worker runs them before the plugins'."""
    return [*AFFILIATE_SUBSCRIBERS]
