"""Checkout: open a payment session (holding the stock), then complete the cart into an
order once the provider confirms the payment.

Nothing here trusts the storefront about money: amounts come from the cart
as the server priced it, and an order is paid only when the provider's own
report says the money is captured. Provider calls run outside database
transactions, in their time budget (:func:`core.providers.runtime.call`).
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec

from core.cart import reading as cart_reading
from core.cart import service as carts
from core.cart import state as cart_state
from core.cart.service import Change
from core.cart.state import CartState
from core.cart.totals import one_catalog_read, variant_facts
from core.checkout import errors, idempotency
from core.checkout.schemas import PaymentMethodRead, PaymentSessionCreate, PaymentSessionRead
from core.db.engine import (
    decode_json,
    insert_sql,
    now,
    placeholders,
    transaction,
    unique_or_conflict,
    write_all,
)
from core.inventory import service as inventory
from core.kernel.errors import CaravanError
from core.kernel.ids import new_id
from core.kernel.validation import Issues
from core.orders import service as orders
from core.orders.schemas import OrderPlaced, OrderRegion
from core.payments.providers import (
    PaymentProvider,
    PaymentSession,
    PaymentSessionRequest,
    PaymentState,
)
from core.payments.tables import Payment
from core.providers import runtime as providers

log = logging.getLogger("caravan.checkout")

_STATUSES = frozenset(
    {"pending", "requires_action", "authorized", "captured", "failed", "canceled"}
)
_LIVE = ("pending", "requires_action", "authorized", "captured")


async def payment_methods(store_id: str, cart_id: str) -> list[PaymentMethodRead]:
    """The payment providers active in the cart's region, in priority order."""
    state = await cart_state.load(store_id, cart_id)
    return [
        PaymentMethodRead(
            provider=p.code, name=p.name, manual=isinstance(p, PaymentProvider) and p.manual
        )
        for p in await providers.active(state.region.id, "payment")
    ]


async def _ready(state: CartState) -> None:
    """422 listing what the cart lacks before it can be paid."""
    issues = Issues()
    if not state.lines:
        issues.add("lines", "required")
    if not state.row["email"]:
        issues.add("email", "required")
    if state.row["shipping_address"] is None:
        issues.add("shipping_address", "required")
    if state.row["shipping_method"] is None and await providers.active(state.region.id, "shipping"):
        issues.add("shipping_method", "required")
    facts = await variant_facts(
        state.store_id, state.region.currency, [line["variant"] for line in state.lines]
    )
    for index, line in enumerate(state.lines):
        fact = facts.get(line["variant"])
        if fact is None or not fact.purchasable:
            issues.add(f"lines[{index}].variant_id", "variant_unavailable")
    if issues.items:
        raise CaravanError(errors.CART_NOT_READY, errors=issues.items)


def _payment_provider(provider: Any) -> PaymentProvider:
    if not isinstance(provider, PaymentProvider):
        raise providers.bad_answer(provider, "not a payment provider")
    return provider


def _check_session(provider: PaymentProvider, session: Any) -> PaymentSession:
    if not isinstance(session, PaymentSession) or session.status not in _STATUSES:
        raise providers.bad_answer(provider, "the session is not a PaymentSession")
    if not session.reference:
        raise providers.bad_answer(provider, "the session has no reference")
    return session


@one_catalog_read
async def open_payment_session(
    store_id: str, cart_id: str, data: PaymentSessionCreate
) -> PaymentSessionRead:
    """Re-price the cart, hold its stock and open a payment with ``data.provider``."""
    found: list[PaymentProvider] = []

    async def ready(current: CartState) -> Change:
        found[:] = [
            _payment_provider(await providers.find(current.region.id, "payment", data.provider))
        ]
        await _ready(current)
        return Change(lines=current.draft())

    state = await carts.mutate(store_id, cart_id, ready)  # fresh prices, taxes and shipping
    provider = found[0]
    expires = now() + inventory.DEFAULT_RESERVATION_TTL
    lines = [(line["variant"], line["quantity"]) for line in state.lines]
    async with inventory.reserving(cart_id):
        await inventory.reserve(store_id, state.region.id, cart_id, lines, expires_at=expires)
    payment_id = new_id("pay")
    request = PaymentSessionRequest(
        store_id=store_id,
        cart_id=cart_id,
        amount=state.row["total"],
        currency=state.region.currency,
        email=state.row["email"],
        locale=state.row["locale"],
        return_url=data.return_url,
        idempotency_key=payment_id,
        metadata={"cart_id": cart_id, "store_id": store_id},
    )
    try:
        session = _check_session(
            provider, await providers.call(provider, provider.create_session(request))
        )
    except BaseException:
        async with transaction():
            await inventory.release(cart_id, "payment_failed")
            await write_all(_cancel_open_payments(cart_id))
        raise
    stamp = now()
    payment = {
        "id": payment_id,
        "store": store_id,
        "cart_id": cart_id,
        "region_id": state.region.id,
        "provider": provider.code,
        "reference": session.reference,
        "status": session.status,
        "amount": request.amount,
        "currency": request.currency,
        "cart_version": state.version,
        "next_action": msgspec.to_builtins(session.next_action),
        "data": session.data,
        "created_at": stamp,
        "updated_at": stamp,
    }
    # The new session supersedes the cart's earlier ones.
    statements = (_cancel_open_payments(cart_id), insert_sql(Payment, [payment], "RETURNING id"))
    if session.status in ("failed", "canceled"):
        async with transaction():
            await write_all(*statements)
            await inventory.release(cart_id, "payment_failed")
        raise CaravanError(errors.PAYMENT_FAILED, reason=session.status)
    opened = PaymentSessionRead(
        id=payment_id,
        cart_id=cart_id,
        provider=provider.code,
        status=session.status,
        amount=request.amount,
        currency=request.currency,
        next_action=session.next_action,
        reserved_until=expires,
    )
    await write_all(*statements, *idempotency.saving(201, opened))
    return opened


