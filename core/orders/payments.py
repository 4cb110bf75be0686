"""Money in and out of an order as a whole: marking a manual payment paid, and canceling.

Provider calls run outside database transactions (in their time budget,
:func:`core.providers.runtime.call`); each state change then commits in one
transaction with its stock change, timeline entry and outbox event.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.db.engine import now, transaction
from core.inventory import service as inventory
from core.kernel.errors import CaravanError
from core.orders import errors, refunds, service, states
from core.orders.refunds import RefundPlan
from core.payments.providers import PaymentProvider, PaymentState
from core.payments.tables import Payment
from core.providers import runtime as providers

_RESTOCK_REASON = "order_canceled"


def _report(provider: PaymentProvider, report: Any, amount: int) -> PaymentState:
    if not isinstance(report, PaymentState) or report.captured > max(report.amount, amount):
        raise providers.bad_answer(provider, "the payment report is not a possible PaymentState")
    return report


async def mark_paid(store_id: str, order_id: str, *, actor: str) -> None:
    """Record the money of a manual payment as received: pending → paid, stock committed,
    ``order.paid`` emitted. 409 for an order not pending or paid through a provider that
    confirms payments itself; 402 when the provider does not record the payment."""
    row = await service.row_of(store_id, order_id)
    states.check(row["number"], row["status"], "paid")
    provider = await refunds.provider_of(row)
    if not provider.manual:
        raise CaravanError(errors.NOT_MANUAL_PAYMENT, number=row["number"], provider=provider.code)
    payment = await refunds.payment_of(row)
    due = row["total"] - row["paid_total"]
    key = f"{payment['id']}:capture"
    report = _report(
        provider,
        await providers.call(provider, provider.capture(payment["reference"], due, key)),
        row["total"],
    )
    if report.status != "captured" or report.captured < row["total"]:
        reason = (report.failure_reason or f"the payment is {report.status}")[:200]
        raise CaravanError(errors.CAPTURE_REFUSED, reason=reason)
    async with transaction():
        row = await service.locked_row(store_id, order_id)
        await service.move(row, "paid", actor=actor, paid_total=report.captured, paid_at=now())
        await Payment.update(
            {
                Payment.status: "captured",
                Payment.captured: report.captured,
                Payment.updated_at: now(),
            }
        ).where(Payment.id == payment["id"])
        await inventory.commit(order_id, order_id)
        data = {"payment_id": payment["id"], "paid": report.captured}
        await service.record(row, "payment", "order.paid", actor=actor, data=data)


async def cancel(store_id: str, order_id: str, reason: str, *, actor: str) -> None:
    """Cancel a pending or paid order that has shipped nothing.

    Unpaid: the payment is voided and the stock reservation released. Paid:
    everything captured is refunded through the provider first (nothing
    changes if it refuses or is down) and the sold units are restocked.
    """
    row = await service.row_of(store_id, order_id)
    states.check(row["number"], row["status"], "canceled")
    if row["paid_total"] > row["refunded_total"]:
        await _cancel_paid(store_id, order_id, reason, actor=actor)
    else:
        await _cancel_unpaid(row, reason, actor=actor)


async def _cancel_unpaid(row: dict[str, Any], reason: str, *, actor: str) -> None:
    payment = await refunds.payment_of(row)
    provider = await refunds.provider_of(row)
    if payment["status"] not in ("failed", "canceled"):
        _report(
            provider,
            await providers.call(provider, provider.cancel(payment["reference"])),
            payment["amount"],
        )
    async with transaction():
        row = await service.locked_row(row["store"], row["id"])
        await service.move(row, "canceled", actor=actor, canceled_at=now())
        await Payment.update({Payment.status: "canceled", Payment.updated_at: now()}).where(
            (Payment.id == payment["id"]) & (Payment.captured == 0)
        )
        await inventory.release(row["id"], _RESTOCK_REASON)
        await service.record(row, "cancel", "order.canceled", actor=actor, data={"reason": reason})


def _everything(reason: str) -> refunds.Planner:
    def plan(row: dict[str, Any], lines: Sequence[dict[str, Any]]) -> RefundPlan:
        units = {line["id"]: refunds.refundable_units(line) for line in lines}
        return RefundPlan(
            amount=row["paid_total"] - row["refunded_total"],
            lines={line_id: count for line_id, count in units.items() if count},
            reason=reason or "order canceled",
        )

    return plan


async def _cancel_paid(store_id: str, order_id: str, reason: str, *, actor: str) -> None:
    pending = await refunds.begin(store_id, order_id, _everything(reason), "canceled")
    result = await refunds.ask_provider(pending)
    try:
        async with transaction():
            row = await refunds.settle(
                pending, result, actor=actor, target="canceled", canceled_at=now()
            )
            await _restock(store_id, order_id)
            data = {"reason": reason}
            await service.record(row, "cancel", "order.canceled", actor=actor, data=data)
    except CaravanError as exc:
        if exc.error is not errors.ILLEGAL_TRANSITION:
            raise
        # The order moved on (shipped) while the provider refunded: keep the money's record.
        async with transaction():
            await refunds.settle(pending, result, actor=actor)
        raise


async def _restock(store_id: str, order_id: str) -> None:
    """Put the units sold to the order back on hand where they were taken from."""
    for variant_id, warehouse_id, quantity in await inventory.committed_lines(order_id):
        try:
            await inventory.restock(
                store_id, warehouse_id, variant_id, quantity, _RESTOCK_REASON, order_id
            )
        except CaravanError:  # the variant or warehouse is gone: nothing to put back
            continue
