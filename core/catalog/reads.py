"""Storefront catalog reads: filtering, sorting, keyset pagination of products, and the
read path with its cache of encoded responses.

Storefront reads are served from an in-process cache keyed by store, region,
locale, the normalised query and the store's catalog version (bumped by every
catalog write), so a repeated read costs a few dictionary lookups. A miss
costs four queries whatever the page size: ids of the page, then
translations, variants and prices of those ids.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal, TypeVar

import msgspec

from core.catalog import errors
from core.catalog.schemas import (
    MediaItem,
    OptionDef,
    PriceView,
    Sort,
    StoreCollection,
    StoreCollectionPage,
    StoreProduct,
    StoreProductPage,
    StoreVariant,
    Translation,
)
from core.catalog.tables import Collection, Product
from core.db.engine import fetch, placeholders
from core.kernel.cache import LRUCache
from core.kernel.errors import VALIDATION_FAILED, CaravanError, FieldIssue
from core.kernel.money import format_money
from core.kernel.pagination import decode_cursor, encode_cursor
from core.kernel.scope import Cached, app_scope
from core.stores.context import Shopper
from core.stores.tables import Store
from core.web.etags import etag_of
from core.web.responses import EncodedResponse

#: A translation (of any shape) picked by locale.
T = TypeVar("T")


class ProductQuery(msgspec.Struct, frozen=True, kw_only=True):
    """Filters, order and page of a product listing."""

    status: tuple[str, ...] = ("active",)
    collection: str | None = None
    collection_by: Literal["handle", "id"] = "handle"
    q: str | None = None
    currency: str | None = None
    min_price: int | None = None
    max_price: int | None = None
    require_price: bool = False
    sort: Sort = "newest"
    limit: int = 20
    cursor: str | None = None


# ---------------------------------------------------------------------------
# The id query
# ---------------------------------------------------------------------------

_ORDER = {
    "newest": ("x.id DESC", None),
    "oldest": ("x.id ASC", None),
    "handle": ("x.handle ASC, x.id ASC", "handle"),
    "price_asc": ("x.min_price ASC, x.id ASC", "min_price"),
    "price_desc": ("x.min_price DESC, x.id DESC", "min_price"),
}


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class _Sql:
    """Fixed SQL fragments and their bound values, in order."""

    def __init__(self) -> None:
        self.conditions: list[str] = []
        self.args: list[Any] = []

    def where(self, fragment: str, *args: Any) -> None:
        self.conditions.append(fragment)
        self.args.extend(args)


def _product_filters(sql: _Sql, store_id: str, query: ProductQuery) -> None:
    """Conditions on ``p`` (products): status, collection, search text."""
    sql.where("p.status IN (" + placeholders(query.status) + ")", *query.status)
    if query.collection is not None:
        column = "c.handle" if query.collection_by == "handle" else "c.id"
        sql.where(
            "EXISTS (SELECT 1 FROM collection_products cp JOIN collections c "  # noqa: S608
            "ON c.id = cp.collection WHERE cp.product = p.id AND c.store = {} "
            f"AND {column} = {{}})",
            store_id,
            query.collection,
        )
    if query.q:
        pattern = _like(query.q)
        sql.where(
            "(LOWER(p.handle) LIKE {} ESCAPE '\\' "
            "OR EXISTS (SELECT 1 FROM product_translations t WHERE t.product = p.id "
            "AND LOWER(t.title) LIKE {} ESCAPE '\\') "
            "OR EXISTS (SELECT 1 FROM variants v WHERE v.product = p.id "
            "AND LOWER(v.sku) LIKE {} ESCAPE '\\'))",
            pattern,
            pattern,
            pattern,
        )


def _price_bounds(sql: _Sql, column: str, query: ProductQuery) -> None:
    if query.min_price is not None:
        sql.where(f"{column} >= {{}}", query.min_price)
    if query.max_price is not None:
        sql.where(f"{column} <= {{}}", query.max_price)


async def select_product_ids(store_id: str, query: ProductQuery) -> tuple[list[str], str | None]:
    """Return the ids of one page of products and the cursor of the next page.

    Sorting by price walks the ``product_prices`` index (store, currency,
    lowest price, product) and stops after one page; other orders walk the
    products in id or handle order and test prices with an indexed lookup.
    """
    price_sort = query.sort.startswith("price")
    price_bound = query.min_price is not None or query.max_price is not None
    if query.currency is None and (price_sort or price_bound):
        raise CaravanError(VALIDATION_FAILED, errors=[FieldIssue("currency", "currency_required")])

    sql = _Sql()
    if price_sort:
        source = (
            "SELECT pp.product AS id, p.handle AS handle, pp.min_amount AS min_price "
            "FROM product_prices pp JOIN products p ON p.id = pp.product"
        )
        sql.where("pp.store = {}", store_id)
        sql.where("pp.currency = {}", query.currency)
        _price_bounds(sql, "pp.min_amount", query)
    else:
        source = "SELECT p.id AS id, p.handle AS handle, NULL AS min_price FROM products p"
        sql.where("p.store = {}", store_id)
        if query.require_price or price_bound:
            priced = _Sql()
            priced.where("pp.product = p.id")
            priced.where("pp.currency = {}", query.currency)
            _price_bounds(priced, "pp.min_amount", query)
            sql.where(
                "EXISTS (SELECT 1 FROM product_prices pp WHERE "  # noqa: S608
                + " AND ".join(priced.conditions)
                + ")",
                *priced.args,
            )
    _product_filters(sql, store_id, query)

    order, key = _ORDER[query.sort]
    descending = query.sort in ("newest", "price_desc")
    after = _Sql()
    if query.cursor is not None:
        op = "<" if descending else ">"
        if key is None:
            (last_id,) = decode_cursor(query.cursor, 1)
            after.where(f"x.id {op} {{}}", str(last_id))
        else:
            value, last_id = decode_cursor(query.cursor, 2)
            if (key == "min_price") != isinstance(value, int):
                raise CaravanError(
                    VALIDATION_FAILED, errors=[FieldIssue("cursor", "invalid_cursor")]
                )
            after.where(
                f"(x.{key} {op} {{}} OR (x.{key} = {{}} AND x.id {op} {{}}))",
                value,
                value,
                str(last_id),
            )

    # Only fixed fragments are joined here; every value is a bound parameter.
    text = f"SELECT x.id, x.handle, x.min_price FROM ({source} WHERE "  # noqa: S608
    text += " AND ".join(sql.conditions) + ") x"
    if after.conditions:
        text += " WHERE " + " AND ".join(after.conditions)
    text += f" ORDER BY {order} LIMIT {{}}"
    rows = await fetch(text, *sql.args, *after.args, query.limit + 1)

    more = len(rows) > query.limit
    rows = rows[: query.limit]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = encode_cursor([last["id"]] if key is None else [last[key], last["id"]])
    return [r["id"] for r in rows], next_cursor


# ---------------------------------------------------------------------------
# Storefront views
# ---------------------------------------------------------------------------


def content_locales(locale: str, store_locale: str) -> list[str]:
    """Locales to look for content in, best first: ``de_AT``, ``de``, the store's."""
    chain = []
    parts = locale.split("_")
    for end in range(len(parts), 0, -1):
        chain.append("_".join(parts[:end]))
    if store_locale not in chain:
        chain.append(store_locale)
    return chain


