"""Refunds through the order's payment provider.

A refund runs in three steps, so that no database transaction waits on a
provider and no money is recorded that the provider did not give back:

1. :func:`begin`: under the order's lock, check the state and the bounds
   (never more than ``paid_total - refunded_total``) and write a
   ``processing`` refund row; one refund of an order is in flight at a time.
2. :func:`ask_provider`: call ``provider.refund`` (the refund id is the
   idempotency key). An outage marks the row ``error`` (outcome unknown) and
   answers 503; the next refund of the order must be for the same amount and
   reuses that id, so the provider gives the money back once at most. A
   refusal marks it ``failed`` and answers 402; nothing else changes.
3. :func:`settle`, in the caller's transaction: the refund row, the lines'
   refunded units, the payment, ``refunded_total`` and the new status, the
   timeline and ``order.refunded``.

A line's share of a refund is integer arithmetic on its ``total``: refunding
``k`` more of its ``n`` units gives ``total * (done + k) // n - total * done // n``,
so the shares of every unit add up to the line's total exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, Final

import msgspec

from core.db.engine import now, transaction
from core.kernel.errors import VALIDATION_FAILED, CaravanError
from core.kernel.ids import new_id
from core.kernel.validation import Issues
from core.orders import errors, service, states
from core.orders.schemas import LineQuantity, RefundCreate
from core.orders.tables import OrderLine
from core.payments.providers import PaymentProvider, RefundResult
from core.payments.tables import Payment, Refund
from core.providers import runtime as providers

#: A ``processing`` refund younger than this blocks another refund of its order.
LEASE: Final = timedelta(minutes=2)
_RESULTS: Final = frozenset({"succeeded", "pending", "failed"})


class RefundPlan(msgspec.Struct, frozen=True, kw_only=True):
    """What to give back: an amount, and the units of lines it pays for."""

    amount: int
    lines: dict[str, int] = {}
    reason: str = ""


class Pending(msgspec.Struct, kw_only=True):
    """A refund written as ``processing``, waiting for the provider's answer."""

    id: str
    store_id: str
    order_id: str
    plan: RefundPlan
    payment: dict[str, Any]
    provider: PaymentProvider


Planner = Callable[[dict[str, Any], Sequence[dict[str, Any]]], RefundPlan]


