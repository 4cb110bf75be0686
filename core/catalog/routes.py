"""Admin routes of the catalog and the storefront's product and collection reads."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_204_NO_CONTENT
from litestar.types import ASGIApp

from core.auth.guards import needs, store_id_of
from core.catalog import collections, service
from core.catalog import reads as listing
from core.catalog.reads import ProductQuery
from core.catalog.schemas import (
    CollectionCreate,
    CollectionRead,
    CollectionUpdate,
    ProductCreate,
    ProductRead,
    ProductUpdate,
    Sort,
    Status,
    StoreCollection,
    StoreCollectionPage,
    StoreProduct,
    StoreProductPage,
    VariantCreate,
    VariantRead,
    VariantUpdate,
)
from core.kernel.money import MAX_AMOUNT
from core.kernel.pagination import Cursor, Limit, Page
from core.stores.context import LocaleParam, RegionParam, raw_headers, shopper
from core.web.etags import etag_matches

AnyRequest = Request[Any, Any, Any]

Search = Annotated[
    str | None,
    QueryParameter(min_length=1, max_length=100, description="Text in title, handle or SKU."),
]
MinPrice = Annotated[
    int | None,
    QueryParameter(ge=0, le=MAX_AMOUNT, description="Lowest 'from' price, in minor units."),
]
MaxPrice = Annotated[
    int | None,
    QueryParameter(ge=0, le=MAX_AMOUNT, description="Highest 'from' price, in minor units."),
]
CollectionHandle = Annotated[
    str | None,
    QueryParameter(max_length=128, description="Only products of this collection (handle)."),
]
CollectionId = Annotated[
    str | None, QueryParameter(max_length=40, description="Only products of this collection (id).")
]
CurrencyParam = Annotated[
    str | None,
    QueryParameter(
        pattern=r"^[A-Z]{3}$", description="Currency of price filters, sorting and `from` prices."
    ),
]
StatusParam = Annotated[
    Status | None, QueryParameter(description="Only products in this status (default: all).")
]
SortParam = Annotated[Sort, QueryParameter(description="Order of the listing.")]
Handle = FromPath[str]


def _storefront(request: AnyRequest, page: listing.Encoded) -> ASGIApp:
    """The cached storefront answer, or 304 when the client already has it."""
    match = raw_headers(request).get(b"if-none-match")
    if match and etag_matches(match.decode("latin-1"), page.etag):
        return page.not_modified
    return page.ok


# ---------------------------------------------------------------------------
# Admin
# ---------------------------------------------------------------------------


class ProductsController(Controller):
    """Store staff: products, their variants and prices."""

    path = "/admin/products"
    tags = ["admin: catalog"]

    @post("/", opt=needs("catalog:write"), operation_id="createProduct")
    async def create_product(
        self, request: AnyRequest, data: JSONBody[ProductCreate]
    ) -> ProductRead:
        """Create a product with its variants, prices, translations and collections."""
        return await service.create_product(store_id_of(request), data)

    @get("/", opt=needs("catalog:read"), operation_id="listProducts")
    async def list_products(
        self,
        request: AnyRequest,
        status: StatusParam = None,
        collection_id: CollectionId = None,
        q: Search = None,
        currency: CurrencyParam = None,
        min_price: MinPrice = None,
        max_price: MaxPrice = None,
        sort: SortParam = "newest",
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> Page[ProductRead]:
        """List products with filters, sorting and cursor pagination."""
        query = ProductQuery(
            status=(status,) if status else ("draft", "active", "archived"),
            collection=collection_id,
            collection_by="id",
            q=q,
            currency=currency,
            min_price=min_price,
            max_price=max_price,
            sort=sort,
            limit=limit,
            cursor=cursor,
        )
        return await service.list_products(store_id_of(request), query)

    @get("/{product_id:str}", opt=needs("catalog:read"), operation_id="getProduct")
    async def get_product(self, request: AnyRequest, product_id: FromPath[str]) -> ProductRead:
        """Read one product (every locale, every price)."""
        return await service.get_product(store_id_of(request), product_id)

    @patch("/{product_id:str}", opt=needs("catalog:write"), operation_id="updateProduct")
    async def update_product(
        self, request: AnyRequest, product_id: FromPath[str], data: JSONBody[ProductUpdate]
    ) -> ProductRead:
        """Change a product (translations merge by locale; null removes one)."""
        return await service.update_product(store_id_of(request), product_id, data)

    @delete(
        "/{product_id:str}",
        opt=needs("catalog:write"),
        operation_id="deleteProduct",
        status_code=HTTP_204_NO_CONTENT,
    )
    async def delete_product(self, request: AnyRequest, product_id: FromPath[str]) -> None:
        """Delete a product and everything that belongs to it."""
        await service.delete_product(store_id_of(request), product_id)

    @post("/{product_id:str}/variants", opt=needs("catalog:write"), operation_id="createVariant")
    async def add_variant(
        self, request: AnyRequest, product_id: FromPath[str], data: JSONBody[VariantCreate]
    ) -> VariantRead:
        """Add a variant to a product."""
        return await service.add_variant(store_id_of(request), product_id, data)

    @patch(
        "/{product_id:str}/variants/{variant_id:str}",
        opt=needs("catalog:write"),
        operation_id="updateVariant",
    )
    async def update_variant(
        self,
        request: AnyRequest,
        product_id: FromPath[str],
        variant_id: FromPath[str],
        data: JSONBody[VariantUpdate],
    ) -> VariantRead:
        """Change a variant; `prices`, when given, replaces all its prices."""
        return await service.update_variant(store_id_of(request), product_id, variant_id, data)

    @delete(
        "/{product_id:str}/variants/{variant_id:str}",
        opt=needs("catalog:write"),
        operation_id="deleteVariant",
        status_code=HTTP_204_NO_CONTENT,
    )
    async def delete_variant(
        self, request: AnyRequest, product_id: FromPath[str], variant_id: FromPath[str]
    ) -> None:
        """Delete a variant (not the last one)."""
        await service.delete_variant(store_id_of(request), product_id, variant_id)


class CollectionsController(Controller):
    """Store staff: collections."""

    path = "/admin/collections"
    tags = ["admin: catalog"]

    @post("/", opt=needs("catalog:write"), operation_id="createCollection")
    async def create_collection(
        self, request: AnyRequest, data: JSONBody[CollectionCreate]
    ) -> CollectionRead:
        """Create a collection."""
        return await collections.create_collection(store_id_of(request), data)

    @get("/", opt=needs("catalog:read"), operation_id="listCollections")
    async def list_collections(
        self, request: AnyRequest, limit: Limit = 20, cursor: Cursor = None
    ) -> Page[CollectionRead]:
        """List collections, newest first."""
        return await collections.list_collections(store_id_of(request), limit=limit, cursor=cursor)

    @get("/{collection_id:str}", opt=needs("catalog:read"), operation_id="getCollection")
    async def get_collection(
        self, request: AnyRequest, collection_id: FromPath[str]
    ) -> CollectionRead:
        """Read one collection."""
        return await collections.get_collection(store_id_of(request), collection_id)

    @patch("/{collection_id:str}", opt=needs("catalog:write"), operation_id="updateCollection")
    async def update_collection(
        self, request: AnyRequest, collection_id: FromPath[str], data: JSONBody[CollectionUpdate]
    ) -> CollectionRead:
        """Change a collection."""
        return await collections.update_collection(store_id_of(request), collection_id, data)

    @delete(
        "/{collection_id:str}",
        opt=needs("catalog:write"),
        operation_id="deleteCollection",
        status_code=HTTP_204_NO_CONTENT,
    )
    async def delete_collection(self, request: AnyRequest, collection_id: FromPath[str]) -> None:
        """Delete a collection (its products stay)."""
        await collections.delete_collection(store_id_of(request), collection_id)


# ---------------------------------------------------------------------------
# Storefront
# ---------------------------------------------------------------------------


@get(
    "/store/products",
    operation_id="storeListProducts",
    tags=["store"],
    responses={200: ResponseSpec(StoreProductPage, description="A page of products")},
)
async def store_list_products(
    request: AnyRequest,
    region: RegionParam = None,
    locale: LocaleParam = None,
    collection: CollectionHandle = None,
    q: Search = None,
    min_price: MinPrice = None,
    max_price: MaxPrice = None,
    sort: SortParam = "newest",
    limit: Limit = 20,
    cursor: Cursor = None,
) -> ASGIApp:
    """Active products sold in the region, in the shopper's locale and the region's currency."""
    who = await shopper(request, region, locale)
    query = ProductQuery(
        collection=collection,
        q=q,
        min_price=min_price,
        max_price=max_price,
        sort=sort,
        limit=limit,
        cursor=cursor,
    )
    return _storefront(request, await listing.product_page(who, query))


@get(
    "/store/products/{handle:str}",
    operation_id="storeGetProduct",
    tags=["store"],
    responses={200: ResponseSpec(StoreProduct, description="The product")},
)
async def store_get_product(
    request: AnyRequest, handle: Handle, region: RegionParam = None, locale: LocaleParam = None
) -> ASGIApp:
    """One active product by handle, in the shopper's locale and the region's currency."""
    who = await shopper(request, region, locale)
    return _storefront(request, await listing.product_by_handle(who, handle))


@get(
    "/store/collections",
    operation_id="storeListCollections",
    tags=["store"],
    responses={200: ResponseSpec(StoreCollectionPage, description="A page of collections")},
)
async def store_list_collections(
    request: AnyRequest,
    region: RegionParam = None,
    locale: LocaleParam = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> ASGIApp:
    """The store's collections by handle, in the shopper's locale."""
    who = await shopper(request, region, locale)
    return _storefront(request, await listing.collection_page(who, limit, cursor))


@get(
    "/store/collections/{handle:str}",
    operation_id="storeGetCollection",
    tags=["store"],
    responses={200: ResponseSpec(StoreCollection, description="The collection")},
)
async def store_get_collection(
    request: AnyRequest, handle: Handle, region: RegionParam = None, locale: LocaleParam = None
) -> ASGIApp:
    """One collection by handle, in the shopper's locale."""
    who = await shopper(request, region, locale)
    return _storefront(request, await listing.collection_by_handle(who, handle))


ADMIN_ROUTES = [ProductsController, CollectionsController]
STORE_ROUTES = [
    store_list_products,
    store_get_product,
    store_list_collections,
    store_get_collection,
]
