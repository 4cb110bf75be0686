"""Marketplace authors, their tokens, listings, versions and reviews."""

from __future__ import annotations

from piccolo.columns import JSON, BigInt, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from core.db.columns import id_column, timestamp_now
from core.db.engine import UNBOUND
from core.stores.tables import Store


class Author(Table, tablename="marketplace_authors", db=UNBOUND):
    """Someone who publishes plugins (a person or a company)."""

    id = id_column()
    handle = Varchar(length=64, unique=True)
    name = Varchar(length=200)
    email = Varchar(length=254)
    created_at = timestamp_now()


class AuthorToken(Table, tablename="marketplace_author_tokens", db=UNBOUND):
    """A secret token of an author (only its SHA-256 is kept)."""

    id = id_column()
    author = ForeignKey(Author, on_delete=OnDelete.cascade, null=False, index=True)
    name = Varchar(length=200)
    key_hash = Varchar(length=64, unique=True)
    hint = Varchar(length=16)
    created_at = timestamp_now()
    revoked_at = Timestamptz(null=True, default=None)


class Listing(Table, tablename="marketplace_listings", db=UNBOUND):
    """A plugin offered in the marketplace, described from its manifest."""

    caravan_indexes = (("state", "published_at"),)

    id = id_column()
    author = ForeignKey(Author, on_delete=OnDelete.cascade, null=False, index=True)
    #: The distribution's name (the manifest ``name``): one listing per package.
    package = Varchar(length=100, unique=True)
    summary = Varchar(length=200)
    description = Text(default="")
    homepage = Varchar(length=500, default="")
    license = Varchar(length=200)
    #: ``payment``, ``tax``, ``shipping``, ``affiliate``, ``localisation`` (JSON list).
    kinds = JSON(default="[]")
    #: ``[{"kind", "code", "name"}]`` of the providers the plugin adds.
    providers = JSON(default="[]")
    countries = JSON(default="[]")
    regions = JSON(default="[]")
    #: The scopes a store grants when it installs the plugin (JSON list).
    permissions = JSON(default="[]")
    #: ``draft`` → ``in_review`` → ``published`` → ``delisted``.
    state = Varchar(length=16, default="draft")
    #: Why an operator rejected or delisted it.
    state_reason = Text(default="")
    #: Made by the Caravan project (listed under the ``caravan`` author).
    first_party = Boolean(default=False)
    created_at = timestamp_now()
    updated_at = timestamp_now()
    published_at = Timestamptz(null=True, default=None)


class ListingVersion(Table, tablename="marketplace_versions", db=UNBOUND):
    """A released version of a listed plugin."""

    caravan_unique = (("listing", "version"),)

    id = id_column()
    listing = ForeignKey(Listing, on_delete=OnDelete.cascade, null=False, index=True)
    version = Varchar(length=64)
    changelog = Text(default="")
    #: The Caravan API versions it supports (a PEP 440 specifier).
    caravan_api = Varchar(length=100)
    #: SHA-256 (hex) and size in bytes of the wheel; null for a first-party
    #: plugin bundled with the deployment.
    sha256 = Varchar(length=64, null=True, default=None)
    size = BigInt(null=True, default=None)
    released_at = Timestamptz()
    created_at = timestamp_now()


class Review(Table, tablename="marketplace_reviews", db=UNBOUND):
    """A store's rating (1-5) and review of a listing, and the author's reply."""

    caravan_unique = (("listing", "store"),)

    id = id_column()
    listing = ForeignKey(Listing, on_delete=OnDelete.cascade, null=False, index=True)
    store = ForeignKey(Store, on_delete=OnDelete.cascade, null=False, index=True)
    #: The store's name when it reviewed (shown publicly instead of its id).
    store_name = Varchar(length=200)
    rating = Integer()
    body = Text(default="")
    reply = Text(default="")
    replied_at = Timestamptz(null=True, default=None)
    created_at = timestamp_now()
