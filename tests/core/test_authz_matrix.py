"""Authentication and authorization of every route, read from the live app.

For each ``/admin`` operation of the OpenAPI document the matrix sends a
valid request aimed at real objects of store A with credentials that must
be refused (none, publishable keys, the wrong kind of token, a token lacking
just the needed scope, revoked and expired tokens) and checks the exact
problem; then that nothing of store A changed. ``/store`` operations must
refuse anything but a live publishable key.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from core.auth.scopes import SCOPES
from core.auth.tables import ApiToken
from core.plugins.testing.api import Api
from tests.matrix_support import (
    ONCE,
    PROBLEM_JSON,
    Operation,
    Routes,
    StoreWorld,
    body_for,
    changes,
    make_token,
    problem_mismatch,
    sample,
    scopes_without,
    snapshot,
)

#: A refusal to check: (label, request headers, status, code).
Refusal = tuple[str, dict[str, str], int, str]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _setup(
    api: Api, client: AsyncTestClient[Litestar], app: Litestar
) -> tuple[Routes, StoreWorld, dict[str, dict[str, str]]]:
    routes = await Routes.load(client, app)
    world = await StoreWorld.create(api)
    values = {str(op): await world.values(op) for op in routes.of("admin")}
    return routes, world, values


async def _state(api: Api, routes: Routes, world: StoreWorld) -> dict[str, Any]:
    """Store A's listings and the deployment's newest stores (a refused createStore)."""
    stores = await api.request("GET", "/admin/stores?limit=5", api.operator_token)
    return {**await snapshot(api, routes, world.store), "/admin/stores": stores.json()}


async def _refuse_all(
    api: Api,
    routes: Routes,
    world: StoreWorld,
    values: dict[str, dict[str, str]],
    refusals: Callable[[Operation], list[Refusal]],
) -> int:
    """Send every admin operation with each refusal's headers; return the count sent."""
    before = await _state(api, routes, world)
    failures = []
    sent = 0
    for op in routes.ordered("admin"):
        url = op.url(values[str(op)])
        for label, headers, status, code in refusals(op):
            r = await api.client.request(op.method, url, headers=headers, json=body_for(routes, op))
            sent += 1
            if mismatch := problem_mismatch(r, status, code):
                failures.append(f"{op} with {label}: {mismatch}")
    assert not failures, "\n".join(failures)
    assert changes(before, await _state(api, routes, world)) == []
    return sent


async def test_route_table_is_complete(client: AsyncTestClient[Litestar], app: Litestar) -> None:
    """Every admin and store handler is in the document and declares who may call it."""
    routes = await Routes.load(client, app)
    documented = {(op.method, op.path) for op in routes.operations}
    handlers = {
        key
        for key in routes.opts
        if key[1].split("/")[1] in ("admin", "store") and key[0] not in ("OPTIONS", "HEAD")
    }
    assert handlers - documented == set(), "routes hidden from the OpenAPI escape the matrices"
    for op in routes.of("admin"):
        opt = routes.opt(op)
        assert opt.get("operator") is True or opt.get("scope") in SCOPES, f"{op}: {opt}"
    for op in routes.of("store"):
        assert {"scope", "operator"}.isdisjoint(routes.opt(op)), str(op)
    assert len(routes.of("admin")) >= 22


async def test_the_matrix_bodies_would_succeed(
    api: Api, client: AsyncTestClient[Litestar], app: Litestar
) -> None:
    """The refused requests carry bodies the route accepts from the right caller, so
    "nothing changed" means the refusal held; the bodies built from the schema, used
    for routes without an entry in BODIES, are accepted too."""
    routes, world, values = await _setup(api, client, app)
    failures = []
    for op in routes.ordered("admin"):
        if op.body_schema is None:
            continue
        token = api.operator_token if routes.is_operator(op) else world.store.token
        bodies = {"BODIES": body_for(routes, op), "schema": sample(op.body_schema, routes.doc)}
        for source, body in bodies.items():
            r = await api.request(op.method, op.url(values[str(op)]), token, json=body)
            if op.operation_id in ONCE and source == "schema":
                # The object moved on with the first body; the second must say so.
                if mismatch := problem_mismatch(r, 409, ONCE[op.operation_id]):
                    failures.append(f"{op} sent again: {mismatch}")
            elif not 200 <= r.status_code < 300:
                failures.append(f"{op} with the {source} body: {r.status_code} {r.text[:300]}")
    assert not failures, "\n".join(failures)


