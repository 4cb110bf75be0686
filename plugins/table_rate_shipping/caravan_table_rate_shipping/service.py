"""Shipping zones and rates: the admin's table, and the lookup the provider quotes from."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from msgspec import UNSET

from caravan_table_rate_shipping import errors
from caravan_table_rate_shipping.schemas import (
    RateCreate,
    RateRead,
    RateUpdate,
    ZoneCreate,
    ZoneRead,
    ZoneUpdate,
)
from caravan_table_rate_shipping.tables import ShippingRate, ShippingZone, ShippingZoneCountry
from core.plugins import (
    SERVICE_UNAVAILABLE,
    CaravanError,
    Issues,
    Page,
    TTLCache,
    decode_cursor,
    encode_cursor,
    fetch,
    is_unique_violation,
    new_id,
    now,
    transaction,
)

#: Rate fields whose API name differs from the column's.
_COLUMNS = {"min": "band_min", "max": "band_max"}
#: Rate fields that ``null`` clears (the others: ``null`` means "unchanged").
_NULLABLE = frozenset({"max", "free_above", "min_days", "max_days"})


def _rate(row: dict[str, Any]) -> RateRead:
    return RateRead(
        id=row["id"],
        zone_id=row["zone"],
        name=row["name"],
        basis=row["basis"],
        min=row["band_min"],
        max=row["band_max"],
        amount=row["amount"],
        currency=row["currency"],
        free_above=row["free_above"],
        min_days=row["min_days"],
        max_days=row["max_days"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def _zones(store_id: str, where: Any, limit: int | None = None) -> list[ZoneRead]:
    """Zones of the store matching ``where`` (newest first), each with its rates."""
    query = (
        ShippingZone.select()
        .where((ShippingZone.store == store_id) & where)
        .order_by(ShippingZone.id, ascending=False)
        .output(load_json=True)
    )
    rows = await (query.limit(limit) if limit else query)
    if not rows:
        return []
    rates = (
        await ShippingRate.select()
        .where(ShippingRate.zone.is_in([row["id"] for row in rows]))
        .order_by(ShippingRate.id)
    )
    by_zone: dict[str, list[RateRead]] = {row["id"]: [] for row in rows}
    for rate in rates:
        by_zone[rate["zone"]].append(_rate(rate))
    return [
        ZoneRead(
            id=row["id"],
            name=row["name"],
            countries=row["countries"],
            rates=by_zone[row["id"]],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )
        for row in rows
    ]


# ---------------------------------------------------------------------------
# Zones
# ---------------------------------------------------------------------------


def _check_countries(countries: list[str] | None) -> None:
    issues = Issues()
    if countries is not None:
        for i, country in enumerate(countries):
            issues.country(f"countries[{i}]", country)
        issues.unique("countries", countries)
    issues.raise_if_any()


async def _check_countries_free(store_id: str, countries: list[str], zone_id: str) -> None:
    """A country belongs to at most one zone of a store."""
    rows = await ShippingZoneCountry.select(
        ShippingZoneCountry.country, ShippingZoneCountry.zone.name.as_alias("zone_name")
    ).where(
        (ShippingZoneCountry.store == store_id)
        & ShippingZoneCountry.country.is_in(countries)
        & (ShippingZoneCountry.zone != zone_id)
    )
    if rows:
        raise CaravanError(
            errors.COUNTRY_IN_OTHER_ZONE, country=rows[0]["country"], zone=rows[0]["zone_name"]
        )


async def _write_countries(store_id: str, zone_id: str, countries: list[str], write: Any) -> None:
    """Run ``write`` (which claims ``countries``); a concurrent claim becomes a 409."""
    try:
        await write()
    except Exception as exc:
        if not is_unique_violation(exc):
            raise
        await _check_countries_free(store_id, countries, zone_id)
        raise CaravanError(SERVICE_UNAVAILABLE, headers={"retry-after": "1"}) from exc


async def _claim(store_id: str, zone_id: str, countries: list[str]) -> None:
    await _check_countries_free(store_id, countries, zone_id)
    await ShippingZoneCountry.delete().where(ShippingZoneCountry.zone == zone_id)
    await ShippingZoneCountry.insert(
        *(
            ShippingZoneCountry(id=new_id("szc"), store=store_id, zone=zone_id, country=c)
            for c in countries
        )
    )


async def create_zone(store_id: str, data: ZoneCreate) -> ZoneRead:
    """Add a zone of countries (each not yet in another zone of the store)."""
    _check_countries(data.countries)
    stamp = now()
    zone = ShippingZone(
        id=new_id("szone"),
        store=store_id,
        name=data.name,
        countries=data.countries,
        created_at=stamp,
        updated_at=stamp,
    )

    async def write() -> None:
        async with _writing():
            await ShippingZone.insert(zone)
            await _claim(store_id, zone.id, data.countries)

    await _write_countries(store_id, zone.id, data.countries, write)
    return await get_zone(store_id, zone.id)


async def get_zone(store_id: str, zone_id: str) -> ZoneRead:
    """One zone of the store with its rates, or 404."""
    found = await _zones(store_id, ShippingZone.id == zone_id)
    if not found:
        raise CaravanError(errors.SHIPPING_ZONE_NOT_FOUND, id=zone_id)
    return found[0]


async def list_zones(store_id: str, *, limit: int, cursor: str | None) -> Page[ZoneRead]:
    """The store's zones, newest first, with their rates."""
    where: Any = ShippingZone.id.is_not_null()
    if cursor is not None:
        (last_id,) = decode_cursor(cursor, 1)
        where = ShippingZone.id < str(last_id)
    zones = await _zones(store_id, where, limit + 1)
    more = len(zones) > limit
    zones = zones[:limit]
    return Page(items=zones, next_cursor=encode_cursor([zones[-1].id]) if more else None)


