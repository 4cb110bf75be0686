"""The README's API tour is executed: every ``http`` block is sent, in order."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import msgspec

from tests.support import Api, unique

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCK = re.compile(r"```http\n(.*?)```", re.DOTALL)

#: Requests the tour shows failing on purpose, with the status they get.
EXPECTED_FAILURES = {"GET /store/products?limit=500": 422}


def tour_requests() -> list[tuple[str, str, dict[str, str], str]]:
    """(method, path, headers, body) of every ``http`` block of the README."""
    requests = []
    for block in BLOCK.findall(README.read_text(encoding="utf-8")):
        head, _, body = block.partition("\n\n")
        lines = head.strip().splitlines()
        method, path = lines[0].split(" ", 1)
        headers = dict(line.split(": ", 1) for line in lines[1:])
        requests.append((method, path, headers, body.strip()))
    return requests


def _fill(text: str, values: dict[str, str]) -> str:
    return re.sub(r"\$([A-Z_]+)", lambda m: values[m.group(1)], text)


async def test_the_api_tour_runs(api: Api) -> None:
    requests = tour_requests()
    assert len(requests) >= 8, "the README lost its API tour"
    values = {"OPERATOR_TOKEN": api.operator_token}
    handle = unique("northwind")
    answers: dict[str, Any] = {}
    for method, path, headers, body in requests:
        line = f"{method} {path}"
        # The tour's store handle must be new on a database kept between runs.
        content = _fill(body, values).replace('"northwind"', f'"{handle}"')
        r = await api.client.request(
            method,
            _fill(path, values),
            headers={k: _fill(v, values) for k, v in headers.items()},
            content=content.encode() if content else None,
        )
        expected = EXPECTED_FAILURES.get(line)
        if expected:
            assert r.status_code == expected, (line, r.text)
        else:
            assert r.status_code < 300, (line, r.status_code, r.text)
        data = msgspec.json.decode(r.content) if r.content else None
        answers[line] = data
        if isinstance(data, dict):
            if "admin_token" in data:
                values["ADMIN_TOKEN"] = data["admin_token"]
            if "publishable_key" in data:
                values["PUBLISHABLE_KEY"] = data["publishable_key"]
            if line == "POST /admin/regions":
                values.setdefault("REGION_ID", data["id"])

    # What the prose says about the answers holds.
    [product] = answers["GET /store/products?limit=20"]["items"]
    assert product["title"] == "Canvas-Tasche"
    assert product["price"] == {"amount": 4900, "currency": "EUR", "formatted": "49,00\xa0€"}
    us = answers["GET /store/products/canvas-tote?region=us"]
    assert [v["sku"] for v in us["variants"]] == ["TOTE-OLV"]
    assert us["price"]["formatted"] == "$54.00"
    error = answers["GET /store/products?limit=500"]
    assert error["code"] == "validation_failed"
    assert [(e["field"], e["code"]) for e in error["errors"]] == [("limit", "out_of_range")]
