"""Requests and answers of the personal-data API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec


class PersonalDataRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Whose data: every account, order and cart of the store under this email."""

    email: Annotated[str, msgspec.Meta(pattern=r"^\s*[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s]+\s*$")]


class PersonalDataExport(msgspec.Struct, kw_only=True):
    """What the store holds on a shopper, machine-readable (accounts with their address
    books, orders with their lines, returns and timelines, carts)."""

    email: str
    generated_at: datetime
    customers: list[dict[str, Any]]
    orders: list[dict[str, Any]]
    carts: list[dict[str, Any]]


class ErasureRead(msgspec.Struct, kw_only=True):
    """What an erasure changed. Orders keep what was sold, when and for how much, and
    their addresses keep the country, subdivision and first three characters of the
    postal code (tax records); the rest of the shopper's data is gone."""

    customers: list[str]
    orders: list[str]
    carts: list[str]
    erased_at: datetime
