"""Periodic chores of a running deployment.

- release stock reservations past their expiry (carts abandoned before
  payment), so that the stock is sold again;
- forget ``Idempotency-Key`` records past their retention.

``caravan serve`` runs them next to its outbox worker, ``caravan worker``
too; each chore is safe to run in several processes at once (a reservation
is released by a conditional update, a key deleted at most once).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from core.checkout import idempotency
from core.inventory import service as inventory

log = logging.getLogger("caravan.housekeeping")


async def tidy() -> tuple[int, int]:
    """Run every chore once; returns (reservations released, keys forgotten)."""
    released = await inventory.sweep_expired()
    forgotten = await idempotency.sweep()
    return released, forgotten


async def run(interval: float, stop: asyncio.Event) -> None:
    """Run the chores every ``interval`` seconds until ``stop`` is set.

    A failed round (database unreachable…) is logged and retried at the next tick.
    """
    while not stop.is_set():
        try:
            released, forgotten = await tidy()
            if released or forgotten:
                log.info(
                    "released %d expired stock reservation(s), forgot %d idempotency key(s)",
                    released,
                    forgotten,
                )
        except Exception:
            log.exception("housekeeping round failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
