"""The demo store's data: store, regions, storefront, collections and products."""

from __future__ import annotations

from typing import Any, Final

from core.stores.schemas import RegionCreate, StoreCreate

#: The demo store's handle.
DEMO_HANDLE: Final = "demo"

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
