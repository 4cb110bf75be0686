"""Marketplace authors and the tokens they publish with."""

from __future__ import annotations

from typing import Any, Final

from core.auth.service import hash_token, token_hint
from core.db.engine import (
    fetch,
    insert,
    now,
    select,
    transaction,
    unique_or_conflict,
    write,
)
from core.kernel.errors import CaravanError
from core.kernel.ids import new_id, new_secret
from core.plugins.marketplace import errors
from core.plugins.marketplace.schemas import (
    AuthorCreate,
    AuthorCreated,
    AuthorRead,
    AuthorTokenCreated,
    AuthorTokenRead,
)
from core.plugins.marketplace.service import FIRST_PARTY_AUTHOR
from core.plugins.marketplace.tables import Author, AuthorToken

AUTHOR_TOKEN_PREFIX: Final = "au"  # noqa: S105 - a token prefix, not a secret
# --- authors -----------------------------------------------------------------


def _author_token_read(row: dict[str, Any]) -> AuthorTokenRead:
    return AuthorTokenRead(
        id=row["id"],
        name=row["name"],
        hint=row["hint"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )


async def _new_token(author_id: str, name: str) -> tuple[str, AuthorTokenRead]:
    secret = new_secret(AUTHOR_TOKEN_PREFIX)
    row = {
        "id": new_id("atok"),
        "author": author_id,
        "name": name,
        "key_hash": hash_token(secret),
        "hint": token_hint(secret),
        "created_at": now(),
        "revoked_at": None,
    }
    await insert(AuthorToken, [row])
    return secret, _author_token_read(row)


async def create_author(data: AuthorCreate) -> AuthorCreated:
    """Sign up an author; returns their first token (shown this once)."""
    if data.handle == FIRST_PARTY_AUTHOR:
        raise CaravanError(errors.AUTHOR_HANDLE_TAKEN, handle=data.handle)
    row: dict[str, Any] = {
        "id": new_id("auth"),
        "handle": data.handle,
        "name": data.name,
        "email": data.email,
        "created_at": now(),
    }
    async with transaction():
        await unique_or_conflict(
            insert(Author, [row]), errors.AUTHOR_HANDLE_TAKEN, handle=data.handle
        )
        secret, record = await _new_token(row["id"], "First token")
    return AuthorCreated(
        author=AuthorRead(handle=data.handle, name=data.name, created_at=row["created_at"]),
        token=secret,
        record=record,
    )


async def author_of_token(token: str) -> str | None:
    """The id of the author whose live token ``token`` is, if any."""
    rows = await fetch(
        "SELECT author FROM marketplace_author_tokens WHERE key_hash = {} AND revoked_at IS NULL",
        hash_token(token),
    )
    return str(rows[0]["author"]) if rows else None


async def create_token(author_id: str, name: str) -> AuthorTokenCreated:
    """Another token for an author."""
    async with transaction():
        secret, record = await _new_token(author_id, name)
    return AuthorTokenCreated(token=secret, record=record)


async def list_tokens(author_id: str) -> list[AuthorTokenRead]:
    """An author's tokens, newest first."""
    rows = await select(AuthorToken, "author = {} ORDER BY id DESC", author_id)
    return [_author_token_read(row) for row in rows]


async def revoke_token(author_id: str, token_id: str) -> None:
    """Revoke one of an author's tokens (revoking twice is fine)."""
    rows = await select(AuthorToken, "id = {} AND author = {}", token_id, author_id)
    if not rows:
        raise CaravanError(errors.AUTHOR_TOKEN_NOT_FOUND, id=token_id)
    await write(
        "UPDATE marketplace_author_tokens SET revoked_at = {} WHERE id = {} AND revoked_at IS NULL",
        now(),
        token_id,
    )
