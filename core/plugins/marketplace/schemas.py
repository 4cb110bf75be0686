"""What the marketplace API reads and writes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from core.plugins.manifests import Manifest, PluginKind
from core.providers.schemas import ProviderKind

State = Literal["draft", "in_review", "published", "delisted"]
Sort = Literal["installs", "rating", "recent"]
Text = Annotated[str, msgspec.Meta(max_length=20_000)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
Sha256 = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]


class AuthorCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Sign up as a plugin author."""

    handle: Annotated[str, msgspec.Meta(pattern="^[a-z0-9][a-z0-9-]{1,63}$")]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    email: Annotated[str, msgspec.Meta(pattern=r"^[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s]+$")]


class AuthorRead(msgspec.Struct, kw_only=True):
    """An author as others see them."""

    handle: str
    name: str
    created_at: datetime


class AuthorTokenCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Make another token for the calling author."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class AuthorTokenRead(msgspec.Struct, kw_only=True):
    """An author's token (never the secret)."""

    id: str
    name: str
    hint: str
    created_at: datetime
    revoked_at: datetime | None


class AuthorCreated(msgspec.Struct, kw_only=True):
    """A new author and their first token (the only time it is shown)."""

    author: AuthorRead
    token: str
    record: AuthorTokenRead


class AuthorTokenCreated(msgspec.Struct, kw_only=True):
    """A new author token (the only time it is shown)."""

    token: str
    record: AuthorTokenRead


class ProviderRef(msgspec.Struct, kw_only=True):
    """A provider the listed plugin adds."""

    kind: ProviderKind
    code: Annotated[str, msgspec.Meta(pattern="^[a-z][a-z0-9_]{0,63}$")]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    #: JSON Schema of its configuration, so a store sees what it will set.
    config_schema: Annotated[dict[str, Any], msgspec.Meta(max_length=100)] = {}


class ListingWrite(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A listing, from the plugin's description: ``caravan plugins info NAME`` prints it."""

    manifest: Manifest
    providers: Annotated[list[ProviderRef], msgspec.Meta(max_length=50)] = []
    #: What the plugin adds beyond its providers' kinds (``localisation``).
    kinds: Annotated[list[PluginKind], msgspec.Meta(max_length=5)] = []
    #: Longer text (Markdown) shown on the listing's page.
    description: Text = ""
    #: The plugin's name on the deployment that printed the description (ignored).
    plugin: Annotated[str, msgspec.Meta(max_length=100)] = ""


class VersionWrite(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A released version of a listed plugin."""

    version: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    #: The Caravan API versions it supports (a PEP 440 specifier such as ``>=1.0,<2``).
    caravan_api: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    #: SHA-256 of the wheel, 64 lowercase hex characters.
    sha256: Sha256
    #: Size of the wheel in bytes.
    size: Annotated[int, msgspec.Meta(ge=1, le=1_000_000_000)]
    changelog: Text = ""
    #: With its time zone; defaults to now.
    released_at: Annotated[datetime, msgspec.Meta(tz=True)] | None = None


class VersionRead(msgspec.Struct, kw_only=True):
    """A version of a listing, with how many stores run it."""

    version: str
    caravan_api: str
    #: Whether it supports this deployment's Caravan API.
    compatible: bool
    sha256: str | None
    size: int | None
    changelog: str
    released_at: datetime
    installs: int


class ListingRead(msgspec.Struct, kw_only=True):
    """A listing as the marketplace shows it."""

    package: str
    author: AuthorRead
    summary: str
    description: str
    homepage: str
    license: str
    kinds: list[str]
    providers: list[ProviderRef]
    countries: list[str]
    regions: list[str]
    #: The permissions a store grants when it installs the plugin.
    permissions: list[str]
    state: State
    #: Why an operator rejected or delisted it (for its author).
    state_reason: str
    first_party: bool
    #: The newest version, and the newest that supports this deployment's API.
    latest_version: str | None
    compatible_version: str | None
    #: Whether its package is installed on this deployment (a store can install it).
    available: bool
    #: Stores that have it installed now.
    installs: int
    rating_count: int
    #: Mean rating (1-5), two decimals; null before the first rating.
    rating_average: float | None
    created_at: datetime
    published_at: datetime | None


class ListingDetail(ListingRead, kw_only=True):
    """A listing with its versions, newest first."""

    versions: list[VersionRead]


class StateChange(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """An operator's reason for rejecting or delisting."""

    reason: Reason


class ReviewWrite(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A store's rating and review of a listing it installed."""

    rating: Annotated[int, msgspec.Meta(ge=1, le=5)]
    body: Annotated[str, msgspec.Meta(max_length=5000)] = ""


class ReplyWrite(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """An author's reply to a review."""

    body: Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]


class ReviewRead(msgspec.Struct, kw_only=True):
    """A review, and its author's reply."""

    id: str
    package: str
    store_name: str
    rating: int
    body: str
    reply: str
    replied_at: datetime | None
    created_at: datetime
