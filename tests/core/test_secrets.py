"""Secrets in provider configurations: encrypted at rest, masked in every answer and log,
kept on reconfiguration, given to the provider only, re-encrypted by key rotation."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import msgspec
import pytest

from core.db.engine import fetch
from core.kernel import secrets
from core.kernel.errors import CaravanError
from core.kernel.secrets import MASK, Secret
from core.kernel.settings import Settings
from core.payments.providers import PaymentSessionRequest
from core.plugins.testing.api import Api, StoreHandle
from core.plugins.testing.fixtures import SECRET_KEY
from core.providers import runtime as providers
from core.providers.registry import provider_registry
from tests.core.checkout.fakes import FakePay

PLAINTEXT = "sk_live_51HxTopSecretValue"
#: How many times argv[1] occurs in the files argv[2:] (those that exist).
_SCAN = (
    "import os, sys; print(sum(open(p, 'rb').read().count(sys.argv[1].encode()) "
    "for p in sys.argv[2:] if os.path.exists(p)))"
)
CARAVAN = Path(sys.executable).with_name("caravan")


class KeyedPay(FakePay):
    """A card provider that needs an API key (a secret) and tells what it was given."""

    code = "keyed_pay"
    name = "Keyed card payments"

    class Config(msgspec.Struct, forbid_unknown_fields=True):
        api_key: Secret = ""
        webhook_secret: Secret = ""
        account: str = "acct_1"
        mode: str = "authorize"


@pytest.fixture(autouse=True)
def keyed() -> None:
    """The provider registered, and the suite's key in use (another test may have built
    an app of its own, with other settings, since the session's app was made)."""
    provider_registry().add(KeyedPay, "tests")
    secrets.use_keys(SECRET_KEY)


async def _shop(api: Api) -> tuple[StoreHandle, str]:
    store = await api.create_store()
    await api.add_region(store)
    return store, store.regions["eu"]["id"]


async def _activate(api: Api, store: StoreHandle, region_id: str, config: dict[str, Any]) -> Any:
    return await api.request(
        "PUT",
        f"/admin/regions/{region_id}/providers/payment/keyed_pay",
        store.token,
        json={"config": config},
    )


async def _stored(region_id: str) -> str:
    rows = await fetch(
        "SELECT config FROM region_providers WHERE region = {} AND provider_code = 'keyed_pay'",
        region_id,
    )
    return str(rows[0]["config"])


def test_secret_fields_are_write_only_in_the_published_schema() -> None:
    schema = msgspec.json.schema(KeyedPay.Config)
    fields = schema["$defs"]["Config"]["properties"]
    assert fields["api_key"]["writeOnly"] is True
    assert "writeOnly" not in fields["account"]
    assert secrets.secret_fields(KeyedPay.Config) == {"api_key", "webhook_secret"}


