"""Hostile input: every bad request gets a clear 4xx problem, never a 5xx, and
writes nothing; pagination returns every item exactly once.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from core.kernel.validation import countries
from core.plugins.testing.api import Api, unique
from tests.matrix_support import (
    PRICES,
    PROBLEM_JSON,
    Routes,
    StoreWorld,
    body_for,
    problem_mismatch,
    product_body,
    snapshot,
)

MiB = 1024 * 1024


@dataclass(frozen=True)
class Target:
    """The store the cases write to, and how to read everything it holds."""

    api: Api
    routes: Routes
    world: StoreWorld
    values: dict[str, str]
    _known: dict[str, Any] = field(default_factory=dict)

    async def state(self) -> dict[str, Any]:
        """The store's listings, its record and the newest stores of the deployment."""
        api, store = self.api, self.world.store
        stores = await api.request("GET", "/admin/stores?limit=5", api.operator_token)
        self._known["state"] = {**await snapshot(api, self.routes, store), "stores": stores.json()}
        return dict(self._known["state"])

    async def known_state(self) -> dict[str, Any]:
        """The state as last read (a refused request leaves it as it was)."""
        return dict(self._known["state"]) if "state" in self._known else await self.state()

    def forget(self) -> None:
        """Call before writing on purpose: the next :meth:`known_state` reads afresh."""
        self._known.clear()

    def headers(self, method: str, path: str) -> dict[str, str]:
        """The credentials ``method path`` takes: publishable key, operator or staff token."""
        if path.startswith("/store/"):
            return {"X-Publishable-Key": self.world.store.publishable_key or ""}
        op = self.routes.find(method, path)
        operator = op is not None and self.routes.is_operator(op)
        return self.api.bearer(self.api.operator_token if operator else self.world.store.token)


@pytest.fixture(scope="module")
async def target(client: AsyncTestClient[Litestar], operator_token: str, app: Litestar) -> Target:
    api = Api(client, operator_token)
    world = await StoreWorld.create(api)
    product = await world.product()
    values = {
        "store_id": world.store.id,
        "region_id": (await world.region())["id"],
        "product_id": product["id"],
        "variant_id": product["variants"][1]["id"],
    }
    return Target(api, await Routes.load(client, app), world, values)


# ---------------------------------------------------------------------------
# Bodies
# ---------------------------------------------------------------------------


def new_store(**overrides: Any) -> dict[str, Any]:
    base = {"handle": unique("hostile"), "name": "H", "base_currency": "EUR", "home_country": "DE"}
    return {**base, **overrides}


def new_region(**overrides: Any) -> dict[str, Any]:
    base = {"code": unique("jp"), "name": "Japan", "currency": "JPY"}
    return {**base, "countries": ["JP"], "locales": ["ja", "en"], **overrides}


def new_product(**variant: Any) -> dict[str, Any]:
    body = product_body()
    body["variants"][0].update(variant)
    return body


def priced(amount: Any, currency: str = "EUR") -> dict[str, Any]:
    return new_product(prices=[{"amount": amount, "currency": currency}])


def titled(title: str) -> dict[str, Any]:
    body = product_body()
    body["translations"]["en"]["title"] = title
    return body


def deep(levels: int) -> bytes:
    return b'{"settings": {"a": ' + b"[" * levels + b"]" * levels + b"}}"


PRICE = "variants[0].prices[0]"
VARIANT = "/admin/products/{product_id}/variants/{variant_id}"
TOKEN = {"name": "t", "scopes": ["catalog:read"]}

