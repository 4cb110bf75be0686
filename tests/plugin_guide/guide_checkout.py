"""The README's "Write a plugin" steps, end to end, with generated plugins installed.

Not collected with the suite (its name does not start with ``test_``):
``tests/core/test_scaffold.py`` runs it in a process whose path holds the
plugins ``caravan plugin new`` wrote (``gen_payment``, ``gen_tax``,
``gen_shipping``), so that they load through their entry points like any
installed plugin. A store activates them for its EU region and a shopper
checks out through them; the US region, where they are not active, never
sees them.
"""

from __future__ import annotations

from tests.support import Api, address


async def test_generated_plugins_serve_a_checkout_in_the_region_they_are_active_in(
    api: Api,
) -> None:
    store = await api.create_store()
    await api.add_region(store, tax_inclusive=True)  # eu: EUR, DE FR…
    await api.add_region(
        store, code="us", name="United States", currency="USD", countries=["US"], locales=["en"]
    )
    await api.add_storefront(store)
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
