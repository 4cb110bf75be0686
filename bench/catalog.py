"""Catalog read benchmark: the storefront listing against the bare-endpoint roof.

Run ``.venv/bin/python bench/catalog.py`` (or ``make bench``); ``--help`` lists
the options. For each engine (SQLite, then PostgreSQL when reachable) it

1. migrates an empty database and seeds one store (regions eu/us/sea, one
   storefront with a publishable key) through the service layer, then 10,000
   products x 3 variants x 4 translations x 3 prices in bulk;
2. serves the real app with granian (1 worker, uvloop, 127.0.0.1) and loads
   ``GET /store/products?limit=20`` with wrk (1 thread, 64 connections, 10 s
   after a 2 s warm-up), plus two variants of the request;

then serves :mod:`bench.bare_app` (a pre-encoded page of the same bytes) the
same way, prints the table and the verdict, and writes it to
``bench/results/latest.md``.

Target (DESIGN.md, "Speed"): each catalog listing reaches >= 50 % of the bare
endpoint's req/s with p99 <= 20 ms.

Exit status: 0 the target is met, 1 it is missed, 2 the harness failed
(server did not start, non-2xx responses, socket errors, no engine ran...).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import functools
import json
import os
import re
import resource
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
import traceback
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import msgspec  # noqa: E402

from bench import bare_app  # noqa: E402
from bench.dataset import CURRENCIES, LOCALES, ProductSpec, product_spec  # noqa: E402
from core.app.wiring import app_scope_of  # noqa: E402
from core.plugins.host import PluginHost  # noqa: E402

RESULTS: Final = ROOT / "bench" / "results"
HOST: Final = "127.0.0.1"
DEFAULT_PG_URL: Final = "postgresql://postgres@127.0.0.1:5432/caravan_bench"

#: The target: catalog req/s as a share of the bare endpoint's, and the p99 bound.
TARGET_SHARE: Final = 0.50
TARGET_P99_MS: Final = 20.0

#: (code, name, currency, countries, locales — the first is the default, tax inclusive)
REGIONS: Final = (
    (
        "eu",
        "Europe",
        "EUR",
        ["DE", "FR", "ES", "IT", "NL", "AT", "BE"],
        ["de", "fr", "en", "es"],
        True,
    ),
    ("us", "United States", "USD", ["US"], ["en"], False),
    ("sea", "Southeast Asia", "SGD", ["SG", "MY"], ["en"], False),
)
#: Other processes' CPU use (in cores) above which a measured run counts as noisy.
NOISY_CORES: Final = 0.25

#: A browser-style header that negotiates ``fr`` in the eu region (whose default is ``de``).
ACCEPT_LANGUAGE: Final = "fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7"


class BenchError(Exception):
    """The harness failed: the run proves nothing (exit status 2)."""


class UnreachableError(Exception):
    """An engine's server is not there: skip it."""


def say(message: str) -> None:
    """Print a progress line at once."""
    print(message, flush=True)


# ---------------------------------------------------------------------------
# What is measured
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Probe:
    """One request loaded against a server."""

    label: str
    path: str
    headers: dict[str, str]
    #: What the run measures (written to the report).
    measures: str
    #: A wrk Lua script choosing each request's path (``path`` is then the one checked first).
    script: str | None = None
    #: Whether the verdict judges this run (else it is shown for information).
    judged: bool = True


CATALOG_PROBES: Final = (
    Probe(
        "listing",
        "/store/products?limit=20",
        {},
        "first page of 20 products, storefront default region (eu, EUR) and its default "
        "locale (de); the same request over and over, so this is the cached-read path",
    ),
    Probe(
        "listing sort=price_asc",
        "/store/products?limit=20&sort=price_asc",
        {},
        "the same page ordered by price in the region's currency (variant_prices) — "
        "a second query shape and cache key",
    ),
    Probe(
        "listing Accept-Language fr",
        "/store/products?limit=20",
        {"Accept-Language": ACCEPT_LANGUAGE},
        f"the same page negotiated from a browser header (`{ACCEPT_LANGUAGE}` → fr, "
        "not the region default): header parsing, locale negotiation, another translation",
    ),
)

_MISS_LUA: Final = """\
-- A random page (cursor) in a random locale per request: mostly cache misses.
local cursors = {}
for c in string.gmatch([[%s]], "%%S+") do cursors[#cursors + 1] = c end
local locales = {"de", "fr", "en", "es"}
math.randomseed(20261122)
request = function()
  local path = "/store/products?limit=20&locale=" .. locales[math.random(#locales)]
    .. "&cursor=" .. cursors[math.random(#cursors)]
  return wrk.format(nil, path)
end
"""


def miss_probe(product_ids: Sequence[str]) -> Probe:
    """Listing requests that mostly miss the response cache (informational, not judged)."""
    from core.kernel.pagination import encode_cursor

    cursors = [encode_cursor([pid]) for pid in product_ids]
    return Probe(
        "listing cache misses",
        f"/store/products?limit=20&locale=fr&cursor={cursors[len(cursors) // 2]}",
        {},
        f"each request a random page (cursor after one of the {len(cursors):,} products, sort "
        "newest) in a random locale (`?locale=`): "
        f"{len(cursors) * 4:,} distinct responses against the 4,096-entry cache, so most "
        "requests run the listing queries and encode; shown for information, not judged",
        script=_MISS_LUA % "\n".join(cursors),
        judged=False,
    )


