"""Affiliate fixtures: a store selling through the built-in providers with the test KOL
programme active (builders in :mod:`tests.factories.affiliates`)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.core.affiliates import fakes
from tests.factories.affiliates import Clock
from tests.factories.orders import OrderShop, make_order_shop


@pytest.fixture
async def shop(api: Any) -> OrderShop:
    fakes.install()
    return await make_order_shop(api)


@pytest.fixture
def clock() -> Clock:
    return Clock()
