"""Money going back: refund bounds, provider refusals and outages, concurrent refunds,
and canceling (releasing or restocking the units, refunding what was captured)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from core.db.engine import fetch
from core.plugins.testing.api import Api, place_order
from tests.core.orders import fakes
from tests.core.orders.test_lifecycle import manual_record
from tests.factories.orders import STOCK, OrderShop, events_of, stock_of


async def refund_rows(order_id: str) -> list[dict[str, Any]]:
    """The order's refund rows, oldest first."""
    return await fetch(
        "SELECT amount, status FROM refunds WHERE order_id = {} ORDER BY id", order_id
    )


async def paid_order(shop: OrderShop, *lines: tuple[int, int]) -> dict[str, Any]:
    """A placed order marked paid; the admin view."""
    order = (await shop.order(*lines))["order"]
    return await shop.act(order["id"], "mark-paid")


async def test_a_refund_never_exceeds_what_is_left_and_bad_requests_change_nothing(
    shop: OrderShop,
) -> None:
    order = await paid_order(shop, (0, 2))
    order_id, line = order["id"], order["lines"][0]["id"]
    await shop.act(order_id, "refunds", {"amount": 1000}, 201)
    before, events = await shop.get(order_id), await events_of(order_id)
    left = order["paid_total"] - 1000
    url = f"/admin/orders/{order_id}/refunds"

    r = await shop.admin("POST", url, json={"amount": left + 1})
    assert r.status_code == 422
    assert r.json()["code"] == "refund_exceeds_refundable"
    assert r.json()["extra"] == {"refundable": left}
    bad_bodies = [
        ({"amount": 0}, "amount"),
        ({"amount": -5}, "amount"),
        ({"amount": "5"}, "amount"),
        ({"amount": 1.5}, "amount"),
        ({"amount": None}, "lines"),
        ({"amount": None, "lines": [{"line_id": line, "quantity": 3}]}, "lines[0].quantity"),
        ({"amount": None, "lines": [{"line_id": "oline_x", "quantity": 1}]}, "lines[0].line_id"),
        ({"amount": None, "lines": [{"line_id": line, "quantity": 0}]}, "lines[0].quantity"),
        ({"lines": []}, "amount"),
        ({"amount": 1, "refunded_total": 0}, "refunded_total"),
    ]
    for body, field in bad_bodies:
        r = await shop.admin("POST", url, json=body)
        assert r.status_code == 422, (body, r.text)
        assert field in [e["field"] for e in r.json()["errors"]], (body, r.text)
    assert await shop.get(order_id) == before
    assert await events_of(order_id) == events
    assert [r["amount"] for r in await refund_rows(order_id)] == [1000]

    last = await shop.act(order_id, "refunds", {"amount": left}, 201)
    assert last["status"] == "refunded"
    assert last["refunded_total"] == last["paid_total"]
    r = await shop.admin("POST", url, json={"amount": 1})
    assert r.status_code == 409
    assert r.json()["extra"] == {"status": "refunded"}


async def test_a_pending_order_has_nothing_to_refund(shop: OrderShop) -> None:
    order = (await shop.order())["order"]
    r = await shop.admin("POST", f"/admin/orders/{order['id']}/refunds", json={"amount": 1})
    assert r.status_code == 409
    assert r.json()["code"] == "illegal_order_transition"
    assert await refund_rows(order["id"]) == []


async def test_concurrent_refunds_never_give_back_more_than_was_captured(shop: OrderShop) -> None:
    order = await paid_order(shop, (0, 1))
    url = f"/admin/orders/{order['id']}/refunds"
    answers = await asyncio.gather(
        *(shop.admin("POST", url, json={"amount": order["paid_total"]}) for _ in range(8))
    )
    codes = sorted(r.status_code for r in answers)
    assert codes.count(201) == 1, [r.text for r in answers]
    assert all(
        r.json()["code"]
        in ("refund_in_progress", "refund_exceeds_refundable", "illegal_order_transition")
        for r in answers
        if r.status_code != 201
    )
    after = await shop.get(order["id"])
    assert after["refunded_total"] == after["paid_total"]
    assert [r["status"] for r in await refund_rows(order["id"])] == ["succeeded"]
    assert (await manual_record(order))["refunded"] == order["paid_total"]


@pytest.fixture
async def card_shop(api: Api) -> OrderShop:
    """A shop whose EU region takes card payments through :class:`fakes.RefundingPay`."""
    from tests.factories.orders import make_order_shop

    fakes.install()
    shop = await make_order_shop(api)
    await api.activate(shop.store, "eu", "payment", "orderpay")
    return shop