BARE_PROBE: Final = Probe(
    "bare endpoint",
    bare_app.PATH,
    {},
    "one Litestar route returning the pre-encoded bytes of the listing's response, no "
    "middleware, no database: the roof for this response size on this machine. It runs "
    "beside the bench and is measured right before every catalog run, which is compared with "
    "that paired measurement (the machine's speed drifts by tens of % over minutes); its row "
    "per engine shows the median of those rounds",
)


class Patience:
    """A budget of seconds to spend, over the whole bench, waiting for a quiet machine."""

    #: At most this long for one wait.
    PER_WAIT: Final = 60.0

    def __init__(self, seconds: float) -> None:
        self.remaining = seconds

    def wait(self) -> None:
        """Wait until other work settles, within the per-wait cap and the remaining budget."""
        if self.remaining <= 0:
            return
        started = time.monotonic()
        wait_quiet(min(self.PER_WAIT, self.remaining))
        self.remaining -= time.monotonic() - started

    @property
    def left(self) -> bool:
        """Whether any budget remains."""
        return self.remaining > 0


@dataclass(frozen=True, slots=True)
class LoadConfig:
    """How hard and how long to load."""

    connections: int
    duration: float
    warmup: float
    threads: int = 1
    timeout: float = 10.0
    #: Waiting for other work on the machine to settle (``None``: never wait nor
    #: measure a noisy run again).
    patience: Patience | None = None
    #: Measured runs at most, when other processes used more than ``NOISY_CORES``.
    attempts: int = 3

    def quiet(self) -> LoadConfig:
        """The same load without warm-up (for a second round on a warm server)."""
        return dataclasses.replace(self, warmup=0.0)


@dataclass(slots=True)
class LoadResult:
    """What the load generator reported for one run."""

    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: dict[str, int]
    raw: str = ""

    @property
    def errors(self) -> int:
        """Non-2xx responses plus socket errors."""
        return self.non_2xx + sum(self.socket_errors.values())


@dataclass(slots=True)
class Row:
    """One line of the result table."""

    target: str
    engine: str
    result: LoadResult
    body_bytes: int
    cpu_us_per_req: float | None
    #: CPU (in cores) used during the run by processes other than the server and wrk.
    others_cores: float
    served_as: str = ""
    catalog: bool = True
    #: req/s of the bare endpoint measured just before this run (its roof).
    bare_rps: float | None = None
    #: Rounds the figures are the medians of.
    rounds: int = 1


# ---------------------------------------------------------------------------
# Load generator: wrk
# ---------------------------------------------------------------------------

_UNITS_S: Final = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def _seconds(value: str, unit: str) -> float:
    return float(value) * _UNITS_S[unit]


def parse_wrk(output: str) -> LoadResult:
    """Parse the report of ``wrk --latency`` (raises :class:`BenchError` when it is not one)."""
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    total = re.search(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h)", output, re.M)
    percentiles = {
        int(m.group(1)): _seconds(m.group(2), m.group(3)) * 1000
        for m in re.finditer(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.M)
    }
    if not rps or not total or 50 not in percentiles or 99 not in percentiles:
        raise BenchError(f"cannot read wrk's report:\n{output}")
    sockets = {"connect": 0, "read": 0, "write": 0, "timeout": 0}
    found = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if found:
        sockets = dict(zip(sockets, map(int, found.groups()), strict=True))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return LoadResult(
        requests=int(total.group(1)),
        seconds=_seconds(total.group(2), total.group(3)),
        rps=float(rps.group(1)),
        p50_ms=percentiles[50],
        p99_ms=percentiles[99],
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sockets,
        raw=output,
    )


@dataclass(frozen=True, slots=True)
class Wrk:
    """The ``wrk`` binary."""

    path: str
    version: str

    @property
    def name(self) -> str:
        """How the report names the load generator."""
        return f"wrk {self.version}"

    def command(
        self,
        url: str,
        headers: dict[str, str],
        load: LoadConfig,
        seconds: float,
        script: Path | None = None,
    ) -> list[str]:
        """The command line of one run."""
        cmd = [
            self.path,
            f"-t{load.threads}",
            f"-c{load.connections}",
            f"-d{seconds:g}s",
            f"--timeout={load.timeout:g}s",
            "--latency",
        ]
        for name, value in headers.items():
            cmd += ["-H", f"{name}: {value}"]
        if script is not None:
            cmd += ["-s", str(script)]
        return [*cmd, url]

    def run(
        self,
        url: str,
        headers: dict[str, str],
        load: LoadConfig,
        seconds: float,
        script: Path | None = None,
    ) -> LoadResult:
        """Load ``url`` for ``seconds`` and return the parsed report."""
        proc = subprocess.run(
            self.command(url, headers, load, seconds, script),
            capture_output=True,
            text=True,
            timeout=seconds + load.timeout + 30,
            check=False,
        )
        if proc.returncode != 0:
            raise BenchError(f"wrk failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
        return parse_wrk(proc.stdout)


def _wrk_version(path: str) -> str:
    proc = subprocess.run([path, "-v"], capture_output=True, text=True, check=False)
    found = re.search(r"wrk\s+(\S+)", proc.stdout + proc.stderr)
    return found.group(1) if found else "?"


def ensure_wrk() -> Wrk:
    """Return wrk, installing the Debian package first when it is missing and we are root.

    (No pip-installable ``oha`` exists on PyPI, so wrk is the load generator.)
    """
    path = shutil.which("wrk")
    if path is None:
        if os.geteuid() != 0:
            raise BenchError("wrk is not installed; run `apt-get install -y wrk` as root")
        say("wrk missing: apt-get install -y wrk")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "-q", "wrk"]
        if subprocess.run(install, env=env, capture_output=True, check=False).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, check=False)
            subprocess.run(install, env=env, capture_output=True, check=False)
        path = shutil.which("wrk")
        if path is None:
            raise BenchError("could not install wrk with apt-get")
    return Wrk(path, _wrk_version(path))


