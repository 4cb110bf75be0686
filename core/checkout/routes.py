"""Storefront routes of checkout: payment methods, payment sessions, completing a cart."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import FromPath, HeaderParameter, JSONBody

from core.checkout import service
from core.checkout.idempotency import answer, idempotent
from core.checkout.schemas import PaymentMethodRead, PaymentSessionCreate, PaymentSessionRead
from core.orders.schemas import OrderPlaced
from core.stores.context import storefront

AnyRequest = Request[Any, Any, Any]
IdempotencyKeyHeader = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        max_length=255,
        description="Retries with the same key and body get the first answer back.",
        examples=[Example(value="9b2f1c6e-2f4a-4d1e-9a55-0c7c2a9f6e1b")],
    ),
]


class CheckoutController(Controller):
    """Shoppers: paying for a cart and placing the order."""

    path = "/store/carts/{cart_id:str}"
    tags = ["store: checkout"]

    @get("/payment-methods", operation_id="storeListPaymentMethods")
    async def payment_methods(
        self, request: AnyRequest, cart_id: FromPath[str]
    ) -> list[PaymentMethodRead]:
        """The payment providers the shopper can choose in the cart's region."""
        context = await storefront(request)
        return await service.payment_methods(context.store_id, cart_id)

    @post(
        "/payment-sessions",
        operation_id="storeOpenPaymentSession",
        responses={201: ResponseSpec(PaymentSessionRead, description="The opened payment")},
    )
    async def open_payment_session(
        self,
        request: AnyRequest,
        cart_id: FromPath[str],
        data: JSONBody[PaymentSessionCreate],
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[bytes]:
        """Re-price the cart, hold its stock (15 minutes) and open a payment.

        The answer says what the storefront does next: nothing, follow a
        redirect, or confirm with a client secret in the provider's UI.
        """
        context = await storefront(request)

        async def run() -> Response[bytes]:
            session = await service.open_payment_session(context.store_id, cart_id, data)
            return answer(201, session)

        return await idempotent(request, context.store_id, run)

    @post(
        "/complete",
        operation_id="storeCompleteCart",
        responses={201: ResponseSpec(OrderPlaced, description="The placed order")},
    )
    async def complete(
        self,
        request: AnyRequest,
        cart_id: FromPath[str],
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[bytes]:
        """Place the order once the payment provider confirmed the payment.

        Manual payments (bank transfer, cash on delivery) place the order at
        once, unpaid, until the merchant marks it paid.
        """
        context = await storefront(request)

        async def run() -> Response[bytes]:
            return answer(201, await service.complete(context.store_id, cart_id))

        return await idempotent(request, context.store_id, run)


STORE_ROUTES = [CheckoutController]
