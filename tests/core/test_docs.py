"""The README's API tour is executed: every ``http`` block is sent, in order."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from core.app.demo import seed_demo
from core.kernel.settings import Settings
from core.plugins.testing.api import Api, unique

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCK = re.compile(r"```http\n(.*?)```", re.DOTALL)

#: Requests the tour shows failing on purpose, with the status they get.
EXPECTED_FAILURES = {"GET /store/products?limit=500": 422}

#: ``$NAME`` values later requests use, taken from an answer: request line → name → where.
CAPTURES: dict[str, dict[str, Callable[[Any], str]]] = {
    "GET /store/products/everyday-tote": {"VARIANT_ID": lambda d: d["variants"][0]["id"]},
    "POST /store/carts": {"CART_ID": lambda d: d["id"]},
    "GET /store/carts/$CART_ID/shipping-options": {"OPTION_ID": lambda d: d[0]["option_id"]},
    "POST /store/carts/$CART_ID/complete": {
        "ORDER_ID": lambda d: d["order"]["id"],
        "LINE_ID": lambda d: d["order"]["lines"][0]["id"],
    },
    "GET /admin/warehouses": {"WAREHOUSE_ID": lambda d: d["items"][0]["id"]},
    "POST /admin/orders/$ORDER_ID/fulfillments": {
        "FULFILLMENT_ID": lambda d: d["fulfillments"][0]["id"]
    },
    "POST /store/customers/login": {"CUSTOMER_TOKEN": lambda d: d["token"]},
}


def tour_requests() -> list[tuple[str, str, dict[str, str], str]]:
    """(method, path, headers, body) of every ``http`` block of the README."""
    requests = []
    for block in BLOCK.findall(README.read_text(encoding="utf-8")):
        head, _, body = block.partition("\n\n")
        lines = head.strip().splitlines()
        method, path = lines[0].split(" ", 1)
        headers = dict(line.split(": ", 1) for line in lines[1:])
        requests.append((method, path, headers, body.strip()))
    return requests


def _fill(text: str, values: dict[str, str]) -> str:
    return re.sub(r"\$([A-Z_]+)", lambda m: values[m.group(1)], text)


async def test_the_api_tour_runs(api: Api, settings: Settings, tmp_path: Path) -> None:
    requests = tour_requests()
    assert len(requests) >= 8, "the README lost its API tour"
    # "Orders, end to end" uses the demo store (a new one on a database kept between runs).
    demo = await seed_demo(
        settings=settings,
        handle=unique("demo"),
        credentials_file=tmp_path / "demo.json",
        api=api.client,
    )
    values = {
        "OPERATOR_TOKEN": api.operator_token,
        "DEMO_KEY": demo.stores[0].storefronts[0].publishable_key,
        "DEMO_ADMIN_TOKEN": demo.stores[0].admin_token,
    }
    handle = unique("northwind")
    answers: dict[str, Any] = {}
    orders: list[dict[str, Any]] = []
    for method, path, headers, body in requests:
        line = f"{method} {path}"
        # The tour's store handle must be new on a database kept between runs.
        content = _fill(body, values).replace('"northwind"', f'"{handle}"')
        r = await api.client.request(
            method,
            _fill(path, values),
            headers={k: _fill(v, values) for k, v in headers.items()},
            content=content.encode() if content else None,
        )
        expected = EXPECTED_FAILURES.get(line)
        if expected:
            assert r.status_code == expected, (line, r.text)
        else:
            assert r.status_code < 300, (line, r.status_code, r.text)
        data = msgspec.json.decode(r.content) if r.content else None
        answers[line] = data
        if isinstance(data, dict):
            if "admin_token" in data:
                values["ADMIN_TOKEN"] = data["admin_token"]
            if "publishable_key" in data:
                values["PUBLISHABLE_KEY"] = data["publishable_key"]
            if line == "POST /admin/regions":
                values.setdefault("REGION_ID", data["id"])
            if line.startswith("POST /admin/orders/"):
                orders.append(data)
        for name, where in CAPTURES.get(line, {}).items():
            values[name] = where(data)

    # What the prose says about the answers holds.
    [product] = answers["GET /store/products?limit=20"]["items"]
    assert product["title"] == "Canvas-Tasche"
    assert product["price"] == {"amount": 4900, "currency": "EUR", "formatted": "49,00\xa0€"}
    us = answers["GET /store/products/canvas-tote?region=us"]
    assert [v["sku"] for v in us["variants"]] == ["TOTE-OLV"]
    assert us["price"]["formatted"] == "$54.00"
    error = answers["GET /store/products?limit=500"]
    assert error["code"] == "validation_failed"
    assert [(e["field"], e["code"]) for e in error["errors"]] == [("limit", "out_of_range")]

    options = answers["GET /store/carts/$CART_ID/shipping-options"]
    assert [(o["name"], o["amount"]) for o in options] == [("Standard", 490), ("Express", 1490)]
    session = answers["POST /store/carts/$CART_ID/payment-sessions"]
    assert session["next_action"]["instructions"].startswith("Bitte überweisen Sie")
    # The order went from pending to paid, fulfilled, delivered and refunded.
    placed = answers["POST /store/carts/$CART_ID/complete"]["order"]
    assert (placed["status"], placed["total"], placed["tax_total"]) == ("pending", 5390, 860)
    assert [o["status"] for o in orders] == [
        "paid",
        "fulfilled",
        "delivered",
        "partially_refunded",
        "refunded",
    ]
    assert (orders[-1]["refunded_total"], orders[-1]["fulfillments"][0]["carrier"]) == (5390, "DHL")
    assert answers["POST /admin/webhooks/endpoints"]["secret"].startswith("whsec_")
