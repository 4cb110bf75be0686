"""An order's whole life through the real API: placed, paid by hand, shipped in parts,
delivered, returned, refunded; with exact amounts, stock, events and timeline."""

from __future__ import annotations

from typing import Any

from core.db.engine import fetch
from tests.factories.orders import STOCK, OrderShop, events_of, stock_of


async def manual_record(order: dict[str, Any]) -> dict[str, Any]:
    """The manual provider's own record of the order's payment."""
    rows = await fetch(
        "SELECT m.status, m.captured, m.refunded FROM manual_payments m "
        "JOIN payments p ON p.reference = m.id WHERE p.order_id = {}",
        order["id"],
    )
    assert len(rows) == 1
    return rows[0]


async def test_full_lifecycle_from_cart_to_delivered_returned_and_refunded(shop: OrderShop) -> None:
    placed = await shop.order((0, 2), (1, 1))
    order = placed["order"]
    order_id = order["id"]
    first, second = order["lines"]
    assert order["status"] == "pending"
    assert (order["subtotal"], order["shipping_total"], order["total"]) == (6333, 490, 6823)
    assert (first["tax"], second["tax"], order["shipping_tax"], order["tax_total"]) == (
        798,
        213,
        78,
        1089,
    )
    assert await stock_of(shop.variants[0]) == (STOCK, 2)

    paid = await shop.act(order_id, "mark-paid")
    assert paid["status"] == "paid"
    assert paid["paid_total"] == 6823
    assert paid["paid_at"]
    assert paid["payments"][0]["status"] == "captured"
    assert paid["payments"][0]["captured"] == 6823
    assert await stock_of(shop.variants[0]) == (STOCK - 2, 0)
    assert (await manual_record(order))["captured"] == 6823

    one = shop.shipment([{"line_id": first["id"], "quantity": 1}])
    part = await shop.act(order_id, "fulfillments", one, 201)
    assert part["status"] == "partially_fulfilled"
    assert [line["fulfilled_quantity"] for line in part["lines"]] == [1, 0]
    rest = shop.shipment(
        [{"line_id": first["id"], "quantity": 1}, {"line_id": second["id"], "quantity": 1}]
    )
    full = await shop.act(order_id, "fulfillments", rest, 201)
    assert full["status"] == "fulfilled"
    shipments = [f["id"] for f in full["fulfillments"]]
    assert full["fulfillments"][0]["tracking_url"] == "https://track.example/JD0001"
    half = await shop.act(order_id, f"fulfillments/{shipments[0]}/deliver")
    assert half["status"] == "fulfilled"
    assert [f["status"] for f in half["fulfillments"]] == ["delivered", "shipped"]
    done = await shop.act(order_id, f"fulfillments/{shipments[1]}/deliver")
    assert done["status"] == "delivered"

    # The guest asks to send one unit back with the order's access token.
    r = await shop.api.store_call(
        "POST",
        f"/store/orders/{order_id}/returns",
        shop.store,
        headers={"X-Order-Token": placed["access_token"]},
        json={"lines": [{"line_id": first["id"], "quantity": 1, "reason": "too small"}]},
    )
    assert r.status_code == 201, r.text
    (rma,) = r.json()["returns"]
    assert rma["status"] == "requested"
    assert rma["requested_by"] == "customer"
    body = {
        "warehouse_id": shop.warehouse,
        "lines": [{"line_id": first["id"], "quantity": 1}],
        "refund": True,
    }
    back = await shop.act(order_id, f"returns/{rma['id']}/receive", body)
    assert back["returns"][0]["status"] == "received"
    assert back["returns"][0]["refund_amount"] == 2500  # half of the line's 5000
    assert back["status"] == "partially_refunded"
    assert back["refunded_total"] == 2500
    assert back["lines"][0]["returned_quantity"] == 1
    assert back["lines"][0]["refunded_quantity"] == 1
    assert await stock_of(shop.variants[0]) == (STOCK - 1, 0)

    lines = [{"line_id": first["id"], "quantity": 1}, {"line_id": second["id"], "quantity": 1}]
    by_lines = await shop.act(order_id, "refunds", {"amount": None, "lines": lines}, 201)
    assert by_lines["refunded_total"] == 2500 + 2500 + 1333
    assert by_lines["status"] == "partially_refunded"
    final = await shop.act(order_id, "refunds", {"amount": 490, "reason": "shipping"}, 201)
    assert final["status"] == "refunded"
    assert final["refunded_total"] == final["paid_total"] == 6823
    assert [r["amount"] for r in final["refunds"]] == [2500, 3833, 490]
    assert {r["status"] for r in final["refunds"]} == {"succeeded"}
    assert final["payments"][0]["refunded"] == 6823
    assert (await manual_record(order))["refunded"] == 6823

    assert await events_of(order_id) == [
        "order.placed",
        "order.paid",
        "order.fulfilled",
        "order.fulfilled",
        "order.delivered",
        "return.requested",
        "return.received",
        "order.refunded",
        "order.refunded",
        "order.refunded",
    ]
    moves = [(t["from_status"], t["to_status"]) for t in final["timeline"] if t["kind"] == "status"]
    assert moves == [
        ("pending", "paid"),
        ("paid", "partially_fulfilled"),
        ("partially_fulfilled", "fulfilled"),
        ("fulfilled", "delivered"),
        ("delivered", "partially_refunded"),
        ("partially_refunded", "refunded"),
    ]
    staff = {t["actor"] for t in final["timeline"] if t["kind"] == "fulfillment"}
    assert len(staff) == 1
    assert staff.pop().startswith("staff:tok_")
    assert any(t["kind"] == "return" and t["actor"] == "guest" for t in final["timeline"])


