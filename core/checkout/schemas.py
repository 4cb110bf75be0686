"""What the storefront sends and reads during checkout."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from core.kernel.validation import Url
from core.payments.providers import NextAction, PaymentStatus


class PaymentSessionCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Open a payment with one of the region's payment providers."""

    provider: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    #: Where a redirecting provider sends the shopper back to.
    return_url: Url | None = None


class PaymentSessionRead(msgspec.Struct, kw_only=True):
    """An opened payment: its state and what the storefront does next."""

    id: str
    cart_id: str
    provider: str
    status: PaymentStatus
    amount: int
    currency: str
    next_action: NextAction
    #: Until when the cart's stock is held for this payment.
    reserved_until: datetime


class PaymentMethodRead(msgspec.Struct, kw_only=True):
    """A payment provider the shopper may choose in the cart's region."""

    provider: str
    name: str
    manual: bool
