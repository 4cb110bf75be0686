"""Tenant isolation: one store's credentials never reach another store's objects.

The routes come from the live OpenAPI document, so a new route with a path
parameter joins the matrix by itself (or fails it until its parameter has a
factory in ``tests/matrix_support.py``). Store A owns the objects; store B
aims its own valid credentials and valid bodies at them and must get a plain
404, learn nothing of A and change nothing of A.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

from httpx import Response
from litestar import Litestar
from litestar.testing import AsyncTestClient

from core.plugins.testing.api import Api, StoreHandle
from tests.matrix_support import (
    FACTORIES,
    SHARED_PARAMS,
    Operation,
    Routes,
    StoreWorld,
    body_for,
    changes,
    leaked_ids,
    missing_factory_message,
    problem_mismatch,
    snapshot,
)

# Routes the matrix must find; guards against an empty or misread document.
KNOWN = {
    "GET /admin/regions/{region_id}",
    "DELETE /admin/storefronts/{storefront_id}",
    "POST /admin/storefronts/{storefront_id}/rotate-key",
    "DELETE /admin/tokens/{token_id}",
    "PATCH /admin/stores/{store_id}",
}


async def _collection_handle(world: StoreWorld) -> str:
    return str((await world.collection())["handle"])


#: Listing filters that name an object by something other than a path parameter.
FILTERS: dict[str, Callable[[StoreWorld], Awaitable[str]]] = {"collection": _collection_handle}


async def _call(
    api: Api,
    op: Operation,
    url: str,
    store: StoreHandle,
    body: Any = None,
    params: dict[str, str] | None = None,
) -> Response:
    """Call ``op`` with ``store``'s credentials (staff token or publishable key)."""
    if op.surface == "store":
        headers = {"X-Publishable-Key": store.publishable_key or ""}
    else:
        headers = api.bearer(store.token)
    return await api.client.request(op.method, url, headers=headers, json=body, params=params)


async def _read_as_owner(
    api: Api, routes: Routes, world: StoreWorld, op: Operation, values: dict[str, str]
) -> Any:
    """The object ``op`` acts on, as its own store (or the operator) sees it
    (``[status, body]``, so a deleted object shows as a difference too)."""
    reader = routes.reader(op)
    url = reader.url(values)
    if reader.surface == "admin" and routes.is_operator(reader):
        r = await api.request("GET", url, api.operator_token)
    else:
        r = await _call(api, reader, url, world.store)
    return [r.status_code, r.json()]


async def _targets(routes: Routes, world: StoreWorld, *, operator: bool) -> list[Any]:
    """The operations with path parameters, with values made in ``world``'s store."""
    out = []
    for op in [*routes.ordered("store"), *routes.ordered("admin")]:
        own_objects = set(op.params) - SHARED_PARAMS
        if own_objects and (op.surface == "admin" and routes.is_operator(op)) == operator:
            out.append((op, await world.values(op)))
    return out


async def test_every_path_parameter_has_a_factory(
    client: AsyncTestClient[Litestar], app: Litestar
) -> None:
    routes = await Routes.load(client, app)
    users: dict[str, list[Operation]] = defaultdict(list)
    for op in routes.operations:
        for param in op.params:
            users[param].append(op)
    missing = [missing_factory_message(p, ops) for p, ops in users.items() if p not in FACTORIES]
    assert not missing, "\n".join(missing)
    assert {str(op) for op in routes.operations} >= KNOWN


