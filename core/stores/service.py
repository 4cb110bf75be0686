"""Stores, regions and storefronts: the tenant model every other domain stands on."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import msgspec
from msgspec import UNSET
from piccolo.query import Select

from core.auth import service as auth_service
from core.auth.scopes import SCOPES
from core.db.engine import is_unique_violation, now, transaction
from core.kernel.errors import SERVICE_UNAVAILABLE, CaravanError
from core.kernel.ids import new_id, new_secret
from core.kernel.pagination import Page, page_of
from core.kernel.scope import app_scope
from core.kernel.validation import Issues
from core.stores import context, cors, errors
from core.stores.schemas import (
    RegionCreate,
    RegionRead,
    RegionUpdate,
    StoreCreate,
    StoreCreated,
    StorefrontCreate,
    StorefrontRead,
    StorefrontUpdate,
    StorefrontWithKey,
    StoreRead,
    StoreUpdate,
)
from core.stores.tables import Region, RegionCountry, Store, Storefront

#: Callbacks awaited with a new store's id inside the transaction that creates it
#: (the application registers the plugin host's default installs there).
STORE_CREATED = "stores.created"

# ---------------------------------------------------------------------------
# Change notification: this process's caches of store settings forget at once.
# ---------------------------------------------------------------------------


def _changed(store_id: str) -> None:
    """After every committed change of a store's settings, regions or storefronts."""
    context.invalidate(store_id)
    cors.forget_origins(store_id)


async def bump_catalog_version(store_id: str) -> None:
    """Invalidate cached catalog reads of ``store_id`` (call inside the write transaction)."""
    await Store.update({Store.catalog_version: Store.catalog_version + 1}).where(
        Store.id == store_id
    )


# ---------------------------------------------------------------------------
# Stores
# ---------------------------------------------------------------------------


def _store(row: dict[str, Any]) -> StoreRead:
    return msgspec.convert(row, StoreRead, from_attributes=False, strict=False)


def _check_store(data: StoreCreate | StoreUpdate) -> str | None:
    issues = Issues()
    issues.currency("base_currency", data.base_currency)
    issues.country("home_country", data.home_country)
    locale = issues.locale("default_locale", data.default_locale)
    issues.raise_if_any()
    return locale


async def create_store(data: StoreCreate) -> StoreCreated:
    """Create a store and its first staff token (every scope)."""
    locale = _check_store(data)
    stamp = now()
    store = Store(
        id=new_id("store"),
        handle=data.handle,
        name=data.name,
        base_currency=data.base_currency,
        home_country=data.home_country,
        default_locale=locale,
        settings=data.settings,
        catalog_version=1,
        created_at=stamp,
        updated_at=stamp,
    )
    if await Store.exists().where(Store.handle == data.handle):
        raise CaravanError(errors.STORE_HANDLE_TAKEN, handle=data.handle)
    try:
        async with transaction():
            await store.save()
            secret, record = await auth_service.create_token(
                store_id=store.id, name="Owner", scopes=list(SCOPES), in_transaction=True
            )
            for callback in app_scope().callbacks(STORE_CREATED):
                await callback(store.id)
    except Exception as exc:
        if is_unique_violation(exc):
            raise CaravanError(errors.STORE_HANDLE_TAKEN, handle=data.handle) from exc
        raise
    return StoreCreated(store=await get_store(store.id), admin_token=secret, token=record)


def _stores() -> Select[Any]:
    return Store.select(
        Store.id,
        Store.handle,
        Store.name,
        Store.base_currency,
        Store.home_country,
        Store.default_locale,
        Store.settings,
        Store.created_at,
        Store.updated_at,
    ).output(load_json=True)


async def get_store(store_id: str) -> StoreRead:
    """One store, or 404."""
    row = await _stores().where(Store.id == store_id).first()
    if row is None:
        raise CaravanError(errors.STORE_NOT_FOUND, id=store_id)
    return _store(row)


