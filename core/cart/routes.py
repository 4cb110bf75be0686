"""Storefront routes of carts."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, delete, get, patch, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from core.auth.guards import needs, store_id_of
from core.cart import reading, service
from core.cart.schemas import (
    CartCreate,
    CartRead,
    CartSummary,
    CartUpdate,
    LineUpdate,
    LineWrite,
    ShippingMethodWrite,
    ShippingOptionRead,
)
from core.customers.service import customer_from_request
from core.kernel.pagination import Cursor, Limit, Page
from core.stores.context import shopper, storefront

AnyRequest = Request[Any, Any, Any]


class CartsController(Controller):
    """Shoppers: carts, their lines, addresses and shipping."""

    path = "/store/carts"
    tags = ["store: carts"]

    @post("/", operation_id="storeCreateCart")
    async def create_cart(self, request: AnyRequest, data: JSONBody[CartCreate]) -> CartRead:
        """Open a cart in a region (``region``, else ``X-Region``, else the storefront's default).

        A logged-in customer's cart belongs to them.
        """
        who = await shopper(request, data.region, data.locale)
        customer = await customer_from_request(request)
        return await service.create_cart(who, data, customer.id if customer else None)

    @get("/{cart_id:str}", operation_id="storeGetCart")
    async def get_cart(self, request: AnyRequest, cart_id: FromPath[str]) -> CartRead:
        """Read a cart."""
        context = await storefront(request)
        return await reading.get_cart(context.store_id, cart_id)

    @patch("/{cart_id:str}", operation_id="storeUpdateCart")
    async def update_cart(
        self, request: AnyRequest, cart_id: FromPath[str], data: JSONBody[CartUpdate]
    ) -> CartRead:
        """Set the email, locale, addresses (the shipping country must be in the region) or
        the referral code of the KOL who sent the shopper."""
        context = await storefront(request)
        return await service.update_cart(context.store_id, cart_id, data)

    @post("/{cart_id:str}/lines", operation_id="storeAddCartLine")
    async def add_line(
        self, request: AnyRequest, cart_id: FromPath[str], data: JSONBody[LineWrite]
    ) -> CartRead:
        """Add a variant (a variant already in the cart gets its quantity raised)."""
        context = await storefront(request)
        return await service.add_line(context.store_id, cart_id, data)

    @patch("/{cart_id:str}/lines/{line_id:str}", operation_id="storeUpdateCartLine")
    async def update_line(
        self,
        request: AnyRequest,
        cart_id: FromPath[str],
        line_id: FromPath[str],
        data: JSONBody[LineUpdate],
    ) -> CartRead:
        """Change a line's quantity (1-999)."""
        context = await storefront(request)
        return await service.update_line(context.store_id, cart_id, line_id, data.quantity)

    @delete(
        "/{cart_id:str}/lines/{line_id:str}", operation_id="storeRemoveCartLine", status_code=200
    )
    async def remove_line(
        self, request: AnyRequest, cart_id: FromPath[str], line_id: FromPath[str]
    ) -> CartRead:
        """Remove a line; answers the cart."""
        context = await storefront(request)
        return await service.remove_line(context.store_id, cart_id, line_id)

    @get("/{cart_id:str}/shipping-options", operation_id="storeListShippingOptions")
    async def shipping_options(
        self, request: AnyRequest, cart_id: FromPath[str]
    ) -> list[ShippingOptionRead]:
        """The ways to ship the cart to its shipping address, cheapest first."""
        context = await storefront(request)
        return await service.shipping_options(context.store_id, cart_id)

    @put("/{cart_id:str}/shipping-method", operation_id="storeSetShippingMethod")
    async def set_shipping_method(
        self, request: AnyRequest, cart_id: FromPath[str], data: JSONBody[ShippingMethodWrite]
    ) -> CartRead:
        """Choose one of the offered shipping options."""
        context = await storefront(request)
        return await service.set_shipping_method(context.store_id, cart_id, data)


CartStatus = Annotated[
    Literal["open", "completed"] | None,
    QueryParameter(description="Only carts in this status (open: not checked out yet)."),
]


class AdminCartsController(Controller):
    """Store staff: carts, e.g. checkouts started and not completed."""

    path = "/admin/carts"
    tags = ["admin: carts"]

    @get("/", opt=needs("orders:read"), operation_id="listCarts")
    async def list_carts(
        self,
        request: AnyRequest,
        status: CartStatus = None,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> Page[CartSummary]:
        """The store's carts, newest first."""
        return await reading.list_carts(
            store_id_of(request), status=status, limit=limit, cursor=cursor
        )

    @get("/{cart_id:str}", opt=needs("orders:read"), operation_id="getCart")
    async def get_cart(self, request: AnyRequest, cart_id: FromPath[str]) -> CartRead:
        """One cart with its lines, addresses and totals."""
        return await reading.get_cart(store_id_of(request), cart_id)


STORE_ROUTES = [CartsController]
ADMIN_ROUTES = [AdminCartsController]
