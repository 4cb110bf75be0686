"""Commissions, run by the outbox worker: recorded once when a referred order is paid,
reversed in proportion to what the order gives back, never recorded from a programme
that fails or answers impossibly, and asked only of the programmes of the order's region."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from core.affiliates.service import record_commissions, reversal, state_of
from core.db.engine import fetch, now, transaction
from core.events.outbox import emit
from core.events.subscribers import Event
from tests.core.affiliates import fakes
from tests.core.checkout import fakes as checkout_fakes
from tests.factories.affiliates import (
    Clock,
    activate,
    affiliate_events,
    commissions,
    event_of,
    redeliver,
    referred_order,
    run_worker,
)
from tests.factories.orders import OrderShop

TYPES = ("order.paid", "order.refunded", "order.canceled")
RECORDED = "affiliate.commission_recorded"
REVERSED = "affiliate.commission_reversed"


def _row(
    amount: int, reversed_amount: int = 0, state: str = "pending", **overrides: Any
) -> dict[str, Any]:
    """A commission row of the test programme for ANNA10 in EUR."""
    return {
        "provider_code": "kol_programme",
        "affiliate": "kol-anna",
        "referral_code": "ANNA10",
        "currency": "EUR",
        "amount": amount,
        "reversed_amount": reversed_amount,
        "state": state,
        **overrides,
    }


def _rows(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``found`` without the references (checked on their own)."""
    return [{k: v for k, v in row.items() if k != "reference"} for row in found]


async def test_a_referred_paid_order_earns_the_commission_once(shop: OrderShop) -> None:
    await activate(shop)
    order = await referred_order(shop, "ANNA10", (0, 2))
    assert (order["subtotal"], order["status"]) == (5_000, "paid")
    await run_worker()
    found = await commissions(order["id"])
    assert _rows(found) == [_row(500)]
    assert found[0]["reference"] == f"ref-{order['id']}"
    assert await affiliate_events(shop.store.id, order["id"]) == [(RECORDED, 500, 0)]
    asked = (order["region"]["id"], order["number"])
    assert fakes.CALLS.count(asked) == 1
    # The event handled again (a worker died before marking it dispatched): nothing new.
    await redeliver(await event_of(order["id"], "order.paid"))
    await run_worker()
    assert _rows(await commissions(order["id"])) == [_row(500)]
    assert await affiliate_events(shop.store.id, order["id"]) == [(RECORDED, 500, 0)]
    assert fakes.CALLS.count(asked) == 1


async def test_an_order_paid_at_checkout_earns_too(shop: OrderShop) -> None:
    checkout_fakes.install()
    await shop.api.activate(shop.store, "eu", "payment", "fakepay")
    await activate(shop)
    order = await referred_order(shop, "BEN-5", (0, 4), provider="fakepay")
    assert (order["status"], order["payment_provider"]) == ("paid", "fakepay")
    await run_worker()
    assert _rows(await commissions(order["id"])) == [
        _row(1_000, affiliate="kol-ben", referral_code="BEN-5")
    ]


async def test_two_deliveries_at_once_record_one_commission(shop: OrderShop) -> None:
    await activate(shop)
    order = await referred_order(shop, "ANNA10", (1, 3))
    event = Event(
        id=await event_of(order["id"], "order.paid"),
        store_id=shop.store.id,
        type="order.paid",
        data={"order_id": order["id"]},
        aggregate_id=order["id"],
        created_at=now(),
    )
    await asyncio.gather(record_commissions(event), record_commissions(event))
    await run_worker()
    assert _rows(await commissions(order["id"])) == [_row(399)]  # 10 % of 3 x 13.33
    assert await affiliate_events(shop.store.id, order["id"]) == [(RECORDED, 399, 0)]


async def test_every_active_programme_is_asked_and_unknown_codes_earn_nothing(
    shop: OrderShop,
) -> None:
    await activate(shop)
    await activate(shop, code="kol_second", basis_points=250)
    order = await referred_order(shop, "ANNA10", (0, 2))
    stranger = await referred_order(shop, "NOBODY", (0, 1))
    plain = await referred_order(shop, None, (0, 1))
    await run_worker()
    assert _rows(await commissions(order["id"])) == [
        _row(500),
        _row(125, provider_code="kol_second"),
    ]
    assert await commissions(stranger["id"]) == []
    assert await commissions(plain["id"]) == []
    asked = {number for _, number in fakes.CALLS}
    assert stranger["number"] in asked
    assert plain["number"] not in asked


async def test_a_refund_of_half_reverses_half_then_the_rest(shop: OrderShop) -> None:
    await activate(shop)
    order = await referred_order(shop, "ANNA10", (0, 2))
    await run_worker()
    half = order["paid_total"] // 2
    assert order["paid_total"] == 2 * half  # 50.00 + 4.90 shipping
    refunded = await shop.act(order["id"], "refunds", {"amount": half}, 201)
    assert refunded["status"] == "partially_refunded"
    await run_worker()
    assert _rows(await commissions(order["id"])) == [_row(500, 250, "partially_reversed")]
    events = [(RECORDED, 500, 0), (REVERSED, 500, 250)]
    assert await affiliate_events(shop.store.id, order["id"]) == events
    await redeliver(await event_of(order["id"], "order.refunded"))
    await run_worker()
    assert await affiliate_events(shop.store.id, order["id"]) == events

    await shop.act(order["id"], "refunds", {"amount": order["paid_total"] - half}, 201)
    await run_worker()
    assert _rows(await commissions(order["id"])) == [_row(500, 500, "reversed")]
    assert await affiliate_events(shop.store.id, order["id"]) == [*events, (REVERSED, 500, 500)]