# ---------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def fetch(
    url: str, headers: dict[str, str] | None = None, timeout: float = 10.0
) -> tuple[int, bytes]:
    """GET ``url``; return the status and body (also for error statuses)."""
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 (http on loopback)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _granian() -> str:
    local = Path(sys.executable).parent / "granian"
    found = str(local) if local.exists() else shutil.which("granian")
    if not found:
        raise BenchError("granian not found (run `make env`)")
    return found


class Server:
    """A granian server in its own process group, always stopped on exit."""

    def __init__(
        self, name: str, target: str, env: dict[str, str], ready_path: str, workers: int = 1
    ) -> None:
        self.name = name
        self.port = free_port()
        self.base = f"http://{HOST}:{self.port}"
        self.log_path = RESULTS / f"server-{name}.log"
        self.command = [
            _granian(), "--interface", "asgi", "--factory", target,
            "--host", HOST, "--port", str(self.port),
            "--loop", "uvloop", "--no-access-log", "--workers", str(workers),
        ]  # fmt: skip
        self.env = {**os.environ, **env}
        self.ready_path = ready_path
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def start(self, timeout: float = 60.0) -> None:
        """Start the server and wait until ``ready_path`` answers 200."""
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(
                    f"{self.name}: server exited ({self.proc.returncode})\n{self.log_tail()}"
                )
            try:
                status, body = fetch(self.base + self.ready_path, timeout=1.0)
            except OSError as exc:
                last = str(exc)
            else:
                if status == 200:
                    return
                last = f"{status} {body[:200]!r}"
            time.sleep(0.1)
        raise BenchError(f"{self.name}: not ready after {timeout:g} s ({last})\n{self.log_tail()}")

    def stop(self) -> None:
        """Stop the whole process group: SIGTERM, then SIGKILL after 10 s."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        # Workers that outlived the main process.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)

    def cpu_seconds(self) -> float:
        """User + system CPU time of the live processes of the server's group."""
        if self.proc is None:
            return 0.0
        pgid = self.proc.pid
        return process_cpu(lambda _comm, pgrp: pgrp == pgid)

    def settle(self, limit: float = 15.0) -> None:
        """Wait until the server stops burning CPU (requests queued before wrk stopped)."""
        deadline = time.monotonic() + limit
        before = self.cpu_seconds()
        while time.monotonic() < deadline:
            time.sleep(0.5)
            now = self.cpu_seconds()
            if now - before < 0.05:
                return
            before = now

    def log_tail(self, lines: int = 30) -> str:
        """The end of the server's output."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def process_cpu(select: Callable[[str, int], bool]) -> float:
    """User + system CPU seconds of the live processes ``select(comm, pgrp)`` picks."""
    ticks = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        comm = stat[stat.find("(") + 1 : stat.rfind(")")]
        fields = stat[stat.rfind(")") + 2 :].split()
        if select(comm, int(fields[2])):
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def database_cpu() -> float:
    """CPU seconds of the PostgreSQL server processes (part of the system under test)."""
    return process_cpu(lambda comm, _pgrp: comm == "postgres")


def busy_seconds() -> float:
    """CPU seconds all cores spent busy since boot (``/proc/stat``, less idle and iowait)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    """CPU seconds of this process's waited-for children (the wrk runs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wait_quiet(limit: float, threshold: float = NOISY_CORES) -> float:
    """Wait up to ``limit`` seconds until other work uses < ``threshold`` core; return its use.

    Measured over 1-second windows while our servers idle, so what is busy is
    someone else (another test suite, a build).
    """
    started = time.monotonic()
    deadline = started + limit
    announced = False
    while True:
        before, start = busy_seconds(), time.monotonic()
        time.sleep(1.0)
        used = (busy_seconds() - before) / (time.monotonic() - start)
        if used < threshold or time.monotonic() >= deadline:
            if announced:
                waited = time.monotonic() - started
                say(f"    waited {waited:.0f} s (others now use {used:.2f} core)")
            return used
        if not announced:
            say(f"    waiting up to {limit:g} s for a quiet machine: others use {used:.2f} core")
            announced = True


def _describe(body: bytes) -> str:
    """A short summary of a listing response (locale, currency, item count)."""
    try:
        data = json.loads(body)
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return f"{len(data)} items" if isinstance(data, list) else ""
    parts = [f"{k}={data[k]}" for k in ("region", "currency", "locale") if k in data]
    if isinstance(data.get("items"), list):
        parts.append(f"{len(data['items'])} items")
    return ", ".join(parts)


def measure(
    server: Server,
    probe: Probe,
    engine: str,
    wrk: Wrk,
    load: LoadConfig,
    *,
    catalog: bool = True,
) -> tuple[Row, bytes]:
    """Check one response, warm up, load, and fail loudly on any error response."""
    url = server.base + probe.path
    status, body = fetch(url, probe.headers)
    if status != 200:
        raise BenchError(
            f"{engine} {probe.label}: GET {probe.path} answered {status}:\n"
            f"{body[:2000].decode(errors='replace')}"
        )
    say(f"  {probe.label}: {len(body):,} bytes ({_describe(body)}) {body[:120]!r}…")
    script = None
    if probe.script is not None:
        script = RESULTS / f"{engine}-{re.sub(r'[^a-z0-9]+', '-', probe.label.lower())}.lua"
        script.write_text(probe.script)
    if load.patience is not None:
        load.patience.wait()
    if load.warmup > 0:
        wrk.run(url, probe.headers, load, load.warmup, script)
    rows: list[Row] = []
    for attempt in range(1, load.attempts + 1):
        server_before, wrk_before, db_before, busy_before = (
            server.cpu_seconds(), children_cpu(), database_cpu(), busy_seconds()
        )  # fmt: skip
        start = time.monotonic()
        result = wrk.run(url, probe.headers, load, load.duration, script)
        elapsed = time.monotonic() - start
        cpu = server.cpu_seconds() - server_before
        wrk_cpu = children_cpu() - wrk_before
        db_cpu = database_cpu() - db_before
        busy = busy_seconds() - busy_before
        others = max(0.0, (busy - cpu - wrk_cpu - db_cpu) / elapsed)
        server.settle()
        if result.errors:
            status, sample = fetch(url, probe.headers)
            raise BenchError(
                f"{engine} {probe.label}: {result.non_2xx} non-2xx responses, socket errors "
                f"{result.socket_errors}\n{result.raw}\nsample response ({status}):\n"
                f"{sample[:2000].decode(errors='replace')}\nserver log:\n{server.log_tail()}"
            )
        row = Row(
            target=probe.label,
            engine=engine,
            result=result,
            body_bytes=len(body),
            cpu_us_per_req=cpu / result.requests * 1e6 if result.requests else None,
            others_cores=others,
            served_as=_describe(body),
            catalog=catalog and probe.judged,
        )
        say(
            f"    {result.rps:,.0f} req/s, p50 {result.p50_ms:.2f} ms, "
            f"p99 {result.p99_ms:.2f} ms, server CPU {row.cpu_us_per_req or 0:.0f} µs/req, "
            f"wrk {wrk_cpu / elapsed:.2f} core, PostgreSQL {db_cpu / elapsed:.2f} core, "
            f"others {others:.2f} core"
        )
        rows.append(row)
        patience = load.patience
        if others <= NOISY_CORES or patience is None or not patience.left:
            break
        if attempt < load.attempts:
            say(f"    noisy run (others used {others:.2f} core): measuring again")
            patience.wait()
    # The quietest attempt stands.
    return min(rows, key=lambda r: r.others_cores), body


# ---------------------------------------------------------------------------
# Seeding
# ---------------------------------------------------------------------------


@dataclass(slots=True)
class Seeded:
    """A migrated and seeded database."""

    engine: str
    url: str
    store_id: str
    publishable_key: str
    timings: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    product_ids: list[str] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        """Total seeding time."""
        return sum(self.timings.values())


async def setup_store(url: str) -> tuple[str, str]:
    """Create the store, its regions and a storefront through the service layer.

    Returns the store id and the storefront's publishable key.
    """
    from core.db import engine as db
    from core.kernel.settings import Settings
    from core.stores import service
    from core.stores.schemas import RegionCreate, StoreCreate, StorefrontCreate

    settings = Settings(database_url=url, pool_min=1, pool_max=2)
    app_scope_of(settings).activate()  # the services read their settings from it
    engine = db.create_engine(settings)
    tables = plugin_host().tables
    previous = db.current()
    db.bind(engine, tables)
    await db.start(engine, settings)
    try:
        created = await service.create_store(
            StoreCreate(
                handle="bench-outfitters",
                name="Bench Outfitters",
                base_currency="EUR",
                home_country="DE",
                default_locale="en",
            )
        )
        store_id = created.store.id
        region_ids: dict[str, str] = {}
        for code, name, currency, countries, locales, tax_inclusive in REGIONS:
            region = await service.create_region(
                store_id,
                RegionCreate(
                    code=code,
                    name=name,
                    currency=currency,
                    countries=countries,
                    locales=locales,
                    tax_inclusive=tax_inclusive,
                ),
            )
            region_ids[code] = region.id
        storefront = await service.create_storefront(
            store_id, StorefrontCreate(name="Bench storefront", default_region=region_ids["eu"])
        )
        return store_id, storefront.publishable_key
    finally:
        await db.stop(engine)
        db.bind(previous, tables)


RowDicts = dict[str, list[dict[str, Any]]]


def catalog_rows(store_id: str, count: int, now: datetime) -> RowDicts:
    """The rows of ``count`` products, keyed by table name (values as Python objects)."""
    from core.kernel.ids import new_id

    rows: RowDicts = {
        "products": [],
        "product_translations": [],
        "variants": [],
        "variant_prices": [],
        "product_prices": [],
    }
    for index in range(count):
        spec: ProductSpec = product_spec(index)
        product_id = new_id("prod")
        rows["products"].append(
            {
                "id": product_id,
                "store": store_id,
                "handle": spec.handle,
                "status": spec.status,
                "options": spec.options,
                "media": spec.media,
                "tags": spec.tags,
                "created_at": now,
                "updated_at": now,
            }
        )
        for locale in LOCALES:
            title, subtitle, description = spec.translations[locale]
            rows["product_translations"].append(
                {
                    "id": new_id("ptr"),
                    "store": store_id,
                    "product": product_id,
                    "locale": locale,
                    "title": title,
                    "subtitle": subtitle,
                    "description": description,
                }
            )
        for variant in spec.variants:
            variant_id = new_id("var")
            rows["variants"].append(
                {
                    "id": variant_id,
                    "store": store_id,
                    "product": product_id,
                    "sku": variant.sku,
                    "barcode": "",
                    "options": {"Size": variant.size},
                    "weight_g": variant.weight_g,
                    "length_mm": 300,
                    "width_mm": 220,
                    "height_mm": 40,
                    "hs_code": "620520",
                    "origin_country": "PT",
                    "position": variant.position,
                    "created_at": now,
                }
            )
            for currency in CURRENCIES:
                rows["variant_prices"].append(
                    {
                        "id": new_id("price"),
                        "store": store_id,
                        "product": product_id,
                        "variant": variant_id,
                        "currency": currency,
                        "amount": variant.prices[currency],
                    }
                )
        # The product's lowest price per currency, as the catalog service keeps it.
        for currency in CURRENCIES:
            rows["product_prices"].append(
                {
                    "id": new_id("pp"),
                    "store": store_id,
                    "product": product_id,
                    "currency": currency,
                    "min_amount": min(v.prices[currency] for v in spec.variants),
                }
            )
    return rows


def _json_text(value: Any) -> Any:
    return value if isinstance(value, str) else msgspec.json.encode(value).decode()


def _sqlite_timestamp(value: Any) -> Any:
    # What piccolo.engine.sqlite.convert_datetime_in writes: str() of the UTC datetime.
    return str(value.astimezone(UTC)) if isinstance(value, datetime) else value


def _sqlite_bool(value: Any) -> Any:
    return int(value) if isinstance(value, bool) else value


def table_tuples(
    table_name: str, dicts: list[dict[str, Any]], engine: str
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Match ``dicts`` to the Piccolo table's columns exactly and encode them for ``engine``.

    JSON columns become JSON text; on SQLite timestamps become Piccolo's text
    form and booleans integers. A column the bench does not know (added to the
    table since) gets the column's default, with a warning; a key the table
    does not have is an error.
    """
    from piccolo.columns import JSON, JSONB, Boolean, Timestamptz

    table = next((t for t in plugin_host().tables if t._meta.tablename == table_name), None)
    if table is None:
        raise BenchError(f"no Piccolo table {table_name!r}: update bench/catalog.py")
    columns = table._meta.columns
    names = [c._meta.db_column_name for c in columns]
    extra = set(dicts[0]) - set(names)
    if extra:
        raise BenchError(f"{table_name} has no column(s) {sorted(extra)}: update bench/catalog.py")
    defaults: dict[str, Any] = {}
    for column, name in zip(columns, names, strict=True):
        if name not in dicts[0]:
            defaults[name] = column.get_default_value()
            say(f"  WARNING: {table_name}.{name} not seeded by the bench: {defaults[name]!r}")
    converters: list[Callable[[Any], Any] | None] = []
    for column in columns:
        if isinstance(column, JSON | JSONB):
            converters.append(_json_text)
        elif engine == "sqlite" and isinstance(column, Timestamptz):
            converters.append(_sqlite_timestamp)
        elif engine == "sqlite" and isinstance(column, Boolean):
            converters.append(_sqlite_bool)
        else:
            converters.append(None)
    tuples = []
    for row in dicts:
        values = []
        for name, convert in zip(names, converters, strict=True):
            value = row[name] if name in row else defaults[name]
            values.append(convert(value) if convert is not None else value)
        tuples.append(tuple(values))
    return names, tuples


