"""Request and response bodies of the catalog."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from core.kernel.validation import Amount, CountryCode, CurrencyCode, Handle, LocaleCode, Url

Status = Literal["draft", "active", "archived"]
Sort = Literal["newest", "oldest", "price_asc", "price_desc", "handle"]

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
Subtitle = Annotated[str, msgspec.Meta(max_length=255)]
Description = Annotated[str, msgspec.Meta(max_length=20_000)]
Label = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Sku = Annotated[
    str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")
]
Barcode = Annotated[str, msgspec.Meta(max_length=64, pattern=r"^[0-9A-Za-z-]*$")]
HsCode = Annotated[str, msgspec.Meta(pattern=r"^(\d{6,10})?$")]
Grams = Annotated[int, msgspec.Meta(ge=0, le=10_000_000)]
Millimetres = Annotated[int, msgspec.Meta(ge=0, le=100_000)]
Id = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]


class Translation(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Product content in one locale."""

    title: Title
    subtitle: Subtitle = ""
    description: Description = ""


class OptionDef(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A product option and its values (``Size``: ``S``, ``M``, ``L``)."""

    name: Label
    values: Annotated[list[Label], msgspec.Meta(min_length=1, max_length=100)]


class MediaItem(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """An image or video of the product, by URL."""

    url: Url
    alt: Subtitle = ""


class Price(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A price in integer minor units of ``currency`` (1299 EUR = 12.99 €)."""

    amount: Amount
    currency: CurrencyCode


class VariantCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A sellable unit of the product."""

    sku: Sku
    barcode: Barcode = ""
    options: Annotated[dict[Label, Label], msgspec.Meta(max_length=10)] = {}
    weight_g: Grams = 0
    length_mm: Millimetres = 0
    width_mm: Millimetres = 0
    height_mm: Millimetres = 0
    hs_code: HsCode = ""
    origin_country: CountryCode | None = None
    prices: Annotated[list[Price], msgspec.Meta(max_length=50)] = []


class VariantUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Changes to a variant; ``prices``, when given, replaces every price."""

    sku: Sku | None = None
    barcode: Barcode | None = None
    options: Annotated[dict[Label, Label], msgspec.Meta(max_length=10)] | None = None
    weight_g: Grams | None = None
    length_mm: Millimetres | None = None
    width_mm: Millimetres | None = None
    height_mm: Millimetres | None = None
    hs_code: HsCode | None = None
    origin_country: CountryCode | None = None
    prices: Annotated[list[Price], msgspec.Meta(max_length=50)] | None = None


Translations = Annotated[dict[LocaleCode, Translation], msgspec.Meta(min_length=1, max_length=50)]
Options = Annotated[list[OptionDef], msgspec.Meta(max_length=5)]
Media = Annotated[list[MediaItem], msgspec.Meta(max_length=50)]
Tags = Annotated[list[Label], msgspec.Meta(max_length=50)]
#: The tax category the region's tax provider rates a product by (``standard``, ``reduced``…).
TaxCategory = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
CollectionIds = Annotated[list[Id], msgspec.Meta(max_length=50)]


class ProductCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A new product; ``translations`` must include the store's default locale."""

    handle: Handle
    status: Status = "draft"
    translations: Translations
    options: Options = []
    media: Media = []
    tags: Tags = []
    tax_category: TaxCategory = "standard"
    variants: Annotated[list[VariantCreate], msgspec.Meta(min_length=1, max_length=100)]
    collection_ids: CollectionIds = []


class ProductUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Changes to a product.

    ``translations`` is merged by locale (``null`` removes a locale);
    ``collection_ids``, when given, replaces the product's collections.
    """

    handle: Handle | None = None
    status: Status | None = None
    translations: (
        Annotated[dict[LocaleCode, Translation | None], msgspec.Meta(max_length=50)] | None
    ) = None
    options: Options | None = None
    media: Media | None = None
    tags: Tags | None = None
    tax_category: TaxCategory | None = None
    collection_ids: CollectionIds | None = None


class VariantRead(msgspec.Struct, kw_only=True):
    """A variant as the admin API shows it."""

    id: str
    sku: str
    barcode: str
    options: dict[str, str]
    weight_g: int
    length_mm: int
    width_mm: int
    height_mm: int
    hs_code: str
    origin_country: str | None
    prices: list[Price]


class ProductRead(msgspec.Struct, kw_only=True):
    """A product as the admin API shows it (every locale, every price)."""

    id: str
    handle: str
    status: Status
    translations: dict[str, Translation]
    options: list[OptionDef]
    media: list[MediaItem]
    tags: list[str]
    tax_category: str
    variants: list[VariantRead]
    collection_ids: list[str]
    created_at: datetime
    updated_at: datetime


class CollectionCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A new collection; ``translations`` holds its title per locale."""

    handle: Handle
    translations: Translations


class CollectionUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Changes to a collection (``translations`` merged by locale, ``null`` removes)."""

    handle: Handle | None = None
    translations: (
        Annotated[dict[LocaleCode, Translation | None], msgspec.Meta(max_length=50)] | None
    ) = None


class CollectionRead(msgspec.Struct, kw_only=True):
    """A collection as the admin API shows it."""

    id: str
    handle: str
    translations: dict[str, Translation]
    created_at: datetime
    updated_at: datetime


# ---------------------------------------------------------------------------
# Storefront views: one locale, the region's currency
# ---------------------------------------------------------------------------


class PriceView(msgspec.Struct, kw_only=True):
    """A price in the region's currency, formatted for the shopper's locale."""

    amount: int
    currency: str
    formatted: str


class StoreVariant(msgspec.Struct, kw_only=True):
    """A variant as shoppers see it."""

    id: str
    sku: str
    options: dict[str, str]
    weight_g: int
    price: PriceView


class StoreProduct(msgspec.Struct, kw_only=True):
    """A product in one locale with prices in one currency."""

    id: str
    handle: str
    locale: str
    title: str
    subtitle: str
    description: str
    options: list[OptionDef]
    media: list[MediaItem]
    tags: list[str]
    price: PriceView
    variants: list[StoreVariant]


class StoreProductPage(msgspec.Struct, kw_only=True):
    """A page of the storefront product listing."""

    items: list[StoreProduct]
    next_cursor: str | None
    region: str
    currency: str
    locale: str


class StoreCollection(msgspec.Struct, kw_only=True):
    """A collection in one locale."""

    id: str
    handle: str
    locale: str
    title: str
    description: str


class StoreCollectionPage(msgspec.Struct, kw_only=True):
    """A page of the storefront collection listing."""

    items: list[StoreCollection]
    next_cursor: str | None
