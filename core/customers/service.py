"""Customer accounts of a store: registration, login, sessions and the profile.

Public API for other domains (orders, carts, checkout)::

    await customer_from_request(request)  # CustomerRead | None (no Authorization header)
    await require_customer(request)       # CustomerRead, else 401 login_required
    await get_customer(store_id, customer_id)  # CustomerRead, else 404 customer_not_found

``customer_from_request`` resolves the storefront's ``X-Publishable-Key``
first; a malformed, unknown, revoked or expired session token, or one of
another store, is a 401 ``session_invalid`` problem.

Emails: an account's email is unique per store in its normalized form,
:func:`normalize_email` (surrounding whitespace stripped, the whole address
lower-cased); the address is kept as typed (stripped) for display. Guests do
not get accounts: their orders carry the email they checked out with.
"""

from __future__ import annotations

import re
from typing import Any, Final

import msgspec
from litestar import Request
from litestar.connection import ASGIConnection
from piccolo.columns.combination import WhereRaw

from core.customers import address_book, attempts, errors, passwords, sessions
from core.customers.schemas import (
    CustomerAdminUpdate,
    CustomerDetail,
    CustomerLogin,
    CustomerRead,
    CustomerRegister,
    CustomerSessionRead,
    CustomerUpdate,
    PasswordChange,
)
from core.customers.sessions import Session
from core.customers.tables import Customer
from core.db.engine import now, transaction, unique_or_conflict
from core.kernel.errors import CaravanError
from core.kernel.ids import new_id
from core.kernel.pagination import Page, page_of
from core.kernel.validation import Issues

_EMAIL: Final = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
#: Characters in a search that LIKE would read as wildcards.
_LIKE_ESCAPES: Final = str.maketrans({"\\": "\\\\", "%": "\\%", "_": "\\_"})


def normalize_email(email: str) -> str:
    """The form an email is unique and looked up in: stripped of outer whitespace, lower-cased."""
    return email.strip().lower()


def _check_email(issues: Issues, field: str, email: str) -> None:
    stripped = email.strip()
    if not (_EMAIL.fullmatch(stripped) and stripped.isprintable()):
        issues.add(field, "invalid_email")


def _check_password(issues: Issues, field: str, password: str) -> None:
    if not passwords.is_acceptable(password):
        issues.add(field, "weak_password")


