"""The demo store: ``caravan demo`` seeds it, ``make run`` serves it.

:func:`seed_demo` creates "Caravan Demo Outfitters" (handle ``demo``): a
store selling in Europe (EUR, tax-inclusive), the United States (USD) and
Southeast Asia (SGD), one storefront and a small catalog translated into
English, German and French (some products also into Simplified Chinese and
Indonesian), priced in every region's currency.

Seeding is idempotent: what exists is left alone, what is missing is added.
Tokens and publishable keys are stored hashed, so the secrets are kept in a
credentials file (mode 600) next to the SQLite database, or in the current
directory for PostgreSQL; a later run reads them back. When the file is
missing or its secrets no longer work, fresh ones are minted (and the
storefront key rotated) and the file is rewritten.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import msgspec

from core.auth import service as auth_service
from core.auth.scopes import SCOPES
from core.catalog import collections as catalog_collections
from core.catalog import service as catalog_service
from core.catalog.schemas import CollectionCreate, ProductCreate
from core.catalog.tables import Collection, Product
from core.db.engine import sqlite_path
from core.demo_data import (
    COLLECTIONS,
    DEMO_HANDLE,
    PRODUCTS,
    REGIONS,
    STORE,
    STOREFRONT_NAME,
    STOREFRONT_ORIGINS,
    STOREFRONT_REGION,
)
from core.settings import Settings
from core.stores import service as store_service
from core.stores.schemas import StorefrontCreate
from core.stores.tables import Store, Storefront

#: Receives one human-readable line per seeding step.
Progress = Callable[[str], None]


class DemoStorefront(msgspec.Struct, kw_only=True):
    """A storefront of the demo store and its publishable key."""

    id: str
    name: str
    publishable_key: str


class DemoStore(msgspec.Struct, kw_only=True):
    """The demo store, its staff token (every scope) and its storefronts."""

    id: str
    handle: str
    name: str
    admin_token: str
    storefronts: list[DemoStorefront]


class DemoCredentials(msgspec.Struct, kw_only=True):
    """Everything needed to call the demo store's APIs (secrets included)."""

    #: The database these credentials belong to (password removed).
    database: str
    operator_token: str
    stores: list[DemoStore]


# ---------------------------------------------------------------------------
# The credentials file
# ---------------------------------------------------------------------------


