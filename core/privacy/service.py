"""Export and erase a shopper's personal data in one store.

A shopper is named by email: their accounts (the same email in a store is one
account), and the orders and carts placed under that email or by those
accounts. Export gathers it all as JSON. Erasure, in one transaction, blanks
the accounts (no login, no address book, no sessions), reduces the orders'
and carts' addresses to what tax records need, and scrubs the shopper's
strings from the copies Caravan keeps elsewhere (order timelines, returns,
payments' provider data, outbox events, saved idempotent answers). It records
a ``customer.erased`` event, without personal data, so that plugins and
webhook receivers erase their own copies.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any, Final

import msgspec

from core.cart.tables import Cart
from core.customers import attempts
from core.customers.service import normalize_email
from core.customers.tables import Customer, CustomerAddress
from core.db.engine import fetch, now, placeholders, select, transaction, write
from core.events.outbox import emit
from core.orders.tables import Order, OrderLine, OrderNote, Return
from core.privacy.schemas import ErasureRead, PersonalDataExport

#: What replaces an erased string.
ERASED: Final = "[erased]"
#: The domain of the addresses erased accounts and orders get (reserved: RFC 2606).
ERASED_DOMAIN: Final = "erased.invalid"
#: Address fields an erased order or cart keeps (the tax jurisdiction).
_KEPT: Final = ("country", "subdivision")
#: How much of the postal code is kept.
_POSTAL_PREFIX: Final = 3
#: Strings shorter than this are not scrubbed from free text (they match too much).
_SHORTEST: Final = 3
#: Columns never exported (secrets, even hashed).
_SECRET: Final = frozenset({"password_hash", "access_token_hash", "token_hash"})


class _Shopper(msgspec.Struct, kw_only=True):
    """The rows found for one email."""

    customers: list[dict[str, Any]]
    orders: list[dict[str, Any]]
    carts: list[dict[str, Any]]


async def _find(store_id: str, email: str) -> _Shopper:
    normalized = normalize_email(email)
    customers = await select(
        Customer, "store = {} AND email_normalized = {} ORDER BY id", store_id, normalized
    )
    ids = [c["id"] for c in customers]
    mine = f" OR customer_id IN ({placeholders(ids)})" if ids else ""
    where = f"store = {{}} AND (LOWER(email) = {{}}{mine}) ORDER BY id"
    orders, carts = [await select(t, where, store_id, normalized, *ids) for t in (Order, Cart)]
    return _Shopper(customers=customers, orders=orders, carts=carts)


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in row.items() if name not in _SECRET}


async def _children(table: Any, column: str, parents: Sequence[str]) -> dict[str, list[Any]]:
    """The rows of ``table`` whose ``column`` is one of ``parents``, by parent."""
    found: dict[str, list[Any]] = {parent: [] for parent in parents}
    if parents:
        quoted = f'"{column}"'
        for row in await select(
            table, f"{quoted} IN ({placeholders(parents)}) ORDER BY id", *parents
        ):
            found[row[column]].append(_public(row))
    return found


async def export(store_id: str, email: str) -> PersonalDataExport:
    """Everything the store holds on the shopper ``email``."""
    shopper = await _find(store_id, email)
    order_ids = [o["id"] for o in shopper.orders]
    books = await _children(CustomerAddress, "customer", [c["id"] for c in shopper.customers])
    lines = await _children(OrderLine, "order", order_ids)
    returns = await _children(Return, "order", order_ids)
    timelines = await _children(OrderNote, "order", order_ids)
    return PersonalDataExport(
        email=email.strip(),
        generated_at=now(),
        customers=[{**_public(c), "addresses": books[c["id"]]} for c in shopper.customers],
        orders=[
            {
                **_public(o),
                "lines": lines[o["id"]],
                "returns": returns[o["id"]],
                "timeline": timelines[o["id"]],
            }
            for o in shopper.orders
        ],
        carts=[_public(c) for c in shopper.carts],
    )


# ---------------------------------------------------------------------------
# Erasure
# ---------------------------------------------------------------------------


def _strings(
    shopper: _Shopper, books: Iterable[dict[str, Any]], returns: Iterable[dict[str, Any]]
) -> list[str]:
    """The shopper's own strings (emails, names, phones, addresses, and what their
    returns say: notes and reasons, free text), longest first."""
    found: set[str] = set()
    for row in returns:
        found.add(str(row["note"] or ""))
        found.update(str(line.get("reason") or "") for line in row["lines"])
    for customer in shopper.customers:
        found.update(
            str(customer[name] or "")
            for name in ("email", "email_normalized", "first_name", "last_name", "phone")
        )
    for row in (*shopper.orders, *shopper.carts):
        found.add(str(row["email"] or ""))
        for name in ("shipping_address", "billing_address"):
            found.update(_address_strings(row[name]))
    for book in books:
        found.update(_address_strings(book["address"]))
    return sorted((s for s in found if len(s) >= _SHORTEST), key=len, reverse=True)


def _address_strings(address: Any) -> list[str]:
    if not isinstance(address, dict):
        return []
    return [str(v) for k, v in address.items() if k not in _KEPT and isinstance(v, str)]


class _Scrubber:
    """Replaces the shopper's strings, wherever they appear, in JSON-like values."""

    def __init__(self, strings: Sequence[str]) -> None:
        self.pattern = (
            re.compile("|".join(re.escape(s) for s in strings), re.IGNORECASE) if strings else None
        )

    def text(self, value: str) -> str:
        return self.pattern.sub(ERASED, value) if self.pattern is not None else value

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self(item) for item in value]
        if isinstance(value, dict):
            return {key: self(item) for key, item in value.items()}
        return value


