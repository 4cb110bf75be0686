"""The admin API of webhooks: endpoints, secrets, the delivery log, redelivery, events."""

from __future__ import annotations

from typing import Any

from core.events.ssrf import EgressPolicy
from core.plugins.testing.api import Api
from tests.factories.events import (
    Clock,
    Receiver,
    add_endpoint,
    drain,
    emit_committed,
    make_worker,
    verify,
)

ENDPOINTS = "/admin/webhooks/endpoints"


def _no_secret(body: Any) -> None:
    """No ``whsec_`` value anywhere in ``body``."""
    assert "whsec_" not in repr(body)
    assert "secret" not in repr(body)


async def test_endpoint_crud_and_the_secret_is_shown_only_once(
    api: Api, dev_policy: EgressPolicy
) -> None:
    store = await api.create_store()
    made = await add_endpoint(
        api,
        store,
        "https://hooks.shop.test/caravan",
        description="ERP",
        event_types=["order.*", "return.received", "order.*"],
    )
    secret = made["secret"]
    assert secret.startswith("whsec_")
    assert len(secret) > 40
    endpoint = made["endpoint"]
    assert endpoint["event_types"] == ["order.*", "return.received"]
    assert endpoint["enabled"] is True
    _no_secret(endpoint)
    path = f"{ENDPOINTS}/{endpoint['id']}"

    r = await api.request("GET", path, store.token)
    assert r.status_code == 200
    assert r.json() == endpoint
    _no_secret(r.json())
    r = await api.request("GET", ENDPOINTS, store.token)
    assert [e["id"] for e in r.json()["items"]] == [endpoint["id"]]
    _no_secret(r.json())

    r = await api.request(
        "PATCH", path, store.token, json={"description": "ERP v2", "enabled": False}
    )
    assert r.status_code == 200, r.text
    assert (r.json()["description"], r.json()["enabled"]) == ("ERP v2", False)
    _no_secret(r.json())

    r = await api.request("POST", f"{path}/rotate-secret", store.token)
    assert r.status_code == 201, r.text
    rotated = r.json()["secret"]
    assert rotated.startswith("whsec_")
    assert rotated != secret

    r = await api.request("DELETE", path, store.token)
    assert r.status_code == 204
    r = await api.request("GET", path, store.token)
    assert r.status_code == 404
    assert r.json()["code"] == "webhook_endpoint_not_found"


async def test_invalid_endpoint_bodies_are_refused(api: Api, dev_policy: EgressPolicy) -> None:
    store = await api.create_store()
    bad: list[dict[str, Any]] = [
        {"url": "not a url"},
        {"url": "https://hooks.shop.test/x", "event_types": ["Order Paid"]},
        {"url": "https://hooks.shop.test/x", "event_types": ["order.**"]},
        {"url": "https://hooks.shop.test/x", "event_types": [""]},
        {"url": "https://hooks.shop.test/x", "secret": "whsec_mine"},
        {"url": "https://hooks.shop.test/x", "enabled": "yes"},
    ]
    for body in bad:
        r = await api.request("POST", ENDPOINTS, store.token, json=body)
        assert r.status_code == 422, (body, r.text)
    r = await api.request("GET", ENDPOINTS, store.token)
    assert r.json()["items"] == []


async def test_another_stores_endpoint_and_delivery_are_not_found(
    api: Api, receiver: Receiver, dev_policy: EgressPolicy, clock: Clock
) -> None:
    mine, theirs = await api.create_store(), await api.create_store()
    made = await add_endpoint(api, theirs, receiver.url())
    await emit_committed(theirs, "order.paid", {})
    async with make_worker(clock, dev_policy) as worker:
        await drain(worker)
    (request,) = receiver.requests
    path = f"{ENDPOINTS}/{made['endpoint']['id']}"
    for method, url in (
        ("GET", path),
        ("PATCH", path),
        ("DELETE", path),
        ("POST", f"{path}/rotate-secret"),
        ("GET", f"{path}/deliveries"),
        ("GET", f"/admin/webhooks/deliveries/{request.msg_id}"),
        ("GET", f"/admin/webhooks/deliveries/{request.msg_id}/attempts"),
        ("POST", f"/admin/webhooks/deliveries/{request.msg_id}/redeliver"),
    ):
        kwargs: dict[str, Any] = {"json": {"description": "x"}} if method == "PATCH" else {}
        r = await api.request(method, url, mine.token, **kwargs)
        assert r.status_code == 404, (method, url, r.text)
    r = await api.request("GET", "/admin/events", mine.token)
    assert r.json()["items"] == []


