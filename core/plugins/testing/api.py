"""An API client for tests: makes stores, regions, storefronts, carts and orders through the
real HTTP API, as a storefront and staff would (part of the plugin testing kit)."""

from __future__ import annotations

import itertools
import os
from typing import Any

import httpx
import msgspec
from httpx import Response

_counter = itertools.count(1)


def unique(prefix: str) -> str:
    """A handle unique within the test run (and across runs on a kept database)."""
    return f"{prefix}-{os.getpid()}-{next(_counter)}"


class StoreHandle(msgspec.Struct, kw_only=True):
    """A store made for a test: its id and owner token, plus what was added."""

    id: str
    handle: str
    token: str
    regions: dict[str, dict[str, Any]] = {}
    publishable_key: str | None = None
    storefront_id: str | None = None


class Api:
    """Thin helpers over the real HTTP API."""

    def __init__(self, client: httpx.AsyncClient, operator_token: str) -> None:
        self.client = client
        self.operator_token = operator_token

    @staticmethod
    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    async def request(
        self, method: str, path: str, token: str | None = None, **kwargs: Any
    ) -> Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if token:
            headers.update(self.bearer(token))
        return await self.client.request(method, path, headers=headers, **kwargs)

    async def create_store(self, **overrides: Any) -> StoreHandle:
        body = {
            "handle": unique("brand"),
            "name": "Test Brand",
            "base_currency": "EUR",
            "home_country": "DE",
            "default_locale": "en",
            **overrides,
        }
        r = await self.request("POST", "/admin/stores", self.operator_token, json=body)
        assert r.status_code == 201, r.text
        data = r.json()
        return StoreHandle(
            id=data["store"]["id"], handle=data["store"]["handle"], token=data["admin_token"]
        )

    async def add_region(self, store: StoreHandle, **overrides: Any) -> dict[str, Any]:
        body = {
            "code": "eu",
            "name": "Europe",
            "currency": "EUR",
            "countries": ["DE", "FR", "AT"],
            "locales": ["de", "fr", "en"],
            **overrides,
        }
        r = await self.request("POST", "/admin/regions", store.token, json=body)
        assert r.status_code == 201, r.text
        region: dict[str, Any] = r.json()
        store.regions[region["code"]] = region
        return region

    async def add_storefront(self, store: StoreHandle, **overrides: Any) -> str:
        body = {"name": "Web", "cors_origins": ["https://shop.example"], **overrides}
        r = await self.request("POST", "/admin/storefronts", store.token, json=body)
        assert r.status_code == 201, r.text
        data = r.json()
        store.publishable_key = data["publishable_key"]
        store.storefront_id = data["storefront"]["id"]
        return str(data["publishable_key"])

    async def shop(self, path: str, store: StoreHandle, **kwargs: Any) -> Response:
        headers = {"X-Publishable-Key": store.publishable_key or "", **kwargs.pop("headers", {})}
        return await self.client.get(path, headers=headers, **kwargs)

    async def ready_store(self) -> StoreHandle:
        """A store with EU (EUR; de/fr/en), US (USD) and SEA (SGD) regions and a storefront."""
        store = await self.create_store()
        eu = await self.add_region(store)
        await self.add_region(
            store, code="us", name="United States", currency="USD", countries=["US"], locales=["en"]
        )
        await self.add_region(
            store,
            code="sea",
            name="Southeast Asia",
            currency="SGD",
            countries=["SG", "MY"],
            locales=["en", "zh_Hans"],
        )
        await self.add_storefront(store, default_region=eu["id"])
        return store

    async def as_customer(
        self, method: str, path: str, store: StoreHandle, session: str | None, **kwargs: Any
    ) -> Response:
        """A storefront request of ``store``, logged in with the customer ``session`` token."""
        headers = {"X-Publishable-Key": store.publishable_key or "", **kwargs.pop("headers", {})}
        if session:
            headers.update(self.bearer(session))
        return await self.client.request(method, path, headers=headers, **kwargs)

    async def register_customer(self, store: StoreHandle, **overrides: Any) -> dict[str, Any]:
        """Register a customer account in ``store``: ``{"token", "expires_at", "customer"}``.

        The password is ``correct horse battery`` unless ``overrides`` says otherwise.
        """
        body = {
            "email": f"{unique('shopper')}@example.com",
            "password": "correct horse battery",
            "first_name": "Ada",
            "last_name": "Lovelace",
            **overrides,
        }
        r = await self.as_customer("POST", "/store/customers/register", store, None, json=body)
        assert r.status_code == 201, r.text
        made: dict[str, Any] = r.json()
        return made

    # -- commerce ---------------------------------------------------------------

    async def store_call(
        self, method: str, path: str, store: StoreHandle, **kwargs: Any
    ) -> Response:
        """A storefront request of any method with the store's publishable key."""
        headers = {"X-Publishable-Key": store.publishable_key or "", **kwargs.pop("headers", {})}
        return await self.client.request(method, path, headers=headers, **kwargs)

    async def add_variant_product(
        self, store: StoreHandle, prices: dict[str, int], **variant: Any
    ) -> str:
        """An active product with one variant priced in ``prices``; returns the variant id."""
        handle = unique("item")
        body = {
            "handle": handle,
            "status": "active",
            "translations": {"en": {"title": f"{handle} title"}},
            "variants": [
                {
                    "sku": handle.upper(),
                    "weight_g": 400,
                    "prices": [{"amount": a, "currency": c} for c, a in prices.items()],
                    **variant,
                }
            ],
        }
        r = await self.request("POST", "/admin/products", store.token, json=body)
        assert r.status_code == 201, r.text
        return str(r.json()["variants"][0]["id"])

    async def warehouse(self, store: StoreHandle, region_codes: list[str]) -> str:
        """A warehouse serving ``region_codes`` (first priority); returns its id."""
        r = await self.request(
            "POST",
            "/admin/warehouses",
            store.token,
            json={"code": unique("wh"), "name": "Main", "country": "DE"},
        )
        assert r.status_code == 201, r.text
        warehouse_id = str(r.json()["id"])
        for code in region_codes:
            region_id = store.regions[code]["id"]
            r = await self.request(
                "PUT",
                f"/admin/regions/{region_id}/warehouses",
                store.token,
                json={"warehouse_ids": [warehouse_id]},
            )
            assert r.status_code == 200, r.text
        return warehouse_id

    async def stock(self, store: StoreHandle, variant_id: str, warehouse_id: str, qty: int) -> None:
        """Receive ``qty`` units of a variant into a warehouse."""
        r = await self.request(
            "POST",
            f"/admin/variants/{variant_id}/inventory/{warehouse_id}/adjustments",
            store.token,
            json={"quantity": qty, "reason": "received"},
        )
        assert r.status_code in (200, 201), r.text

    async def activate(
        self,
        store: StoreHandle,
        region_code: str,
        kind: str,
        code: str,
        config: dict[str, Any] | None = None,
    ) -> None:
        """Activate a provider in a region."""
        region_id = store.regions[region_code]["id"]
        r = await self.request(
            "PUT",
            f"/admin/regions/{region_id}/providers/{kind}/{code}",
            store.token,
            json={"config": config or {}},
        )
        assert r.status_code == 200, r.text

    async def cart(
        self, store: StoreHandle, lines: list[tuple[str, int]], region: str = "eu", **body: Any
    ) -> dict[str, Any]:
        """A cart in ``region`` with ``lines`` (variant id, quantity)."""
        r = await self.store_call(
            "POST",
            "/store/carts",
            store,
            json={
                "region": region,
                "lines": [{"variant_id": v, "quantity": q} for v, q in lines],
                **body,
            },
        )
        assert r.status_code == 201, r.text
        data: dict[str, Any] = r.json()
        return data

    async def ready_cart(
        self, store: StoreHandle, lines: list[tuple[str, int]], country: str = "DE", **body: Any
    ) -> dict[str, Any]:
        """A cart with an email and a shipping address in ``country``, ready for payment."""
        cart = await self.cart(store, lines, email="buyer@example.com", **body)
        r = await self.store_call(
            "PATCH",
            f"/store/carts/{cart['id']}",
            store,
            json={"shipping_address": address(country)},
        )
        assert r.status_code == 200, r.text
        data: dict[str, Any] = r.json()
        return data

    async def pay_and_complete(
        self, store: StoreHandle, cart_id: str, provider: str = "manual", *, keyed: bool = False
    ) -> Response:
        """Open a payment session with ``provider``, then complete the cart (each under
        an ``Idempotency-Key`` of its own if ``keyed``)."""

        def key() -> dict[str, str]:
            return {"Idempotency-Key": unique("key")} if keyed else {}

        r = await self.store_call(
            "POST",
            f"/store/carts/{cart_id}/payment-sessions",
            store,
            json={"provider": provider},
            headers=key(),
        )
        if r.status_code != 201:
            return r
        return await self.store_call(
            "POST", f"/store/carts/{cart_id}/complete", store, headers=key()
        )


