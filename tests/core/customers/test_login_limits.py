"""Login brute force: at most 10 password checks per account per 15 minutes, counted
in the database (so every process shares the count), then 429 with Retry-After."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from core.customers import attempts
from core.customers.tables import LoginAttempt
from core.db.engine import now
from core.plugins.testing.api import Api, StoreHandle
from tests.core.customers.helpers import PASSWORD, email, field_errors, login, problem


async def _fail(api: Api, store: StoreHandle, address: str, times: int) -> None:
    for _ in range(times):
        r = await login(api, store, address, "a wrong password")
        assert problem(r) == (401, "invalid_credentials")


async def _age_attempts(store: StoreHandle, minutes: int) -> None:
    """Move the store's recorded attempts ``minutes`` into the past."""
    stamp = now() - timedelta(minutes=minutes)
    await LoginAttempt.update({LoginAttempt.attempted_at: stamp}).where(
        LoginAttempt.store == store.id
    )


async def test_the_eleventh_attempt_is_refused_with_retry_after(
    api: Api, store: StoreHandle
) -> None:
    assert attempts.MAX_FAILURES == 10
    assert timedelta(minutes=15) == attempts.WINDOW
    address = (await api.register_customer(store, email=email()))["customer"]["email"]
    await _fail(api, store, address, 10)

    r = await login(api, store, address)  # even the right password
    assert problem(r) == (429, "too_many_attempts")
    assert 870 <= int(r.headers["retry-after"]) <= 900
    assert r.json()["detail"] == (
        f"Too many failed logins for this account; retry after {r.headers['retry-after']} seconds."
    )
    # Other accounts of the store, and the same email in another store, are not locked.
    other = (await api.register_customer(store, email=email()))["customer"]["email"]
    assert (await login(api, store, other)).status_code == 200
    elsewhere = await api.ready_store()
    await api.register_customer(elsewhere, email=address)
    assert (await login(api, elsewhere, address)).status_code == 200

    # The window slides: once the attempts are 15 minutes old, login works again.
    await _age_attempts(store, 10)
    r = await login(api, store, address)
    assert problem(r) == (429, "too_many_attempts")
    assert 290 <= int(r.headers["retry-after"]) <= 300
    await _age_attempts(store, 16)
    assert (await login(api, store, address)).status_code == 200


async def test_unknown_emails_are_limited_too(api: Api, store: StoreHandle) -> None:
    address = email()
    await _fail(api, store, address, 10)
    assert problem(await login(api, store, address)) == (429, "too_many_attempts")
    # Registering it does not reset the count of the attempts made on it.
    await api.register_customer(store, email=address)
    assert problem(await login(api, store, address)) == (429, "too_many_attempts")


async def test_a_successful_login_clears_the_failures(api: Api, store: StoreHandle) -> None:
    address = (await api.register_customer(store, email=email()))["customer"]["email"]
    await _fail(api, store, address, 9)
    assert (await login(api, store, address)).status_code == 200
    await _fail(api, store, address, 9)  # 18 failures, never 10 in a row
    assert (await login(api, store, address)).status_code == 200


async def test_wrong_current_passwords_count_as_failed_logins(api: Api, store: StoreHandle) -> None:
    made = await api.register_customer(store, email=email())
    body = {"current_password": "a wrong password", "new_password": "a new password"}
    for _ in range(10):
        r = await api.as_customer(
            "POST", "/store/customers/me/password", store, made["token"], json=body
        )
        assert field_errors(r) == [("current_password", "incorrect_password")]
    body["current_password"] = PASSWORD
    r = await api.as_customer(
        "POST", "/store/customers/me/password", store, made["token"], json=body
    )
    assert problem(r) == (429, "too_many_attempts")
    assert problem(await login(api, store, made["customer"]["email"])) == (
        429,
        "too_many_attempts",
    )


async def test_concurrent_attempts_cannot_get_past_the_limit(api: Api, store: StoreHandle) -> None:
    address = (await api.register_customer(store, email=email()))["customer"]["email"]
    answers = await asyncio.gather(
        *(login(api, store, address, "a wrong password") for _ in range(25))
    )
    codes = [problem(r) for r in answers]
    checked = codes.count((401, "invalid_credentials"))
    assert checked <= 10  # a burst may be refused whole: never more than the limit gets in
    assert codes.count((429, "too_many_attempts")) == 25 - checked
    recorded = await LoginAttempt.count().where(LoginAttempt.store == store.id)
    assert recorded == checked  # refused attempts leave nothing behind
    await _fail(api, store, address, 10 - checked)  # the rest of the allowance, exactly
    assert problem(await login(api, store, address)) == (429, "too_many_attempts")
