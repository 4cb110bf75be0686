"""The transactional outbox, webhook endpoints, deliveries and delivery attempts."""

from __future__ import annotations

from piccolo.columns import JSON, Boolean, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from core.db.columns import id_column, timestamp_now
from core.db.engine import UNBOUND
from core.stores.tables import Store


class OutboxEvent(Table, tablename="outbox_events", db=UNBOUND):
    """A domain event, written in the same transaction as the state change it reports.

    ``status`` is ``pending`` until a worker has run the subscribers and
    fanned the event out to the webhook deliveries, then ``dispatched``
    (a pending event whose subscribers failed waits for ``lease_until``). A
    worker claims pending events by setting ``claimed_by`` and a lease
    (``lease_until``); an expired lease lets another worker take them.
    """

    caravan_indexes = (("status", "id"), ("store", "type", "id"))

    id = id_column()
    store = ForeignKey(Store, on_delete=OnDelete.cascade, null=False)
    type = Varchar(length=64)
    aggregate_id = Varchar(length=64, null=True, default=None)
    payload = JSON(default="{}")
    status = Varchar(length=16, default="pending")
    #: Failed runs of its subscribers so far, and the last failure.
    attempts = Integer(default=0)
    last_error = Varchar(length=500, default="")
    claimed_by = Varchar(length=64, null=True, default=None)
    lease_until = Timestamptz(null=True, default=None)
    dispatched_at = Timestamptz(null=True, default=None)
    created_at = timestamp_now()


class WebhookEndpoint(Table, tablename="webhook_endpoints", db=UNBOUND):
    """An HTTPS URL of a store that receives signed event notifications."""

    caravan_indexes = (("store", "id"),)

    id = id_column()
    store = ForeignKey(Store, on_delete=OnDelete.cascade, null=False)
    url = Varchar(length=2048)
    description = Varchar(length=500, default="")
    #: Event type patterns (``order.*``), JSON list; empty = every event.
    event_types = JSON(default="[]")
    enabled = Boolean(default=True)
    #: ``whsec_<base64>``, the HMAC key of the signatures.
    secret = Varchar(length=128)
    #: Why the endpoint was disabled automatically (empty if not).
    disabled_reason = Varchar(length=200, default="")
    created_at = timestamp_now()
    updated_at = timestamp_now()


class WebhookDelivery(Table, tablename="webhook_deliveries", db=UNBOUND):
    """One event to one endpoint; its id is the ``webhook-id`` header of every attempt."""

    caravan_unique = (("endpoint", "event"),)
    caravan_indexes = (("status", "next_attempt_at"), ("endpoint", "status", "id"))

    id = id_column()
    store = ForeignKey(Store, on_delete=OnDelete.cascade, null=False, index=True)
    endpoint = ForeignKey(WebhookEndpoint, on_delete=OnDelete.cascade, null=False)
    event = ForeignKey(OutboxEvent, on_delete=OnDelete.cascade, null=False, index=True)
    event_type = Varchar(length=64)
    #: ``pending`` (to be attempted at ``next_attempt_at``), ``delivered`` or ``failed``.
    status = Varchar(length=16, default="pending")
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(null=True, default=None)
    claimed_by = Varchar(length=64, null=True, default=None)
    lease_until = Timestamptz(null=True, default=None)
    last_status_code = Integer(null=True, default=None)
    last_error = Varchar(length=500, default="")
    last_attempt_at = Timestamptz(null=True, default=None)
    delivered_at = Timestamptz(null=True, default=None)
    created_at = timestamp_now()


class WebhookAttempt(Table, tablename="webhook_attempts", db=UNBOUND):
    """One HTTP attempt of a delivery, as the admin delivery log shows it."""

    caravan_indexes = (("delivery", "id"),)

    id = id_column()
    store = ForeignKey(Store, on_delete=OnDelete.cascade, null=False, index=True)
    delivery = ForeignKey(WebhookDelivery, on_delete=OnDelete.cascade, null=False)
    endpoint = ForeignKey(WebhookEndpoint, on_delete=OnDelete.cascade, null=False, index=True)
    attempted_at = timestamp_now()
    success = Boolean(default=False)
    status_code = Integer(null=True, default=None)
    duration_ms = Integer(default=0)
    #: Short error text (connection refused, address refused, HTTP status…).
    error = Varchar(length=500, default="")
    #: The first bytes of the receiver's response body.
    response_excerpt = Varchar(length=500, default="")
