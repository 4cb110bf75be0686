"""Checkout benchmark: concurrent shoppers from an empty cart to a placed order.

Run ``.venv/bin/python bench/checkout.py`` (or ``make bench-checkout``);
``--help`` lists the options. For each engine (SQLite, then PostgreSQL when
reachable) it

1. migrates an empty database and seeds, through the real HTTP API (the ASGI
   app in-process, the helpers of ``tests/support.py``), one store with the
   regions eu (EUR, tax inclusive) and us (USD), a storefront, 50 products x 3
   variants priced in EUR and USD, a warehouse serving both regions with
   1,000,000 units of every variant, and the built-in providers in each
   region: payment ``manual``, tax ``rate_table``, shipping ``table_rate``;
2. serves the real app (``core.app:create_app``) with granian (1 worker,
   uvloop, 127.0.0.1, a free port);
3. runs N concurrent shoppers (HTTP/1.1 keep-alive, one connection each;
   :class:`RawClient` by default, httpx with ``--client httpx``), each
   looping over a whole checkout — create the cart (1 line), add 2 lines,
   set email and a German address, list the shipping options, choose the
   first, open a ``manual`` payment session and complete (both with an
   ``Idempotency-Key``) — for a warm-up and then the measured duration;

then prints per engine the completed orders/s, p50/p99 per step and for the
whole checkout, the error responses by step and status (and how many mention
"database is locked"), the server's peak RSS and who used the CPU, and writes
it to ``bench/results/checkout-latest.md``.

Targets (issue 3, "Performance"): PostgreSQL >= 100 orders/s with checkout
p99 <= 250 ms; SQLite >= 30 orders/s with no "database is locked"; on both,
no error response at all.

Exit status: 0 the targets are met, 1 one is missed, 2 the harness failed
(server did not start, seeding or the first checkout failed, no engine ran...).
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import dataclasses
import logging
import math
import os
import random
import re
import resource
import statistics
import sys
import time
import traceback
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

ROOT: Final = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import msgspec  # noqa: E402

from bench.catalog import (  # noqa: E402
    HOST,
    NOISY_CORES,
    RESULTS,
    BenchError,
    Server,
    UnreachableError,
    _reset_postgres,
    busy_seconds,
    database_cpu,
    markdown_table,
    plugin_host,
    say,
    text_table,
    wait_quiet,
)
from bench.dataset import product_spec  # noqa: E402

if TYPE_CHECKING:
    from core.plugins.testing.api import Api

#: PostgreSQL on this machine: through its Unix socket when it has one (what a server
#: next to its database uses; loopback TCP costs both sides more CPU per statement).
SOCKET_DIR: Final = Path("/var/run/postgresql")
DEFAULT_PG_URL: Final = (
    f"postgresql://postgres@/caravan_bench_checkout?host={SOCKET_DIR}"
    if (SOCKET_DIR / ".s.PGSQL.5432").exists()
    else "postgresql://postgres@127.0.0.1:5432/caravan_bench_checkout"
)
REPORT: Final = RESULTS / "checkout-latest.md"
DEFAULT_APP: Final = "core.app:create_app"

#: Targets per engine: completed orders/s at least, checkout p99 at most (ms, ``None``: none).
TARGETS: Final[dict[str, tuple[float, float | None]]] = {
    "postgres": (100.0, 250.0),
    "sqlite": (30.0, None),
}
LOCKED: Final = b"database is locked"
#: What marks a line of the server's log as a problem (a warning, an error, a traceback).
PROBLEMS: Final = (b"WARNING", b"ERROR", b"CRITICAL", b"Traceback")
#: Seconds a shopper waits for an answer: longer than the server's SQLite busy timeout
#: (30 s), so that a request failing on the lock is seen with the server's answer.
CLIENT_TIMEOUT: Final = 75.0
STOCK: Final = 1_000_000
EU_COUNTRIES: Final = ["DE", "FR", "ES", "IT", "NL", "AT", "BE"]

#: The steps of one checkout, in order (``checkout`` is the whole of them).
STEPS: Final = (
    "create cart",
    "add line 2",
    "add line 3",
    "email + address",
    "shipping options",
    "shipping method",
    "payment session",
    "complete",
)
CHECKOUT: Final = "checkout"


# ---------------------------------------------------------------------------
# Seeding through the real API
# ---------------------------------------------------------------------------


@dataclass(slots=True)
class Shop:
    """A seeded database: where it is and what the shoppers buy."""

    engine: str
    url: str
    publishable_key: str
    variants: list[str]
    seconds: float = 0.0


def product_body(index: int) -> dict[str, Any]:
    """The ``POST /admin/products`` body of bench product ``index`` (active, 3 sizes, EUR+USD)."""
    spec = product_spec(index)
    return {
        "handle": spec.handle,
        "status": "active",
        "translations": {
            locale: {"title": title, "subtitle": subtitle, "description": description}
            for locale, (title, subtitle, description) in spec.translations.items()
        },
        "options": spec.options,
        "variants": [
            {
                "sku": variant.sku,
                "options": {"Size": variant.size},
                "weight_g": variant.weight_g,
                "prices": [
                    {"currency": currency, "amount": variant.prices[currency]}
                    for currency in ("EUR", "USD")
                ],
            }
            for variant in spec.variants
        ],
    }


async def stock_shop(api: Api, products: int) -> tuple[str, list[str]]:
    """Make the bench store through ``api``; its publishable key and the variant ids.

    Regions eu (EUR, tax inclusive, 7 countries) and us (USD, tax added), a
    storefront (default eu), the built-in providers in both, ``products``
    products of 3 variants and a warehouse holding :data:`STOCK` of each.
    """
    from core.plugins.testing.api import builtin_providers

    store = await api.create_store(handle=f"bench-checkout-{uuid.uuid4().hex[:8]}")
    eu = await api.add_region(
        store, countries=EU_COUNTRIES, locales=["de", "fr", "en", "es"], tax_inclusive=True
    )
    await api.add_region(
        store, code="us", name="United States", currency="USD", countries=["US"], locales=["en"]
    )
    key = await api.add_storefront(store, default_region=eu["id"])
    await builtin_providers(api, store, "eu", tax_rate="0.19", shipping=490)
    await builtin_providers(api, store, "us", tax_rate="0.0725", shipping=900)
    variants: list[str] = []
    for index in range(products):
        r = await api.request("POST", "/admin/products", store.token, json=product_body(index))
        if r.status_code != 201:
            raise BenchError(f"creating product {index}: {r.status_code} {r.text}")
        variants += [v["id"] for v in r.json()["variants"]]
    warehouse = await api.warehouse(store, ["eu", "us"])
    for variant in variants:
        await api.stock(store, variant, warehouse, STOCK)
    return key, variants


@contextlib.asynccontextmanager
async def in_process(
    url: str, headers: dict[str, str] | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app served in-process (ASGI) on the database ``url``."""
    from core.app import create_app
    from core.db import engine as db
    from core.kernel.settings import Settings

    settings = Settings(database_url=url, pool_min=1, pool_max=4)
    app: Any = create_app(settings)
    await db.start(app.state.engine, settings)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench.test", headers=headers
        ) as client:
            yield client
    finally:
        await db.stop(app.state.engine)