async def update_zone(store_id: str, zone_id: str, data: ZoneUpdate) -> ZoneRead:
    """Change a zone's name or countries."""
    _check_countries(data.countries)
    values: dict[Any, Any] = {ShippingZone.updated_at: now()}
    if data.name is not None:
        values[ShippingZone.name] = data.name
    if data.countries is not None:
        values[ShippingZone.countries] = data.countries
    where = (ShippingZone.id == zone_id) & (ShippingZone.store == store_id)

    async def write() -> None:
        async with _writing():
            if not await ShippingZone.exists().where(where):
                raise CaravanError(errors.SHIPPING_ZONE_NOT_FOUND, id=zone_id)
            if data.countries is not None:
                await _claim(store_id, zone_id, data.countries)
            await ShippingZone.update(values).where(where)

    await _write_countries(store_id, zone_id, data.countries or [], write)
    return await get_zone(store_id, zone_id)


async def delete_zone(store_id: str, zone_id: str) -> None:
    """Remove a zone and its rates."""
    async with _writing():
        found = (
            await ShippingZone.delete()
            .where((ShippingZone.id == zone_id) & (ShippingZone.store == store_id))
            .returning(ShippingZone.id)
        )
    if not found:
        raise CaravanError(errors.SHIPPING_ZONE_NOT_FOUND, id=zone_id)


# ---------------------------------------------------------------------------
# Rates
# ---------------------------------------------------------------------------


def _check_rate(rate: RateCreate) -> None:
    issues = Issues()
    issues.currency("currency", rate.currency)
    if rate.max is not None and rate.max <= rate.min:
        issues.add("max", "invalid_value", reason="max must be greater than min")
    if rate.min_days is not None and rate.max_days is not None and rate.min_days > rate.max_days:
        issues.add("max_days", "invalid_value", reason="max_days must be at least min_days")
    issues.raise_if_any()


def _rate_values(rate: RateCreate) -> dict[str, Any]:
    fields = msgspec.structs.asdict(rate)
    return {_COLUMNS.get(key, key): value for key, value in fields.items()}


