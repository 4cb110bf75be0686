"""pytest fixtures for a plugin's tests: the real application with the plugin
installed, on a migrated database, answering real HTTP.

Loaded with the kit's pytest plugin wherever Caravan is installed; a project's
``conftest.py`` overrides any of them by name. The database is a SQLite file of
the run, or the PostgreSQL database ``CARAVAN_TEST_DATABASE_URL`` names (its
``public`` schema is emptied first), so the same tests run on both engines::

    async def test_a_store_can_use_my_provider(api: Api) -> None:
        store = await api.create_store()
        region = await api.add_region(store)
        ...

``caravan_plugins`` adds plugins that are not installed as distributions (a
plugin's own test doubles), as ``(plugin, name)`` pairs.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar

from core.app import create_app, start, stop
from core.auth import service as auth_service
from core.db.engine import postgres_config
from core.db.migrate import upgrade_async
from core.kernel.settings import Settings
from core.plugins.host import PluginHost
from core.plugins.testing.api import Api

#: The database the suite runs on when it is PostgreSQL.
DATABASE_URL_VARIABLE = "CARAVAN_TEST_DATABASE_URL"
#: The key test applications encrypt provider secrets with (`caravan secrets new-key`).
SECRET_KEY = "Qq3VvYpQ0yq8bF5w9r0GgB1pXh3m2nLr7kT6sJ4dC8E="  # noqa: S105  (tests only)


def postgres_url() -> str | None:
    """The PostgreSQL database of the run, if one is named."""
    return os.environ.get(DATABASE_URL_VARIABLE) or None


async def reset_postgres(url: str) -> None:
    """Create the database ``url`` names if it is missing and empty its public schema."""
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


@asynccontextmanager
async def running(
    settings: Settings, plugins: Iterable[tuple[object, str]] = ()
) -> AsyncIterator[Litestar]:
    """An application of ``settings`` (and ``plugins``), current and with its database
    open for the ``async with`` block: for code that runs the way a server process
    does, such as a test's second process."""
    app = create_app(settings, plugins=plugins)
    await start(app)
    try:
        yield app
    finally:
        await stop(app)


@asynccontextmanager
async def serving(
    app: Litestar, event_hooks: dict[str, list[Any]] | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client answered by ``app`` in this event loop, its database open.

    What the app's lifespan would open (:func:`core.app.start`) is opened here, in
    this loop, so fixtures and requests share its database pool.
    """
    await start(app)
    try:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]  # Litestar is ASGI
        async with httpx.AsyncClient(
            transport=transport, base_url="http://caravan.test", event_hooks=event_hooks
        ) as client:
            yield client
    finally:
        await stop(app)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The run's database: PostgreSQL if ``CARAVAN_TEST_DATABASE_URL`` names one
    (emptied first), else a new SQLite file."""
    url = postgres_url()
    if url:
        asyncio.run(reset_postgres(url))
        return url
    path: Path = tmp_path_factory.mktemp("db") / "caravan-test.db"
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    """The test application's settings."""
    return Settings(database_url=database_url, pool_min=1, pool_max=20, secret_keys=SECRET_KEY)


@pytest.fixture(scope="session")
def caravan_plugins() -> list[tuple[object, str]]:
    """Plugins the test application has beside the installed ones."""
    return []


@pytest.fixture(scope="session")
async def app(settings: Settings, caravan_plugins: list[tuple[object, str]]) -> Litestar:
    """The application of ``settings`` and the installed plugins (plus
    ``caravan_plugins``), its database migrated, every plugin branch included."""
    app = create_app(settings, plugins=caravan_plugins)
    await upgrade_async(settings.database_url, plugin_dirs=app.state.plugins.migration_dirs)
    return app


@pytest.fixture(scope="session")
def host(app: Litestar) -> PluginHost:
    """The test application's plugin host."""
    host: PluginHost = app.state.plugins
    return host


@pytest.fixture(scope="session")
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """Real HTTP through the test application (see :func:`serving`)."""
    async with serving(app) as client:
        yield client


@pytest.fixture(scope="session")
async def operator_token(client: httpx.AsyncClient) -> str:
    """A platform operator's token (makes stores)."""
    secret, _ = await auth_service.create_token(store_id=None, name="test operator", scopes=[])
    return secret


@pytest.fixture
async def api(app: Litestar, client: httpx.AsyncClient, operator_token: str) -> Api:
    """The API helper, with the test application current for the test: code the test
    calls directly reads that application's settings, caches and plugins, as its
    requests do."""
    app.state.activate()
    return Api(client, operator_token)
