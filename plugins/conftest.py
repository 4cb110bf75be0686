"""The first-party plugins' tests use the plugin testing kit as any plugin's do
(its fixtures come with Caravan's pytest plugin); the core's suite runs beside
them in one pytest process, so their database is a separate one (on PostgreSQL
``<test database>_plugins``), and resetting it never touches the database the
core's tests still hold connections to.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

# Session fixtures are made once per definition: declared again here, the kit's
# app and client are made anew for this directory's database.
from core.plugins.testing.fixtures import (  # noqa: F401
    api,
    app,
    client,
    host,
    operator_token,
    postgres_url,
    reset_postgres,
    settings,
)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = postgres_url()
    if url:
        parts = urlsplit(url)
        url = urlunsplit(parts._replace(path=parts.path.rstrip("/") + "_plugins"))
        asyncio.run(reset_postgres(url))
        return url
    path: Path = tmp_path_factory.mktemp("plugins-db") / "caravan-plugins-test.db"
    return f"sqlite:///{path}"
