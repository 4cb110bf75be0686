"""Smoke tests of the checkout benchmark harness (bench/checkout.py).

The pure parts (percentiles, the split over processes, the verdict) and a tiny
real run: the bench store seeded through the test app's API, then shoppers
checking out through it (in-process, a fraction of a second). The granian
runs themselves (minutes) are ``make bench-checkout``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from litestar import Litestar

from bench.checkout import (
    CHECKOUT,
    LOCKED,
    PROBLEMS,
    STEPS,
    CheckoutError,
    EngineResult,
    RawClient,
    RawClientError,
    Shopper,
    Tally,
    TracingShopper,
    group_pids,
    logged_lines,
    meets_target,
    percentile,
    product_body,
    round_trips_recorded,
    split,
    stock_shop,
    trace_lines,
    verdict_lines,
)
from core.db.engine import fetch
from core.plugins.testing.api import Api


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile([7.0], 0.99) == 7.0
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert percentile([], 0.5) != percentile([], 0.5)  # NaN


def test_split_spreads_clients_over_processes() -> None:
    assert split(32, 1) == [32]
    assert split(32, 3) == [11, 11, 10]
    assert split(2, 5) == [1, 1]


def test_product_body_has_three_sizes_priced_in_eur_and_usd() -> None:
    body = product_body(7)
    assert body["status"] == "active"
    assert [v["options"]["Size"] for v in body["variants"]] == ["S", "M", "L"]
    for variant in body["variants"]:
        assert {p["currency"] for p in variant["prices"]} == {"EUR", "USD"}
        assert all(isinstance(p["amount"], int) and p["amount"] > 0 for p in variant["prices"])


def test_tallies_merge() -> None:
    one = Tally(ms={"complete": [1.0]}, completed=1, errors=Counter({"complete 503": 1}))
    two = Tally(ms={"complete": [2.0], CHECKOUT: [9.0]}, completed=2, locked=1, cpu=0.5)
    two.samples.append("complete 503: …")
    one.merge(two)
    assert one.ms == {"complete": [1.0, 2.0], CHECKOUT: [9.0]}
    assert (one.completed, one.locked, one.error_count, one.cpu) == (3, 1, 1, 0.5)
    assert one.samples == ["complete 503: …"]


def _result(engine: str, orders: int, p99: float, errors: int = 0, locked: int = 0) -> EngineResult:
    tally = Tally(ms={CHECKOUT: [p99] * 10}, completed=orders, locked=locked)
    if errors:
        tally.errors["complete 500"] = errors
    cores = {"server": 1.0, "shoppers": 0.5, "PostgreSQL": 0.3, "others": 0.0}
    return EngineResult(engine, tally, 10.0, 32, 1, 150.0, cores)


def test_targets_per_engine() -> None:
    assert meets_target(_result("postgres", 1000, 250.0))
    assert not meets_target(_result("postgres", 999, 100.0))  # 99.9 orders/s
    assert not meets_target(_result("postgres", 2000, 251.0))
    assert meets_target(_result("sqlite", 300, 900.0))  # no latency target on SQLite
    assert not meets_target(_result("sqlite", 299, 100.0))
    assert not meets_target(_result("sqlite", 500, 100.0, locked=1))
    logged = _result("sqlite", 500, 100.0)
    logged.tally.locked_logged = 2  # a 503 whose body hides the cause, found in the server log
    assert not meets_target(logged)
    warned = _result("postgres", 1000, 100.0)
    warned.tally.problems_logged = 1  # e.g. a background task failing without an error answer
    assert not meets_target(warned)
    assert not meets_target(_result("sqlite", 500, 100.0, errors=1))
    passed, lines = verdict_lines([_result("sqlite", 500, 80.0), _result("postgres", 10, 80.0)])
    assert not passed
    assert lines[0].startswith("PASS: sqlite")
    assert lines[1].startswith("FAIL: postgres")
    assert lines[-1] == "Verdict: target MISSED."


def test_logged_lines_counts_from_the_offset(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    log.write_bytes(b"old: database is locked\n")
    offset = log.stat().st_size
    with log.open("ab") as out:
        out.write(b"ok\nsqlite3.OperationalError: database is locked\nWARNING ... locked')\n")
    assert logged_lines(log, offset, LOCKED) == 1
    assert logged_lines(log, 0, LOCKED) == 2
    assert logged_lines(log, offset, *PROBLEMS) == 1
    assert logged_lines(log, offset, b"ok", *PROBLEMS) == 2


def test_group_pids_finds_this_process() -> None:
    assert os.getpid() in group_pids(os.getpgid(0))


@pytest.fixture
async def shop(api: Api, app: Litestar) -> tuple[httpx.AsyncClient, list[str]]:
    """The bench store (2 products) and a storefront client of the test app."""
    key, variants = await stock_shop(api, 2)
    transport = httpx.ASGITransport(app=app)
    client = httpx.AsyncClient(
        transport=transport, base_url="http://caravan.test", headers={"X-Publishable-Key": key}
    )
    return client, variants


async def test_shoppers_place_orders_through_the_built_in_providers(
    shop: tuple[httpx.AsyncClient, list[str]],
) -> None:
    client, variants = shop
    assert len(variants) == 6
    tally = Tally()
    async with client:
        placed = await Shopper(client, variants, 1).checkout(tally)
        started = time.time()
        await Shopper(client, variants, 2).loop(tally, started, started + 0.3)
    order = placed["order"]
    assert order["status"] == "pending"  # manual payment: placed, unpaid
    assert order["currency"] == "EUR"
    assert order["shipping_total"] == 490
    assert tally.completed >= 2
    assert tally.error_count == 0
    assert tally.locked == 0
    assert all(len(tally.ms[step]) == tally.completed for step in (*STEPS, CHECKOUT))
    stock = await fetch(
        "SELECT SUM(on_hand) AS on_hand, SUM(reserved) AS reserved FROM stock_levels "
        "WHERE variant IN ({}, {}, {})",
        *[line["variant_id"] for line in order["lines"]],
    )
    # A manual payment leaves the order pending: its stock stays reserved, not shipped.
    assert int(stock[0]["on_hand"]) == 3 * 1_000_000
    assert int(stock[0]["reserved"]) >= sum(line["quantity"] for line in order["lines"])


async def test_error_answers_are_counted_by_step_and_status(
    shop: tuple[httpx.AsyncClient, list[str]],
) -> None:
    client, _ = shop
    tally = Tally()
    async with client:
        with pytest.raises(CheckoutError):
            await Shopper(client, ["var_missing1", "var_missing2", "var_missing3"], 1).checkout(
                tally
            )
    assert tally.completed == 0
    assert list(tally.errors) in (["create cart 404"], ["create cart 422"])
    assert tally.samples[0].startswith("create cart 4")


async def test_trace_records_every_round_trip_per_step(
    shop: tuple[httpx.AsyncClient, list[str]],
) -> None:
    client, variants = shop
    async with client:
        shopper = TracingShopper(client, variants)
        with round_trips_recorded():
            await shopper.checkout(None)
    assert [t.step for t in shopper.traces] == list(STEPS)
    complete = shopper.traces[-1]
    assert any("INSERT INTO orders" in q for q, _ in complete.round_trips)
    assert all(t.round_trips and t.db_ms >= 0 and t.cpu_ms > 0 for t in shopper.traces)
    table = trace_lines("sqlite", [shopper.traces, shopper.traces])
    assert table[0].startswith("## sqlite: ")
    assert sum(line.startswith("| ") for line in table) == 2 + len(STEPS)


async def _fake_server(connections: list[int]) -> asyncio.Server:
    """A storefront stand-in on 127.0.0.1: echoes each request as JSON, every other answer
    chunked, on kept-alive connections (``connections`` counts them)."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        served = 0
        with contextlib.suppress(asyncio.IncompleteReadError):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode().split("\r\n")
                fields = {
                    k.lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:] if x)
                }
                body = await reader.readexactly(int(fields.get("content-length", "0")))
                echo = json.dumps({"line": lines[0], "headers": fields, "body": body.decode()})
                status = "201 Created" if body else "404 Not Found"
                data = echo.encode()
                if served % 2:
                    framing = "Transfer-Encoding: chunked"
                    data = b"%x\r\n%s\r\n0\r\n\r\n" % (len(data), data)
                else:
                    framing = f"Content-Length: {len(data)}"
                writer.write(f"HTTP/1.1 {status}\r\n{framing}\r\n\r\n".encode() + data)
                await writer.drain()
                served += 1
        writer.close()

    return await asyncio.start_server(serve, "127.0.0.1", 0)


