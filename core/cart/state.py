"""A cart as a change reads it: its row, lines and region facts in one round trip
(:func:`load`, with columns of other tables ``along``), and the facts of its region."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, NamedTuple

import msgspec

from core.cart import errors
from core.cart.schemas import (
    ShippingMethod,
)
from core.cart.tables import Cart, CartLine
from core.cart.totals import (
    DraftLine,
    PricingRegion,
    facts_of,
    facts_sql,
    remember_facts,
)
from core.db.engine import (
    decode_json,
    fetch,
    on_postgres,
)
from core.kernel.addresses import Address
from core.kernel.errors import CaravanError
from core.kernel.scope import Cached


class CartRegionFacts(msgspec.Struct, frozen=True, kw_only=True):
    """A cart's region as pricing and address checks need it."""

    id: str
    code: str
    name: str
    currency: str
    tax_inclusive: bool
    countries: tuple[str, ...]
    home_country: str
    store_locale: str

    @property
    def pricing(self) -> PricingRegion:
        """The region as the pricing pipeline takes it."""
        return PricingRegion(
            id=self.id,
            currency=self.currency,
            tax_inclusive=self.tax_inclusive,
            ship_from=self.home_country or None,
        )


class CartState(msgspec.Struct, kw_only=True):
    """A cart as loaded: its row, its lines and its region."""

    row: dict[str, Any]
    lines: list[dict[str, Any]]
    region: CartRegionFacts
    #: The columns of an :class:`Along` read with the cart, by name without ``x_``.
    joined: dict[str, Any] = {}

    @property
    def id(self) -> str:
        """The cart's id."""
        return str(self.row["id"])

    @property
    def store_id(self) -> str:
        """The cart's store."""
        return str(self.row["store"])

    @property
    def version(self) -> int:
        """The version the cart was loaded at."""
        return int(self.row["version"])

    def address(self, field: str) -> Address | None:
        """The shipping or billing address, decoded."""
        value = self.row[field]
        return None if value is None else msgspec.convert(value, Address)

    @property
    def shipping_method(self) -> ShippingMethod | None:
        """The chosen shipping method, decoded."""
        value = self.row["shipping_method"]
        return None if value is None else msgspec.convert(value, ShippingMethod)

    def draft(self) -> list[DraftLine]:
        """The lines as the pricing pipeline takes them."""
        return [
            DraftLine(id=line["id"], variant_id=line["variant"], quantity=line["quantity"])
            for line in self.lines
        ]


#: Regions by (store, region id); regions change rarely, and a cart keeps its region.
_regions: Cached[tuple[str, str], CartRegionFacts] = Cached("cart.regions", ttl=1.0)


async def region_facts(store_id: str, region_id: str) -> CartRegionFacts:
    """The region ``region_id`` of ``store_id`` with its store's home country (cached
    for a second: a region's currency or tax mode changing is seen within that)."""
    return await _regions.get().get_or_load(
        (store_id, region_id), lambda: _load_region(store_id, region_id)
    )


async def _load_region(store_id: str, region_id: str) -> CartRegionFacts:
    rows = await fetch(
        "SELECT r.id, r.code, r.name, r.currency, r.tax_inclusive, r.countries, s.home_country, "
        "s.default_locale FROM regions r JOIN stores s ON s.id = r.store "
        "WHERE r.id = {} AND r.store = {}",
        region_id,
        store_id,
    )
    row = rows[0]
    countries = row["countries"]
    if isinstance(countries, str | bytes):
        countries = msgspec.json.decode(countries)
    return CartRegionFacts(
        id=row["id"],
        code=row["code"],
        name=row["name"],
        currency=row["currency"],
        tax_inclusive=bool(row["tax_inclusive"]),
        countries=tuple(countries),
        home_country=row["home_country"],
        store_locale=row["default_locale"],
    )


CART_COLUMNS = tuple(column._meta.db_column_name for column in Cart._meta.columns)
LINE_COLUMNS = tuple(column._meta.db_column_name for column in CartLine._meta.columns)


class Along(NamedTuple):
    """Columns of other tables read in the same round trip as a cart (:func:`load`).

    ``columns`` is an SQL select list whose names start with ``x_``; ``joins`` are
    joined to the cart ``c`` and must match one row per cart at most; ``params``
    are the parameters of both, those of ``columns`` first. Both SQL texts are
    fixed (the statement text is cached by them).
    """

    columns: str
    joins: str
    params: Sequence[Any]


_NOTHING_ALONG = Along("", "", ())


@functools.cache
def _load_sql(postgres: bool, along_columns: str, along_joins: str) -> str:
    """The cart with its lines and their variants' facts in one round trip: a row per
    line (one with NULL line columns for a cart without lines), line columns prefixed
    ``line_``, facts columns ``f_`` (see :func:`core.cart.totals.facts_sql`), then the
    columns of an :class:`Along`. The SQL differs by engine, hence the cache key
    ``postgres``."""
    columns, joins = facts_sql("c.currency")
    return (
        "SELECT "  # noqa: S608
        + ", ".join(f"c.{name}" for name in CART_COLUMNS)
        + ", "
        + ", ".join(f"l.{name} AS line_{name}" for name in LINE_COLUMNS)
        + f", {columns}"
        + (f", {along_columns}" if along_columns else "")
        + f" FROM carts c {along_joins} LEFT JOIN cart_lines l ON l.cart = c.id "
        f"LEFT JOIN variants f_v ON f_v.id = l.variant AND f_v.store = c.store {joins} "
        "WHERE c.id = {} AND c.store = {} ORDER BY l.created_at, l.id"
    )


async def load(store_id: str, cart_id: str, along: Along | None = None) -> CartState:
    """The cart ``cart_id`` of ``store_id``, else 404; with the columns of ``along``
    (:attr:`CartState.joined`), read in the same round trip."""
    along = along or _NOTHING_ALONG
    sql = _load_sql(on_postgres(), along.columns, along.joins)
    rows = await fetch(sql, *along.params, cart_id, store_id)
    if not rows:
        raise CaravanError(errors.CART_NOT_FOUND, id=cart_id[:64])
    first = rows[0]
    row = decode_json(Cart, {name: first[name] for name in CART_COLUMNS})
    lines = [
        {name: each[f"line_{name}"] for name in LINE_COLUMNS}
        for each in rows
        if each["line_id"] is not None
    ]
    remember_facts(
        store_id,
        row["currency"],
        {
            each["line_variant"]: facts_of(each) if each["f_id"] is not None else None
            for each in rows
            if each["line_id"] is not None
        },
    )
    region = await region_facts(store_id, row["region"])
    joined = {name[2:]: value for name, value in first.items() if name.startswith("x_")}
    return CartState(row=row, lines=lines, region=region, joined=joined)


def check_open(state: CartState) -> None:
    """Refuse to change or check out a cart that is no longer open."""
    if state.row["status"] != "open":
        raise CaravanError(errors.CART_NOT_OPEN, id=state.id, status=state.row["status"])
