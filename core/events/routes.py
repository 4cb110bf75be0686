"""Admin routes: webhook endpoints, their delivery log, redelivery, and outbox events."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from core.auth.guards import needs, store_id_of
from core.events import webhooks
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
from core.kernel.pagination import Cursor, Limit, Page

AnyRequest = Request[Any, Any, Any]

StatusParam = Annotated[
    DeliveryStatus | None, QueryParameter(description="Only deliveries in this status.")
]
TypeParam = Annotated[
    str | None,
    QueryParameter(min_length=1, max_length=64, description="Only events of this type."),
]


class WebhookEndpointsController(Controller):
    """Store staff: webhook endpoints and their delivery log."""

    path = "/admin/webhooks/endpoints"
    tags = ["admin: webhooks"]

    @post("/", opt=needs("webhooks:write"), operation_id="createWebhookEndpoint")
    async def create_endpoint(
        self, request: AnyRequest, data: JSONBody[EndpointCreate]
    ) -> EndpointWithSecret:
        """Register an endpoint; the answer holds its signing secret, shown only this once."""
        return await webhooks.create_endpoint(store_id_of(request), data)

    @get("/", opt=needs("webhooks:read"), operation_id="listWebhookEndpoints")
    async def list_endpoints(
        self, request: AnyRequest, limit: Limit = 20, cursor: Cursor = None
    ) -> Page[EndpointRead]:
        """List the store's endpoints, newest first."""
        return await webhooks.list_endpoints(store_id_of(request), limit=limit, cursor=cursor)

    @get("/{endpoint_id:str}", opt=needs("webhooks:read"), operation_id="getWebhookEndpoint")
    async def get_endpoint(self, request: AnyRequest, endpoint_id: FromPath[str]) -> EndpointRead:
        """Read one endpoint (never its secret)."""
        return await webhooks.get_endpoint(store_id_of(request), endpoint_id)

    @patch("/{endpoint_id:str}", opt=needs("webhooks:write"), operation_id="updateWebhookEndpoint")
    async def update_endpoint(
        self, request: AnyRequest, endpoint_id: FromPath[str], data: JSONBody[EndpointUpdate]
    ) -> EndpointRead:
        """Change an endpoint's URL, description, event types or enabled flag."""
        return await webhooks.update_endpoint(store_id_of(request), endpoint_id, data)

    @post(
        "/{endpoint_id:str}/rotate-secret",
        opt=needs("webhooks:write"),
        operation_id="rotateWebhookSecret",
    )
    async def rotate_secret(
        self, request: AnyRequest, endpoint_id: FromPath[str]
    ) -> EndpointWithSecret:
        """Issue a new signing secret (shown only this once); the old one stops being used."""
        return await webhooks.rotate_secret(store_id_of(request), endpoint_id)

    @delete(
        "/{endpoint_id:str}",
        opt=needs("webhooks:write"),
        operation_id="deleteWebhookEndpoint",
        status_code=HTTP_204_NO_CONTENT,
    )
    async def delete_endpoint(self, request: AnyRequest, endpoint_id: FromPath[str]) -> None:
        """Remove an endpoint, its deliveries and their log."""
        await webhooks.delete_endpoint(store_id_of(request), endpoint_id)

    @get(
        "/{endpoint_id:str}/deliveries",
        opt=needs("webhooks:read"),
        operation_id="listWebhookDeliveries",
    )
    async def list_deliveries(
        self,
        request: AnyRequest,
        endpoint_id: FromPath[str],
        status: StatusParam = None,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> Page[DeliveryRead]:
        """The endpoint's deliveries, newest first."""
        return await webhooks.list_deliveries(
            store_id_of(request), endpoint_id, status=status, limit=limit, cursor=cursor
        )


class WebhookDeliveriesController(Controller):
    """Store staff: one delivery, its attempts, and manual redelivery."""

    path = "/admin/webhooks/deliveries"
    tags = ["admin: webhooks"]

    @get("/", opt=needs("webhooks:read"), operation_id="listAllWebhookDeliveries")
    async def list_all(
        self,
        request: AnyRequest,
        status: StatusParam = None,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> Page[DeliveryRead]:
        """Every endpoint's deliveries, newest first (``status=failed``: what needs a look)."""
        return await webhooks.list_deliveries(
            store_id_of(request), None, status=status, limit=limit, cursor=cursor
        )

    @get("/{delivery_id:str}", opt=needs("webhooks:read"), operation_id="getWebhookDelivery")
    async def get_delivery(self, request: AnyRequest, delivery_id: FromPath[str]) -> DeliveryRead:
        """Read one delivery."""
        return await webhooks.get_delivery(store_id_of(request), delivery_id)

    @get(
        "/{delivery_id:str}/attempts",
        opt=needs("webhooks:read"),
        operation_id="listWebhookAttempts",
    )
    async def list_attempts(
        self,
        request: AnyRequest,
        delivery_id: FromPath[str],
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> Page[AttemptRead]:
        """The delivery's attempts (status code, duration, error, answer excerpt), newest first."""
        return await webhooks.list_attempts(
            store_id_of(request), delivery_id, limit=limit, cursor=cursor
        )

    @post(
        "/{delivery_id:str}/redeliver",
        opt=needs("webhooks:write"),
        operation_id="redeliverWebhook",
        status_code=HTTP_202_ACCEPTED,
    )
    async def redeliver(self, request: AnyRequest, delivery_id: FromPath[str]) -> DeliveryRead:
        """Queue the delivery for another attempt now, with the same ``webhook-id``."""
        return await webhooks.redeliver(store_id_of(request), delivery_id)


@get(
    "/admin/events",
    opt=needs("webhooks:read"),
    operation_id="listEvents",
    tags=["admin: webhooks"],
)
async def list_events(
    request: AnyRequest, type: TypeParam = None, limit: Limit = 20, cursor: Cursor = None
) -> Page[EventRead]:
    """The store's outbox events, newest first."""
    return await webhooks.list_events(store_id_of(request), type=type, limit=limit, cursor=cursor)


ADMIN_ROUTES = [WebhookEndpointsController, WebhookDeliveriesController, list_events]
