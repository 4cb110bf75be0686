"""Builders of the affiliate tests: a store selling through the built-in providers with the
test KOL programme active, orders placed with a referral code, and an outbox worker to run."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from core.db.engine import decode_json, fetch, now, write
from core.events.tables import OutboxEvent
from core.events.worker import Worker
from core.plugins.current import current_host
from core.plugins.testing.api import place_order
from tests.factories.events import drain
from tests.factories.orders import OrderShop

KOLS = {"ANNA10": "kol-anna", "BEN-5": "kol-ben"}


class Clock:
    """The worker's clock: the real time, moved forward by :meth:`advance`."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return now() + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


async def activate(
    shop: OrderShop, region: str = "eu", code: str = "kol_programme", **config: Any
) -> None:
    """Activate a test programme in ``region`` with the test KOLs (and ``config``)."""
    await shop.api.activate(shop.store, region, "affiliate", code, {"affiliates": KOLS, **config})


async def referred_order(
    shop: OrderShop,
    code: str | None,
    *lines: tuple[int, int],
    region: str = "eu",
    paid: bool = True,
    provider: str = "manual",
) -> dict[str, Any]:
    """Check out ``lines`` (variant index, quantity) in ``region`` with referral ``code``
    through the storefront API, paying with ``provider``; an order paid by hand (the
    manual provider) is then marked paid unless ``paid`` is false. Returns the order as
    the admin API shows it."""
    placed = await place_order(
        shop.api,
        shop.store,
        [(shop.variants[i], q) for i, q in lines or [(0, 2)]],
        region=region,
        cart_changes={"referral_code": code},
        provider=provider,
    )
    order = placed["order"]
    assert order["referral_code"] == code
    if order["status"] == "paid" or not paid:
        return await shop.get(order["id"])
    return await shop.act(order["id"], "mark-paid")


async def run_worker(clock: Clock | None = None, rounds: int = 100) -> None:
    """Run an outbox worker with its default subscribers until it finds nothing to do."""
    async with Worker(now=clock or now, subscribers=current_host().subscribers) as worker:
        await drain(worker, rounds=rounds)


async def commissions(order_id: str) -> list[dict[str, Any]]:
    """The order's commission rows, by provider code."""
    return await fetch(
        "SELECT provider_code, affiliate, referral_code, currency, amount, reversed_amount, "
        'state, reference FROM affiliate_commissions WHERE "order" = {} ORDER BY provider_code',
        order_id,
    )


async def affiliate_events(store_id: str, order_id: str) -> list[tuple[str, int, int]]:
    """The commission events of an order: (type, amount, reversed_amount), oldest first."""
    rows = await fetch(
        "SELECT type, payload FROM outbox_events WHERE store = {} AND type LIKE 'affiliate.%' "
        "ORDER BY id",
        store_id,
    )
    payloads = [(row["type"], decode_json(OutboxEvent, row)["payload"]) for row in rows]
    return [
        (kind, payload["amount"], payload["reversed_amount"])
        for kind, payload in payloads
        if payload["order_id"] == order_id
    ]


async def event_of(order_id: str, type: str) -> str:
    """The id of the order's event ``type``."""
    [row] = await fetch(
        "SELECT id FROM outbox_events WHERE aggregate_id = {} AND type = {}", order_id, type
    )
    return str(row["id"])


async def redeliver(event_id: str) -> None:
    """Put a dispatched event back in the outbox, as a worker that died before marking it
    dispatched would leave it."""
    await write(
        "UPDATE outbox_events SET status = 'pending', claimed_by = NULL, lease_until = NULL, "
        "dispatched_at = NULL WHERE id = {}",
        event_id,
    )
