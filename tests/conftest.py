"""Test harness: one migrated database per run (SQLite, or PostgreSQL when
``CARAVAN_TEST_DATABASE_URL`` names one), the real ASGI app, real HTTP.

Stores isolate tenants, so tests do not clean up: each test makes its own
stores through the API and asserts only on them.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from litestar import Litestar

from core.app import create_app
from core.auth import service as auth_service
from core.db import engine as db
from core.db.engine import postgres_config
from core.db.migrate import upgrade_async
from core.kernel.settings import Settings
from core.plugins.host import PluginHost
from tests import fake_plugins
from tests.secret_watch import SecretWatch
from tests.support import Api

PG_URL = os.environ.get("CARAVAN_TEST_DATABASE_URL")


def pytest_report_header() -> str:
    return f"caravan database: {'postgresql' if PG_URL else 'sqlite'}"


async def _reset_postgres(url: str) -> None:
    """Create the test database if missing and empty its public schema."""
    cfg = postgres_config(url)
    admin = await asyncpg.connect(**{**cfg, "database": "postgres"})
    try:
        exists = await admin.fetchval(
            "SELECT 1 FROM pg_database WHERE datname = $1", cfg["database"]
        )
        if not exists:
            await admin.execute(f'CREATE DATABASE "{cfg["database"]}"')
    finally:
        await admin.close()
    conn = await asyncpg.connect(**cfg)
    try:
        await conn.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if PG_URL:
        asyncio.run(_reset_postgres(PG_URL))
        return PG_URL
    path: Path = tmp_path_factory.mktemp("db") / "caravan-test.db"
    return f"sqlite:///{path}"


#: The key the test app encrypts provider secrets with (made by `caravan secrets new-key`).
SECRET_KEY = "Qq3VvYpQ0yq8bF5w9r0GgB1pXh3m2nLr7kT6sJ4dC8E="


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        pool_min=1,
        pool_max=20,
        secret_keys=SECRET_KEY,
        default_plugins=f"{Settings().default_plugins},tests",
    )


@pytest.fixture(scope="session")
async def app(settings: Settings) -> Litestar:
    """The app of the suite's settings and plugins (:mod:`tests.fake_plugins`), its
    host current for the whole run."""
    app = create_app(settings, plugins=fake_plugins.plugins())
    await upgrade_async(settings.database_url, plugin_dirs=app.state.plugins.migration_dirs)
    return app


@pytest.fixture(scope="session")
def host(app: Litestar) -> PluginHost:
    """The suite's plugin host (the app's)."""
    host: PluginHost = app.state.plugins
    return host


@pytest.fixture(autouse=True)
async def _current_host(app: Litestar, host: PluginHost) -> None:
    """Every test runs with the suite's app scope and host current, as a request of
    its app does: code a test calls directly reads that app's settings, caches,
    provider registry and catalogs, even after a test built an app of its own."""
    app.state.scope.activate()
    host.activate()


@pytest.fixture(scope="session")
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """Real HTTP through the ASGI app, on the test's own event loop.

    The database pool the app's lifespan would open is opened here, in this
    loop, so fixtures and requests share it. Through the whole run, no answer,
    log record or (at the end) database row may hold a provider secret in
    plain text (:mod:`tests.secret_watch`).
    """
    await db.start(app.state.engine, app.state.settings)
    watch = SecretWatch()
    logging.getLogger().addHandler(watch)
    hooks = {"request": [watch.on_request], "response": [watch.on_response]}
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://caravan.test", event_hooks=hooks
        ) as client:
            yield client
        await watch.check_database(app.state.settings.database_url)
        assert not watch.leaks, "plaintext secrets leaked:\n" + "\n".join(watch.leaks)
    finally:
        logging.getLogger().removeHandler(watch)
        await db.stop(app.state.engine)


@pytest.fixture(scope="session")
async def operator_token(client: httpx.AsyncClient) -> str:
    secret, _ = await auth_service.create_token(store_id=None, name="test operator", scopes=[])
    return secret


@pytest.fixture
async def api(client: httpx.AsyncClient, operator_token: str) -> Api:
    return Api(client, operator_token)