async def test_canceling_a_paid_order_reverses_its_commission(shop: OrderShop) -> None:
    await activate(shop)
    order = await referred_order(shop, "BEN-5", (0, 1), (1, 1))
    await run_worker()
    amount = order["subtotal"] // 10
    assert amount == 383
    canceled = await shop.act(order["id"], "cancel?reason=changed+mind")
    assert canceled["status"] == "canceled"
    await run_worker()
    [row] = await commissions(order["id"])
    assert (row["affiliate"], row["amount"], row["reversed_amount"], row["state"]) == (
        "kol-ben",
        amount,
        amount,
        "reversed",
    )
    assert await affiliate_events(shop.store.id, order["id"]) == [
        (RECORDED, amount, 0),
        (REVERSED, amount, amount),
    ]


async def test_a_commission_recorded_after_a_refund_starts_reversed(shop: OrderShop) -> None:
    """The paid event handled late (its programme was down): the refunds that settled
    meanwhile already count."""
    await activate(shop)
    order = await referred_order(shop, "ANNA10", (0, 2))
    await shop.act(order["id"], "refunds", {"amount": order["paid_total"] // 2}, 201)
    await run_worker()
    assert _rows(await commissions(order["id"])) == [_row(500, 250, "partially_reversed")]
    assert await affiliate_events(shop.store.id, order["id"]) == [
        (RECORDED, 500, 250),
        (REVERSED, 500, 250),
    ]


@pytest.mark.parametrize(
    ("mode", "logged"),
    [
        ("raise", "provider_unavailable"),
        ("hang", "provider_unavailable"),
        ("negative", "commission -500 is not an integer from 0 to 5000"),
        ("above", "commission 5001 is not an integer from 0 to 5000"),
        ("float", "commission 500.0 is not an integer from 0 to 5000"),
    ],
)
async def test_a_failing_programme_records_nothing_and_is_retried(
    shop: OrderShop, clock: Clock, caplog: pytest.LogCaptureFixture, mode: str, logged: str
) -> None:
    await activate(shop, mode=mode)
    order = await referred_order(shop, "ANNA10", (0, 2))
    before = await shop.get(order["id"])
    with caplog.at_level(logging.WARNING):
        await run_worker(clock)
    assert await commissions(order["id"]) == []
    assert await affiliate_events(shop.store.id, order["id"]) == []
    assert await shop.get(order["id"]) == before
    expected = (
        f"no commission from affiliate provider kol_programme (plugin tests) "
        f"for order {order['number']}: {logged}"
    )
    assert expected in [record.getMessage() for record in caplog.records]
    [event] = await fetch(
        "SELECT status, attempts, last_error FROM outbox_events WHERE id = {}",
        await event_of(order["id"], "order.paid"),
    )
    assert (event["status"], event["attempts"]) == ("pending", 1)
    assert "kol_programme (plugin tests)" in event["last_error"]

    # Fixed by the merchant: the retry records the commission.
    await activate(shop)
    clock.advance(seconds=30)
    await run_worker(clock)
    assert _rows(await commissions(order["id"])) == [_row(500)]


async def test_a_programme_is_asked_only_for_orders_of_its_region(shop: OrderShop) -> None:
    await activate(shop, "eu")
    us = await referred_order(shop, "ANNA10", (0, 1), region="us")
    eu = await referred_order(shop, "ANNA10", (0, 1))
    await run_worker()
    assert await commissions(us["id"]) == []
    assert (us["region"]["id"], us["number"]) not in fakes.CALLS
    assert (eu["region"]["id"], eu["number"]) in fakes.CALLS
    assert _rows(await commissions(eu["id"])) == [_row(250)]


async def test_events_naming_no_order_of_the_store_are_let_through(
    shop: OrderShop, api: Any
) -> None:
    await activate(shop)
    theirs = await api.create_store()
    order = await referred_order(shop, "ANNA10", (0, 1))
    await run_worker()
    payloads = [{}, {"order_id": 7}, {"order_id": "order_nope"}]
    async with transaction():
        ids = [await emit(shop.store.id, "order.paid", data) for data in payloads]
        ids += [await emit(theirs.id, kind, {"order_id": order["id"]}) for kind in TYPES]
    await run_worker()
    for event_id in ids:
        [row] = await fetch("SELECT status, attempts FROM outbox_events WHERE id = {}", event_id)
        assert row == {"status": "dispatched", "attempts": 0}, event_id
    assert _rows(await commissions(order["id"])) == [_row(250)]


@pytest.mark.parametrize(
    ("amount", "paid", "refunded", "status", "taken_back"),
    [
        (500, 5_490, 0, "paid", 0),
        (500, 5_490, 2_745, "partially_refunded", 250),
        (999, 5_490, 2_745, "partially_refunded", 500),  # 499.5 rounds up: 499 still owed
        (999, 5_490, 1, "partially_refunded", 1),
        (999, 5_490, 5_489, "partially_refunded", 999),
        (999, 5_490, 5_490, "refunded", 999),
        (999, 5_490, 0, "canceled", 999),
        (0, 5_490, 2_745, "partially_refunded", 0),
    ],
)
def test_reversal_is_the_refunded_share_rounded_for_the_merchant(
    amount: int, paid: int, refunded: int, status: str, taken_back: int
) -> None:
    order = {"paid_total": paid, "refunded_total": refunded, "status": status}
    assert reversal(amount, order) == taken_back


@pytest.mark.parametrize(
    ("amount", "taken_back", "state"),
    [
        (500, 0, "pending"),
        (500, 1, "partially_reversed"),
        (500, 500, "reversed"),
        (0, 0, "pending"),
    ],
)
def test_the_state_says_how_much_is_taken_back(amount: int, taken_back: int, state: str) -> None:
    assert state_of(amount, taken_back) == state
