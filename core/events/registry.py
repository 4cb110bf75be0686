"""The list of every event subscriber the core owns."""

from __future__ import annotations

from core.events.subscribers import Subscriber


def core_subscribers() -> list[Subscriber]:
    """Return the core's subscribers; every outbox worker runs them before the plugins'."""
    from core.affiliates.service import SUBSCRIBERS as AFFILIATES

    return [*AFFILIATES]
