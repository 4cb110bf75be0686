"""Customer fixtures: a ready store (EU/US/SEA regions and a storefront) per test."""

from __future__ import annotations

import pytest

from core.plugins.testing.api import Api, StoreHandle


@pytest.fixture
async def store(api: Api) -> StoreHandle:
    return await api.ready_store()
