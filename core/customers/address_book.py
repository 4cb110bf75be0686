"""A customer's address book: up to :data:`MAX_ADDRESSES` postal addresses.

The default shipping and billing entries are named on the customer row
(``default_shipping_address`` / ``default_billing_address``), so there is
always at most one of each. A new entry becomes the default for a use when
asked, or when the customer has no default for it yet.

Every function takes the store and the customer: an entry of another
customer, of the same store or not, is a 404 ``address_not_found``.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec

from core.customers import errors
from core.customers.schemas import AddressCreate, AddressRead, AddressUpdate
from core.customers.tables import Customer, CustomerAddress
from core.db.engine import now, transaction
from core.kernel.addresses import Address, check_address
from core.kernel.errors import CaravanError
from core.kernel.ids import new_id
from core.kernel.pagination import Page, page_of
from core.kernel.validation import Issues

MAX_ADDRESSES: Final = 50


class _Defaults(msgspec.Struct, frozen=True):
    shipping: str | None
    billing: str | None


def _entry(row: dict[str, Any], defaults: _Defaults) -> AddressRead:
    return AddressRead(
        id=row["id"],
        address=msgspec.convert(row["address"], Address),
        default_shipping=row["id"] == defaults.shipping,
        default_billing=row["id"] == defaults.billing,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _of(store_id: str, customer_id: str) -> Any:
    return (CustomerAddress.store == store_id) & (CustomerAddress.customer == customer_id)


async def _defaults(store_id: str, customer_id: str, *, lock: bool = False) -> _Defaults:
    """The customer's default entries; ``lock=True`` (in a transaction) also makes
    other writers of the same book wait (``FOR UPDATE``; SQLite's write
    transactions are serial already)."""
    query = Customer.select(
        Customer.default_shipping_address, Customer.default_billing_address
    ).where((Customer.id == customer_id) & (Customer.store == store_id))
    if lock and Customer._meta.db.engine_type != "sqlite":
        query = query.lock_rows()
    row = await query.first()
    if row is None:
        raise CaravanError(errors.CUSTOMER_NOT_FOUND, id=customer_id)
    return _Defaults(row["default_shipping_address"], row["default_billing_address"])


async def _set_defaults(
    customer_id: str, address_id: str, current: _Defaults, shipping: Any, billing: Any
) -> None:
    """Make ``address_id`` the default (``True``) or no longer the default (``False``)
    for each use; ``UNSET`` leaves a use as it is."""
    values: dict[Any, Any] = {}
    for column, wanted, now_default in (
        (Customer.default_shipping_address, shipping, current.shipping),
        (Customer.default_billing_address, billing, current.billing),
    ):
        if wanted is True and now_default != address_id:
            values[column] = address_id
        elif wanted is False and now_default == address_id:
            values[column] = None
    if values:
        await Customer.update(values).where(Customer.id == customer_id)


def _checked(address: Address) -> dict[str, Any]:
    issues = Issues()
    check_address(issues, "address", address)
    issues.raise_if_any()
    return dict(msgspec.to_builtins(address))


async def list_addresses(
    store_id: str, customer_id: str, *, limit: int, cursor: str | None
) -> Page[AddressRead]:
    """The customer's address book, newest first."""
    defaults = await _defaults(store_id, customer_id)
    query = CustomerAddress.select().where(_of(store_id, customer_id)).output(load_json=True)
    return await page_of(
        query, CustomerAddress.id, limit=limit, cursor=cursor, convert=lambda r: _entry(r, defaults)
    )


async def all_addresses(store_id: str, customer_id: str) -> list[AddressRead]:
    """The whole address book (it is bounded), newest first."""
    defaults = await _defaults(store_id, customer_id)
    rows = (
        await CustomerAddress.select()
        .where(_of(store_id, customer_id))
        .order_by(CustomerAddress.id, ascending=False)
        .output(load_json=True)
    )
    return [_entry(row, defaults) for row in rows]


async def get_address(store_id: str, customer_id: str, address_id: str) -> AddressRead:
    """One entry of the customer's book; 404 ``address_not_found`` otherwise.

    Carts and checkout call this to use a saved address.
    """
    row = (
        await CustomerAddress.select()
        .where(_of(store_id, customer_id) & (CustomerAddress.id == address_id))
        .output(load_json=True)
        .first()
    )
    if row is None:
        raise CaravanError(errors.ADDRESS_NOT_FOUND, id=address_id)
    return _entry(row, await _defaults(store_id, customer_id))


async def create_address(store_id: str, customer_id: str, data: AddressCreate) -> AddressRead:
    """Add an entry (422 for an unknown country; 409 when the book is full)."""
    address = _checked(data.address)
    stamp = now()
    row = CustomerAddress(
        id=new_id("caddr"),
        store=store_id,
        customer=customer_id,
        address=address,
        created_at=stamp,
        updated_at=stamp,
    )
    async with transaction():
        current = await _defaults(store_id, customer_id, lock=True)
        if await CustomerAddress.count().where(_of(store_id, customer_id)) >= MAX_ADDRESSES:
            raise CaravanError(errors.ADDRESS_BOOK_FULL, max=MAX_ADDRESSES)
        await CustomerAddress.insert(row)
        shipping = data.default_shipping or current.shipping is None
        billing = data.default_billing or current.billing is None
        await _set_defaults(customer_id, row.id, current, shipping, billing)
    return await get_address(store_id, customer_id, row.id)


async def update_address(
    store_id: str, customer_id: str, address_id: str, data: AddressUpdate
) -> AddressRead:
    """Replace an entry's address and/or change whether it is a default."""
    await get_address(store_id, customer_id, address_id)
    values: dict[Any, Any] = {CustomerAddress.updated_at: now()}
    if isinstance(data.address, Address):
        values[CustomerAddress.address] = _checked(data.address)
    async with transaction():
        current = await _defaults(store_id, customer_id, lock=True)
        found = (
            await CustomerAddress.update(values)
            .where(_of(store_id, customer_id) & (CustomerAddress.id == address_id))
            .returning(CustomerAddress.id)
        )
        if not found:  # deleted meanwhile
            raise CaravanError(errors.ADDRESS_NOT_FOUND, id=address_id)
        await _set_defaults(
            customer_id, address_id, current, data.default_shipping, data.default_billing
        )
    return await get_address(store_id, customer_id, address_id)


async def delete_address(store_id: str, customer_id: str, address_id: str) -> None:
    """Remove an entry (a default use it had is left without a default)."""
    async with transaction():
        current = await _defaults(store_id, customer_id, lock=True)
        found = (
            await CustomerAddress.delete()
            .where(_of(store_id, customer_id) & (CustomerAddress.id == address_id))
            .returning(CustomerAddress.id)
        )
        if not found:
            raise CaravanError(errors.ADDRESS_NOT_FOUND, id=address_id)
        await _set_defaults(customer_id, address_id, current, False, False)
