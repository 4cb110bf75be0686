"""Reading orders: the admin listing and detail, the customer's orders, a guest's order.

Every read is scoped to a store; a customer sees only their own orders and a
guest only the order whose access token they hold. Whatever is not theirs is
a plain 404, the same as an order that does not exist.
"""

from __future__ import annotations

import hmac
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final, TypeVar

import msgspec
from piccolo.columns.combination import WhereRaw
from piccolo.query import Select

from core.auth.service import hash_token
from core.kernel.errors import CaravanError
from core.kernel.pagination import Page, page_of
from core.orders import errors, service
from core.orders.schemas import (
    FulfillmentLineRead,
    FulfillmentRead,
    OrderDetail,
    OrderRead,
    PaymentRead,
    RefundRead,
    ReturnLineRead,
    ReturnRead,
    StoreOrder,
    TimelineEntry,
)
from core.orders.tables import Fulfillment, Order, OrderLine, OrderNote, Return
from core.payments.tables import Payment, Refund

T = TypeVar("T")

#: Characters in a search that LIKE would read as wildcards.
_LIKE_ESCAPES: Final = str.maketrans({"\\": "\\\\", "%": "\\%", "_": "\\_"})


class OrderFilter(msgspec.Struct, frozen=True, kw_only=True):
    """The admin listing's filters (all optional, combined with AND)."""

    status: str | None = None
    email: str | None = None
    customer_id: str | None = None
    placed_after: datetime | None = None
    placed_before: datetime | None = None
    #: An order number, or a part of the email.
    q: str | None = None


def _search(q: str) -> WhereRaw:
    pattern = "%" + q.strip().lower().translate(_LIKE_ESCAPES) + "%"
    digits = q.strip().lstrip("#")
    if digits.isdigit() and len(digits) <= 18:
        return WhereRaw("(number = {} OR LOWER(email) LIKE {} ESCAPE '\\')", int(digits), pattern)
    return WhereRaw("LOWER(email) LIKE {} ESCAPE '\\'", pattern)


def _filtered(query: Select[Any], found: OrderFilter) -> Select[Any]:
    if found.status is not None:
        query = query.where(Order.status == found.status)
    if found.email is not None:
        query = query.where(WhereRaw("LOWER(email) = {}", found.email.strip().lower()))
    if found.customer_id is not None:
        query = query.where(Order.customer_id == found.customer_id)
    if found.placed_after is not None:
        query = query.where(Order.placed_at >= found.placed_after)
    if found.placed_before is not None:
        query = query.where(Order.placed_at < found.placed_before)
    if found.q:
        query = query.where(_search(found.q))
    return query


async def _page(query: Select[Any], *, limit: int, cursor: str | None) -> Page[OrderRead]:
    """One page of orders newest first, their lines loaded in one query."""
    page = await page_of(query, Order.id, limit=limit, cursor=cursor, convert=lambda r: r)
    ids = [row["id"] for row in page.items]
    lines: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if ids:
        for line in (
            await OrderLine.select().where(OrderLine.order.is_in(ids)).order_by(OrderLine.id)
        ):
            lines[line["order"]].append(line)
    items = [service.read_lines(row, lines[row["id"]]) for row in page.items]
    return Page(items=items, next_cursor=page.next_cursor)


def _orders(store_id: str) -> Select[Any]:
    return Order.select().where(Order.store == store_id).output(load_json=True)


async def list_orders(
    store_id: str, found: OrderFilter, *, limit: int, cursor: str | None
) -> Page[OrderRead]:
    """The store's orders, newest first, filtered."""
    return await _page(_filtered(_orders(store_id), found), limit=limit, cursor=cursor)


async def list_customer_orders(
    store_id: str, customer_id: str, *, limit: int, cursor: str | None
) -> Page[OrderRead]:
    """A customer's orders in their store, newest first."""
    query = _orders(store_id).where(Order.customer_id == customer_id)
    return await _page(query, limit=limit, cursor=cursor)


