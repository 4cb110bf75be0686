"""The catalog: products, variants, prices, translations and collections.

Every write runs in one transaction that also bumps the store's catalog
version, so cached storefront reads (see :mod:`core.catalog.reads`) of the
old catalog are never served again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import msgspec

from core.catalog import errors
from core.catalog import reads as listing
from core.catalog.schemas import (
    MediaItem,
    OptionDef,
    Price,
    ProductCreate,
    ProductRead,
    ProductUpdate,
    Translation,
    VariantCreate,
    VariantRead,
    VariantUpdate,
)
from core.catalog.tables import (
    Collection,
    CollectionProduct,
    Product,
    ProductPrice,
    ProductTranslation,
    Variant,
    VariantPrice,
)
from core.db.engine import now, transaction, unique_or_conflict
from core.kernel.errors import CaravanError
from core.kernel.ids import new_id
from core.kernel.pagination import Page
from core.kernel.validation import Issues
from core.stores.service import bump_catalog_version
from core.stores.tables import Store


async def catalog_changed(store_id: str) -> None:
    listing.forget_version(store_id)


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------


async def store_default_locale(store_id: str) -> str:
    row = await Store.select(Store.default_locale).where(Store.id == store_id).first()
    return str(row["default_locale"]) if row else "en"


def parse_translations(
    issues: Issues, field: str, given: dict[str, Any]
) -> dict[str, Translation | None]:
    """Normalise locale keys (``de-at`` → ``de_AT``), recording bad ones."""
    out: dict[str, Translation | None] = {}
    for key, value in given.items():
        locale = issues.locale(f"{field}.{key}", key)
        if locale is not None:
            out[locale] = value
    return out


def _check_variant(
    issues: Issues,
    prefix: str,
    variant: VariantCreate | VariantUpdate,
    options: Sequence[OptionDef],
) -> None:
    issues.country(f"{prefix}origin_country", variant.origin_country)
    if variant.prices is not None:
        for i, price in enumerate(variant.prices):
            issues.currency(f"{prefix}prices[{i}].currency", price.currency)
        issues.unique(f"{prefix}prices", [p.currency for p in variant.prices])
    if variant.options is not None:
        allowed = {o.name: set(o.values) for o in options}
        for name, value in variant.options.items():
            if name not in allowed or value not in allowed[name]:
                issues.add(f"{prefix}options.{name}", "invalid_choice")


async def _check_collections(issues: Issues, store_id: str, ids: list[str]) -> None:
    issues.unique("collection_ids", ids)
    if not ids:
        return
    found = {
        r["id"]
        for r in await Collection.select(Collection.id).where(
            (Collection.store == store_id) & Collection.id.is_in(ids)
        )
    }
    for i, cid in enumerate(ids):
        if cid not in found:
            issues.add(f"collection_ids[{i}]", "not_found")


async def _check_skus_free(
    store_id: str, skus: list[str], except_variant: str | None = None
) -> None:
    if not skus:
        return
    query = Variant.select(Variant.sku).where((Variant.store == store_id) & Variant.sku.is_in(skus))
    if except_variant is not None:
        query = query.where(Variant.id != except_variant)
    taken = await query.first()
    if taken is not None:
        raise CaravanError(errors.SKU_TAKEN, sku=taken["sku"])


# ---------------------------------------------------------------------------
# Rows
# ---------------------------------------------------------------------------


def _variant_rows(
    store_id: str, product_id: str, variant: VariantCreate, position: int
) -> tuple[Variant, list[VariantPrice]]:
    row = Variant(
        id=new_id("var"),
        store=store_id,
        product=product_id,
        sku=variant.sku,
        barcode=variant.barcode,
        options=variant.options,
        weight_g=variant.weight_g,
        length_mm=variant.length_mm,
        width_mm=variant.width_mm,
        height_mm=variant.height_mm,
        hs_code=variant.hs_code,
        origin_country=variant.origin_country or "",
        position=position,
        created_at=now(),
    )
    return row, _price_rows(store_id, product_id, row.id, variant.prices)


def _price_rows(
    store_id: str, product_id: str, variant_id: str, prices: Iterable[Price]
) -> list[VariantPrice]:
    return [
        VariantPrice(
            id=new_id("price"),
            store=store_id,
            product=product_id,
            variant=variant_id,
            currency=p.currency,
            amount=p.amount,
        )
        for p in prices
    ]


def _translation_row(
    store_id: str, product_id: str, locale: str, t: Translation
) -> ProductTranslation:
    return ProductTranslation(
        id=new_id("ptr"),
        store=store_id,
        product=product_id,
        locale=locale,
        title=t.title,
        subtitle=t.subtitle,
        description=t.description,
    )


def _membership_rows(
    store_id: str, product_id: str, collection_ids: list[str]
) -> list[CollectionProduct]:
    return [
        CollectionProduct(
            id=new_id("cp"), store=store_id, collection=cid, product=product_id, position=i
        )
        for i, cid in enumerate(collection_ids)
    ]


async def refresh_from_prices(store_id: str, product_id: str) -> None:
    """Recompute the product's lowest price per currency (inside the write transaction)."""
    rows = await VariantPrice.raw(
        "SELECT currency, MIN(amount) AS amount FROM variant_prices "
        "WHERE product = {} GROUP BY currency",
        product_id,
    )
    await ProductPrice.delete().where(ProductPrice.product == product_id)
    await _insert(
        [
            ProductPrice(
                id=new_id("pp"),
                store=store_id,
                product=product_id,
                currency=row["currency"],
                min_amount=row["amount"],
            )
            for row in rows
        ]
    )


