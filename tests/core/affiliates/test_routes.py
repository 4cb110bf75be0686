"""``GET /admin/affiliate-commissions``: the store's commissions newest first, by affiliate
and by state, page by page; another store sees none of them."""

from __future__ import annotations

from typing import Any

from tests.factories.affiliates import activate, referred_order, run_worker
from tests.factories.orders import OrderShop

URL = "/admin/affiliate-commissions"


async def _list(shop: OrderShop, query: str = "") -> dict[str, Any]:
    r = await shop.admin("GET", f"{URL}{query}")
    assert r.status_code == 200, r.text
    page: dict[str, Any] = r.json()
    return page


async def test_the_listing_filters_by_affiliate_and_state_and_pages(shop: OrderShop) -> None:
    await activate(shop)
    anna = await referred_order(shop, "ANNA10", (0, 2))
    ben = await referred_order(shop, "BEN-5", (1, 1))
    anna_again = await referred_order(shop, "ANNA10", (1, 3))
    await run_worker()
    await shop.act(ben["id"], "cancel")
    await run_worker()

    everything = await _list(shop)
    assert everything["next_cursor"] is None
    [third, second, first] = everything["items"]
    assert [c["order_id"] for c in (first, second, third)] == [
        anna["id"],
        ben["id"],
        anna_again["id"],
    ]
    assert set(first) == {
        "id",
        "order_id",
        "order_number",
        "region_id",
        "provider",
        "affiliate",
        "referral_code",
        "reference",
        "currency",
        "amount",
        "reversed_amount",
        "state",
        "created_at",
        "updated_at",
    }
    assert first["id"].startswith("acom_")
    assert {k: first[k] for k in set(first) - {"id", "created_at", "updated_at"}} == {
        "order_id": anna["id"],
        "order_number": anna["number"],
        "region_id": anna["region"]["id"],
        "provider": "kol_programme",
        "affiliate": "kol-anna",
        "referral_code": "ANNA10",
        "reference": f"ref-{anna['id']}",
        "currency": "EUR",
        "amount": 500,
        "reversed_amount": 0,
        "state": "pending",
    }
    assert (second["affiliate"], second["amount"], second["reversed_amount"]) == (
        "kol-ben",
        133,
        133,
    )
    assert second["state"] == "reversed"

    by_anna = await _list(shop, "?affiliate=kol-anna")
    assert [c["order_id"] for c in by_anna["items"]] == [anna_again["id"], anna["id"]]
    reversed_ = await _list(shop, "?state=reversed")
    assert [c["order_id"] for c in reversed_["items"]] == [ben["id"]]
    pending_ben = await _list(shop, "?state=pending&affiliate=kol-ben")
    assert pending_ben["items"] == []
    assert (await _list(shop, "?affiliate=kol-nobody"))["items"] == []

    page = await _list(shop, "?limit=2")
    assert [c["id"] for c in page["items"]] == [third["id"], second["id"]]
    rest = await _list(shop, f"?limit=2&cursor={page['next_cursor']}")
    assert ([c["id"] for c in rest["items"]], rest["next_cursor"]) == ([first["id"]], None)


async def test_bad_filters_are_refused_and_other_stores_see_nothing(
    shop: OrderShop, api: Any
) -> None:
    await activate(shop)
    await referred_order(shop, "ANNA10", (0, 1))
    await run_worker()
    assert len((await _list(shop))["items"]) == 1
    refusals = {
        "?state=paid": ("state", "invalid_choice"),
        "?state=": ("state", "invalid_choice"),
        "?affiliate=": ("affiliate", "too_short"),
        f"?affiliate={'k' * 129}": ("affiliate", "too_long"),
        "?limit=0": ("limit", "out_of_range"),
        "?cursor=%25%25": ("cursor", "invalid_cursor"),
    }
    for query, (field, code) in refusals.items():
        r = await shop.admin("GET", f"{URL}{query}")
        assert r.status_code == 422, (query, r.text)
        assert [(e["field"], e["code"]) for e in r.json()["errors"]] == [(field, code)], query
    other = await api.create_store()
    r = await api.request("GET", URL, other.token)
    assert (r.status_code, r.json()) == (200, {"items": [], "next_cursor": None})
