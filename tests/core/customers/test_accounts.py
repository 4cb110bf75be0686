"""Customer accounts over real HTTP: registration, login, sessions, profile, password."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from typing import Any

import pytest

from core.customers import passwords
from core.customers.tables import Customer, CustomerSession, LoginAttempt
from core.db.engine import now
from core.plugins.testing.api import Api, StoreHandle
from tests.core.customers.helpers import PASSWORD, customers_of, email, field_errors, login, problem

ME = "/store/customers/me"


async def test_register_opens_a_session_and_login_finds_the_normalized_email(
    api: Api, store: StoreHandle
) -> None:
    address = email()
    made = await api.register_customer(
        store, email=f"  {address.upper()} ", first_name="Ada", locale="de-at", phone="+49 30 1234"
    )
    customer = made["customer"]
    assert made["token"].startswith("cst_")
    assert len(made["token"]) >= 40
    assert {k: customer[k] for k in ("email", "first_name", "locale", "phone")} == {
        "email": address.upper(),  # kept as typed, stripped of outer spaces
        "first_name": "Ada",
        "locale": "de_AT",
        "phone": "+49 30 1234",
    }
    assert customer["accepts_marketing"] is False
    assert customer["default_shipping_address_id"] is None

    r = await api.as_customer("GET", ME, store, made["token"])
    assert (r.status_code, r.json()) == (200, customer)
    assert r.headers["cache-control"] == "no-store"

    r = await login(api, store, f" {address.title()}  ")  # any case, outer spaces
    assert r.status_code == 200, r.text
    assert r.json()["customer"] == customer
    assert r.json()["token"] not in (made["token"], "")


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        ({"email": "not-an-email"}, [("email", "invalid_email")]),
        ({"email": "a b@example.com"}, [("email", "invalid_email")]),
        ({"email": "ada@localhost"}, [("email", "invalid_email")]),
        ({"password": "9 chars!!"}, [("password", "weak_password")]),
        ({"password": "x" * 129}, [("password", "weak_password")]),
        ({"password": " " * 12}, [("password", "weak_password")]),
        ({"locale": "xx_YY"}, [("locale", "invalid_locale")]),
        ({"phone": "call me"}, [("phone", "invalid_pattern")]),
        ({"password_hash": "scrypt$1$1$1$a$b"}, [("password_hash", "unknown_field")]),
        ({"email": "e" * 250 + "@x.io"}, [("email", "too_long")]),
    ],
    ids=lambda v: str(v)[:40],
)
async def test_register_refuses_bad_input_and_writes_nothing(
    api: Api, store: StoreHandle, overrides: dict[str, Any], errors: list[tuple[str, str]]
) -> None:
    body = {"email": email(), "password": PASSWORD, **overrides}
    r = await api.as_customer("POST", "/store/customers/register", store, None, json=body)
    assert field_errors(r) == errors
    assert await customers_of(api, store) == []


async def test_password_policy_bounds_are_accepted(api: Api, store: StoreHandle) -> None:
    for password in ("x" * 10, "y" * 128, "  spaced  ok  ", "密码密码密码密码密码"):
        made = await api.register_customer(store, email=email(), password=password)
        assert (await login(api, store, made["customer"]["email"], password)).status_code == 200


async def test_an_email_is_one_account_per_store(api: Api, store: StoreHandle) -> None:
    address = email()
    first = await api.register_customer(store, email=address)
    body = {"email": f" {address.upper()}", "password": "another password"}
    r = await api.as_customer("POST", "/store/customers/register", store, None, json=body)
    assert problem(r) == (409, "email_taken")
    assert [c["id"] for c in await customers_of(api, store)] == [first["customer"]["id"]]
    assert (await login(api, store, address, "another password")).status_code == 401


async def test_the_same_email_in_two_stores_is_two_customers(api: Api, store: StoreHandle) -> None:
    other = await api.ready_store()
    address = email()
    in_a = await api.register_customer(store, email=address, password="password of store a")
    in_b = await api.register_customer(other, email=address, password="password of store b")
    assert in_a["customer"]["id"] != in_b["customer"]["id"]

    assert (await login(api, store, address, "password of store a")).status_code == 200
    assert (await login(api, other, address, "password of store b")).status_code == 200
    assert problem(await login(api, other, address, "password of store a")) == (
        401,
        "invalid_credentials",
    )
    # A session opens only the store it was made in.
    r = await api.as_customer("GET", ME, other, in_a["token"])
    assert problem(r) == (401, "session_invalid")
    r = await api.as_customer("GET", ME, other, in_b["token"])
    assert r.json()["id"] == in_b["customer"]["id"]
    assert [c["id"] for c in await customers_of(api, other)] == [in_b["customer"]["id"]]


async def test_wrong_password_and_unknown_email_look_the_same_and_cost_the_same(
    api: Api, store: StoreHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = await api.register_customer(store, email=email())
    stored = await Customer.select(Customer.password_hash).where(
        Customer.id == made["customer"]["id"]
    )
    salts: list[bytes] = []
    real_kdf = passwords._kdf

    def spy(password: str, salt: bytes, n: int, r: int, p: int, size: int) -> bytes:
        salts.append(salt)
        return real_kdf(password, salt, n, r, p, size)

    monkeypatch.setattr(passwords, "_kdf", spy)
    wrong = await login(api, store, made["customer"]["email"], "not the password")
    unknown = await login(api, store, email(), "not the password")

    assert problem(wrong) == problem(unknown) == (401, "invalid_credentials")
    assert wrong.content == unknown.content
    assert {k: v for k, v in wrong.headers.items() if k != "date"} == {
        k: v for k, v in unknown.headers.items() if k != "date"
    }

    def salt_of(hashed: str) -> bytes:
        part = hashed.split("$")[4]
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))

    # One scrypt run each, with the same cost: the account's salt, then the dummy's.
    assert salts == [salt_of(stored[0]["password_hash"]), salt_of(passwords.DUMMY_HASH)]
    assert passwords.DUMMY_HASH.split("$")[:4] == stored[0]["password_hash"].split("$")[:4]


async def test_missing_bad_and_foreign_credentials_are_refused(
    api: Api, store: StoreHandle
) -> None:
    made = await api.register_customer(store, email=email())
    cases: list[tuple[dict[str, str], str]] = [
        ({}, "login_required"),
        ({"Authorization": "Bearer cst_unknown"}, "session_invalid"),
        ({"Authorization": "Bearer "}, "session_invalid"),
        ({"Authorization": f"Basic {made['token']}"}, "session_invalid"),
        ({"Authorization": f"Bearer {store.token}"}, "session_invalid"),  # a staff token
        ({"Authorization": f"Bearer {made['token']}x"}, "session_invalid"),
        ({"Authorization": f"Bearer {made['token'] + 'x' * 300}"}, "session_invalid"),
    ]
    for headers, code in cases:
        r = await api.as_customer("GET", ME, store, None, headers=headers)
        assert problem(r) == (401, code), headers
    # The publishable key is checked first: a session alone opens nothing.
    r = await api.client.get(ME, headers=api.bearer(made["token"]))
    assert problem(r) == (401, "invalid_publishable_key")


async def test_logout_revokes_only_that_session(api: Api, store: StoreHandle) -> None:
    made = await api.register_customer(store, email=email())
    second = (await login(api, store, made["customer"]["email"])).json()["token"]

    r = await api.as_customer("POST", "/store/customers/logout", store, made["token"])
    assert r.status_code == 204
    assert problem(await api.as_customer("GET", ME, store, made["token"])) == (
        401,
        "session_invalid",
    )
    r = await api.as_customer("POST", "/store/customers/logout", store, made["token"])
    assert problem(r) == (401, "session_invalid")
    assert (await api.as_customer("GET", ME, store, second)).status_code == 200


async def test_an_expired_session_is_refused(api: Api, store: StoreHandle) -> None:
    made = await api.register_customer(store, email=email())
    token_hash = hashlib.sha256(made["token"].encode()).hexdigest()
    await CustomerSession.update({CustomerSession.expires_at: now() - timedelta(seconds=1)}).where(
        CustomerSession.token_hash == token_hash
    )
    r = await api.as_customer("GET", ME, store, made["token"])
    assert problem(r) == (401, "session_invalid")


async def test_password_change_logs_out_the_other_sessions(api: Api, store: StoreHandle) -> None:
    made = await api.register_customer(store, email=email())
    address = made["customer"]["email"]
    other = (await login(api, store, address)).json()["token"]
    path = f"{ME}/password"

    body = {"current_password": "not the password", "new_password": "a new password"}
    r = await api.as_customer("POST", path, store, made["token"], json=body)
    assert field_errors(r) == [("current_password", "incorrect_password")]
    body = {"current_password": PASSWORD, "new_password": "short"}
    r = await api.as_customer("POST", path, store, made["token"], json=body)
    assert field_errors(r) == [("new_password", "weak_password")]
    assert (await api.as_customer("GET", ME, store, other)).status_code == 200  # nothing changed

    body = {"current_password": PASSWORD, "new_password": "a new password"}
    r = await api.as_customer("POST", path, store, made["token"], json=body)
    assert r.status_code == 204, r.text
    assert (await api.as_customer("GET", ME, store, made["token"])).status_code == 200
    assert problem(await api.as_customer("GET", ME, store, other)) == (401, "session_invalid")
    assert problem(await login(api, store, address)) == (401, "invalid_credentials")
    assert (await login(api, store, address, "a new password")).status_code == 200


async def test_customers_change_their_profile_but_not_their_email(
    api: Api, store: StoreHandle
) -> None:
    made = await api.register_customer(store, email=email(), phone="+1 555 0100", locale="en")
    token = made["token"]
    body = {"first_name": "Grace", "phone": None, "locale": "fr-ch", "accepts_marketing": True}
    r = await api.as_customer("PATCH", ME, store, token, json=body)
    assert r.status_code == 200, r.text
    changed = r.json()
    assert {k: changed[k] for k in ("first_name", "last_name", "phone", "locale")} == {
        "first_name": "Grace",
        "last_name": "Lovelace",
        "phone": None,
        "locale": "fr_CH",
    }
    assert changed["accepts_marketing"] is True

    for field in ("email", "password", "id"):
        r = await api.as_customer("PATCH", ME, store, token, json={field: "x@example.com"})
        assert field_errors(r) == [(field, "unknown_field")]
    r = await api.as_customer("PATCH", ME, store, token, json={"locale": "xx_YY"})
    assert field_errors(r) == [("locale", "invalid_locale")]
    assert (await api.as_customer("GET", ME, store, token)).json() == changed


async def test_passwords_and_tokens_are_not_stored_in_clear(api: Api, store: StoreHandle) -> None:
    address = email()
    made = await api.register_customer(store, email=address)
    await login(api, store, address, "a wrong password")  # leaves an attempt on record
    row = (
        await Customer.select(Customer.password_hash)
        .where(Customer.id == made["customer"]["id"])
        .first()
    )
    assert row is not None
    stored = row["password_hash"]
    scheme, n, r, p, salt, digest = stored.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    assert len(base64.urlsafe_b64decode(salt + "==")) == 16
    assert len(base64.urlsafe_b64decode(digest + "=")) == 32
    assert PASSWORD not in stored

    sessions = await CustomerSession.select().where(
        CustomerSession.customer == made["customer"]["id"]
    )
    assert [s["token_hash"] for s in sessions] == [
        hashlib.sha256(made["token"].encode()).hexdigest()
    ]
    assert made["token"] not in str(sessions)
    attempts = await LoginAttempt.select().where(LoginAttempt.store == store.id)
    assert len(attempts) == 1
    assert address not in str(attempts)


async def test_a_hash_of_an_older_cost_is_upgraded_at_login(api: Api, store: StoreHandle) -> None:
    made = await api.register_customer(store, email=email())
    salt = b"0123456789abcdef"
    old = passwords._encode(2**10, 8, 1, salt, passwords._kdf(PASSWORD, salt, 2**10, 8, 1, 32))
    where = Customer.id == made["customer"]["id"]
    await Customer.update({Customer.password_hash: old}).where(where)

    assert (await login(api, store, made["customer"]["email"])).status_code == 200
    row = await Customer.select(Customer.password_hash).where(where).first()
    assert row is not None
    assert row["password_hash"].split("$")[:4] == ["scrypt", "16384", "8", "1"]
    assert passwords.verify_password_sync(PASSWORD, row["password_hash"])


async def test_last_use_is_recorded_at_most_every_five_minutes(
    api: Api, store: StoreHandle
) -> None:
    made = await api.register_customer(store, email=email())
    where = CustomerSession.token_hash == hashlib.sha256(made["token"].encode()).hexdigest()

    async def last_used_after(minutes_ago: int) -> Any:
        await CustomerSession.update(
            {CustomerSession.last_used_at: now() - timedelta(minutes=minutes_ago)}
        ).where(where)
        before = now()
        assert (await api.as_customer("GET", ME, store, made["token"])).status_code == 200
        row = await CustomerSession.select(CustomerSession.last_used_at).where(where).first()
        assert row is not None
        return row["last_used_at"] >= before

    assert await last_used_after(4) is False
    assert await last_used_after(6) is True


async def test_a_new_login_sweeps_the_customers_dead_sessions(api: Api, store: StoreHandle) -> None:
    made = await api.register_customer(store, email=email())
    customer_id = made["customer"]["id"]
    await api.as_customer("POST", "/store/customers/logout", store, made["token"])
    assert await CustomerSession.count().where(CustomerSession.customer == customer_id) == 1

    fresh = (await login(api, store, made["customer"]["email"])).json()["token"]
    rows = await CustomerSession.select(CustomerSession.token_hash).where(
        CustomerSession.customer == customer_id
    )
    assert rows == [{"token_hash": hashlib.sha256(fresh.encode()).hexdigest()}]