async def _insert(rows: Sequence[Any]) -> None:
    if rows:
        await type(rows[0]).insert(*rows)


# ---------------------------------------------------------------------------
# Products
# ---------------------------------------------------------------------------


async def create_product(store_id: str, data: ProductCreate) -> ProductRead:
    """Create a product with its variants, prices, translations and collections."""
    issues = Issues()
    translations = parse_translations(issues, "translations", data.translations)
    default_locale = await store_default_locale(store_id)
    if default_locale not in translations:
        issues.add("translations", "default_locale_required", locale=default_locale)
    for i, variant in enumerate(data.variants):
        _check_variant(issues, f"variants[{i}].", variant, data.options)
    issues.unique("variants.sku", [v.sku for v in data.variants])
    for i, media in enumerate(data.media):
        issues.http_url(f"media[{i}].url", media.url)
    await _check_collections(issues, store_id, data.collection_ids)
    issues.raise_if_any()

    stamp = now()
    product = Product(
        id=new_id("prod"),
        store=store_id,
        handle=data.handle,
        status=data.status,
        options=msgspec.to_builtins(data.options),
        media=msgspec.to_builtins(data.media),
        tags=data.tags,
        tax_category=data.tax_category,
        created_at=stamp,
        updated_at=stamp,
    )
    variants, prices = [], []
    for position, v in enumerate(data.variants):
        row, price_rows = _variant_rows(store_id, product.id, v, position)
        variants.append(row)
        prices.extend(price_rows)

    async def write() -> None:
        async with transaction():
            if await Product.exists().where(
                (Product.store == store_id) & (Product.handle == data.handle)
            ):
                raise CaravanError(errors.PRODUCT_HANDLE_TAKEN, handle=data.handle)
            await _check_skus_free(store_id, [v.sku for v in data.variants])
            await product.save()
            await _insert(
                [
                    _translation_row(store_id, product.id, loc, t)
                    for loc, t in translations.items()
                    if t is not None
                ]
            )
            await _insert(variants)
            await _insert(prices)
            await refresh_from_prices(store_id, product.id)
            await _insert(_membership_rows(store_id, product.id, data.collection_ids))
            await bump_catalog_version(store_id)

    await unique_or_conflict(write(), errors.PRODUCT_HANDLE_TAKEN, handle=data.handle)
    await catalog_changed(store_id)
    return await get_product(store_id, product.id)