async def test_line_refunds_are_integer_shares_that_add_up_to_the_line(shop: OrderShop) -> None:
    order = (await shop.order((1, 7), region="us"))["order"]
    line = order["lines"][0]
    assert (line["subtotal"], line["tax"], line["total"]) == (7007, 701, 7708)
    await shop.act(order["id"], "mark-paid")
    amounts = []
    for units in (2, 2, 3):
        body = {"amount": None, "lines": [{"line_id": line["id"], "quantity": units}]}
        after = await shop.act(order["id"], "refunds", body, 201)
        amounts.append(after["refunds"][-1]["amount"])
    assert amounts == [2202, 2202, 3304]
    assert sum(amounts) == line["total"]
    assert after["lines"][0]["refunded_quantity"] == 7
    assert after["status"] == "partially_refunded"  # shipping and its tax are left
    assert after["paid_total"] - after["refunded_total"] == order["total"] - line["total"]
    r = await shop.admin(
        "POST",
        f"/admin/orders/{order['id']}/refunds",
        json={"amount": None, "lines": [{"line_id": line["id"], "quantity": 1}]},
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "lines[0].quantity"


async def test_fulfilment_checks_quantities_warehouse_and_shipments(
    shop: OrderShop, api: Any
) -> None:
    order = (await shop.order((0, 2)))["order"]
    order_id, line = order["id"], order["lines"][0]["id"]
    await shop.act(order_id, "mark-paid")
    other = await api.create_store()
    r = await api.request(
        "POST", "/admin/warehouses", other.token, json={"code": "x", "name": "X", "country": "DE"}
    )
    assert r.status_code == 201, r.text
    foreign_warehouse = r.json()["id"]
    cases = [
        (shop.shipment([{"line_id": line, "quantity": 3}]), "lines[0].quantity", "out_of_range"),
        (
            shop.shipment([{"line_id": "oline_nope", "quantity": 1}]),
            "lines[0].line_id",
            "not_found",
        ),
        (
            shop.shipment([{"line_id": line, "quantity": 1}, {"line_id": line, "quantity": 1}]),
            "lines[1].line_id",
            "duplicate",
        ),
        (
            {
                **shop.shipment([{"line_id": line, "quantity": 1}]),
                "warehouse_id": foreign_warehouse,
            },
            "warehouse_id",
            "not_found",
        ),
    ]
    before = await shop.get(order_id)
    for body, field, code in cases:
        r = await shop.admin("POST", f"/admin/orders/{order_id}/fulfillments", json=body)
        assert r.status_code == 422, r.text
        assert [(e["field"], e["code"]) for e in r.json()["errors"]] == [(field, code)]
    assert await shop.get(order_id) == before

    for _ in range(2):
        one = shop.shipment([{"line_id": line, "quantity": 1}])
        shipped = await shop.act(order_id, "fulfillments", one, 201)
    first = shipped["fulfillments"][0]["id"]
    await shop.act(order_id, f"fulfillments/{first}/deliver")
    r = await shop.admin("POST", f"/admin/orders/{order_id}/fulfillments/{first}/deliver")
    assert r.status_code == 409
    assert r.json()["code"] == "fulfillment_already_delivered"
    r = await shop.admin("POST", f"/admin/orders/{order_id}/fulfillments/ful_nope/deliver")
    assert r.status_code == 404
    assert r.json()["code"] == "fulfillment_not_found"
    assert (await shop.get(order_id))["status"] == "fulfilled"


async def test_returns_are_bounded_by_what_shipped_and_arrive_in_parts(shop: OrderShop) -> None:
    order = (await shop.order((0, 3)))["order"]
    order_id, line = order["id"], order["lines"][0]["id"]
    await shop.act(order_id, "mark-paid")
    await shop.act(order_id, "fulfillments", shop.shipment([{"line_id": line, "quantity": 2}]), 201)
    r = await shop.admin(
        "POST",
        f"/admin/orders/{order_id}/returns",
        json={"lines": [{"line_id": line, "quantity": 3}]},
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["code"] == "out_of_range"
    made = await shop.act(order_id, "returns", {"lines": [{"line_id": line, "quantity": 2}]}, 201)
    rma = made["returns"][0]["id"]
    r = await shop.admin(
        "POST",
        f"/admin/orders/{order_id}/returns",
        json={"lines": [{"line_id": line, "quantity": 1}]},
    )
    assert r.status_code == 422  # both shipped units are already on their way back

    on_hand = await stock_of(shop.variants[0])
    one = {"warehouse_id": shop.warehouse, "lines": [{"line_id": line, "quantity": 1}]}
    first = await shop.act(order_id, f"returns/{rma}/receive", {**one, "restock": False})
    assert first["returns"][0]["status"] == "requested"
    assert first["returns"][0]["lines"][0]["received"] == 1
    assert await stock_of(shop.variants[0]) == on_hand  # not restocked
    second = await shop.act(order_id, f"returns/{rma}/receive", one)
    assert second["returns"][0]["status"] == "received"
    assert await stock_of(shop.variants[0]) == (on_hand[0] + 1, on_hand[1])
    assert second["refunded_total"] == 0
    assert second["status"] == "partially_fulfilled"
    r = await shop.admin("POST", f"/admin/orders/{order_id}/returns/{rma}/receive", json=one)
    assert r.status_code == 409
    assert r.json()["code"] == "return_not_open"
    r = await shop.admin("POST", f"/admin/orders/{order_id}/returns/ret_nope/receive", json=one)
    assert r.status_code == 404
    assert r.json()["code"] == "return_not_found"
    assert (await events_of(order_id))[-2:] == ["return.received", "return.received"]
