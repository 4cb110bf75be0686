"""Request and response bodies of the token API."""

from __future__ import annotations

from typing import Annotated

import msgspec

from core.auth.service import TokenRecord
from core.kernel.validation import Name

Scope = Annotated[str, msgspec.Meta(max_length=32)]


class TokenCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A new staff token; it may only hold scopes the creating token holds."""

    name: Name
    scopes: Annotated[list[Scope], msgspec.Meta(min_length=1, max_length=20)]
    expires_in_days: Annotated[int, msgspec.Meta(ge=1, le=3650)] | None = None


class TokenCreated(msgspec.Struct, kw_only=True):
    """A new token with its secret (shown only in this answer)."""

    token: str
    record: TokenRecord