def _reduced(address: Any) -> dict[str, Any] | None:
    """An address reduced to its tax jurisdiction (the fields an address requires say
    :data:`ERASED`)."""
    if not isinstance(address, dict):
        return None
    kept: dict[str, Any] = {
        "first_name": ERASED,
        "last_name": ERASED,
        "line1": ERASED,
        "city": ERASED,
    }
    kept.update({key: address[key] for key in _KEPT if address.get(key)})
    if address.get("postal_code"):
        kept["postal_code"] = str(address["postal_code"])[:_POSTAL_PREFIX]
    return kept


def _json(value: Any) -> str | None:
    return None if value is None else msgspec.json.encode(value).decode()


async def _rewrite_json(
    table: str, column: str, where: str, args: Sequence[Any], scrub: _Scrubber
) -> None:
    """Scrub ``column`` (JSON) of the rows of ``table`` matching ``where``."""
    rows = await fetch(f"SELECT id, {column} AS v FROM {table} WHERE {where}", *args)  # noqa: S608
    for row in rows:
        value = row["v"]
        decoded = msgspec.json.decode(value) if isinstance(value, str | bytes) else value
        cleaned = scrub(decoded)
        if cleaned != decoded:
            await write(
                f"UPDATE {table} SET {column} = {{}} WHERE id = {{}} RETURNING id",  # noqa: S608
                _json(cleaned),
                row["id"],
            )


async def erase(store_id: str, email: str) -> ErasureRead:
    """Erase the shopper ``email``'s personal data in the store (see the module)."""
    stamp = now()
    async with transaction():
        shopper = await _find(store_id, email)
        customer_ids = [c["id"] for c in shopper.customers]
        order_ids = [o["id"] for o in shopper.orders]
        cart_ids = [c["id"] for c in shopper.carts]
        books = (await _children(CustomerAddress, "customer", customer_ids)).values()
        returns = [
            r for rows in (await _children(Return, "order", order_ids)).values() for r in rows
        ]
        scrub = _Scrubber(_strings(shopper, (b for book in books for b in book), returns))
        await _erase_customers(store_id, customer_ids, email, stamp)
        for order in shopper.orders:
            await write(
                "UPDATE orders SET email = {}, shipping_address = {}, billing_address = {}, "
                "updated_at = {} WHERE id = {} RETURNING id",
                f"erased-{order['id']}@{ERASED_DOMAIN}",
                _json(_reduced(order["shipping_address"])),
                _json(_reduced(order["billing_address"])),
                stamp,
                order["id"],
            )
        if cart_ids:
            erase_carts = (
                "UPDATE carts SET email = NULL, shipping_address = NULL, billing_address = NULL "  # noqa: S608
                f"WHERE id IN ({placeholders(cart_ids)}) RETURNING id"
            )
            await write(erase_carts, *cart_ids)
        await _scrub_copies(store_id, shopper, returns, scrub)
        await emit(
            store_id,
            "customer.erased",
            {"customers": customer_ids, "orders": order_ids, "carts": cart_ids},
            aggregate_id=customer_ids[0] if customer_ids else None,
        )
    return ErasureRead(customers=customer_ids, orders=order_ids, carts=cart_ids, erased_at=stamp)


