"""Collections: merchandising groups of products, with translated titles."""

from __future__ import annotations

from typing import Any

import msgspec

from core.catalog import errors
from core.catalog.schemas import CollectionCreate, CollectionRead, CollectionUpdate, Translation
from core.catalog.service import (
    catalog_changed,
    parse_translations,
    store_default_locale,
)
from core.catalog.tables import Collection, CollectionProduct
from core.db.engine import now, transaction, unique_or_conflict
from core.kernel.errors import CaravanError
from core.kernel.ids import new_id
from core.kernel.pagination import Page, page_of
from core.kernel.validation import Issues
from core.stores.service import bump_catalog_version


def _collection(row: dict[str, Any]) -> CollectionRead:
    return CollectionRead(
        id=row["id"],
        handle=row["handle"],
        translations=msgspec.convert(row["translations"], dict[str, Translation]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def create_collection(store_id: str, data: CollectionCreate) -> CollectionRead:
    """Create a collection; its translations must include the store's default locale."""
    issues = Issues()
    translations = parse_translations(issues, "translations", data.translations)
    default_locale = await store_default_locale(store_id)
    if default_locale not in translations:
        issues.add("translations", "default_locale_required", locale=default_locale)
    issues.raise_if_any()
    stamp = now()
    row = Collection(
        id=new_id("col"),
        store=store_id,
        handle=data.handle,
        translations=msgspec.to_builtins(translations),
        created_at=stamp,
        updated_at=stamp,
    )

    async def write() -> None:
        async with transaction():
            if await Collection.exists().where(
                (Collection.store == store_id) & (Collection.handle == data.handle)
            ):
                raise CaravanError(errors.COLLECTION_HANDLE_TAKEN, handle=data.handle)
            await row.save()
            await bump_catalog_version(store_id)

    await unique_or_conflict(write(), errors.COLLECTION_HANDLE_TAKEN, handle=data.handle)
    await catalog_changed(store_id)
    return await get_collection(store_id, row.id)


async def get_collection(store_id: str, collection_id: str) -> CollectionRead:
    """One collection of the store, or 404."""
    row = (
        await Collection.select()
        .where((Collection.id == collection_id) & (Collection.store == store_id))
        .output(load_json=True)
        .first()
    )
    if row is None:
        raise CaravanError(errors.COLLECTION_NOT_FOUND, id=collection_id)
    return _collection(row)


async def list_collections(
    store_id: str, *, limit: int, cursor: str | None
) -> Page[CollectionRead]:
    """The store's collections, newest first."""
    query = Collection.select().where(Collection.store == store_id).output(load_json=True)
    return await page_of(query, Collection.id, limit=limit, cursor=cursor, convert=_collection)


async def update_collection(
    store_id: str, collection_id: str, data: CollectionUpdate
) -> CollectionRead:
    """Change a collection's handle or translations (merged by locale)."""
    current = await get_collection(store_id, collection_id)
    issues = Issues()
    changes = parse_translations(issues, "translations", data.translations or {})
    merged: dict[str, Translation] = dict(current.translations)
    for locale, t in changes.items():
        if t is None:
            merged.pop(locale, None)
        else:
            merged[locale] = t
    default_locale = await store_default_locale(store_id)
    if default_locale not in merged:
        issues.add(
            f"translations.{default_locale}", "default_locale_required", locale=default_locale
        )
    issues.raise_if_any()
    values: dict[Any, Any] = {
        Collection.updated_at: now(),
        Collection.translations: msgspec.to_builtins(merged),
    }
    if data.handle is not None:
        values[Collection.handle] = data.handle

    async def write() -> None:
        async with transaction():
            if data.handle is not None and await Collection.exists().where(
                (Collection.store == store_id)
                & (Collection.handle == data.handle)
                & (Collection.id != collection_id)
            ):
                raise CaravanError(errors.COLLECTION_HANDLE_TAKEN, handle=data.handle)
            await Collection.update(values).where(
                (Collection.id == collection_id) & (Collection.store == store_id)
            )
            await bump_catalog_version(store_id)

    await unique_or_conflict(write(), errors.COLLECTION_HANDLE_TAKEN, handle=data.handle)
    await catalog_changed(store_id)
    return await get_collection(store_id, collection_id)


async def delete_collection(store_id: str, collection_id: str) -> None:
    """Delete a collection (its products stay)."""
    await get_collection(store_id, collection_id)
    async with transaction():
        await CollectionProduct.delete().where(CollectionProduct.collection == collection_id)
        await Collection.delete().where(
            (Collection.id == collection_id) & (Collection.store == store_id)
        )
        await bump_catalog_version(store_id)
    await catalog_changed(store_id)
