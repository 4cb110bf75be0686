"""Request and response bodies of webhook endpoints, deliveries and events."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from core.kernel.validation import Url

DeliveryStatus = Literal["pending", "delivered", "failed"]
EventStatus = Literal["pending", "dispatched"]

#: An event type or a pattern of them: ``order.paid``, ``order.*`` or ``*``.
EventPattern = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=64,
        pattern=r"^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?)$",
    ),
]
EventPatterns = Annotated[list[EventPattern], msgspec.Meta(max_length=50)]
Description = Annotated[str, msgspec.Meta(max_length=500)]


class EndpointCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A new webhook endpoint; ``event_types`` empty means every event."""

    url: Url
    description: Description = ""
    event_types: EventPatterns = []
    enabled: bool = True


class EndpointUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Changes to an endpoint; absent fields stay as they are."""

    url: Url | None = None
    description: Description | None = None
    event_types: EventPatterns | None = None
    enabled: bool | None = None


class EndpointRead(msgspec.Struct, kw_only=True):
    """A webhook endpoint (never its secret)."""

    id: str
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    #: Why the endpoint was disabled automatically (empty if it was not).
    disabled_reason: str
    created_at: datetime
    updated_at: datetime


class EndpointWithSecret(msgspec.Struct, kw_only=True):
    """An endpoint and its signing secret (shown on creation and rotation only)."""

    endpoint: EndpointRead
    secret: str


class DeliveryRead(msgspec.Struct, kw_only=True):
    """One event to one endpoint; ``id`` is the ``webhook-id`` header of every attempt."""

    id: str
    endpoint_id: str
    event_id: str
    event_type: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str
    delivered_at: datetime | None
    created_at: datetime


class AttemptRead(msgspec.Struct, kw_only=True):
    """One HTTP attempt of a delivery."""

    id: str
    delivery_id: str
    attempted_at: datetime
    success: bool
    status_code: int | None
    duration_ms: int
    error: str
    #: The first characters of the receiver's answer.
    response_excerpt: str


class EventRead(msgspec.Struct, kw_only=True):
    """An outbox event."""

    id: str
    type: str
    aggregate_id: str | None
    data: dict[str, Any]
    status: EventStatus
    created_at: datetime
    dispatched_at: datetime | None
