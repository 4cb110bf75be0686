"""Helpers the tests share: an API client that makes stores, regions and storefronts."""

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