async def _erase_customers(
    store_id: str, customer_ids: Sequence[str], email: str, stamp: Any
) -> None:
    """Blank the accounts: no login, no address book, no sessions, no login attempts."""
    for customer_id in customer_ids:
        erased = f"erased-{customer_id}@{ERASED_DOMAIN}"
        await write(
            "UPDATE customers SET email = {}, email_normalized = {}, first_name = '', "
            "last_name = '', phone = NULL, password_hash = '!', accepts_marketing = {}, "
            "default_shipping_address = NULL, default_billing_address = NULL, updated_at = {} "
            "WHERE id = {} RETURNING id",
            erased,
            erased,
            False,
            stamp,
            customer_id,
        )
    if customer_ids:
        marks = placeholders(customer_ids)
        for table in ("customer_addresses", "customer_sessions"):
            await write(
                f"DELETE FROM {table} WHERE customer IN ({marks}) RETURNING id",  # noqa: S608
                *customer_ids,
            )
    await write(
        "DELETE FROM customer_login_attempts WHERE subject = {} RETURNING id",
        attempts.subject_of(store_id, normalize_email(email)),
    )


async def _scrub_copies(
    store_id: str, shopper: _Shopper, returns: Sequence[dict[str, Any]], scrub: _Scrubber
) -> None:
    """Scrub the shopper's strings from the other places that copy them."""
    order_ids = [o["id"] for o in shopper.orders]
    cart_ids = [c["id"] for c in shopper.carts]
    if order_ids:
        await _rewrite_json(
            "order_events", "data", f'"order" IN ({placeholders(order_ids)})', order_ids, scrub
        )
    for row in returns:
        lines, note = scrub(row["lines"]), scrub.text(row["note"])
        if (lines, note) != (row["lines"], row["note"]):
            await write(
                "UPDATE returns SET lines = {}, note = {} WHERE id = {} RETURNING id",
                _json(lines),
                note,
                row["id"],
            )
    if cart_ids:
        await _rewrite_json(
            "payments", "data", f"cart_id IN ({placeholders(cart_ids)})", cart_ids, scrub
        )
    aggregates = [*order_ids, *cart_ids, *(c["id"] for c in shopper.customers)]
    if aggregates:
        await _rewrite_json(
            "outbox_events",
            "payload",
            f"store = {{}} AND aggregate_id IN ({placeholders(aggregates)})",
            [store_id, *aggregates],
            scrub,
        )
    # Saved answers of idempotent requests (a placed order, say) under the store.
    emails = sorted(
        {row["email"] for row in (*shopper.customers, *shopper.orders, *shopper.carts)} - {None, ""}
    )
    if emails:
        holding = " OR ".join("body LIKE {}" for _ in emails)
        for row in await fetch(
            f"SELECT id, body FROM idempotency_keys WHERE store = {{}} AND ({holding})",  # noqa: S608
            store_id,
            *(f"%{address}%" for address in emails),
        ):
            await write(
                "UPDATE idempotency_keys SET body = {} WHERE id = {} RETURNING id",
                scrub.text(row["body"]),
                row["id"],
            )