async def test_admin_refuses_missing_and_foreign_credentials(
    api: Api, client: AsyncTestClient[Litestar], app: Litestar
) -> None:
    routes, world, values = await _setup(api, client, app)
    key = world.store.publishable_key or ""
    owner = world.store.token

    def refusals(_op: Operation) -> list[Refusal]:
        return [
            ("no credentials", {}, 401, "missing_token"),
            (
                "a publishable key header",
                {"X-Publishable-Key": key},
                401,
                "publishable_key_not_allowed",
            ),
            ("a publishable key as bearer", _bearer(key), 401, "publishable_key_not_allowed"),
            ("the Basic scheme", {"Authorization": f"Basic {owner}"}, 401, "invalid_token"),
            ("an empty bearer", {"Authorization": "Bearer "}, 401, "invalid_token"),
            ("an unknown token", _bearer("sk_" + "x" * 32), 401, "invalid_token"),
            ("a token over 256 characters", _bearer(owner + "x" * 256), 401, "invalid_token"),
        ]

    assert await _refuse_all(api, routes, world, values, refusals) == 7 * len(routes.of("admin"))


async def test_admin_refuses_the_wrong_kind_of_token(
    api: Api, client: AsyncTestClient[Litestar], app: Litestar
) -> None:
    routes, world, values = await _setup(api, client, app)

    def refusals(op: Operation) -> list[Refusal]:
        if routes.is_operator(op):
            return [("a store token", _bearer(world.store.token), 403, "operator_required")]
        return [("the operator token", _bearer(api.operator_token), 403, "store_token_required")]

    operator_ops = [op for op in routes.of("admin") if routes.is_operator(op)]
    assert {str(op) for op in operator_ops} >= {"POST /admin/stores", "GET /admin/stores"}
    assert await _refuse_all(api, routes, world, values, refusals) == len(routes.of("admin"))


async def test_admin_refuses_a_token_missing_the_needed_scope(
    api: Api, client: AsyncTestClient[Litestar], app: Litestar
) -> None:
    routes, world, values = await _setup(api, client, app)
    needed = sorted(
        {routes.opt(op)["scope"] for op in routes.of("admin") if not routes.is_operator(op)}
    )
    lacking = {
        scope: (await make_token(api, world.store, scopes_without(scope)))[0] for scope in needed
    }
    failures = []

    def refusals(op: Operation) -> list[Refusal]:
        if routes.is_operator(op):
            return []
        scope = routes.opt(op)["scope"]
        return [(f"every scope but {scope}", _bearer(lacking[scope]), 403, "missing_scope")]

    sent = await _refuse_all(api, routes, world, values, refusals)
    assert sent == len([op for op in routes.of("admin") if not routes.is_operator(op)])
    # The problem names the scope in its detail.
    for op in routes.of("admin"):
        if routes.is_operator(op):
            continue
        scope = routes.opt(op)["scope"]
        r = await api.request(op.method, op.url(values[str(op)]), lacking[scope], json=[])
        detail = r.json().get("detail")
        if detail != f"This token lacks the scope {scope} needed here.":
            failures.append(f"{op}: detail {detail!r}")
    assert not failures, "\n".join(failures)


async def test_admin_scopes_and_operator_token_open_their_routes(
    api: Api, client: AsyncTestClient[Litestar], app: Litestar
) -> None:
    """The positive control of the refusals: the one needed scope is enough.

    Ids that exist nowhere and an invalid body (``[]``) keep the requests from
    writing; they only have to get past authentication and authorization.
    """
    routes, world, _ = await _setup(api, client, app)
    exact = {
        scope: (await make_token(api, world.store, [scope]))[0]
        for scope in {routes.opt(op).get("scope") for op in routes.of("admin")} - {None}
    }
    before = await snapshot(api, routes, world.store)
    failures = []
    for op in routes.of("admin"):
        token = api.operator_token if routes.is_operator(op) else exact[routes.opt(op)["scope"]]
        url = op.url(dict.fromkeys(op.params, "nothing_01NOTHINGATALL"))
        body = [] if op.body_schema is not None else None
        r = await api.request(op.method, url, token, json=body)
        if r.status_code in (401, 403) or r.status_code >= 500:
            failures.append(f"{op}: {r.status_code} {r.text[:200]}")
        elif r.status_code >= 400 and not r.headers["content-type"].startswith(PROBLEM_JSON):
            failures.append(f"{op}: {r.status_code} is not a problem: {r.text[:200]}")
    assert not failures, "\n".join(failures)
    assert changes(before, await snapshot(api, routes, world.store)) == []


