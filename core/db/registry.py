"""The list of every Piccolo table the core owns."""

from __future__ import annotations

from piccolo.table import Table


def core_tables() -> list[type[Table]]:
    """Return the core's tables, parents before children."""
    from core.auth.tables import ApiToken
    from core.catalog.tables import (
        Collection,
        CollectionProduct,
        Product,
        ProductPrice,
        ProductTranslation,
        Variant,
        VariantPrice,
    )
    from core.stores.tables import Region, RegionCountry, RegionProvider, Store, Storefront

    return [
        Store,
        Region,
        RegionCountry,
        RegionProvider,
        Storefront,
        ApiToken,
        Product,
        ProductTranslation,
        Variant,
        VariantPrice,
        ProductPrice,
        Collection,
        CollectionProduct,
    ]