def _customer(row: dict[str, Any]) -> CustomerRead:
    return CustomerRead(
        id=row["id"],
        email=row["email"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        phone=row["phone"],
        locale=row["locale"],
        accepts_marketing=bool(row["accepts_marketing"]),
        default_shipping_address_id=row["default_shipping_address"],
        default_billing_address_id=row["default_billing_address"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


_READ_COLUMNS: Final = [c for c in Customer._meta.columns if c is not Customer.password_hash]


# ---------------------------------------------------------------------------
# The public API other domains call
# ---------------------------------------------------------------------------


async def customer_from_request(request: Request[Any, Any, Any]) -> CustomerRead | None:
    """The logged-in customer of a storefront request, or ``None`` for a guest.

    ``None`` only when the request has no ``Authorization`` header; a bad,
    expired, revoked or foreign (other store's) token raises 401
    ``session_invalid``, a bad publishable key 401 ``invalid_publishable_key``.
    """
    session = await sessions.session_of(request)
    return None if session is None else _customer(session.customer)


async def require_customer(request: Request[Any, Any, Any]) -> CustomerRead:
    """The logged-in customer of a storefront request; 401 ``login_required`` for a guest."""
    return _customer((await require_session(request)).customer)


async def get_customer(store_id: str, customer_id: str) -> CustomerRead:
    """One customer of the store; 404 ``customer_not_found`` otherwise (another store's too)."""
    row = (
        await Customer.select(*_READ_COLUMNS)
        .where((Customer.id == customer_id) & (Customer.store == store_id))
        .first()
    )
    if row is None:
        raise CaravanError(errors.CUSTOMER_NOT_FOUND, id=customer_id)
    return _customer(row)


async def require_session(connection: ASGIConnection[Any, Any, Any, Any]) -> Session:
    """The request's live session; 401 ``login_required`` without one."""
    session = await sessions.session_of(connection)
    if session is None:
        raise CaravanError(errors.LOGIN_REQUIRED)
    return session


# ---------------------------------------------------------------------------
# Registration, login, logout, password
# ---------------------------------------------------------------------------


async def _email_free(store_id: str, normalized: str, except_id: str | None = None) -> None:
    query = Customer.exists().where(
        (Customer.store == store_id) & (Customer.email_normalized == normalized)
    )
    if except_id is not None:
        query = query.where(Customer.id != except_id)
    if await query:
        raise CaravanError(errors.EMAIL_TAKEN)


async def register(store_id: str, data: CustomerRegister) -> CustomerSessionRead:
    """Create an account and log it in (409 ``email_taken`` if the store has the email)."""
    issues = Issues()
    _check_email(issues, "email", data.email)
    _check_password(issues, "password", data.password)
    locale = issues.locale("locale", data.locale)
    issues.raise_if_any()
    normalized = normalize_email(data.email)
    await _email_free(store_id, normalized)
    password_hash = await passwords.hash_password(data.password)  # outside the write lock
    stamp = now()
    row = Customer(
        id=new_id("cus"),
        store=store_id,
        email=data.email.strip(),
        email_normalized=normalized,
        first_name=data.first_name,
        last_name=data.last_name,
        phone=data.phone,
        locale=locale,
        accepts_marketing=data.accepts_marketing,
        password_hash=password_hash,
        default_shipping_address=None,
        default_billing_address=None,
        created_at=stamp,
        updated_at=stamp,
    )

    async def write() -> tuple[str, Any]:
        async with transaction():
            await _email_free(store_id, normalized)
            await Customer.insert(row)
            return await sessions.open_session(store_id, row.id)

    token, expires_at = await unique_or_conflict(write(), errors.EMAIL_TAKEN)
    customer = await get_customer(store_id, row.id)
    return CustomerSessionRead(token=token, expires_at=expires_at, customer=customer)


async def _check_password_of(store_id: str, email_normalized: str, password: str) -> str | None:
    """The id of the account if ``password`` is its password, else ``None``.

    Counts the attempt (429 ``too_many_attempts`` over the limit). An unknown
    email costs the same password check as a known one.
    """
    subject = attempts.subject_of(store_id, email_normalized)
    await attempts.begin(store_id, subject)
    row = (
        await Customer.select(Customer.id, Customer.password_hash)
        .where((Customer.store == store_id) & (Customer.email_normalized == email_normalized))
        .first()
    )
    stored = None if row is None else str(row["password_hash"])
    if not await passwords.verify_password(password, stored) or row is None:
        return None
    await attempts.succeeded(subject)
    if passwords.needs_rehash(str(stored)):
        fresh = await passwords.hash_password(password)
        async with transaction():
            await Customer.update({Customer.password_hash: fresh}).where(Customer.id == row["id"])
    return str(row["id"])


async def login(store_id: str, data: CustomerLogin) -> CustomerSessionRead:
    """Open a session; one 401 ``invalid_credentials`` for an unknown email or a wrong password."""
    customer_id = await _check_password_of(store_id, normalize_email(data.email), data.password)
    if customer_id is None:
        raise CaravanError(errors.INVALID_CREDENTIALS)
    async with transaction():
        token, expires_at = await sessions.open_session(store_id, customer_id)
    customer = await get_customer(store_id, customer_id)
    return CustomerSessionRead(token=token, expires_at=expires_at, customer=customer)


async def logout(session: Session) -> None:
    """Revoke the session."""
    await sessions.revoke(session.id)


async def change_password(session: Session, data: PasswordChange) -> None:
    """Set a new password (the current one must be given) and log out every other session.

    A wrong current password is a 422 on ``current_password`` and counts as a
    failed login of the account.
    """
    issues = Issues()
    _check_password(issues, "new_password", data.new_password)
    issues.raise_if_any()
    customer = session.customer
    checked = await _check_password_of(
        session.store_id, customer["email_normalized"], data.current_password
    )
    if checked != customer["id"]:
        issues.add("current_password", "incorrect_password")
        issues.raise_if_any()
    fresh = await passwords.hash_password(data.new_password)
    async with transaction():
        await Customer.update({Customer.password_hash: fresh, Customer.updated_at: now()}).where(
            Customer.id == customer["id"]
        )
        await sessions.revoke_others(customer["id"], keep=session.id)


# ---------------------------------------------------------------------------
# Profile and staff views
# ---------------------------------------------------------------------------


def _changes(issues: Issues, data: CustomerUpdate) -> dict[Any, Any]:
    """The column values ``data`` sets (checked; fields left out are not in it)."""
    values: dict[Any, Any] = {}
    fields = msgspec.structs.asdict(data)
    for name in ("first_name", "last_name", "phone", "accepts_marketing"):
        if fields[name] is not msgspec.UNSET:
            values[Customer._meta.get_column_by_name(name)] = fields[name]
    if data.locale is not msgspec.UNSET:
        values[Customer.locale] = issues.locale("locale", data.locale)
    return values


async def update_customer(
    store_id: str, customer_id: str, data: CustomerUpdate | CustomerAdminUpdate
) -> CustomerRead:
    """Change a customer's profile (staff may change the email too; never the password)."""
    await get_customer(store_id, customer_id)
    issues = Issues()
    values = _changes(issues, data)
    email = getattr(data, "email", msgspec.UNSET)
    if isinstance(email, str):
        _check_email(issues, "email", email)
        values[Customer.email] = email.strip()
        values[Customer.email_normalized] = normalize_email(email)
    issues.raise_if_any()
    values[Customer.updated_at] = now()

    async def write() -> None:
        async with transaction():
            if Customer.email_normalized in values:
                await _email_free(store_id, values[Customer.email_normalized], customer_id)
            await Customer.update(values).where(
                (Customer.id == customer_id) & (Customer.store == store_id)
            )

    await unique_or_conflict(write(), errors.EMAIL_TAKEN)
    return await get_customer(store_id, customer_id)


async def customer_detail(store_id: str, customer_id: str) -> CustomerDetail:
    """One customer with their whole address book (404 ``customer_not_found``)."""
    customer = await get_customer(store_id, customer_id)
    addresses = await address_book.all_addresses(store_id, customer_id)
    return CustomerDetail(customer=customer, addresses=addresses)


def _search(q: str) -> WhereRaw:
    """Customers whose email or full name contains ``q`` (any case; no wildcards)."""
    pattern = "%" + q.lower().translate(_LIKE_ESCAPES) + "%"
    return WhereRaw(
        "(email_normalized LIKE {} ESCAPE '\\' "
        "OR LOWER(first_name || ' ' || last_name) LIKE {} ESCAPE '\\')",
        pattern,
        pattern,
    )


async def list_customers(
    store_id: str, *, q: str | None, limit: int, cursor: str | None
) -> Page[CustomerRead]:
    """The store's customers, newest first; ``q`` matches email, first or last name."""
    query = Customer.select(*_READ_COLUMNS).where(Customer.store == store_id)
    if q:
        query = query.where(_search(q))
    return await page_of(query, Customer.id, limit=limit, cursor=cursor, convert=_customer)