async def _product_options(store_id: str, product_id: str) -> list[OptionDef]:
    row = (
        await Product.select(Product.options)
        .where((Product.id == product_id) & (Product.store == store_id))
        .output(load_json=True)
        .first()
    )
    if row is None:
        raise CaravanError(errors.PRODUCT_NOT_FOUND, id=product_id)
    return msgspec.convert(row["options"], list[OptionDef])


async def update_product(store_id: str, product_id: str, data: ProductUpdate) -> ProductRead:
    """Change a product; translations merge by locale, collections are replaced."""
    current_options = await _product_options(store_id, product_id)
    issues = Issues()
    translations = parse_translations(issues, "translations", data.translations or {})
    if translations:
        default_locale = await store_default_locale(store_id)
        if default_locale in translations and translations[default_locale] is None:
            issues.add(
                f"translations.{default_locale}", "default_locale_required", locale=default_locale
            )
    for i, media in enumerate(data.media or []):
        issues.http_url(f"media[{i}].url", media.url)
    if data.collection_ids is not None:
        await _check_collections(issues, store_id, data.collection_ids)
    if data.options is not None and data.options != current_options:
        # Variants must still fit the new options.
        rows = (
            await Variant.select(Variant.id, Variant.options)
            .where(Variant.product == product_id)
            .output(load_json=True)
        )
        allowed = {o.name: set(o.values) for o in data.options}
        for row in rows:
            for name, value in row["options"].items():
                if name not in allowed or value not in allowed[name]:
                    issues.add(f"options.{name}", "invalid_choice")
    issues.raise_if_any()

    values: dict[Any, Any] = {Product.updated_at: now()}
    if data.handle is not None:
        values[Product.handle] = data.handle
    if data.status is not None:
        values[Product.status] = data.status
    if data.options is not None:
        values[Product.options] = msgspec.to_builtins(data.options)
    if data.media is not None:
        values[Product.media] = msgspec.to_builtins(data.media)
    if data.tags is not None:
        values[Product.tags] = data.tags
    if data.tax_category is not None:
        values[Product.tax_category] = data.tax_category
    where = (Product.id == product_id) & (Product.store == store_id)

    async def write() -> None:
        async with transaction():
            if data.handle is not None and await Product.exists().where(
                (Product.store == store_id)
                & (Product.handle == data.handle)
                & (Product.id != product_id)
            ):
                raise CaravanError(errors.PRODUCT_HANDLE_TAKEN, handle=data.handle)
            await Product.update(values).where(where)
            for locale, t in translations.items():
                await ProductTranslation.delete().where(
                    (ProductTranslation.product == product_id)
                    & (ProductTranslation.locale == locale)
                )
                if t is not None:
                    await _translation_row(store_id, product_id, locale, t).save()
            if data.collection_ids is not None:
                await CollectionProduct.delete().where(CollectionProduct.product == product_id)
                await _insert(_membership_rows(store_id, product_id, data.collection_ids))
            await bump_catalog_version(store_id)

    await unique_or_conflict(write(), errors.PRODUCT_HANDLE_TAKEN, handle=data.handle)
    await catalog_changed(store_id)
    return await get_product(store_id, product_id)


async def delete_product(store_id: str, product_id: str) -> None:
    """Delete a product with its variants, prices, translations and memberships."""
    async with transaction():
        found = (
            await Product.select(Product.id)
            .where((Product.id == product_id) & (Product.store == store_id))
            .first()
        )
        if found is None:
            raise CaravanError(errors.PRODUCT_NOT_FOUND, id=product_id)
        for table in (ProductPrice, VariantPrice, Variant, ProductTranslation, CollectionProduct):
            await table.delete().where(table.product == product_id)
        await Product.delete().where(Product.id == product_id)
        await bump_catalog_version(store_id)
    await catalog_changed(store_id)


