"""Admin routes of orders (list, read, pay, ship, cancel, refund, returns) and the
storefront's order reads for customers and guests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter

from core.auth.guards import needs, principal_of, store_id_of
from core.checkout.idempotency import idempotent
from core.checkout.routes import IdempotencyKeyHeader
from core.customers.service import customer_from_request, require_customer
from core.kernel.errors import PROBLEM_JSON, Problem
from core.kernel.pagination import Cursor, Limit, Page
from core.orders import fulfillment, payments, queries, refunds, returns
from core.orders.queries import OrderFilter
from core.orders.schemas import (
    FulfillmentCreate,
    OrderDetail,
    OrderRead,
    RefundCreate,
    ReturnCreate,
    ReturnReceive,
    StoreOrder,
)
from core.orders.states import OrderStatus
from core.stores.context import storefront

AnyRequest = Request[Any, Any, Any]

StatusFilter = Annotated[
    OrderStatus | None, QueryParameter(description="Only orders in this status.")
]
EmailFilter = Annotated[
    str | None,
    QueryParameter(
        min_length=3, max_length=254, description="Only orders of this email (any case)."
    ),
]
CustomerFilter = Annotated[
    str | None, QueryParameter(max_length=64, description="Only orders of this customer.")
]
PlacedAfter = Annotated[
    datetime | None, QueryParameter(description="Only orders placed at or after this moment.")
]
PlacedBefore = Annotated[
    datetime | None, QueryParameter(description="Only orders placed before this moment.")
]
Search = Annotated[
    str | None,
    QueryParameter(
        min_length=1, max_length=100, description="An order number or part of the email."
    ),
]
CancelReason = Annotated[
    str,
    QueryParameter(max_length=500, description="Why the order is canceled (kept in its timeline)."),
]
OrderToken = Annotated[
    str | None,
    HeaderParameter(
        name="X-Order-Token",
        max_length=256,
        description="The order access token the guest got when the order was placed.",
    ),
]


#: The provider refused to move the money (documented on the routes that move it).
REFUSED = {
    402: ResponseSpec(
        Problem,
        description="The payment provider refused (refund_refused, capture_refused)",
        media_type=PROBLEM_JSON,
    )
}


def _answers(status: int, *, refusals: bool = True) -> dict[int, ResponseSpec]:
    """The documented answers of an action: the order as it now is (and refusals)."""
    order = {status: ResponseSpec(OrderDetail, description="The order after the action")}
    return {**order, **(REFUSED if refusals else {})}


def _json(status: int, value: msgspec.Struct) -> Response[bytes]:
    return Response(msgspec.json.encode(value), status_code=status, media_type="application/json")


def _staff(request: AnyRequest) -> str:
    return f"staff:{principal_of(request).token_id}"


async def _act(
    request: AnyRequest,
    order_id: str,
    action: Callable[[str], Awaitable[Any]],
    *,
    status: int = 200,
) -> Response[bytes]:
    """Run an admin action on an order under ``Idempotency-Key``; answer with the order."""
    store_id = store_id_of(request)

    async def run() -> Response[bytes]:
        await action(store_id)
        return _json(status, await queries.detail(store_id, order_id))

    return await idempotent(request, store_id, run)


class OrdersController(Controller):
    """Store staff: orders and their lifecycle."""

    path = "/admin/orders"
    tags = ["admin: orders"]

    @get("/", opt=needs("orders:read"), operation_id="listOrders")
    async def list_orders(
        self,
        request: AnyRequest,
        status: StatusFilter = None,
        email: EmailFilter = None,
        customer_id: CustomerFilter = None,
        placed_after: PlacedAfter = None,
        placed_before: PlacedBefore = None,
        q: Search = None,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> Page[OrderRead]:
        """List orders newest first, filtered and searched (number or email)."""
        found = OrderFilter(
            status=status,
            email=email,
            customer_id=customer_id,
            placed_after=placed_after,
            placed_before=placed_before,
            q=q,
        )
        return await queries.list_orders(store_id_of(request), found, limit=limit, cursor=cursor)

    @get("/{order_id:str}", opt=needs("orders:read"), operation_id="getOrder")
    async def get_order(self, request: AnyRequest, order_id: FromPath[str]) -> OrderDetail:
        """Read an order with its payments, refunds, fulfilments, returns and timeline."""
        return await queries.detail(store_id_of(request), order_id)

    @post(
        "/{order_id:str}/mark-paid",
        opt=needs("orders:write"),
        operation_id="markOrderPaid",
        status_code=200,
        responses=_answers(200),
    )
    async def mark_paid(
        self,
        request: AnyRequest,
        order_id: FromPath[str],
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[bytes]:
        """Record a manual payment (bank transfer, cash on delivery) as received."""
        actor = _staff(request)
        return await _act(
            request, order_id, lambda store: payments.mark_paid(store, order_id, actor=actor)
        )

    @post(
        "/{order_id:str}/cancel",
        opt=needs("orders:write"),
        operation_id="cancelOrder",
        status_code=200,
        responses=_answers(200),
    )
    async def cancel_order(
        self,
        request: AnyRequest,
        order_id: FromPath[str],
        reason: CancelReason = "",
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[bytes]:
        """Cancel an order that shipped nothing: releases or restocks its units and
        refunds what was captured."""
        actor = _staff(request)
        return await _act(
            request,
            order_id,
            lambda store: payments.cancel(store, order_id, reason, actor=actor),
        )

    @post(
        "/{order_id:str}/refunds",
        opt=needs("orders:write"),
        operation_id="refundOrder",
        responses=_answers(201),
    )
    async def refund_order(
        self,
        request: AnyRequest,
        order_id: FromPath[str],
        data: JSONBody[RefundCreate],
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[bytes]:
        """Refund an amount, or lines (their share of the total), through the payment provider."""
        actor = _staff(request)
        planner = refunds.plan_of(data)
        return await _act(
            request,
            order_id,
            lambda store: refunds.refund(store, order_id, planner, actor=actor),
            status=201,
        )

    @post(
        "/{order_id:str}/fulfillments",
        opt=needs("orders:write"),
        operation_id="fulfilOrder",
        responses=_answers(201, refusals=False),
    )
    async def fulfil(
        self, request: AnyRequest, order_id: FromPath[str], data: JSONBody[FulfillmentCreate]
    ) -> Response[bytes]:
        """Ship lines from a warehouse with a carrier and tracking number."""
        store_id = store_id_of(request)
        await fulfillment.fulfil(store_id, order_id, data, actor=_staff(request))
        return _json(201, await queries.detail(store_id, order_id))

    @post(
        "/{order_id:str}/fulfillments/{fulfillment_id:str}/deliver",
        opt=needs("orders:write"),
        operation_id="markFulfillmentDelivered",
        status_code=200,
    )
    async def deliver(
        self, request: AnyRequest, order_id: FromPath[str], fulfillment_id: FromPath[str]
    ) -> OrderDetail:
        """Mark a shipment delivered (the order is delivered with its last one)."""
        store_id = store_id_of(request)
        await fulfillment.deliver(store_id, order_id, fulfillment_id, actor=_staff(request))
        return await queries.detail(store_id, order_id)

    @post(
        "/{order_id:str}/returns",
        opt=needs("orders:write"),
        operation_id="createReturn",
        responses=_answers(201, refusals=False),
    )
    async def create_return(
        self, request: AnyRequest, order_id: FromPath[str], data: JSONBody[ReturnCreate]
    ) -> Response[bytes]:
        """Open a return (RMA) for shipped units."""
        store_id = store_id_of(request)
        await returns.request_return(
            store_id, order_id, data, requested_by="merchant", actor=_staff(request)
        )
        return _json(201, await queries.detail(store_id, order_id))

    @post(
        "/{order_id:str}/returns/{return_id:str}/receive",
        opt=needs("orders:write"),
        operation_id="receiveReturn",
        status_code=200,
        responses=_answers(200),
    )
    async def receive_return(
        self,
        request: AnyRequest,
        order_id: FromPath[str],
        return_id: FromPath[str],
        data: JSONBody[ReturnReceive],
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[bytes]:
        """The returned goods arrived: restock them or not, and refund them or not."""
        actor = _staff(request)
        return await _act(
            request,
            order_id,
            lambda store: returns.receive_return(store, order_id, return_id, data, actor=actor),
        )


class CustomerOrdersController(Controller):
    """Customers: their own orders."""

    path = "/store/customers/me/orders"
    tags = ["store: orders"]

    @get("/", operation_id="storeListMyOrders")
    async def list_my_orders(
        self, request: AnyRequest, limit: Limit = 20, cursor: Cursor = None
    ) -> Page[OrderRead]:
        """The logged-in customer's orders, newest first."""
        context = await storefront(request)
        customer = await require_customer(request)
        return await queries.list_customer_orders(
            context.store_id, customer.id, limit=limit, cursor=cursor
        )

    @get("/{order_id:str}", operation_id="storeGetMyOrder")
    async def get_my_order(self, request: AnyRequest, order_id: FromPath[str]) -> StoreOrder:
        """One of the logged-in customer's orders with its shipments and returns."""
        context = await storefront(request)
        customer = await require_customer(request)
        return await queries.customer_order(context.store_id, customer.id, order_id)


