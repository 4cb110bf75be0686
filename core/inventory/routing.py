"""Which warehouses serve a region, first choice first (the region's routing, or
every active warehouse of the store), cached per application."""

from __future__ import annotations

from core.db.engine import fetch
from core.kernel.scope import Cached

#: A region's warehouses by (store, region): configuration read on every stock
#: check, changed rarely (this process forgets it at once when it changes it).
_region_warehouses: Cached[tuple[str, str], tuple[str, ...]] = Cached(
    "inventory.region_warehouses", ttl=1.0
)


def forget_warehouses() -> None:
    """Drop the cached warehouse configuration (call after changing it)."""
    _region_warehouses.get().clear()


async def region_warehouses(store_id: str, region_id: str) -> list[str]:
    """The active warehouses a region takes stock from, first choice first.

    A region without assigned warehouses uses every active warehouse of the
    store, oldest first.
    """
    found = await _region_warehouses.get().get_or_load(
        (store_id, region_id), lambda: _load_region_warehouses(store_id, region_id)
    )
    return list(found)


async def _load_region_warehouses(store_id: str, region_id: str) -> tuple[str, ...]:
    rows = await fetch(
        "SELECT rw.warehouse, w.active FROM region_warehouses rw "
        "JOIN warehouses w ON w.id = rw.warehouse "
        "WHERE rw.region = {} AND rw.store = {} ORDER BY rw.priority",
        region_id,
        store_id,
    )
    if rows:
        return tuple(r["warehouse"] for r in rows if r["active"])
    found = await fetch(
        "SELECT id FROM warehouses WHERE store = {} AND active = TRUE ORDER BY id", store_id
    )
    return tuple(r["id"] for r in found)
