"""Affiliate commissions: asked of the region's programmes when a referred order is paid,
taken back in proportion when the order is refunded or canceled.

Both run in the outbox worker on the order's events (:data:`SUBSCRIBERS`), at
least once per event, and are idempotent:

* ``order.paid``: every affiliate provider active in the order's region that
  has no commission on the order yet is asked, in its time budget
  (:func:`core.providers.runtime.call`). An answer is checked (an integer from
  0 to the order's subtotal) and recorded once per order and provider (a unique
  key), with ``affiliate.commission_recorded``, in one transaction. A provider
  that fails or answers impossibly is logged with its plugin's name and gets
  nothing recorded; the handler then fails, so the worker retries the event.
* ``order.refunded`` and ``order.canceled``: each commission's
  ``reversed_amount`` becomes its share of what the order gave back (all of
  it once the order is canceled), with ``affiliate.commission_reversed``. The
  amount only ever grows, so a redelivered event changes nothing.

Both hold the order's row (:func:`core.orders.service.locked_row`) while they
write, so a refund settling meanwhile is seen by one or the other.
"""

from __future__ import annotations

import logging
from typing import Any

from core.affiliates.providers import (
    AffiliateProvider,
    Commission,
    CommissionLine,
    CommissionRequest,
)
from core.affiliates.schemas import STATES, CommissionRead, CommissionState
from core.affiliates.tables import AffiliateCommission
from core.db.engine import now, transaction
from core.events.outbox import emit
from core.events.subscribers import Event, Subscriber
from core.kernel.errors import VALIDATION_FAILED, CaravanError, FieldIssue
from core.kernel.ids import new_id
from core.kernel.pagination import Page, page_of
from core.orders import service as orders
from core.orders.errors import ORDER_NOT_FOUND
from core.providers import Provider
from core.providers import runtime as providers

log = logging.getLogger("caravan.affiliates")


class CommissionsIncompleteError(RuntimeError):
    """Some programmes gave no usable answer for a paid order; the worker retries its event."""


