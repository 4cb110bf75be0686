"""The demo store: ``caravan demo`` seeds it, ``make run`` serves it.

:func:`seed_demo` creates "Caravan Demo Outfitters" (handle ``demo``): a
store selling in Europe (EUR, tax-inclusive), the United States (USD) and
Southeast Asia (SGD), one storefront and a small catalog translated into
English, German and French (some products also into Simplified Chinese and
Indonesian), priced in every region's currency, and everything a full
order needs: a warehouse serving every region with stock of every variant,
and the built-in providers active in every region (manual payment by bank
transfer, rate-table tax, table-rate shipping) with their tax rates and
shipping zones.

The core does not import plugin packages, so the providers' own data (tax
rates, shipping zones) is seeded the way a merchant would: through the admin
HTTP API, sent in-process to the application (an httpx client over ASGI)
with the store's staff token. The core parts of that set-up (warehouse,
stock, activations) go the same way, so the whole order set-up is checked
by the same validation as a merchant's requests.

Seeding is idempotent: what exists is left alone, what is missing is added.
Tokens and publishable keys are stored hashed, so the secrets are kept in a
credentials file (mode 600) next to the SQLite database, or in the current
directory for PostgreSQL; a later run reads them back. When the file is
missing or its secrets no longer work, fresh ones are minted (and the
storefront key rotated) and the file is rewritten.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import msgspec

from core.app import create_app
from core.app.demo_data import (
    COLLECTIONS,
    DEMO_HANDLE,
    PAYMENT_CONFIG,
    PRODUCTS,
    REGIONS,
    SHIPPING_ZONES,
    STOCK_PER_VARIANT,
    STORE,
    STOREFRONT_NAME,
    STOREFRONT_ORIGINS,
    STOREFRONT_REGION,
    TAX_CONFIG,
    TAX_RATES,
    WAREHOUSE,
)
from core.auth import service as auth_service
from core.auth.scopes import SCOPES
from core.catalog import collections as catalog_collections
from core.catalog import service as catalog_service
from core.catalog.schemas import CollectionCreate, ProductCreate
from core.catalog.tables import Collection, Product
from core.db import engine as db
from core.db.engine import sqlite_path
from core.kernel.settings import Settings
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


# ---------------------------------------------------------------------------
# What a full order needs, through the admin API
# ---------------------------------------------------------------------------


class SeedError(RuntimeError):
    """The admin API refused a seeding request (the demo store was changed by hand)."""


class _Admin:
    """The demo store's admin API, with its staff token."""

    def __init__(self, client: httpx.AsyncClient, token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    async def send(
        self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None
    ) -> Any:
        """Send one request; return the decoded answer, or raise :class:`SeedError`."""
        r = await self.client.request(method, path, headers=self.headers, json=body, params=params)
        if r.status_code >= 300:
            raise SeedError(f"{method} {path} answered {r.status_code}: {r.text}")
        return r.json() if r.content else None

    async def all(self, path: str) -> list[dict[str, Any]]:
        """Every item of a cursor-paginated listing."""
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
            page = await self.send("GET", path, params=params)
            items += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                return items


@asynccontextmanager
async def in_process_api(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The application of ``settings``, answering an httpx client in this process.

    The database must be open already (tables bound to a started engine, as
    ``caravan demo`` does): the application keeps using that engine.
    """
    engine = db.current()
    app = create_app(settings)
    db.bind(engine, app.state.plugins.tables)  # create_app bound a new engine; keep the open one
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]  # Litestar is ASGI
    requests_log = logging.getLogger("httpx")  # one line per request: not progress
    level = requests_log.level
    requests_log.setLevel(logging.WARNING)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://caravan.demo") as client:
            yield client
    finally:
        requests_log.setLevel(level)


async def _ensure_warehouse(admin: _Admin, regions: dict[str, str], say: Progress) -> str:
    """Return the demo warehouse's id; it serves every region (first choice)."""
    code = WAREHOUSE["code"]
    found = [w for w in await admin.all("/admin/warehouses") if w["code"] == code]
    if found:
        warehouse_id: str = found[0]["id"]
        say(f"warehouse {code}: present")
    else:
        warehouse_id = (await admin.send("POST", "/admin/warehouses", WAREHOUSE))["id"]
        say(f"warehouse {code}: created ({warehouse_id})")
    for region_code, region_id in regions.items():
        path = f"/admin/regions/{region_id}/warehouses"
        serving = [w["id"] for w in (await admin.send("GET", path))["warehouses"]]
        if warehouse_id not in serving:
            await admin.send("PUT", path, {"warehouse_ids": [warehouse_id, *serving]})
            say(f"region {region_code}: served by warehouse {code}")
    return warehouse_id


async def _ensure_stock(admin: _Admin, warehouse_id: str, say: Progress) -> None:
    """Receive stock of every demo variant that has none in the warehouse yet.

    A variant that has a stock level there already is left alone (orders
    may have sold some of it).
    """
    variants = [v["id"] for p in await admin.all("/admin/products") for v in p["variants"]]
    added = 0
    for variant_id in variants:
        path = f"/admin/variants/{variant_id}/inventory"
        levels = (await admin.send("GET", path))["levels"]
        if any(level["warehouse_id"] == warehouse_id for level in levels):
            continue
        body = {"quantity": STOCK_PER_VARIANT, "reason": "received", "note": "demo stock"}
        await admin.send("POST", f"{path}/{warehouse_id}/adjustments", body)
        added += 1
    say(f"stock: {len(variants)} variants, {STOCK_PER_VARIANT} units each ({added} new)")


def _activations(region_code: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(kind, code, configuration) of the built-in providers of a region."""
    wanted = [("payment", "manual", PAYMENT_CONFIG[region_code])]
    if region_code in TAX_CONFIG:
        wanted.append(("tax", "rate_table", TAX_CONFIG[region_code]))
    wanted.append(("shipping", "table_rate", {}))
    return wanted


async def _ensure_providers(admin: _Admin, regions: dict[str, str], say: Progress) -> None:
    """Activate the built-in providers in every region (an activation present is kept)."""
    total = added = 0
    for region_code, region_id in regions.items():
        path = f"/admin/regions/{region_id}/providers"
        active = {(a["kind"], a["code"]) for a in await admin.send("GET", path)}
        for kind, code, config in _activations(region_code):
            total += 1
            if (kind, code) not in active:
                await admin.send("PUT", f"{path}/{kind}/{code}", {"config": config})
                added += 1
    say(f"providers: {total} activations in {len(regions)} regions ({added} new)")


async def _ensure_tax_rates(admin: _Admin, say: Progress) -> None:
    """Add the demo tax rates a country and category has none of."""
    present = {(r["country"], r["category"]) for r in await admin.all("/admin/tax-rates")}
    added = 0
    for rate in TAX_RATES:
        if (rate["country"], rate["category"]) not in present:
            await admin.send("POST", "/admin/tax-rates", rate)
            added += 1
    say(f"tax rates: {len(TAX_RATES)} ({added} new)")


def _rate_key(rate: dict[str, Any]) -> tuple[Any, ...]:
    return rate["name"], rate["currency"], rate["basis"], rate["min"]


async def _ensure_shipping(admin: _Admin, say: Progress) -> None:
    """One shipping zone per region (named after it) with the demo rates."""
    zones = {z["name"]: z for z in await admin.all("/admin/shipping-zones")}
    total = added = 0
    for region in REGIONS:
        zone = zones.get(region.name)
        if zone is None:
            body = {"name": region.name, "countries": region.countries}
            zone = await admin.send("POST", "/admin/shipping-zones", body)
            say(f"shipping zone {region.name}: created")
        present = {_rate_key(r) for r in zone["rates"]}
        for rate in SHIPPING_ZONES[region.code]:
            total += 1
            if _rate_key(rate) not in present:
                await admin.send("POST", f"/admin/shipping-zones/{zone['id']}/rates", rate)
                added += 1
    say(f"shipping: {len(REGIONS)} zones, {total} rates ({added} new)")


async def _ensure_commerce(
    client: httpx.AsyncClient, token: str, regions: dict[str, str], say: Progress
) -> None:
    """Stock, providers, tax rates and shipping zones: what a full order needs."""
    admin = _Admin(client, token)
    warehouse_id = await _ensure_warehouse(admin, regions, say)
    await _ensure_stock(admin, warehouse_id, say)
    await _ensure_providers(admin, regions, say)
    await _ensure_tax_rates(admin, say)
    await _ensure_shipping(admin, say)


async def seed_demo(
    progress: Progress | None = None,
    *,
    settings: Settings | None = None,
    handle: str = DEMO_HANDLE,
    credentials_file: Path | None = None,
    api: httpx.AsyncClient | None = None,
) -> DemoCredentials:
    """Create (or complete) the demo store and return its credentials.

    The tables must be bound to the database of ``settings`` (open) and
    migrated (``caravan demo`` does both). Running it again changes nothing but returns
    the same credentials, read back from the credentials file; secrets that
    were lost (no file) or no longer work are replaced by fresh ones.

    Args:
        progress: called with one line per step, for a progress display.
        settings: the settings whose database is seeded (default: the environment);
            they also decide where the credentials file lives.
        handle: the store's handle (tests seed stores under other handles).
        credentials_file: where the secrets are kept (default: :func:`credentials_path`).
        api: a client of the application serving this database, for the admin
            requests that set up orders (default: :func:`in_process_api`).

    Returns:
        The operator token, the store's staff token and its storefront's
        publishable key.

    Raises:
        SeedError: the admin API refused a request (the demo store was changed
            by hand so that the demo data no longer fits).
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
    if api is not None:
        await _ensure_commerce(api, admin_token, regions, say)
    else:
        async with in_process_api(settings) as client:
            await _ensure_commerce(client, admin_token, regions, say)
    return credentials