def _timed(timings: dict[str, float], step: str) -> contextlib.AbstractContextManager[None]:
    @contextlib.contextmanager
    def timer() -> Iterator[None]:
        start = time.perf_counter()
        yield
        timings[step] = time.perf_counter() - start

    return timer()


@functools.cache
def plugin_host() -> PluginHost:
    """The installed plugins' host, made current (seeding calls the services)."""
    host = PluginHost.load()
    host.activate()
    return host


def seed_sqlite(path: Path, products: int) -> Seeded:
    """Create, migrate and seed a fresh SQLite file."""
    from core.db.migrate import upgrade

    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    timings: dict[str, float] = {}
    with _timed(timings, "migrate"):
        upgrade(url, plugin_dirs=plugin_host().migration_dirs)
    with _timed(timings, "store"):
        store_id, key = asyncio.run(setup_store(url))
    with _timed(timings, "products"):
        rows = catalog_rows(store_id, products, datetime.now(UTC))
        conn = sqlite3.connect(path)
        try:
            conn.execute("PRAGMA synchronous=OFF")
            with conn:
                for table_name, dicts in rows.items():
                    names, tuples = table_tuples(table_name, dicts, "sqlite")
                    cols = ", ".join(f'"{n}"' for n in names)
                    marks = ", ".join("?" * len(names))
                    insert = f'INSERT INTO "{table_name}" ({cols}) VALUES ({marks})'  # noqa: S608
                    conn.executemany(insert, tuples)
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            counts = {
                name: int(conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0])  # noqa: S608
                for name in rows
            }
        finally:
            conn.close()
    ids = [r["id"] for r in rows["products"]]
    return Seeded("sqlite", url, store_id, key, timings, counts, ids)