#: Bodies refused with 422, by route: (id, body, the problem's errors as
#: "field:code,…" — an empty code accepts any — and optionally a known-bug mark).
INVALID: dict[tuple[str, str], list[tuple[Any, ...]]] = {
    ("POST", "/admin/regions"): [
        ("array", [new_region()], "body:invalid_type"),
        ("string", "eu", "body:invalid_type"),
        ("number", 42, "body:invalid_type"),
        ("null", None, "body:invalid_type"),
        ("status", new_region(status="active"), "status:unknown_field"),
        ("code-33", new_region(code="x" * 33), "code:too_long"),
        ("currency-eur", new_region(currency="eur"), "currency:invalid_pattern"),
        ("locale-xx_YY", new_region(locales=["en", "xx_YY"]), "locales[1]:invalid_locale"),
        ("country-ZZ", new_region(countries=["ZZ"]), "countries[0]:invalid_country"),
        ("country-XY", new_region(countries=["XY"]), "countries[0]:invalid_country"),
        ("country-de", new_region(countries=["de"]), "countries[0]:invalid_pattern"),
        ("country-twice", new_region(countries=["JP", "JP"]), "countries[1]:duplicate"),
    ],
    ("POST", "/admin/stores"): [
        ("catalog_version", new_store(catalog_version=9), "catalog_version:unknown_field"),
        ("id", new_store(id="store_01HOSTILE"), "id:unknown_field"),
        ("handle-129", new_store(handle="x" * 129), "handle:too_long"),
        ("handle-nul", new_store(handle="a\x00b"), "body:invalid_value"),
    ],
    ("PATCH", "/admin/stores/{store_id}"): [
        ("handle", {"handle": "renamed"}, "handle:unknown_field"),
    ],
    ("PATCH", "/admin/store"): [
        ("catalog_version", {"catalog_version": 1}, "catalog_version:unknown_field"),
        ("id", {"id": "store_x"}, "id:unknown_field"),
        ("name-201", {"name": "x" * 201}, "name:too_long"),
        ("name-201-astral", {"name": "\U0001f600" * 201}, "name:too_long"),
        ("settings-101-keys", {"settings": {f"k{i}": i for i in range(101)}}, "settings:too_long"),
        ("currency-XXQ", {"base_currency": "XXQ"}, "base_currency:invalid_currency"),
        ("locale-xx_YY", {"default_locale": "xx_YY"}, "default_locale:invalid_locale"),
        ("country-ZZ", {"home_country": "ZZ"}, "home_country:invalid_country"),
        ("name-nul", {"name": "a\x00b"}, "body:invalid_value"),
        ("settings-nul", {"settings": {"k\x00": "v"}}, "body:invalid_value"),
    ],
    ("PATCH", "/admin/regions/{region_id}"): [
        ("code", {"code": "other"}, "code:unknown_field"),
    ],
    ("POST", "/admin/tokens"): [
        ("kind", {**TOKEN, "kind": "operator"}, "kind:unknown_field"),
        ("scopes-21", {**TOKEN, "scopes": ["catalog:read"] * 21}, "scopes:too_long"),
        ("days-2e70", {**TOKEN, "expires_in_days": 2**70}, "expires_in_days:out_of_range"),
        ("days-0", {**TOKEN, "expires_in_days": 0}, "expires_in_days:out_of_range"),
    ],
    ("POST", "/admin/collections"): [
        (
            "status",
            {"handle": "c-x", "translations": {"en": {"title": "C"}}, "status": "active"},
            "status:unknown_field",
        ),
    ],
    ("POST", "/admin/products"): [
        ("id", {**product_body(), "id": "prod_x"}, "id:unknown_field"),
        ("handle-129", {**product_body(), "handle": "p" * 129}, "handle:too_long"),
        ("handle-non-ascii", {**product_body(), "handle": "caf\u00e9"}, "handle:invalid_pattern"),
        (
            "handle-fullwidth",
            {**product_body(), "handle": "\uff11\uff12"},
            "handle:invalid_pattern",
        ),
        ("title-256", titled("t" * 256), "translations[...].title:too_long"),
        ("title-nul", titled("a\x00b"), "body:invalid_value"),
        ("sku-65", new_product(sku="S" * 65), "variants[0].sku:too_long"),
        ("sku-path", new_product(sku="../../etc/passwd"), "variants[0].sku:invalid_pattern"),
        (
            "locale-xx_YY",
            {**product_body(), "translations": {"en": {"title": "T"}, "xx_YY": {"title": "T"}}},
            "translations.xx_YY:invalid_locale",
        ),
        (
            "origin-XY",
            new_product(origin_country="XY"),
            "variants[0].origin_country:invalid_country",
        ),
        ("amount-negative", priced(-1), f"{PRICE}.amount:out_of_range"),
        ("amount-over-1e15", priced(10**15 + 1), f"{PRICE}.amount:out_of_range"),
        ("amount-2e70", priced(2**70), f"{PRICE}.amount:out_of_range"),
        ("amount-float", priced(12.5), f"{PRICE}.amount:invalid_type"),
        ("amount-bool", priced(True), f"{PRICE}.amount:invalid_type"),
        ("amount-null", priced(None), f"{PRICE}.amount:invalid_type"),
        ("amount-string", priced("1299"), f"{PRICE}.amount:invalid_type"),
        ("currency-XXQ", priced(100, "XXQ"), f"{PRICE}.currency:invalid_currency"),
        ("currency-eur", priced(100, "eur"), f"{PRICE}.currency:invalid_pattern"),
        ("currency-cyrillic", priced(100, "\u0415UR"), f"{PRICE}.currency:invalid_pattern"),
        (
            "currency-twice",
            new_product(
                prices=[{"amount": 1, "currency": "EUR"}, {"amount": 2, "currency": "EUR"}]
            ),
            "variants[0].prices[1]:duplicate",
        ),
    ],
    ("PATCH", VARIANT): [
        ("product_id", {"product_id": "prod_x"}, "product_id:unknown_field"),
        (
            "amount-negative",
            {"prices": [{"amount": -5, "currency": "EUR"}]},
            "prices[0].amount:out_of_range",
        ),
    ],
}

