"""Order fixtures: a store selling two stocked variants through the built-in providers
(:mod:`tests.factories.orders`)."""

from __future__ import annotations

import pytest

from core.plugins.testing.api import Api
from tests.factories.orders import OrderShop, make_order_shop


@pytest.fixture
async def shop(api: Api) -> OrderShop:
    return await make_order_shop(api)