async def _reset_postgres(url: str) -> None:
    import asyncpg

    from core.db.engine import postgres_config

    cfg = postgres_config(url)
    try:
        admin = await asyncpg.connect(**{**cfg, "database": "postgres"}, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        raise UnreachableError(f"{cfg['host']}:{cfg['port']}: {exc}") from exc
    try:
        name = cfg["database"].replace('"', '""')
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


async def _copy_postgres(url: str, rows: RowDicts) -> dict[str, int]:
    import asyncpg

    from core.db.engine import postgres_config

    conn = await asyncpg.connect(**postgres_config(url))
    try:
        async with conn.transaction():
            for table_name, dicts in rows.items():
                names, tuples = table_tuples(table_name, dicts, "postgres")
                await conn.copy_records_to_table(table_name, records=tuples, columns=names)
        await conn.execute("ANALYZE")
        return {
            name: int(await conn.fetchval(f'SELECT count(*) FROM "{name}"'))  # noqa: S608
            for name in rows
        }
    finally:
        await conn.close()


def seed_postgres(url: str, products: int) -> Seeded:
    """Drop, create, migrate and seed the PostgreSQL bench database.

    Raises :class:`UnreachableError` when no server answers.
    """
    from core.db.migrate import upgrade

    timings: dict[str, float] = {}
    with _timed(timings, "reset"):
        asyncio.run(_reset_postgres(url))
    with _timed(timings, "migrate"):
        upgrade(url, plugin_dirs=plugin_host().migration_dirs)
    with _timed(timings, "store"):
        store_id, key = asyncio.run(setup_store(url))
    with _timed(timings, "products"):
        rows = catalog_rows(store_id, products, datetime.now(UTC))
        counts = asyncio.run(_copy_postgres(url, rows))
    ids = [r["id"] for r in rows["products"]]
    return Seeded("postgres", url, store_id, key, timings, counts, ids)


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------


def median_row(rounds: Sequence[Row]) -> Row:
    """One row for several rounds of a run: medians, and the noisiest round's others' CPU."""
    if len(rounds) == 1:
        return rounds[0]
    results = [r.result for r in rounds]
    cpu = [r.cpu_us_per_req for r in rounds if r.cpu_us_per_req is not None]
    return dataclasses.replace(
        rounds[0],
        result=LoadResult(
            requests=sum(r.requests for r in results),
            seconds=sum(r.seconds for r in results),
            rps=statistics.median(r.rps for r in results),
            p50_ms=statistics.median(r.p50_ms for r in results),
            p99_ms=statistics.median(r.p99_ms for r in results),
            non_2xx=sum(r.non_2xx for r in results),
            socket_errors={},
        ),
        cpu_us_per_req=statistics.median(cpu) if cpu else None,
        others_cores=max(r.others_cores for r in rounds),
        rounds=len(rounds),
    )


def share_of_bare(row: Row) -> float | None:
    """The row's req/s as a fraction of the bare endpoint's measured just before it."""
    if row.bare_rps:
        return row.result.rps / row.bare_rps
    return 1.0 if row.target == BARE_PROBE.label else None


def meets_target(row: Row) -> bool:
    """>= 50 % of the (paired) bare req/s with p99 <= 20 ms."""
    share = share_of_bare(row)
    return share is not None and share >= TARGET_SHARE and row.result.p99_ms <= TARGET_P99_MS


HEADERS: Final = (
    "target", "engine", "req/s", "p50 ms", "p99 ms", "% of bare",
    "target met", "bare req/s (paired)", "body bytes", "server CPU µs/req", "others' CPU",
)  # fmt: skip


def table_cells(rows: Sequence[Row]) -> list[list[str]]:
    """The table as text cells (header first)."""
    cells = [list(HEADERS)]
    for row in rows:
        share = share_of_bare(row)
        verdict = ("yes" if meets_target(row) else "NO") if row.catalog else "—"
        cells.append(
            [
                row.target,
                row.engine,
                f"{row.result.rps:,.0f}",
                f"{row.result.p50_ms:.2f}",
                f"{row.result.p99_ms:.2f}",
                f"{share * 100:.1f} %" if share is not None else "—",
                verdict,
                f"{row.bare_rps:,.0f}" if row.bare_rps else "—",
                f"{row.body_bytes:,}",
                f"{row.cpu_us_per_req:.0f}" if row.cpu_us_per_req is not None else "—",
                f"{row.others_cores:.2f}" + (" (noisy)" if row.others_cores > NOISY_CORES else ""),
            ]
        )
    return cells


def text_table(cells: list[list[str]]) -> str:
    """Align cells in columns (numbers right-aligned)."""
    widths = [max(len(r[i]) for r in cells) for i in range(len(cells[0]))]
    lines = []
    for n, r in enumerate(cells):
        parts = [
            c.ljust(w) if i < 2 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        lines.append("  ".join(parts))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(cells: list[list[str]]) -> str:
    """The cells as a Markdown table."""
    head, *body = cells
    align = ["---", "---"] + ["---:"] * (len(head) - 2)
    return "\n".join("| " + " | ".join(r) + " |" for r in [head, align, *body])


def verdict_lines(rows: Sequence[Row]) -> tuple[bool, list[str]]:
    """Whether every catalog row meets the target, and the sentences saying so."""
    catalog = [r for r in rows if r.catalog]
    if not catalog:
        return False, ["No verdict: no catalog run."]
    lines = []
    for row in catalog:
        share = share_of_bare(row) or 0.0
        ok = meets_target(row)
        lines.append(
            f"{'PASS' if ok else 'FAIL'}: {row.engine} {row.target}: {row.result.rps:,.0f} req/s = "
            f"{share * 100:.1f} % of the bare endpoint's {row.bare_rps or 0:,.0f} just before "
            f"(need >= {TARGET_SHARE * 100:.0f} %), "
            f"p99 {row.result.p99_ms:.2f} ms (need <= {TARGET_P99_MS:g} ms)"
        )
    passed = all(meets_target(r) for r in catalog)
    noisy = [r for r in rows if r.others_cores > NOISY_CORES]
    if noisy:
        lines.append(
            f"Caution: in {len(noisy)} run(s) other processes used more than {NOISY_CORES} "
            'core (column "others\' CPU"): those figures are low; re-run on a quiet machine.'
        )
    lines.append(
        f"Verdict: {'target met' if passed else 'target MISSED'} "
        f"(catalog listing >= {TARGET_SHARE * 100:.0f} % of the bare endpoint's req/s, "
        f"p99 <= {TARGET_P99_MS:g} ms)."
    )
    return passed, lines


def write_markdown(
    path: Path,
    *,
    cells: list[list[str]],
    verdict: list[str],
    wrk: Wrk,
    load: LoadConfig,
    products: int,
    rounds: int,
    seeded: Sequence[Seeded],
    probes: Sequence[Probe],
    notes: Sequence[str],
) -> None:
    """Write the report to ``path``."""
    lines = [
        "# Catalog benchmark",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · {os.cpu_count()} CPUs · "
        f"{wrk.name}, {load.threads} thread, {load.connections} connections, "
        f"{load.duration:g} s after {load.warmup:g} s warm-up · granian 1 worker, uvloop · "
        f"{products:,} products x 3 variants x 4 locales x 3 currencies · judged runs: "
        f"median of {rounds} round(s), each right after a round of the bare endpoint",
        "",
        markdown_table(cells),
        "",
        *[f"* {line}" for line in verdict],
        "",
        "## Runs",
        "",
        *[f"* **{p.label}** `{p.path}`: {p.measures}." for p in [*probes, BARE_PROBE]],
        "* *server CPU µs/req*: user + system CPU time of the server's processes during the "
        "measured run, per request (wrk runs on the same 2 cores).",
        "* *others' CPU*: cores used during the measured run by processes other than the "
        "server, wrk and PostgreSQL (other test suites, builds; PostgreSQL work of other "
        f"suites counts as ours); a run above {NOISY_CORES} core is measured again (up to 3 "
        "times) unless `--wait-quiet 0`.",
        "",
        "## Seeding",
        "",
    ]
    for s in seeded:
        steps = ", ".join(f"{k} {v:.1f} s" for k, v in s.timings.items())
        counts = ", ".join(f"{k} {v:,}" for k, v in s.counts.items())
        lines.append(f"* {s.engine}: {s.seconds:.1f} s ({steps}); {counts}")
    if notes:
        lines += ["", "## Notes", "", *[f"* {n}" for n in notes]]
    path.write_text("\n".join(lines) + "\n")


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


@contextlib.contextmanager
def start_bare(server: Server, key: dict[str, str], notes: list[str]) -> Iterator[Server]:
    """Serve the bare endpoint with the bytes ``server`` answers for the listing."""
    env = {}
    status, body = fetch(server.base + CATALOG_PROBES[0].path, key)
    if status == 200:
        body_file = RESULTS / "bare-body.json"
        body_file.write_bytes(body)
        env[bare_app.BODY_ENV] = str(body_file)
    else:
        notes.append(f"bare endpoint served a generated page (the listing answered {status})")
    with Server("bare", "bench.bare_app:create_app", env, bare_app.PATH) as bare:
        say(f"  bare endpoint on {bare.base} ({len(body) if status == 200 else 'generated'} bytes)")
        yield bare


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        description="Load the storefront catalog listing and the bare endpoint with wrk.",
    )
    parser.add_argument("--quick", action="store_true", help="1,000 products and 3 s runs")
    parser.add_argument(
        "--engines", default="sqlite,postgres", help="comma-separated: sqlite,postgres"
    )
    parser.add_argument(
        "--products", type=int, help="products to seed (default 10,000; 1,000 quick)"
    )
    parser.add_argument(
        "--duration", type=float, help="seconds per measured run (default 10; 3 quick)"
    )
    parser.add_argument("--warmup", type=float, help="seconds of warm-up (default 2; 1 quick)")
    parser.add_argument("--connections", type=int, default=64, help="open connections (default 64)")
    parser.add_argument(
        "--rounds",
        type=int,
        help="rounds of each judged run, each paired with a bare-endpoint run; the table "
        "shows medians (default 3; 1 quick)",
    )
    parser.add_argument(
        "--no-miss", action="store_true", help="skip the (informational) cache-miss run"
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="spend up to SECONDS in all (60 at a time) waiting for other processes to use "
        "< 0.25 core before a run, and measuring noisy runs again, up to 3 times; the "
        "quietest attempt counts (default 300; 0: never wait)",
    )
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="PostgreSQL database (dropped!)")
    parser.add_argument(
        "--path",
        help="load this storefront path instead of the catalog runs (harness check, no verdict)",
    )
    args = parser.parse_args(argv)
    args.engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = set(args.engines) - {"sqlite", "postgres"}
    if unknown:
        parser.error(f"unknown engine(s): {', '.join(sorted(unknown))}")
    args.products = args.products or (1_000 if args.quick else 10_000)
    args.duration = args.duration or (3.0 if args.quick else 10.0)
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.warmup = args.warmup if args.warmup is not None else (1.0 if args.quick else 2.0)
    return args


