"""The order state machine: the transition table itself, and every admin action in
every state through the real API (illegal ones are a 409 that changes nothing)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from core.kernel.errors import CaravanError
from core.orders import states
from core.orders.states import STATUSES, TRANSITIONS
from tests.factories.orders import OrderShop, events_of

# ---------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------


def test_every_status_is_in_the_table_and_every_target_is_a_status() -> None:
    assert set(STATUSES) == {
        "pending",
        "paid",
        "partially_fulfilled",
        "fulfilled",
        "delivered",
        "partially_refunded",
        "refunded",
        "canceled",
    }
    for targets in TRANSITIONS.values():
        assert targets <= set(STATUSES)
    assert TRANSITIONS["refunded"] == TRANSITIONS["canceled"] == frozenset()


@pytest.mark.parametrize("current", STATUSES)
@pytest.mark.parametrize("target", STATUSES)
def test_check_allows_exactly_the_table(current: str, target: str) -> None:
    if target in TRANSITIONS[current]:
        states.check(1001, current, target)
        assert states.can(current, target)
        return
    assert not states.can(current, target)
    with pytest.raises(CaravanError) as caught:
        states.check(1001, current, target)
    assert caught.value.code == "illegal_order_transition"
    assert caught.value.status == 409
    assert caught.value.extra == {"status": current}
    assert caught.value.params == {"number": 1001, "status": current, "target": target}


def test_unknown_status_allows_nothing() -> None:
    assert not states.can("lost", "paid")


# ---------------------------------------------------------------------------
# Every action in every state, through the API
# ---------------------------------------------------------------------------

Action = Callable[[OrderShop, dict[str, Any]], Awaitable[Any]]


async def _mark_paid(shop: OrderShop, order: dict[str, Any]) -> Any:
    return await shop.admin("POST", f"/admin/orders/{order['id']}/mark-paid")


async def _fulfil(shop: OrderShop, order: dict[str, Any]) -> Any:
    lines = [
        {"line_id": line["id"], "quantity": max(1, line["quantity"] - line["fulfilled_quantity"])}
        for line in order["lines"]
    ]
    body = shop.shipment(lines)
    return await shop.admin("POST", f"/admin/orders/{order['id']}/fulfillments", json=body)


async def _deliver(shop: OrderShop, order: dict[str, Any]) -> Any:
    shipped = [f["id"] for f in order["fulfillments"] if f["status"] == "shipped"]
    target = shipped[0] if shipped else (order["fulfillments"] or [{"id": "ful_none"}])[0]["id"]
    return await shop.admin("POST", f"/admin/orders/{order['id']}/fulfillments/{target}/deliver")


async def _cancel(shop: OrderShop, order: dict[str, Any]) -> Any:
    return await shop.admin("POST", f"/admin/orders/{order['id']}/cancel")


async def _refund(shop: OrderShop, order: dict[str, Any]) -> Any:
    body = {"amount": 1, "reason": "goodwill"}
    return await shop.admin("POST", f"/admin/orders/{order['id']}/refunds", json=body)


#: Each admin action, what it moves the order to, and how to call it.
ACTIONS: dict[str, tuple[frozenset[str], Action]] = {
    "mark_paid": (frozenset({"paid"}), _mark_paid),
    "fulfil": (frozenset({"partially_fulfilled", "fulfilled"}), _fulfil),
    "deliver": (frozenset({"delivered"}), _deliver),
    "cancel": (frozenset({"canceled"}), _cancel),
    "refund": (frozenset({"partially_refunded", "refunded"}), _refund),
}


def allowed(state: str, action: str) -> bool:
    """Whether ``action`` may run on an order in ``state``: one of its targets is a
    transition of the table (delivering one of several shipments of a partially
    fulfilled order moves nothing, and is allowed)."""
    targets = ACTIONS[action][0]
    return bool(targets & TRANSITIONS[state]) or (state, action) == (
        "partially_fulfilled",
        "deliver",
    )


ILLEGAL = [(s, a) for s in STATUSES for a in ACTIONS if not allowed(s, a)]
LEGAL = [(s, a) for s in STATUSES for a in ACTIONS if allowed(s, a)]


async def drive(shop: OrderShop, state: str, *, shipped: bool = False) -> str:
    """A new order (two units of one line) brought into ``state`` through the API;
    ``shipped`` ships everything first where the state allows it."""
    order_id: str = (await shop.order((0, 2)))["order"]["id"]
    if state == "pending":
        return order_id
    if state == "canceled":
        await shop.act(order_id, "cancel")
        return order_id
    order = await shop.act(order_id, "mark-paid")
    if state in ("fulfilled", "delivered") or (state == "partially_refunded" and shipped):
        order = await shop.ship_all(order_id)
    if state == "partially_fulfilled":
        line = order["lines"][0]["id"]
        await shop.act(
            order_id, "fulfillments", shop.shipment([{"line_id": line, "quantity": 1}]), 201
        )
    if state == "delivered":
        await shop.act(order_id, f"fulfillments/{order['fulfillments'][0]['id']}/deliver")
    if state == "partially_refunded":
        await shop.act(order_id, "refunds", {"amount": 100}, 201)
    if state == "refunded":
        await shop.act(order_id, "refunds", {"amount": order["paid_total"]}, 201)
    assert (await shop.get(order_id))["status"] == state
    return order_id


def test_the_pairs_cover_every_state_and_action() -> None:
    assert len(ILLEGAL) + len(LEGAL) == len(STATUSES) * len(ACTIONS)
    assert {s for s, _ in ILLEGAL} == set(STATUSES)
    assert len(ILLEGAL) == 26


async def test_every_illegal_transition_is_refused_and_changes_nothing(shop: OrderShop) -> None:
    orders = {state: await drive(shop, state) for state in STATUSES}
    failures = []
    for state, action in ILLEGAL:
        order_id = orders[state]
        before = await shop.get(order_id)
        events = await events_of(order_id)
        r = await ACTIONS[action][1](shop, before)
        body = r.json()
        if r.status_code != 409 or body.get("code") != "illegal_order_transition":
            failures.append(f"{action} in {state}: {r.status_code} {r.text[:200]}")
            continue
        if body["extra"] != {"status": state}:
            failures.append(f"{action} in {state}: extra {body['extra']}")
        if await shop.get(order_id) != before or await events_of(order_id) != events:
            failures.append(f"{action} in {state} changed the order")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(("state", "action"), LEGAL, ids=[f"{s}-{a}" for s, a in LEGAL])
async def test_every_legal_action_goes_through(shop: OrderShop, state: str, action: str) -> None:
    order_id = await drive(shop, state, shipped=action == "deliver")
    r = await ACTIONS[action][1](shop, await shop.get(order_id))
    assert 200 <= r.status_code < 300, r.text
    after = r.json()["status"]
    targets = ACTIONS[action][0]
    assert after in targets or (after == state and action == "deliver"), after
