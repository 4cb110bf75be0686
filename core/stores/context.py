"""The storefront request context: publishable key → store, regions, locale.

This sits on the hot path of every ``/store`` request, so resolved keys are
kept in a process cache (``Settings.cache_ttl`` seconds; cleared at once when
this process changes a store's regions or storefronts).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.params import QueryParameter

from core.auth.errors import INVALID_PUBLISHABLE_KEY
from core.auth.service import hash_token
from core.kernel import errors as core_errors
from core.kernel.errors import CaravanError, FieldIssue
from core.kernel.i18n import LocaleError, negotiate, normalize_locale, parse_accept_language
from core.kernel.scope import Cached
from core.stores import errors
from core.stores.schemas import StoreRegionRead
from core.stores.tables import Region, Storefront

#: The ``?region=`` parameter of storefront reads (else ``X-Region``, else the default).
RegionParam = Annotated[
    str | None,
    QueryParameter(
        max_length=32, description="Region code; else the X-Region header; else the default."
    ),
]
#: The ``?locale=`` parameter of storefront reads (else ``Accept-Language``).
LocaleParam = Annotated[
    str | None,
    QueryParameter(max_length=35, description="Locale; else negotiated from Accept-Language."),
]


class RegionContext(msgspec.Struct, frozen=True):
    """What the storefront API needs of a region."""

    id: str
    code: str
    name: str
    currency: str
    countries: tuple[str, ...]
    locales: tuple[str, ...]
    tax_inclusive: bool


class StorefrontContext(msgspec.Struct, frozen=True):
    """A resolved publishable key."""

    store_id: str
    storefront_id: str
    store_locale: str
    default_region: str | None
    regions: dict[str, RegionContext]
    cors_origins: frozenset[str]


class Shopper(msgspec.Struct, frozen=True):
    """One storefront request: whose store, which region, which locale."""

    context: StorefrontContext
    region: RegionContext
    locale: str


_MISSING = StorefrontContext("", "", "", None, {}, frozenset())
#: Resolved publishable keys, trusted for the settings' ``cache_ttl``.
_cache: Cached[str, StorefrontContext] = Cached("stores.storefront_keys")


def invalidate(_store_id: str | None = None) -> None:
    """Forget every resolved key (after a store's regions or storefronts change)."""
    _cache.get().clear()


async def _load(key: str) -> StorefrontContext:
    row = (
        await Storefront.select(
            Storefront.id,
            Storefront.store,
            Storefront.cors_origins,
            Storefront.default_region.code.as_alias("default_region_code"),
            Storefront.store.default_locale.as_alias("store_locale"),
        )
        .where(Storefront.key_hash == hash_token(key))
        .output(load_json=True)
        .first()
    )
    if row is None:
        return _MISSING
    regions = (
        await Region.select(
            Region.id,
            Region.code,
            Region.name,
            Region.currency,
            Region.countries,
            Region.locales,
            Region.tax_inclusive,
        )
        .where(Region.store == row["store"])
        .order_by(Region.id)
        .output(load_json=True)
    )
    return StorefrontContext(
        store_id=row["store"],
        storefront_id=row["id"],
        store_locale=row["store_locale"],
        default_region=row["default_region_code"],
        regions={
            r["code"]: RegionContext(
                id=r["id"],
                code=r["code"],
                name=r["name"],
                currency=r["currency"],
                countries=tuple(r["countries"]),
                locales=tuple(r["locales"]),
                tax_inclusive=bool(r["tax_inclusive"]),
            )
            for r in regions
        },
        cors_origins=frozenset(row["cors_origins"]),
    )


async def resolve_key(key: str | None) -> StorefrontContext:
    """Return the context of a publishable key, or raise 401."""
    if not key or len(key) > 128:
        raise CaravanError(INVALID_PUBLISHABLE_KEY)
    context = await _cache.get().get_or_load(key, lambda: _load(key))
    if context is _MISSING or not context.store_id:
        raise CaravanError(INVALID_PUBLISHABLE_KEY)
    return context


def _locale_param(value: str) -> str:
    try:
        return normalize_locale(value)
    except LocaleError:
        raise CaravanError(
            core_errors.VALIDATION_FAILED, errors=[FieldIssue("locale", "invalid_locale")]
        ) from None


def raw_headers(request: Request[Any, Any, Any]) -> dict[bytes, bytes]:
    """The request's headers as a dict of lower-case byte names (one pass, no parsing)."""
    return dict(request.scope["headers"])


async def storefront(
    request: Request[Any, Any, Any] | ASGIConnection[Any, Any, Any, Any],
) -> StorefrontContext:
    """The storefront (and store) the request's publishable key names, else 401."""
    key = dict(request.scope["headers"]).get(b"x-publishable-key")
    return await resolve_key(key.decode("latin-1") if key else None)


async def check_storefront(request: Request[Any, Any, Any]) -> None:
    """``before_request`` hook of every ``/store`` route (before its body is read): a live
    publishable key, else 401. A hook rather than a guard: Litestar copies the route
    handler for every guard it runs."""
    if request.method != "OPTIONS":
        await storefront(request)


async def shopper(
    request: Request[Any, Any, Any], region: str | None = None, locale: str | None = None
) -> Shopper:
    """Resolve the key, region and locale of a storefront request.

    The region is ``region`` (the ``?region=`` parameter), else the
    ``X-Region`` header, else the storefront's default; the locale is
    ``locale`` (``?locale=``), else the best of the region's locales for
    ``Accept-Language``, else the region's first locale.
    """
    headers = raw_headers(request)
    key = headers.get(b"x-publishable-key")
    context = await resolve_key(key.decode("latin-1") if key else None)
    code = region
    if code is None:
        header = headers.get(b"x-region")
        code = header.decode("latin-1") if header else context.default_region
    if code is None:
        if len(context.regions) != 1:
            raise CaravanError(errors.NO_REGION)
        code = next(iter(context.regions))
    found = context.regions.get(code)
    if found is None:
        raise CaravanError(errors.UNKNOWN_REGION, code=code[:32])
    if locale:
        wanted: tuple[str, ...] = (_locale_param(locale),)
    else:
        accept = headers.get(b"accept-language")
        wanted = parse_accept_language(accept.decode("latin-1")) if accept else ()
    available = found.locales or (context.store_locale,)
    return Shopper(context, found, negotiate(wanted, available, available[0]))


def region_list(context: StorefrontContext) -> list[StoreRegionRead]:
    """The storefront's regions as ``GET /store/regions`` lists them."""
    return [
        StoreRegionRead(
            code=r.code,
            name=r.name,
            currency=r.currency,
            countries=list(r.countries),
            locales=list(r.locales),
            tax_inclusive=r.tax_inclusive,
        )
        for r in context.regions.values()
    ]
