"""The application factory: ``create_app(settings) -> Litestar``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, MediaType, Router, get
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin

from core import __version__
from core.auth.guards import admin_guard
from core.cors import cors_middleware, forget_origins
from core.db import engine as db
from core.http import EXCEPTION_HANDLERS, InFlight, check_json_body, log, nul_guard
from core.plugins import all_tables, plugin_routes
from core.settings import Settings
from core.stores import context as storefront_context
from core.stores.service import on_store_change


@get("/health", operation_id="health", tags=["meta"], media_type=MediaType.JSON)
async def health() -> dict[str, str]:
    """Liveness: 200 while the process serves."""
    return {"status": "ok"}


def _route_groups() -> tuple[list[Any], list[Any]]:
    from core.auth.routes import ADMIN_ROUTES as AUTH_ADMIN
    from core.catalog.routes import ADMIN_ROUTES as CATALOG_ADMIN
    from core.catalog.routes import STORE_ROUTES as CATALOG_STORE
    from core.stores.routes import ADMIN_ROUTES as STORES_ADMIN
    from core.stores.routes import STORE_ROUTES as STORES_STORE

    admin: list[Any] = [*STORES_ADMIN, *AUTH_ADMIN, *CATALOG_ADMIN]
    store: list[Any] = [*STORES_STORE, *CATALOG_STORE]
    for route in plugin_routes():
        paths = [getattr(route, "path", "")] if hasattr(route, "path") else list(route.paths)
        (admin if any(str(p).startswith("/admin") for p in paths) else store).append(route)
    return admin, store


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


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the Caravan ASGI application for ``settings`` (default: the environment)."""
    settings = settings or Settings.from_env()
    engine = db.create_engine(settings)
    db.bind(engine, all_tables())
    storefront_context.configure(settings.cache_ttl)
    on_store_change(forget_origins)

    from core.catalog import service as catalog_service

    catalog_service.configure(settings)

    in_flight = InFlight()

    @asynccontextmanager
    async def lifespan(_app: Litestar) -> AsyncIterator[None]:
        await db.start(engine, settings)
        try:
            yield
        finally:
            # Requests still being answered keep their database connections.
            if not await in_flight.drained(settings.shutdown_grace):
                log.warning("shutting down with %d request(s) in flight", in_flight.count)
            await db.stop(engine)

    admin_routes, store_routes = _route_groups()
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
        request_max_body_size=settings.storefront_max_body,
    )
    app = Litestar(
        route_handlers=[health, admin, store],
        lifespan=[lifespan],
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[in_flight.middleware, nul_guard, cors_middleware],
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
    app.state.engine = engine
    app.state.in_flight = in_flight
    app.state.settings = settings
    return app
