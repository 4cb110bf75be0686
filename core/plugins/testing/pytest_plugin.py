"""The pytest plugin of the core (entry point ``pytest11``: ``caravan``).

Loaded by pytest at start-up wherever Caravan is installed, before any test
module imports the contract suites, so that their ``assert`` statements are
rewritten and a failing contract check shows the values it compared.
"""

from __future__ import annotations

import pytest

pytest.register_assert_rewrite("core.plugins.testing.contracts")