async def card_order(shop: OrderShop) -> dict[str, Any]:
    """An order paid by card at checkout."""
    cart = await place_order_with(shop, "orderpay")
    assert cart["status"] == "paid"
    return cart


async def place_order_with(shop: OrderShop, provider: str) -> dict[str, Any]:
    r = await shop.api.store_call(
        "POST",
        "/store/carts",
        shop.store,
        json={
            "region": "eu",
            "email": "card@example.com",
            "lines": [{"variant_id": shop.variants[0], "quantity": 1}],
        },
    )
    cart_id = r.json()["id"]
    from core.plugins.testing.api import address

    await shop.api.store_call(
        "PATCH", f"/store/carts/{cart_id}", shop.store, json={"shipping_address": address()}
    )
    options = (
        await shop.api.store_call("GET", f"/store/carts/{cart_id}/shipping-options", shop.store)
    ).json()
    await shop.api.store_call(
        "PUT",
        f"/store/carts/{cart_id}/shipping-method",
        shop.store,
        json={"provider": options[0]["provider"], "option_id": options[0]["option_id"]},
    )
    r = await shop.api.pay_and_complete(shop.store, cart_id, provider)
    assert r.status_code == 201, r.text
    order: dict[str, Any] = r.json()["order"]
    return order


async def set_refunds(shop: OrderShop, mode: str) -> None:
    await shop.api.activate(shop.store, "eu", "payment", "orderpay", {"refunds": mode})


async def test_a_refused_refund_is_402_and_records_no_money(card_shop: OrderShop) -> None:
    order = await card_order(card_shop)
    await set_refunds(card_shop, "refuse")
    r = await card_shop.admin("POST", f"/admin/orders/{order['id']}/refunds", json={"amount": 100})
    assert r.status_code == 402
    assert r.json()["code"] == "refund_refused"
    assert "insufficient_funds" in r.json()["detail"]
    after = await card_shop.get(order["id"])
    assert (after["status"], after["refunded_total"]) == ("paid", 0)
    assert after["payments"][0]["refunded"] == 0
    assert [r["status"] for r in await refund_rows(order["id"])] == ["failed"]
    assert "order.refunded" not in await events_of(order["id"])


async def test_a_provider_outage_is_503_and_records_no_money(card_shop: OrderShop) -> None:
    order = await card_order(card_shop)
    await set_refunds(card_shop, "down")
    r = await card_shop.admin("POST", f"/admin/orders/{order['id']}/refunds", json={"amount": 100})
    assert r.status_code == 503
    assert r.headers["retry-after"]
    after = await card_shop.get(order["id"])
    assert (after["status"], after["refunded_total"]) == ("paid", 0)
    assert [r["status"] for r in await refund_rows(order["id"])] == ["error"]
    # The outage does not block a later refund once the provider is back.
    await set_refunds(card_shop, "succeed")
    ok = await card_shop.act(order["id"], "refunds", {"amount": 100}, 201)
    assert ok["refunded_total"] == 100


async def test_a_refund_whose_answer_was_lost_is_given_back_once(card_shop: OrderShop) -> None:
    order = await card_order(card_shop)
    before = len(fakes.REFUNDED)
    await set_refunds(card_shop, "lost")  # the provider refunds; its answer never arrives
    url = f"/admin/orders/{order['id']}/refunds"
    r = await card_shop.admin("POST", url, json={"amount": 100})
    assert r.status_code == 503
    assert [r["status"] for r in await refund_rows(order["id"])] == ["error"]
    # Another amount must wait until the unresolved one is settled.
    other = await card_shop.admin("POST", url, json={"amount": 50})
    assert (other.status_code, other.json()["code"]) == (409, "refund_in_progress")
    await set_refunds(card_shop, "succeed")
    ok = await card_shop.act(order["id"], "refunds", {"amount": 100}, 201)
    assert ok["refunded_total"] == 100
    assert len(fakes.REFUNDED) - before == 1  # the provider gave the money back once
    assert [r["status"] for r in await refund_rows(order["id"])] == ["succeeded"]
    assert [e for e in await events_of(order["id"]) if e == "order.refunded"] == ["order.refunded"]