class GuestOrdersController(Controller):
    """Guests (and customers): an order by its access token; asking for a return."""

    path = "/store/orders/{order_id:str}"
    tags = ["store: orders"]

    @get("/", operation_id="storeGetOrder")
    async def get_guest_order(
        self, request: AnyRequest, order_id: FromPath[str], token: OrderToken = None
    ) -> StoreOrder:
        """An order, for whoever holds its access token (header `X-Order-Token`)."""
        context = await storefront(request)
        return await queries.guest_order(context.store_id, order_id, token)

    @post("/returns", operation_id="storeRequestReturn")
    async def request_return(
        self,
        request: AnyRequest,
        order_id: FromPath[str],
        data: JSONBody[ReturnCreate],
        token: OrderToken = None,
    ) -> StoreOrder:
        """Ask to send units back: the order's customer (logged in) or a guest with its token."""
        context = await storefront(request)
        store_id = context.store_id
        customer = None if token else await customer_from_request(request)
        if customer is not None:
            await queries.customer_order(store_id, customer.id, order_id)
            actor = f"customer:{customer.id}"
        else:
            await queries.guest_row(store_id, order_id, token)
            actor = "guest"
        await returns.request_return(store_id, order_id, data, requested_by="customer", actor=actor)
        return await queries.store_view(store_id, order_id)


ADMIN_ROUTES = [OrdersController]
STORE_ROUTES = [CustomerOrdersController, GuestOrdersController]
