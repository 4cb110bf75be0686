"""Shipping an order's lines and marking the shipments delivered.

A fulfilment takes units of lines (at most what is still unshipped) from one
warehouse with a carrier and tracking number: the order becomes
``partially_fulfilled`` or, when every unit has shipped, ``fulfilled``. When
every unit has shipped and every fulfilment is delivered, the order becomes
``delivered``. The sold units already left stock when the order was paid.
"""

from __future__ import annotations

from typing import Any

from piccolo.columns.combination import WhereRaw

from core.db.engine import insert, now, transaction
from core.events.outbox import emit
from core.inventory import service as inventory
from core.kernel.errors import VALIDATION_FAILED, CaravanError
from core.kernel.ids import new_id
from core.kernel.validation import Issues
from core.orders import errors, service, states
from core.orders.refunds import check_lines
from core.orders.schemas import FulfillmentCreate
from core.orders.tables import Fulfillment, OrderLine, OrderNote

_SHIPPING = ("partially_fulfilled", "fulfilled")


def _unshipped(line: dict[str, Any]) -> int:
    return int(line["quantity"] - line["fulfilled_quantity"])


async def check_warehouse_field(
    store_id: str, warehouse_id: str, field: str = "warehouse_id"
) -> None:
    """422 unless the warehouse is the store's."""
    try:
        await inventory.check_warehouse(store_id, warehouse_id)
    except CaravanError:
        issues = Issues()
        issues.add(field, "not_found")
        raise CaravanError(VALIDATION_FAILED, errors=issues.items) from None


async def fulfil(store_id: str, order_id: str, data: FulfillmentCreate, *, actor: str) -> str:
    """Ship ``data.lines`` from a warehouse; returns the fulfilment id (see the module doc)."""
    async with transaction():
        row = await service.locked_row(store_id, order_id)
        if not any(states.can(row["status"], target) for target in _SHIPPING):
            states.check(row["number"], row["status"], "fulfilled")
        lines = await service.lines_of(order_id)
        units = check_lines(lines, data.lines, _unshipped)
        await check_warehouse_field(store_id, data.warehouse_id)
        for line_id, count in units.items():
            await OrderLine.update(
                {OrderLine.fulfilled_quantity: OrderLine.fulfilled_quantity + count}
            ).where((OrderLine.id == line_id) & (OrderLine.order == order_id))
        done = all(_unshipped(line) == units.get(line["id"], 0) for line in lines)
        fulfillment_id = new_id("ful")
        shipped = [{"line_id": k, "quantity": v} for k, v in units.items()]
        await Fulfillment.insert(
            Fulfillment(
                id=fulfillment_id,
                store=store_id,
                order=order_id,
                warehouse_id=data.warehouse_id,
                carrier=data.carrier,
                tracking_number=data.tracking_number,
                tracking_url=data.tracking_url,
                lines=shipped,
                status="shipped",
                created_at=now(),
            )
        )
        await service.move(row, "fulfilled" if done else "partially_fulfilled", actor=actor)
        event = {
            "fulfillment_id": fulfillment_id,
            "carrier": data.carrier,
            "tracking_number": data.tracking_number,
            "tracking_url": data.tracking_url,
            "lines": shipped,
        }
        await service.record(row, "fulfillment", "order.fulfilled", actor=actor, data=event)
    return fulfillment_id


async def deliver(store_id: str, order_id: str, fulfillment_id: str, *, actor: str) -> None:
    """Mark a fulfilment delivered; the order becomes ``delivered`` with its last one."""
    async with transaction():
        row = await service.locked_row(store_id, order_id)
        if row["status"] != "partially_fulfilled":
            states.check(row["number"], row["status"], "delivered")
        found = (
            await Fulfillment.update(
                {Fulfillment.status: "delivered", Fulfillment.delivered_at: now()}
            )
            .where(
                (Fulfillment.id == fulfillment_id)
                & (Fulfillment.order == order_id)
                & (Fulfillment.store == store_id)
                & (Fulfillment.status == "shipped")
            )
            .returning(Fulfillment.id)
        )
        if not found:
            exists = await Fulfillment.exists().where(
                (Fulfillment.id == fulfillment_id) & (Fulfillment.order == order_id)
            )
            error = errors.ALREADY_DELIVERED if exists else errors.FULFILLMENT_NOT_FOUND
            raise CaravanError(error, id=fulfillment_id[:64])
        entry = service.note_row(
            order_id,
            "delivery",
            row["status"],
            row["status"],
            actor=actor,
            data={"fulfillment_id": fulfillment_id},
        )
        await insert(OrderNote, [entry])
        if await _all_delivered(order_id):
            await service.move(row, "delivered", actor=actor)
            data = {"fulfillment_id": fulfillment_id}
            payload = service.event_payload(row, **data)
            await emit(store_id, "order.delivered", payload, aggregate_id=order_id)


async def _all_delivered(order_id: str) -> bool:
    """Whether every unit has shipped and every shipment arrived."""
    unshipped = await OrderLine.exists().where(
        (OrderLine.order == order_id) & WhereRaw("fulfilled_quantity < quantity")
    )
    in_transit = await Fulfillment.exists().where(
        (Fulfillment.order == order_id) & (Fulfillment.status == "shipped")
    )
    return not unshipped and not in_transit
