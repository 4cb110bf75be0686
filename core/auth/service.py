"""Secret tokens: creation, lookup by hash, listing and revocation."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import msgspec

from core.auth import scopes as scope_rules
from core.auth.errors import TOKEN_NOT_FOUND
from core.auth.tables import ApiToken
from core.db.engine import transaction
from core.kernel import errors
from core.kernel.errors import CaravanError
from core.kernel.ids import new_id, new_secret
from core.kernel.pagination import Page, page_of

TokenKind = Literal["operator", "secret"]
OPERATOR_PREFIX = "op"
SECRET_PREFIX = "sk"  # noqa: S105 - a token prefix, not a secret
PUBLISHABLE_PREFIX = "pk"


def hash_token(token: str) -> str:
    """SHA-256 of a token (tokens are 192-bit random, so a fast hash is right)."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_hint(token: str) -> str:
    """The part of a token shown in listings (``sk_…a1b2``)."""
    return f"{token[:3]}…{token[-4:]}"


class Principal(msgspec.Struct, frozen=True):
    """Who is calling the admin API."""

    token_id: str
    kind: TokenKind
    store_id: str | None
    scopes: frozenset[str]


class TokenRecord(msgspec.Struct, frozen=True):
    """A token as the admin API shows it (never the secret)."""

    id: str
    name: str
    kind: str
    hint: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


def _record(row: dict[str, Any]) -> TokenRecord:
    scopes = row["scopes"]
    return TokenRecord(
        id=row["id"],
        name=row["name"],
        kind=row["kind"],
        hint=row["token_hint"],
        scopes=sorted(msgspec.json.decode(scopes) if isinstance(scopes, str) else scopes),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
    )


async def authenticate(token: str) -> Principal | None:
    """Return the principal of a live secret or operator token, else ``None``."""
    row = (
        await ApiToken.select(
            ApiToken.id,
            ApiToken.kind,
            ApiToken.store,
            ApiToken.scopes,
            ApiToken.expires_at,
            ApiToken.revoked_at,
        )
        .where(ApiToken.token_hash == hash_token(token))
        .first()
    )
    if row is None or row["revoked_at"] is not None:
        return None
    if row["expires_at"] is not None and row["expires_at"] <= datetime.now(UTC):
        return None
    scopes = msgspec.json.decode(row["scopes"]) if isinstance(row["scopes"], str) else row["scopes"]
    return Principal(
        token_id=row["id"],
        kind=row["kind"],
        store_id=row["store"],
        scopes=scope_rules.expand(scopes),
    )


async def create_token(
    *,
    store_id: str | None,
    name: str,
    scopes: list[str],
    expires_in_days: int | None = None,
    in_transaction: bool = False,
) -> tuple[str, TokenRecord]:
    """Create a token and return ``(secret, record)``; the secret is shown only now.

    ``store_id=None`` creates an operator token.
    """
    kind: TokenKind = "operator" if store_id is None else "secret"
    secret = new_secret(OPERATOR_PREFIX if kind == "operator" else SECRET_PREFIX)
    now = datetime.now(UTC)
    row = ApiToken(
        id=new_id("tok"),
        store=store_id,
        kind=kind,
        name=name,
        token_hash=hash_token(secret),
        token_hint=token_hint(secret),
        scopes=msgspec.json.encode(sorted(set(scopes))).decode(),
        created_at=now,
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
        revoked_at=None,
    )
    if in_transaction:
        await row.save()
    else:
        async with transaction():
            await row.save()
    return secret, _record(row.to_dict())


async def list_tokens(store_id: str, *, limit: int, cursor: str | None) -> Page[TokenRecord]:
    """The store's tokens, newest first."""
    query = ApiToken.select().where(ApiToken.store == store_id)
    return await page_of(query, ApiToken.id, limit=limit, cursor=cursor, convert=_record)


async def get_token(store_id: str, token_id: str) -> TokenRecord:
    """One token of the store (404 for another store's)."""
    row = (
        await ApiToken.select()
        .where((ApiToken.id == token_id) & (ApiToken.store == store_id))
        .first()
    )
    if row is None:
        raise CaravanError(TOKEN_NOT_FOUND, id=token_id)
    return _record(row)


async def revoke_token(store_id: str, token_id: str) -> None:
    """Revoke a token of the store now."""
    async with transaction():
        found = (
            await ApiToken.update({ApiToken.revoked_at: datetime.now(UTC)})
            .where(
                (ApiToken.id == token_id)
                & (ApiToken.store == store_id)
                & ApiToken.revoked_at.is_null()
            )
            .returning(ApiToken.id)
        )
    if not found:
        await get_token(store_id, token_id)  # 404 if absent; already revoked is fine


def check_grantable(held: frozenset[str], wanted: list[str]) -> None:
    """Refuse scopes that are unknown or not among ``held`` (the creator's)."""
    issues = [
        errors.FieldIssue(f"scopes[{i}]", "invalid_scope")
        for i, scope in enumerate(wanted)
        if scope not in scope_rules.ALL_SCOPES or scope not in held
    ]
    if issues:
        raise CaravanError(errors.VALIDATION_FAILED, errors=issues)
