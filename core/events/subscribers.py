"""Event subscribers: code of the core or of plugins that reacts to committed events.

Plugins return :class:`Subscriber` objects from the ``register_event_subscribers``
hook; the core's own are listed in :mod:`core.plugins.builtin`. The worker
runs each subscriber whose patterns match an event, after the transaction that
wrote the event committed, at least once per event: a handler must be
idempotent (``event.id`` is stable across retries).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Event:
    """A committed domain event as subscribers and webhooks see it."""

    id: str
    store_id: str
    type: str
    data: Mapping[str, Any]
    aggregate_id: str | None
    created_at: datetime


Handler = Callable[[Event], Awaitable[None]]


def type_matches(pattern: str, event_type: str) -> bool:
    """Whether ``event_type`` matches ``pattern``.

    ``*`` matches every type, ``order.*`` every type starting with
    ``order.`` (at any depth), anything else only itself.
    """
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return event_type.startswith(pattern[:-1])
    return pattern == event_type


def any_matches(patterns: Iterable[str], event_type: str) -> bool:
    """Whether one of ``patterns`` matches ``event_type`` (no patterns: every type)."""
    patterns = list(patterns)
    return not patterns or any(type_matches(p, event_type) for p in patterns)


@dataclass(frozen=True)
class Subscriber:
    """A named handler of the events whose type matches one of ``events``.

    Example::

        async def award_points(event: Event) -> None:
            ...

        Subscriber("loyalty-points", ("order.paid",), award_points)
    """

    name: str
    events: tuple[str, ...]
    handler: Handler

    def wants(self, event_type: str) -> bool:
        """Whether this subscriber handles events of ``event_type``."""
        return any(type_matches(p, event_type) for p in self.events)
