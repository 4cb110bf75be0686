"""Helpers of the customer tests."""

from __future__ import annotations

from typing import Any

from httpx import Response

from core.plugins.testing.api import Api, StoreHandle, unique

PASSWORD = "correct horse battery"


def email() -> str:
    """An email address unique in the test run."""
    return f"{unique('ada')}@example.com"


def problem(r: Response) -> tuple[int, str]:
    """``(status, code)`` of a problem response."""
    assert r.headers["content-type"].startswith("application/problem+json"), r.text
    return r.status_code, r.json()["code"]


def field_errors(r: Response) -> list[tuple[str, str]]:
    """The ``(field, code)`` pairs of a 422 problem."""
    assert problem(r) == (422, "validation_failed"), r.text
    return [(e["field"], e["code"]) for e in r.json()["errors"]]


async def login(api: Api, store: StoreHandle, address: str, password: str = PASSWORD) -> Response:
    """``POST /store/customers/login``."""
    body = {"email": address, "password": password}
    return await api.as_customer("POST", "/store/customers/login", store, None, json=body)


async def customers_of(api: Api, store: StoreHandle, **params: Any) -> list[dict[str, Any]]:
    """The store's customers as staff list them (one page of up to 100)."""
    r = await api.request("GET", "/admin/customers", store.token, params={"limit": 100, **params})
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items
