"""The transactional outbox and the worker: commit/rollback, signatures, retries,
concurrent workers, killed workers and a receiver down for hours."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import msgspec
import pytest

from core.db.engine import transaction
from core.events.outbox import emit
from core.events.ssrf import EgressPolicy
from core.events.subscribers import Event, Subscriber, type_matches
from core.events.tables import OutboxEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from core.events.worker import LEASE, RETRY_WINDOW, Worker, retry_delay
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


class BoomError(Exception):
    pass


async def test_emit_outside_a_transaction_is_refused(api: Api) -> None:
    store = await api.create_store()
    with pytest.raises(RuntimeError, match="transaction"):
        await emit(store.id, "order.paid", {"order_id": "x"})
    assert not await OutboxEvent.exists().where(OutboxEvent.store == store.id)


def test_type_patterns() -> None:
    assert type_matches("*", "order.paid")
    assert type_matches("order.*", "order.paid")
    assert type_matches("order.*", "order.line.added")
    assert not type_matches("order.*", "orders.paid")
    assert not type_matches("order.*", "order")
    assert type_matches("order.paid", "order.paid")
    assert not type_matches("order.paid", "order.paid.twice")


def test_retry_schedule_covers_72_hours() -> None:
    elapsed, failures = timedelta(0), 0
    while elapsed < RETRY_WINDOW:
        failures += 1
        elapsed += retry_delay(failures, lambda: 0.0)
    assert failures >= 10  # many attempts, not one long wait
    assert retry_delay(1, lambda: 0.0) == timedelta(seconds=5)
    assert retry_delay(2, lambda: 1.0) == timedelta(minutes=5.5)  # jitter: up to +10 %


async def test_rolled_back_events_are_never_delivered_committed_ones_are(
    api: Api, receiver: Receiver, dev_policy: EgressPolicy, clock: Clock
) -> None:
    store = await api.create_store()
    made = await add_endpoint(api, store, receiver.url())

    async def fail_after_emitting() -> None:
        async with transaction():
            await emit(store.id, "order.placed", {"n": "rolled-back"})
            raise BoomError

    with pytest.raises(BoomError):
        await fail_after_emitting()
    committed = await emit_committed(store, "order.placed", {"n": "committed"})

    async with make_worker(clock, dev_policy) as worker:
        await drain(worker)

    assert [r.json()["data"] for r in receiver.requests] == [{"n": "committed"}]
    events = await OutboxEvent.select(OutboxEvent.id).where(OutboxEvent.store == store.id)
    assert [e["id"] for e in events] == [committed]
    delivery = await WebhookDelivery.select().where(
        WebhookDelivery.endpoint == made["endpoint"]["id"]
    )
    assert [(d["event"], d["status"], d["attempts"]) for d in delivery] == [
        (committed, "delivered", 1)
    ]


async def test_signature_and_body_follow_standard_webhooks(
    api: Api, receiver: Receiver, dev_policy: EgressPolicy, clock: Clock
) -> None:
    store = await api.create_store()
    made = await add_endpoint(api, store, receiver.url())
    event_id = await emit_committed(
        store, "order.paid", {"order_id": "ord_1", "total": 1299}, aggregate_id="ord_1"
    )
    async with make_worker(clock, dev_policy) as worker:
        await drain(worker)

    (request,) = receiver.requests
    assert request.method == "POST"
    assert request.target == "/hooks"
    assert request.headers["content-type"] == "application/json"
    assert request.msg_id.startswith("msg_")
    assert int(request.headers["webhook-timestamp"]) == int(clock().timestamp())
    assert verify(made["secret"], request.headers, request.body)
    assert not verify(made["secret"], request.headers, request.body.replace(b"1299", b"9999"))
    other = await add_endpoint(api, store, receiver.url("/other"), enabled=False)
    assert not verify(other["secret"], request.headers, request.body)
    body = request.json()
    assert body["type"] == "order.paid"
    assert body["data"] == {"order_id": "ord_1", "total": 1299}
    assert body["timestamp"].endswith("Z")
    delivery = await WebhookDelivery.select().where(WebhookDelivery.event == event_id).first()
    assert delivery is not None
    assert delivery["id"] == request.msg_id


async def test_webhook_id_is_stable_across_retries(
    api: Api, receiver: Receiver, dev_policy: EgressPolicy, clock: Clock
) -> None:
    store = await api.create_store()
    made = await add_endpoint(api, store, receiver.url())
    await emit_committed(store, "order.paid", {"order_id": "ord_2"})
    receiver.status = 500
    async with make_worker(clock, dev_policy) as worker:
        await drain(worker)
        assert len(receiver.requests) == 1
        await drain(worker)  # not due yet: no new attempt
        assert len(receiver.requests) == 1
        clock.advance(seconds=5)
        await drain(worker)
        receiver.status = 200
        clock.advance(minutes=5)
        await drain(worker)
        clock.advance(hours=1)
        await drain(worker)

    assert [r.answer for r in receiver.requests] == [500, 500, 200]
    assert len({r.msg_id for r in receiver.requests}) == 1
    assert all(verify(made["secret"], r.headers, r.body) for r in receiver.requests)
    attempts = (
        await WebhookAttempt.select()
        .where(WebhookAttempt.endpoint == made["endpoint"]["id"])
        .order_by(WebhookAttempt.id)
    )
    assert [(a["success"], a["status_code"], a["error"]) for a in attempts] == [
        (False, 500, "HTTP 500"),
        (False, 500, "HTTP 500"),
        (True, 200, ""),
    ]
    assert all(len(a["response_excerpt"]) <= 500 for a in attempts)


async def test_redirects_are_not_followed(
    api: Api, receiver: Receiver, dev_policy: EgressPolicy, clock: Clock
) -> None:
    store = await api.create_store()
    made = await add_endpoint(api, store, receiver.url())
    await emit_committed(store, "order.paid", {})
    receiver.status = 302
    async with make_worker(clock, dev_policy) as worker:
        await drain(worker)
    assert len(receiver.requests) == 1
    delivery = (
        await WebhookDelivery.select()
        .where(WebhookDelivery.endpoint == made["endpoint"]["id"])
        .first()
    )
    assert delivery is not None
    assert delivery["status"] == "pending"
    assert "redirects are not followed" in delivery["last_error"]


async def test_event_type_filters_choose_the_endpoints(
    api: Api, receiver: Receiver, dev_policy: EgressPolicy, clock: Clock
) -> None:
    store = await api.create_store()
    await add_endpoint(api, store, receiver.url("/orders"), event_types=["order.*"])
    await add_endpoint(api, store, receiver.url("/paid"), event_types=["order.paid"])
    await add_endpoint(api, store, receiver.url("/all"))
    await add_endpoint(api, store, receiver.url("/off"), enabled=False)
    await emit_committed(store, "order.placed", {})
    await emit_committed(store, "order.paid", {})
    await emit_committed(store, "return.received", {})
    async with make_worker(clock, dev_policy) as worker:
        await drain(worker)
    got = Counter((r.target, r.json()["type"]) for r in receiver.requests)
    assert got == Counter(
        {
            ("/orders", "order.placed"): 1,
            ("/orders", "order.paid"): 1,
            ("/paid", "order.paid"): 1,
            ("/all", "order.placed"): 1,
            ("/all", "order.paid"): 1,
            ("/all", "return.received"): 1,
        }
    )


async def test_two_workers_deliver_each_event_once_per_endpoint(
    api: Api, receiver: Receiver, dev_policy: EgressPolicy, clock: Clock
) -> None:
    store = await api.create_store()
    first = await add_endpoint(api, store, receiver.url("/a"))
    second = await add_endpoint(api, store, receiver.url("/b"))
    seen: Counter[str] = Counter()

    async def count(event: Event) -> None:
        await asyncio.sleep(0)
        seen[event.id] += 1

    subscribers = [Subscriber("counter", ("stress.*",), count)]
    events = [await emit_committed(store, "stress.tick", {"i": i}) for i in range(40)]

    one = make_worker(clock, dev_policy, name="one", subscribers=subscribers, batch_size=7)
    two = make_worker(clock, dev_policy, name="two", subscribers=subscribers, batch_size=7)

    async def loop(worker: Worker) -> int:
        handled = 0
        for _ in range(100):
            done = await worker.run_once()
            handled += done
            if done == 0:
                return handled
        raise AssertionError("never idle")

    async with one, two:
        handled = await asyncio.gather(loop(one), loop(two))
        await drain(one, two)
    assert all(h > 0 for h in handled), handled  # both took part

    assert seen == Counter(dict.fromkeys(events, 1))
    per_endpoint = Counter(r.target for r in receiver.requests)
    assert per_endpoint == {"/a": 40, "/b": 40}
    assert len({r.msg_id for r in receiver.requests}) == 80
    for made in (first, second):
        statuses = await WebhookDelivery.select(WebhookDelivery.status).where(
            WebhookDelivery.endpoint == made["endpoint"]["id"]
        )
        assert [s["status"] for s in statuses] == ["delivered"] * 40


async def test_worker_killed_while_running_subscribers_loses_nothing(
    api: Api, receiver: Receiver, dev_policy: EgressPolicy, clock: Clock
) -> None:
    store = await api.create_store()
    await add_endpoint(api, store, receiver.url())
    entered = asyncio.Event()

    async def hang(event: Event) -> None:
        entered.set()
        await asyncio.Event().wait()

    handled: list[str] = []

    async def record(event: Event) -> None:
        handled.append(event.id)

    events = [await emit_committed(store, "kill.subscriber", {"i": i}) for i in range(5)]
    doomed = make_worker(clock, dev_policy, subscribers=[Subscriber("hang", ("kill.*",), hang)])
    survivor = make_worker(
        clock, dev_policy, subscribers=[Subscriber("record", ("kill.*",), record)]
    )
    async with doomed, survivor:
        task = asyncio.create_task(doomed.run_once())
        await asyncio.wait_for(entered.wait(), 10)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

        claimed = await OutboxEvent.select(OutboxEvent.claimed_by).where(
            OutboxEvent.id.is_in(events)
        )
        assert {c["claimed_by"] for c in claimed} == {doomed.name}
        await drain(survivor)  # the lease still holds: nothing is taken
        assert handled == []
        assert receiver.requests == []

        clock.advance(seconds=LEASE.total_seconds() + 1)
        await drain(survivor)

    assert handled == events
    assert sorted(r.json()["data"]["i"] for r in receiver.requests) == [0, 1, 2, 3, 4]
    rows = await OutboxEvent.select().where(OutboxEvent.id.is_in(events))
    assert {(r["status"], r["claimed_by"], r["lease_until"]) for r in rows} == {
        ("dispatched", None, None)
    }


async def test_worker_killed_while_sending_loses_nothing(
    api: Api, receiver: Receiver, dev_policy: EgressPolicy, clock: Clock
) -> None:
    store = await api.create_store()
    made = await add_endpoint(api, store, receiver.url())
    events = [await emit_committed(store, "kill.send", {"i": i}) for i in range(3)]
    doomed = make_worker(clock, dev_policy)
    survivor = make_worker(clock, dev_policy)
    async with doomed, survivor:
        await doomed.dispatch_events()
        receiver.gate = asyncio.Event()
        task = asyncio.create_task(doomed.deliver_due())
        for _ in range(200):
            if len(receiver.requests) == 3:
                break
            await asyncio.sleep(0.01)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        receiver.gate.set()

        await drain(survivor)  # still leased to the killed worker
        assert len(receiver.requests) == 3
        clock.advance(seconds=LEASE.total_seconds() + 1)
        await drain(survivor)

    # Each event arrived twice at most, both times with the same webhook-id.
    ids = Counter(r.msg_id for r in receiver.requests)
    assert len(ids) == 3
    assert set(ids.values()) == {2}
    assert {r.msg_id for r in receiver.requests[:3]} == {r.msg_id for r in receiver.requests[3:]}
    deliveries = await WebhookDelivery.select().where(
        WebhookDelivery.endpoint == made["endpoint"]["id"]
    )
    assert sorted(d["event"] for d in deliveries) == sorted(events)
    assert {(d["status"], d["claimed_by"]) for d in deliveries} == {("delivered", None)}


async def test_receiver_down_for_hours_gets_every_event_after_recovery(
    api: Api, receiver: Receiver, dev_policy: EgressPolicy, clock: Clock
) -> None:
    store = await api.create_store()
    made = await add_endpoint(api, store, receiver.url())
    events = [await emit_committed(store, "order.paid", {"i": i}) for i in range(20)]
    started = clock()
    receiver.status = 503
    async with make_worker(clock, dev_policy) as worker:
        while clock() - started < timedelta(hours=30):
            await drain(worker)
            clock.advance(minutes=30)
        assert receiver.answered(200) == []
        failures = len(receiver.requests)
        assert failures >= 20 * 5  # retried all along
        receiver.status = 200
        while len(receiver.answered(200)) < 20:
            assert clock() - started < RETRY_WINDOW, "not every event arrived within 72 h"
            await drain(worker)
            clock.advance(minutes=30)

    delivered = receiver.answered(200)
    assert sorted(r.json()["data"]["i"] for r in delivered) == list(range(20))
    assert len({r.msg_id for r in delivered}) == 20
    # Every retry of one delivery carried its webhook-id.
    deliveries = await WebhookDelivery.select().where(
        WebhookDelivery.endpoint == made["endpoint"]["id"]
    )
    assert sorted(d["event"] for d in deliveries) == sorted(events)
    assert {r.msg_id for r in receiver.requests} == {d["id"] for d in deliveries}
    assert {d["status"] for d in deliveries} == {"delivered"}
    endpoint = (
        await WebhookEndpoint.select().where(WebhookEndpoint.id == made["endpoint"]["id"]).first()
    )
    assert endpoint is not None
    assert endpoint["enabled"]


async def test_failing_for_the_whole_window_marks_failed_then_disables(
    api: Api, receiver: Receiver, dev_policy: EgressPolicy, clock: Clock
) -> None:
    store = await api.create_store()
    made = await add_endpoint(api, store, receiver.url())
    endpoint_id = made["endpoint"]["id"]
    await emit_committed(store, "order.paid", {})
    receiver.status = 500
    started = clock()
    async with make_worker(clock, dev_policy) as worker:
        while clock() - started < RETRY_WINDOW - timedelta(hours=1):
            await drain(worker)
            clock.advance(hours=1)
        r = await api.request("GET", f"/admin/webhooks/endpoints/{endpoint_id}", store.token)
        assert r.json()["enabled"] is True  # not before the whole window
        while clock() - started < RETRY_WINDOW + timedelta(hours=12):
            await drain(worker)
            clock.advance(hours=1)

    delivery = await WebhookDelivery.select().where(WebhookDelivery.endpoint == endpoint_id).first()
    assert delivery is not None
    assert delivery["status"] == "failed"
    assert delivery["last_attempt_at"] - started >= RETRY_WINDOW
    assert delivery["attempts"] == len(receiver.requests) >= 10
    r = await api.request("GET", f"/admin/webhooks/endpoints/{endpoint_id}", store.token)
    assert r.json()["enabled"] is False
    assert r.json()["disabled_reason"]
    r = await api.request(
        "GET", "/admin/events", store.token, params={"type": "webhook_endpoint.disabled"}
    )
    assert [e["data"]["endpoint_id"] for e in r.json()["items"]] == [endpoint_id]


async def test_a_failing_subscriber_is_retried_and_holds_no_webhook(
    api: Api, receiver: Receiver, dev_policy: EgressPolicy, clock: Clock
) -> None:
    store = await api.create_store()
    await add_endpoint(api, store, receiver.url())
    calls: list[str] = []

    async def flaky(event: Event) -> None:
        calls.append(event.id)
        if len(calls) < 3:
            raise BoomError("try again")

    event_id = await emit_committed(store, "flaky.thing", {})
    async with make_worker(
        clock, dev_policy, subscribers=[Subscriber("flaky", ("flaky.*",), flaky)]
    ) as worker:
        await drain(worker)
        row = await OutboxEvent.select().where(OutboxEvent.id == event_id).first()
        assert row is not None
        assert (row["status"], row["attempts"]) == ("pending", 1)
        assert "BoomError" in row["last_error"]
        assert len(receiver.requests) == 1  # the webhook did not wait
        for _ in range(3):
            clock.advance(minutes=10)
            await drain(worker)
    assert calls == [event_id] * 3
    assert len(receiver.requests) == 1
    row = await OutboxEvent.select().where(OutboxEvent.id == event_id).first()
    assert row is not None
    assert row["status"] == "dispatched"


async def test_payload_is_stored_as_json(api: Api) -> None:
    store = await api.create_store()
    event_id = await emit_committed(store, "order.paid", {"nested": {"a": [1, 2]}, "ok": True})
    row = (
        await OutboxEvent.select(OutboxEvent.payload)
        .where(OutboxEvent.id == event_id)
        .output(load_json=True)
        .first()
    )
    assert row is not None
    assert row["payload"] == {"nested": {"a": [1, 2]}, "ok": True}
    assert msgspec.json.encode(row["payload"])


async def test_a_subscriber_failing_for_the_whole_window_does_not_hold_webhooks_forever(
    api: Api, receiver: Receiver, dev_policy: EgressPolicy, clock: Clock
) -> None:
    store = await api.create_store()
    await add_endpoint(api, store, receiver.url())

    async def broken(event: Event) -> None:
        raise BoomError("always")

    event_id = await emit_committed(store, "broken.thing", {})
    started = clock()
    async with make_worker(
        clock, dev_policy, subscribers=[Subscriber("broken", ("broken.*",), broken)]
    ) as worker:
        while clock() - started <= RETRY_WINDOW + timedelta(hours=11):
            await drain(worker)
            clock.advance(hours=1)
    row = await OutboxEvent.select().where(OutboxEvent.id == event_id).first()
    assert row is not None
    assert (row["status"], row["claimed_by"], row["lease_until"]) == ("dispatched", None, None)
    assert row["attempts"] >= 10
    assert "always" in row["last_error"]
    assert len(receiver.requests) == 1
