"""Staff's customer routes: search, pagination, one customer with addresses, changes."""

from __future__ import annotations

from core.plugins.testing.api import Api, StoreHandle, unique
from tests.core.customers.helpers import customers_of, email, field_errors, login, problem
from tests.matrix_support import address_body, make_token


async def test_search_by_email_and_name_in_the_own_store_only(api: Api, store: StoreHandle) -> None:
    tag = unique("q").replace("-", "")
    ana = await api.register_customer(
        store, email=f"ana.{tag}@example.com", first_name="Ana", last_name="Lima-Exlo"
    )
    bob = await api.register_customer(
        store, email=f"bob.{tag}@example.org", first_name="Bob", last_name="Stone_Lima"
    )
    other = await api.ready_store()
    await api.register_customer(other, email=f"ana.{tag}@example.com", first_name="Ana")
    ids = {"ana": ana["customer"]["id"], "bob": bob["customer"]["id"]}

    async def found(q: str) -> list[str]:
        names = {v: k for k, v in ids.items()}
        return [names[c["id"]] for c in await customers_of(api, store, q=q)]

    assert await found(tag) == ["bob", "ana"]  # newest first
    assert await found(f"ANA.{tag.upper()}") == ["ana"]
    assert await found("ana lima") == ["ana"]  # first and last name
    assert await found("LIMA") == ["bob", "ana"]
    assert await found("example.org") == ["bob"]
    assert await found("e_l") == ["bob"]  # "_" is a character, not a wildcard ("Exlo")
    assert await found("%") == []
    assert await found("nobody") == []
    r = await api.request("GET", "/admin/customers", store.token, params={"q": ""})
    assert field_errors(r) == [("q", "too_short")]


async def test_pages_list_every_customer_once(api: Api, store: StoreHandle) -> None:
    made = [(await api.register_customer(store, email=email()))["customer"]["id"] for _ in range(5)]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        r = await api.request("GET", "/admin/customers", store.token, params=params)
        assert r.status_code == 200, r.text
        seen += [c["id"] for c in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == made[::-1]


async def test_one_customer_with_the_address_book(api: Api, store: StoreHandle) -> None:
    made = await api.register_customer(store, email=email())
    customer_id = made["customer"]["id"]
    body = {"address": address_body(), "default_billing": True}
    r = await api.as_customer(
        "POST", "/store/customers/me/addresses", store, made["token"], json=body
    )
    entry = r.json()

    r = await api.request("GET", f"/admin/customers/{customer_id}", store.token)
    assert r.status_code == 200, r.text
    expected = {
        **made["customer"],
        "default_shipping_address_id": entry["id"],  # the first entry: the default for both
        "default_billing_address_id": entry["id"],
    }
    assert r.json() == {"customer": expected, "addresses": [entry]}
    assert "password_hash" not in r.text

    other = await api.ready_store()
    r = await api.request("GET", f"/admin/customers/{customer_id}", other.token)
    assert problem(r) == (404, "customer_not_found")
    assert entry["id"] not in r.text


async def test_staff_change_a_customer_but_not_the_password(api: Api, store: StoreHandle) -> None:
    made = await api.register_customer(store, email=email())
    taken = await api.register_customer(store, email=email())
    url = f"/admin/customers/{made['customer']['id']}"
    before = (await api.request("GET", url, store.token)).json()

    for body, errors in (
        ({"password": "a new password"}, [("password", "unknown_field")]),
        ({"email": "no-at-sign"}, [("email", "invalid_email")]),
        ({"locale": "xx_YY"}, [("locale", "invalid_locale")]),
    ):
        assert field_errors(await api.request("PATCH", url, store.token, json=body)) == errors
    r = await api.request(
        "PATCH", url, store.token, json={"email": taken["customer"]["email"].upper()}
    )
    assert problem(r) == (409, "email_taken")
    assert (await api.request("GET", url, store.token)).json() == before

    new_email = email()
    body = {"email": f" {new_email.upper()} ", "last_name": "Byron", "accepts_marketing": True}
    r = await api.request("PATCH", url, store.token, json=body)
    assert r.status_code == 200, r.text
    customer = r.json()["customer"]
    assert (customer["email"], customer["last_name"], customer["accepts_marketing"]) == (
        new_email.upper(),
        "Byron",
        True,
    )
    assert (await login(api, store, new_email)).status_code == 200
    assert problem(await login(api, store, made["customer"]["email"])) == (
        401,
        "invalid_credentials",
    )


async def test_reading_needs_customers_read_and_writing_customers_write(
    api: Api, store: StoreHandle
) -> None:
    made = await api.register_customer(store, email=email())
    reader, _ = await make_token(api, store, ["customers:read"])
    url = f"/admin/customers/{made['customer']['id']}"
    assert (await api.request("GET", url, reader)).status_code == 200
    r = await api.request("PATCH", url, reader, json={"first_name": "X"})
    assert problem(r) == (403, "missing_scope")
