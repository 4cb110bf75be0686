"""Smoke tests of the catalog benchmark harness (bench/): parsing, seeding, the bare app.

The load runs themselves (granian + wrk, minutes) are not part of the suite:
``make bench`` runs them.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from litestar.testing import TestClient
from piccolo.engine.sqlite import convert_timestamptz_out

from bench import bare_app
from bench.catalog import (
    BenchError,
    LoadResult,
    Row,
    meets_target,
    parse_wrk,
    seed_sqlite,
    verdict_lines,
)
from core.auth.service import hash_token
from core.catalog.tables import Product

WRK_REPORT = """\
Running 10s test @ http://127.0.0.1:8000/store/products?limit=20
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.62ms  420.11us  12.03ms   88.10%
    Req/Sec    36.91k     1.20k   38.40k    81.00%
  Latency Distribution
     50%    1.55ms
     75%    1.80ms
     90%    2.10ms
     99%    3.53ms
  367340 requests in 10.00s, 6.81GB read
Requests/sec:  36734.00
Transfer/sec:    697.12MB
"""


def test_parse_wrk_report() -> None:
    result = parse_wrk(WRK_REPORT)
    assert result.requests == 367_340
    assert result.seconds == pytest.approx(10.0)
    assert result.rps == pytest.approx(36_734.0)
    assert result.p50_ms == pytest.approx(1.55)
    assert result.p99_ms == pytest.approx(3.53)
    assert result.errors == 0


def test_parse_wrk_counts_errors_and_units() -> None:
    report = (
        WRK_REPORT.replace("     99%    3.53ms", "     99%    1.20s")
        .replace("     50%    1.55ms", "     50%  850.00us")
        .replace(
            "Requests/sec:",
            "  Socket errors: connect 0, read 3, write 0, timeout 7\n"
            "  Non-2xx or 3xx responses: 12\nRequests/sec:",
        )
    )
    result = parse_wrk(report)
    assert result.p50_ms == pytest.approx(0.85)
    assert result.p99_ms == pytest.approx(1200.0)
    assert result.non_2xx == 12
    assert result.socket_errors == {"connect": 0, "read": 3, "write": 0, "timeout": 7}
    assert result.errors == 22


def test_parse_wrk_rejects_other_output() -> None:
    with pytest.raises(BenchError):
        parse_wrk("unable to connect to 127.0.0.1:1 Connection refused\n")


def _row(rps: float, p99: float, bare_rps: float | None = 20_000) -> Row:
    result = LoadResult(
        requests=int(rps * 10), seconds=10.0, rps=rps, p50_ms=1.0, p99_ms=p99,
        non_2xx=0, socket_errors={},
    )  # fmt: skip
    return Row("listing", "sqlite", result, 20_000, 50.0, 0.0, bare_rps=bare_rps)


def test_verdict_needs_half_the_paired_bare_rate_and_p99_within_20_ms() -> None:
    assert meets_target(_row(10_000, 20.0))
    assert not meets_target(_row(9_999, 5.0))
    assert not meets_target(_row(15_000, 20.5))
    assert meets_target(_row(6_000, 5.0, bare_rps=12_000))  # compared with its own pair
    assert not meets_target(_row(30_000, 5.0, bare_rps=None))
    passed, lines = verdict_lines([_row(12_000, 9.0), _row(8_000, 9.0)])
    assert not passed
    assert lines[0].startswith("PASS")
    assert lines[1].startswith("FAIL")


def test_seed_sqlite_writes_rows_piccolo_reads(tmp_path: Path) -> None:
    bound_before = Product._meta.db
    seeded = seed_sqlite(tmp_path / "bench.db", 3)
    assert Product._meta.db is bound_before  # the bench restores the tables' engine
    assert seeded.counts == {
        "products": 3,
        "product_translations": 12,
        "variants": 9,
        "variant_prices": 27,
        "product_prices": 9,
    }
    conn = sqlite3.connect(tmp_path / "bench.db")
    try:
        created, options = conn.execute(
            "SELECT created_at, options FROM products WHERE store = ?", (seeded.store_id,)
        ).fetchone()
        key_hash = conn.execute(
            "SELECT key_hash FROM storefronts WHERE store = ?", (seeded.store_id,)
        ).fetchone()[0]
        regions = dict(conn.execute("SELECT code, locales FROM regions").fetchall())
    finally:
        conn.close()
    assert convert_timestamptz_out(created.encode()).tzinfo is not None
    assert json.loads(options) == [{"name": "Size", "values": ["S", "M", "L"]}]
    assert key_hash == hash_token(seeded.publishable_key)
    assert json.loads(regions["eu"]) == ["de", "fr", "en", "es"]
    assert set(regions) == {"eu", "us", "sea"}


def test_bare_app_serves_a_20_product_page() -> None:
    with TestClient(app=bare_app.create_app()) as client:
        response = client.get(bare_app.PATH)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert len(response.json()["items"]) == 20
    assert 15_000 < len(response.content) < 30_000
