"""Storefront routes of customer accounts (``/store/customers…``) and the staff's
customer routes (``/admin/customers``)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.connection import ASGIConnection
from litestar.datastructures import CacheControlHeader
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from core.auth.guards import needs, store_id_of
from core.customers import address_book, service
from core.customers.schemas import (
    AddressCreate,
    AddressRead,
    AddressUpdate,
    CustomerAdminUpdate,
    CustomerDetail,
    CustomerLogin,
    CustomerRead,
    CustomerRegister,
    CustomerSessionRead,
    CustomerUpdate,
    PasswordChange,
)
from core.customers.service import require_session
from core.customers.sessions import storefront_of
from core.kernel.errors import PROBLEM_JSON, Problem
from core.kernel.pagination import Cursor, Limit, Page

AnyRequest = Request[Any, Any, Any]
AnyConnection = ASGIConnection[Any, Any, Any, Any]

Search = Annotated[
    str | None,
    QueryParameter(min_length=1, max_length=100, description="Text in the email or name."),
]
_TOO_MANY = {
    429: ResponseSpec(
        Problem,
        description="Too many failed logins of this account; retry after `Retry-After` seconds",
        media_type=PROBLEM_JSON,
    )
}


async def _storefront(connection: AnyConnection, _handler: BaseRouteHandler) -> None:
    """Guard: a valid publishable key (401 before the body is even read)."""
    await storefront_of(connection)


async def _logged_in(connection: AnyConnection, _handler: BaseRouteHandler) -> None:
    """Guard: a live customer session of the key's store."""
    await require_session(connection)


async def _store_id(request: AnyRequest) -> str:
    return (await storefront_of(request)).store_id


# ---------------------------------------------------------------------------
# Storefront
# ---------------------------------------------------------------------------


class StoreCustomersController(Controller):
    """Shoppers: their account in this store, sessions and address book."""

    path = "/store/customers"
    tags = ["store: customers"]
    guards = [_storefront]
    #: Personal data and session tokens: no cache, shared or private, keeps them.
    cache_control = CacheControlHeader(no_store=True)

    @post("/register", operation_id="storeRegisterCustomer")
    async def register(
        self, request: AnyRequest, data: JSONBody[CustomerRegister]
    ) -> CustomerSessionRead:
        """Create an account and log it in; the answer holds the session token (shown once)."""
        return await service.register(await _store_id(request), data)

    @post("/login", operation_id="storeLoginCustomer", status_code=HTTP_200_OK, responses=_TOO_MANY)
    async def login(
        self, request: AnyRequest, data: JSONBody[CustomerLogin]
    ) -> CustomerSessionRead:
        """Log in with email and password; the answer holds a new session token."""
        return await service.login(await _store_id(request), data)

    @post(
        "/logout",
        operation_id="storeLogoutCustomer",
        status_code=HTTP_204_NO_CONTENT,
        guards=[_logged_in],
    )
    async def logout(self, request: AnyRequest) -> None:
        """End the session the request carries."""
        await service.logout(await require_session(request))

    @get("/me", operation_id="storeGetMe", guards=[_logged_in])
    async def me(self, request: AnyRequest) -> CustomerRead:
        """The logged-in customer."""
        return await service.require_customer(request)

    @patch("/me", operation_id="storeUpdateMe", guards=[_logged_in])
    async def update_me(self, request: AnyRequest, data: JSONBody[CustomerUpdate]) -> CustomerRead:
        """Change the name, phone, locale or marketing consent of the logged-in customer."""
        session = await require_session(request)
        return await service.update_customer(session.store_id, session.customer["id"], data)

    @post(
        "/me/password",
        operation_id="storeChangePassword",
        guards=[_logged_in],
        status_code=HTTP_204_NO_CONTENT,
        responses=_TOO_MANY,
    )
    async def change_password(self, request: AnyRequest, data: JSONBody[PasswordChange]) -> None:
        """Set a new password; every other session of the customer is logged out."""
        await service.change_password(await require_session(request), data)

    @get("/me/addresses", operation_id="storeListAddresses", guards=[_logged_in])
    async def list_addresses(
        self, request: AnyRequest, limit: Limit = 20, cursor: Cursor = None
    ) -> Page[AddressRead]:
        """The logged-in customer's address book, newest first."""
        session = await require_session(request)
        return await address_book.list_addresses(
            session.store_id, session.customer["id"], limit=limit, cursor=cursor
        )

    @post("/me/addresses", operation_id="storeCreateAddress", guards=[_logged_in])
    async def create_address(
        self, request: AnyRequest, data: JSONBody[AddressCreate]
    ) -> AddressRead:
        """Add an address to the book."""
        session = await require_session(request)
        return await address_book.create_address(session.store_id, session.customer["id"], data)

    @get("/me/addresses/{address_id:str}", operation_id="storeGetAddress", guards=[_logged_in])
    async def get_address(self, request: AnyRequest, address_id: FromPath[str]) -> AddressRead:
        """One address of the book."""
        session = await require_session(request)
        return await address_book.get_address(session.store_id, session.customer["id"], address_id)

    @patch("/me/addresses/{address_id:str}", operation_id="storeUpdateAddress", guards=[_logged_in])
    async def update_address(
        self, request: AnyRequest, address_id: FromPath[str], data: JSONBody[AddressUpdate]
    ) -> AddressRead:
        """Replace an address or change whether it is the default for shipping or billing."""
        session = await require_session(request)
        return await address_book.update_address(
            session.store_id, session.customer["id"], address_id, data
        )

    @delete(
        "/me/addresses/{address_id:str}",
        operation_id="storeDeleteAddress",
        guards=[_logged_in],
        status_code=HTTP_204_NO_CONTENT,
    )
    async def delete_address(self, request: AnyRequest, address_id: FromPath[str]) -> None:
        """Remove an address from the book."""
        session = await require_session(request)
        await address_book.delete_address(session.store_id, session.customer["id"], address_id)


# ---------------------------------------------------------------------------
# Admin
# ---------------------------------------------------------------------------


class CustomersController(Controller):
    """Store staff: customer accounts."""

    path = "/admin/customers"
    tags = ["admin: customers"]

    @get("/", opt=needs("customers:read"), operation_id="listCustomers")
    async def list_customers(
        self, request: AnyRequest, q: Search = None, limit: Limit = 20, cursor: Cursor = None
    ) -> Page[CustomerRead]:
        """List or search customers (email or name), newest first."""
        return await service.list_customers(store_id_of(request), q=q, limit=limit, cursor=cursor)

    @get("/{customer_id:str}", opt=needs("customers:read"), operation_id="getCustomer")
    async def get_customer(self, request: AnyRequest, customer_id: FromPath[str]) -> CustomerDetail:
        """One customer with their address book."""
        return await service.customer_detail(store_id_of(request), customer_id)

    @patch("/{customer_id:str}", opt=needs("customers:write"), operation_id="updateCustomer")
    async def update_customer(
        self, request: AnyRequest, customer_id: FromPath[str], data: JSONBody[CustomerAdminUpdate]
    ) -> CustomerDetail:
        """Change a customer's email, name, phone, locale or marketing consent (not password)."""
        store_id = store_id_of(request)
        await service.update_customer(store_id, customer_id, data)
        return await service.customer_detail(store_id, customer_id)


ADMIN_ROUTES = [CustomersController]
STORE_ROUTES = [StoreCustomersController]