def pick_translation(available: dict[str, T], chain: list[str]) -> tuple[str, T] | None:
    """The best translation for ``chain`` (else the first by locale)."""
    for locale in chain:
        if locale in available:
            return locale, available[locale]
    if available:
        first = min(available)
        return first, available[first]
    return None


def _price(amount: int, currency: str, locale: str) -> PriceView:
    return PriceView(
        amount=amount, currency=currency, formatted=format_money(amount, currency, locale)
    )


_VariantOptions = dict[str, str]


def _decode(value: Any, kind: Any) -> Any:
    """A JSON column as ``kind``: text from the driver, or already decoded."""
    if isinstance(value, str | bytes):
        return msgspec.json.decode(value, type=kind)
    return msgspec.convert(value, kind)


async def store_products(shopper: Shopper, ids: list[str]) -> list[StoreProduct]:
    """Storefront views of ``ids``: one locale, prices in the region's currency."""
    if not ids:
        return []
    store_id = shopper.context.store_id
    currency = shopper.region.currency
    locale = shopper.locale
    chain = content_locales(locale, shopper.context.store_locale)
    # Four independent reads of fixed SQL, side by side on the pool's
    # connections. Content is read in the fallback chain only: every product
    # has content in the store's default locale, which ends the chain.
    in_ids = placeholders(ids)
    products, translations, variants, prices = await asyncio.gather(
        fetch(
            f"SELECT id, handle, options, media, tags FROM products "  # noqa: S608
            f"WHERE store = {{}} AND id IN ({in_ids})",
            store_id,
            *ids,
        ),
        fetch(
            "SELECT product, locale, title, subtitle, description "  # noqa: S608
            f"FROM product_translations WHERE product IN ({in_ids}) "
            f"AND locale IN ({placeholders(chain)})",
            *ids,
            *chain,
        ),
        fetch(
            "SELECT id, product, sku, options, weight_g FROM variants "  # noqa: S608
            f"WHERE product IN ({in_ids}) ORDER BY position, id",
            *ids,
        ),
        fetch(
            "SELECT variant, amount FROM variant_prices "  # noqa: S608
            f"WHERE product IN ({in_ids}) AND currency = {{}}",
            *ids,
            currency,
        ),
    )

    price_of = {p["variant"]: p["amount"] for p in prices}
    content: dict[str, dict[str, Translation]] = {}
    for t in translations:
        content.setdefault(t["product"], {})[t["locale"]] = Translation(
            title=t["title"], subtitle=t["subtitle"], description=t["description"]
        )
    sellable: dict[str, list[StoreVariant]] = {}
    for v in variants:
        amount = price_of.get(v["id"])
        if amount is None:
            continue  # not sold in this currency
        sellable.setdefault(v["product"], []).append(
            StoreVariant(
                id=v["id"],
                sku=v["sku"],
                options=_decode(v["options"], _VariantOptions),
                weight_g=v["weight_g"],
                price=_price(amount, currency, locale),
            )
        )
    rows = {p["id"]: p for p in products}
    out = []
    for pid in ids:
        row = rows.get(pid)
        chosen = pick_translation(content.get(pid, {}), chain)
        product_variants = sellable.get(pid)
        if row is None or chosen is None or not product_variants:
            continue
        content_locale, text = chosen
        cheapest = min(v.price.amount for v in product_variants)
        out.append(
            StoreProduct(
                id=pid,
                handle=row["handle"],
                locale=content_locale,
                title=text.title,
                subtitle=text.subtitle,
                description=text.description,
                options=_decode(row["options"], list[OptionDef]),
                media=_decode(row["media"], list[MediaItem]),
                tags=_decode(row["tags"], list[str]),
                price=_price(cheapest, currency, locale),
                variants=product_variants,
            )
        )
    return out


