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
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

import msgspec

from core.auth import service as auth_service
from core.auth.scopes import SCOPES
from core.catalog import service as catalog_service
from core.catalog.schemas import CollectionCreate, ProductCreate
from core.catalog.tables import Collection, Product
from core.db.engine import sqlite_path
from core.settings import Settings
from core.stores import service as store_service
from core.stores.schemas import RegionCreate, StoreCreate, StorefrontCreate
from core.stores.tables import Store, Storefront

#: The demo store's handle.
DEMO_HANDLE: Final = "demo"

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
# The demo data
# ---------------------------------------------------------------------------

STORE: Final = StoreCreate(
    handle=DEMO_HANDLE,
    name="Caravan Demo Outfitters",
    base_currency="EUR",
    home_country="DE",
    default_locale="en",
)

REGIONS: Final = (
    RegionCreate(
        code="eu",
        name="Europe",
        currency="EUR",
        countries=["DE", "FR", "AT", "NL", "BE", "ES", "IT", "IE"],
        locales=["de", "fr", "en"],
        tax_inclusive=True,
    ),
    RegionCreate(
        code="us",
        name="United States",
        currency="USD",
        countries=["US"],
        locales=["en"],
        tax_inclusive=False,
    ),
    RegionCreate(
        code="sea",
        name="Southeast Asia",
        currency="SGD",
        countries=["SG", "MY", "ID", "TH"],
        locales=["en", "zh_Hans", "id"],
        tax_inclusive=False,
    ),
)

STOREFRONT_NAME: Final = "Web"
STOREFRONT_ORIGINS: Final = ("http://localhost:3000", "http://127.0.0.1:3000")
STOREFRONT_REGION: Final = "eu"

#: Collection handle → title per locale.
COLLECTIONS: Final[dict[str, dict[str, str]]] = {
    "bags": {"en": "Bags", "de": "Taschen", "fr": "Sacs", "zh_Hans": "包袋", "id": "Tas"},
    "apparel": {
        "en": "Apparel",
        "de": "Bekleidung",
        "fr": "Vêtements",
        "zh_Hans": "服装",
        "id": "Pakaian",
    },
    "accessories": {
        "en": "Accessories",
        "de": "Accessoires",
        "fr": "Accessoires",
        "zh_Hans": "配饰",
        "id": "Aksesori",
    },
}


def _text(title: str, subtitle: str = "", description: str = "") -> dict[str, str]:
    return {"title": title, "subtitle": subtitle, "description": description}


def _product(
    handle: str,
    collection: str,
    *,
    tags: list[str],
    text: dict[str, dict[str, str]],
    option: tuple[str, list[str]] | None,
    sku: str,
    prices: tuple[int, int, int],
    weight_g: int,
    hs_code: str,
    origin: str,
) -> tuple[str, dict[str, Any]]:
    """One product: a variant per value of its option, each priced in EUR, USD and SGD.

    ``prices`` are integer minor units (4900 EUR is 49.00 €).
    """
    eur, usd, sgd = prices
    values: list[str | None] = list(option[1]) if option else [None]
    variants = [
        {
            "sku": sku if value is None else f"{sku}-{value.split()[0].upper()}",
            "options": {} if value is None or option is None else {option[0]: value},
            "weight_g": weight_g,
            "hs_code": hs_code,
            "origin_country": origin,
            "prices": [
                {"amount": eur, "currency": "EUR"},
                {"amount": usd, "currency": "USD"},
                {"amount": sgd, "currency": "SGD"},
            ],
        }
        for value in values
    ]
    return collection, {
        "handle": handle,
        "status": "active",
        "translations": text,
        "options": [{"name": option[0], "values": option[1]}] if option else [],
        "tags": tags,
        "variants": variants,
    }


COLOUR: Final = "Colour"
SIZE: Final = "Size"