async def test_a_pending_refund_counts_as_refunded(card_shop: OrderShop) -> None:
    order = await card_order(card_shop)
    await set_refunds(card_shop, "pending")
    after = await card_shop.act(order["id"], "refunds", {"amount": 100}, 201)
    assert (after["status"], after["refunded_total"]) == ("partially_refunded", 100)
    assert after["refunds"][0]["status"] == "pending"


async def test_mark_paid_is_for_manual_payments_only(card_shop: OrderShop) -> None:
    order = await card_order(card_shop)
    r = await card_shop.admin("POST", f"/admin/orders/{order['id']}/mark-paid")
    assert r.status_code == 409
    assert r.json()["extra"] == {"status": "paid"}


# ---------------------------------------------------------------------------
# Canceling
# ---------------------------------------------------------------------------


async def test_canceling_an_unpaid_order_releases_its_stock(shop: OrderShop) -> None:
    order = (await shop.order((0, 3)))["order"]
    assert await stock_of(shop.variants[0]) == (STOCK, 3)
    canceled = await shop.act(order["id"], "cancel?reason=customer+asked")
    assert canceled["status"] == "canceled"
    assert canceled["canceled_at"]
    assert canceled["refunded_total"] == 0
    assert canceled["refunds"] == []
    assert canceled["payments"][0]["status"] == "canceled"
    assert await stock_of(shop.variants[0]) == (STOCK, 0)
    assert (await manual_record(order))["status"] == "canceled"
    assert await events_of(order["id"]) == ["order.placed", "order.canceled"]
    note = next(t for t in canceled["timeline"] if t["kind"] == "cancel")
    assert note["data"] == {"reason": "customer asked"}
    r = await shop.admin("POST", f"/admin/orders/{order['id']}/mark-paid")
    assert r.status_code == 409
    assert r.json()["extra"] == {"status": "canceled"}


async def test_canceling_a_paid_order_refunds_everything_and_restocks(shop: OrderShop) -> None:
    order = await paid_order(shop, (0, 2), (1, 1))
    assert await stock_of(shop.variants[0]) == (STOCK - 2, 0)
    canceled = await shop.act(order["id"], "cancel")
    assert canceled["status"] == "canceled"
    assert canceled["refunded_total"] == canceled["paid_total"] == order["total"]
    assert [line["refunded_quantity"] for line in canceled["lines"]] == [2, 1]
    assert await stock_of(shop.variants[0]) == (STOCK, 0)
    assert await stock_of(shop.variants[1]) == (STOCK, 0)
    assert (await manual_record(order))["refunded"] == order["total"]
    assert await events_of(order["id"]) == [
        "order.placed",
        "order.paid",
        "order.refunded",
        "order.canceled",
    ]


async def test_a_refused_refund_leaves_the_paid_order_as_it_was(card_shop: OrderShop) -> None:
    order = await card_order(card_shop)
    stock = await stock_of(card_shop.variants[0])
    await set_refunds(card_shop, "refuse")
    r = await card_shop.admin("POST", f"/admin/orders/{order['id']}/cancel")
    assert r.status_code == 402
    after = await card_shop.get(order["id"])
    assert (after["status"], after["refunded_total"]) == ("paid", 0)
    assert await stock_of(card_shop.variants[0]) == stock


async def test_a_shipped_order_cannot_be_canceled(shop: OrderShop) -> None:
    order = await paid_order(shop, (0, 1))
    await shop.ship_all(order["id"])
    r = await shop.admin("POST", f"/admin/orders/{order['id']}/cancel")
    assert r.status_code == 409
    assert r.json()["extra"] == {"status": "fulfilled"}
    assert (await shop.get(order["id"]))["refunded_total"] == 0


async def test_cancel_and_refund_replay_under_the_same_idempotency_key(shop: OrderShop) -> None:
    order = await paid_order(shop, (0, 1))
    headers = {"Idempotency-Key": "refund-once"}
    url = f"/admin/orders/{order['id']}/refunds"
    first = await shop.admin("POST", url, json={"amount": 100}, headers=headers)
    again = await shop.admin("POST", url, json={"amount": 100}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert [r["amount"] for r in await refund_rows(order["id"])] == [100]
    other = await shop.admin("POST", url, json={"amount": 200}, headers=headers)
    assert other.status_code == 422


async def test_place_order_helper_checks_out_as_a_customer(api: Api, shop: OrderShop) -> None:
    made = await api.register_customer(shop.store)
    placed = await place_order(api, shop.store, [(shop.variants[0], 1)], session=made["token"])
    assert placed["order"]["customer_id"] == made["customer"]["id"]