async def test_a_secret_is_encrypted_at_rest_masked_in_answers_and_logs_and_given_to_the_provider(
    api: Api, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    store, region_id = await _shop(api)
    answers = []
    made = await _activate(api, store, region_id, {"api_key": PLAINTEXT, "account": "acct_9"})
    assert made.status_code == 200, made.text
    answers.append(made.text)
    assert made.json()["config"] == {
        "api_key": MASK,
        "webhook_secret": "",
        "account": "acct_9",
        "mode": "authorize",
    }
    listed = await api.request("GET", f"/admin/regions/{region_id}/providers", store.token)
    answers.append(listed.text)
    installed = await api.request("GET", "/admin/providers", store.token)
    answers.append(installed.text)
    # Reconfigured with the mask sent back: the stored key is kept, the rest changes.
    again = await _activate(api, store, region_id, {"api_key": MASK, "account": "acct_10"})
    assert again.status_code == 200, again.text
    answers.append(again.text)

    stored = await _stored(region_id)
    assert PLAINTEXT not in stored
    assert "enc:v1:" in stored
    [provider] = await providers.active(region_id, "payment")
    assert isinstance(provider, KeyedPay)
    assert provider.config == KeyedPay.Config(api_key=PLAINTEXT, account="acct_10")
    session = await provider.create_session(
        PaymentSessionRequest(
            store_id=store.id, cart_id="cart_x", amount=100, currency="EUR", idempotency_key="k1"
        )
    )
    assert session.reference

    for text in answers:
        assert PLAINTEXT not in text
    assert PLAINTEXT not in caplog.text
    if settings.engine == "sqlite":  # the database file itself, as a dump would copy it
        # Read by another process: closing a file of the database here would drop this
        # process's SQLite locks (POSIX locks belong to the process, not the descriptor).
        path = settings.database_url.removeprefix("sqlite:///")
        assert await _occurrences("acct_10", path) > 0  # the scan sees what was written
        assert await _occurrences(PLAINTEXT, path) == 0
    else:
        dumped = await fetch("SELECT config::text AS c FROM region_providers")
        assert all(PLAINTEXT not in row["c"] for row in dumped)


async def test_a_new_secret_replaces_the_old_and_an_empty_one_clears_it(api: Api) -> None:
    store, region_id = await _shop(api)
    await _activate(api, store, region_id, {"api_key": PLAINTEXT})
    await _activate(api, store, region_id, {"api_key": "sk_live_other"})
    [provider] = await providers.active(region_id, "payment")
    assert provider.config.api_key == "sk_live_other"
    cleared = await _activate(api, store, region_id, {"api_key": ""})
    assert cleared.json()["config"]["api_key"] == ""
    [provider] = await providers.active(region_id, "payment")
    assert provider.config.api_key == ""


async def test_without_keys_a_secret_is_refused_and_nothing_is_written(api: Api) -> None:
    store, region_id = await _shop(api)
    secrets.use_keys("")
    try:
        refused = await _activate(api, store, region_id, {"api_key": PLAINTEXT})
    finally:
        secrets.use_keys(SECRET_KEY)
    assert refused.status_code == 503, refused.text
    assert refused.headers["retry-after"]
    rows = await fetch("SELECT id FROM region_providers WHERE region = {}", region_id)
    assert rows == []


async def test_key_rotation_re_encrypts_every_secret(
    api: Api, settings: Settings, tmp_path: Path
) -> None:
    store, region_id = await _shop(api)
    await _activate(api, store, region_id, {"api_key": PLAINTEXT, "webhook_secret": "whsec_1"})
    before = await _stored(region_id)
    new_key = secrets.new_key()
    rotate = await _caravan(settings, f"{new_key},{SECRET_KEY}", "secrets", "rotate")
    assert rotate.returncode == 0, rotate.stderr
    assert "re-encrypted the secrets of" in rotate.stdout
    after = await _stored(region_id)
    assert after != before
    assert PLAINTEXT not in after
    # Only the new key is left: the rotated secrets still open, with it alone.
    secrets.use_keys(new_key)
    try:
        providers.forget(region_id)
        [provider] = await providers.active(region_id, "payment")
        assert (provider.config.api_key, provider.config.webhook_secret) == (PLAINTEXT, "whsec_1")
    finally:
        secrets.use_keys(SECRET_KEY)
        providers.forget(region_id)
    # The old key alone no longer opens them: the provider fails closed (503), never
    # runs with a wrong key.
    providers.forget(region_id)
    with pytest.raises(CaravanError) as caught:
        await providers.active(region_id, "payment")
    assert caught.value.status == 503
    # Put back under the suite's key for the other tests' sake.
    back = await _caravan(settings, f"{SECRET_KEY},{new_key}", "secrets", "rotate")
    assert back.returncode == 0, back.stderr


async def _occurrences(needle: str, path: str) -> int:
    scan = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _SCAN, needle, path, path + "-wal", stdout=subprocess.PIPE
    )
    found, _ = await asyncio.wait_for(scan.communicate(), 60)
    assert scan.returncode == 0
    return int(found.decode())


async def _caravan(settings: Settings, keys: str, *args: str) -> Any:
    env = {
        **os.environ,
        "CARAVAN_DATABASE_URL": settings.database_url,
        "CARAVAN_SECRET_KEYS": keys,
    }
    process = await asyncio.create_subprocess_exec(
        str(CARAVAN), *args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return subprocess.CompletedProcess(args, process.returncode or 0, out.decode(), err.decode())


async def test_a_bad_key_stops_the_command_line_with_its_reason(settings: Settings) -> None:
    bad = await _caravan(settings, "not-a-key", "secrets", "rotate")
    assert bad.returncode == 1
    assert "CARAVAN_SECRET_KEYS must be comma-separated keys" in bad.stderr
