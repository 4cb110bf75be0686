"""Orders: placing them from checked-out carts, reading them, and moving them through
their states (:mod:`core.orders.states`), every change with its event in the outbox."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from core.auth.service import hash_token
from core.cart.schemas import ShippingMethod
from core.db import engine as db
from core.db.engine import (
    fetch,
    full_row,
    insert,
    insert_statements,
    now,
    select,
    write,
)
from core.events.outbox import emit, event_row
from core.events.tables import OutboxEvent
from core.kernel.addresses import Address
from core.kernel.errors import CaravanError
from core.kernel.ids import new_id, new_secret
from core.orders import errors, states
from core.orders.schemas import OrderLineRead, OrderRead, OrderRegion
from core.orders.tables import Order, OrderLine, OrderNote


async def next_number(store_id: str) -> int:
    """The store's next order number (1001, 1002…), taken for good at once.

    Call it before the transaction that places the order: the store's counter is
    then locked only while this statement runs, not until that transaction
    commits, so concurrent checkouts do not queue on it. An order whose
    transaction fails leaves a gap in the numbers, as database sequences do.
    """
    rows = await write(
        "INSERT INTO order_counters (id, store, value) VALUES ({}, {}, 1001) "
        "ON CONFLICT (store) DO UPDATE SET value = order_counters.value + 1 RETURNING value",
        new_id("ocnt"),
        store_id,
    )
    return int(rows[0]["value"])


class NewLine(msgspec.Struct, frozen=True, kw_only=True):
    """A line to freeze into an order."""

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


class NewOrder(msgspec.Struct, frozen=True, kw_only=True):
    """Everything an order freezes from its cart."""

    store_id: str
    cart_id: str
    region: OrderRegion
    customer_id: str | None
    email: str
    locale: str
    shipping_address: Address | None
    billing_address: Address | None
    shipping_method: ShippingMethod | None
    lines: tuple[NewLine, ...]
    subtotal: int
    discount_total: int
    shipping_total: int
    shipping_tax: int
    tax_total: int
    total: int
    payment_provider: str
    referral_code: str | None = None


def _json(value: Any) -> Any:
    return None if value is None else msgspec.to_builtins(value)


class Placement(msgspec.Struct, frozen=True, kw_only=True):
    """An order about to be placed: as it will read, and what inserts it."""

    order: OrderRead
    #: The guest's access token (only its hash is stored).
    token: str
    #: The inserts of the order, its lines, timeline and events, for
    #: :func:`core.db.engine.write_all` in the checkout's transaction.
    statements: list[tuple[str, list[Any]]]


def placement(new: NewOrder, *, order_id: str, number: int, paid: int) -> Placement:
    """The order ``order_id`` numbered ``number`` (:func:`next_number`) of ``new``, with
    ``paid`` minor units already captured."""
    token = new_secret("otok")
    stamp = now()
    status = "paid" if paid >= new.total else "pending"
    row = full_row(
        Order,
        {
            "id": order_id,
            "store": new.store_id,
            "number": number,
            "cart_id": new.cart_id,
            "region_id": new.region.id,
            "region": _json(new.region),
            "customer_id": new.customer_id,
            "email": new.email,
            "locale": new.locale,
            "currency": new.region.currency,
            "tax_inclusive": new.region.tax_inclusive,
            "status": status,
            "shipping_address": _json(new.shipping_address),
            "billing_address": _json(new.billing_address),
            "shipping_method": _json(new.shipping_method),
            "subtotal": new.subtotal,
            "discount_total": new.discount_total,
            "shipping_total": new.shipping_total,
            "shipping_tax": new.shipping_tax,
            "tax_total": new.tax_total,
            "total": new.total,
            "paid_total": paid,
            "refunded_total": 0,
            "payment_provider": new.payment_provider,
            "referral_code": new.referral_code,
            "access_token_hash": hash_token(token),
            "placed_at": stamp,
            "paid_at": stamp if status == "paid" else None,
            "updated_at": stamp,
        },
    )
    lines = [
        full_row(
            OrderLine,
            {"id": new_id("oline"), "order": order_id, **msgspec.structs.asdict(line)},
        )
        for line in new.lines
    ]
    payload = {
        "order_id": order_id,
        "number": number,
        "total": new.total,
        "currency": new.region.currency,
        "email": new.email,
    }
    notes = [note_row(order_id, "placed", "", "pending", actor="customer")]
    events = [event_row(new.store_id, "order.placed", payload, aggregate_id=order_id)]
    if status == "paid":
        notes.append(note_row(order_id, "status", "pending", "paid", actor="payment"))
        events.append(
            event_row(new.store_id, "order.paid", {**payload, "paid": paid}, aggregate_id=order_id)
        )
    return Placement(
        order=_read(row, sorted(lines, key=lambda line: line["id"])),
        token=token,
        statements=insert_statements(
            (Order, [row]), (OrderLine, lines), (OrderNote, notes), (OutboxEvent, events)
        ),
    )


def note_row(
    order_id: str,
    kind: str,
    from_status: str,
    to_status: str,
    *,
    actor: str,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The row of an entry of the order's timeline (insert it into ``OrderNote``)."""
    return {
        "id": new_id("oevt"),
        "order": order_id,
        "kind": kind,
        "from_status": from_status,
        "to_status": to_status,
        "actor": actor,
        "data": data or {},
        "created_at": now(),
    }