def _cancel_open_payments(cart_id: str) -> tuple[str, list[Any]]:
    """The statement marking the cart's open sessions superseded, and its parameters."""
    return (
        "UPDATE payments SET status = 'canceled', updated_at = {} "
        "WHERE cart_id = {} AND status IN ('pending', 'requires_action') RETURNING id",
        [now(), cart_id],
    )


_PAYMENT_COLUMNS = tuple(column._meta.db_column_name for column in Payment._meta.columns)
_PAYMENT_SELECT = ", ".join(f"p.{name} AS x_{name}" for name in _PAYMENT_COLUMNS)
#: The cart's latest live payment, joined to the cart (:func:`_with_payment`). The
#: ``cart_id`` condition lets PostgreSQL find it by the cart's index whatever the
#: statistics its plan was made with.
_PAYMENT_JOIN = (
    "LEFT JOIN payments p ON p.cart_id = c.id AND p.id = (SELECT q.id FROM payments q "  # noqa: S608
    "WHERE q.cart_id = c.id "
    f"AND q.status IN ({placeholders(_LIVE)}) ORDER BY q.id DESC LIMIT 1)"
)


def _with_payment(cart_id: str) -> cart_state.Along:
    """The cart's latest live payment and whether the cart's stock is still held (for
    long enough to place the order: :func:`core.inventory.service.holds_sql`), to read
    with the cart."""
    held, params = inventory.holds_sql(cart_id)
    return cart_state.Along(
        f"{_PAYMENT_SELECT}, {held} AS x_held", _PAYMENT_JOIN, [*params, *_LIVE]
    )