#: Bodies that are not JSON: 400 malformed_json (id, bytes).
NOT_JSON = [
    ("truncated", b'{"code": '),
    ("single-quotes", b"{'code': 'eu'}"),
    ("trailing-comma", b'{"code": "eu",}'),
    ("utf8-bom", b'\xef\xbb\xbf{"code": "eu"}'),
    ("raw-nul", b'{"code": "a\x00b"}'),
    ("lone-surrogate", b'{"name": "a\\ud800b"}'),
    ("invalid-utf8", b'{"name": "a\xff\xfeb"}'),
    ("nested-100000", deep(100_000)),
    ("number-1e400", b'{"settings": {"a": 1e400}}'),
    ("empty", b""),
]

#: A valid body under another content type: 415 unsupported_media_type.
NOT_JSON_TYPES = ["text/plain", "application/x-www-form-urlencoded", "application/xml"]


def _invalid_params() -> list[Any]:
    params = []
    for (method, path), rows in INVALID.items():
        for name, body, errors in rows:
            expected = [tuple(e.split(":")) for e in errors.split(",")]
            # httpx sends no body for json=None, so a JSON null goes as bytes.
            send = (
                {"content": b"null", "headers": {"content-type": "application/json"}}
                if body is None
                else {"json": body}
            )
            params.append(
                pytest.param(
                    method,
                    path,
                    send,
                    422,
                    "validation_failed",
                    expected,
                    id=f"{method} {path} {name}",
                )
            )
    region = "/admin/regions"
    for name, raw in NOT_JSON:
        send = {"content": raw, "headers": {"content-type": "application/json"}}
        params.append(pytest.param("POST", region, send, 400, "malformed_json", None, id=name))
    for kind in NOT_JSON_TYPES:
        send = {"content": json.dumps(new_region()).encode(), "headers": {"content-type": kind}}
        params.append(
            pytest.param(
                "POST",
                region,
                send,
                415,
                "unsupported_media_type",
                None,
                id=kind,
            )
        )
    return params


