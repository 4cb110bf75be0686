"""Builders of the catalog tests: product bodies and products made through the admin API."""

from __future__ import annotations

from typing import Any

from core.plugins.testing.api import Api, StoreHandle


def product_body(handle: str, **overrides: Any) -> dict[str, Any]:
    """A valid product with EN/DE content and one variant priced in EUR, USD and SGD."""
    body: dict[str, Any] = {
        "handle": handle,
        "status": "active",
        "translations": {
            "en": {"title": f"{handle} title", "description": "English"},
            "de": {"title": f"{handle} Titel", "description": "Deutsch"},
        },
        "options": [{"name": "Size", "values": ["S", "M"]}],
        "variants": [
            {
                "sku": f"{handle}-s".upper(),
                "options": {"Size": "S"},
                "weight_g": 500,
                "hs_code": "420221",
                "origin_country": "VN",
                "prices": [
                    {"amount": 1299, "currency": "EUR"},
                    {"amount": 1499, "currency": "USD"},
                    {"amount": 2190, "currency": "SGD"},
                ],
            },
            {
                "sku": f"{handle}-m".upper(),
                "options": {"Size": "M"},
                "prices": [{"amount": 1399, "currency": "EUR"}],
            },
        ],
    }
    body.update(overrides)
    return body


async def create_product(
    api: Api, store: StoreHandle, handle: str, **overrides: Any
) -> dict[str, Any]:
    r = await api.request(
        "POST", "/admin/products", store.token, json=product_body(handle, **overrides)
    )
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()
    return data
