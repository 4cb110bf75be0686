"""Deterministic catalogue content for the benchmark.

Every product is derived from its index alone (``random.Random(index)``), so
two runs seed the same catalogue and the bare endpoint can serve a page of the
same shape and size as the real listing without touching a database.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Final

import msgspec

LOCALES: Final = ("en", "de", "fr", "es")
SIZES: Final = ("S", "M", "L")
CURRENCIES: Final = ("EUR", "USD", "SGD")

#: Conversion from the EUR base price (rounded to ``…99`` minor units).
_RATES: Final = {"EUR": 1.0, "USD": 1.08, "SGD": 1.45}

_COLOURS: Final = {
    "en": ["Indigo", "Sand", "Olive", "Charcoal", "Rust", "Sky", "Ivory", "Moss"],
    "de": ["Indigo", "Sand", "Oliv", "Anthrazit", "Rost", "Himmelblau", "Elfenbein", "Moos"],
    "fr": ["Indigo", "Sable", "Olive", "Anthracite", "Rouille", "Ciel", "Ivoire", "Mousse"],
    "es": ["Índigo", "Arena", "Oliva", "Carbón", "Óxido", "Cielo", "Marfil", "Musgo"],
}
_NOUNS: Final = {
    "en": [
        "Linen Shirt",
        "Merino Sweater",
        "Canvas Tote",
        "Wool Scarf",
        "Denim Jacket",
        "Cotton Tee",
        "Rain Parka",
        "Leather Belt",
        "Chino Trousers",
        "Knit Beanie",
    ],
    "de": [
        "Leinenhemd",
        "Merinopullover",
        "Canvas-Tasche",
        "Wollschal",
        "Jeansjacke",
        "Baumwoll-T-Shirt",
        "Regenparka",
        "Ledergürtel",
        "Chinohose",
        "Strickmütze",
    ],
    "fr": [
        "Chemise en lin",
        "Pull en mérinos",
        "Cabas en toile",
        "Écharpe en laine",
        "Veste en jean",
        "T-shirt en coton",
        "Parka de pluie",
        "Ceinture en cuir",
        "Pantalon chino",
        "Bonnet en maille",
    ],
    "es": [
        "Camisa de lino",
        "Jersey de merino",
        "Bolso de lona",
        "Bufanda de lana",
        "Chaqueta vaquera",
        "Camiseta de algodón",
        "Parka impermeable",
        "Cinturón de cuero",
        "Pantalón chino",
        "Gorro de punto",
    ],
}
_SUBTITLES: Final = {
    "en": "Made to last, designed in Lisbon, shipped worldwide",
    "de": "Langlebig gefertigt, in Lissabon entworfen, weltweit versendet",
    "fr": "Fait pour durer, conçu à Lisbonne, expédié dans le monde entier",
    "es": "Hecho para durar, diseñado en Lisboa, enviado a todo el mundo",
}
_SENTENCES: Final = {
    "en": [
        "Cut from responsibly sourced fibres and finished by a family-run mill.",
        "A relaxed fit that layers easily from spring to late autumn.",
        "Garment-dyed for a soft hand feel and colour that ages gracefully.",
        "Reinforced seams and corozo buttons for years of everyday wear.",
        "Machine washable at 30 °C; dry flat to keep its shape.",
    ],
    "de": [
        "Aus verantwortungsvoll gewonnenen Fasern, veredelt in einer Familienweberei.",
        "Eine entspannte Passform, die sich vom Frühling bis zum Spätherbst kombinieren lässt.",
        "Stückgefärbt für einen weichen Griff und Farben, die schön altern.",
        "Verstärkte Nähte und Steinnussknöpfe für jahrelangen Alltagsgebrauch.",
        "Maschinenwaschbar bei 30 °C; liegend trocknen, damit die Form erhalten bleibt.",
    ],
    "fr": [
        "Taillé dans des fibres d'origine responsable et fini par une filature familiale.",
        "Une coupe décontractée qui se superpose du printemps à la fin de l'automne.",
        "Teint en pièce pour un toucher doux et des couleurs qui vieillissent bien.",
        "Coutures renforcées et boutons en corozo pour des années d'usage quotidien.",
        "Lavable en machine à 30 °C ; sécher à plat pour garder sa forme.",
    ],
    "es": [
        "Confeccionado con fibras de origen responsable y acabado en una hilatura familiar.",
        "Un corte relajado que se combina fácilmente de primavera a finales de otoño.",
        "Teñido en prenda para un tacto suave y colores que envejecen con elegancia.",
        "Costuras reforzadas y botones de corozo para años de uso diario.",
        "Lavable a máquina a 30 °C; secar en plano para mantener la forma.",
    ],
}
_CATEGORIES: Final = ["tops", "knitwear", "bags", "accessories", "outerwear", "bottoms"]


@dataclass(frozen=True, slots=True)
class VariantSpec:
    """One variant of a generated product."""

    sku: str
    size: str
    weight_g: int
    position: int
    #: Minor units by currency code.
    prices: dict[str, int]


@dataclass(frozen=True, slots=True)
class ProductSpec:
    """One generated product with its content in every locale."""

    index: int
    handle: str
    status: str
    options: list[dict[str, Any]]
    media: list[dict[str, str]]
    tags: list[str]
    #: ``{locale: (title, subtitle, description)}``
    translations: dict[str, tuple[str, str, str]]
    variants: list[VariantSpec]


def _price(eur: int, currency: str) -> int:
    """Convert a EUR amount and round it to a ``…99`` price point."""
    converted = int(eur * _RATES[currency])
    return max(99, converted - converted % 100 + 99)


def product_spec(index: int) -> ProductSpec:
    """Return product number ``index`` (deterministic)."""
    rng = random.Random(index)
    colour = rng.randrange(len(_COLOURS["en"]))
    noun = rng.randrange(len(_NOUNS["en"]))
    sentences = rng.sample(range(len(_SENTENCES["en"])), 3)
    slug = f"{_COLOURS['en'][colour]} {_NOUNS['en'][noun]}".lower().replace(" ", "-")
    handle = f"{slug}-{index:05d}"
    translations = {
        loc: (
            f"{_NOUNS[loc][noun]} {_COLOURS[loc][colour]} {index}",
            _SUBTITLES[loc],
            " ".join(_SENTENCES[loc][s] for s in sentences),
        )
        for loc in LOCALES
    }
    base = rng.randrange(19, 250) * 100 - 1
    variants = [
        VariantSpec(
            sku=f"BN-{index:05d}-{size}",
            size=size,
            weight_g=200 + 40 * position + rng.randrange(0, 30),
            position=position,
            prices={c: _price(base + 500 * position, c) for c in CURRENCIES},
        )
        for position, size in enumerate(SIZES)
    ]
    return ProductSpec(
        index=index,
        handle=handle,
        status="active",
        options=[{"name": "Size", "values": list(SIZES)}],
        media=[
            {
                "url": f"https://cdn.example.com/products/{handle}/front.jpg",
                "alt": translations["en"][0],
            }
        ],
        tags=[_CATEGORIES[noun % len(_CATEGORIES)], _COLOURS["en"][colour].lower()],
        translations=translations,
        variants=variants,
    )


def _formatted(amount: int, currency: str) -> str:
    symbol = {"EUR": "€", "USD": "$", "SGD": "S$"}[currency]
    return f"{symbol}{amount // 100}.{amount % 100:02d}"


def storefront_page(count: int = 20, locale: str = "en", currency: str = "EUR") -> bytes:
    """Encode a ``StoreProductPage``-shaped listing of ``count`` products (about 1 KB each)."""
    items = []
    for index in range(count):
        spec = product_spec(index)
        title, subtitle, description = spec.translations[locale]
        variants = [
            {
                "id": f"var_01JDBENCH{index:06d}{v.position:010d}",
                "sku": v.sku,
                "options": {"Size": v.size},
                "weight_g": v.weight_g,
                "price": {
                    "amount": v.prices[currency],
                    "currency": currency,
                    "formatted": _formatted(v.prices[currency], currency),
                },
            }
            for v in spec.variants
        ]
        items.append(
            {
                "id": f"prod_01JDBENCH{index:016d}",
                "handle": spec.handle,
                "locale": locale,
                "title": title,
                "subtitle": subtitle,
                "description": description,
                "options": spec.options,
                "media": spec.media,
                "tags": spec.tags,
                "price": variants[0]["price"],
                "variants": variants,
            }
        )
    page = {
        "items": items,
        "next_cursor": "eyJpZCI6InByb2RfMDFKREJFTkNIMDAwMDAwMDAwMDAwMDAxOSJ9",
        "region": "eu",
        "currency": currency,
        "locale": locale,
    }
    return msgspec.json.encode(page)
