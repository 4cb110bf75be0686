"""The rate-table tax provider: the contract suite and exact taxes from the admin's rates."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from caravan_rate_table_tax import RateTableTax

from core.plugins import Address, TaxLine, TaxLineResult, TaxRequest, TaxResult
from core.plugins.testing.api import Api, StoreHandle
from core.plugins.testing.contracts import TaxProviderContract

#: Rates of late 2026 (reference/tax-rates.json): Germany, France, California.
RATES = [
    {"country": "DE", "rate": "0.19"},
    {"country": "DE", "category": "reduced", "rate": "0.07"},
    {"country": "DE", "category": "zero", "rate": "0"},
    {"country": "FR", "rate": "0.2"},
    {"country": "FR", "category": "reduced", "rate": "0.055"},
    {"country": "US", "subdivision": "CA", "rate": "0.0725", "name": "Sales tax"},
]


def address(country: str, subdivision: str | None = None) -> Address:
    return Address(
        first_name="Ada",
        last_name="Lovelace",
        line1="1 Example Street",
        city="Example",
        country=country,
        subdivision=subdivision,
    )


def line(line_id: str, amount: int, category: str = "standard") -> TaxLine:
    return TaxLine(
        id=line_id,
        variant_id=f"var_{line_id}",
        product_id="prod_1",
        quantity=1,
        amount=amount,
        tax_category=category,
    )


def tax_request(store: StoreHandle, ship_to: Address | None, **overrides: Any) -> TaxRequest:
    values: dict[str, Any] = {
        "store_id": store.id,
        "region_id": "reg_1",
        "currency": "EUR",
        "tax_inclusive": True,
        "lines": (line("a", 11_900), line("b", 10_700, "reduced"), line("c", 5_000, "books")),
        "shipping": 595,
        "ship_to": ship_to,
        **overrides,
    }
    return TaxRequest(**values)


async def store_with_rates(api: Api) -> StoreHandle:
    store = await api.create_store()
    for body in RATES:
        r = await api.request("POST", "/admin/tax-rates", store.token, json=body)
        assert r.status_code == 201, r.text
    return store


@pytest.fixture
async def store(api: Api) -> StoreHandle:
    return await store_with_rates(api)


def provider(tax_shipping: bool = True) -> RateTableTax:
    config = msgspec.convert({"tax_shipping": tax_shipping}, RateTableTax.Config, strict=True)
    return RateTableTax(config)


class TestRateTableContract(TaxProviderContract):
    @pytest.fixture
    def provider(self) -> RateTableTax:
        return provider()

    @pytest.fixture
    def tax_requests(self, store: StoreHandle) -> list[TaxRequest]:
        return [
            tax_request(store, address("DE")),
            tax_request(store, address("FR"), tax_inclusive=False, shipping=0),
            tax_request(store, address("US", "CA"), currency="USD", tax_inclusive=False),
            tax_request(store, address("JP")),
            tax_request(store, None),
        ]


async def test_inclusive_prices_hold_the_category_rate(store: StoreHandle) -> None:
    result = await provider().calculate(tax_request(store, address("DE")))
    assert result == TaxResult(
        lines=(
            TaxLineResult("a", 1_900, "0.19", "VAT"),
            TaxLineResult("b", 700, "0.07", "VAT"),
            # No "books" rate in Germany: the standard rate applies.
            TaxLineResult("c", 798, "0.19", "VAT"),
        ),
        shipping=95,
    )


async def test_exclusive_tax_is_added_and_rounded_half_even_per_line(store: StoreHandle) -> None:
    lines = (line("a", 250, "reduced"), line("b", 350, "reduced"), line("c", 1_001))
    request = tax_request(store, address("DE"), tax_inclusive=False, lines=lines, shipping=500)
    result = await provider().calculate(request)
    # 17.5 → 18, 24.5 → 24 (half-even), 190.19 → 190; shipping 95.
    assert [(r.line_id, r.amount) for r in result.lines] == [("a", 18), ("b", 24), ("c", 190)]
    assert result.shipping == 95
    assert result.total == 327


async def test_subdivision_rates_and_zero_rates(store: StoreHandle) -> None:
    us = tax_request(
        store,
        address("US", "CA"),
        currency="USD",
        tax_inclusive=False,
        lines=(line("a", 10_000), line("b", 2_000, "reduced")),
        shipping=1_000,
    )
    result = await provider().calculate(us)
    assert result.lines == (
        TaxLineResult("a", 725, "0.0725", "Sales tax"),
        TaxLineResult("b", 145, "0.0725", "Sales tax"),
    )
    assert result.shipping == 72  # 72.5 → 72
    zero = tax_request(store, address("DE"), lines=(line("a", 4_000, "zero"),))
    assert (await provider().calculate(zero)).lines == (TaxLineResult("a", 0, "0", "VAT"),)


async def test_no_rate_for_the_place_means_no_tax(store: StoreHandle) -> None:
    for ship_to in (address("JP"), address("US", "OR"), None):
        result = await provider().calculate(tax_request(store, ship_to))
        assert [(r.amount, r.rate) for r in result.lines] == [(0, "0")] * 3
        assert result.shipping == 0


async def test_shipping_is_untaxed_when_configured(store: StoreHandle) -> None:
    result = await provider(tax_shipping=False).calculate(tax_request(store, address("FR")))
    assert result.shipping == 0
    assert [r.amount for r in result.lines] == [1_983, 558, 833]


async def test_rates_of_another_store_do_not_apply(api: Api, store: StoreHandle) -> None:
    other = await api.create_store()
    result = await provider().calculate(tax_request(other, address("DE")))
    assert result.total == 0


async def test_a_changed_rate_applies_at_once(api: Api, store: StoreHandle) -> None:
    r = await api.request("GET", "/admin/tax-rates?country=FR", store.token)
    standard = next(i for i in r.json()["items"] if i["category"] == "standard")
    r = await api.request(
        "PATCH", f"/admin/tax-rates/{standard['id']}", store.token, json={"rate": "0.1"}
    )
    assert r.status_code == 200, r.text
    request = tax_request(store, address("FR"), tax_inclusive=False, lines=(line("a", 1_000),))
    assert (await provider().calculate(request)).lines[0].amount == 100
