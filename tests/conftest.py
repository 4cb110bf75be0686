"""The core's test harness: the plugin testing kit's fixtures
(:mod:`core.plugins.testing.fixtures`: one migrated database per run, SQLite or
the PostgreSQL database ``CARAVAN_TEST_DATABASE_URL`` names, the real ASGI app,
real HTTP), with the suite's own plugins (:mod:`tests.fake_plugins`) and a watch
for leaked secrets.

Stores isolate tenants, so tests do not clean up: each test makes its own
stores through the API and asserts only on them.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from litestar import Litestar

from core.kernel.settings import Settings
from core.plugins.testing.fixtures import SECRET_KEY, postgres_url, serving
from tests import fake_plugins
from tests.secret_watch import SecretWatch

PG_URL = postgres_url()


def pytest_report_header() -> str:
    return f"caravan database: {'postgresql' if PG_URL else 'sqlite'}"


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    """The kit's settings, with the suite's plugins installed in every new store."""
    return Settings(
        database_url=database_url,
        pool_min=1,
        pool_max=20,
        secret_keys=SECRET_KEY,
        default_plugins=f"{Settings().default_plugins},tests",
    )


@pytest.fixture(scope="session")
def caravan_plugins() -> list[tuple[object, str]]:
    return fake_plugins.plugins()


@pytest.fixture(autouse=True)
def _current_app(app: Litestar) -> None:
    """Every test runs with the suite's app current, as a request of it does: code a
    test calls directly reads that app's settings, caches, provider registry and
    catalogs, even after another test built an app of its own."""
    app.state.activate()


@pytest.fixture(scope="session")
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """The kit's client, watched: through the whole run, no answer, log record or (at
    the end) database row may hold a provider secret in plain text
    (:mod:`tests.secret_watch`)."""
    watch = SecretWatch()
    logging.getLogger().addHandler(watch)
    hooks = {"request": [watch.on_request], "response": [watch.on_response]}
    try:
        async with serving(app, hooks) as client:
            yield client
            await watch.check_database(app.state.settings.database_url)
        assert not watch.leaks, "plaintext secrets leaked:\n" + "\n".join(watch.leaks)
    finally:
        logging.getLogger().removeHandler(watch)