async def list_stores(*, limit: int, cursor: str | None) -> Page[StoreRead]:
    """Every store, newest first (operator only)."""
    return await page_of(_stores(), Store.id, limit=limit, cursor=cursor, convert=_store)


async def update_store(store_id: str, data: StoreUpdate) -> StoreRead:
    """Change a store's name, currency, country, default locale or settings."""
    locale = _check_store(data)
    values: dict[Any, Any] = {Store.updated_at: now()}
    for field in ("name", "base_currency", "home_country", "settings"):
        value = getattr(data, field)
        if value is not None:
            values[getattr(Store, field)] = value
    if locale is not None:
        values[Store.default_locale] = locale
    async with transaction():
        found = await Store.update(values).where(Store.id == store_id).returning(Store.id)
        if found:
            await bump_catalog_version(store_id)
    if not found:
        raise CaravanError(errors.STORE_NOT_FOUND, id=store_id)
    _changed(store_id)
    return await get_store(store_id)


# ---------------------------------------------------------------------------
# Regions
# ---------------------------------------------------------------------------


def _region(row: dict[str, Any]) -> RegionRead:
    locales = row["locales"]
    return RegionRead(
        id=row["id"],
        code=row["code"],
        name=row["name"],
        currency=row["currency"],
        countries=row["countries"],
        locales=locales,
        default_locale=locales[0] if locales else "en",
        tax_inclusive=bool(row["tax_inclusive"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _regions(store_id: str) -> Select[Any]:
    return (
        Region.select(
            Region.id,
            Region.code,
            Region.name,
            Region.currency,
            Region.countries,
            Region.locales,
            Region.tax_inclusive,
            Region.created_at,
            Region.updated_at,
        )
        .where(Region.store == store_id)
        .output(load_json=True)
    )


def _check_region(data: RegionCreate | RegionUpdate) -> list[str] | None:
    issues = Issues()
    issues.currency("currency", data.currency)
    locales = None
    if data.countries is not None:
        for i, country in enumerate(data.countries):
            issues.country(f"countries[{i}]", country)
        issues.unique("countries", data.countries)
    if data.locales is not None:
        locales = [issues.locale(f"locales[{i}]", loc) or loc for i, loc in enumerate(data.locales)]
        issues.unique("locales", locales)
    issues.raise_if_any()
    return locales


async def _check_countries_free(store_id: str, countries: list[str], region_id: str | None) -> None:
    """A country belongs to at most one region of a store."""
    rows = (
        await Region.select(Region.id, Region.code, Region.countries)
        .where(Region.store == store_id)
        .output(load_json=True)
    )
    for row in rows:
        if row["id"] == region_id:
            continue
        for country in countries:
            if country in row["countries"]:
                raise CaravanError(
                    errors.COUNTRY_IN_OTHER_REGION, country=country, region=row["code"]
                )


async def _claim_countries(store_id: str, region_id: str, countries: list[str]) -> None:
    """Record the region's countries; the (store, country) key refuses a second region."""
    await RegionCountry.delete().where(RegionCountry.region == region_id)
    await RegionCountry.insert(
        *(
            RegionCountry(id=new_id("rc"), store=store_id, region=region_id, country=c)
            for c in countries
        )
    )


async def _without_races(
    write: Awaitable[None],
    store_id: str,
    countries: list[str],
    region_id: str,
    code: str | None = None,
) -> None:
    """Run a region write; a concurrent writer's claim on a country or code becomes a 409."""
    try:
        await write
    except Exception as exc:
        if not is_unique_violation(exc):
            raise
        # The other writer has committed: the checks now see what it claimed.
        await _check_countries_free(store_id, countries, region_id)
        if code is not None:
            raise CaravanError(errors.REGION_CODE_TAKEN, code=code) from exc
        # What was claimed is gone again: a retry will go through.
        raise CaravanError(SERVICE_UNAVAILABLE, headers={"retry-after": "1"}) from exc


async def create_region(store_id: str, data: RegionCreate) -> RegionRead:
    """Add a region to the store."""
    locales = _check_region(data)
    stamp = now()
    region = Region(
        id=new_id("reg"),
        store=store_id,
        code=data.code,
        name=data.name,
        currency=data.currency,
        countries=data.countries,
        locales=locales,
        tax_inclusive=data.tax_inclusive,
        created_at=stamp,
        updated_at=stamp,
    )

    async def write() -> None:
        async with transaction():
            if await Region.exists().where((Region.store == store_id) & (Region.code == data.code)):
                raise CaravanError(errors.REGION_CODE_TAKEN, code=data.code)
            await _check_countries_free(store_id, data.countries, None)
            await region.save()
            await _claim_countries(store_id, region.id, data.countries)
            await bump_catalog_version(store_id)

    await _without_races(write(), store_id, data.countries, region.id, code=data.code)
    _changed(store_id)
    return await get_region(store_id, region.id)


async def get_region(store_id: str, region_id: str) -> RegionRead:
    """One region of the store, or 404."""
    row = await _regions(store_id).where(Region.id == region_id).first()
    if row is None:
        raise CaravanError(errors.REGION_NOT_FOUND, id=region_id)
    return _region(row)


async def list_regions(store_id: str, *, limit: int, cursor: str | None) -> Page[RegionRead]:
    """The store's regions, newest first."""
    return await page_of(_regions(store_id), Region.id, limit=limit, cursor=cursor, convert=_region)


async def all_regions(store_id: str) -> list[RegionRead]:
    """Every region of the store, oldest first."""
    rows = await _regions(store_id).order_by(Region.id)
    return [_region(r) for r in rows]


async def update_region(store_id: str, region_id: str, data: RegionUpdate) -> RegionRead:
    """Change a region."""
    locales = _check_region(data)
    values: dict[Any, Any] = {Region.updated_at: now()}
    for field in ("name", "currency", "countries", "tax_inclusive"):
        value = getattr(data, field)
        if value is not None:
            values[getattr(Region, field)] = value
    if locales is not None:
        values[Region.locales] = locales
    where = (Region.id == region_id) & (Region.store == store_id)

    async def write() -> None:
        async with transaction():
            if not await Region.exists().where(where):
                raise CaravanError(errors.REGION_NOT_FOUND, id=region_id)
            if data.countries is not None:
                await _check_countries_free(store_id, data.countries, region_id)
                await _claim_countries(store_id, region_id, data.countries)
            await Region.update(values).where(where)
            await bump_catalog_version(store_id)

    await _without_races(write(), store_id, data.countries or [], region_id)
    _changed(store_id)
    return await get_region(store_id, region_id)


async def delete_region(store_id: str, region_id: str) -> None:
    """Remove a region that no storefront uses as its default."""
    region = await get_region(store_id, region_id)
    async with transaction():
        if await Storefront.exists().where(
            (Storefront.store == store_id) & (Storefront.default_region == region_id)
        ):
            raise CaravanError(errors.REGION_IN_USE, code=region.code)
        await RegionCountry.delete().where(RegionCountry.region == region_id)
        await Region.delete().where((Region.id == region_id) & (Region.store == store_id))
        await bump_catalog_version(store_id)
    _changed(store_id)


# ---------------------------------------------------------------------------
# Storefronts
# ---------------------------------------------------------------------------


def _storefront(row: dict[str, Any]) -> StorefrontRead:
    return StorefrontRead(
        id=row["id"],
        name=row["name"],
        key_hint=row["key_hint"],
        cors_origins=row["cors_origins"],
        default_region=row["default_region"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _storefronts(store_id: str) -> Select[Any]:
    return (
        Storefront.select(
            Storefront.id,
            Storefront.name,
            Storefront.key_hint,
            Storefront.cors_origins,
            Storefront.default_region,
            Storefront.created_at,
            Storefront.updated_at,
        )
        .where(Storefront.store == store_id)
        .output(load_json=True)
    )


async def _check_storefront(
    store_id: str, data: StorefrontCreate | StorefrontUpdate
) -> list[str] | None:
    issues = Issues()
    origins = None
    if data.cors_origins is not None:
        origins = [o.rstrip("/") for o in data.cors_origins]
        for i, origin in enumerate(origins):
            issues.http_url(f"cors_origins[{i}]", origin, origin_only=True)
    if isinstance(data.default_region, str) and not await Region.exists().where(
        (Region.id == data.default_region) & (Region.store == store_id)
    ):
        issues.add("default_region", "invalid_value", reason="no such region in this store")
    issues.raise_if_any()
    return origins


def _new_publishable_key() -> tuple[str, str, str]:
    key = new_secret(auth_service.PUBLISHABLE_PREFIX)
    return key, auth_service.hash_token(key), auth_service.token_hint(key)


async def create_storefront(store_id: str, data: StorefrontCreate) -> StorefrontWithKey:
    """Add a storefront and return it with its publishable key."""
    origins = await _check_storefront(store_id, data)
    key, key_hash, hint = _new_publishable_key()
    stamp = now()
    storefront = Storefront(
        id=new_id("sf"),
        store=store_id,
        name=data.name,
        key_hash=key_hash,
        key_hint=hint,
        cors_origins=origins or [],
        default_region=data.default_region,
        created_at=stamp,
        updated_at=stamp,
    )
    async with transaction():
        await storefront.save()
    _changed(store_id)
    return StorefrontWithKey(
        storefront=await get_storefront(store_id, storefront.id), publishable_key=key
    )


async def get_storefront(store_id: str, storefront_id: str) -> StorefrontRead:
    """One storefront of the store, or 404."""
    row = await _storefronts(store_id).where(Storefront.id == storefront_id).first()
    if row is None:
        raise CaravanError(errors.STOREFRONT_NOT_FOUND, id=storefront_id)
    return _storefront(row)


async def list_storefronts(
    store_id: str, *, limit: int, cursor: str | None
) -> Page[StorefrontRead]:
    """The store's storefronts, newest first."""
    return await page_of(
        _storefronts(store_id), Storefront.id, limit=limit, cursor=cursor, convert=_storefront
    )


async def update_storefront(
    store_id: str, storefront_id: str, data: StorefrontUpdate
) -> StorefrontRead:
    """Change a storefront's name, CORS origins or default region."""
    await get_storefront(store_id, storefront_id)
    origins = await _check_storefront(store_id, data)
    values: dict[Any, Any] = {Storefront.updated_at: now()}
    if data.name is not None:
        values[Storefront.name] = data.name
    if origins is not None:
        values[Storefront.cors_origins] = origins
    if data.default_region is not UNSET:
        values[Storefront.default_region] = data.default_region
    async with transaction():
        await Storefront.update(values).where(
            (Storefront.id == storefront_id) & (Storefront.store == store_id)
        )
    _changed(store_id)
    return await get_storefront(store_id, storefront_id)


async def rotate_storefront_key(store_id: str, storefront_id: str) -> StorefrontWithKey:
    """Replace a storefront's publishable key; the old key stops working."""
    await get_storefront(store_id, storefront_id)
    key, key_hash, hint = _new_publishable_key()
    async with transaction():
        await Storefront.update(
            {
                Storefront.key_hash: key_hash,
                Storefront.key_hint: hint,
                Storefront.updated_at: now(),
            }
        ).where((Storefront.id == storefront_id) & (Storefront.store == store_id))
    _changed(store_id)
    return StorefrontWithKey(
        storefront=await get_storefront(store_id, storefront_id), publishable_key=key
    )


async def delete_storefront(store_id: str, storefront_id: str) -> None:
    """Remove a storefront (its key stops working)."""
    await get_storefront(store_id, storefront_id)
    async with transaction():
        await Storefront.delete().where(
            (Storefront.id == storefront_id) & (Storefront.store == store_id)
        )
    _changed(store_id)