async def seed_shop(url: str, products: int) -> tuple[str, list[str]]:
    """:func:`stock_shop` through the app in-process on the database ``url``."""
    from core.auth import service as auth_service
    from core.plugins.testing.api import Api

    async with in_process(url) as client:
        operator, _ = await auth_service.create_token(
            store_id=None, name="bench operator", scopes=[]
        )
        return await stock_shop(Api(client, operator), products)


def seed(engine: str, url: str, products: int) -> Shop:
    """Reset (PostgreSQL) or recreate (SQLite) the database, migrate it and seed the shop.

    Raises :class:`UnreachableError` when PostgreSQL does not answer.
    """
    from core.db.migrate import upgrade

    started = time.perf_counter()
    if engine == "postgres":
        asyncio.run(_reset_postgres(url))
    else:
        path = url.removeprefix("sqlite:///")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    upgrade(url, plugin_dirs=plugin_host().migration_dirs)
    try:
        key, variants = asyncio.run(seed_shop(url, products))
    except AssertionError as exc:  # core.plugins.testing.api.Api checks every answer with assert
        raise BenchError(f"seeding failed: {exc}") from exc
    return Shop(engine, url, key, variants, time.perf_counter() - started)


# ---------------------------------------------------------------------------
# The shoppers
# ---------------------------------------------------------------------------


@dataclass(slots=True)
class Tally:
    """What shoppers measured: latencies, completed orders, errors."""

    #: Latencies in ms of the 2xx answers per step, and of whole checkouts (``CHECKOUT``).
    ms: dict[str, list[float]] = field(default_factory=dict)
    completed: int = 0
    #: Checkouts completed during the warm-up (latencies not recorded).
    warm_completed: int = 0
    #: Error answers by "step status" (status ``0``: no answer, see ``exceptions``).
    errors: Counter[str] = field(default_factory=Counter)
    #: Error answers whose body mentions "database is locked".
    locked: int = 0
    #: Lines of the server's log of the run that mention it (the answer may not).
    locked_logged: int = 0
    #: Lines of the server's log of the run that are warnings or errors (:data:`PROBLEMS`).
    problems_logged: int = 0
    exceptions: Counter[str] = field(default_factory=Counter)
    #: A few error answers, for the report.
    samples: list[str] = field(default_factory=list)
    #: CPU seconds the shoppers' process(es) used.
    cpu: float = 0.0

    def merge(self, other: Tally) -> None:
        """Add ``other`` into this tally."""
        for step, values in other.ms.items():
            self.ms.setdefault(step, []).extend(values)
        self.completed += other.completed
        self.warm_completed += other.warm_completed
        self.errors.update(other.errors)
        self.locked += other.locked
        self.locked_logged += other.locked_logged
        self.problems_logged += other.problems_logged
        self.exceptions.update(other.exceptions)
        self.samples += other.samples[: max(0, 5 - len(self.samples))]
        self.cpu += other.cpu

    @property
    def error_count(self) -> int:
        """Error answers plus requests without an answer."""
        return sum(self.errors.values())


class CheckoutError(Exception):
    """A step did not answer 2xx: the shopper drops this cart and starts another."""


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (``share`` in 0..1) of ``values``; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(share * len(ordered))))
    return ordered[rank - 1]