def run(args: argparse.Namespace) -> int:
    """The whole benchmark; returns the exit status."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    wrk = ensure_wrk()
    say(f"load generator: {wrk.name} ({wrk.path})")
    load = LoadConfig(
        connections=args.connections,
        duration=args.duration,
        warmup=args.warmup,
        patience=Patience(args.wait_quiet) if args.wait_quiet > 0 else None,
    )
    probes: tuple[Probe, ...] = CATALOG_PROBES
    if args.path:
        probes = (Probe(f"GET {args.path}", args.path, {}, "harness check"),)
    tuning = {
        k: v for k, v in os.environ.items() if k.startswith("CARAVAN_") and "DATABASE" not in k
    }
    if tuning:
        say(f"settings from the environment: {tuning}")

    rows: list[Row] = []
    seeded: list[Seeded] = []
    notes: list[str] = []
    ran: dict[str, Probe] = {}
    with contextlib.ExitStack() as stack:
        bare_server: Server | None = None
        for engine in args.engines:
            say(f"== {engine}: seeding {args.products:,} products")
            try:
                if engine == "sqlite":
                    db = seed_sqlite(RESULTS / "catalog-bench.db", args.products)
                else:
                    db = seed_postgres(args.pg_url, args.products)
            except UnreachableError as exc:
                message = f"PostgreSQL not reachable ({exc}): skipped"
                say(f"  {message}")
                notes.append(message)
                continue
            seeded.append(db)
            say(
                f"  seeded in {db.seconds:.1f} s ("
                + ", ".join(f"{k} {v:.1f} s" for k, v in db.timings.items())
                + "): "
                + ", ".join(f"{k} {v:,}" for k, v in db.counts.items())
            )
            key = {"X-Publishable-Key": db.publishable_key}
            env = {"CARAVAN_DATABASE_URL": db.url}
            with Server(engine, "core.app:create_app", env, "/health") as server:
                say(f"  server on {server.base} (log {server.log_path.relative_to(ROOT)})")
                if bare_server is None:
                    bare_server = stack.enter_context(start_bare(server, key, notes))
                engine_probes = list(probes)
                if not args.path and not args.no_miss:
                    engine_probes.append(miss_probe(db.product_ids))
                bare_rounds: list[Row] = []
                for probe in engine_probes:
                    ran.setdefault(probe.label, probe)
                    key_probe = dataclasses.replace(probe, headers={**key, **probe.headers})
                    rounds = args.rounds if probe.judged else 1
                    pairs: list[tuple[Row, Row]] = []
                    for n in range(1, rounds + 1):
                        first = not bare_rounds and n == 1
                        say(f"  round {n}/{rounds}: bare endpoint, then {probe.label}")
                        paired, _ = measure(
                            bare_server, BARE_PROBE, "—", wrk, load if first else load.quiet(),
                            catalog=False,
                        )  # fmt: skip
                        row, _ = measure(
                            server, key_probe, engine, wrk, load if n == 1 else load.quiet(),
                            catalog=not args.path,
                        )  # fmt: skip
                        bare_rounds.append(paired)
                        pairs.append((paired, row))
                    row = median_row([r for _, r in pairs])
                    row.bare_rps = statistics.median(b.result.rps for b, _ in pairs)
                    rows.append(row)
            bare_row = median_row(bare_rounds)
            bare_row.engine = f"(beside {engine})"
            rows.append(bare_row)
    if not seeded:
        raise BenchError("no engine ran")

    cells = table_cells(rows)
    passed, verdict = verdict_lines(rows)
    if args.path:
        verdict = ["Harness check (--path): no verdict."]
    say("")
    say(text_table(cells))
    say("")
    for line in verdict:
        say(line)
    report = RESULTS / "latest.md"
    write_markdown(
        report,
        cells=cells,
        verdict=verdict,
        wrk=wrk,
        load=load,
        products=args.products,
        rounds=args.rounds,
        seeded=seeded,
        probes=list(ran.values()),
        notes=notes,
    )
    say(f"report: {report.relative_to(ROOT)}")
    if args.path:
        return 0
    return 0 if passed else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: exit 0 target met, 1 missed, 2 harness failure."""
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
