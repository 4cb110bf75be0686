"""The demo store's data: store, regions, storefront, collections, products, and what a
full order needs (warehouse stock, payment, tax and shipping providers and their tables)."""

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

# ---------------------------------------------------------------------------
# What a full order needs: stock, providers, tax rates, shipping
# ---------------------------------------------------------------------------

#: The warehouse every region takes stock from.
WAREHOUSE: Final = {"code": "berlin", "name": "Berlin", "country": "DE"}
#: Units received into the warehouse for every demo variant (once).
STOCK_PER_VARIANT: Final = 100

_IBAN = "IBAN DE89 3704 0044 0532 0130 00, BIC COBADEFFXXX"

#: The manual payment provider's configuration per region code: a bank
#: transfer, with instructions in the region's languages.
PAYMENT_CONFIG: Final[dict[str, dict[str, Any]]] = {
    "eu": {
        "kind": "bank_transfer",
        "instructions": {
            "de": f"Bitte überweisen Sie den Betrag an {_IBAN}; "
            "Verwendungszweck: Ihre Bestellnummer. Wir versenden nach Zahlungseingang.",
            "fr": f"Veuillez virer le montant sur {_IBAN} ; "
            "référence : votre numéro de commande. Nous expédions dès réception du paiement.",
            "en": f"Please transfer the amount to {_IBAN}; "
            "reference: your order number. We ship once the payment has arrived.",
        },
    },
    "us": {
        "kind": "bank_transfer",
        "instructions": {
            "en": "Please send a wire or ACH transfer to Caravan Demo Outfitters, "
            "routing 026009593, account 0001 2345 6789; reference: your order number. "
            "We ship once the payment has arrived.",
        },
    },
    "sea": {
        "kind": "bank_transfer",
        "instructions": {
            "en": "Please transfer the amount to DBS Bank, account 012-345678-9 "
            "(Caravan Demo Outfitters); reference: your order number. "
            "We ship once the payment has arrived.",
            "zh_Hans": "请将款项转账至星展银行账户 012-345678-9 (Caravan Demo Outfitters)。"
            "转账备注请填写您的订单号。收到付款后我们即发货。",
            "id": "Silakan transfer ke DBS Bank, rekening 012-345678-9 "
            "(Caravan Demo Outfitters); berita: nomor pesanan Anda. "
            "Kami mengirim setelah pembayaran diterima.",
        },
    },
}

#: The rate-table tax provider's configuration per region code. EU VAT follows
#: the goods onto the delivery charge; Malaysia's low-value goods sales tax
#: excludes shipping from its base, so the Southeast Asia region leaves shipping
#: untaxed, as do the United States (whose table starts empty: see
#: :data:`TAX_RATES`).
TAX_CONFIG: Final[dict[str, dict[str, Any]]] = {
    "eu": {"tax_shipping": True},
    "us": {"tax_shipping": False},
    "sea": {"tax_shipping": False},
}


def _rate(country: str, rate: str, category: str = "standard", name: str = "VAT") -> dict[str, str]:
    return {"country": country, "rate": rate, "category": category, "name": name}


def _vat(country: str, standard: str, reduced: str) -> tuple[dict[str, str], ...]:
    return _rate(country, standard), _rate(country, reduced, "reduced")


#: The rate table, from ../shared/reference/tax-rates.json (late 2026): every
#: EU country of the Europe region at its standard rate and its lowest reduced
#: rate (the one books and food take). The United States get no rate: sales tax
#: depends on the state (and county) and on economic nexus, so a US merchant
#: adds the rates of the states where it has nexus (``"subdivision": "CA"``) or
#: installs a sales-tax plugin; until then US orders carry no tax. Singapore: GST
#: 9 % on low-value goods; Malaysia: 10 % sales tax on low-value goods (LVG);
#: Indonesia: 12 % VAT on 11/12 of the price for non-luxury goods, 11 %
#: effective. Thailand is not in the reference, so it has no rate (taxed 0).
TAX_RATES: Final[tuple[dict[str, str], ...]] = (
    *_vat("DE", "0.19", "0.07"),
    *_vat("FR", "0.2", "0.055"),
    *_vat("AT", "0.2", "0.1"),
    *_vat("NL", "0.21", "0.09"),
    *_vat("BE", "0.21", "0.06"),
    *_vat("ES", "0.21", "0.1"),
    *_vat("IT", "0.22", "0.05"),
    *_vat("IE", "0.23", "0.09"),
    _rate("SG", "0.09", name="GST"),
    _rate("MY", "0.1", name="Sales tax (LVG)"),
    _rate("ID", "0.11", name="VAT (PPN)"),
)


def _band(
    name: str,
    amount: int,
    currency: str,
    grams: tuple[int, int | None],
    days: tuple[int, int],
    free_above: int | None = None,
) -> dict[str, Any]:
    low, high = grams
    return {
        "name": name,
        "amount": amount,
        "currency": currency,
        "basis": "weight",
        "min": low,
        "max": high,
        "free_above": free_above,
        "min_days": days[0],
        "max_days": days[1],
    }


#: The table-rate shipping provider's zones (one per region, over its
#: countries) and their rates by weight band (grams, ``min <= weight < max``),
#: in the region's currency. Standard shipping is free from a subtotal of
#: 75 € / $100 / S$150; express never is.
SHIPPING_ZONES: Final[dict[str, tuple[dict[str, Any], ...]]] = {
    "eu": (
        _band("Standard", 490, "EUR", (0, 2000), (2, 4), free_above=7500),
        _band("Standard", 890, "EUR", (2000, None), (2, 4), free_above=7500),
        _band("Express", 1490, "EUR", (0, 2000), (1, 2)),
        _band("Express", 2290, "EUR", (2000, None), (1, 2)),
    ),
    "us": (
        _band("Standard", 695, "USD", (0, 2000), (3, 7), free_above=10000),
        _band("Standard", 1195, "USD", (2000, None), (3, 7), free_above=10000),
        _band("Express", 2495, "USD", (0, None), (1, 2)),
    ),
    "sea": (
        _band("Standard", 800, "SGD", (0, 2000), (4, 10), free_above=15000),
        _band("Standard", 1500, "SGD", (2000, None), (4, 10), free_above=15000),
        _band("Express", 2800, "SGD", (0, None), (2, 4)),
    ),
}

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