class Shopper:
    """One client looping over whole checkouts on its own keep-alive connection."""

    def __init__(self, client: Client, variants: Sequence[str], seed: int) -> None:
        self.client = client
        self.variants = variants
        self.random = random.Random(seed)
        #: Whether latencies and completed orders are recorded (not during the warm-up).
        self.measuring = True

    async def call(
        self, tally: Tally | None, step: str, method: str, path: str, **kwargs: Any
    ) -> Any:
        """One request; records its latency (when ``measuring``), or the error and raises
        :class:`CheckoutError`."""
        start = time.perf_counter()
        try:
            response = await self.client.request(method, path, **kwargs)
        except (httpx.HTTPError, RawClientError) as exc:
            if tally is not None:
                tally.errors[f"{step} 0"] += 1
                tally.exceptions[type(exc).__name__] += 1
                if len(tally.samples) < 5:
                    tally.samples.append(f"{step}: no answer: {exc}")
            raise CheckoutError(f"{step}: {type(exc).__name__}: {exc}") from exc
        elapsed = (time.perf_counter() - start) * 1000
        if response.is_success:
            if tally is not None and self.measuring:
                tally.ms.setdefault(step, []).append(elapsed)
            return response.json()
        if tally is not None:
            tally.errors[f"{step} {response.status_code}"] += 1
            tally.locked += LOCKED in response.content
            if len(tally.samples) < 5:
                tally.samples.append(f"{step} {response.status_code}: {response.text[:300]}")
        raise CheckoutError(f"{step} {method} {path}: {response.status_code} {response.text}")

    async def checkout(self, tally: Tally | None) -> dict[str, Any]:
        """One whole checkout; returns the completion's body (``order``, ``access_token``)."""
        from core.plugins.testing.api import address

        start = time.perf_counter()
        first, second, third = self.random.sample(self.variants, 3)
        body = {"region": "eu", "lines": [{"variant_id": first, "quantity": 1}]}
        cart = await self.call(tally, STEPS[0], "POST", "/store/carts", json=body)
        path = f"/store/carts/{cart['id']}"
        for step, variant in zip(STEPS[1:3], (second, third), strict=True):
            line = {"variant_id": variant, "quantity": 1 + self.random.randrange(2)}
            await self.call(tally, step, "POST", f"{path}/lines", json=line)
        shopper = {"email": "shopper@example.com", "shipping_address": address("DE")}
        await self.call(tally, STEPS[3], "PATCH", path, json=shopper)
        options = await self.call(tally, STEPS[4], "GET", f"{path}/shipping-options")
        if not options:
            raise BenchError("the cart has no shipping option (table_rate not set up?)")
        choice = {"provider": options[0]["provider"], "option_id": options[0]["option_id"]}
        await self.call(tally, STEPS[5], "PUT", f"{path}/shipping-method", json=choice)
        await self.call(
            tally,
            STEPS[6],
            "POST",
            f"{path}/payment-sessions",
            json={"provider": "manual"},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        placed: dict[str, Any] = await self.call(
            tally,
            STEPS[7],
            "POST",
            f"{path}/complete",
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        if tally is not None and self.measuring:
            tally.ms.setdefault(CHECKOUT, []).append((time.perf_counter() - start) * 1000)
            tally.completed += 1
        elif tally is not None:
            tally.warm_completed += 1
        return placed

    async def loop(self, tally: Tally, measure_from: float, until: float) -> None:
        """Check out again and again until ``until``; the latencies and orders of checkouts
        started before ``measure_from`` (the warm-up) are not recorded, their errors are."""
        while (now := time.time()) < until:
            self.measuring = now >= measure_from
            with contextlib.suppress(CheckoutError):
                await self.checkout(tally)


class RawResponse:
    """What :class:`RawClient` answers: the parts of ``httpx.Response`` the shoppers read."""

    __slots__ = ("content", "status_code")

    def __init__(self, status_code: int, content: bytes) -> None:
        self.status_code = status_code
        self.content = content

    @property
    def is_success(self) -> bool:
        """A 2xx status."""
        return 200 <= self.status_code < 300

    @property
    def text(self) -> str:
        """The body as text."""
        return self.content.decode(errors="replace")

    def json(self) -> Any:
        """The body decoded as JSON."""
        return msgspec.json.decode(self.content)


class RawClient:
    """A minimal HTTP/1.1 keep-alive client over one asyncio stream (``--client raw``).

    httpx spent 3-3.6 ms of CPU per request on the busy bench machine; at the
    PostgreSQL target (800 requests/s) that alone would take more than a core
    of the 2 the server needs. This client writes the request bytes itself and
    reads ``Content-Length`` or chunked bodies: about a tenth of that. It speaks
    only what the storefront answers; any surprise raises
    :class:`RawClientError` (counted like httpx's transport errors).
    """

    def __init__(self, base: str, headers: dict[str, str], timeout: float = CLIENT_TIMEOUT) -> None:
        parts = urlsplit(base)
        self.host = parts.hostname or HOST
        self.port = parts.port or 80
        self.timeout = timeout
        fixed = {"Host": f"{self.host}:{self.port}", "Accept": "application/json", **headers}
        self.fixed = "".join(f"{k}: {v}\r\n" for k, v in fixed.items()).encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> RawClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection."""
        writer, self.writer, self.reader = self.writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> RawResponse:
        """Send one request on the kept-alive connection (opened when needed)."""
        body = b"" if json is None else msgspec.json.encode(json)
        head = f"{method} {path} HTTP/1.1\r\n".encode() + self.fixed
        for name, value in (headers or {}).items():
            head += f"{name}: {value}\r\n".encode()
        if json is not None:
            head += b"Content-Type: application/json\r\n"
        head += b"Content-Length: %d\r\n\r\n" % len(body)
        try:
            async with asyncio.timeout(self.timeout):
                return await self._exchange(head + body)
        except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
            await self.aclose()
            raise RawClientError(f"{type(exc).__name__}: {exc}") from exc

    async def _exchange(self, data: bytes) -> RawResponse:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(data)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        fields = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in lines[1:] if line)
        }
        if "content-length" in fields:
            content = await self.reader.readexactly(int(fields["content-length"]))
        elif fields.get("transfer-encoding", "").lower() == "chunked":
            content = await self._chunked()
        else:
            raise ValueError(f"a response without length: {lines[0]}")
        if fields.get("connection", "").lower() == "close":
            await self.aclose()
        return RawResponse(status, content)

    async def _chunked(self) -> bytes:
        assert self.reader is not None
        chunks = []
        while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
            chunks.append(await self.reader.readexactly(size + 2))
        await self.reader.readuntil(b"\r\n")  # the empty trailer
        return b"".join(chunk[:-2] for chunk in chunks)


class RawClientError(Exception):
    """The raw client got no (readable) answer."""


#: A shopper's HTTP client.
Client = httpx.AsyncClient | RawClient

#: The load generators ``--client`` chooses from.
CLIENTS: Final = ("httpx", "raw")


def client_for(
    base: str, key: str, kind: str = "httpx", timeout: float = CLIENT_TIMEOUT
) -> httpx.AsyncClient | RawClient:
    """A keep-alive HTTP/1.1 client of the storefront (one connection)."""
    if kind == "raw":
        return RawClient(base, {"X-Publishable-Key": key}, timeout)
    return httpx.AsyncClient(
        base_url=base,
        headers={"X-Publishable-Key": key},
        limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        timeout=timeout,
    )


@dataclass(frozen=True, slots=True)
class LoadPlan:
    """Who loads what, when (wall-clock times, shared by every client process)."""

    base: str
    key: str
    variants: list[str]
    clients: int
    measure_from: float
    until: float
    client: str = "httpx"
    seed: int = 0


async def shoppers(plan: LoadPlan) -> Tally:
    """Run ``plan.clients`` shoppers in this process; their tally, with this process's CPU."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    tally = Tally()
    clients = [client_for(plan.base, plan.key, plan.client) for _ in range(plan.clients)]
    try:
        await asyncio.gather(
            *(
                Shopper(client, plan.variants, plan.seed * 1000 + n).loop(
                    tally, plan.measure_from, plan.until
                )
                for n, client in enumerate(clients)
            )
        )
    finally:
        for client in clients:
            await client.aclose()
    after = resource.getrusage(resource.RUSAGE_SELF)
    tally.cpu = after.ru_utime + after.ru_stime - usage.ru_utime - usage.ru_stime
    return tally


def _shoppers_process(plan: LoadPlan) -> Tally:
    """Entry point of a client process."""
    with contextlib.suppress(ImportError):
        import uvloop

        return uvloop.run(shoppers(plan))
    return asyncio.run(shoppers(plan))


def split(clients: int, processes: int) -> list[int]:
    """``clients`` spread as evenly as possible over ``processes`` (none empty)."""
    processes = max(1, min(processes, clients))
    base, extra = divmod(clients, processes)
    return [base + (1 if n < extra else 0) for n in range(processes)]


def run_load(plan: LoadPlan, processes: int) -> Tally:
    """Run the shoppers in this process (``processes`` 1) or in that many child processes."""
    shares = split(plan.clients, processes)
    if len(shares) == 1:
        return _shoppers_process(plan)
    total = Tally()
    with concurrent.futures.ProcessPoolExecutor(len(shares)) as pool:
        plans = [dataclasses.replace(plan, clients=n, seed=i) for i, n in enumerate(shares)]
        for tally in pool.map(_shoppers_process, plans):
            total.merge(tally)
    return total


# ---------------------------------------------------------------------------
# Where the queries go: one checkout in-process, every database round trip
# ---------------------------------------------------------------------------

#: The round trips recorded while tracing: (statement, ms); ``None`` when not tracing.
_round_trips: list[tuple[str, float]] | None = None


#: The writes of a statement that joins several (``engine.write_all``).
_WRITES = re.compile(r"\b(INSERT INTO|(?<!DO )UPDATE|DELETE FROM) \"?(\w+)")


def _statement(text: str) -> str:
    """A statement shortened to its first 110 characters, whitespace collapsed; one that
    joins several writes is named by them."""
    flat = " ".join(text.split())
    if flat.startswith("WITH s0 AS ("):
        return "one statement: " + " + ".join(" ".join(w) for w in _WRITES.findall(flat))
    return flat if len(flat) <= 110 else flat[:107] + "..."


def _timed_round_trip(method: Any, label: Any) -> Any:
    """Wrap the coroutine method ``method`` to record its duration under ``label(args)``."""

    async def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _round_trips is None:
            return await method(self, *args, **kwargs)
        start = time.perf_counter()
        try:
            return await method(self, *args, **kwargs)
        finally:
            name = label(args)
            if name is not None:
                _round_trips.append((name, (time.perf_counter() - start) * 1000))

    return wrapper


@contextlib.contextmanager
def round_trips_recorded() -> Iterator[None]:
    """Record the database round trips of asyncpg and aiosqlite (patched while inside)."""
    import aiosqlite.core
    import asyncpg.connection

    pg = asyncpg.connection.Connection
    lite = aiosqlite.core.Connection

    def pg_execute(args: tuple[Any, ...]) -> str | None:
        # With arguments execute() goes through _execute(), which records it.
        return _statement(args[0]) if len(args) == 1 else None

    def lite_call(args: tuple[Any, ...]) -> str:
        name = getattr(args[0], "__name__", "call")
        return _statement(args[1]) if len(args) > 1 and isinstance(args[1], str) else name

    patches = [
        (pg, "_execute", lambda args: _statement(args[0])),
        (pg, "execute", pg_execute),
        (lite, "_execute", lite_call),
        (lite, "_connect", lambda _args: "connect (a new connection and thread)"),
    ]
    saved = [(cls, name, cls.__dict__[name]) for cls, name, _ in patches]
    for cls, name, label in patches:
        setattr(cls, name, _timed_round_trip(cls.__dict__[name], label))
    try:
        yield
    finally:
        for cls, name, method in saved:
            setattr(cls, name, method)


@dataclass(slots=True)
class StepTrace:
    """The round trips of one step of a checkout."""

    step: str
    ms: float
    round_trips: list[tuple[str, float]]
    #: CPU time of the whole process during the step.
    cpu_ms: float = 0.0

    @property
    def db_ms(self) -> float:
        """Time spent awaiting the database."""
        return sum(ms for _, ms in self.round_trips)


class TracingShopper(Shopper):
    """A shopper that keeps the database round trips of each step."""

    def __init__(self, client: Client, variants: Sequence[str]) -> None:
        super().__init__(client, variants, 0)
        self.traces: list[StepTrace] = []

    async def call(
        self, tally: Tally | None, step: str, method: str, path: str, **kwargs: Any
    ) -> Any:
        """The request, with its round trips recorded."""
        global _round_trips
        _round_trips = []
        start, cpu = time.perf_counter(), time.process_time()
        try:
            return await super().call(tally, step, method, path, **kwargs)
        finally:
            elapsed = (time.perf_counter() - start) * 1000
            used = (time.process_time() - cpu) * 1000
            self.traces.append(StepTrace(step, elapsed, _round_trips, used))
            _round_trips = None


async def trace_checkout(shop: Shop, runs: int = 10, warm: int = 3) -> list[list[StepTrace]]:
    """The round trips of ``runs`` checkouts through the app in-process, one at a time
    (after ``warm`` untraced ones)."""
    headers = {"X-Publishable-Key": shop.publishable_key}
    async with in_process(shop.url, headers) as client:
        for n in range(warm):  # caches (storefront, providers, statements) warm
            await Shopper(client, shop.variants, 100 + n).checkout(None)
        traced = []
        for _ in range(runs):
            shopper = TracingShopper(client, shop.variants)
            with round_trips_recorded():
                await shopper.checkout(None)
            traced.append(shopper.traces)
        return traced


def trace_lines(engine: str, runs: Sequence[Sequence[StepTrace]]) -> list[str]:
    """Markdown: per step the medians over ``runs`` of its round trips, time and CPU time,
    then the statements of the last run with their counts."""
    rows = []
    for step, traces in zip(STEPS, zip(*runs, strict=True), strict=False):
        rows.append(
            f"| {step} | {statistics.median(len(t.round_trips) for t in traces):g} | "
            f"{statistics.median(t.db_ms for t in traces):.1f} | "
            f"{statistics.median(t.ms for t in traces):.1f} | "
            f"{statistics.median(t.cpu_ms for t in traces):.1f} |"
        )
    total = statistics.median(sum(len(t.round_trips) for t in run) for run in runs)
    cpu = statistics.median(sum(t.cpu_ms for t in run) for run in runs)
    lines = [
        f"## {engine}: {total:g} database round trips and {cpu:.0f} ms of CPU per checkout",
        "",
        f"Medians of {len(runs)} checkouts run one at a time in-process (the app over ASGI, "
        "no load). *CPU ms*: the process's CPU time during the step — the app, its database "
        "threads (SQLite) and the in-process httpx client (~1 ms per request).",
        "",
        "| step | round trips | awaiting the database ms | step ms | CPU ms |",
        "| --- | ---: | ---: | ---: | ---: |",
        *rows,
        "",
        "Statements of the last checkout:",
        "",
    ]
    for t in runs[-1]:
        counts = Counter(name for name, _ in t.round_trips)
        lines.append(f"* **{t.step}**: " + "; ".join(f"{n} x `{q}`" for q, n in counts.items()))
    return lines


# ---------------------------------------------------------------------------
# Server: profiling and resources
# ---------------------------------------------------------------------------

#: Where :func:`profiled_app` dumps its cProfile stats (set by ``--profile``).
PROFILE_ENV: Final = "CARAVAN_BENCH_PROFILE"


def profiled_app() -> Any:
    """``core.app:create_app`` with cProfile running in the event loop's thread.

    Profiling starts at the app's start-up and the stats are dumped to the
    file ``$CARAVAN_BENCH_PROFILE`` at its shutdown (granian stops it on
    SIGTERM). Queries run by aiosqlite's threads show as waits.
    """
    import cProfile

    from core.app import create_app

    app = create_app()
    profiler = cProfile.Profile()

    def start() -> None:
        profiler.enable()

    def dump() -> None:
        profiler.disable()
        profiler.dump_stats(os.environ[PROFILE_ENV])

    app.on_startup.append(start)
    app.on_shutdown.append(dump)
    return app


def profile_summary(path: Path, lines: int = 40) -> str:
    """The functions with the most own and the most cumulative time in the stats at ``path``."""
    import io
    import pstats

    out = io.StringIO()
    stats = pstats.Stats(str(path), stream=out)
    stats.sort_stats("tottime").print_stats(lines)
    stats.sort_stats("cumulative").print_stats(lines)
    return out.getvalue()


# ---------------------------------------------------------------------------
# Server resources
# ---------------------------------------------------------------------------


def group_pids(pgid: int) -> list[int]:
    """The live processes of process group ``pgid``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat[stat.rfind(")") + 2 :].split()[2]) == pgid:
            pids.append(int(entry.name))
    return pids


def logged_lines(path: Path, offset: int, *needles: bytes) -> int:
    """The lines from byte ``offset`` of the log at ``path`` that contain one of ``needles``."""
    with path.open("rb") as log:
        log.seek(offset)
        return sum(any(needle in line for needle in needles) for line in log)


def peak_rss_mb(server: Server) -> float:
    """The peak resident memory (VmHWM) of the server's processes, summed, in MiB."""
    if server.proc is None:
        return float("nan")
    kib = 0
    for pid in group_pids(server.proc.pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    kib += int(line.split()[1])
    return kib / 1024


# ---------------------------------------------------------------------------
# One engine
# ---------------------------------------------------------------------------


@dataclass(slots=True)
class EngineResult:
    """The measured run of one engine."""

    engine: str
    tally: Tally
    seconds: float
    clients: int
    processes: int
    peak_rss_mb: float
    #: Cores used during the measured run by: the server, the shoppers, PostgreSQL, others.
    cores: dict[str, float]
    #: CPU milliseconds per completed order, by the same parts.
    cpu_ms_per_order: dict[str, float] = field(default_factory=dict)
    seed_seconds: float = 0.0

    @property
    def orders_per_s(self) -> float:
        """Completed orders per second of the measured run."""
        return self.tally.completed / self.seconds if self.seconds else 0.0

    def p(self, step: str, share: float) -> float:
        """A latency percentile of ``step`` in ms."""
        return percentile(self.tally.ms.get(step, []), share)


def first_checkout(base: str, shop: Shop, kind: str) -> dict[str, Any]:
    """One checkout before the load: the harness works (else :class:`BenchError`)."""

    async def once() -> dict[str, Any]:
        async with client_for(base, shop.publishable_key, kind) as http:
            return await Shopper(http, shop.variants, -1).checkout(None)

    try:
        return asyncio.run(once())
    except CheckoutError as exc:
        raise BenchError(f"{shop.engine}: the first checkout failed: {exc}") from exc


def measure(server: Server, shop: Shop, args: argparse.Namespace) -> EngineResult:
    """Warm up, then load the server for ``args.duration`` seconds."""
    placed = first_checkout(server.base, shop, args.client)
    order = placed["order"]
    say(
        f"  first checkout: order {order['number']} {order['status']}, "
        f"total {order['total']} {order['currency']}"
    )
    if args.wait_quiet > 0:
        wait_quiet(args.wait_quiet)
    start = time.time() + 0.5
    plan = LoadPlan(
        base=server.base,
        key=shop.publishable_key,
        variants=shop.variants,
        clients=args.clients,
        measure_from=start + args.warmup,
        until=start + args.warmup + args.duration,
        client=args.client,
    )
    say(
        f"  {args.clients} shoppers ({args.client}) in "
        f"{len(split(args.clients, args.processes))} process(es): "
        f"{args.warmup:g} s warm-up, {args.duration:g} s measured"
    )
    before = (server.cpu_seconds(), database_cpu(), busy_seconds(), time.monotonic())
    log_from = server.log_path.stat().st_size
    tally = run_load(plan, args.processes)
    tally.locked_logged = logged_lines(server.log_path, log_from, LOCKED)
    tally.problems_logged = logged_lines(server.log_path, log_from, *PROBLEMS)
    # Checkouts started before ``until`` finish after it: the run lasted until the last one.
    seconds = time.time() - plan.measure_from
    # CPU is measured over the whole load (warm-up included), per order of the whole load.
    whole = time.monotonic() - before[3]
    cpu = {
        "server": server.cpu_seconds() - before[0],
        "shoppers": tally.cpu,
        # Backends that exited took their CPU time with them: other engines' is not ours.
        "PostgreSQL": max(0.0, database_cpu() - before[1]) if shop.engine == "postgres" else 0.0,
    }
    cpu["others"] = max(0.0, busy_seconds() - before[2] - sum(cpu.values()))
    orders = tally.completed + tally.warm_completed
    return EngineResult(
        engine=shop.engine,
        tally=tally,
        seconds=seconds,
        clients=args.clients,
        processes=len(split(args.clients, args.processes)),
        peak_rss_mb=peak_rss_mb(server),
        cores={k: v / whole for k, v in cpu.items()},
        cpu_ms_per_order={k: v * 1000 / orders for k, v in cpu.items() if orders},
        seed_seconds=shop.seconds,
    )


def run_engine(engine: str, args: argparse.Namespace) -> EngineResult:
    """Seed, serve and load one engine."""
    url = args.pg_url if engine == "postgres" else f"sqlite:///{RESULTS / 'checkout-bench.db'}"
    say(f"== {engine}: seeding {args.products} products x 3 variants through the API")
    shop = seed(engine, url, args.products)
    say(f"  seeded in {shop.seconds:.1f} s: {len(shop.variants)} variants")
    if args.trace:
        runs = asyncio.run(trace_checkout(shop))
        report = RESULTS / f"checkout-{engine}-queries.md"
        lines = trace_lines(engine, runs)
        report.write_text("\n".join(lines) + "\n")
        say(f"  {lines[0].removeprefix('## ')} ({report.relative_to(ROOT)})")
    env = {"CARAVAN_DATABASE_URL": url}
    target = args.app
    profile = RESULTS / f"checkout-{engine}.prof"
    if args.profile:
        if target != DEFAULT_APP:
            raise BenchError("--profile serves its own app: give --app or --profile, not both")
        profile.unlink(missing_ok=True)
        env[PROFILE_ENV] = str(profile)
        target = "bench.checkout:profiled_app"
    with Server(f"checkout-{engine}", target, env, "/health", args.workers) as server:
        say(f"  server on {server.base} (log {server.log_path.relative_to(ROOT)})")
        result = measure(server, shop, args)
    if args.profile:
        if not profile.exists():
            raise BenchError(f"{engine}: the server wrote no profile ({profile})")
        text = RESULTS / f"checkout-{engine}-profile.txt"
        text.write_text(profile_summary(profile))
        say(f"  profile: {profile.relative_to(ROOT)}, summary {text.relative_to(ROOT)}")
    say(
        f"  {result.tally.completed} orders in {result.seconds:.1f} s = "
        f"{result.orders_per_s:.1f} orders/s, checkout p50 {result.p(CHECKOUT, 0.5):.0f} ms "
        f"p99 {result.p(CHECKOUT, 0.99):.0f} ms, {result.tally.error_count} errors, "
        + ", ".join(f"{k} {v:.2f}" for k, v in result.cores.items())
        + " cores; CPU ms per order: "
        + ", ".join(f"{k} {v:.1f}" for k, v in result.cpu_ms_per_order.items() if k != "others")
    )
    return result


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------


def _ms(value: float) -> str:
    return "—" if value != value else f"{value:.1f}"  # NaN: no sample


def latency_cells(results: Sequence[EngineResult]) -> list[list[str]]:
    """Per step and engine: 2xx answers, p50 and p99 (header first)."""
    cells = [["step", *[f"{r.engine} {c}" for r in results for c in ("n", "p50 ms", "p99 ms")]]]
    for step in (*STEPS, CHECKOUT):
        row = [step]
        for r in results:
            row += [f"{len(r.tally.ms.get(step, [])):,}", _ms(r.p(step, 0.5)), _ms(r.p(step, 0.99))]
        cells.append(row)
    return cells


def summary_cells(results: Sequence[EngineResult]) -> list[list[str]]:
    """Per engine: orders/s, checkout latency, errors, memory, CPU (header first)."""
    cells = [
        [
            "engine", "orders", "orders/s", "checkout p50 ms", "checkout p99 ms", "errors",
            '"database is locked": answers / server log', "server log warnings",
            "server peak RSS MiB",
            "CPU cores: server / shoppers / PostgreSQL / others",
            "CPU ms per order: server / shoppers / PostgreSQL", "target met",
        ]
    ]  # fmt: skip
    for r in results:
        cells.append(
            [
                r.engine,
                f"{r.tally.completed:,}",
                f"{r.orders_per_s:.1f}",
                _ms(r.p(CHECKOUT, 0.5)),
                _ms(r.p(CHECKOUT, 0.99)),
                f"{r.tally.error_count:,}",
                f"{r.tally.locked:,} / {r.tally.locked_logged:,}",
                f"{r.tally.problems_logged:,}",
                f"{r.peak_rss_mb:.0f}",
                " / ".join(f"{v:.2f}" for v in r.cores.values()),
                " / ".join(
                    f"{r.cpu_ms_per_order.get(k, float('nan')):.1f}"
                    for k in ("server", "shoppers", "PostgreSQL")
                ),
                "yes" if meets_target(r) else "NO",
            ]
        )
    return cells


def meets_target(result: EngineResult) -> bool:
    """Orders/s and checkout p99 within the engine's target, no error answer at all and no
    warning in the server's log."""
    rate, p99 = TARGETS[result.engine]
    return (
        result.orders_per_s >= rate
        and (p99 is None or result.p(CHECKOUT, 0.99) <= p99)
        and result.tally.error_count == 0
        and result.tally.locked == 0
        and result.tally.locked_logged == 0
        and result.tally.problems_logged == 0
    )


def verdict_lines(results: Sequence[EngineResult]) -> tuple[bool, list[str]]:
    """Whether every engine meets its target, and the sentences saying so."""
    if not results:
        return False, ["No verdict: no engine ran."]
    lines = []
    for r in results:
        rate, p99 = TARGETS[r.engine]
        need = f">= {rate:g} orders/s" + (f", checkout p99 <= {p99:g} ms" if p99 else "")
        lines.append(
            f"{'PASS' if meets_target(r) else 'FAIL'}: {r.engine}: {r.orders_per_s:.1f} orders/s, "
            f"checkout p99 {_ms(r.p(CHECKOUT, 0.99))} ms, {r.tally.error_count} error answers "
            f"('database is locked': {r.tally.locked} in answers, {r.tally.locked_logged} in the "
            f"server log), {r.tally.problems_logged} warnings in the server log "
            f"(need {need}, no error)"
        )
    noisy = [r for r in results if r.cores["others"] > NOISY_CORES]
    if noisy:
        lines.append(
            "Caution: other processes used "
            + ", ".join(f"{r.cores['others']:.2f} core during {r.engine}" for r in noisy)
            + " of the 2: the figures are low; re-run on a quiet machine."
        )
    busy_clients = [r for r in results if r.cores["shoppers"] / r.processes > 0.85]
    if busy_clients:
        lines.append(
            "Caution: a shoppers' process was near one full core during "
            + ", ".join(r.engine for r in busy_clients)
            + ": the load generator may be the bottleneck (try --processes 2)."
        )
    passed = all(meets_target(r) for r in results)
    lines.append(f"Verdict: {'targets met' if passed else 'target MISSED'}.")
    return passed, lines


def error_lines(results: Sequence[EngineResult]) -> list[str]:
    """The error answers by engine, step and status, and a few samples."""
    lines = []
    for r in results:
        if not r.tally.errors:
            continue
        counts = ", ".join(f"{k}: {v}" for k, v in sorted(r.tally.errors.items()))
        lines.append(f"{r.engine} errors (step status: count): {counts}")
        if r.tally.exceptions:
            lines.append(f"{r.engine} no answer: {dict(r.tally.exceptions)}")
        lines += [f"{r.engine} sample: {s}" for s in r.tally.samples]
    return lines


def write_markdown(
    path: Path, results: Sequence[EngineResult], verdict: list[str], args: argparse.Namespace
) -> None:
    """Write the report to ``path``."""
    errors = error_lines(results)
    lines = [
        "# Checkout benchmark",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · {os.cpu_count()} CPUs · `{args.app}` on "
        f"granian {args.workers} worker(s), uvloop · {args.clients} shoppers "
        f"({args.client} client, keep-alive) in "
        f"{results[0].processes if results else 1} process(es) · {args.warmup:g} s warm-up, "
        f"{args.duration:g} s measured · {args.products} products x 3 variants · built-in "
        "providers manual / rate_table / table_rate",
        "",
        markdown_table(summary_cells(results)),
        "",
        *[f"* {line}" for line in verdict],
        "",
        "## Latency per step (2xx answers)",
        "",
        markdown_table(latency_cells(results)),
        "",
        "* One checkout: `POST /store/carts` (region eu, 1 line) → `POST …/lines` x 2 → "
        "`PATCH` email + address in DE → `GET …/shipping-options` → `PUT …/shipping-method` "
        "(first option) → `POST …/payment-sessions` `manual` → `POST …/complete` (both with an "
        "`Idempotency-Key`); each shopper picks 3 of the variants at random.",
        "* *orders/s*: completed checkouts of the measured run over its duration (the "
        "checkouts under way at the end finish and count).",
        "* *CPU cores*: CPU time used during the run, in cores, by the server's processes, the "
        "shoppers' process(es) (the load generator shares the 2 cores), PostgreSQL, and "
        "everything else (other processes of the machine: "
        f"above {NOISY_CORES} cores the run is noisy).",
        "* *server peak RSS*: VmHWM of the granian processes, summed.",
    ]
    if errors:
        lines += ["", "## Errors", "", *[f"* {line}" for line in errors]]
    seeding = ", ".join(f"{r.engine} {r.seed_seconds:.1f} s" for r in results)
    lines += ["", "## Seeding (through the API)", "", f"* {seeding}"]
    path.write_text("\n".join(lines) + "\n")


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        description="Concurrent shoppers checking out against the real app served by granian."
    )
    parser.add_argument("--quick", action="store_true", help="5 s runs after 1 s warm-up")
    parser.add_argument(
        "--engines", default="sqlite,postgres", help="comma-separated: sqlite,postgres"
    )
    parser.add_argument(
        "--clients",
        type=int,
        default=16,
        help="concurrent shoppers (16; each waits for its answers, so a checkout takes "
        "at least shoppers / throughput on average: 32 shoppers at 100 orders/s is 320 ms)",
    )
    parser.add_argument(
        "--processes", type=int, default=1, help="client processes the shoppers spread over (1)"
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="granian worker processes serving the app (1)"
    )
    parser.add_argument(
        "--client",
        choices=CLIENTS,
        default="raw",
        help="the shoppers' HTTP client: a minimal HTTP/1.1 client over asyncio streams "
        "(default; ~1/10 of httpx's CPU per request) or httpx.AsyncClient",
    )
    parser.add_argument("--duration", type=float, help="measured seconds (default 20; 5 quick)")
    parser.add_argument("--warmup", type=float, help="warm-up seconds (default 3; 1 quick)")
    parser.add_argument("--products", type=int, default=50, help="products x 3 variants (50)")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="wait up to SECONDS per engine for other processes to use < 0.25 core (30; 0: no)",
    )
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="PostgreSQL database (dropped!)")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="run the server under cProfile; stats in bench/results/checkout-ENGINE.prof "
        "and a summary in checkout-ENGINE-profile.txt (slows the server: figures not comparable)",
    )
    parser.add_argument(
        "--app",
        default=DEFAULT_APP,
        metavar="MODULE:FACTORY",
        help="the app factory granian serves (default core.app:create_app; e.g. an experiment "
        "on PYTHONPATH)",
    )
    parser.add_argument(
        "--trace",
        action="store_true",
        help="before the load, run one checkout in-process recording every database round "
        "trip per step (bench/results/checkout-ENGINE-queries.md)",
    )
    args = parser.parse_args(argv)
    args.engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = set(args.engines) - set(TARGETS)
    if unknown:
        parser.error(f"unknown engine(s): {', '.join(sorted(unknown))}")
    if min(args.clients, args.processes, args.products, args.workers) < 1:
        parser.error("--clients, --processes, --products and --workers must be >= 1")
    args.duration = args.duration or (5.0 if args.quick else 20.0)
    args.warmup = args.warmup if args.warmup is not None else (1.0 if args.quick else 3.0)
    return args


def run(args: argparse.Namespace) -> int:
    """The whole benchmark; returns the exit status."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    # The app's logging set-up (seeding runs it in-process) would log every shopper request.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    results: list[EngineResult] = []
    for engine in args.engines:
        try:
            results.append(run_engine(engine, args))
        except UnreachableError as exc:
            say(f"  PostgreSQL not reachable ({exc}): skipped")
    if not results:
        raise BenchError("no engine ran")
    passed, verdict = verdict_lines(results)
    say("")
    say(text_table(summary_cells(results)))
    say("")
    say(text_table(latency_cells(results)))
    say("")
    for line in [*error_lines(results), *verdict]:
        say(line)
    write_markdown(REPORT, results, verdict, args)
    say(f"report: {REPORT.relative_to(ROOT)}")
    return 0 if passed else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: exit 0 targets met, 1 missed, 2 harness failure."""
    args = parse_args(argv)
    try:
        return run(args)
    except BenchError as exc:
        say(f"BENCH FAILED: {exc}")
        return 2
    except KeyboardInterrupt:
        say("interrupted")
        return 2
    except Exception:
        traceback.print_exc()
        say("BENCH FAILED: unexpected error (above)")
        return 2


if __name__ == "__main__":
    sys.exit(main())
