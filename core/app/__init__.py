"""The application factory: ``create_app(settings) -> Litestar``."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, MediaType, Request, Router, get
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.plugins import JsonRenderPlugin

from core import __version__
from core.affiliates.routes import ADMIN_ROUTES as AFFILIATES_ADMIN
from core.app import housekeeping
from core.app.wiring import activator, app_scope_of
from core.auth.guards import admin_guard
from core.auth.routes import ADMIN_ROUTES as AUTH_ADMIN
from core.cart.routes import ADMIN_ROUTES as CART_ADMIN
from core.cart.routes import STORE_ROUTES as CART_STORE
from core.catalog.routes import ADMIN_ROUTES as CATALOG_ADMIN
from core.catalog.routes import STORE_ROUTES as CATALOG_STORE
from core.checkout.routes import STORE_ROUTES as CHECKOUT_STORE
from core.customers.routes import ADMIN_ROUTES as CUSTOMERS_ADMIN
from core.customers.routes import STORE_ROUTES as CUSTOMERS_STORE
from core.db import engine as db
from core.events import worker as events_worker
from core.events.routes import ADMIN_ROUTES as EVENTS_ADMIN
from core.inventory.routes import ADMIN_ROUTES as INVENTORY_ADMIN
from core.kernel import secrets
from core.kernel.errors import PROBLEM_JSON, Problem
from core.kernel.settings import Settings
from core.orders.routes import ADMIN_ROUTES as ORDERS_ADMIN
from core.orders.routes import STORE_ROUTES as ORDERS_STORE
from core.plugins.activations.routes import ADMIN_ROUTES as PROVIDERS_ADMIN
from core.plugins.capabilities import STORE_ROUTES as CAPABILITIES_STORE
from core.plugins.host import PluginHost
from core.plugins.installs.routes import ADMIN_ROUTES as INSTALLS_ADMIN
from core.plugins.marketplace import service as marketplace
from core.plugins.marketplace.routes import ADMIN_ROUTES as MARKETPLACE_ADMIN
from core.plugins.marketplace.routes import PUBLIC_ROUTES as MARKETPLACE
from core.privacy.routes import ADMIN_ROUTES as PRIVACY_ADMIN
from core.stores import context as storefront_context
from core.stores.cors import cors_middleware
from core.stores.routes import ADMIN_ROUTES as STORES_ADMIN
from core.stores.routes import STORE_ROUTES as STORES_STORE
from core.web.bodies import check_json_body, nul_guard
from core.web.etags import etag_middleware
from core.web.handlers import EXCEPTION_HANDLERS
from core.web.inflight import InFlight

log = logging.getLogger("caravan")


@get("/health", operation_id="health", tags=["meta"], media_type=MediaType.JSON)
async def health() -> dict[str, str]:
    """Liveness: 200 while the process serves."""
    return {"status": "ok"}


def _route_groups(host: PluginHost) -> tuple[list[Any], list[Any]]:

    admin: list[Any] = [
        *STORES_ADMIN,
        *AUTH_ADMIN,
        *CATALOG_ADMIN,
        *PROVIDERS_ADMIN,
        *INSTALLS_ADMIN,
        *MARKETPLACE_ADMIN,
        *CART_ADMIN,
        *CUSTOMERS_ADMIN,
        *PRIVACY_ADMIN,
        *INVENTORY_ADMIN,
        *EVENTS_ADMIN,
        *ORDERS_ADMIN,
        *AFFILIATES_ADMIN,
    ]
    store: list[Any] = [
        *STORES_STORE,
        *CAPABILITIES_STORE,
        *CATALOG_STORE,
        *CART_STORE,
        *CHECKOUT_STORE,
        *CUSTOMERS_STORE,
        *ORDERS_STORE,
    ]
    for route in host.routes:
        paths = [getattr(route, "path", "")] if hasattr(route, "path") else list(route.paths)
        (admin if any(str(p).startswith("/admin") for p in paths) else store).append(route)
    return admin, store


async def _store_before_request(request: Request[Any, Any, Any]) -> None:
    """The storefront's key first (401 before the body is read), then the JSON body."""
    await storefront_context.check_storefront(request)
    await check_json_body(request)


def _check_admin_opts(router: Router) -> None:
    """Every admin handler must say who may call it (operator or a scope)."""
    for route in router.routes:
        for handler in getattr(route, "route_handlers", []):
            methods: set[str] = getattr(handler, "http_methods", set())
            if methods == {"OPTIONS"} or handler.opt.get("operator") or handler.opt.get("scope"):
                continue
            raise RuntimeError(
                f"admin route {route.path} declares neither a scope nor operator_only"
            )


_PROBLEMS = {
    400: "Malformed request (bad JSON, NUL characters, unknown region)",
    401: "Missing or invalid credentials",
    403: "The token lacks the scope this route needs",
    404: "No such object in this store",
    409: "Conflicts with the current state (a handle or code already taken…)",
    413: "Request body too large",
    415: "The body is not application/json",
    422: "Invalid fields; see `errors`",
    503: "A backing service is unavailable; retry after `Retry-After` seconds",
}