# ---------------------------------------------------------------------------
# Variants
# ---------------------------------------------------------------------------


async def add_variant(store_id: str, product_id: str, data: VariantCreate) -> VariantRead:
    """Add a variant (with its prices) to a product."""
    options = await _product_options(store_id, product_id)
    issues = Issues()
    _check_variant(issues, "", data, options)
    issues.raise_if_any()
    count = await Variant.count().where(Variant.product == product_id)
    row, prices = _variant_rows(store_id, product_id, data, count)

    async def write() -> None:
        async with transaction():
            await _check_skus_free(store_id, [data.sku])
            await row.save()
            await _insert(prices)
            await refresh_from_prices(store_id, product_id)
            await Product.update({Product.updated_at: now()}).where(Product.id == product_id)
            await bump_catalog_version(store_id)

    await unique_or_conflict(write(), errors.SKU_TAKEN, sku=data.sku)
    await catalog_changed(store_id)
    return await get_variant(store_id, product_id, row.id)


async def update_variant(
    store_id: str, product_id: str, variant_id: str, data: VariantUpdate
) -> VariantRead:
    """Change a variant; ``prices``, when given, replaces all its prices."""
    options = await _product_options(store_id, product_id)
    await get_variant(store_id, product_id, variant_id)
    issues = Issues()
    _check_variant(issues, "", data, options)
    issues.raise_if_any()
    values: dict[Any, Any] = {}
    for field in (
        "sku",
        "barcode",
        "options",
        "weight_g",
        "length_mm",
        "width_mm",
        "height_mm",
        "hs_code",
        "origin_country",
    ):
        value = getattr(data, field)
        if value is not None:
            values[getattr(Variant, field)] = value

    async def write() -> None:
        async with transaction():
            if data.sku is not None:
                await _check_skus_free(store_id, [data.sku], except_variant=variant_id)
            if values:
                await Variant.update(values).where(Variant.id == variant_id)
            if data.prices is not None:
                await VariantPrice.delete().where(VariantPrice.variant == variant_id)
                await _insert(_price_rows(store_id, product_id, variant_id, data.prices))
                await refresh_from_prices(store_id, product_id)
            await Product.update({Product.updated_at: now()}).where(Product.id == product_id)
            await bump_catalog_version(store_id)

    await unique_or_conflict(write(), errors.SKU_TAKEN, sku=data.sku)
    await catalog_changed(store_id)
    return await get_variant(store_id, product_id, variant_id)


async def delete_variant(store_id: str, product_id: str, variant_id: str) -> None:
    """Delete a variant; a product keeps at least one."""
    await get_variant(store_id, product_id, variant_id)
    async with transaction():
        if await Variant.count().where(Variant.product == product_id) <= 1:
            raise CaravanError(errors.LAST_VARIANT)
        await VariantPrice.delete().where(VariantPrice.variant == variant_id)
        await Variant.delete().where(Variant.id == variant_id)
        await refresh_from_prices(store_id, product_id)
        await bump_catalog_version(store_id)
    await catalog_changed(store_id)


# ---------------------------------------------------------------------------
# Admin reads
# ---------------------------------------------------------------------------


def _variant_read(row: dict[str, Any], prices: list[Price]) -> VariantRead:
    return VariantRead(
        id=row["id"],
        sku=row["sku"],
        barcode=row["barcode"],
        options=row["options"],
        weight_g=row["weight_g"],
        length_mm=row["length_mm"],
        width_mm=row["width_mm"],
        height_mm=row["height_mm"],
        hs_code=row["hs_code"],
        origin_country=row["origin_country"] or None,
        prices=prices,
    )