@pytest.mark.parametrize(("method", "path", "send", "status", "code", "errors"), _invalid_params())
async def test_bad_body_gets_a_problem_and_writes_nothing(
    target: Target,
    method: str,
    path: str,
    send: dict[str, Any],
    status: int,
    code: str,
    errors: list[tuple[str, str]] | None,
) -> None:
    before = await target.known_state()
    headers = {**target.headers(method, path), **send.get("headers", {})}
    kwargs = {k: v for k, v in send.items() if k != "headers"}

    r = await target.api.client.request(
        method, path.format(**target.values), headers=headers, **kwargs
    )
    after = await target.state()  # read before asserting: a failed case must not leave it stale

    assert r.status_code == status, r.text[:500]
    assert r.headers["content-type"].startswith(PROBLEM_JSON)
    assert (r.json()["status"], r.json()["code"]) == (status, code)
    if errors is not None:  # an empty expected code accepts any field code
        got = [(e["field"], e["code"]) for e in r.json()["errors"]]
        assert len(got) == len(errors), r.json()
        assert [(f, c if w else "") for (f, c), (_, w) in zip(got, errors, strict=True)] == errors
    assert after == before


async def test_body_over_the_admin_limit_is_413(target: Target) -> None:
    before = await target.known_state()
    r = await target.api.request(
        "POST",
        "/admin/regions",
        target.world.store.token,
        content=b"x" * (10 * MiB + 1),
        headers={"content-type": "application/json"},
    )
    after = await target.state()
    assert r.status_code == 413
    assert r.headers["content-type"].startswith(PROBLEM_JSON)
    assert (r.json()["status"], r.json()["code"]) == (413, "body_too_large")
    assert after == before


async def test_413_detail_names_the_limit(target: Target) -> None:
    r = await target.api.request(
        "POST",
        "/admin/regions",
        target.world.store.token,
        content=b"x" * (10 * MiB + 1),
        headers={"content-type": "application/json"},
    )
    assert r.json()["detail"] == f"The request body exceeds {10 * MiB} bytes."


async def test_2_mib_admin_body_reaches_validation(target: Target) -> None:
    before = await target.known_state()
    body = new_region(name="n" * (2 * MiB))
    r = await target.api.request("POST", "/admin/regions", target.world.store.token, json=body)
    after = await target.state()
    assert r.status_code == 422
    assert [(e["field"], e["code"]) for e in r.json()["errors"]] == [("name", "too_long")]
    assert after == before


def test_body_limits_are_1_mib_on_store_routes_and_10_mib_on_admin(app: Litestar) -> None:
    """No /store route takes a body yet, so the limit is read from the handlers."""
    limits: dict[str, set[int | None]] = {"admin": set(), "store": set()}
    for route in app.routes:
        surface = route.path.split("/")[1]
        if surface in limits:
            for handler in getattr(route, "route_handlers", []):
                limits[surface].add(handler.resolve_request_max_body_size())
    assert limits == {"admin": {10 * MiB}, "store": {MiB}}


# ---------------------------------------------------------------------------
# Query strings and path values
# ---------------------------------------------------------------------------

BAD_LIMITS = [
    ("0", "out_of_range"),
    ("101", "out_of_range"),
    ("-1", "out_of_range"),
    ("abc", "invalid_type"),
    ("1.5", "invalid_type"),
    ("", "invalid_type"),
    (str(2**70), "out_of_range"),
]


def _cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


BAD_CURSORS = [
    ("!!!", "invalid_cursor"),
    ("abc", "invalid_cursor"),
    ("x" * 513, "too_long"),
    (_cursor({"id": 1}), "invalid_cursor"),
    (_cursor([True]), "invalid_cursor"),
    (_cursor([[1]]), "invalid_cursor"),
    (_cursor(["a", "b", "c", "d", "e"]), "invalid_cursor"),
    (_cursor([None]), "invalid_cursor"),
    ("%00", "invalid_cursor"),
]


