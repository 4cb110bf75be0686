"""Webhook endpoints, the delivery log, manual redelivery and the event list (admin API)."""

from __future__ import annotations

from typing import Any

from piccolo.query import Select

from core.db.engine import now, transaction
from core.events import errors, signing
from core.events.schemas import (
    AttemptRead,
    DeliveryRead,
    DeliveryStatus,
    EndpointCreate,
    EndpointRead,
    EndpointUpdate,
    EndpointWithSecret,
    EventRead,
)
from core.events.ssrf import URLRefusedError, current_policy
from core.events.tables import OutboxEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from core.kernel.errors import CaravanError, FieldIssue
from core.kernel.ids import new_id
from core.kernel.pagination import Page, decode_cursor, page_of
from core.kernel.validation import Issues


async def check_url(url: str) -> None:
    """Refuse (422) a URL that is not https or reaches a non-public address."""
    issues = Issues()
    issues.http_url("url", url)
    issues.raise_if_any()
    try:
        await current_policy().check_on_save(url)
    except URLRefusedError as exc:
        raise CaravanError(
            errors.WEBHOOK_URL_REFUSED,
            errors=[FieldIssue("url", "invalid_url")],
            reason=exc.reason,
        ) from None


# ---------------------------------------------------------------------------
# Endpoints
# ---------------------------------------------------------------------------


