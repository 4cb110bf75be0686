"""Listings and versions, the states a listing moves through, reading and browsing them,
and the first-party listings.

``draft`` → (author submits) ``in_review`` → (operator approves) ``published``
→ (author or operator) ``delisted``; an operator's rejection sends a listing
under review back to ``draft`` with a reason, and a delisted listing may be
submitted again. Only published listings are public.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any, Final

import msgspec
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from core.db.engine import (
    decode_json,
    fetch,
    insert,
    now,
    placeholders,
    select,
    sql_values,
    transaction,
    unique_or_conflict,
    write,
)
from core.kernel.errors import VALIDATION_FAILED, CaravanError, FieldIssue
from core.kernel.ids import new_id
from core.kernel.pagination import Page, decode_cursor, encode_cursor
from core.plugins.current import current_host
from core.plugins.hookspecs import API_VERSION
from core.plugins.manifests import PluginDescription, problems
from core.plugins.marketplace import errors
from core.plugins.marketplace.schemas import (
    AuthorRead,
    ListingDetail,
    ListingRead,
    ListingWrite,
    ProviderRef,
    Sort,
    State,
    VersionRead,
    VersionWrite,
)
from core.plugins.marketplace.tables import Author, Listing, ListingVersion

#: The author of the plugins made by the Caravan project.
FIRST_PARTY_AUTHOR: Final = "caravan"
#: The packages of the plugins made by the Caravan project.
FIRST_PARTY_PACKAGES: Final = frozenset(
    {"caravan-manual-payment", "caravan-rate-table-tax", "caravan-table-rate-shipping"}
)
_TRANSITIONS: Final[dict[str, tuple[frozenset[str], str]]] = {
    # action: (states it may start from, state it leads to)
    "submitted": (frozenset({"draft", "delisted"}), "in_review"),
    "approved": (frozenset({"in_review"}), "published"),
    "rejected": (frozenset({"in_review"}), "draft"),
    "delisted": (frozenset({"published"}), "delisted"),
}


# --- listings ----------------------------------------------------------------


def _listing_values(data: ListingWrite) -> dict[str, Any]:
    """The columns a listing takes from a plugin description; a bad manifest is a 422."""
    manifest = data.manifest
    found = problems(manifest, here=False)
    if found:
        raise CaravanError(
            errors.INVALID_MANIFEST, problems="; ".join(found), extra={"problems": found}
        )
    kinds = {p.kind for p in data.providers} | set(data.kinds)
    return {
        "summary": manifest.summary,
        "description": data.description,
        "homepage": manifest.homepage,
        "license": manifest.license,
        "kinds": sorted(kinds),
        "providers": msgspec.to_builtins(data.providers),
        "countries": sorted(set(manifest.countries)),
        "regions": sorted(set(manifest.regions)),
        "permissions": sorted(set(manifest.permissions)),
        "updated_at": now(),
    }


async def listing_row(package: str) -> dict[str, Any]:
    rows = await select(Listing, "package = {}", package)
    if not rows:
        raise CaravanError(errors.LISTING_NOT_FOUND, package=package)
    return rows[0]


async def published_row(package: str) -> dict[str, Any]:
    """The row of a published listing; any other is not found, as for the public."""
    row = await listing_row(package)
    if row["state"] != "published":
        raise CaravanError(errors.LISTING_NOT_FOUND, package=package)
    return row


async def _owned(author_id: str, package: str) -> dict[str, Any]:
    row = await listing_row(package)
    if row["author"] != author_id:
        raise CaravanError(errors.NOT_LISTING_OWNER, package=package)
    return row


async def create_listing(author_id: str, data: ListingWrite) -> ListingDetail:
    """List a plugin (as a draft) from its description."""
    values = _listing_values(data)
    package = data.manifest.name
    existing = await select(Listing, "package = {}", package)
    if existing and existing[0]["author"] != author_id:
        raise CaravanError(errors.NOT_LISTING_OWNER, package=package)
    if existing:
        raise CaravanError(errors.LISTING_EXISTS, package=package)
    row = {
        "id": new_id("lst"),
        "author": author_id,
        "package": package,
        **values,
        "state": "draft",
        "created_at": values["updated_at"],
    }
    async with transaction():
        await unique_or_conflict(insert(Listing, [row]), errors.NOT_LISTING_OWNER, package=package)
    return await listing_detail(package, public=False)


async def update_listing(author_id: str, package: str, data: ListingWrite) -> ListingDetail:
    """Refresh a listing from a newer description of its plugin."""
    if data.manifest.name != package:
        raise CaravanError(
            VALIDATION_FAILED,
            errors=[FieldIssue("manifest.name", "invalid_value", {"reason": "not this listing's"})],
        )
    values = _listing_values(data)
    listing = await _owned(author_id, package)
    if listing["state"] == "published" and values["permissions"] != listing["permissions"]:
        # What a store is asked to grant was reviewed: a change is reviewed again.
        values["state"] = "in_review"
        values["state_reason"] = "The permissions changed; an operator reviews them again."
    columns = ", ".join(f"{name} = {{}}" for name in values)
    await write(
        f"UPDATE marketplace_listings SET {columns} WHERE package = {{}}",  # noqa: S608
        *sql_values(Listing, values),
        package,
    )
    return await listing_detail(package, public=False)


def _checked_version(data: VersionWrite) -> None:
    issues = []
    try:
        Version(data.version)
    except InvalidVersion:
        issues.append(FieldIssue("version", "invalid_value", {"reason": "not a PEP 440 version"}))
    try:
        SpecifierSet(data.caravan_api)
    except InvalidSpecifier:
        issues.append(FieldIssue("caravan_api", "invalid_value", {"reason": "not a version range"}))
    if data.released_at and data.released_at > now() + timedelta(days=1):
        issues.append(
            FieldIssue("released_at", "invalid_value", {"reason": "a date in the future"})
        )
    if issues:
        raise CaravanError(VALIDATION_FAILED, errors=issues)


async def add_version(author_id: str, package: str, data: VersionWrite) -> ListingDetail:
    """Release a version of a listing (its wheel's SHA-256 and size, its API range)."""
    _checked_version(data)
    listing = await _owned(author_id, package)
    row = {
        "id": new_id("lver"),
        "listing": listing["id"],
        "version": data.version,
        "changelog": data.changelog,
        "caravan_api": data.caravan_api,
        "sha256": data.sha256,
        "size": data.size,
        "released_at": data.released_at or now(),
        "created_at": now(),
    }
    async with transaction():
        await unique_or_conflict(
            insert(ListingVersion, [row]),
            errors.VERSION_EXISTS,
            version=data.version,
            package=package,
        )
    return await listing_detail(package, public=False)


def _illegal(state: str, action: str) -> CaravanError:
    return CaravanError(
        errors.ILLEGAL_LISTING_TRANSITION, state=state, action=action, extra={"state": state}
    )


async def _move(listing: dict[str, Any], action: str, reason: str = "") -> None:
    """Move ``listing`` by ``action``: a 409 naming its state when it may not (also
    when another request moved it first)."""
    sources, target = _TRANSITIONS[action]
    if listing["state"] not in sources:
        raise _illegal(listing["state"], action)
    stamp = now()
    moved = await write(
        "UPDATE marketplace_listings SET state = {}, state_reason = {}, updated_at = {}, "
        "published_at = {} WHERE id = {} AND state = {} RETURNING id",
        target,
        reason,
        stamp,
        stamp if target == "published" else listing["published_at"],
        listing["id"],
        listing["state"],
    )
    if not moved:
        raise _illegal((await listing_row(listing["package"]))["state"], action)


async def submit(author_id: str, package: str) -> ListingDetail:
    """Send a draft (or delisted) listing to the operator's review."""
    listing = await _owned(author_id, package)
    versions = await fetch(
        "SELECT id FROM marketplace_versions WHERE listing = {} LIMIT 1", listing["id"]
    )
    if not versions and listing["state"] in _TRANSITIONS["submitted"][0]:
        raise CaravanError(errors.NO_VERSIONS)
    await _move(listing, "submitted")
    return await listing_detail(package, public=False)


async def withdraw(author_id: str, package: str) -> ListingDetail:
    """The author takes a published listing out of the marketplace."""
    await _move(await _owned(author_id, package), "delisted", "Delisted by its author.")
    return await listing_detail(package, public=False)


async def review_listing(package: str, action: str, reason: str = "") -> ListingDetail:
    """An operator approves, rejects (with a reason) or delists a listing."""
    if action == "rejected" and not reason:
        raise CaravanError(VALIDATION_FAILED, errors=[FieldIssue("reason", "required")])
    await _move(await listing_row(package), action, reason)
    return await listing_detail(package, public=False)


# --- reading listings ---------------------------------------------------------

_LISTINGS: Final = """
SELECT l.*, a.handle AS author_handle, a.name AS author_name,
       a.created_at AS author_created_at,
       (SELECT COUNT(*) FROM marketplace_reviews r WHERE r.listing = l.id) AS rating_count,
       (SELECT COALESCE(SUM(r.rating), 0) FROM marketplace_reviews r
         WHERE r.listing = l.id) AS rating_sum
FROM marketplace_listings l JOIN marketplace_authors a ON a.id = l.author
"""


def _supports_here(caravan_api: str) -> bool:
    try:
        return SpecifierSet(caravan_api).contains(API_VERSION)
    except InvalidSpecifier:
        return False


def _newest_first(versions: Iterable[VersionRead]) -> list[VersionRead]:
    def key(v: VersionRead) -> tuple[Version, Any]:
        try:
            return Version(v.version), v.released_at
        except InvalidVersion:
            return Version("0"), v.released_at

    return sorted(versions, key=key, reverse=True)


async def _versions(
    rows: list[dict[str, Any]],
) -> tuple[dict[str, list[VersionRead]], dict[str, int]]:
    """The versions of the listings ``rows``, newest first, by listing id; and the
    active installs of each listing's package (of any version)."""
    if not rows:
        return {}, {}
    ids = [row["id"] for row in rows]
    found = await fetch(
        "SELECT listing, version, caravan_api, sha256, size, changelog, released_at "  # noqa: S608
        f"FROM marketplace_versions WHERE listing IN ({placeholders(ids)})",
        *ids,
    )
    packages = [row["package"] for row in rows]
    counts = await fetch(
        "SELECT package, version, COUNT(*) AS n FROM store_plugins "  # noqa: S608
        f"WHERE uninstalled_at IS NULL AND package IN ({placeholders(packages)}) "
        "GROUP BY package, version",
        *packages,
    )
    installs = {(c["package"], c["version"]): int(c["n"]) for c in counts}
    totals: dict[str, int] = {}
    for (package, _), n in installs.items():
        totals[package] = totals.get(package, 0) + n
    package_of = {row["id"]: row["package"] for row in rows}
    out: dict[str, list[VersionRead]] = {}
    for v in found:
        out.setdefault(v["listing"], []).append(
            VersionRead(
                version=v["version"],
                caravan_api=v["caravan_api"],
                compatible=_supports_here(v["caravan_api"]),
                sha256=v["sha256"],
                size=v["size"],
                changelog=v["changelog"],
                released_at=v["released_at"],
                installs=installs.get((package_of[v["listing"]], v["version"]), 0),
            )
        )
    return {listing: _newest_first(versions) for listing, versions in out.items()}, totals


def _read(
    row: dict[str, Any], versions: list[VersionRead], installs: int, here: frozenset[str]
) -> ListingRead:
    count, total = int(row["rating_count"]), int(row["rating_sum"])
    compatible = [v for v in versions if v.compatible]
    return ListingRead(
        package=row["package"],
        author=AuthorRead(
            handle=row["author_handle"],
            name=row["author_name"],
            created_at=row["author_created_at"],
        ),
        summary=row["summary"],
        description=row["description"],
        homepage=row["homepage"],
        license=row["license"],
        kinds=row["kinds"],
        providers=msgspec.convert(row["providers"], list[ProviderRef]),
        countries=row["countries"],
        regions=row["regions"],
        permissions=row["permissions"],
        state=row["state"],
        state_reason=row["state_reason"],
        first_party=bool(row["first_party"]),
        latest_version=versions[0].version if versions else None,
        compatible_version=compatible[0].version if compatible else None,
        available=row["package"] in here,
        installs=installs,
        rating_count=count,
        rating_average=round(total / count, 2) if count else None,
        created_at=row["created_at"],
        published_at=row["published_at"],
    )


async def _listings(where: str, *args: Any) -> list[tuple[ListingRead, list[VersionRead]]]:
    """Listings matching ``where`` (over ``l``, the listing), with their versions."""
    rows = [decode_json(Listing, row) for row in await fetch(f"{_LISTINGS} WHERE {where}", *args)]
    versions, installs = await _versions(rows)
    here = current_host().packages
    found = []
    for row in rows:
        listed = versions.get(row["id"], [])
        found.append((_read(row, listed, installs.get(row["package"], 0), here), listed))
    return found


def _detail(listing: ListingRead, versions: list[VersionRead]) -> ListingDetail:
    fields = {name: getattr(listing, name) for name in listing.__struct_fields__}
    return ListingDetail(**fields, versions=versions)


async def listing_detail(package: str, *, public: bool = True) -> ListingDetail:
    """One listing with its versions; the public sees only published listings."""
    where = "l.package = {}" + (" AND l.state = 'published'" if public else "")
    found = await _listings(where, package)
    if not found:
        raise CaravanError(errors.LISTING_NOT_FOUND, package=package)
    return _detail(*found[0])


async def author_listings(author_id: str) -> list[ListingDetail]:
    """Every listing of an author, in any state, with installs and ratings."""
    found = await _listings("l.author = {} ORDER BY l.package", author_id)
    return [_detail(*item) for item in found]


async def listings_in_state(state: State) -> list[ListingRead]:
    """Listings in ``state``, oldest change first (the operator's review queue)."""
    found = await _listings("l.state = {} ORDER BY l.updated_at, l.id", state)
    return [listing for listing, _ in found]


def _matches(listing: ListingRead, words: list[str]) -> bool:
    text = " ".join(
        [
            listing.package,
            listing.summary,
            listing.description,
            listing.author.name,
            listing.author.handle,
            *(f"{p.name} {p.code}" for p in listing.providers),
        ]
    ).casefold()
    return all(word in text for word in words)


def _serves(listing: ListingRead, country: str | None, region: str | None) -> bool:
    anywhere = not listing.countries and not listing.regions
    if country and not (anywhere or country.upper() in listing.countries):
        return False
    regions = {r.casefold() for r in listing.regions}
    return not region or anywhere or region.casefold() in regions


def _sort_key(listing: ListingRead, versions: list[VersionRead], sort: Sort) -> list[Any]:
    if sort == "installs":
        return [-listing.installs, listing.package]
    if sort == "rating":
        total = round((listing.rating_average or 0) * 100)
        return [-total, -listing.rating_count, listing.package]
    stamps = [v.released_at for v in versions] + [listing.published_at or listing.created_at]
    newest = max(stamps)
    return [-int(newest.timestamp() * 1_000_000), listing.package]


def _after(cursor: str, sort: Sort) -> list[Any]:
    """The sort key a cursor of a ``sort`` listing holds (ints, then the package)."""
    arity = 3 if sort == "rating" else 2
    after = decode_cursor(cursor, arity)
    if not all(type(v) is int for v in after[:-1]) or not isinstance(after[-1], str):
        raise CaravanError(VALIDATION_FAILED, errors=[FieldIssue("cursor", "invalid_cursor")])
    return after


async def browse(
    *,
    q: str | None = None,
    kind: str | None = None,
    country: str | None = None,
    region: str | None = None,
    compatible: bool = False,
    available: bool = False,
    sort: Sort = "installs",
    limit: int,
    cursor: str | None = None,
) -> Page[ListingRead]:
    """Published listings matching the filters, sorted, one page at a time."""
    kind = "localisation" if kind == "locale" else kind
    words = (q or "").casefold().split()
    chosen = [
        (_sort_key(listing, versions, sort), listing)
        for listing, versions in await _listings("l.state = 'published'")
        if (not words or _matches(listing, words))
        and (not kind or kind in listing.kinds)
        and _serves(listing, country, region)
        and (not compatible or listing.compatible_version is not None)
        and (not available or listing.available)
    ]
    chosen.sort(key=lambda item: item[0])
    if cursor:
        after = _after(cursor, sort)
        chosen = [item for item in chosen if item[0] > after]
    page = chosen[:limit]
    more = len(chosen) > limit
    return Page(
        items=[listing for _, listing in page],
        next_cursor=encode_cursor(page[-1][0]) if more else None,
    )


# --- the first-party listings --------------------------------------------------


async def sync_first_party() -> None:
    """List the Caravan project's plugins installed here as published listings of the
    ``caravan`` author (at start-up; concurrent processes and repeated calls agree)."""
    author_row = {
        "id": new_id("auth"),
        "handle": FIRST_PARTY_AUTHOR,
        "name": "Caravan",
        "email": "plugins@caravan.invalid",
        "created_at": now(),
    }
    await insert(Author, [author_row], "ON CONFLICT (handle) DO NOTHING")
    author = await fetch("SELECT id FROM marketplace_authors WHERE handle = {}", FIRST_PARTY_AUTHOR)
    for description in current_host().descriptions.values():
        if description.manifest.name in FIRST_PARTY_PACKAGES:
            await _list_first_party(author[0]["id"], description)


async def _list_first_party(author_id: str, description: PluginDescription) -> None:
    manifest = description.manifest
    data = msgspec.convert(msgspec.to_builtins(description), ListingWrite)
    described = _listing_values(data)
    values = {
        **described,
        "id": new_id("lst"),
        "author": author_id,
        "package": manifest.name,
        "state": "published",
        "state_reason": "",
        "first_party": True,
        "published_at": now(),
    }
    values["created_at"] = values["updated_at"]
    refreshed = ", ".join(f"{name} = excluded.{name}" for name in described)
    await insert(  # a newer release of the plugin describes itself anew
        Listing,
        [values],
        f"ON CONFLICT (package) DO UPDATE SET {refreshed} "
        "WHERE marketplace_listings.first_party = TRUE",
    )
    listing = await fetch("SELECT id FROM marketplace_listings WHERE package = {}", manifest.name)
    version = {
        "id": new_id("lver"),
        "listing": listing[0]["id"],
        "version": manifest.version,
        "changelog": "",
        "caravan_api": manifest.caravan_api,
        "sha256": None,
        "size": None,
        "released_at": now(),
        "created_at": now(),
    }
    await insert(ListingVersion, [version], "ON CONFLICT (listing, version) DO NOTHING")
