"""Inventory fixtures: a store with one region, to which tests add warehouses and
products (:mod:`tests.factories.inventory`)."""

from __future__ import annotations

import pytest

from core.plugins.testing.api import Api
from tests.factories.inventory import StockShop


@pytest.fixture
async def shop(api: Api) -> StockShop:
    store = await api.create_store()
    region = await api.add_region(store)
    return StockShop(api=api, store=store, region_id=region["id"])
