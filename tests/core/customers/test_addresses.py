"""The address book over real HTTP: CRUD, defaults, validation and isolation."""

from __future__ import annotations

from typing import Any

import pytest

from core.customers import address_book
from core.plugins.testing.api import Api, StoreHandle
from tests.core.customers.helpers import email, field_errors, problem
from tests.matrix_support import address_body

BOOK = "/store/customers/me/addresses"


async def _add(api: Api, store: StoreHandle, token: str, **body: Any) -> dict[str, Any]:
    body = {"address": address_body(), **body}
    r = await api.as_customer("POST", BOOK, store, token, json=body)
    assert r.status_code == 201, r.text
    made: dict[str, Any] = r.json()
    return made


async def _book(api: Api, store: StoreHandle, token: str) -> list[dict[str, Any]]:
    r = await api.as_customer("GET", BOOK, store, token, params={"limit": 100})
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def _me(api: Api, store: StoreHandle, token: str) -> dict[str, Any]:
    me: dict[str, Any] = (await api.as_customer("GET", "/store/customers/me", store, token)).json()
    return me


async def test_address_book_crud(api: Api, store: StoreHandle) -> None:
    token = (await api.register_customer(store, email=email()))["token"]
    assert await _book(api, store, token) == []

    sent = address_body(line2="Hinterhaus", company="Matrix GmbH", phone="+49 30 555")
    first = await _add(api, store, token, address=sent)
    assert first["address"] == sent
    assert first["id"].startswith("caddr_")
    assert (first["default_shipping"], first["default_billing"]) == (True, True)  # the first
    r = await api.as_customer("GET", f"{BOOK}/{first['id']}", store, token)
    assert (r.status_code, r.json()) == (200, first)

    replaced = address_body(city="München", postal_code="80331")
    r = await api.as_customer(
        "PATCH", f"{BOOK}/{first['id']}", store, token, json={"address": replaced}
    )
    assert r.status_code == 200, r.text
    assert r.json()["address"] == replaced  # a whole replacement: line2, company… are gone
    assert (r.json()["default_shipping"], r.json()["default_billing"]) == (True, True)
    assert await _book(api, store, token) == [r.json()]

    r = await api.as_customer("DELETE", f"{BOOK}/{first['id']}", store, token)
    assert r.status_code == 204
    r = await api.as_customer("GET", f"{BOOK}/{first['id']}", store, token)
    assert problem(r) == (404, "address_not_found")
    me = await _me(api, store, token)
    assert (me["default_shipping_address_id"], me["default_billing_address_id"]) == (None, None)
    assert await _book(api, store, token) == []


async def test_one_default_each_for_shipping_and_billing(api: Api, store: StoreHandle) -> None:
    token = (await api.register_customer(store, email=email()))["token"]
    home = await _add(api, store, token)
    work = await _add(api, store, token, address=address_body(city="Köln"))
    assert (work["default_shipping"], work["default_billing"]) == (False, False)

    shop = await _add(api, store, token, default_shipping=True)
    me = await _me(api, store, token)
    assert (me["default_shipping_address_id"], me["default_billing_address_id"]) == (
        shop["id"],
        home["id"],
    )
    r = await api.as_customer(
        "PATCH", f"{BOOK}/{work['id']}", store, token, json={"default_billing": True}
    )
    assert (r.json()["default_shipping"], r.json()["default_billing"]) == (False, True)
    flags = {
        a["id"]: (a["default_shipping"], a["default_billing"])
        for a in await _book(api, store, token)
    }
    assert flags == {
        home["id"]: (False, False),
        work["id"]: (False, True),
        shop["id"]: (True, False),
    }
    # false on the default leaves no default; false on another entry changes nothing.
    r = await api.as_customer(
        "PATCH", f"{BOOK}/{home['id']}", store, token, json={"default_shipping": False}
    )
    assert r.status_code == 200
    r = await api.as_customer(
        "PATCH", f"{BOOK}/{shop['id']}", store, token, json={"default_shipping": False}
    )
    me = await _me(api, store, token)
    assert (me["default_shipping_address_id"], me["default_billing_address_id"]) == (
        None,
        work["id"],
    )
    # A new entry takes the use that has no default.
    fresh = await _add(api, store, token)
    assert (fresh["default_shipping"], fresh["default_billing"]) == (True, False)


@pytest.mark.parametrize(
    ("address", "errors"),
    [
        (address_body(country="XY"), [("address.country", "invalid_country")]),
        (address_body(country="ZZ"), [("address.country", "invalid_country")]),
        (address_body(country="de"), [("address.country", "invalid_pattern")]),
        ({**address_body(), "line1": ""}, [("address.line1", "too_short")]),
        ({k: v for k, v in address_body().items() if k != "city"}, [("address.city", "required")]),
        (address_body(state="Berlin"), [("address.state", "unknown_field")]),
        (address_body(phone="call me"), [("address.phone", "invalid_pattern")]),
    ],
    ids=["XY", "ZZ", "lowercase", "empty-line1", "no-city", "unknown-field", "phone"],
)
async def test_bad_addresses_are_refused_and_change_nothing(
    api: Api, store: StoreHandle, address: dict[str, Any], errors: list[tuple[str, str]]
) -> None:
    token = (await api.register_customer(store, email=email()))["token"]
    kept = await _add(api, store, token)
    r = await api.as_customer("POST", BOOK, store, token, json={"address": address})
    assert field_errors(r) == errors
    r = await api.as_customer(
        "PATCH", f"{BOOK}/{kept['id']}", store, token, json={"address": address}
    )
    assert field_errors(r) == errors
    assert await _book(api, store, token) == [kept]


async def test_the_book_holds_a_bounded_number_of_addresses(
    api: Api, store: StoreHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert address_book.MAX_ADDRESSES == 50
    monkeypatch.setattr(address_book, "MAX_ADDRESSES", 2)
    token = (await api.register_customer(store, email=email()))["token"]
    kept = [await _add(api, store, token), await _add(api, store, token)]
    r = await api.as_customer("POST", BOOK, store, token, json={"address": address_body()})
    assert problem(r) == (409, "address_book_full")
    assert r.json()["detail"] == "An address book holds at most 2 addresses; delete one first."
    assert await _book(api, store, token) == kept[::-1]


async def test_another_customers_addresses_are_not_found(api: Api, store: StoreHandle) -> None:
    owner = (await api.register_customer(store, email=email()))["token"]
    entry = await _add(api, store, owner)
    neighbour = (await api.register_customer(store, email=email()))["token"]
    other_store = await api.ready_store()
    stranger = (await api.register_customer(other_store, email=email()))["token"]
    url = f"{BOOK}/{entry['id']}"
    body = {"address": address_body(city="Changed"), "default_shipping": True}

    for who, where in ((neighbour, store), (stranger, other_store)):
        for method in ("GET", "PATCH", "DELETE"):
            r = await api.as_customer(method, url, where, who, json=body)
            assert problem(r) == (404, "address_not_found"), (method, r.text)
            assert "Matrixstrasse" not in r.text
        assert await _book(api, where, who) == []
    # The owner's session does not open the book in another store either.
    r = await api.as_customer("GET", url, other_store, owner)
    assert problem(r) == (401, "session_invalid")
    assert await _book(api, store, owner) == [entry]


async def test_the_book_needs_a_login(api: Api, store: StoreHandle) -> None:
    for method, path in (("GET", BOOK), ("POST", BOOK), ("DELETE", f"{BOOK}/caddr_x")):
        r = await api.as_customer(method, path, store, None, json={"address": address_body()})
        assert problem(r) == (401, "login_required"), path
