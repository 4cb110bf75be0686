"""The order state machine: every status and the transitions allowed out of it.

::

    pending ──► paid ──► partially_fulfilled ──► fulfilled ──► delivered
       │          │               │                  │             │
       ▼          ▼               ▼                  ▼             ▼
    canceled   canceled     partially_refunded ◄─────┴─────────────┘
                                  │
                                  ▼
                               refunded

A refund moves a paid order to ``partially_refunded`` or ``refunded`` (all
of ``paid_total`` given back); a partially refunded order can still be
fulfilled and delivered. ``canceled`` and ``refunded`` are final.
"""

from __future__ import annotations

from typing import Final, Literal

from core.kernel.errors import CaravanError
from core.orders.errors import ILLEGAL_TRANSITION

OrderStatus = Literal[
    "pending",
    "paid",
    "partially_fulfilled",
    "fulfilled",
    "delivered",
    "partially_refunded",
    "refunded",
    "canceled",
]

_REFUNDS: Final = frozenset({"partially_refunded", "refunded"})

TRANSITIONS: Final[dict[str, frozenset[str]]] = {
    "pending": frozenset({"paid", "canceled"}),
    "paid": frozenset({"partially_fulfilled", "fulfilled", "canceled"} | _REFUNDS),
    "partially_fulfilled": frozenset({"partially_fulfilled", "fulfilled"} | _REFUNDS),
    "fulfilled": frozenset({"delivered"} | _REFUNDS),
    "delivered": _REFUNDS,
    "partially_refunded": frozenset({"partially_fulfilled", "fulfilled", "delivered"} | _REFUNDS),
    "refunded": frozenset(),
    "canceled": frozenset(),
}
STATUSES: Final = tuple(TRANSITIONS)


def can(current: str, target: str) -> bool:
    """Whether an order in ``current`` may move to ``target``."""
    return target in TRANSITIONS.get(current, frozenset())


def check(number: int, current: str, target: str) -> None:
    """Raise 409 (with the current status) unless ``current`` → ``target`` is allowed."""
    if not can(current, target):
        raise CaravanError(
            ILLEGAL_TRANSITION,
            extra={"status": current},
            number=number,
            status=current,
            target=target,
        )