async def test_every_listing_refuses_bad_limits_and_cursors(target: Target) -> None:
    api = target.api
    listings = [op for op in target.routes.operations if op.method == "GET" and "limit" in op.query]
    assert {op.path for op in listings} >= {"/admin/regions", "/admin/tokens", "/store/products"}
    before = await target.known_state()
    failures = []
    for op in listings:
        headers = target.headers(op.method, op.path)
        checks = [("limit", v, c) for v, c in BAD_LIMITS]
        if "cursor" in op.query:
            checks += [("cursor", v, c) for v, c in BAD_CURSORS]
        for name, value, code in checks:
            r = await api.client.get(op.path, params={name: value}, headers=headers)
            kind = r.headers.get("content-type", "")
            errors = r.json().get("errors") if r.status_code == 422 else None
            if (r.status_code, kind, errors and [(e["field"], e["code"]) for e in errors]) != (
                422,
                PROBLEM_JSON,
                [(name, code)],
            ):
                failures.append(f"{op} ?{name}={value[:20]}: {r.status_code} {r.text[:200]}")
    after = await target.state()
    assert not failures, "\n".join(failures)
    assert after == before


HOSTILE_IDS = [
    "x" * 2000,
    "' OR '1'='1",
    "%",
    "%2e%2e",
    "😀",
    "prod_01" + "Z" * 24,
    "a b",
    "\u202etxt",
    "-1",
]


async def _hostile_path_calls(
    target: Target, ids: list[str], status: int, code: str | None = None
) -> list[str]:
    """Call every route with a path parameter, each parameter set to each of ``ids``."""
    api, routes = target.api, target.routes
    failures = []
    for op in [*routes.ordered("store"), *routes.ordered("admin")]:
        if not op.params:
            continue
        headers = target.headers(op.method, op.path)
        for value in ids:
            url = op.url(dict.fromkeys(op.params, value))
            r = await api.client.request(op.method, url, headers=headers, json=body_for(routes, op))
            if mismatch := problem_mismatch(r, status, code):
                failures.append(f"{op} with {value[:20]!r}: {mismatch}")
    return failures


async def test_hostile_path_values_get_404(target: Target) -> None:
    before = await target.known_state()
    failures = await _hostile_path_calls(target, HOSTILE_IDS, 404)
    after = await target.state()
    assert not failures, "\n".join(failures)
    assert after == before


async def test_nul_in_path_or_query_gets_400(target: Target) -> None:
    before = await target.known_state()
    failures = await _hostile_path_calls(target, ["a\x00b"], 400, "bad_request")
    for op in target.routes.operations:
        headers = target.headers(op.method, op.path)
        url = op.url(dict.fromkeys(op.params, "x"))
        for name in op.query:
            r = await target.api.client.request(
                op.method, url, params={name: "a\x00b"}, headers=headers
            )
            if mismatch := problem_mismatch(r, 400, "bad_request"):
                failures.append(f"{op} ?{name}=a%00b: {mismatch}")
    after = await target.state()
    assert not failures, "\n".join(failures)
    assert after == before


async def test_cursor_holding_nul_is_invalid(target: Target) -> None:
    failures = []
    for op in target.routes.operations:
        if op.method == "GET" and "cursor" in op.query:
            headers = target.headers(op.method, op.path)
            for value in (_cursor(["\x00"]), _cursor(["\x00", "\x00"])):
                r = await target.api.client.get(op.path, params={"cursor": value}, headers=headers)
                if mismatch := problem_mismatch(r, 422, "validation_failed"):
                    failures.append(f"{op} ?cursor={value}: {mismatch}")
    assert not failures, "\n".join(failures)


# ---------------------------------------------------------------------------
# What must be accepted exactly as sent
# ---------------------------------------------------------------------------