async def row_of(store_id: str, order_id: str) -> dict[str, Any]:
    """The order row of ``store_id``, else 404."""
    rows = await select(Order, "id = {} AND store = {}", order_id, store_id)
    if not rows:
        raise CaravanError(errors.ORDER_NOT_FOUND, id=order_id[:64])
    return rows[0]


async def move(row: dict[str, Any], target: str, *, actor: str, **values: Any) -> None:
    """Move the order in ``row`` to ``target`` (409 if illegal or if it changed meanwhile).

    Call inside a transaction; ``values`` are further columns to set. The
    update is conditional on the status read, so two concurrent moves
    cannot both apply.
    """
    states.check(row["number"], row["status"], target)
    columns = {getattr(Order, k): v for k, v in values.items()}
    columns[Order.status] = target
    columns[Order.updated_at] = now()
    updated = (
        await Order.update(columns)
        .where((Order.id == row["id"]) & (Order.status == row["status"]))
        .returning(Order.id)
    )
    if not updated:
        current = await Order.select(Order.status).where(Order.id == row["id"]).first()
        states.check(row["number"], current["status"] if current else row["status"], target)
        raise CaravanError(
            errors.ILLEGAL_TRANSITION,
            extra={"status": current["status"] if current else row["status"]},
            number=row["number"],
            status=current["status"] if current else row["status"],
            target=target,
        )
    if row["status"] != target:
        await insert(OrderNote, [note_row(row["id"], "status", row["status"], target, actor=actor)])
    row.update(values, status=target)


def _read(row: dict[str, Any], lines: Sequence[dict[str, Any]]) -> OrderRead:
    def address(value: Any) -> Address | None:
        return None if value is None else msgspec.convert(value, Address)

    return OrderRead(
        id=row["id"],
        number=row["number"],
        status=row["status"],
        region=msgspec.convert(row["region"], OrderRegion),
        customer_id=row["customer_id"],
        email=row["email"],
        locale=row["locale"],
        currency=row["currency"],
        tax_inclusive=bool(row["tax_inclusive"]),
        shipping_address=address(row["shipping_address"]),
        billing_address=address(row["billing_address"]),
        shipping_method=(
            None
            if row["shipping_method"] is None
            else msgspec.convert(row["shipping_method"], ShippingMethod)
        ),
        lines=[
            OrderLineRead(**{f: line[f] for f in OrderLineRead.__struct_fields__}) for line in lines
        ],
        subtotal=row["subtotal"],
        discount_total=row["discount_total"],
        shipping_total=row["shipping_total"],
        shipping_tax=row["shipping_tax"],
        tax_total=row["tax_total"],
        total=row["total"],
        paid_total=row["paid_total"],
        refunded_total=row["refunded_total"],
        payment_provider=row["payment_provider"],
        referral_code=row["referral_code"],
        placed_at=row["placed_at"],
        paid_at=row["paid_at"],
        canceled_at=row["canceled_at"],
        updated_at=row["updated_at"],
    )


async def lines_of(order_id: str) -> list[dict[str, Any]]:
    """The order's lines in their order."""
    return await select(OrderLine, '"order" = {} ORDER BY id', order_id)


async def get_order(store_id: str, order_id: str) -> OrderRead:
    """Read one order of ``store_id``."""
    row = await row_of(store_id, order_id)
    return _read(row, await lines_of(order_id))


async def read_row(row: dict[str, Any]) -> OrderRead:
    """The view of an order row already loaded."""
    return _read(row, await lines_of(row["id"]))


async def lock(order_id: str) -> None:
    """Hold the order's row until the transaction ends (PostgreSQL ``FOR UPDATE``;
    SQLite's IMMEDIATE transactions already run one at a time). Call inside a transaction."""
    if db.on_postgres():
        await fetch("SELECT id FROM orders WHERE id = {} FOR UPDATE", order_id)


async def locked_row(store_id: str, order_id: str) -> dict[str, Any]:
    """:func:`row_of` under :func:`lock`: the order as it is now, held until the commit."""
    await row_of(store_id, order_id)
    await lock(order_id)
    return await row_of(store_id, order_id)


def event_payload(row: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """The common part of every order event's data."""
    return {
        "order_id": row["id"],
        "number": row["number"],
        "status": row["status"],
        "currency": row["currency"],
        "total": row["total"],
        "paid_total": row["paid_total"],
        "refunded_total": row["refunded_total"],
        **extra,
    }


async def record(
    row: dict[str, Any],
    kind: str,
    event: str | None,
    *,
    actor: str,
    data: dict[str, Any] | None = None,
) -> None:
    """Write an action to the timeline and, when ``event`` is given, to the outbox.

    Call inside the transaction of the change, after :func:`move`.
    """
    entry = note_row(row["id"], kind, row["status"], row["status"], actor=actor, data=data)
    await insert(OrderNote, [entry])
    if event is not None:
        payload = event_payload(row, **(data or {}))
        await emit(row["store"], event, payload, aggregate_id=row["id"])


def read_lines(row: dict[str, Any], lines: Sequence[dict[str, Any]]) -> OrderRead:
    """The view of an order row and its lines, both already loaded."""
    return _read(row, lines)