# ---------------------------------------------------------------------------
# Cache of encoded storefront responses
# ---------------------------------------------------------------------------

CACHE_CONTROL = b"public, max-age=0, must-revalidate"
VARY = b"X-Publishable-Key, X-Region, Accept-Language"


class Encoded(msgspec.Struct, frozen=True):
    """A storefront answer ready to send: 200 with the body, or 304 for its ETag."""

    etag: str
    ok: EncodedResponse
    not_modified: EncodedResponse
    found: bool


_encoder = msgspec.json.Encoder()
#: Each store's catalog version, trusted for the settings' ``cache_ttl``.
_versions: Cached[str, int] = Cached("catalog.versions")


def _responses() -> LRUCache[tuple[Any, ...], Encoded]:
    """The application's encoded answers (``cache_entries`` of them at most)."""
    return app_scope().memo("catalog.responses", lambda settings: LRUCache(settings.cache_entries))


def forget_version(store_id: str) -> None:
    """Drop the cached catalog version of ``store_id`` (after this process wrote)."""
    _versions.get().discard(store_id)


async def catalog_version(store_id: str) -> int:
    """The store's current catalog version (re-read at most every ``cache_ttl`` seconds)."""

    async def load() -> int:
        row = await Store.select(Store.catalog_version).where(Store.id == store_id).first()
        return int(row["catalog_version"]) if row else 0

    return await _versions.get().get_or_load(store_id, load)


