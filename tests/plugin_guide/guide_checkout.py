"""The README's plugin guide, end to end, with generated plugins installed.

Not collected with the suite (its name does not start with ``test_``):
``tests/core/test_scaffold.py`` runs it in a process whose path holds the
plugins ``caravan plugin new`` wrote (``gen_payment``, ``gen_tax``,
``gen_shipping``…), so that they load through their entry points like any
installed plugin, with ``CARAVAN_GUIDE_WHEEL`` naming the payment plugin's
built wheel. Its author lists it in the marketplace from what
``caravan plugins info`` prints and releases the wheel as a version; the
operator approves it; a store finds it, installs it (and the tax and shipping
plugins) granting what they ask for, activates them for its EU region, and a
shopper checks out through them; the US region, where they are not active,
never sees them.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from core.app.cli import main
from core.plugins.testing.api import Api, StoreHandle, address


def _wheel() -> bytes:
    """The payment plugin's built wheel (``uv build --wheel``)."""
    return Path(os.environ["CARAVAN_GUIDE_WHEEL"]).read_bytes()


async def _list_and_publish(api: Api) -> str:
    """The author's and the operator's steps; returns the package's name."""
    r = await api.request(
        "POST",
        "/marketplace/authors",
        None,
        json={"handle": "gen-author", "name": "Gen Payments Ltd", "email": "dev@gen.example"},
    )
    assert r.status_code == 201, r.text
    author = r.json()["token"]
    info = CliRunner().invoke(main, ["plugins", "info", "gen_payment"])
    assert info.exit_code == 0, info.output
    listing = json.loads(info.output)
    package = listing["manifest"]["name"]
    r = await api.request("POST", "/marketplace/author/listings", author, json=listing)
    assert r.status_code == 201, r.text
    wheel = _wheel()
    version = {
        "version": listing["manifest"]["version"],
        "caravan_api": listing["manifest"]["caravan_api"],
        "sha256": hashlib.sha256(wheel).hexdigest(),
        "size": len(wheel),
        "changelog": "First release.",
    }
    r = await api.request(
        "POST", f"/marketplace/author/listings/{package}/versions", author, json=version
    )
    assert r.status_code == 201, r.text
    r = await api.request("POST", f"/marketplace/author/listings/{package}/submit", author)
    assert r.json()["state"] == "in_review", r.text
    r = await api.request(
        "POST", f"/admin/marketplace/listings/{package}/approve", api.operator_token
    )
    assert r.json()["state"] == "published", r.text
    return str(package)


async def _install(api: Api, store: StoreHandle, package: str) -> None:
    """Install ``package``, granting what its listing (or the deployment) says it asks for."""
    r = await api.request("GET", f"/marketplace/plugins/{package}", None)
    if r.status_code == 200:
        assert r.json()["available"] is True
        permissions: list[Any] = r.json()["permissions"]
    else:
        plugins = (await api.request("GET", "/admin/plugins", store.token)).json()
        (found,) = [p for p in plugins if p["description"]["manifest"]["name"] == package]
        permissions = found["description"]["manifest"]["permissions"]
    r = await api.request(
        "PUT",
        f"/admin/installations/{package}",
        store.token,
        json={"permissions": permissions},
    )
    assert r.status_code == 200, r.text


async def test_generated_plugins_serve_a_checkout_in_the_region_they_are_active_in(
    api: Api,
) -> None:
    store = await api.create_store()
    await api.add_region(store, tax_inclusive=True)  # eu: EUR, DE FR…
    await api.add_region(
        store, code="us", name="United States", currency="USD", countries=["US"], locales=["en"]
    )
    await api.add_storefront(store)
    payment = await _list_and_publish(api)
    found = await api.request("GET", "/marketplace/plugins?kind=payment&q=gen", None)
    assert [p["package"] for p in found.json()["items"]] == [payment]
    for package in (payment, "caravan-gen-tax", "caravan-gen-shipping"):
        await _install(api, store, package)
    await api.activate(store, "eu", "payment", "gen_payment")
    await api.activate(store, "eu", "tax", "gen_tax", {"rate": "0.19"})
    await api.activate(store, "eu", "shipping", "gen_shipping", {"amount": 700})
    await api.activate(store, "us", "payment", "manual")
    variant = await api.add_variant_product(store, {"EUR": 11_900, "USD": 12_900})
    warehouse = await api.warehouse(store, ["eu", "us"])
    await api.stock(store, variant, warehouse, 5)

    cart = await api.ready_cart(store, [(variant, 1)])
    options = await api.store_call("GET", f"/store/carts/{cart['id']}/shipping-options", store)
    assert [(o["provider"], o["amount"]) for o in options.json()] == [("gen_shipping", 700)]
    chosen = await api.store_call(
        "PUT",
        f"/store/carts/{cart['id']}/shipping-method",
        store,
        json={"provider": "gen_shipping", "option_id": "standard"},
    )
    assert chosen.status_code == 200, chosen.text
    # 19 % included in 119.00 and in the 7.00 shipping: 19.00 + 1.12.
    assert (chosen.json()["tax_total"], chosen.json()["total"]) == (2_012, 12_600)
    placed = await api.pay_and_complete(store, cart["id"], "gen_payment")
    assert placed.status_code == 201, placed.text
    assert placed.json()["order"]["status"] == "paid"

    # The US region never calls them: no shipping options, no tax, and their codes refused.
    us = await api.cart(store, [(variant, 1)], region="us", email="us@example.com")
    r = await api.store_call(
        "PATCH", f"/store/carts/{us['id']}", store, json={"shipping_address": address("US")}
    )
    assert (r.status_code, r.json()["tax_total"]) == (200, 0)
    refused = await api.store_call(
        "POST", f"/store/carts/{us['id']}/payment-sessions", store, json={"provider": "gen_payment"}
    )
    assert refused.status_code == 422, refused.text