async def load_products(store_id: str, ids: list[str]) -> list[ProductRead]:
    """Full admin views of ``ids`` (in that order), in five queries."""
    if not ids:
        return []
    products = (
        await Product.select()
        .where((Product.store == store_id) & Product.id.is_in(ids))
        .output(load_json=True)
    )
    translations = await ProductTranslation.select(
        ProductTranslation.product,
        ProductTranslation.locale,
        ProductTranslation.title,
        ProductTranslation.subtitle,
        ProductTranslation.description,
    ).where(ProductTranslation.product.is_in(ids))
    variants = (
        await Variant.select()
        .where(Variant.product.is_in(ids))
        .order_by(Variant.position)
        .order_by(Variant.id)
        .output(load_json=True)
    )
    prices = (
        await VariantPrice.select(VariantPrice.variant, VariantPrice.currency, VariantPrice.amount)
        .where(VariantPrice.product.is_in(ids))
        .order_by(VariantPrice.currency)
    )
    memberships = (
        await CollectionProduct.select(CollectionProduct.product, CollectionProduct.collection)
        .where(CollectionProduct.product.is_in(ids))
        .order_by(CollectionProduct.position)
    )

    by_variant: dict[str, list[Price]] = {}
    for p in prices:
        by_variant.setdefault(p["variant"], []).append(
            Price(amount=p["amount"], currency=p["currency"])
        )
    by_product_variants: dict[str, list[VariantRead]] = {}
    for v in variants:
        by_product_variants.setdefault(v["product"], []).append(
            _variant_read(v, by_variant.get(v["id"], []))
        )
    by_product_tr: dict[str, dict[str, Translation]] = {}
    for t in sorted(translations, key=lambda t: t["locale"]):
        by_product_tr.setdefault(t["product"], {})[t["locale"]] = Translation(
            title=t["title"], subtitle=t["subtitle"], description=t["description"]
        )
    by_product_cols: dict[str, list[str]] = {}
    for m in memberships:
        by_product_cols.setdefault(m["product"], []).append(m["collection"])

    rows = {p["id"]: p for p in products}
    return [
        ProductRead(
            id=pid,
            handle=rows[pid]["handle"],
            status=rows[pid]["status"],
            translations=by_product_tr.get(pid, {}),
            options=msgspec.convert(rows[pid]["options"], list[OptionDef]),
            media=msgspec.convert(rows[pid]["media"], list[MediaItem]),
            tags=rows[pid]["tags"],
            tax_category=rows[pid]["tax_category"],
            variants=by_product_variants.get(pid, []),
            collection_ids=by_product_cols.get(pid, []),
            created_at=rows[pid]["created_at"],
            updated_at=rows[pid]["updated_at"],
        )
        for pid in ids
        if pid in rows
    ]


async def get_product(store_id: str, product_id: str) -> ProductRead:
    """One product of the store, or 404."""
    found = await load_products(store_id, [product_id])
    if not found:
        raise CaravanError(errors.PRODUCT_NOT_FOUND, id=product_id)
    return found[0]


async def get_variant(store_id: str, product_id: str, variant_id: str) -> VariantRead:
    """One variant of a product of the store, or 404."""
    row = (
        await Variant.select()
        .where(
            (Variant.id == variant_id)
            & (Variant.product == product_id)
            & (Variant.store == store_id)
        )
        .output(load_json=True)
        .first()
    )
    if row is None:
        raise CaravanError(errors.VARIANT_NOT_FOUND, id=variant_id)
    prices = (
        await VariantPrice.select(VariantPrice.currency, VariantPrice.amount)
        .where(VariantPrice.variant == variant_id)
        .order_by(VariantPrice.currency)
    )
    return _variant_read(row, [Price(amount=p["amount"], currency=p["currency"]) for p in prices])


async def list_products(store_id: str, query: Any) -> Page[ProductRead]:
    """The admin product listing (filters and sorting as on the storefront, plus status)."""
    ids, next_cursor = await listing.select_product_ids(store_id, query)
    return Page(items=await load_products(store_id, ids), next_cursor=next_cursor)
