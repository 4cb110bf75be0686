"""Checkout fixtures: a store whose EU region (tax included) and US region (tax added)
sell one stocked variant (:mod:`tests.factories.checkout`)."""

from __future__ import annotations

import pytest

from core.plugins.testing.api import Api
from tests.factories.checkout import CheckoutShop, make_checkout_shop


@pytest.fixture
async def shop(api: Api) -> CheckoutShop:
    return await make_checkout_shop(api)