def share(line: dict[str, Any], units: int) -> int:
    """The part of the line's ``total`` that ``units`` more refunded units are worth."""
    total, quantity, done = line["total"], line["quantity"], line["refunded_quantity"]
    return int(total * (done + units) // quantity - total * done // quantity)


def check_lines(
    lines: Sequence[dict[str, Any]],
    wanted: Sequence[LineQuantity],
    room: Callable[[dict[str, Any]], int],
    field: str = "lines",
) -> dict[str, int]:
    """Units per line id of ``wanted``, each at most ``room(line)``; else 422 for all issues."""
    by_id = {line["id"]: line for line in lines}
    issues = Issues()
    out: dict[str, int] = {}
    for index, item in enumerate(wanted):
        line = by_id.get(item.line_id)
        if line is None:
            issues.add(f"{field}[{index}].line_id", "not_found")
        elif item.line_id in out:
            issues.add(f"{field}[{index}].line_id", "duplicate")
        elif item.quantity > room(line):
            issues.add(f"{field}[{index}].quantity", "out_of_range", constraint=f"<= {room(line)}")
        else:
            out[item.line_id] = item.quantity
    if issues.items:
        raise CaravanError(VALIDATION_FAILED, errors=issues.items)
    return out


def refundable_units(line: dict[str, Any]) -> int:
    """Units of a line not refunded yet."""
    return int(line["quantity"] - line["refunded_quantity"])


def lines_plan(lines: Sequence[dict[str, Any]], units: dict[str, int], reason: str) -> RefundPlan:
    """The refund of ``units`` of lines: the sum of their shares."""
    by_id = {line["id"]: line for line in lines}
    amount = sum(share(by_id[line_id], count) for line_id, count in units.items())
    return RefundPlan(amount=amount, lines=units, reason=reason)


def plan_of(data: RefundCreate) -> Planner:
    """The planner of an admin refund: ``amount``, or (``null``) the share of ``lines``."""
    if data.amount is None and not data.lines:
        issues = Issues()
        issues.add("lines", "required")
        raise CaravanError(VALIDATION_FAILED, errors=issues.items)

    def plan(_row: dict[str, Any], lines: Sequence[dict[str, Any]]) -> RefundPlan:
        units = check_lines(lines, data.lines, refundable_units) if data.lines else {}
        if data.amount is None:
            return lines_plan(lines, units, data.reason)
        return RefundPlan(amount=data.amount, lines=units, reason=data.reason)

    return plan


async def payment_of(row: dict[str, Any]) -> dict[str, Any]:
    """The order's payment (the latest one placed with it), else 409."""
    payment: dict[str, Any] | None = (
        await Payment.select()
        .where(Payment.order_id == row["id"])
        .order_by(Payment.id, ascending=False)
        .first()
    )
    if payment is None:
        raise CaravanError(errors.NO_PAYMENT, number=row["number"])
    return payment


async def provider_of(row: dict[str, Any]) -> PaymentProvider:
    """The payment provider the order was paid through, as the region has it now."""
    provider = await providers.find(row["region_id"], "payment", row["payment_provider"])
    if not isinstance(provider, PaymentProvider):
        raise providers.bad_answer(provider, "not a payment provider")
    return provider


def refund_target(row: dict[str, Any], amount: int) -> str:
    """``refunded`` when ``amount`` gives back all that is left, else ``partially_refunded``."""
    return (
        "refunded"
        if row["refunded_total"] + amount >= row["paid_total"]
        else ("partially_refunded")
    )


async def _unresolved(row: dict[str, Any], amount: int) -> str | None:
    """The order's refund whose outcome is unknown (the provider failed to answer), if
    it is for ``amount``: the retry reuses its id, which is the provider's idempotency
    key, so that money the provider did give back is not given twice. An unresolved
    refund of another amount must be retried first (409)."""
    found = await Refund.select(Refund.id, Refund.amount).where(
        (Refund.order_id == row["id"]) & (Refund.status == "error")
    )
    if not found:
        return None
    if len(found) > 1 or found[0]["amount"] != amount:
        raise CaravanError(errors.REFUND_IN_PROGRESS, number=row["number"])
    return str(found[0]["id"])


async def begin(store_id: str, order_id: str, planner: Planner, check_target: str) -> Pending:
    """Check the order may go to ``check_target`` and the plan fits; write the refund as
    ``processing`` (see the module doc)."""
    provider = await provider_of(await service.row_of(store_id, order_id))
    async with transaction():
        row = await service.locked_row(store_id, order_id)
        states.check(row["number"], row["status"], check_target)
        plan = planner(row, await service.lines_of(order_id))
        refundable = row["paid_total"] - row["refunded_total"]
        if plan.amount > refundable:
            raise CaravanError(
                errors.REFUND_EXCEEDS,
                extra={"refundable": refundable},
                refundable=refundable,
                amount=plan.amount,
                number=row["number"],
            )
        busy = await Refund.exists().where(
            (Refund.order_id == order_id)
            & (Refund.status == "processing")
            & (Refund.created_at > now() - LEASE)
        )
        if busy:
            raise CaravanError(errors.REFUND_IN_PROGRESS, number=row["number"])
        payment = await payment_of(row)
        refund_id = await _unresolved(row, plan.amount)
        if refund_id is not None:  # asked again under its first id: given once at most
            await Refund.update({Refund.status: "processing", Refund.created_at: now()}).where(
                Refund.id == refund_id
            )
        else:
            refund_id = new_id("refund")
            await Refund.insert(
                Refund(
                    id=refund_id,
                    store=store_id,
                    payment_id=payment["id"],
                    order_id=order_id,
                    amount=plan.amount,
                    currency=row["currency"],
                    reference="",
                    status="processing",
                    reason=plan.reason,
                    created_at=now(),
                )
            )
    return Pending(
        id=refund_id,
        store_id=store_id,
        order_id=order_id,
        plan=plan,
        payment=payment,
        provider=provider,
    )


async def _mark(refund_id: str, status: str, reference: str = "") -> None:
    async with transaction():
        await Refund.update({Refund.status: status, Refund.reference: reference}).where(
            Refund.id == refund_id
        )


def _checked(provider: PaymentProvider, result: Any) -> RefundResult:
    if not isinstance(result, RefundResult) or result.status not in _RESULTS:
        raise providers.bad_answer(provider, "the refund answer is not a RefundResult")
    return result


async def ask_provider(pending: Pending) -> RefundResult:
    """Ask the provider to give the money back (see the module doc for failures)."""
    if pending.plan.amount == 0:  # lines whose share rounds to nothing
        return RefundResult(reference="", status="succeeded")
    provider = pending.provider
    operation = provider.refund(
        pending.payment["reference"],
        pending.plan.amount,
        pending.id,
        pending.plan.reason or None,
    )
    try:
        result = _checked(provider, await providers.call(provider, operation))
    except BaseException:
        await _mark(pending.id, "error")
        raise
    if result.status == "failed":
        await _mark(pending.id, "failed", result.reference[:255])
        reason = (result.failure_reason or "refused")[:200]
        raise CaravanError(errors.REFUND_REFUSED, reason=reason)
    return result


async def settle(
    pending: Pending,
    result: RefundResult,
    *,
    actor: str,
    target: str | None = None,
    **values: Any,
) -> dict[str, Any]:
    """Record the refund the provider accepted and move the order (``target``, default
    :func:`refund_target`); ``values`` are further order columns. Call inside a
    transaction; returns the order row as it now is."""
    row = await service.locked_row(pending.store_id, pending.order_id)
    amount = pending.plan.amount
    await Refund.update(
        {Refund.status: result.status, Refund.reference: result.reference[:255]}
    ).where(Refund.id == pending.id)
    for line_id, units in pending.plan.lines.items():
        await OrderLine.update(
            {OrderLine.refunded_quantity: OrderLine.refunded_quantity + units}
        ).where((OrderLine.id == line_id) & (OrderLine.order == pending.order_id))
    await Payment.update(
        {Payment.refunded: Payment.refunded + amount, Payment.updated_at: now()}
    ).where(Payment.id == pending.payment["id"])
    await service.move(
        row,
        target or refund_target(row, amount),
        actor=actor,
        refunded_total=row["refunded_total"] + amount,
        **values,
    )
    data = {"refund_id": pending.id, "amount": amount, "lines": pending.plan.lines}
    await service.record(row, "refund", "order.refunded", actor=actor, data=data)
    return row


async def refund(store_id: str, order_id: str, planner: Planner, *, actor: str) -> None:
    """Give money back through the provider and record it (the whole flow)."""
    pending = await begin(store_id, order_id, planner, "refunded")
    result = await ask_provider(pending)
    async with transaction():
        await settle(pending, result, actor=actor)
