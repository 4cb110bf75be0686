"""The payment provider contract.

The backend never sees card data: a provider opens a *session* with its
service for an amount, tells the storefront what to do next (nothing, follow
a redirect, or confirm with a client secret in the provider's own UI), and
later reports the session's state. The checkout trusts only that report: an
order is marked paid when the provider says the money is captured, never on
the storefront's word.

Refusals (declined, expired) are returned states; exceptions mean a bug or an
outage, and the checkout answers 503 with ``Retry-After``. Every method that
moves money receives an idempotency key, to pass on to the provider's API, so
a retried call never charges or refunds twice.

Example::

    class CashOnDelivery(PaymentProvider):
        code = "cod"
        name = "Cash on delivery"
        manual = True

        class Config(msgspec.Struct, forbid_unknown_fields=True):
            pass

        async def create_session(self, request):
            return PaymentSession(reference=f"cod_{request.cart_id}", status="pending")
        ...
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar, Literal

import msgspec

from core.providers import Provider

#: pending: waits for the customer or the merchant; requires_action: the
#: customer must confirm (3-D Secure, wallet redirect); authorized: the money
#: is held; captured: the money is taken; failed / canceled: no money moves.
PaymentStatus = Literal[
    "pending", "requires_action", "authorized", "captured", "failed", "canceled"
]


class NextAction(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """What the storefront does after opening a session."""

    type: Literal["none", "redirect", "client_secret"] = "none"
    redirect_url: str | None = None
    client_secret: str | None = None
    #: Human instructions (bank transfer details, "pay the courier"), already localised.
    instructions: str | None = None


class PaymentSessionRequest(msgspec.Struct, frozen=True, kw_only=True):
    """What a provider opens a session for."""

    store_id: str
    cart_id: str
    amount: int
    currency: str
    email: str | None = None
    locale: str | None = None
    return_url: str | None = None
    #: Pass this on to the provider's API: a retried call must not open a second payment.
    idempotency_key: str
    metadata: dict[str, str] = {}


class PaymentSession(msgspec.Struct, frozen=True, kw_only=True):
    """An opened session: the provider's reference and its state."""

    reference: str
    status: PaymentStatus
    next_action: NextAction = NextAction()
    #: Provider data to keep with the payment (never secrets).
    data: dict[str, Any] = {}


class PaymentState(msgspec.Struct, frozen=True, kw_only=True):
    """The provider's current view of a payment, in minor units."""

    status: PaymentStatus
    amount: int
    captured: int = 0
    refunded: int = 0
    #: Why a payment failed, in the provider's words (shown to the merchant).
    failure_reason: str | None = None


class RefundResult(msgspec.Struct, frozen=True, kw_only=True):
    """A refund: its provider reference and whether it went through."""

    reference: str
    status: Literal["succeeded", "pending", "failed"]
    failure_reason: str | None = None


class PaymentProvider(Provider):
    """Takes payments in the regions it is activated for."""

    kind = "payment"
    #: True when the merchant confirms payment by hand (bank transfer, cash on
    #: delivery): the order is placed unpaid and waits for "mark paid".
    manual: ClassVar[bool] = False

    @abstractmethod
    async def create_session(self, request: PaymentSessionRequest) -> PaymentSession:
        """Open a payment of ``request.amount`` and say what the storefront does next."""

    @abstractmethod
    async def retrieve(self, reference: str) -> PaymentState:
        """Return the payment's state as the provider knows it now."""

    @abstractmethod
    async def capture(self, reference: str, amount: int, idempotency_key: str) -> PaymentState:
        """Capture ``amount`` of an authorized payment (manual providers: record it as received)."""

    @abstractmethod
    async def refund(
        self, reference: str, amount: int, idempotency_key: str, reason: str | None = None
    ) -> RefundResult:
        """Give back ``amount`` of a captured payment."""

    @abstractmethod
    async def cancel(self, reference: str) -> PaymentState:
        """Void a payment that is not captured (a no-op for one already failed or canceled)."""