async def test_delivery_log_filters_paginates_and_redelivers(
    api: Api, receiver: Receiver, dev_policy: EgressPolicy, clock: Clock
) -> None:
    store = await api.create_store()
    made = await add_endpoint(api, store, receiver.url())
    endpoint_id = made["endpoint"]["id"]
    for i in range(3):
        await emit_committed(store, "order.paid", {"i": i})
    async with make_worker(clock, dev_policy) as worker:
        await drain(worker)
        receiver.status = 500
        await emit_committed(store, "order.canceled", {"i": 3})
        await drain(worker)

    deliveries = f"{ENDPOINTS}/{endpoint_id}/deliveries"
    r = await api.request("GET", deliveries, store.token, params={"limit": 2})
    page = r.json()
    assert len(page["items"]) == 2
    assert page["next_cursor"]
    r = await api.request(
        "GET", deliveries, store.token, params={"limit": 2, "cursor": page["next_cursor"]}
    )
    assert len(r.json()["items"]) == 2
    assert r.json()["next_cursor"] is None
    r = await api.request("GET", deliveries, store.token, params={"status": "pending"})
    (pending,) = r.json()["items"]
    assert pending["event_type"] == "order.canceled"
    assert (pending["attempts"], pending["last_status_code"]) == (1, 500)
    r = await api.request("GET", deliveries, store.token, params={"status": "delivered"})
    assert len(r.json()["items"]) == 3
    r = await api.request("GET", deliveries, store.token, params={"status": "lost"})
    assert (r.status_code, r.json()["code"]) == (422, "validation_failed"), r.text

    attempts = f"/admin/webhooks/deliveries/{pending['id']}/attempts"
    r = await api.request("GET", attempts, store.token)
    (attempt,) = r.json()["items"]
    assert (attempt["success"], attempt["status_code"], attempt["error"]) == (
        False,
        500,
        "HTTP 500",
    )
    # Only a short excerpt of the answer is kept (the receiver sent ~2 KB).
    assert 0 < len(attempt["response_excerpt"]) <= 500

    # Manual redelivery of a delivered one: again, with the same webhook-id.
    delivered = await api.request(
        "GET", deliveries, store.token, params={"status": "delivered", "limit": 1}
    )
    first = delivered.json()["items"][0]
    receiver.status = 200
    r = await api.request(
        "POST", f"/admin/webhooks/deliveries/{first['id']}/redeliver", store.token
    )
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "pending"
    # A rotated secret signs every later attempt.
    r = await api.request("POST", f"{ENDPOINTS}/{endpoint_id}/rotate-secret", store.token)
    new_secret = r.json()["secret"]
    before = len(receiver.requests)
    clock.advance(minutes=1)  # the redelivery is due at the (real) time it was asked for
    async with make_worker(clock, dev_policy) as worker:
        await drain(worker)
    again = [q for q in receiver.requests[before:] if q.msg_id == first["id"]]
    assert len(again) == 1
    assert verify(new_secret, again[0].headers, again[0].body)
    assert not verify(made["secret"], again[0].headers, again[0].body)
    r = await api.request("GET", f"/admin/webhooks/deliveries/{first['id']}", store.token)
    assert (r.json()["status"], r.json()["attempts"]) == ("delivered", 2)


async def test_event_list(api: Api) -> None:
    store = await api.create_store()
    paid = await emit_committed(store, "order.paid", {"order_id": "o1"}, aggregate_id="o1")
    placed = await emit_committed(store, "order.placed", {"order_id": "o1"}, aggregate_id="o1")
    r = await api.request("GET", "/admin/events", store.token)
    assert r.status_code == 200
    items = r.json()["items"]
    assert [e["id"] for e in items] == [placed, paid]  # newest first
    assert items[1]["data"] == {"order_id": "o1"}
    assert items[1]["aggregate_id"] == "o1"
    assert items[1]["status"] == "pending"
    r = await api.request("GET", "/admin/events", store.token, params={"type": "order.paid"})
    assert [e["id"] for e in r.json()["items"]] == [paid]


async def test_scopes(api: Api) -> None:
    store = await api.create_store()
    tokens = {}
    for scope in ("webhooks:read", "catalog:write"):
        r = await api.request(
            "POST", "/admin/tokens", store.token, json={"name": scope, "scopes": [scope]}
        )
        assert r.status_code == 201, r.text
        tokens[scope] = r.json()["token"]
    r = await api.request("GET", ENDPOINTS, tokens["webhooks:read"])
    assert r.status_code == 200
    r = await api.request(
        "POST", ENDPOINTS, tokens["webhooks:read"], json={"url": "https://hooks.shop.test/x"}
    )
    assert r.status_code == 403
    r = await api.request("GET", "/admin/events", tokens["catalog:write"])
    assert r.status_code == 403
