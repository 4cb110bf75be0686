"""The worker as it runs for real: inside the app's lifespan and as `caravan worker`."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import sys
from datetime import timedelta
from pathlib import Path

from litestar.testing import AsyncTestClient

from core.app import create_app
from core.checkout.tables import IdempotencyKey
from core.db import engine as db
from core.events import ssrf
from core.events.tables import WebhookDelivery
from core.kernel.ids import new_id
from core.kernel.settings import Settings
from core.plugins.current import current_host
from core.plugins.testing.api import Api
from tests.factories.events import Receiver, add_endpoint, emit_committed

CARAVAN = Path(sys.executable).with_name("caravan")


async def _stale_key(store_id: str) -> str:
    """An idempotency key past its retention: housekeeping deletes it."""
    past = db.now() - timedelta(seconds=1)
    key = new_id("stale")
    await IdempotencyKey.insert(
        IdempotencyKey(
            id=new_id("idem"),
            store=store_id,
            key=key,
            fingerprint="0" * 64,
            state="done",
            locked_until=past,
            expires_at=past,
        )
    )
    return key


async def _forgotten(key: str) -> bool:
    for _ in range(500):
        if not await IdempotencyKey.exists().where(IdempotencyKey.key == key):
            return True
        await asyncio.sleep(0.02)
    return False


async def _delivered(endpoint_id: str) -> int:
    return await WebhookDelivery.count().where(
        (WebhookDelivery.endpoint == endpoint_id) & (WebhookDelivery.status == "delivered")
    )


async def test_the_app_runs_a_worker_in_its_lifespan_and_stops_it(
    api: Api, receiver: Receiver, settings: Settings, dev_policy: ssrf.EgressPolicy
) -> None:
    store = await api.create_store()
    made = await add_endpoint(api, store, receiver.url())
    await emit_committed(store, "order.paid", {"via": "lifespan"})
    stale = await _stale_key(store.id)
    engine, bound = db.current(), [(t, t._meta.db) for t in current_host().tables]
    served = Settings(
        database_url=settings.database_url,
        pool_min=1,
        pool_max=2,
        worker_poll_interval=0.05,
        housekeeping_interval=0.05,
        webhooks_allow_loopback=True,
    )
    frozen = gc.get_freeze_count()
    try:
        app = create_app(served)
        # The test client serves the app (and its lifespan) on its own event loop.
        async with AsyncTestClient(app=app, base_url="http://caravan.test") as client:
            assert (await client.get("/health")).status_code == 200
            await asyncio.wait_for(receiver.arrived.wait(), 20)
            # What start-up built is out of the collector's full passes while serving.
            assert gc.get_freeze_count() > frozen
        # Leaving the block stopped the worker after it finished its batch, and the
        # housekeeping after its round (the first one starts with the lifespan).
    finally:
        db.bind(engine, [])
        for table, table_db in bound:
            table._meta.db = table_db
        ssrf.use_policy(dev_policy)
    assert gc.get_freeze_count() == frozen  # and back in them once stopped
    assert [r.json()["data"] for r in receiver.requests] == [{"via": "lifespan"}]
    assert not await IdempotencyKey.exists().where(IdempotencyKey.key == stale)
    assert await _delivered(made["endpoint"]["id"]) == 1


async def test_caravan_worker_runs_as_a_separate_process(
    api: Api, receiver: Receiver, settings: Settings, dev_policy: ssrf.EgressPolicy
) -> None:
    store = await api.create_store()
    made = await add_endpoint(api, store, receiver.url())
    await emit_committed(store, "order.paid", {"via": "cli"})
    stale = await _stale_key(store.id)
    env = {
        **os.environ,
        "CARAVAN_DATABASE_URL": settings.database_url,
        "CARAVAN_WEBHOOKS_ALLOW_LOOPBACK": "true",
        "CARAVAN_HOUSEKEEPING_INTERVAL": "0.05",
    }
    process = await asyncio.create_subprocess_exec(
        str(CARAVAN),
        "worker",
        "--poll-interval",
        "0.05",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await asyncio.wait_for(receiver.arrived.wait(), 30)
        for _ in range(250):
            if await _delivered(made["endpoint"]["id"]):
                break
            await asyncio.sleep(0.02)
        assert await _forgotten(stale)  # the housekeeping ran too
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr.decode()
    assert "outbox worker stopped" in stderr.decode()
    assert [r.json()["data"] for r in receiver.requests] == [{"via": "cli"}]
    assert await _delivered(made["endpoint"]["id"]) == 1