def _document_problems(app: Litestar) -> None:
    """Describe the problem responses of every route in the OpenAPI document."""
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if not isinstance(handler, HTTPRouteHandler) or not handler.include_in_schema:
                continue
            admin = route.path.startswith("/admin")
            if not admin and not route.path.startswith("/store"):
                continue
            writes = bool(handler.http_methods & {"POST", "PATCH", "PUT"})
            codes = [400, 401, 404, 422, 503]
            codes += [403] if admin else []
            codes += [409, 413, 415] if writes else []
            problems = {
                code: ResponseSpec(Problem, description=_PROBLEMS[code], media_type=PROBLEM_JSON)
                for code in sorted(codes)
            }
            handler.responses = {**problems, **(handler.responses or {})}


def _activating(activate: Callable[[], None]) -> Any:
    """ASGI middleware: the application's scope and plugin host are the current ones
    while it answers (context variables: see :mod:`core.kernel.scope`)."""

    def middleware(app: Any) -> Any:
        async def activated(scope: Any, receive: Any, send: Any) -> None:
            activate()
            await app(scope, receive, send)

        return activated

    return middleware


async def start(app: Litestar) -> None:
    """Open the application's database and do what it does once before it serves: list
    the first-party plugins in the marketplace. Its lifespan calls this; code that
    serves the application without a lifespan (the testing kit) calls it instead."""
    await db.start(app.state.engine, app.state.settings)
    await marketplace.sync_first_party()


async def stop(app: Litestar) -> None:
    """Close what :func:`start` opened."""
    await db.stop(app.state.engine)


def create_app(
    settings: Settings | None = None, plugins: Iterable[tuple[object, str]] = ()
) -> Litestar:
    """Build the Caravan ASGI application.

    Args:
        settings: Its settings (default: the environment's).
        plugins: Plugins beside the installed ones: pairs of a module or object
            with hook implementations and the name to register it as. The
            application's :class:`~core.plugins.host.PluginHost` holds exactly
            these and the installed entry-point plugins; a plugin the host cannot
            start with fails here, with a message naming it.
    """
    settings = settings or Settings.from_env()
    secrets.keyring(settings.secret_keys)  # a malformed key fails here, not at first use
    host = PluginHost.load(plugins)
    scope = app_scope_of(settings)
    activate = activator(scope, host)
    activate()
    engine = db.create_engine(settings)
    db.bind(engine, host.tables)

    in_flight = InFlight()

    @asynccontextmanager
    async def lifespan(_app: Litestar) -> AsyncIterator[None]:
        activate()  # the worker and the chores started here inherit it
        await start(_app)
        outbox_worker = (
            events_worker.start_in_app(settings.worker_poll_interval, host.subscribers)
            if settings.worker
            else None
        )
        chores_done = asyncio.Event()
        chores = (
            asyncio.create_task(housekeeping.run(settings.housekeeping_interval, chores_done))
            if settings.worker
            else None
        )
        # What start-up built (modules, routes, plugins, caches, the pool) lives as long
        # as the process: kept out of the collector's full passes, which otherwise walk
        # it all and, under load, stalled every request for up to ~90 ms at a time.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()
            chores_done.set()
            if chores is not None:
                await chores
            if outbox_worker is not None:
                await outbox_worker.stop(settings.shutdown_grace)
            # Requests still being answered keep their database connections.
            if not await in_flight.drained(settings.shutdown_grace):
                log.warning("shutting down with %d request(s) in flight", in_flight.count)
            await stop(_app)

    admin_routes, store_routes = _route_groups(host)
    admin = Router(
        "/",
        route_handlers=admin_routes,
        guards=[admin_guard],
        request_max_body_size=settings.admin_max_body,
    )
    _check_admin_opts(admin)
    store = Router(
        "/",
        route_handlers=store_routes,
        before_request=_store_before_request,
        request_max_body_size=settings.storefront_max_body,
    )
    marketplace = Router(
        "/", route_handlers=MARKETPLACE, request_max_body_size=settings.storefront_max_body
    )
    app = Litestar(
        route_handlers=[health, admin, store, marketplace],
        lifespan=[lifespan],
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[
            _activating(activate),
            in_flight.middleware,
            nul_guard,
            cors_middleware,
            etag_middleware,
        ],
        before_request=check_json_body,
        openapi_config=OpenAPIConfig(
            title="Caravan",
            version=__version__,
            description="Headless commerce for cross-border direct-to-consumer brands.",
            path="/schema",
            render_plugins=[JsonRenderPlugin()],
        ),
        request_max_body_size=settings.storefront_max_body,
        debug=settings.debug,
    )
    _document_problems(app)
    app.state.engine = engine
    app.state.plugins = host
    app.state.scope = scope
    #: Makes this application's scope and host current (tests call it between requests).
    app.state.activate = activate
    app.state.in_flight = in_flight
    app.state.settings = settings
    return app