def reversal(amount: int, order: dict[str, Any]) -> int:
    """How much of a commission of ``amount`` the order's refunds take back.

    ``ceil(amount * refunded_total / paid_total)``, all of it once the order is
    canceled: rounded up, so the merchant never owes more than the commission
    on what the customer kept.
    """
    paid, refunded = int(order["paid_total"]), int(order["refunded_total"])
    if order["status"] == "canceled":
        return amount
    if paid <= 0:
        return 0
    return min(amount, -(-amount * refunded // paid))


def state_of(amount: int, reversed_amount: int) -> CommissionState:
    """The state of a commission of ``amount`` with ``reversed_amount`` taken back."""
    if reversed_amount == 0:
        return "pending"
    return "reversed" if reversed_amount >= amount else "partially_reversed"


# ---------------------------------------------------------------------------
# Asking the programmes
# ---------------------------------------------------------------------------


async def _request(order: dict[str, Any]) -> CommissionRequest:
    """What the programmes see of a paid order."""
    address = order["shipping_address"] or order["billing_address"] or {}
    return CommissionRequest(
        store_id=order["store"],
        region_id=order["region_id"],
        order_id=order["id"],
        order_number=order["number"],
        currency=order["currency"],
        referral_code=order["referral_code"],
        country=address.get("country"),
        tax_inclusive=bool(order["tax_inclusive"]),
        subtotal=order["subtotal"],
        discount=order["discount_total"],
        shipping=order["shipping_total"],
        tax=order["tax_total"],
        total=order["total"],
        lines=tuple(
            CommissionLine(
                variant_id=line["variant_id"],
                product_id=line["product_id"],
                sku=line["sku"],
                quantity=line["quantity"],
                total=line["total"],
            )
            for line in await orders.lines_of(order["id"])
        ),
    )


def _checked(provider: Provider, answer: Any, request: CommissionRequest) -> Commission | None:
    """``answer`` if it is a possible one, else the provider's bad answer (raised)."""
    if answer is None:
        return None
    if not isinstance(answer, Commission):
        raise providers.bad_answer(provider, "the answer is not a Commission")
    amount = answer.amount
    if type(amount) is not int or not 0 <= amount <= request.subtotal:
        raise providers.bad_answer(
            provider, f"commission {amount!r} is not an integer from 0 to {request.subtotal}"
        )
    affiliate = answer.affiliate
    if not isinstance(affiliate, str) or not affiliate.strip() or len(affiliate) > 128:
        raise providers.bad_answer(provider, "the affiliate is not 1-128 characters")
    if answer.reference is not None and (
        not isinstance(answer.reference, str) or len(answer.reference) > 255
    ):
        raise providers.bad_answer(provider, "the reference is not up to 255 characters")
    return answer


async def _ask(provider: Provider, request: CommissionRequest) -> Commission | None:
    """The provider's checked answer to ``request``."""
    if not isinstance(provider, AffiliateProvider):
        raise providers.bad_answer(provider, "not an affiliate provider")
    answer = await providers.call(provider, provider.commission(request))
    return _checked(provider, answer, request)


def _failed(provider: Provider, order: dict[str, Any], exc: CaravanError) -> str:
    """Log that ``provider`` gave no usable answer for ``order``; name it and its plugin."""
    plugin = providers.plugin_of(provider)
    log.error(
        "no commission from affiliate provider %s (plugin %s) for order %s: %s",
        provider.code,
        plugin,
        order["number"],
        exc.params.get("reason", exc.code),
    )
    return f"{provider.code} (plugin {plugin})"


# ---------------------------------------------------------------------------
# Recording and reversing
# ---------------------------------------------------------------------------


def _payload(row: dict[str, Any]) -> dict[str, Any]:
    """The data of a commission event."""
    return {
        "commission_id": row["id"],
        "order_id": row["order"],
        "order_number": row["order_number"],
        "provider": row["provider_code"],
        "affiliate": row["affiliate"],
        "referral_code": row["referral_code"],
        "currency": row["currency"],
        "amount": row["amount"],
        "reversed_amount": row["reversed_amount"],
        "state": row["state"],
    }


async def _emit_reversed(row: dict[str, Any], before: int) -> None:
    """``affiliate.commission_reversed`` for ``row``, whose reversed amount was ``before``."""
    payload = {**_payload(row), "reversed": row["reversed_amount"] - before}
    await emit(row["store"], "affiliate.commission_reversed", payload, aggregate_id=row["id"])


async def _record(order: dict[str, Any], earned: list[tuple[str, Commission]]) -> None:
    """Insert the commissions ``earned`` (by provider code) that the order lacks, with
    their events; each already reversed by as much as the order gave back so far."""
    async with transaction():
        current = await orders.locked_row(order["store"], order["id"])
        for code, commission in earned:
            reversed_amount = reversal(commission.amount, current)
            stamp = now()
            row = {
                "id": new_id("acom"),
                "store": current["store"],
                "order": current["id"],
                "order_number": current["number"],
                "region_id": current["region_id"],
                "provider_code": code,
                "affiliate": commission.affiliate,
                "referral_code": current["referral_code"],
                "reference": commission.reference,
                "currency": current["currency"],
                "amount": commission.amount,
                "reversed_amount": reversed_amount,
                "state": state_of(commission.amount, reversed_amount),
                "created_at": stamp,
                "updated_at": stamp,
            }
            inserted = (
                await AffiliateCommission.insert(AffiliateCommission(**row))
                .on_conflict(
                    target=(AffiliateCommission.order, AffiliateCommission.provider_code),
                    action="DO NOTHING",
                )
                .returning(AffiliateCommission.id)
            )
            if not inserted:  # recorded meanwhile by another delivery of the event
                continue
            await emit(
                row["store"], "affiliate.commission_recorded", _payload(row), aggregate_id=row["id"]
            )
            if reversed_amount:
                await _emit_reversed(row, 0)


async def _commissions(order_id: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = await AffiliateCommission.select().where(
        AffiliateCommission.order == order_id
    )
    return rows


async def _order_of(event: Event) -> dict[str, Any] | None:
    """The order row an order event names, if it is one of the event's store."""
    order_id = event.data.get("order_id")
    if not isinstance(order_id, str):
        return None
    try:
        return await orders.row_of(event.store_id, order_id)
    except CaravanError as exc:
        if exc.error is ORDER_NOT_FOUND:
            return None
        raise


async def record_commissions(event: Event) -> None:
    """On ``order.paid``: record what each programme of the order's region owes (see the
    module doc); raises :class:`CommissionsIncompleteError` after recording the others when
    a programme failed."""
    order = await _order_of(event)
    if order is None or order["referral_code"] is None:
        return
    programmes = await providers.active(order["region_id"], "affiliate")
    if not programmes:
        return
    done = {row["provider_code"] for row in await _commissions(order["id"])}
    asked = [provider for provider in programmes if provider.code not in done]
    if not asked:
        return
    request = await _request(order)
    earned: list[tuple[str, Commission]] = []
    failed: list[str] = []
    for provider in asked:
        try:
            answer = await _ask(provider, request)
        except CaravanError as exc:
            failed.append(_failed(provider, order, exc))
            continue
        if answer is not None:
            earned.append((provider.code, answer))
    if earned:
        await _record(order, earned)
    if failed:
        raise CommissionsIncompleteError(
            f"order {order['number']}: no answer from {', '.join(failed)}; retried with the event"
        )


async def reverse_commissions(event: Event) -> None:
    """On ``order.refunded`` and ``order.canceled``: take back each commission's share of
    what the order gave back (see :func:`reversal`)."""
    order_id = event.data.get("order_id")
    if not isinstance(order_id, str) or not await AffiliateCommission.exists().where(
        (AffiliateCommission.order == order_id) & (AffiliateCommission.store == event.store_id)
    ):
        return
    async with transaction():
        order = await orders.locked_row(event.store_id, order_id)
        for row in await _commissions(order_id):
            target = reversal(row["amount"], order)
            before = row["reversed_amount"]
            if target <= before:
                continue
            state, stamp = state_of(row["amount"], target), now()
            await AffiliateCommission.update(
                {
                    AffiliateCommission.reversed_amount: target,
                    AffiliateCommission.state: state,
                    AffiliateCommission.updated_at: stamp,
                }
            ).where(AffiliateCommission.id == row["id"])
            changed = {**row, "reversed_amount": target, "state": state, "updated_at": stamp}
            await _emit_reversed(changed, before)


#: The core's subscribers of order events (run by every outbox worker).
SUBSCRIBERS = (
    Subscriber("affiliate-commissions", ("order.paid",), record_commissions),
    Subscriber("affiliate-reversals", ("order.refunded", "order.canceled"), reverse_commissions),
)


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------


def _read(row: dict[str, Any]) -> CommissionRead:
    return CommissionRead(
        id=row["id"],
        order_id=row["order"],
        order_number=row["order_number"],
        region_id=row["region_id"],
        provider=row["provider_code"],
        affiliate=row["affiliate"],
        referral_code=row["referral_code"],
        reference=row["reference"],
        currency=row["currency"],
        amount=row["amount"],
        reversed_amount=row["reversed_amount"],
        state=row["state"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def list_commissions(
    store_id: str,
    *,
    affiliate: str | None,
    state: str | None,
    limit: int,
    cursor: str | None,
) -> Page[CommissionRead]:
    """The store's commissions, newest first, of one affiliate and in one state if given
    (422 for a state that is not one of :data:`~core.affiliates.schemas.STATES`)."""
    if state is not None and state not in STATES:
        raise CaravanError(VALIDATION_FAILED, errors=[FieldIssue("state", "invalid_choice")])
    query = AffiliateCommission.select().where(AffiliateCommission.store == store_id)
    if affiliate is not None:
        query = query.where(AffiliateCommission.affiliate == affiliate)
    if state is not None:
        query = query.where(AffiliateCommission.state == state)
    return await page_of(query, AffiliateCommission.id, limit=limit, cursor=cursor, convert=_read)
