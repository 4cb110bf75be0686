"""Tax rates: the admin's table, and the lookup the provider computes with."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from piccolo.query import Select

from caravan_rate_table_tax import errors
from caravan_rate_table_tax.schemas import TaxRateCreate, TaxRateRead, TaxRateUpdate
from caravan_rate_table_tax.tables import TaxRate
from core.plugins import (
    CaravanError,
    Issues,
    Page,
    TTLCache,
    fetch,
    new_id,
    now,
    page_of,
    transaction,
    unique_or_conflict,
)

#: ``(subdivision, category) -> (rate, name)`` of one country.
CountryRates = dict[tuple[str, str], tuple[Decimal, str]]


def normalize_rate(rate: str) -> str:
    """``"0.190"`` → ``"0.19"``, ``"0.0"`` → ``"0"``: one spelling per rate."""
    return format(Decimal(rate).normalize(), "f")


def _read(row: dict[str, Any]) -> TaxRateRead:
    return TaxRateRead(
        id=row["id"],
        country=row["country"],
        subdivision=row["subdivision"] or None,
        category=row["category"],
        rate=row["rate"],
        name=row["name"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _rates(store_id: str) -> Select[Any]:
    return TaxRate.select(
        TaxRate.id,
        TaxRate.country,
        TaxRate.subdivision,
        TaxRate.category,
        TaxRate.rate,
        TaxRate.name,
        TaxRate.created_at,
        TaxRate.updated_at,
    ).where(TaxRate.store == store_id)


async def create_rate(store_id: str, data: TaxRateCreate) -> TaxRateRead:
    """Add a rate; a second rate for the same place and category is a 409."""
    issues = Issues()
    issues.country("country", data.country)
    issues.raise_if_any()
    stamp = now()
    row = TaxRate(
        id=new_id("txr"),
        store=store_id,
        country=data.country,
        subdivision=data.subdivision or "",
        category=data.category,
        rate=normalize_rate(data.rate),
        name=data.name,
        created_at=stamp,
        updated_at=stamp,
    )
    place = data.country + (f"-{data.subdivision}" if data.subdivision else "")

    async def write() -> None:
        async with transaction():
            await TaxRate.insert(row)

    await unique_or_conflict(write(), errors.TAX_RATE_EXISTS, category=data.category, place=place)
    _country_rates.clear()
    return await get_rate(store_id, row.id)


async def get_rate(store_id: str, rate_id: str) -> TaxRateRead:
    """One rate of the store, or 404."""
    row = await _rates(store_id).where(TaxRate.id == rate_id).first()
    if row is None:
        raise CaravanError(errors.TAX_RATE_NOT_FOUND, id=rate_id)
    return _read(row)


async def list_rates(
    store_id: str, *, country: str | None, limit: int, cursor: str | None
) -> Page[TaxRateRead]:
    """The store's rates, newest first, optionally of one country."""
    query = _rates(store_id)
    if country is not None:
        query = query.where(TaxRate.country == country)
    return await page_of(query, TaxRate.id, limit=limit, cursor=cursor, convert=_read)


async def update_rate(store_id: str, rate_id: str, data: TaxRateUpdate) -> TaxRateRead:
    """Change a rate's value or name."""
    values: dict[Any, Any] = {TaxRate.updated_at: now()}
    if data.rate is not None:
        values[TaxRate.rate] = normalize_rate(data.rate)
    if data.name is not None:
        values[TaxRate.name] = data.name
    async with transaction():
        found = (
            await TaxRate.update(values)
            .where((TaxRate.id == rate_id) & (TaxRate.store == store_id))
            .returning(TaxRate.id)
        )
    _country_rates.clear()
    if not found:
        raise CaravanError(errors.TAX_RATE_NOT_FOUND, id=rate_id)
    return await get_rate(store_id, rate_id)


async def delete_rate(store_id: str, rate_id: str) -> None:
    """Remove a rate."""
    async with transaction():
        found = (
            await TaxRate.delete()
            .where((TaxRate.id == rate_id) & (TaxRate.store == store_id))
            .returning(TaxRate.id)
        )
    _country_rates.clear()
    if not found:
        raise CaravanError(errors.TAX_RATE_NOT_FOUND, id=rate_id)


#: Rates by (store, country): read at every pricing, changed rarely (this process
#: forgets them at once when it changes them; others within a second).
_country_rates: TTLCache[tuple[str, str], CountryRates] = TTLCache(ttl=1.0)


async def country_rates(store_id: str, country: str) -> CountryRates:
    """Every rate of ``country`` in the store."""
    return await _country_rates.get_or_load(
        (store_id, country), lambda: _load_country_rates(store_id, country)
    )


async def _load_country_rates(store_id: str, country: str) -> CountryRates:
    rows = await fetch(
        "SELECT subdivision, category, rate, name FROM rate_table_tax_rates "
        "WHERE store = {} AND country = {}",
        store_id,
        country,
    )
    return {
        (row["subdivision"], row["category"]): (Decimal(row["rate"]), row["name"]) for row in rows
    }
