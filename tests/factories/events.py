"""Builders of the events tests: a real HTTP receiver on 127.0.0.1, a fake clock, outbox
workers, and helpers to emit events, add endpoints and drain deliveries."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import msgspec

from core.db.engine import now, transaction
from core.events.outbox import emit
from core.events.ssrf import EgressPolicy
from core.events.worker import Worker
from core.plugins.current import current_host
from core.plugins.testing.api import Api, StoreHandle


@dataclass
class Received:
    """One request the receiver got."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes
    #: The status code it was answered with (None: never answered).
    answer: int | None = None

    @property
    def msg_id(self) -> str:
        return self.headers["webhook-id"]

    def json(self) -> Any:
        return msgspec.json.decode(self.body)


@dataclass
class Receiver:
    """A tiny HTTP/1.1 server on 127.0.0.1 that records every request.

    ``status`` is the answer's status code; while ``gate`` is set to an
    unset event, requests are recorded and then held (a hanging receiver).
    """

    status: int = 200
    requests: list[Received] = field(default_factory=list)
    gate: asyncio.Event | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    def url(self, path: str = "/hooks") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def answered(self, status: int = 200) -> list[Received]:
        """The requests answered with ``status``."""
        return [r for r in self.requests if r.answer == status]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            lines = head.split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if line:
                    key, _, value = line.partition(":")
                    headers[key.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            received = Received(method, target, headers, body)
            self.requests.append(received)
            self.arrived.set()
            if self.gate is not None:
                await self.gate.wait()
            status = self.status
            received.answer = status
            payload = b'{"received": true, "secret": "internal-detail"}' * 40
            writer.write(
                f"HTTP/1.1 {status} Status\r\ncontent-type: application/json\r\n"
                f"content-length: {len(payload)}\r\nconnection: close\r\n\r\n".encode()
                + payload
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


class Clock:
    """A settable clock; starts at the real time and only moves forward."""

    def __init__(self) -> None:
        self.at = now()

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


def make_worker(clock: Clock, policy: EgressPolicy, **kwargs: Any) -> Worker:
    """A worker on ``clock`` with no plugin subscribers unless given, no jitter."""
    kwargs.setdefault("subscribers", [])
    kwargs.setdefault("subscribers", current_host().subscribers)
    return Worker(now=clock, policy=policy, rng=lambda: 0.0, **kwargs)


async def drain(*workers: Worker, rounds: int = 50) -> None:
    """Run the workers until none finds anything to do."""
    for _ in range(rounds):
        done = sum([await w.run_once() for w in workers])
        if done == 0:
            return
    raise AssertionError("the workers never ran out of work")


async def emit_committed(
    store: StoreHandle, type: str, data: Mapping[str, Any], aggregate_id: str | None = None
) -> str:
    """Emit one event in its own committed transaction."""
    async with transaction():
        return await emit(store.id, type, data, aggregate_id=aggregate_id)


async def add_endpoint(api: Api, store: StoreHandle, url: str, **body: Any) -> dict[str, Any]:
    """Register an endpoint through the API; returns ``{"endpoint", "secret"}``."""
    r = await api.request(
        "POST", "/admin/webhooks/endpoints", store.token, json={"url": url, **body}
    )
    assert r.status_code == 201, r.text
    made: dict[str, Any] = r.json()
    return made


def verify(secret: str, headers: Mapping[str, str], body: bytes) -> bool:
    """An independent Standard Webhooks verifier (as a receiver would write it)."""
    key = base64.b64decode(secret.split("_", 1)[1])
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for candidate in headers["webhook-signature"].split(" "):
        version, _, signature = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(signature, expected):
            return True
    return False
