"""Products, variants, prices, translations and collections."""

from __future__ import annotations

from piccolo.columns import JSON, BigInt, ForeignKey, Integer, Text, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from core.db.columns import id_column, timestamp_now
from core.db.engine import UNBOUND
from core.stores.tables import Store


class Product(Table, tablename="products", db=UNBOUND):
    """A product of a store; its sellable units are its variants."""

    caravan_unique = (("store", "handle"),)
    caravan_indexes = (("store", "status", "id"),)

    id = id_column()
    store = ForeignKey(Store, on_delete=OnDelete.cascade, null=False)
    handle = Varchar(length=128)
    status = Varchar(length=16, default="draft")
    #: ``[{"name": "Size", "values": ["S", "M"]}]``
    options = JSON(default="[]")
    #: ``[{"url": "https://…", "alt": "…"}]``
    media = JSON(default="[]")
    tags = JSON(default="[]")
    #: The tax category the region's tax provider rates it by.
    tax_category = Varchar(length=32, default="standard")
    created_at = timestamp_now()
    updated_at = timestamp_now()


class ProductTranslation(Table, tablename="product_translations", db=UNBOUND):
    """A product's content in one locale."""

    caravan_unique = (("product", "locale"),)

    id = id_column()
    store = ForeignKey(Store, on_delete=OnDelete.cascade, null=False, index=True)
    product = ForeignKey(Product, on_delete=OnDelete.cascade, null=False)
    locale = Varchar(length=16)
    title = Varchar(length=255)
    subtitle = Varchar(length=255, default="")
    description = Text(default="")


class Variant(Table, tablename="variants", db=UNBOUND):
    """A sellable unit of a product (one combination of its options)."""

    caravan_unique = (("store", "sku"),)

    id = id_column()
    store = ForeignKey(Store, on_delete=OnDelete.cascade, null=False)
    product = ForeignKey(Product, on_delete=OnDelete.cascade, null=False, index=True)
    sku = Varchar(length=64)
    barcode = Varchar(length=64, default="")
    #: ``{"Size": "M", "Colour": "Blue"}``
    options = JSON(default="{}")
    weight_g = Integer(default=0)
    length_mm = Integer(default=0)
    width_mm = Integer(default=0)
    height_mm = Integer(default=0)
    hs_code = Varchar(length=12, default="")
    origin_country = Varchar(length=2, default="")
    position = Integer(default=0)
    created_at = timestamp_now()


class VariantPrice(Table, tablename="variant_prices", db=UNBOUND):
    """The price of a variant in one currency, in integer minor units."""

    caravan_unique = (("variant", "currency"),)
    caravan_indexes = (("store", "currency", "amount"),)

    id = id_column()
    store = ForeignKey(Store, on_delete=OnDelete.cascade, null=False)
    product = ForeignKey(Product, on_delete=OnDelete.cascade, null=False, index=True)
    variant = ForeignKey(Variant, on_delete=OnDelete.cascade, null=False)
    currency = Varchar(length=3)
    amount = BigInt()


class ProductPrice(Table, tablename="product_prices", db=UNBOUND):
    """The lowest variant price of a product per currency (its "from" price).

    Derived from :class:`VariantPrice` in the same transaction as every price
    change; listings sort and filter by it through an index instead of
    computing every product's minimum.
    """

    caravan_unique = (("product", "currency"),)
    caravan_indexes = (("store", "currency", "min_amount", "product"),)

    id = id_column()
    store = ForeignKey(Store, on_delete=OnDelete.cascade, null=False)
    product = ForeignKey(Product, on_delete=OnDelete.cascade, null=False)
    currency = Varchar(length=3)
    min_amount = BigInt()


class Collection(Table, tablename="collections", db=UNBOUND):
    """A merchandising group of products (translated titles in ``translations``)."""

    caravan_unique = (("store", "handle"),)

    id = id_column()
    store = ForeignKey(Store, on_delete=OnDelete.cascade, null=False)
    handle = Varchar(length=128)
    #: ``{"en": {"title": "…", "description": "…"}, "de": {…}}``
    translations = JSON(default="{}")
    created_at = timestamp_now()
    updated_at = timestamp_now()


class CollectionProduct(Table, tablename="collection_products", db=UNBOUND):
    """Membership of a product in a collection."""

    caravan_unique = (("collection", "product"),)

    id = id_column()
    store = ForeignKey(Store, on_delete=OnDelete.cascade, null=False, index=True)
    collection = ForeignKey(Collection, on_delete=OnDelete.cascade, null=False)
    product = ForeignKey(Product, on_delete=OnDelete.cascade, null=False, index=True)
    position = Integer(default=0)
