"""The run-wide secret watch sees a secret where it must not be (so its silence means
something)."""

from __future__ import annotations

import logging

import httpx

from core.providers.registry import provider_registry
from tests.core.test_secrets import KeyedPay
from tests.secret_watch import SecretWatch

SECRET = "sk_live_watchme123"


async def test_the_watch_finds_a_secret_in_an_answer_and_a_log_record() -> None:
    provider_registry().add(KeyedPay, "tests")
    watch = SecretWatch()
    sent = httpx.Request(
        "PUT",
        "http://caravan.test/admin/regions/reg_1/providers/payment/keyed_pay",
        json={"config": {"api_key": SECRET, "account": "acct_public"}},
    )
    await watch.on_request(sent)
    assert watch.known == {SECRET}, "secret fields of the provider's Config are noted"
    await watch.on_request(
        httpx.Request(
            "PUT",
            "http://caravan.test/admin/regions/reg_1/providers/payment/keyed_pay",
            json={"config": {"account": "acct_public_account"}},
        )
    )
    assert watch.known == {SECRET}, "fields that are not secret are not"

    await watch.on_response(httpx.Response(200, text='{"ok": true}', request=sent))
    assert watch.leaks == []
    await watch.on_response(httpx.Response(200, text=f'{{"api_key": "{SECRET}"}}', request=sent))
    watch.emit(logging.LogRecord("caravan.x", logging.INFO, __file__, 1, "key %s", (SECRET,), None))
    assert len(watch.leaks) == 2