# ---------------------------------------------------------------------------
# One order
# ---------------------------------------------------------------------------


def _parts(items: Sequence[dict[str, Any]], kind: type[T]) -> list[T]:
    return [msgspec.convert(item, kind) for item in items]


def _fields(struct: type[msgspec.Struct], row: dict[str, Any]) -> dict[str, Any]:
    return {f: row[f] for f in struct.__struct_fields__}


def _shipment(row: dict[str, Any]) -> FulfillmentRead:
    values = {**row, "lines": _parts(row["lines"], FulfillmentLineRead)}
    return FulfillmentRead(**_fields(FulfillmentRead, values))


def _return(row: dict[str, Any]) -> ReturnRead:
    values = {**row, "lines": _parts(row["lines"], ReturnLineRead), "restock": bool(row["restock"])}
    return ReturnRead(**_fields(ReturnRead, values))


async def _fulfillments(order_id: str) -> list[FulfillmentRead]:
    rows = (
        await Fulfillment.select()
        .where(Fulfillment.order == order_id)
        .order_by(Fulfillment.id)
        .output(load_json=True)
    )
    return [_shipment(r) for r in rows]


async def _returns(order_id: str) -> list[ReturnRead]:
    rows = (
        await Return.select()
        .where(Return.order == order_id)
        .order_by(Return.id)
        .output(load_json=True)
    )
    return [_return(r) for r in rows]


async def _money(order_id: str) -> tuple[list[PaymentRead], list[RefundRead]]:
    payments = await Payment.select().where(Payment.order_id == order_id).order_by(Payment.id)
    refunds = await Refund.select().where(Refund.order_id == order_id).order_by(Refund.id)
    return (
        [PaymentRead(**_fields(PaymentRead, r)) for r in payments],
        [RefundRead(**_fields(RefundRead, r)) for r in refunds],
    )


async def _timeline(order_id: str) -> list[TimelineEntry]:
    rows = (
        await OrderNote.select()
        .where(OrderNote.order == order_id)
        .order_by(OrderNote.created_at)
        .order_by(OrderNote.id)
        .output(load_json=True)
    )
    return [TimelineEntry(**_fields(TimelineEntry, r)) for r in rows]


async def _store_order(row: dict[str, Any]) -> StoreOrder:
    base = msgspec.structs.asdict(await service.read_row(row))
    return StoreOrder(
        **base, fulfillments=await _fulfillments(row["id"]), returns=await _returns(row["id"])
    )


async def detail(store_id: str, order_id: str) -> OrderDetail:
    """The whole order as the merchant sees it."""
    row = await service.row_of(store_id, order_id)
    base = msgspec.structs.asdict(await _store_order(row))
    payments, refunds = await _money(order_id)
    return OrderDetail(
        **base, payments=payments, refunds=refunds, timeline=await _timeline(order_id)
    )


async def store_view(store_id: str, order_id: str) -> StoreOrder:
    """The order as its customer sees it (call once the caller is known to be allowed)."""
    return await _store_order(await service.row_of(store_id, order_id))


async def customer_order(store_id: str, customer_id: str, order_id: str) -> StoreOrder:
    """One of the customer's orders; another's (or none) is 404."""
    row = await service.row_of(store_id, order_id)
    if row["customer_id"] != customer_id:
        raise CaravanError(errors.ORDER_NOT_FOUND, id=order_id[:64])
    return await _store_order(row)


async def guest_row(store_id: str, order_id: str, token: str | None) -> dict[str, Any]:
    """The order row whose access token is ``token`` (constant-time check); else 404."""
    row = await service.row_of(store_id, order_id)
    presented = hash_token(token or "")
    if not token or not hmac.compare_digest(presented, row["access_token_hash"]):
        raise CaravanError(errors.ORDER_NOT_FOUND, id=order_id[:64])
    return row


async def guest_order(store_id: str, order_id: str, token: str | None) -> StoreOrder:
    """The order a guest holds the access token of; else 404."""
    return await _store_order(await guest_row(store_id, order_id, token))
