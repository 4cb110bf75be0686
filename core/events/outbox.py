"""The transactional outbox: :func:`emit` records a domain event with the state change.

Usage, inside the write transaction of the change the event reports::

    async with transaction():
        await Order.update(...)
        await emit(store_id, "order.paid", {"order_id": order_id}, aggregate_id=order_id)

The event row commits or rolls back together with the change, so a webhook
is never sent for a change that did not happen and never lost for one that
did. The worker (:mod:`core.events.worker`) delivers committed events.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from core.db import engine as db
from core.events.tables import OutboxEvent
from core.kernel.ids import new_id

#: Prefix of event ids.
EVENT_PREFIX = "evt"


async def emit(
    store_id: str,
    type: str,
    data: Mapping[str, Any],
    *,
    aggregate_id: str | None = None,
) -> str:
    """Record event ``type`` of store ``store_id`` with payload ``data``; return the event id.

    Must be awaited inside the caller's open ``async with transaction():``
    (the event commits or rolls back with the caller's writes); raises
    :class:`RuntimeError` otherwise. ``data`` must be JSON-serialisable
    (msgspec builtins: str, int, bool, None, lists, dicts, datetimes…).
    """
    if db.current().current_transaction.get() is None:
        raise RuntimeError(
            "core.events.emit() must be called inside an open `async with transaction():` "
            "so that the event commits or rolls back with the state change"
        )
    row = event_row(store_id, type, data, aggregate_id=aggregate_id)
    await db.insert(OutboxEvent, [row])
    return str(row["id"])


def event_row(
    store_id: str,
    type: str,
    data: Mapping[str, Any],
    *,
    aggregate_id: str | None = None,
) -> dict[str, Any]:
    """The outbox row of an event (see :func:`emit`), for a caller that inserts it
    with its other rows in one statement of its transaction."""
    return {
        "id": new_id(EVENT_PREFIX),
        "store": store_id,
        "type": type,
        "aggregate_id": aggregate_id,
        "payload": msgspec.to_builtins(dict(data)),
        "created_at": db.now(),
    }