def address(country: str = "DE", **overrides: Any) -> dict[str, Any]:
    """A valid shipping address in ``country``."""
    return {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "line1": "Hauptstrasse 1",
        "city": "Berlin",
        "postal_code": "10115",
        "country": country,
        **overrides,
    }


async def builtin_providers(
    api: Api,
    store: StoreHandle,
    region_code: str,
    *,
    tax_rate: str | None = "0.19",
    shipping: int | None = 490,
) -> None:
    """Activate the built-in providers in a region: manual payment; rate-table tax with
    ``tax_rate`` for every country of the region (``None``: no tax provider); table-rate
    shipping with one zone over the region's countries and one rate costing ``shipping``
    (``None``: no shipping provider)."""
    region = store.regions[region_code]
    await api.activate(store, region_code, "payment", "manual")
    if tax_rate is not None:
        await api.activate(store, region_code, "tax", "rate_table")
        for country in region["countries"]:
            body = {"country": country, "rate": tax_rate}
            r = await api.request("POST", "/admin/tax-rates", store.token, json=body)
            assert r.status_code == 201, r.text
    if shipping is not None:
        await api.activate(store, region_code, "shipping", "table_rate")
        body = {"name": unique("zone"), "countries": region["countries"]}
        r = await api.request("POST", "/admin/shipping-zones", store.token, json=body)
        assert r.status_code == 201, r.text
        rate = {"name": "Standard", "amount": shipping, "currency": region["currency"]}
        r = await api.request(
            "POST", f"/admin/shipping-zones/{r.json()['id']}/rates", store.token, json=rate
        )
        assert r.status_code == 201, r.text


