"""The plugins' tests use the suite's harness (``tests/conftest.py``): the real app,
``client`` and ``api`` on a migrated database of the run's engine.

pytest scopes a conftest's fixtures to its directory, so they are imported
here. Imported session fixtures are set up once more for ``plugins/``; their
database is a separate one (on PostgreSQL ``<test database>_plugins``), so
resetting it never touches the database ``tests/`` still holds connections to.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.conftest import (  # noqa: F401
    PG_URL,
    _current_host,
    _reset_postgres,
    api,
    app,
    client,
    host,
    operator_token,
    settings,
)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if PG_URL:
        parts = urlsplit(PG_URL)
        url = urlunsplit(parts._replace(path=parts.path.rstrip("/") + "_plugins"))
        asyncio.run(_reset_postgres(url))
        return url
    path: Path = tmp_path_factory.mktemp("plugins-db") / "caravan-plugins-test.db"
    return f"sqlite:///{path}"
