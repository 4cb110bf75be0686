"""The pytest plugin of the core (entry point ``pytest11``: ``caravan``).

Loaded by pytest at start-up wherever Caravan is installed. It makes pytest
rewrite the contract suites' ``assert`` statements (before any test module
imports them), so a failing contract check shows the values it compared, and
it provides the kit's fixtures (:mod:`core.plugins.testing.fixtures`): ``app``,
``host``, ``client``, ``api``, ``settings``, ``database_url``,
``caravan_plugins`` and ``operator_token``.
"""

from __future__ import annotations

import pytest

pytest.register_assert_rewrite("core.plugins.testing.contracts", "core.plugins.testing.api")

from core.plugins.testing.fixtures import (  # noqa: E402
    api,
    app,
    caravan_plugins,
    client,
    database_url,
    host,
    operator_token,
    settings,
)

__all__ = [
    "api",
    "app",
    "caravan_plugins",
    "client",
    "database_url",
    "host",
    "operator_token",
    "settings",
]