async def place_order(
    api: Api,
    store: StoreHandle,
    lines: list[tuple[str, int]],
    *,
    region: str = "eu",
    country: str | None = None,
    session: str | None = None,
    cart_changes: dict[str, Any] | None = None,
    provider: str = "manual",
    keyed: bool = False,
) -> dict[str, Any]:
    """Check out ``lines`` in ``region`` through the storefront API with ``provider``
    (choosing the first shipping option, if any); returns the completion's body
    (``order``, ``access_token``). ``session`` checks out as that logged-in customer;
    ``cart_changes`` are set on the cart with its address (and checked); ``keyed``
    sends the payment session and the completion under Idempotency-Keys."""
    country = country or store.regions[region]["countries"][0]
    auth = api.bearer(session) if session else {}
    body = {
        "region": region,
        "email": "buyer@example.com",
        "lines": [{"variant_id": v, "quantity": q} for v, q in lines],
    }
    r = await api.store_call("POST", "/store/carts", store, json=body, headers=auth)
    assert r.status_code == 201, r.text
    cart_id = r.json()["id"]
    changes = cart_changes or {}
    r = await api.store_call(
        "PATCH",
        f"/store/carts/{cart_id}",
        store,
        json={"shipping_address": address(country), **changes},
    )
    assert r.status_code == 200, r.text
    assert {name: r.json()[name] for name in changes} == changes, r.text
    r = await api.store_call("GET", f"/store/carts/{cart_id}/shipping-options", store)
    assert r.status_code == 200, r.text
    if options := r.json():
        choice = {"provider": options[0]["provider"], "option_id": options[0]["option_id"]}
        r = await api.store_call(
            "PUT", f"/store/carts/{cart_id}/shipping-method", store, json=choice
        )
        assert r.status_code == 200, r.text
    r = await api.pay_and_complete(store, cart_id, provider, keyed=keyed)
    assert r.status_code == 201, r.text
    placed: dict[str, Any] = r.json()
    return placed


# ---------------------------------------------------------------------------
# The marketplace
# ---------------------------------------------------------------------------


def manifest_fields(name: str, **overrides: Any) -> dict[str, Any]:
    """The fields of a valid plugin manifest of package ``name`` (with ``overrides``)."""
    return {
        "name": name,
        "version": "1.0.0",
        "author": "Caravan test suite",
        "summary": f"{name}: made for the test suite",
        "license": "MIT",
        "caravan_api": ">=1.0,<2",
        **overrides,
    }


class MarketAuthor:
    """A marketplace author signed up through the API."""

    def __init__(self, api: Api, handle: str, token: str) -> None:
        self.api, self.handle, self.token = api, handle, token

    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        return await self.api.request(method, path, self.token, **kwargs)


async def sign_up_author(api: Api, prefix: str = "author") -> MarketAuthor:
    """A new marketplace author."""
    handle = unique(prefix)
    body = {"handle": handle, "name": f"Author {handle}", "email": f"{handle}@example.com"}
    r = await api.request("POST", "/marketplace/authors", None, json=body)
    assert r.status_code == 201, r.text
    return MarketAuthor(api, handle, r.json()["token"])


async def list_plugin(
    author: MarketAuthor,
    listing: dict[str, Any],
    version: dict[str, Any],
    *,
    until: str = "in_review",
) -> dict[str, Any]:
    """List a plugin (``listing``: manifest and providers), release ``version``, submit
    it and, ``until="published"``, have the operator approve it; returns the listing
    as the last step answered."""
    package = listing["manifest"]["name"]
    r = await author.call("POST", "/marketplace/author/listings", json=listing)
    assert r.status_code == 201, r.text
    path = f"/marketplace/author/listings/{package}"
    r = await author.call("POST", f"{path}/versions", json=version)
    assert r.status_code == 201, r.text
    r = await author.call("POST", f"{path}/submit")
    assert r.status_code == 200, r.text
    if until == "published":
        approve = f"/admin/marketplace/listings/{package}/approve"
        r = await author.api.request("POST", approve, author.api.operator_token)
        assert r.status_code == 200, r.text
    found: dict[str, Any] = r.json()
    return found