async def test_store_b_gets_404_on_every_object_of_store_a(
    api: Api, client: AsyncTestClient[Litestar], app: Litestar
) -> None:
    routes = await Routes.load(client, app)
    a = await StoreWorld.create(api)
    b = await api.ready_store()
    targets = await _targets(routes, a, operator=False)
    assert {"admin", "store"} <= {op.surface for op, _ in targets}
    before_all = await snapshot(api, routes, a.store)

    failures = []
    for op, values in targets:
        url = op.url(values)
        before = await _read_as_owner(api, routes, a, op, values)
        if before[0] != 200:
            failures.append(f"{op}: store A cannot read its object any more: {before}")
            continue
        r = await _call(api, op, url, b, body_for(routes, op))
        mismatch = problem_mismatch(r, 404)
        if not mismatch and not r.json()["code"].endswith("_not_found"):
            # The plain "not_found" means no route matched: the check never ran.
            mismatch = f"expected a <resource>_not_found code, got {r.json()['code']}"
        if mismatch:
            hint = " (the body was refused: fix it in BODIES)" if r.status_code == 422 else ""
            failures.append(f"{op} as store B: {mismatch}{hint}")
        if leaks := leaked_ids(r, a.ids, url):
            failures.append(f"{op} as store B shows store A's ids {leaks}: {r.text[:300]}")
        after = await _read_as_owner(api, routes, a, op, values)
        if after != before:
            failures.append(f"{op} as store B changed store A's object: {before} -> {after}")

    assert not failures, "\n".join(failures)
    assert changes(before_all, await snapshot(api, routes, a.store)) == []
    assert (await api.shop("/store/regions", a.store)).status_code == 200


async def test_store_staff_cannot_use_operator_routes_on_another_store(
    api: Api, client: AsyncTestClient[Litestar], app: Litestar
) -> None:
    """Operator routes are isolated by the operator: B's staff token gets 403."""
    routes = await Routes.load(client, app)
    a = await StoreWorld.create(api)
    b = await api.ready_store()
    targets = await _targets(routes, a, operator=True)
    assert {str(op) for op, _ in targets} >= {
        "GET /admin/stores/{store_id}",
        "PATCH /admin/stores/{store_id}",
        "POST /admin/stores/{store_id}/tokens",
    }
    before_all = await snapshot(api, routes, a.store)

    failures = []
    for op, values in targets:
        url = op.url(values)
        before = await _read_as_owner(api, routes, a, op, values)
        r = await _call(api, op, url, b, body_for(routes, op))
        if mismatch := problem_mismatch(r, 403, "operator_required"):
            failures.append(f"{op} as store B: {mismatch}")
        if leaks := leaked_ids(r, a.ids, url):
            failures.append(f"{op} as store B shows store A's ids {leaks}: {r.text[:300]}")
        if await _read_as_owner(api, routes, a, op, values) != before:
            failures.append(f"{op} as store B changed store A")

    assert not failures, "\n".join(failures)
    assert changes(before_all, await snapshot(api, routes, a.store)) == []


async def test_listings_show_only_the_callers_own_objects(
    api: Api, client: AsyncTestClient[Litestar], app: Litestar
) -> None:
    """Every listing, also when filtered by another store's ids, shows none of A's."""
    routes = await Routes.load(client, app)
    a = await StoreWorld.create(api)
    for op in routes.operations:  # make one object of every kind in A
        await a.values(op)
    b = await api.ready_store()
    listings = [*routes.listings("admin"), *routes.listings("store")]

    seen_by_a = ""
    failures = []
    for op in listings:
        own = await _call(api, op, op.path, a.store)
        assert own.status_code == 200, f"{op} as store A: {own.text}"
        seen_by_a += own.text
        queries: list[dict[str, str]] = [{}]
        for name in op.query:  # filters naming A's objects (?collection_id=…)
            if name in FACTORIES:
                queries.append({name: await FACTORIES[name](a, op.path)})
            elif name in FILTERS:
                queries.append({name: await FILTERS[name](a)})
        for query in queries:
            r = await _call(api, op, op.path, b, params=query)
            if r.status_code >= 500:
                failures.append(f"{op} {query} as store B: {r.status_code} {r.text[:300]}")
            if leaks := leaked_ids(r, a.ids, str(query)):
                failures.append(f"{op} {query} as store B shows store A's {leaks}")

    assert not failures, "\n".join(failures)
    # The check above is not vacuous: A's own listings do show all of A's objects.
    assert [i for i in sorted(a.ids) if i not in seen_by_a] == []
