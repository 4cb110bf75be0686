"""Returns (RMA): requested by the customer or the merchant, received, refunded.

A return names units of shipped lines; a line's ``returned_quantity`` counts
the units of its open and received returns, so requests never exceed what
shipped. The goods may arrive in parts: each receipt names the units that
arrived and the warehouse they went to (back on hand when ``restock``); the
return is ``received`` once all its units are in. A receipt may refund its
units through the payment provider: their share of the total, or a given
amount. The refund's bounds are checked before anything is received; a
refusal or an outage of the provider leaves the units received and
unrefunded (refund them later with the order's refunds).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from core.db.engine import now, transaction
from core.inventory import service as inventory
from core.kernel.errors import CaravanError
from core.kernel.ids import new_id
from core.orders import errors, refunds, service
from core.orders.fulfillment import check_warehouse_field
from core.orders.refunds import RefundPlan, check_lines
from core.orders.schemas import LineQuantity, ReturnCreate, ReturnReceive
from core.orders.tables import OrderLine, Return
from core.payments.tables import Refund

Requester = Literal["customer", "merchant"]
_RESTOCK_REASON = "returned"


def _returnable(line: dict[str, Any]) -> int:
    return int(line["fulfilled_quantity"] - line["returned_quantity"])


async def request_return(
    store_id: str, order_id: str, data: ReturnCreate, *, requested_by: Requester, actor: str
) -> str:
    """Open a return for units that shipped and are not returned yet; returns its id."""
    async with transaction():
        row = await service.locked_row(store_id, order_id)
        lines = await service.lines_of(order_id)
        wanted = [LineQuantity(line_id=x.line_id, quantity=x.quantity) for x in data.lines]
        units = check_lines(lines, wanted, _returnable)
        for line_id, count in units.items():
            await OrderLine.update(
                {OrderLine.returned_quantity: OrderLine.returned_quantity + count}
            ).where((OrderLine.id == line_id) & (OrderLine.order == order_id))
        return_id = new_id("ret")
        items = [
            {"line_id": x.line_id, "quantity": x.quantity, "reason": x.reason} for x in data.lines
        ]
        await Return.insert(
            Return(
                id=return_id,
                store=store_id,
                order=order_id,
                status="requested",
                lines=items,
                requested_by=requested_by,
                note=data.note,
                created_at=now(),
            )
        )
        event = {"return_id": return_id, "requested_by": requested_by, "lines": items}
        await service.record(row, "return", "return.requested", actor=actor, data=event)
    return return_id


async def _open_return(store_id: str, order_id: str, return_id: str) -> dict[str, Any]:
    found: dict[str, Any] | None = (
        await Return.select()
        .where((Return.id == return_id) & (Return.order == order_id) & (Return.store == store_id))
        .output(load_json=True)
        .first()
    )
    if found is None:
        raise CaravanError(errors.RETURN_NOT_FOUND, id=return_id[:64])
    if found["status"] != "requested":
        raise CaravanError(errors.RETURN_NOT_OPEN, id=return_id, status=found["status"])
    return found


def _arriving(found: dict[str, Any], wanted: Sequence[LineQuantity]) -> dict[str, int]:
    """Units per line of ``wanted``, each at most what of the return has not arrived yet."""
    items = [{"id": item["line_id"], **item} for item in found["lines"]]
    return check_lines(items, wanted, lambda item: item["quantity"] - item.get("received", 0))


def _refund_planner(units: dict[str, int], data: ReturnReceive, return_id: str) -> refunds.Planner:
    def plan(_row: dict[str, Any], lines: Sequence[dict[str, Any]]) -> RefundPlan:
        reason = f"return {return_id}"
        wanted = [LineQuantity(line_id=k, quantity=v) for k, v in units.items()]
        covered = check_lines(lines, wanted, refunds.refundable_units)
        if data.refund_amount is not None:
            return RefundPlan(amount=data.refund_amount, lines=covered, reason=reason)
        return refunds.lines_plan(lines, covered, reason)

    return plan


async def receive_return(
    store_id: str, order_id: str, return_id: str, data: ReturnReceive, *, actor: str
) -> None:
    """Units of a return arrived (see the module doc)."""
    found = await _open_return(store_id, order_id, return_id)
    units = _arriving(found, data.lines)
    await check_warehouse_field(store_id, data.warehouse_id)
    pending = None
    if data.refund or data.refund_amount is not None:
        planner = _refund_planner(units, data, return_id)
        pending = await refunds.begin(store_id, order_id, planner, "refunded")
    try:
        await _receive(store_id, order_id, return_id, data, actor=actor)
    except BaseException:
        if pending is not None:
            async with transaction():
                await Refund.update({Refund.status: "canceled"}).where(Refund.id == pending.id)
        raise
    if pending is not None:
        result = await refunds.ask_provider(pending)
        async with transaction():
            await refunds.settle(pending, result, actor=actor)
            await Return.update(
                {Return.refund_amount: Return.refund_amount + pending.plan.amount}
            ).where(Return.id == return_id)


async def _receive(
    store_id: str, order_id: str, return_id: str, data: ReturnReceive, *, actor: str
) -> None:
    """Record the arrival under the order's lock (receipts of one order run one at a time)."""
    async with transaction():
        row = await service.locked_row(store_id, order_id)
        found = await _open_return(store_id, order_id, return_id)
        units = _arriving(found, data.lines)
        items = [
            {**item, "received": item.get("received", 0) + units.get(item["line_id"], 0)}
            for item in found["lines"]
        ]
        done = all(item["received"] >= item["quantity"] for item in items)
        await Return.update(
            {
                Return.lines: items,
                Return.status: "received" if done else "requested",
                Return.warehouse_id: data.warehouse_id,
                Return.restock: data.restock,
                Return.received_at: now(),
            }
        ).where(Return.id == return_id)
        if data.restock:
            variants = {line["id"]: line["variant_id"] for line in await service.lines_of(order_id)}
            for line_id, count in units.items():
                await inventory.restock(
                    store_id,
                    data.warehouse_id,
                    variants[line_id],
                    count,
                    _RESTOCK_REASON,
                    return_id,
                )
        event = {
            "return_id": return_id,
            "warehouse_id": data.warehouse_id,
            "restock": data.restock,
            "lines": [{"line_id": k, "quantity": v} for k, v in units.items()],
            "complete": done,
        }
        await service.record(row, "return_received", "return.received", actor=actor, data=event)
