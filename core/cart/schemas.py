"""What the storefront API reads and writes about carts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, UnsetType

from core.kernel.addresses import Address
from core.kernel.validation import LocaleCode

Quantity = Annotated[int, msgspec.Meta(ge=1, le=999)]
Id = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Email = Annotated[
    str,
    msgspec.Meta(
        max_length=254, pattern=r"^[^@\s\x00-\x1f]{1,64}@[^@\s\x00-\x1f]+\.[^@\s\x00-\x1f]+$"
    ),
]
#: A KOL's referral code: 1-64 letters, digits, ``_`` or ``-`` (the lookahead refuses a
#: trailing newline, which Python's ``$`` would let through).
ReferralCode = Annotated[
    str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+(?!\n)$")
]
MAX_LINES = 100


class LineWrite(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A variant to put in the cart (added to its line when it has one)."""

    variant_id: Id
    quantity: Quantity


class CartCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A new cart: the region by code (else ``X-Region``, else the storefront default)."""

    region: Annotated[str, msgspec.Meta(max_length=32)] | None = None
    locale: LocaleCode | None = None
    email: Email | None = None
    lines: Annotated[list[LineWrite], msgspec.Meta(max_length=MAX_LINES)] = []


class CartUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Changes to a cart; ``null`` clears an address or the referral code."""

    email: Email | UnsetType = UNSET
    locale: LocaleCode | UnsetType = UNSET
    shipping_address: Address | UnsetType | None = UNSET
    billing_address: Address | UnsetType | None = UNSET
    #: The code of the KOL who referred the shopper; copied onto the order.
    referral_code: ReferralCode | UnsetType | None = UNSET


class LineUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A line's new quantity."""

    quantity: Quantity


class ShippingMethodWrite(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The shipping option chosen, as ``GET …/shipping-options`` listed it."""

    provider: Id
    option_id: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


class ShippingMethod(msgspec.Struct, kw_only=True):
    """The cart's chosen way to ship."""

    provider: str
    option_id: str
    name: str
    amount: int


class ShippingOptionRead(msgspec.Struct, kw_only=True):
    """An offered way to ship the cart."""

    provider: str
    option_id: str
    name: str
    amount: int
    formatted: str
    min_days: int | None = None
    max_days: int | None = None


class CartLineRead(msgspec.Struct, kw_only=True):
    """A line with its amounts in minor units (``total`` includes tax when the region adds it)."""

    id: str
    variant_id: str
    product_id: str
    sku: str
    title: str
    options: dict[str, str]
    quantity: int
    unit_price: int
    subtotal: int
    discount: int
    tax: int
    tax_rate: str
    total: int


class CartRegion(msgspec.Struct, kw_only=True):
    """The cart's region."""

    id: str
    code: str
    currency: str
    tax_inclusive: bool


class CartRead(msgspec.Struct, kw_only=True):
    """A cart as the storefront sees it. Amounts are integer minor units.

    ``subtotal - discount_total + shipping_total + tax_total (when the region
    adds tax) == total``; in tax-inclusive regions ``tax_total`` is the tax
    contained in the prices.
    """

    id: str
    status: str
    region: CartRegion
    currency: str
    locale: str
    email: str | None
    customer_id: str | None
    shipping_address: Address | None
    billing_address: Address | None
    shipping_method: ShippingMethod | None
    referral_code: str | None
    lines: list[CartLineRead]
    subtotal: int
    discount_total: int
    shipping_total: int
    tax_total: int
    total: int
    #: The amounts above formatted for the cart's locale.
    formatted: dict[str, str]
    order_id: str | None
    version: int
    created_at: datetime
    updated_at: datetime


def to_json(value: Any) -> Any:
    """A Struct (or None) as the JSON-ready value stored in a JSON column."""
    return None if value is None else msgspec.to_builtins(value)


class CartLineSummary(msgspec.Struct, kw_only=True):
    """A line as the admin's cart listing shows it."""

    id: str
    variant_id: str
    quantity: int
    unit_price: int
    total: int


class CartSummary(msgspec.Struct, kw_only=True):
    """A cart as the admin's listing shows it (open carts are possible abandoned checkouts)."""

    id: str
    status: str
    region_id: str
    currency: str
    email: str | None
    customer_id: str | None
    lines: list[CartLineSummary]
    total: int
    order_id: str | None
    created_at: datetime
    updated_at: datetime
