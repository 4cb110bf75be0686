"""The outbox worker: runs subscribers and delivers signed webhooks.

A worker loops over two steps, each on a batch claimed with a lease
(``claimed_by`` + ``lease_until``) so that several workers, in one process
or many, never work on the same row at once:

1. **Dispatch** pending outbox events: run the matching subscribers, then,
   in one transaction, create one delivery per matching enabled webhook
   endpoint and mark the event dispatched — or, if a subscriber failed, keep
   it pending for a retry of its subscribers (its webhooks go out all the same).
2. **Deliver** due deliveries: POST the signed event to the endpoint's
   (re-checked) address and log the attempt; a non-2xx answer or a failure
   schedules a retry (:data:`RETRY_DELAYS`, with jitter) until
   :data:`RETRY_WINDOW` has passed, then marks the delivery failed.

A worker that dies mid-batch leaves its rows claimed until the lease runs
out; another worker then takes them again. Work is therefore done at least
once; a redelivered webhook carries the same ``webhook-id``.

The clock is injected (``now``) so tests can let hours pass without
sleeping. ``caravan serve`` runs one worker inside the app
(:func:`start_in_app`); ``caravan worker`` runs :func:`run_forever`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import secrets
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Self

import httpx
import msgspec
from piccolo.querystring import QueryString

from core.db import engine as db
from core.db.engine import transaction
from core.events import signing
from core.events.outbox import emit
from core.events.ssrf import EgressPolicy, IPAddress, URLRefusedError, current_policy
from core.events.subscribers import Event, Subscriber, any_matches
from core.events.tables import OutboxEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from core.kernel.ids import new_id

log = logging.getLogger("caravan.events")

Clock = Callable[[], datetime]

#: Delays after the 1st, 2nd… failed attempt (Standard Webhooks' schedule);
#: the last one repeats until :data:`RETRY_WINDOW` has passed.
RETRY_DELAYS: Final = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
)
#: A delivery is retried until at least this long after it was created.
RETRY_WINDOW: Final = timedelta(hours=72)
#: Up to this fraction of a delay is added at random (so retries spread out).
JITTER: Final = 0.1
#: How long a claimed row stays reserved for its worker.
LEASE: Final = timedelta(minutes=5)
#: Seconds one webhook request may take.
SEND_TIMEOUT: Final = 10.0
#: Seconds one subscriber may take for one event.
SUBSCRIBER_TIMEOUT: Final = 60.0
#: Characters of an error or response body kept in the delivery log.
EXCERPT: Final = 500


def retry_delay(failures: int, rng: Callable[[], float] = random.random) -> timedelta:
    """The wait after the ``failures``-th failed attempt (1-based), jitter included."""
    base = RETRY_DELAYS[min(failures, len(RETRY_DELAYS)) - 1]
    return base * (1 + JITTER * rng())


def _short(text: str) -> str:
    """``text`` without control characters, cut to :data:`EXCERPT` characters."""
    clean = "".join(c if c.isprintable() else " " for c in text)
    return clean[:EXCERPT]


@dataclass(frozen=True)
class Outcome:
    """What one delivery attempt gave."""

    success: bool
    status_code: int | None
    duration_ms: int
    error: str
    excerpt: str


async def _run(sql: str, *args: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = await db.current().run_querystring(QueryString(sql, *args))
    return rows


#: The events a worker may claim (placeholder: now).
_CLAIMABLE_EVENTS: Final = (
    "FROM outbox_events WHERE status = 'pending' AND (lease_until IS NULL OR lease_until < {})"
)
#: The deliveries due to be attempted (placeholders: now, now, True).
_DUE_DELIVERIES: Final = (
    "FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint "
    "WHERE d.status = 'pending' AND d.next_attempt_at <= {} "
    "AND (d.lease_until IS NULL OR d.lease_until < {}) AND e.enabled = {}"
)


def _claim_events_sql(lock: str) -> str:
    """The claim statement of events (``lock``: a constant locking clause or "")."""
    return (
        "UPDATE outbox_events SET claimed_by = {}, lease_until = {} "  # noqa: S608
        f"WHERE id IN (SELECT id {_CLAIMABLE_EVENTS} ORDER BY id LIMIT {{}}{lock}) RETURNING id"
    )


def _claim_deliveries_sql(lock: str) -> str:
    """The claim statement of deliveries (``lock``: a constant locking clause or "")."""
    return (
        "UPDATE webhook_deliveries SET claimed_by = {}, lease_until = {} "  # noqa: S608
        f"WHERE id IN (SELECT d.id {_DUE_DELIVERIES} "
        f"ORDER BY d.next_attempt_at, d.id LIMIT {{}}{lock}) RETURNING id"
    )


class Worker:
    """One outbox worker. Use as ``async with Worker(...) as worker:``.

    ``subscribers`` are the event subscribers (the application's
    ``PluginHost.subscribers``: the core's and every plugin's), ``now`` the
    clock (tests pass a fake one), ``policy`` the egress policy (default: the
    configured one).
    """

    def __init__(
        self,
        *,
        name: str | None = None,
        now: Clock = db.now,
        policy: EgressPolicy | None = None,
        subscribers: Sequence[Subscriber],
        batch_size: int = 50,
        concurrency: int = 16,
        lease: timedelta = LEASE,
        send_timeout: float = SEND_TIMEOUT,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.name = name or f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(3)}"
        self.now = now
        self.policy = policy or current_policy()
        self.subscribers = list(subscribers)
        self.batch_size = batch_size
        self.lease = lease
        self.rng = rng
        self._sending = asyncio.Semaphore(concurrency)
        self._client = httpx.AsyncClient(
            timeout=send_timeout,
            follow_redirects=False,
            trust_env=False,
            # No pooled connections: each request connects to the address just checked.
            limits=httpx.Limits(max_keepalive_connections=0),
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()

    async def run_once(self) -> int:
        """Dispatch one batch of events and attempt one batch of due deliveries.

        Returns how many events and deliveries it handled (0: nothing to do).
        """
        return await self.dispatch_events() + await self.deliver_due()

    # -- claiming ----------------------------------------------------------

    async def _claim(self, build: Callable[[str], str], lock: str, *args: Any) -> list[str]:
        """Run a claim statement: ``FOR UPDATE … SKIP LOCKED`` on PostgreSQL (``lock``);
        on SQLite the write transaction (BEGIN IMMEDIATE) is already exclusive."""
        sql = build(lock if db.on_postgres() else "")
        async with transaction():
            rows = await _run(sql, *args)
        return sorted(str(r["id"]) for r in rows)

    async def claim_events(self) -> list[str]:
        """Claim up to ``batch_size`` pending events (oldest first); return their ids."""
        now = self.now()
        waiting = await db.fetch(f"SELECT id {_CLAIMABLE_EVENTS} LIMIT 1", now)
        if not waiting:
            return []
        lock = " FOR UPDATE SKIP LOCKED"
        lease_until = now + self.lease
        return await self._claim(
            _claim_events_sql, lock, self.name, lease_until, now, self.batch_size
        )

    async def claim_deliveries(self) -> list[str]:
        """Claim up to ``batch_size`` due deliveries of enabled endpoints; return their ids."""
        now = self.now()
        waiting = await db.fetch(f"SELECT d.id {_DUE_DELIVERIES} LIMIT 1", now, now, True)
        if not waiting:
            return []
        lock = " FOR UPDATE OF d SKIP LOCKED"
        lease_until = now + self.lease
        return await self._claim(
            _claim_deliveries_sql, lock, self.name, lease_until, now, now, True, self.batch_size
        )

    # -- events ------------------------------------------------------------

    async def dispatch_events(self) -> int:
        """Claim a batch of events, run their subscribers, then fan the batch out
        (one write transaction for the whole batch)."""
        ids = await self.claim_events()
        if not ids:
            return 0
        rows = (
            await OutboxEvent.select()
            .where(OutboxEvent.id.is_in(ids))
            .order_by(OutboxEvent.id)
            .output(load_json=True)
        )
        failures = {row["id"]: await self._run_subscribers(_event(row)) for row in rows}
        now = self.now()
        async with transaction():
            done = []
            for row in rows:
                failure = failures[row["id"]]
                if failure is None:
                    done.append(row)
                    continue
                values = self._subscriber_retry(row, failure, now)
                if OutboxEvent.status in values:
                    done.append(row)
                await OutboxEvent.update(values).where(
                    (OutboxEvent.id == row["id"]) & (OutboxEvent.claimed_by == self.name)
                )
            # Webhooks never wait for subscribers: a failing plugin must not hold the
            # merchant's deliveries (fanning out again on a retry adds none: one
            # delivery per endpoint and event).
            await self._fan_out([_event(row) for row in rows], now)
            await OutboxEvent.update(
                {
                    OutboxEvent.status: "dispatched",
                    OutboxEvent.dispatched_at: now,
                    OutboxEvent.claimed_by: None,
                    OutboxEvent.lease_until: None,
                }
            ).where(
                OutboxEvent.id.is_in([row["id"] for row in done] or [""])
                & (OutboxEvent.claimed_by == self.name)
            )
        return len(rows)

    def _subscriber_retry(self, row: dict[str, Any], failure: str, now: datetime) -> dict[Any, Any]:
        """Values of an event whose subscribers failed: released until its next try,
        or, once the retry window has passed, given up (``status`` in the values:
        the event is then dispatched to webhooks all the same)."""
        failures = int(row["attempts"]) + 1
        log.warning("event %s: %s (failure %d)", row["id"], failure, failures)
        values: dict[Any, Any] = {
            OutboxEvent.attempts: failures,
            OutboxEvent.last_error: _short(failure),
            OutboxEvent.claimed_by: None,
            OutboxEvent.lease_until: now + retry_delay(failures, self.rng),
        }
        if now - row["created_at"] >= RETRY_WINDOW:
            values[OutboxEvent.status] = "dispatched"
            values[OutboxEvent.dispatched_at] = now
            values[OutboxEvent.lease_until] = None
        return values

    async def _run_subscribers(self, event: Event) -> str | None:
        """Run every subscriber that wants ``event``; return the first failure, if any."""
        failure = None
        for subscriber in self.subscribers:
            if not subscriber.wants(event.type):
                continue
            try:
                await asyncio.wait_for(subscriber.handler(event), SUBSCRIBER_TIMEOUT)
            except Exception as exc:
                log.exception("subscriber %s failed on event %s", subscriber.name, event.id)
                failure = failure or f"subscriber {subscriber.name}: {type(exc).__name__}: {exc}"
        return failure

    async def _fan_out(self, events: list[Event], now: datetime) -> None:
        """Create one delivery per event and enabled endpoint of its store that wants it."""
        if not events:
            return
        endpoints = (
            await WebhookEndpoint.select(
                WebhookEndpoint.id, WebhookEndpoint.store, WebhookEndpoint.event_types
            )
            .where(
                WebhookEndpoint.store.is_in(list({e.store_id for e in events}))
                & WebhookEndpoint.enabled.eq(True)
            )
            .output(load_json=True)
        )
        rows = [
            WebhookDelivery(
                id=new_id("msg"),
                store=event.store_id,
                endpoint=endpoint["id"],
                event=event.id,
                event_type=event.type,
                next_attempt_at=now,
                created_at=now,
            )
            for event in events
            for endpoint in endpoints
            if endpoint["store"] == event.store_id
            and any_matches(endpoint["event_types"], event.type)
        ]
        if rows:
            await WebhookDelivery.insert(*rows).on_conflict(action="DO NOTHING")

    # -- deliveries --------------------------------------------------------

    async def deliver_due(self) -> int:
        """Claim a batch of due deliveries and attempt each once (concurrently)."""
        ids = await self.claim_deliveries()
        if not ids:
            return 0
        deliveries = await WebhookDelivery.select().where(WebhookDelivery.id.is_in(ids))
        endpoint_ids = list({d["endpoint"] for d in deliveries})
        event_ids = list({d["event"] for d in deliveries})
        endpoints = {
            e["id"]: e
            for e in await WebhookEndpoint.select().where(WebhookEndpoint.id.is_in(endpoint_ids))
        }
        events = {
            e["id"]: e
            for e in await OutboxEvent.select()
            .where(OutboxEvent.id.is_in(event_ids))
            .output(load_json=True)
        }
        await asyncio.gather(
            *(self._attempt(d, endpoints[d["endpoint"]], events[d["event"]]) for d in deliveries)
        )
        return len(deliveries)

    async def _attempt(
        self, delivery: dict[str, Any], endpoint: dict[str, Any], event: dict[str, Any]
    ) -> None:
        async with self._sending:
            outcome = await self.send(delivery["id"], endpoint, event)
        await self._record(delivery, outcome)

    async def send(self, msg_id: str, endpoint: dict[str, Any], event: dict[str, Any]) -> Outcome:
        """POST ``event`` to ``endpoint``, signed, to an address checked just now."""
        body = msgspec.json.encode(
            {
                "type": event["type"],
                "timestamp": event["created_at"].isoformat().replace("+00:00", "Z"),
                "data": event["payload"],
            }
        )
        started = time.monotonic()
        timestamp = int(self.now().timestamp())
        headers = signing.headers(endpoint["secret"], msg_id, timestamp, body)
        try:
            url, host, sni = await self._pinned(endpoint["url"])
        except URLRefusedError as exc:
            log.warning("webhook %s to %s refused: %s", msg_id, endpoint["id"], exc.reason)
            return Outcome(
                False, None, _ms(started), f"refused: address not allowed ({exc.reason})", ""
            )
        try:
            async with self._client.stream(
                "POST",
                url,
                content=body,
                headers={**headers, "host": host},
                extensions={"sni_hostname": sni} if sni else {},
            ) as response:
                excerpt = await _excerpt(response)
        except httpx.TimeoutException:
            return Outcome(False, None, _ms(started), "timeout", "")
        except httpx.HTTPError as exc:
            return Outcome(
                False, None, _ms(started), f"connection failed: {type(exc).__name__}", ""
            )
        status = response.status_code
        ok = 200 <= status < 300
        error = (
            ""
            if ok
            else f"HTTP {status}" + (" (redirects are not followed)" if 300 <= status < 400 else "")
        )
        return Outcome(ok, status, _ms(started), error, excerpt)

    async def _pinned(self, url: str) -> tuple[str, str, str | None]:
        """Resolve and check ``url``'s host now; return the URL with the host replaced
        by a checked address, the ``Host`` header, and the TLS server name."""
        parts = self.policy.check_syntax(url)
        hostname = parts.hostname or ""
        addresses = await self.policy.resolve(hostname)
        address: IPAddress = addresses[0]
        literal = f"[{address}]" if address.version == 6 else str(address)
        netloc = literal if parts.port is None else f"{literal}:{parts.port}"
        host_header = parts.netloc.rpartition("@")[2]
        pinned = parts._replace(netloc=netloc).geturl()
        sni = hostname if parts.scheme == "https" and str(address) != hostname else None
        return pinned, host_header, sni

    async def _record(self, delivery: dict[str, Any], outcome: Outcome) -> None:
        """Log one attempt and move the delivery on (delivered, retry later or failed)."""
        now = self.now()
        attempts = int(delivery["attempts"]) + 1
        values: dict[Any, Any] = {
            WebhookDelivery.attempts: attempts,
            WebhookDelivery.last_status_code: outcome.status_code,
            WebhookDelivery.last_error: outcome.error,
            WebhookDelivery.last_attempt_at: now,
            WebhookDelivery.claimed_by: None,
            WebhookDelivery.lease_until: None,
        }
        gave_up = False
        if outcome.success:
            values[WebhookDelivery.status] = "delivered"
            values[WebhookDelivery.delivered_at] = now
            values[WebhookDelivery.next_attempt_at] = None
        elif now - delivery["created_at"] >= RETRY_WINDOW:
            gave_up = True
            values[WebhookDelivery.status] = "failed"
            values[WebhookDelivery.next_attempt_at] = None
        else:
            values[WebhookDelivery.next_attempt_at] = now + retry_delay(attempts, self.rng)
        async with transaction():
            await WebhookAttempt.insert(
                WebhookAttempt(
                    id=new_id("wha"),
                    store=delivery["store"],
                    delivery=delivery["id"],
                    endpoint=delivery["endpoint"],
                    attempted_at=now,
                    success=outcome.success,
                    status_code=outcome.status_code,
                    duration_ms=outcome.duration_ms,
                    error=_short(outcome.error),
                    response_excerpt=_short(outcome.excerpt),
                )
            )
            await WebhookDelivery.update(values).where(
                (WebhookDelivery.id == delivery["id"]) & (WebhookDelivery.claimed_by == self.name)
            )
            if gave_up:
                await self._maybe_disable(delivery, now)

    async def _maybe_disable(self, delivery: dict[str, Any], now: datetime) -> None:
        """Disable the endpoint when nothing reached it during the whole retry window."""
        since = now - RETRY_WINDOW
        endpoint_id = delivery["endpoint"]
        recent = await WebhookDelivery.exists().where(
            (WebhookDelivery.endpoint == endpoint_id) & (WebhookDelivery.delivered_at >= since)
        )
        if recent:
            return
        changed = (
            await WebhookEndpoint.update(
                {
                    WebhookEndpoint.enabled: False,
                    WebhookEndpoint.disabled_reason: "no successful delivery for 72 hours",
                    WebhookEndpoint.updated_at: now,
                }
            )
            .where(
                (WebhookEndpoint.id == endpoint_id)
                & (WebhookEndpoint.enabled.eq(True))
                & (WebhookEndpoint.created_at <= since)
            )
            .returning(WebhookEndpoint.id)
        )
        if changed:
            await emit(
                delivery["store"],
                "webhook_endpoint.disabled",
                {"endpoint_id": endpoint_id, "reason": "no successful delivery for 72 hours"},
                aggregate_id=endpoint_id,
            )


def _event(row: dict[str, Any]) -> Event:
    """The :class:`Event` of an outbox row (JSON loaded)."""
    return Event(
        id=row["id"],
        store_id=row["store"],
        type=row["type"],
        data=row["payload"],
        aggregate_id=row["aggregate_id"],
        created_at=row["created_at"],
    )


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


async def _excerpt(response: httpx.Response) -> str:
    """The first bytes of the response body (never the whole of it)."""
    data = b""
    async for chunk in response.aiter_raw():
        data += chunk
        if len(data) >= 2 * EXCERPT:
            break
    return data[: 2 * EXCERPT].decode("utf-8", errors="replace")


# ---------------------------------------------------------------------------
# Running a worker
# ---------------------------------------------------------------------------


async def run_forever(worker: Worker, stop: asyncio.Event, poll_interval: float = 1.0) -> None:
    """Run ``worker`` until ``stop`` is set, pausing ``poll_interval`` s when idle.

    A failing pass (database unreachable…) is logged and retried after the
    pause; the current batch is always finished before stopping.
    """
    while not stop.is_set():
        try:
            done = await worker.run_once()
        except Exception:
            log.exception("outbox worker %s: pass failed", worker.name)
            done = 0
        if done < worker.batch_size:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), poll_interval)


class BackgroundWorker:
    """A worker running as a task of the current event loop (``caravan serve``)."""

    def __init__(self, worker: Worker, poll_interval: float) -> None:
        self.worker = worker
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(run_forever(worker, self._stop, poll_interval))

    async def stop(self, grace: float = 10.0) -> None:
        """Finish the current batch (cancel it after ``grace`` seconds) and close."""
        self._stop.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), grace)
        except TimeoutError:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        finally:
            await self.worker.close()


def start_in_app(poll_interval: float, subscribers: Sequence[Subscriber]) -> BackgroundWorker:
    """Start a worker task in the running loop; await ``.stop()`` on shutdown.

    The database must be open (call after :func:`core.db.engine.start`).
    """
    return BackgroundWorker(Worker(subscribers=subscribers), poll_interval)