async def test_raw_client_keeps_one_connection_and_reads_both_framings() -> None:
    connections: list[int] = []
    server = await _fake_server(connections)
    port = server.sockets[0].getsockname()[1]
    try:
        async with RawClient(f"http://127.0.0.1:{port}", {"X-Publishable-Key": "pk_1"}) as client:
            posted = await client.request(
                "POST", "/store/carts", json={"region": "eu"}, headers={"Idempotency-Key": "k1"}
            )
            missing = await client.request("GET", "/store/carts/nope")
    finally:
        server.close()
        await server.wait_closed()
    assert posted.is_success
    assert posted.status_code == 201
    echo = posted.json()
    assert echo["line"] == "POST /store/carts HTTP/1.1"
    assert echo["headers"]["x-publishable-key"] == "pk_1"
    assert echo["headers"]["idempotency-key"] == "k1"
    assert echo["headers"]["content-type"] == "application/json"
    assert json.loads(echo["body"]) == {"region": "eu"}
    assert missing.status_code == 404  # the chunked answer
    assert not missing.is_success
    assert missing.json()["line"] == "GET /store/carts/nope HTTP/1.1"
    assert len(connections) == 1


async def test_raw_client_without_a_server_raises_its_error() -> None:
    server = await asyncio.start_server(lambda _r, _w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    with pytest.raises(RawClientError):
        await RawClient(f"http://127.0.0.1:{port}", {}, timeout=2.0).request("GET", "/")