def _endpoint(row: dict[str, Any]) -> EndpointRead:
    return EndpointRead(
        id=row["id"],
        url=row["url"],
        description=row["description"],
        event_types=row["event_types"],
        enabled=bool(row["enabled"]),
        disabled_reason=row["disabled_reason"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _endpoints(store_id: str) -> Select[Any]:
    columns = [c for c in WebhookEndpoint._meta.columns if c._meta.name != "secret"]
    return (
        WebhookEndpoint.select(*columns)
        .where(WebhookEndpoint.store == store_id)
        .output(load_json=True)
    )


async def create_endpoint(store_id: str, data: EndpointCreate) -> EndpointWithSecret:
    """Register a webhook endpoint; the answer holds its signing secret (shown once)."""
    await check_url(data.url)
    secret = signing.new_secret()
    stamp = now()
    endpoint = WebhookEndpoint(
        id=new_id("whep"),
        store=store_id,
        url=data.url,
        description=data.description,
        event_types=list(dict.fromkeys(data.event_types)),
        enabled=data.enabled,
        secret=secret,
        created_at=stamp,
        updated_at=stamp,
    )
    async with transaction():
        await endpoint.save()
    return EndpointWithSecret(endpoint=await get_endpoint(store_id, endpoint.id), secret=secret)


async def get_endpoint(store_id: str, endpoint_id: str) -> EndpointRead:
    """One endpoint of the store, or 404."""
    row = await _endpoints(store_id).where(WebhookEndpoint.id == endpoint_id).first()
    if row is None:
        raise CaravanError(errors.WEBHOOK_ENDPOINT_NOT_FOUND, id=endpoint_id)
    return _endpoint(row)


async def list_endpoints(store_id: str, *, limit: int, cursor: str | None) -> Page[EndpointRead]:
    """The store's endpoints, newest first."""
    return await page_of(
        _endpoints(store_id), WebhookEndpoint.id, limit=limit, cursor=cursor, convert=_endpoint
    )


async def update_endpoint(store_id: str, endpoint_id: str, data: EndpointUpdate) -> EndpointRead:
    """Change an endpoint; enabling it again clears the reason it was disabled."""
    await get_endpoint(store_id, endpoint_id)
    values: dict[Any, Any] = {WebhookEndpoint.updated_at: now()}
    if data.url is not None:
        await check_url(data.url)
        values[WebhookEndpoint.url] = data.url
    if data.description is not None:
        values[WebhookEndpoint.description] = data.description
    if data.event_types is not None:
        values[WebhookEndpoint.event_types] = list(dict.fromkeys(data.event_types))
    if data.enabled is not None:
        values[WebhookEndpoint.enabled] = data.enabled
        if data.enabled:
            values[WebhookEndpoint.disabled_reason] = ""
    async with transaction():
        await WebhookEndpoint.update(values).where(
            (WebhookEndpoint.id == endpoint_id) & (WebhookEndpoint.store == store_id)
        )
    return await get_endpoint(store_id, endpoint_id)


async def rotate_secret(store_id: str, endpoint_id: str) -> EndpointWithSecret:
    """Replace an endpoint's signing secret; later attempts are signed with the new one."""
    await get_endpoint(store_id, endpoint_id)
    secret = signing.new_secret()
    async with transaction():
        await WebhookEndpoint.update(
            {WebhookEndpoint.secret: secret, WebhookEndpoint.updated_at: now()}
        ).where((WebhookEndpoint.id == endpoint_id) & (WebhookEndpoint.store == store_id))
    return EndpointWithSecret(endpoint=await get_endpoint(store_id, endpoint_id), secret=secret)


async def delete_endpoint(store_id: str, endpoint_id: str) -> None:
    """Remove an endpoint with its deliveries and their log."""
    await get_endpoint(store_id, endpoint_id)
    async with transaction():
        await WebhookEndpoint.delete().where(
            (WebhookEndpoint.id == endpoint_id) & (WebhookEndpoint.store == store_id)
        )


# ---------------------------------------------------------------------------
# Deliveries and attempts
# ---------------------------------------------------------------------------


def _check_cursor(cursor: str | None) -> None:
    """Refuse a bad cursor (422) before looking the parent object up."""
    if cursor is not None:
        decode_cursor(cursor, 1)


def _delivery(row: dict[str, Any]) -> DeliveryRead:
    return DeliveryRead(
        id=row["id"],
        endpoint_id=row["endpoint"],
        event_id=row["event"],
        event_type=row["event_type"],
        status=row["status"],
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        last_attempt_at=row["last_attempt_at"],
        last_status_code=row["last_status_code"],
        last_error=row["last_error"],
        delivered_at=row["delivered_at"],
        created_at=row["created_at"],
    )


def _deliveries(store_id: str) -> Select[Any]:
    return WebhookDelivery.select().where(WebhookDelivery.store == store_id)


async def list_deliveries(
    store_id: str,
    endpoint_id: str | None,
    *,
    status: DeliveryStatus | None,
    limit: int,
    cursor: str | None,
) -> Page[DeliveryRead]:
    """The deliveries of one endpoint (or of all), newest first, optionally of one status."""
    _check_cursor(cursor)
    query = _deliveries(store_id)
    if endpoint_id is not None:
        await get_endpoint(store_id, endpoint_id)
        query = query.where(WebhookDelivery.endpoint == endpoint_id)
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    return await page_of(query, WebhookDelivery.id, limit=limit, cursor=cursor, convert=_delivery)


async def get_delivery(store_id: str, delivery_id: str) -> DeliveryRead:
    """One delivery of the store, or 404."""
    row = await _deliveries(store_id).where(WebhookDelivery.id == delivery_id).first()
    if row is None:
        raise CaravanError(errors.WEBHOOK_DELIVERY_NOT_FOUND, id=delivery_id)
    return _delivery(row)


def _attempt(row: dict[str, Any]) -> AttemptRead:
    return AttemptRead(
        id=row["id"],
        delivery_id=row["delivery"],
        attempted_at=row["attempted_at"],
        success=bool(row["success"]),
        status_code=row["status_code"],
        duration_ms=row["duration_ms"],
        error=row["error"],
        response_excerpt=row["response_excerpt"],
    )


async def list_attempts(
    store_id: str, delivery_id: str, *, limit: int, cursor: str | None
) -> Page[AttemptRead]:
    """A delivery's attempts, newest first."""
    _check_cursor(cursor)
    await get_delivery(store_id, delivery_id)
    query = WebhookAttempt.select().where(
        (WebhookAttempt.store == store_id) & (WebhookAttempt.delivery == delivery_id)
    )
    return await page_of(query, WebhookAttempt.id, limit=limit, cursor=cursor, convert=_attempt)


async def redeliver(store_id: str, delivery_id: str) -> DeliveryRead:
    """Queue a delivery for an attempt now (same ``webhook-id``), whatever its status.

    A delivery whose retry window has passed gets one more attempt.
    """
    await get_delivery(store_id, delivery_id)
    async with transaction():
        await WebhookDelivery.update(
            {
                WebhookDelivery.status: "pending",
                WebhookDelivery.next_attempt_at: now(),
                WebhookDelivery.claimed_by: None,
                WebhookDelivery.lease_until: None,
            }
        ).where((WebhookDelivery.id == delivery_id) & (WebhookDelivery.store == store_id))
    return await get_delivery(store_id, delivery_id)


# ---------------------------------------------------------------------------
# Events
# ---------------------------------------------------------------------------


def _event(row: dict[str, Any]) -> EventRead:
    return EventRead(
        id=row["id"],
        type=row["type"],
        aggregate_id=row["aggregate_id"],
        data=row["payload"],
        status=row["status"],
        created_at=row["created_at"],
        dispatched_at=row["dispatched_at"],
    )


async def list_events(
    store_id: str, *, type: str | None, limit: int, cursor: str | None
) -> Page[EventRead]:
    """The store's outbox events, newest first, optionally of one type."""
    query = OutboxEvent.select().where(OutboxEvent.store == store_id).output(load_json=True)
    if type is not None:
        query = query.where(OutboxEvent.type == type)
    return await page_of(query, OutboxEvent.id, limit=limit, cursor=cursor, convert=_event)