UNICODE_NAMES = [
    "🏳️‍🌈 Pride & Co",  # ZWJ sequence
    "שלום עולם",  # right-to-left
    "Cafe\u0301 e\u0300",  # combining marks (not normalised)
    "東京ストア",
    "😀" * 200,  # 200 code points, 800 UTF-8 bytes
    "a\u200bb\ufeffc",  # zero-width characters
    "<script>alert(1)</script>",
    "Robert'); DROP TABLE store;--",
]


@pytest.mark.parametrize("name", UNICODE_NAMES, ids=range(len(UNICODE_NAMES)))
async def test_unicode_names_round_trip_exactly(target: Target, name: str) -> None:
    api, store = target.api, target.world.store
    target.forget()
    r = await api.request(
        "PATCH", "/admin/regions/" + target.values["region_id"], store.token, json={"name": name}
    )
    assert r.status_code == 200, r.text
    r = await api.request("GET", "/admin/regions/" + target.values["region_id"], store.token)
    assert r.json()["name"] == name


async def test_huge_integers_in_settings_round_trip(target: Target) -> None:
    api, store = target.api, target.world.store
    target.forget()
    settings = {"big": 2**70, "negative": -(2**63), "nested": {"a": [1, [2, [3]]]}}
    r = await api.request("PATCH", "/admin/store", store.token, json={"settings": settings})
    assert r.status_code == 200, r.text
    assert (await api.request("GET", "/admin/store", store.token)).json()["settings"] == settings


async def test_largest_amount_is_accepted(target: Target) -> None:
    target.forget()
    body = priced(10**15)
    r = await target.api.request("POST", "/admin/products", target.world.store.token, json=body)
    assert r.status_code == 201, r.text
    assert r.json()["variants"][0]["prices"] == [{"amount": 10**15, "currency": "EUR"}]
    by_currency = sorted(PRICES, key=lambda p: p["currency"])
    assert r.json()["variants"][1]["prices"] == by_currency


# ---------------------------------------------------------------------------
# Pagination
# ---------------------------------------------------------------------------

COUNTRIES = sorted(countries())[:45]


async def _pages(api: Api, path: str, headers: dict[str, str], limit: int) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        r = await api.client.get(path, params=params, headers=headers)
        assert r.status_code == 200, r.text
        page = r.json()
        pages.append([item["id"] for item in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) <= 100, "pagination does not end"


async def _check_pagination(api: Api, path: str, headers: dict[str, str], made: list[str]) -> None:
    newest_first = made[::-1]
    for limit in (1, 2, 7, 100):
        pages = await _pages(api, path, headers, limit)
        assert [len(p) for p in pages] == [
            min(limit, len(made) - i) for i in range(0, len(made), limit)
        ], f"{path} limit={limit}"
        assert [i for p in pages for i in p] == newest_first, f"{path} limit={limit}"


async def test_regions_page_through_every_item_once_newest_first(api: Api) -> None:
    store = await api.create_store()
    made = []
    for i, country in enumerate(COUNTRIES[:45]):
        region = await api.add_region(
            store,
            code=f"r{i:02}",
            name=f"Region {i}",
            currency="EUR",
            countries=[country],
            locales=["en"],
        )
        made.append(region["id"])
    await _check_pagination(api, "/admin/regions", api.bearer(store.token), made)


async def test_products_page_through_every_item_once_newest_first(api: Api) -> None:
    store = await api.create_store()
    await api.add_region(store, code="eu", countries=["DE"], locales=["en"])
    await api.add_storefront(store)
    made = []
    for _ in range(23):
        r = await api.request("POST", "/admin/products", store.token, json=product_body())
        assert r.status_code == 201, r.text
        made.append(r.json()["id"])
    await _check_pagination(api, "/admin/products", api.bearer(store.token), made)
    shop = {"X-Publishable-Key": store.publishable_key or ""}
    await _check_pagination(api, "/store/products", shop, made)