async def test_write_scope_implies_read_scope(api: Api) -> None:
    store = await api.create_store()
    token, _ = await make_token(api, store, ["settings:write"])
    assert (await api.request("GET", "/admin/regions", token)).status_code == 200
    assert (await api.request("GET", "/admin/store", token)).status_code == 200
    r = await api.request("GET", "/admin/tokens", token)
    assert (r.status_code, r.json()["code"]) == (403, "missing_scope")


async def test_admin_refuses_revoked_and_expired_tokens(
    api: Api, client: AsyncTestClient[Litestar], app: Litestar
) -> None:
    routes, world, values = await _setup(api, client, app)
    revoked, revoked_id = await make_token(api, world.store, list(SCOPES))
    expired, expired_id = await make_token(api, world.store, list(SCOPES))
    for token in (revoked, expired):  # both work until revoked or expired
        assert (await api.request("GET", "/admin/store", token)).status_code == 200

    r = await api.request("DELETE", f"/admin/tokens/{revoked_id}", world.store.token)
    assert r.status_code == 204
    await ApiToken.update({ApiToken.expires_at: datetime.now(UTC) - timedelta(seconds=1)}).where(
        ApiToken.id == expired_id
    )
    r = await api.request("GET", f"/admin/tokens/{revoked_id}", world.store.token)
    assert r.json()["revoked_at"] is not None

    def refusals(_op: Operation) -> list[Refusal]:
        return [
            ("a revoked token", _bearer(revoked), 401, "invalid_token"),
            ("an expired token", _bearer(expired), 401, "invalid_token"),
        ]

    assert await _refuse_all(api, routes, world, values, refusals) == 2 * len(routes.of("admin"))


async def test_store_routes_refuse_anything_but_a_live_publishable_key(
    api: Api, client: AsyncTestClient[Litestar], app: Litestar
) -> None:
    routes = await Routes.load(client, app)
    world = await StoreWorld.create(api)
    store = world.store
    old_key = store.publishable_key or ""
    rotated = await api.request(
        "POST", f"/admin/storefronts/{store.storefront_id}/rotate-key", store.token
    )
    assert rotated.status_code == 201
    store.publishable_key = rotated.json()["publishable_key"]
    made = await api.request("POST", "/admin/storefronts", store.token, json={"name": "Gone"})
    gone = made.json()["publishable_key"]
    gone_id = made.json()["storefront"]["id"]
    r = await api.request("DELETE", f"/admin/storefronts/{gone_id}", store.token)
    assert r.status_code == 204

    refusals: list[tuple[str, dict[str, str]]] = [
        ("no key", {}),
        ("an empty key", {"X-Publishable-Key": ""}),
        ("the key as bearer only", _bearer(store.publishable_key)),
        ("a secret token as key", {"X-Publishable-Key": store.token}),
        ("the operator token as key", {"X-Publishable-Key": api.operator_token}),
        ("an unknown key", {"X-Publishable-Key": "pk_" + "x" * 32}),
        ("a key over 128 characters", {"X-Publishable-Key": "pk_" + "x" * 200}),
        ("the key before rotation", {"X-Publishable-Key": old_key}),
        ("the key of a deleted storefront", {"X-Publishable-Key": gone}),
    ]
    failures = []
    store_ops = routes.ordered("store")  # deletions last
    assert store_ops
    for op in store_ops:
        url = op.url(await world.values(op))
        ok = await api.client.request(
            op.method, url, headers={"X-Publishable-Key": store.publishable_key}
        )
        # The live key passes the key check: reads succeed; writes sent without a
        # body may fail on the body, but never on the key and never with a 5xx.
        refused_key = ok.status_code == 401 and "invalid_publishable_key" in ok.text
        if (
            (op.method.upper() == "GET" and ok.status_code != 200)
            or refused_key
            or ok.status_code >= 500
        ):
            failures.append(f"{op} with the live key: {ok.status_code} {ok.text[:200]}")
        for label, headers in refusals:
            r = await api.client.request(op.method, url, headers=headers)
            if mismatch := problem_mismatch(r, 401, "invalid_publishable_key"):
                failures.append(f"{op} with {label}: {mismatch}")
    assert not failures, "\n".join(failures)