def _latest_payment(joined: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The payment and the hold read by :func:`_with_payment`, else 409 (no live payment)."""
    if joined["id"] is None:
        raise CaravanError(errors.PAYMENT_SESSION_REQUIRED)
    payment = {name: joined[name] for name in _PAYMENT_COLUMNS}
    return decode_json(Payment, payment), bool(joined["held"])


async def _confirmed(provider: PaymentProvider, payment: dict[str, Any]) -> PaymentState:
    """The provider's report on the payment, captured if it was only authorized."""
    report = await providers.call(provider, provider.retrieve(payment["reference"]))
    if not isinstance(report, PaymentState) or report.status not in _STATUSES:
        raise providers.bad_answer(provider, "the report is not a PaymentState")
    if report.amount != payment["amount"] or report.captured > report.amount:
        raise providers.bad_answer(
            provider, f"amount {report.amount} / captured {report.captured} for {payment['amount']}"
        )
    if report.status == "authorized":
        report = await providers.call(
            provider,
            provider.capture(payment["reference"], payment["amount"], f"{payment['id']}:capture"),
        )
    return report


@one_catalog_read
async def complete(store_id: str, cart_id: str) -> OrderPlaced:
    """Place the order of a cart whose payment the provider confirmed (or, for manual
    providers, accepted to wait for)."""
    state = await cart_state.load(store_id, cart_id, _with_payment(cart_id))
    cart_state.check_open(state)
    payment, held = _latest_payment(state.joined)
    if payment["cart_version"] != state.version or payment["amount"] != state.row["total"]:
        raise CaravanError(errors.CART_CHANGED)
    if not held:
        raise CaravanError(errors.RESERVATION_EXPIRED)
    provider = _payment_provider(
        await providers.find(state.region.id, "payment", payment["provider"])
    )
    report = await _confirmed(provider, payment)
    if report.status in ("failed", "canceled"):
        async with transaction():
            await inventory.release(cart_id, "payment_failed")
            await write_all(_payment_update(payment["id"], report.status, report.captured))
        raise CaravanError(
            errors.PAYMENT_FAILED, reason=(report.failure_reason or report.status)[:200]
        )
    captured = report.captured if report.status == "captured" else 0
    if report.status != "captured" and not (report.status == "pending" and provider.manual):
        raise CaravanError(errors.PAYMENT_NOT_CONFIRMED, status=report.status)
    return await _place(state, payment, provider, report.status, captured)


def _payment_update(
    payment_id: str, status: str, captured: int, order_id: str | None = None
) -> tuple[str, list[Any]]:
    return (
        "UPDATE payments SET status = {}, captured = {}, updated_at = {}, "
        "order_id = COALESCE({}, order_id) WHERE id = {} RETURNING id",
        [status, captured, now(), order_id, payment_id],
    )


async def _place(
    state: CartState,
    payment: dict[str, Any],
    provider: PaymentProvider,
    status: str,
    captured: int,
) -> OrderPlaced:
    """Freeze the cart into an order, in one transaction with its stock, its events and
    the answer saved under the request's Idempotency-Key."""
    new = await _new_order(state, provider.code)
    order_id = new_id("order")
    number = await orders.next_number(state.store_id)
    stamp = now()
    # An order waiting for its (manual) payment holds its stock until canceled.
    along = [
        (
            "UPDATE carts SET status = 'completed', order_id = {}, completed_at = {}, "
            "updated_at = {} WHERE id = {} AND status = 'open' AND version = {} RETURNING id",
            [order_id, stamp, stamp, state.id, state.version],
        ),
        inventory.transfer_sql(state.id, order_id, expires_at=None),
        _payment_update(payment["id"], status, captured, order_id),
    ]
    placing = orders.placement(new, order_id=order_id, number=number, paid=captured)
    placed = OrderPlaced(
        order=placing.order,
        access_token=placing.token,
        next_action=msgspec.to_builtins(payment["next_action"]) or {},
    )
    saving = idempotency.saving(201, placed)
    async with transaction():
        if captured >= new.total:  # sold: the order's reservations leave stock
            _check_handed_over(await write_all(*along))
            await inventory.commit(order_id, order_id)
            along = []
        # A concurrent completion of the cart has its order already: a unique violation.
        counts = await unique_or_conflict(
            write_all(*along, *placing.statements, *saving), errors.CART_CHANGED
        )
        if along:
            _check_handed_over(counts[: len(along)])
    return placed


def _check_handed_over(counts: list[int]) -> None:
    """Refuse (rolling the placing transaction back) when the cart was not closed or its
    stock not handed to the order: the counts of the statements of :func:`_place`."""
    closed, moved, _ = counts
    if not closed:
        raise CaravanError(errors.CART_CHANGED)
    if not moved:
        raise CaravanError(errors.RESERVATION_EXPIRED)


async def _new_order(state: CartState, provider_code: str) -> orders.NewOrder:
    row, region = state.row, state.region
    facts = await variant_facts(
        state.store_id, region.currency, [line["variant"] for line in state.lines]
    )
    titles = await cart_reading.line_titles(state)
    shipping_tax = row["tax_total"] - sum(line["tax"] for line in state.lines)
    return orders.NewOrder(
        store_id=state.store_id,
        cart_id=state.id,
        region=OrderRegion(
            id=region.id,
            code=region.code,
            name=region.name,
            currency=region.currency,
            tax_inclusive=region.tax_inclusive,
        ),
        customer_id=row["customer_id"],
        email=row["email"],
        locale=row["locale"],
        shipping_address=state.address("shipping_address"),
        billing_address=state.address("billing_address"),
        shipping_method=state.shipping_method,
        lines=tuple(
            orders.NewLine(
                variant_id=line["variant"],
                product_id=line["product_id"],
                sku=facts[line["variant"]].sku if line["variant"] in facts else "",
                title=titles.get(line["product_id"], ""),
                variant_title=" / ".join(facts[line["variant"]].options.values())
                if line["variant"] in facts
                else "",
                quantity=line["quantity"],
                unit_price=line["unit_price"],
                subtotal=line["subtotal"],
                discount=line["discount"],
                tax=line["tax"],
                tax_rate=line["tax_rate"],
                total=line["total"],
            )
            for line in state.lines
        ),
        subtotal=row["subtotal"],
        discount_total=row["discount_total"],
        shipping_total=row["shipping_total"],
        shipping_tax=shipping_tax,
        tax_total=row["tax_total"],
        total=row["total"],
        payment_provider=provider_code,
        referral_code=row["referral_code"],
    )
