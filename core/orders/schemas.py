"""What the APIs read and write about orders."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

from core.cart.schemas import ShippingMethod
from core.kernel.addresses import Address
from core.kernel.money import MAX_AMOUNT
from core.kernel.validation import Url
from core.orders.states import OrderStatus


class OrderLineRead(msgspec.Struct, kw_only=True):
    """A frozen order line; amounts in minor units."""

    id: str
    variant_id: str
    product_id: str
    sku: str
    title: str
    variant_title: str
    quantity: int
    unit_price: int
    subtotal: int
    discount: int
    tax: int
    tax_rate: str
    total: int
    fulfilled_quantity: int
    returned_quantity: int
    refunded_quantity: int


class OrderRegion(msgspec.Struct, kw_only=True):
    """The region as it was when the order was placed."""

    id: str
    code: str
    name: str
    currency: str
    tax_inclusive: bool


class OrderRead(msgspec.Struct, kw_only=True):
    """An order. ``subtotal - discount_total + shipping_total + tax_total (when the region
    adds tax) == total``; ``paid_total`` and ``refunded_total`` track the money."""

    id: str
    number: int
    status: OrderStatus
    region: OrderRegion
    customer_id: str | None
    email: str
    locale: str
    currency: str
    tax_inclusive: bool
    shipping_address: Address | None
    billing_address: Address | None
    shipping_method: ShippingMethod | None
    lines: list[OrderLineRead]
    subtotal: int
    discount_total: int
    shipping_total: int
    shipping_tax: int
    tax_total: int
    total: int
    paid_total: int
    refunded_total: int
    payment_provider: str
    #: The code of the KOL who referred the shopper (see ``GET /admin/affiliate-commissions``).
    referral_code: str | None
    placed_at: datetime
    paid_at: datetime | None
    canceled_at: datetime | None
    updated_at: datetime


class OrderPlaced(msgspec.Struct, kw_only=True):
    """The answer of a completed checkout: the order, and the guest's access token (shown once)."""

    order: OrderRead
    access_token: str
    #: What the shopper does next (manual payments: the instructions).
    next_action: dict[str, Any] = {}


# ---------------------------------------------------------------------------
# What the lifecycle operations read and write
# ---------------------------------------------------------------------------

LineId = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Units = Annotated[int, msgspec.Meta(ge=1, le=999)]
Reason = Annotated[str, msgspec.Meta(max_length=500)]
WarehouseId = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
MAX_ORDER_LINES = 250


class LineQuantity(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Units of one order line."""

    line_id: LineId
    quantity: Units


class FulfillmentCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Lines shipped from one warehouse with a carrier and tracking number."""

    warehouse_id: WarehouseId
    carrier: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    tracking_number: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    tracking_url: Url | None = None
    lines: Annotated[list[LineQuantity], msgspec.Meta(min_length=1, max_length=MAX_ORDER_LINES)]


class RefundCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Money to give back through the payment provider.

    ``amount`` (minor units) is required; ``null`` refunds the share of the
    total that ``lines`` are worth. With both, ``amount`` is refunded and
    ``lines`` are recorded as the units it pays for.
    """

    amount: Annotated[int, msgspec.Meta(ge=1, le=MAX_AMOUNT)] | None
    lines: Annotated[list[LineQuantity], msgspec.Meta(max_length=MAX_ORDER_LINES)] = []
    reason: Reason = ""


class ReturnLineWrite(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Units of one line to send back, and why."""

    line_id: LineId
    quantity: Units
    reason: Annotated[str, msgspec.Meta(max_length=200)] = ""


class ReturnCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A return request (RMA) for shipped lines."""

    lines: Annotated[list[ReturnLineWrite], msgspec.Meta(min_length=1, max_length=MAX_ORDER_LINES)]
    note: Annotated[str, msgspec.Meta(max_length=1000)] = ""


class ReturnReceive(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Units of a return that arrived in ``warehouse_id`` (a return may arrive in parts).

    ``restock`` puts them back on hand. ``refund`` refunds their share of the
    total; ``refund_amount`` refunds that amount instead.
    """

    warehouse_id: WarehouseId
    lines: Annotated[list[LineQuantity], msgspec.Meta(min_length=1, max_length=MAX_ORDER_LINES)]
    restock: bool = True
    refund: bool = False
    refund_amount: Annotated[int, msgspec.Meta(ge=1, le=MAX_AMOUNT)] | None = None


class PaymentRead(msgspec.Struct, kw_only=True):
    """A payment of the order, as its provider last reported it."""

    id: str
    provider: str
    reference: str
    status: str
    amount: int
    captured: int
    refunded: int
    currency: str
    created_at: datetime


class RefundRead(msgspec.Struct, kw_only=True):
    """Money given back: ``processing`` while the provider is asked, then ``succeeded``,
    ``pending`` (the provider will settle it), ``failed`` or ``error`` (outcome unknown)."""

    id: str
    payment_id: str
    amount: int
    currency: str
    reference: str
    status: str
    reason: str
    created_at: datetime


class FulfillmentLineRead(msgspec.Struct, kw_only=True):
    """Units of a line in a fulfilment."""

    line_id: str
    quantity: int


class ReturnLineRead(FulfillmentLineRead, kw_only=True):
    """Units of a line in a return, why, and how many of them arrived."""

    reason: str = ""
    received: int = 0


class FulfillmentRead(msgspec.Struct, kw_only=True):
    """Lines shipped together: ``shipped``, then ``delivered``."""

    id: str
    warehouse_id: str
    carrier: str
    tracking_number: str
    tracking_url: str | None
    lines: list[FulfillmentLineRead]
    status: str
    created_at: datetime
    delivered_at: datetime | None


class ReturnRead(msgspec.Struct, kw_only=True):
    """A return: ``requested`` until all its units arrived, then ``received``;
    ``refund_amount`` is what its receipts refunded."""

    id: str
    status: str
    lines: list[ReturnLineRead]
    requested_by: str
    note: str
    warehouse_id: str | None
    restock: bool
    refund_amount: int
    created_at: datetime
    received_at: datetime | None


class TimelineEntry(msgspec.Struct, kw_only=True):
    """One entry of the order's timeline."""

    kind: str
    from_status: str
    to_status: str
    actor: str
    data: dict[str, Any]
    created_at: datetime


class StoreOrder(OrderRead, kw_only=True):
    """An order as its customer sees it: with its shipments and returns."""

    fulfillments: list[FulfillmentRead]
    returns: list[ReturnRead]


class OrderDetail(StoreOrder, kw_only=True):
    """An order as the merchant sees it: money, shipments, returns and the timeline."""

    payments: list[PaymentRead]
    refunds: list[RefundRead]
    timeline: list[TimelineEntry]
