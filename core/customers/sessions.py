"""Customer sessions: opaque bearer tokens (``cst_…``) stored as their SHA-256 hash.

A storefront sends the token as ``Authorization: Bearer cst_…`` together with
its ``X-Publishable-Key``; a session only opens the store it was made in.
Sessions last :data:`LIFETIME` from login; logout revokes one, a password
change revokes all the others.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final

import msgspec
from litestar.connection import ASGIConnection

from core.auth.service import hash_token
from core.customers import errors
from core.customers.tables import Customer, CustomerSession
from core.db.engine import now, transaction
from core.kernel.errors import CaravanError
from core.kernel.ids import new_id, new_secret
from core.stores.context import StorefrontContext, resolve_key

PREFIX: Final = "cst"
LIFETIME: Final = timedelta(days=30)
#: ``last_used_at`` is written at most this often per session (reads stay reads).
TOUCH_EVERY: Final = timedelta(minutes=5)
_MAX_TOKEN: Final = 256
_SESSION_KEY: Final = "caravan_customer_session"
_STOREFRONT_KEY: Final = "caravan_storefront"

AnyConnection = ASGIConnection[Any, Any, Any, Any]


class Session(msgspec.Struct, frozen=True):
    """A live session: its id, store and customer row (as selected, nested)."""

    id: str
    store_id: str
    customer: dict[str, Any]


async def open_session(store_id: str, customer_id: str) -> tuple[str, datetime]:
    """Create a session (inside the caller's transaction) and return ``(token, expires_at)``.

    The customer's expired and revoked sessions are deleted on the way.
    """
    token = new_secret(PREFIX, 32)
    stamp = now()
    await CustomerSession.delete().where(
        (CustomerSession.customer == customer_id)
        & ((CustomerSession.expires_at <= stamp) | CustomerSession.revoked_at.is_not_null())
    )
    await CustomerSession.insert(
        CustomerSession(
            id=new_id("cses"),
            store=store_id,
            customer=customer_id,
            token_hash=hash_token(token),
            created_at=stamp,
            expires_at=stamp + LIFETIME,
            last_used_at=stamp,
            revoked_at=None,
        )
    )
    return token, stamp + LIFETIME


def _bearer(headers: dict[bytes, bytes]) -> str | None:
    """The customer token of the request; ``None`` without an Authorization header."""
    header = headers.get(b"authorization")
    if header is None:
        return None
    scheme, _, token = header.decode("latin-1").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token.startswith(PREFIX + "_") or len(token) > _MAX_TOKEN:
        raise CaravanError(errors.SESSION_INVALID)
    return token


async def _lookup(token: str, store_id: str) -> Session:
    row = (
        await CustomerSession.select(
            CustomerSession.id,
            CustomerSession.store,
            CustomerSession.expires_at,
            CustomerSession.revoked_at,
            CustomerSession.last_used_at,
            *CustomerSession.customer.all_columns(exclude=[Customer.password_hash]),
        )
        .where(CustomerSession.token_hash == hash_token(token))
        .output(nested=True)
        .first()
    )
    stamp = now()
    if (
        row is None
        or row["store"] != store_id
        or row["revoked_at"] is not None
        or row["expires_at"] <= stamp
    ):
        raise CaravanError(errors.SESSION_INVALID)
    if stamp - row["last_used_at"] >= TOUCH_EVERY:
        await CustomerSession.update({CustomerSession.last_used_at: stamp}).where(
            CustomerSession.id == row["id"]
        )
    return Session(id=row["id"], store_id=store_id, customer=row["customer"])


def _cached(connection: AnyConnection) -> dict[str, Any]:
    state: dict[str, Any] = connection.scope.setdefault("state", {})
    return state


async def storefront_of(connection: AnyConnection) -> StorefrontContext:
    """The storefront of the request's ``X-Publishable-Key`` (401 ``invalid_publishable_key``)."""
    cached = _cached(connection)
    if _STOREFRONT_KEY not in cached:
        key = dict(connection.scope["headers"]).get(b"x-publishable-key")
        cached[_STOREFRONT_KEY] = await resolve_key(key.decode("latin-1") if key else None)
    context: StorefrontContext = cached[_STOREFRONT_KEY]
    return context


async def session_of(connection: AnyConnection) -> Session | None:
    """The request's customer session, or ``None`` when it sends no Authorization header.

    The publishable key is checked first (401 ``invalid_publishable_key``);
    a malformed, unknown, revoked or expired token, or one of another store,
    is a 401 ``session_invalid``. The answer is kept for the rest of the request.
    """
    cached = _cached(connection)
    if _SESSION_KEY not in cached:
        context = await storefront_of(connection)
        token = _bearer(dict(connection.scope["headers"]))
        cached[_SESSION_KEY] = None if token is None else await _lookup(token, context.store_id)
    session: Session | None = cached[_SESSION_KEY]
    return session


async def revoke(session_id: str) -> None:
    """Log one session out."""
    async with transaction():
        await CustomerSession.update({CustomerSession.revoked_at: now()}).where(
            (CustomerSession.id == session_id) & CustomerSession.revoked_at.is_null()
        )


async def revoke_others(customer_id: str, keep: str) -> None:
    """Log out every session of the customer but ``keep`` (inside the caller's transaction)."""
    await CustomerSession.update({CustomerSession.revoked_at: now()}).where(
        (CustomerSession.customer == customer_id)
        & (CustomerSession.id != keep)
        & CustomerSession.revoked_at.is_null()
    )