def display_url(url: str) -> str:
    """Return a database URL without its password (safe to print and store)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}@{netloc}"))


def credentials_path(settings: Settings, handle: str = DEMO_HANDLE) -> Path:
    """Where the demo secrets of ``settings``' database are kept.

    Beside the database file for SQLite (``caravan.db`` → ``caravan-demo.json``),
    in the current directory for PostgreSQL.
    """
    name = f"caravan-{handle}.json"
    if settings.engine == "sqlite":
        path = sqlite_path(settings.database_url)
        if path and path != ":memory:":
            return Path(path).parent / name
    return Path(name)


def _read_file(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _write_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


async def read_credentials(path: Path) -> DemoCredentials | None:
    """Return the credentials saved at ``path``, or ``None`` if absent or unreadable."""
    data = await asyncio.to_thread(_read_file, path)
    if data is None:
        return None
    try:
        return msgspec.json.decode(data, type=DemoCredentials)
    except msgspec.DecodeError:
        return None


async def write_credentials(path: Path, credentials: DemoCredentials) -> None:
    """Save ``credentials`` at ``path`` (mode 600)."""
    data = msgspec.json.format(msgspec.json.encode(credentials), indent=2) + b"\n"
    await asyncio.to_thread(_write_file, path, data)


# ---------------------------------------------------------------------------
# Seeding
# ---------------------------------------------------------------------------


async def _is_operator_token(token: str) -> bool:
    principal = await auth_service.authenticate(token)
    return principal is not None and principal.kind == "operator"


async def _is_store_token(token: str, store_id: str) -> bool:
    principal = await auth_service.authenticate(token)
    return principal is not None and principal.store_id == store_id


async def _is_storefront_key(key: str, storefront_id: str) -> bool:
    return bool(
        await Storefront.exists().where(
            (Storefront.id == storefront_id) & (Storefront.key_hash == auth_service.hash_token(key))
        )
    )


def _saved_store(saved: DemoCredentials | None, handle: str, store_id: str) -> DemoStore | None:
    if saved is None:
        return None
    return next((s for s in saved.stores if s.handle == handle and s.id == store_id), None)


def _saved_key(saved: DemoStore | None, storefront_id: str) -> str | None:
    if saved is None:
        return None
    return next((f.publishable_key for f in saved.storefronts if f.id == storefront_id), None)


async def _ensure_store(
    handle: str, saved: DemoCredentials | None, say: Progress
) -> tuple[str, str, DemoStore | None]:
    """Return ``(store id, staff token, saved entry)``, creating what is missing."""
    row = await Store.select(Store.id).where(Store.handle == handle).first()
    if row is None:
        created = await store_service.create_store(msgspec.structs.replace(STORE, handle=handle))
        say(f"store {handle}: created ({created.store.id})")
        return created.store.id, created.admin_token, None
    store_id: str = row["id"]
    entry = _saved_store(saved, handle, store_id)
    if entry is not None and await _is_store_token(entry.admin_token, store_id):
        say(f"store {handle}: present ({store_id})")
        return store_id, entry.admin_token, entry
    secret, _ = await auth_service.create_token(
        store_id=store_id, name="Demo admin", scopes=list(SCOPES)
    )
    say(f"store {handle}: present ({store_id}); minted a new staff token")
    return store_id, secret, entry


async def _ensure_operator(saved: DemoCredentials | None, say: Progress) -> str:
    if saved is not None and await _is_operator_token(saved.operator_token):
        say("operator token: present")
        return saved.operator_token
    secret, _ = await auth_service.create_token(store_id=None, name="Demo operator", scopes=[])
    say("operator token: created")
    return secret


async def _ensure_regions(store_id: str, say: Progress) -> dict[str, str]:
    """Return region code → id, creating the missing demo regions."""
    existing = {r.code: r.id for r in await store_service.all_regions(store_id)}
    for region in REGIONS:
        if region.code in existing:
            continue
        created = await store_service.create_region(store_id, region)
        existing[region.code] = created.id
        say(f"region {region.code}: created ({region.currency})")
    say(f"regions: {', '.join(r.code for r in REGIONS)}")
    return existing


async def _ensure_storefront(
    store_id: str, region_id: str, saved: DemoStore | None, say: Progress
) -> DemoStorefront:
    row = (
        await Storefront.select(Storefront.id)
        .where((Storefront.store == store_id) & (Storefront.name == STOREFRONT_NAME))
        .order_by(Storefront.id)
        .first()
    )
    if row is None:
        created = await store_service.create_storefront(
            store_id,
            StorefrontCreate(
                name=STOREFRONT_NAME,
                cors_origins=list(STOREFRONT_ORIGINS),
                default_region=region_id,
            ),
        )
        say(f"storefront {STOREFRONT_NAME}: created")
        return DemoStorefront(
            id=created.storefront.id, name=STOREFRONT_NAME, publishable_key=created.publishable_key
        )
    storefront_id: str = row["id"]
    key = _saved_key(saved, storefront_id)
    if key is not None and await _is_storefront_key(key, storefront_id):
        say(f"storefront {STOREFRONT_NAME}: present")
        return DemoStorefront(id=storefront_id, name=STOREFRONT_NAME, publishable_key=key)
    rotated = await store_service.rotate_storefront_key(store_id, storefront_id)
    say(f"storefront {STOREFRONT_NAME}: present; rotated its publishable key")
    return DemoStorefront(
        id=storefront_id, name=STOREFRONT_NAME, publishable_key=rotated.publishable_key
    )


async def _ensure_catalog(store_id: str, say: Progress) -> None:
    rows = await Collection.select(Collection.id, Collection.handle).where(
        Collection.store == store_id
    )
    collections: dict[str, str] = {r["handle"]: r["id"] for r in rows}
    for handle, titles in COLLECTIONS.items():
        if handle in collections:
            continue
        data = msgspec.convert(
            {
                "handle": handle,
                "translations": {locale: {"title": title} for locale, title in titles.items()},
            },
            CollectionCreate,
        )
        created = await catalog_collections.create_collection(store_id, data)
        collections[handle] = created.id
        say(f"collection {handle}: created")
    rows = await Product.select(Product.handle).where(Product.store == store_id)
    present = {r["handle"] for r in rows}
    added = 0
    for collection, fields in PRODUCTS:
        if fields["handle"] in present:
            continue
        product = msgspec.convert(
            {**fields, "collection_ids": [collections[collection]]}, ProductCreate
        )
        await catalog_service.create_product(store_id, product)
        added += 1
        say(f"product {fields['handle']}: created")
    say(f"catalog: {len(COLLECTIONS)} collections, {len(PRODUCTS)} products ({added} new)")


async def seed_demo(
    progress: Progress | None = None,
    *,
    settings: Settings | None = None,
    handle: str = DEMO_HANDLE,
    credentials_file: Path | None = None,
) -> DemoCredentials:
    """Create (or complete) the demo store and return its credentials.

    The tables must be bound to the database of ``settings`` and migrated
    (``caravan demo`` does both). Running it again changes nothing but returns
    the same credentials, read back from the credentials file; secrets that
    were lost (no file) or no longer work are replaced by fresh ones.

    Args:
        progress: called with one line per step, for a progress display.
        settings: the settings whose database is seeded (default: the environment);
            they also decide where the credentials file lives.
        handle: the store's handle (tests seed stores under other handles).
        credentials_file: where the secrets are kept (default: :func:`credentials_path`).

    Returns:
        The operator token, the store's staff token and its storefront's
        publishable key.
    """
    say: Progress = progress or (lambda _line: None)
    settings = settings or Settings.from_env()
    path = credentials_file or credentials_path(settings, handle)
    database = display_url(settings.database_url)
    saved = await read_credentials(path)
    if saved is not None and saved.database != database:
        saved = None

    store_id, admin_token, saved_store = await _ensure_store(handle, saved, say)
    operator_token = await _ensure_operator(saved, say)
    regions = await _ensure_regions(store_id, say)
    storefront = await _ensure_storefront(store_id, regions[STOREFRONT_REGION], saved_store, say)
    store = await store_service.get_store(store_id)
    credentials = DemoCredentials(
        database=database,
        operator_token=operator_token,
        stores=[
            DemoStore(
                id=store_id,
                handle=handle,
                name=store.name,
                admin_token=admin_token,
                storefronts=[storefront],
            )
        ],
    )
    if credentials != saved:
        await write_credentials(path, credentials)
        say(f"credentials: written to {path}")
    await _ensure_catalog(store_id, say)
    return credentials