async def _zone_exists(store_id: str, zone_id: str) -> None:
    if not await ShippingZone.exists().where(
        (ShippingZone.id == zone_id) & (ShippingZone.store == store_id)
    ):
        raise CaravanError(errors.SHIPPING_ZONE_NOT_FOUND, id=zone_id)


async def _get_rate(store_id: str, zone_id: str, rate_id: str) -> RateRead:
    row = (
        await ShippingRate.select()
        .where(
            (ShippingRate.id == rate_id)
            & (ShippingRate.zone == zone_id)
            & (ShippingRate.store == store_id)
        )
        .first()
    )
    if row is None:
        raise CaravanError(errors.SHIPPING_RATE_NOT_FOUND, id=rate_id)
    return _rate(row)


async def add_rate(store_id: str, zone_id: str, data: RateCreate) -> RateRead:
    """Add a rate to a zone of the store."""
    _check_rate(data)
    stamp = now()
    row = ShippingRate(
        id=new_id("srate"),
        store=store_id,
        zone=zone_id,
        created_at=stamp,
        updated_at=stamp,
        **_rate_values(data),
    )
    async with _writing():
        await _zone_exists(store_id, zone_id)
        await ShippingRate.insert(row)
    return await _get_rate(store_id, zone_id, row.id)


async def update_rate(store_id: str, zone_id: str, rate_id: str, data: RateUpdate) -> RateRead:
    """Change a rate; the result is checked as a whole (``max`` above ``min``…)."""
    current = await _get_rate(store_id, zone_id, rate_id)
    merged: dict[str, Any] = {
        field: getattr(current, field) for field in RateCreate.__struct_fields__
    }
    for field in RateUpdate.__struct_fields__:
        value = getattr(data, field)
        if value is UNSET or (value is None and field not in _NULLABLE):
            continue
        merged[field] = value
    rate = RateCreate(**merged)
    _check_rate(rate)
    values = {getattr(ShippingRate, k): v for k, v in _rate_values(rate).items()}
    values[ShippingRate.updated_at] = now()
    async with _writing():
        await ShippingRate.update(values).where(
            (ShippingRate.id == rate_id) & (ShippingRate.store == store_id)
        )
    return await _get_rate(store_id, zone_id, rate_id)


async def delete_rate(store_id: str, zone_id: str, rate_id: str) -> None:
    """Remove a rate."""
    async with _writing():
        found = (
            await ShippingRate.delete()
            .where(
                (ShippingRate.id == rate_id)
                & (ShippingRate.zone == zone_id)
                & (ShippingRate.store == store_id)
            )
            .returning(ShippingRate.id)
        )
    if not found:
        raise CaravanError(errors.SHIPPING_RATE_NOT_FOUND, id=rate_id)


#: Rates by (store, country, currency): read at every pricing, changed rarely.
_rates: TTLCache[tuple[str, str, str], list[dict[str, Any]]] = TTLCache(ttl=1.0)


@contextlib.asynccontextmanager
async def _writing() -> AsyncIterator[None]:
    """A write transaction after which this process forgets the cached rates
    (other processes see the change within a second)."""
    try:
        async with transaction():
            yield
    finally:
        _rates.clear()


async def rates_for(store_id: str, country: str, currency: str) -> list[dict[str, Any]]:
    """The rates in ``currency`` of the zone holding ``country``."""
    return await _rates.get_or_load(
        (store_id, country, currency), lambda: _load_rates(store_id, country, currency)
    )


async def _load_rates(store_id: str, country: str, currency: str) -> list[dict[str, Any]]:
    return await fetch(
        "SELECT r.id, r.name, r.basis, r.band_min, r.band_max, r.amount, r.free_above, "
        "r.min_days, r.max_days FROM table_rate_shipping_rates r "
        "JOIN table_rate_shipping_countries c ON c.zone = r.zone "
        "WHERE c.store = {} AND c.country = {} AND r.currency = {} ORDER BY r.id",
        store_id,
        country,
        currency,
    )