#: ``(collection handle, ProductCreate fields)`` of every demo product.
PRODUCTS: Final[list[tuple[str, dict[str, Any]]]] = [
    _product(
        "everyday-tote",
        "bags",
        tags=["canvas", "bestseller"],
        text={
            "en": _text("Everyday Tote", "Heavy cotton canvas", "Fits a laptop and the shopping."),
            "de": _text("Alltags-Tasche", "Schweres Baumwoll-Canvas", "Für Laptop und Einkauf."),
            "fr": _text("Cabas du quotidien", "Toile de coton épaisse", "Ordinateur et courses."),
            "zh_Hans": _text("日常托特包", "厚棉帆布"),
            "id": _text("Tas Tote Harian", "Kanvas katun tebal"),
        },
        option=(COLOUR, ["Sand", "Black"]),
        sku="CDO-TOTE",
        prices=(4900, 5400, 7200),
        weight_g=620,
        hs_code="420292",
        origin="PT",
    ),
    _product(
        "weekender-duffel",
        "bags",
        tags=["canvas", "travel"],
        text={
            "en": _text("Weekender Duffel", "Waxed canvas, 40 litres", "Carry-on size."),
            "de": _text("Weekender", "Gewachstes Canvas, 40 Liter", "Handgepäckgröße."),
            "fr": _text("Sac week-end", "Toile cirée, 40 litres", "Format cabine."),
        },
        option=(COLOUR, ["Olive", "Navy"]),
        sku="CDO-DUFFEL",
        prices=(14900, 16500, 21900),
        weight_g=1450,
        hs_code="420292",
        origin="PT",
    ),
    _product(
        "city-backpack",
        "bags",
        tags=["travel", "waterproof"],
        text={
            "en": _text("City Roll-top Backpack", "Waterproof, 22 litres", "Padded laptop sleeve."),
            "de": _text("Rolltop-Rucksack", "Wasserdicht, 22 Liter", "Gepolstertes Laptopfach."),
            "fr": _text("Sac à dos roll-top", "Étanche, 22 litres", "Poche ordinateur rembourrée."),
            "zh_Hans": _text("城市卷顶背包", "防水 22升"),
            "id": _text("Ransel Roll-top Kota", "Tahan air, 22 liter"),
        },
        option=(COLOUR, ["Black", "Stone"]),
        sku="CDO-BACKPACK",
        prices=(11900, 12900, 17500),
        weight_g=980,
        hs_code="420292",
        origin="VN",
    ),
    _product(
        "leather-crossbody",
        "bags",
        tags=["leather"],
        text={
            "en": _text("Leather Crossbody", "Vegetable-tanned leather", "Adjustable strap."),
            "de": _text("Umhängetasche", "Pflanzlich gegerbtes Leder", "Verstellbarer Riemen."),
            "fr": _text("Sac bandoulière", "Cuir tanné végétal", "Bandoulière réglable."),
        },
        option=(COLOUR, ["Cognac", "Black"]),
        sku="CDO-CROSSBODY",
        prices=(12900, 13900, 18900),
        weight_g=540,
        hs_code="420221",
        origin="IT",
    ),
    _product(
        "merino-crew-sweater",
        "apparel",
        tags=["merino", "knitwear"],
        text={
            "en": _text("Merino Crew Sweater", "Extra-fine merino wool", "Warm and light."),
            "de": _text("Merino-Pullover", "Extrafeine Merinowolle", "Warm und leicht."),
            "fr": _text("Pull col rond mérinos", "Laine mérinos extra-fine", "Chaud et léger."),
        },
        option=(SIZE, ["S", "M", "L"]),
        sku="CDO-MERINO",
        prices=(8900, 9900, 12900),
        weight_g=380,
        hs_code="611011",
        origin="IT",
    ),
    _product(
        "organic-cotton-tee",
        "apparel",
        tags=["organic", "bestseller"],
        text={
            "en": _text("Organic Cotton Tee", "Heavyweight jersey", "An everyday T-shirt."),
            "de": _text(
                "T-Shirt aus Bio-Baumwolle", "Schwerer Jersey", "Ein T-Shirt für jeden Tag."
            ),
            "fr": _text("T-shirt en coton bio", "Jersey épais", "Un t-shirt de tous les jours."),
            "zh_Hans": _text("有机棉T恤", "厚实平纹针织"),
            "id": _text("Kaos Katun Organik", "Jersey tebal"),
        },
        option=(SIZE, ["S", "M", "L"]),
        sku="CDO-TEE",
        prices=(2900, 3200, 4200),
        weight_g=180,
        hs_code="610910",
        origin="PT",
    ),
    _product(
        "linen-shirt",
        "apparel",
        tags=["linen", "summer"],
        text={
            "en": _text("Linen Shirt", "Washed European linen", "Relaxed fit."),
            "de": _text("Leinenhemd", "Gewaschenes europäisches Leinen", "Lockere Passform."),
            "fr": _text("Chemise en lin", "Lin européen lavé", "Coupe décontractée."),
        },
        option=(SIZE, ["M", "L"]),
        sku="CDO-LINEN",
        prices=(6900, 7500, 9900),
        weight_g=240,
        hs_code="620590",
        origin="LT",
    ),
    _product(
        "rain-shell-jacket",
        "apparel",
        tags=["waterproof", "travel"],
        text={
            "en": _text("Rain Shell Jacket", "Packable 2.5-layer shell", "Seam-taped."),
            "de": _text("Regenjacke", "Verstaubare 2,5-Lagen-Jacke", "Getapte Nähte."),
            "fr": _text("Veste de pluie", "Coque 2,5 couches compactable", "Coutures étanches."),
            "id": _text("Jaket Hujan", "Jaket 2,5 lapis yang bisa dilipat"),
        },
        option=(SIZE, ["M", "L"]),
        sku="CDO-SHELL",
        prices=(15900, 17500, 22900),
        weight_g=450,
        hs_code="620193",
        origin="VN",
    ),
    _product(
        "wool-scarf",
        "accessories",
        tags=["merino", "winter"],
        text={
            "en": _text("Wool Scarf", "Lambswool, 180 by 30 cm", "Brushed for softness."),
            "de": _text("Wollschal", "Lammwolle, 180 mal 30 cm", "Angeraut und weich."),
            "fr": _text("Écharpe en laine", "Laine d'agneau, 180 sur 30 cm", "Brossée et douce."),
        },
        option=(COLOUR, ["Charcoal", "Rust"]),
        sku="CDO-SCARF",
        prices=(5900, 6500, 8500),
        weight_g=160,
        hs_code="611710",
        origin="IT",
    ),
    _product(
        "leather-belt",
        "accessories",
        tags=["leather"],
        text={
            "en": _text("Leather Belt", "35 mm, brass buckle", "Full-grain leather."),
            "de": _text("Ledergürtel", "35 mm, Messingschnalle", "Vollnarbenleder."),
            "fr": _text("Ceinture en cuir", "35 mm, boucle en laiton", "Cuir pleine fleur."),
        },
        option=(SIZE, ["85 cm", "95 cm"]),
        sku="CDO-BELT",
        prices=(5500, 5900, 7900),
        weight_g=210,
        hs_code="420330",
        origin="ES",
    ),
    _product(
        "card-wallet",
        "accessories",
        tags=["leather", "gift"],
        text={
            "en": _text("Card Wallet", "Holds six cards", "Slim enough for a front pocket."),
            "de": _text("Kartenetui", "Für sechs Karten", "Flach genug für die Hosentasche."),
            "fr": _text("Porte-cartes", "Pour six cartes", "Assez fin pour une poche avant."),
            "zh_Hans": _text("卡包", "可放六张卡"),
        },
        option=(COLOUR, ["Cognac", "Black"]),
        sku="CDO-WALLET",
        prices=(3900, 4300, 5600),
        weight_g=45,
        hs_code="420231",
        origin="IT",
    ),
    _product(
        "insulated-bottle",
        "accessories",
        tags=["travel", "gift"],
        text={
            "en": _text("Insulated Bottle", "Stainless steel, 750 ml", "Cold for 24 hours."),
            "de": _text("Isolierflasche", "Edelstahl, 750 ml", "24 Stunden kalt."),
            "fr": _text("Gourde isotherme", "Acier inoxydable, 750 ml", "Froid pendant 24 h."),
            "zh_Hans": _text("保温瓶", "不锈钢 750毫升"),
            "id": _text("Botol Termos", "Baja tahan karat, 750 ml"),
        },
        option=None,
        sku="CDO-BOTTLE-750",
        prices=(2900, 3200, 4200),
        weight_g=350,
        hs_code="732393",
        origin="TH",
    ),
]


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
        created = await catalog_service.create_collection(store_id, data)
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