def _encoded(value: Any, locale: str) -> Encoded:
    body = _encoder.encode(value)
    etag = etag_of(body)
    common = [
        (b"etag", etag.encode()),
        (b"cache-control", CACHE_CONTROL),
        (b"vary", VARY),
        (b"content-language", locale.replace("_", "-").encode()),
    ]
    ok = EncodedResponse(
        200,
        [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *common,
        ],
        body,
    )
    return Encoded(
        etag=etag, ok=ok, not_modified=EncodedResponse(304, common, b""), found=value is not None
    )


async def cached(key: tuple[Any, ...], shopper: Shopper, build: Any) -> Encoded:
    """Return the encoded answer for ``key`` under the store's current catalog version."""
    store_id = shopper.context.store_id
    full_key = (store_id, await catalog_version(store_id), shopper.locale, *key)
    responses = _responses()
    hit = responses.get(full_key)
    if hit is None:
        hit = _encoded(await build(), shopper.locale)
        responses.set(full_key, hit)
    return hit


async def product_page(shopper: Shopper, query: ProductQuery) -> Encoded:
    """The encoded storefront listing page for ``query``."""
    region = shopper.region
    query = msgspec.structs.replace(query, currency=region.currency, require_price=True)

    async def build() -> StoreProductPage:
        ids, next_cursor = await select_product_ids(shopper.context.store_id, query)
        return StoreProductPage(
            items=await store_products(shopper, ids),
            next_cursor=next_cursor,
            region=region.code,
            currency=region.currency,
            locale=shopper.locale,
        )

    return await cached(("products", region.code, query), shopper, build)


async def product_by_handle(shopper: Shopper, handle: str) -> Encoded:
    """The encoded storefront view of one active product, or 404."""
    store_id = shopper.context.store_id

    async def build() -> StoreProduct | None:
        row = (
            await Product.select(Product.id)
            .where(
                (Product.store == store_id)
                & (Product.handle == handle)
                & (Product.status == "active")
            )
            .first()
        )
        found = await store_products(shopper, [row["id"]]) if row else []
        return found[0] if found else None

    page = await cached(("product", shopper.region.code, handle), shopper, build)
    if not page.found:
        raise CaravanError(errors.PRODUCT_NOT_FOUND, id=handle)
    return page


def _store_collection(row: dict[str, Any], chain: list[str]) -> StoreCollection:
    translations = msgspec.convert(row["translations"], dict[str, Translation])
    chosen = pick_translation(translations, chain)
    locale, t = chosen if chosen else ("", Translation(title=row["handle"]))
    return StoreCollection(
        id=row["id"], handle=row["handle"], locale=locale, title=t.title, description=t.description
    )


async def collection_page(shopper: Shopper, limit: int, cursor: str | None) -> Encoded:
    """The encoded storefront collection listing, ordered by handle."""
    store_id = shopper.context.store_id
    chain = content_locales(shopper.locale, shopper.context.store_locale)

    async def build() -> StoreCollectionPage:
        query = Collection.select(Collection.id, Collection.handle, Collection.translations).where(
            Collection.store == store_id
        )
        if cursor is not None:
            (last,) = decode_cursor(cursor, 1)
            query = query.where(Collection.handle > str(last))
        rows = await query.order_by(Collection.handle).limit(limit + 1).output(load_json=True)
        more = len(rows) > limit
        rows = rows[:limit]
        return StoreCollectionPage(
            items=[_store_collection(r, chain) for r in rows],
            next_cursor=encode_cursor([rows[-1]["handle"]]) if more and rows else None,
        )

    return await cached(("collections", limit, cursor), shopper, build)


async def collection_by_handle(shopper: Shopper, handle: str) -> Encoded:
    """The encoded storefront view of one collection, or 404."""
    store_id = shopper.context.store_id
    chain = content_locales(shopper.locale, shopper.context.store_locale)

    async def build() -> StoreCollection | None:
        row = (
            await Collection.select(Collection.id, Collection.handle, Collection.translations)
            .where((Collection.store == store_id) & (Collection.handle == handle))
            .output(load_json=True)
            .first()
        )
        return _store_collection(row, chain) if row else None

    page = await cached(("collection", handle), shopper, build)
    if not page.found:
        raise CaravanError(errors.COLLECTION_NOT_FOUND, id=handle)
    return page
