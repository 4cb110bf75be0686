"""Carts: every change re-prices the whole cart through :mod:`core.cart.totals`.

A change is computed outside the database transaction (providers may be
slow) and written with the cart's ``version`` as a guard: if another request
changed the cart meanwhile, the change is recomputed on the new state.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, NamedTuple

import msgspec
from msgspec import UNSET

from core.cart import errors
from core.cart.schemas import (
    MAX_LINES,
    CartCreate,
    CartLineRead,
    CartLineSummary,
    CartRead,
    CartRegion,
    CartSummary,
    CartUpdate,
    LineWrite,
    ShippingMethod,
    ShippingMethodWrite,
    ShippingOptionRead,
    to_json,
)
from core.cart.tables import Cart, CartLine
from core.cart.totals import (
    DraftLine,
    PricingRegion,
    Totals,
    VariantFacts,
    compute,
    facts_of,
    facts_sql,
    one_catalog_read,
    quote,
    remember_facts,
    shipping_request,
    variant_facts,
    variant_facts_with,
)
from core.catalog.listing import content_locales, pick_translation
from core.db.engine import (
    decode_json,
    fetch,
    insert,
    insert_all,
    now,
    on_postgres,
    placeholders,
    sql_values,
    transaction,
    write,
)
from core.inventory import service as inventory
from core.inventory.errors import INSUFFICIENT_STOCK
from core.kernel.addresses import Address, check_address
from core.kernel.errors import CaravanError
from core.kernel.ids import new_id
from core.kernel.money import format_money
from core.kernel.pagination import Page, page_of
from core.kernel.scope import Cached
from core.kernel.validation import Issues
from core.providers import runtime as providers
from core.stores.context import Shopper

#: How often a change is recomputed when other requests keep changing the cart.
_ATTEMPTS = 5


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


_CART_COLUMNS = tuple(column._meta.db_column_name for column in Cart._meta.columns)
_LINE_COLUMNS = tuple(column._meta.db_column_name for column in CartLine._meta.columns)


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
        + ", ".join(f"c.{name}" for name in _CART_COLUMNS)
        + ", "
        + ", ".join(f"l.{name} AS line_{name}" for name in _LINE_COLUMNS)
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
    row = decode_json(Cart, {name: first[name] for name in _CART_COLUMNS})
    lines = [
        {name: each[f"line_{name}"] for name in _LINE_COLUMNS}
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


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------


async def line_titles(state: CartState) -> dict[str, str]:
    """The titles of the cart's products in the cart's locale, by product id."""
    facts = await variant_facts(
        state.store_id, state.region.currency, [line["variant"] for line in state.lines]
    )
    by_product = {fact.product_id: fact.titles for fact in facts.values()}
    gone = list(
        dict.fromkeys(
            line["product_id"] for line in state.lines if line["product_id"] not in by_product
        )
    )
    if gone:  # variants deleted since: their products may still have titles
        rows = await fetch(
            "SELECT product, locale, title FROM product_translations "  # noqa: S608
            f"WHERE product IN ({placeholders(gone)})",
            *gone,
        )
        for row in rows:
            by_product.setdefault(row["product"], {})[row["locale"]] = row["title"]
    chain = content_locales(state.row["locale"], state.region.store_locale)
    picked = {pid: pick_translation(found, chain) for pid, found in by_product.items()}
    return {pid: choice[1] for pid, choice in picked.items() if choice is not None}


async def read(state: CartState) -> CartRead:
    """The storefront view of a loaded cart."""
    row, region = state.row, state.region
    facts = await variant_facts(
        state.store_id, region.currency, [line["variant"] for line in state.lines]
    )
    titles = await line_titles(state)
    money = {
        name: format_money(row[name], region.currency, row["locale"])
        for name in ("subtotal", "discount_total", "shipping_total", "tax_total", "total")
    }
    return CartRead(
        id=row["id"],
        status=row["status"],
        region=CartRegion(
            id=region.id,
            code=region.code,
            currency=region.currency,
            tax_inclusive=region.tax_inclusive,
        ),
        currency=row["currency"],
        locale=row["locale"],
        email=row["email"],
        customer_id=row["customer_id"],
        shipping_address=state.address("shipping_address"),
        billing_address=state.address("billing_address"),
        shipping_method=state.shipping_method,
        referral_code=row["referral_code"],
        lines=[_line_read(line, facts.get(line["variant"]), titles) for line in state.lines],
        subtotal=row["subtotal"],
        discount_total=row["discount_total"],
        shipping_total=row["shipping_total"],
        tax_total=row["tax_total"],
        total=row["total"],
        formatted=money,
        order_id=row["order_id"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _line_read(
    line: dict[str, Any], fact: VariantFacts | None, titles: dict[str, str]
) -> CartLineRead:
    return CartLineRead(
        id=line["id"],
        variant_id=line["variant"],
        product_id=line["product_id"],
        sku=fact.sku if fact else "",
        title=titles.get(line["product_id"], ""),
        options=fact.options if fact else {},
        quantity=line["quantity"],
        unit_price=line["unit_price"],
        subtotal=line["subtotal"],
        discount=line["discount"],
        tax=line["tax"],
        tax_rate=line["tax_rate"],
        total=line["total"],
    )


async def list_carts(
    store_id: str, *, status: str | None, limit: int, cursor: str | None
) -> Page[CartSummary]:
    """The store's carts, newest first (``status="open"``: carts not checked out yet)."""
    query = Cart.select().where(Cart.store == store_id)
    if status is not None:
        query = query.where(Cart.status == status)
    page = await page_of(query, Cart.id, limit=limit, cursor=cursor, convert=lambda row: row)
    ids = [row["id"] for row in page.items]
    lines: dict[str, list[CartLineSummary]] = {}
    if ids:
        rows = (
            await CartLine.select()
            .where(CartLine.cart.is_in(ids))
            .order_by(CartLine.created_at, CartLine.id)
        )
        for line in rows:
            lines.setdefault(line["cart"], []).append(
                CartLineSummary(
                    id=line["id"],
                    variant_id=line["variant"],
                    quantity=line["quantity"],
                    unit_price=line["unit_price"],
                    total=line["total"],
                )
            )
    return Page(
        items=[
            CartSummary(
                id=row["id"],
                status=row["status"],
                region_id=row["region"],
                currency=row["currency"],
                email=row["email"],
                customer_id=row["customer_id"],
                lines=lines.get(row["id"], []),
                total=row["total"],
                order_id=row["order_id"],
                created_at=row["created_at"],
                updated_at=row["updated_at"],
            )
            for row in page.items
        ],
        next_cursor=page.next_cursor,
    )


@one_catalog_read
async def get_cart(store_id: str, cart_id: str) -> CartRead:
    """Read one cart."""
    return await read(await load(store_id, cart_id))


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------


class Change(msgspec.Struct, kw_only=True):
    """A cart change: the new lines and the cart columns to set."""

    lines: list[DraftLine]
    fields: dict[str, Any] = {}


async def _check_lines(
    store_id: str,
    region: CartRegionFacts,
    lines: Sequence[DraftLine],
    fields: Sequence[str] | None = None,
) -> None:
    """In one read: 422 for any line whose variant is not for sale in the region
    (``fields`` name them; ``None``: not checked), then 409 insufficient stock for
    quantities above what the region's warehouses hold (lines of a variant add up)."""
    warehouses = await inventory.region_warehouses(store_id, region.id)
    ids = [line.variant_id for line in lines]
    found = await variant_facts_with(store_id, region.currency, ids, inventory.stock_sql("f_v.id"))
    _judge_lines(
        lines,
        fields,
        {
            vid: (fact, inventory.available_of(stock, warehouses))
            for vid, (fact, stock) in found.items()
        },
    )


def _judge_lines(
    lines: Sequence[DraftLine],
    fields: Sequence[str] | None,
    found: dict[str, tuple[VariantFacts, int | None]],
) -> None:
    """:func:`_check_lines` on the facts and available units (``None``: unlimited) of
    the lines' variants, ``found`` (a variant missing there is not in the store)."""
    wanted: dict[str, int] = {}
    for line in lines:
        wanted[line.variant_id] = wanted.get(line.variant_id, 0) + line.quantity
    if fields is not None:
        issues = Issues()
        for field, line in zip(fields, lines, strict=True):
            fact = found.get(line.variant_id)
            if fact is None or not fact[0].purchasable:
                issues.add(field, "variant_unavailable")
        issues.raise_if_any()
    short = [
        vid
        for vid, quantity in wanted.items()
        if (left := found[vid][1] if vid in found else 0) is not None and quantity > left
    ]
    if short:
        raise CaravanError(INSUFFICIENT_STOCK, extra={"variants": short})


def _line_rows(cart_id: str, totals: Totals, created: dict[str, Any]) -> list[dict[str, Any]]:
    stamp = now()
    return [
        {
            "id": line.id,
            "cart": cart_id,
            "variant": line.variant_id,
            "product_id": line.product_id,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "subtotal": line.subtotal,
            "discount": line.discount,
            "tax": line.tax,
            "tax_rate": line.tax_rate,
            "total": line.total,
            "created_at": created.get(line.id, stamp),
        }
        for line in totals.lines
    ]


def _totals_fields(totals: Totals) -> dict[str, Any]:
    return {
        "subtotal": totals.subtotal,
        "discount_total": totals.discount_total,
        "shipping_total": totals.shipping_total,
        "tax_total": totals.tax_total,
        "total": totals.total,
        "shipping_method": to_json(totals.shipping_method),
    }


def _same_lines(old: Sequence[dict[str, Any]], new: Sequence[dict[str, Any]]) -> bool:
    """Whether the priced lines ``new`` are the stored lines ``old`` unchanged."""
    return len(old) == len(new) and all(
        all(before[name] == after[name] for name in after)
        for before, after in zip(old, new, strict=True)
    )


async def price(state: CartState, change: Change) -> Totals:
    """Run the pricing pipeline over ``state`` with ``change`` applied."""
    row = {**state.row, **change.fields}
    facts = await variant_facts(
        state.store_id, state.region.currency, [line.variant_id for line in change.lines]
    )
    known = {line["id"]: line["unit_price"] for line in state.lines}
    address = row["shipping_address"]
    method = row["shipping_method"]
    return await compute(
        state.store_id,
        state.region.pricing,
        change.lines,
        facts,
        address=None if address is None else msgspec.convert(address, Address),
        shipping_method=None if method is None else msgspec.convert(method, ShippingMethod),
        known_prices=known,
    )


#: PostgreSQL: a cart's version-guarded ``{update}`` and, only if it applied, its lines
#: replaced: those gone deleted, the others inserted or updated (the placeholders after
#: the update's: the ids of the lines, the lines as a JSON array of rows).
_SAVE_WITH_LINES = (
    "WITH c AS ({update}), "  # noqa: S608
    "gone AS (DELETE FROM cart_lines WHERE cart = (SELECT id FROM c) AND NOT (id = ANY({{}}))), "
    "kept AS (INSERT INTO cart_lines SELECT l.* "
    "FROM jsonb_populate_recordset(NULL::cart_lines, {{}}::jsonb) l WHERE EXISTS (SELECT 1 FROM c) "
    "ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(
        f"{name} = EXCLUDED.{name}"
        for name in _LINE_COLUMNS
        if name not in ("id", "cart", "created_at")
    )
    + " WHERE cart_lines.cart = EXCLUDED.cart) "
    "SELECT id FROM c"
)


async def _save(state: CartState, change: Change, totals: Totals) -> CartState | None:
    """Write ``change`` and ``totals`` if the cart is still at the loaded version; returns
    the cart as written, or ``None`` when another request changed it first."""
    fields = {**change.fields, **_totals_fields(totals)}
    created = {line["id"]: line["created_at"] for line in state.lines}
    rows = _line_rows(state.id, totals, created)
    same_lines = _same_lines(state.lines, rows)
    if same_lines and all(state.row[name] == value for name, value in fields.items()):
        return state  # nothing changed: the cart stays at its version
    fields["version"] = state.version + 1
    fields["updated_at"] = now()
    sets = ", ".join(f"{name} = {{}}" for name in fields)
    update = (
        f"UPDATE carts SET {sets} "  # noqa: S608
        "WHERE id = {} AND version = {} AND status = 'open' RETURNING id"
    )
    params = (*sql_values(Cart, fields), state.id, state.version)
    if same_lines:  # one statement: no transaction round trips
        updated = await write(update, *params)
    elif on_postgres():  # the cart and its lines in one statement
        updated = await fetch(
            _SAVE_WITH_LINES.format(update=update),
            *params,
            [row["id"] for row in rows],
            msgspec.json.encode(rows).decode(),
        )
    else:
        async with transaction():
            updated = await fetch(update, *params)
            if updated:
                await fetch("DELETE FROM cart_lines WHERE cart = {}", state.id)
                await insert(CartLine, rows)
    if not updated:
        return None
    return CartState(row={**state.row, **fields}, lines=rows, region=state.region)


async def mutate(
    store_id: str,
    cart_id: str,
    make: Callable[[CartState], Awaitable[Change]],
    along: Along | None = None,
) -> CartState:
    """Apply the change ``make`` computes from the current cart (loaded with ``along``),
    re-priced; retry on races."""
    for _ in range(_ATTEMPTS):
        state = await load(store_id, cart_id, along)
        check_open(state)
        change = await make(state)
        totals = await price(state, change)
        saved = await _save(state, change, totals)
        if saved is not None:
            return saved
    raise CaravanError(errors.CART_BUSY)


@one_catalog_read
async def create_cart(shopper: Shopper, data: CartCreate, customer_id: str | None) -> CartRead:
    """Open a cart in the shopper's region, with its first lines."""
    store_id, region_ctx = shopper.context.store_id, shopper.region
    region = await region_facts(store_id, region_ctx.id)
    lines = _merged([], data.lines)
    await _check_lines(
        store_id, region, lines, [f"lines[{i}].variant_id" for i in range(len(lines))]
    )
    cart_id = new_id("cart")
    stamp = now()
    row = {
        "id": cart_id,
        "store": store_id,
        "region": region.id,
        "customer_id": customer_id,
        "status": "open",
        "currency": region.currency,
        "locale": shopper.locale,
        "email": data.email,
        "shipping_address": None,
        "billing_address": None,
        "referral_code": None,
        "version": 1,
        "order_id": None,
        "created_at": stamp,
        "updated_at": stamp,
    }
    state = CartState(row={**row, "shipping_method": None}, lines=[], region=region)
    totals = await price(state, Change(lines=lines))
    values = {**row, **_totals_fields(totals), "completed_at": None}
    rows = _line_rows(cart_id, totals, {})
    await insert_all((Cart, [values]), (CartLine, rows))
    return await read(CartState(row=values, lines=rows, region=region))


def _merged(current: list[DraftLine], added: Sequence[LineWrite]) -> list[DraftLine]:
    """``current`` with ``added`` put in: a variant already in the cart gets its quantity raised."""
    lines = list(current)
    for item in added:
        index = next(
            (i for i, line in enumerate(lines) if line.variant_id == item.variant_id), None
        )
        if index is None:
            lines.append(
                DraftLine(id=new_id("cline"), variant_id=item.variant_id, quantity=item.quantity)
            )
        else:
            old = lines[index]
            lines[index] = msgspec.structs.replace(old, quantity=old.quantity + item.quantity)
    if len(lines) > MAX_LINES:
        raise CaravanError(errors.TOO_MANY_LINES, max=MAX_LINES)
    issues = Issues()
    for index, line in enumerate(lines):
        if line.quantity > 999:
            issues.add(f"lines[{index}].quantity", "out_of_range", constraint="<= 999")
    issues.raise_if_any()
    return lines


@one_catalog_read
async def add_line(store_id: str, cart_id: str, data: LineWrite) -> CartRead:
    """Put a variant in the cart (raising the quantity of its line if it has one)."""
    variant_id = data.variant_id

    async def make(state: CartState) -> Change:
        lines = _merged(state.draft(), [data])
        changed = [line for line in lines if line.variant_id == variant_id]
        joined = state.joined  # the variant's facts and stock, read with the cart
        fact = facts_of(joined, "n") if joined["n_id"] is not None else None
        remember_facts(store_id, state.region.currency, {variant_id: fact})
        found: dict[str, tuple[VariantFacts, int | None]] = {}
        if fact is not None:
            warehouses = await inventory.region_warehouses(store_id, state.region.id)
            found[variant_id] = (fact, inventory.available_of(joined["stock"], warehouses))
        _judge_lines(changed, ["variant_id"], found)
        return Change(lines=lines)

    return await read(await mutate(store_id, cart_id, make, _variant_along(variant_id)))


def _variant_along(variant_id: str) -> Along:
    """The facts of the store's variant ``variant_id`` in the cart's currency (columns
    ``x_n_…``) and its stock (``x_stock``: :func:`core.inventory.service.stock_sql`),
    to read with a cart."""
    columns, joins = _variant_sql(on_postgres())
    return Along(columns, joins, [variant_id])


@functools.cache
def _variant_sql(postgres: bool) -> tuple[str, str]:
    """The SQL of :func:`_variant_along` (it differs by engine, hence ``postgres``)."""
    columns, joins = facts_sql("c.currency", "x_n")
    return (
        f"{columns}, {inventory.stock_sql('x_n_v.id')} AS x_stock",
        f"LEFT JOIN variants x_n_v ON x_n_v.id = {{}} AND x_n_v.store = c.store {joins}",
    )


@one_catalog_read
async def update_line(store_id: str, cart_id: str, line_id: str, quantity: int) -> CartRead:
    """Set a line's quantity."""

    async def make(state: CartState) -> Change:
        lines = state.draft()
        index = next((i for i, line in enumerate(lines) if line.id == line_id), None)
        if index is None:
            raise CaravanError(errors.LINE_NOT_FOUND, id=line_id[:64])
        lines[index] = msgspec.structs.replace(lines[index], quantity=quantity)
        if quantity > state.lines[index]["quantity"]:
            await _check_lines(store_id, state.region, [lines[index]])
        return Change(lines=lines)

    return await read(await mutate(store_id, cart_id, make))


@one_catalog_read
async def remove_line(store_id: str, cart_id: str, line_id: str) -> CartRead:
    """Take a line out of the cart."""

    async def make(state: CartState) -> Change:
        lines = state.draft()
        kept = [line for line in lines if line.id != line_id]
        if len(kept) == len(lines):
            raise CaravanError(errors.LINE_NOT_FOUND, id=line_id[:64])
        return Change(lines=kept)

    return await read(await mutate(store_id, cart_id, make))


@one_catalog_read
async def update_cart(store_id: str, cart_id: str, data: CartUpdate) -> CartRead:
    """Change the cart's email, locale, addresses or referral code."""

    async def make(state: CartState) -> Change:
        issues = Issues()
        fields: dict[str, Any] = {}
        if data.email is not UNSET:
            fields["email"] = data.email.strip()
        if data.locale is not UNSET:
            fields["locale"] = issues.locale("locale", data.locale)
        if data.shipping_address is not UNSET:
            address = data.shipping_address
            check_address(issues, "shipping_address", address)
            if address is not None and address.country not in state.region.countries:
                issues.add("shipping_address.country", "country_not_served")
            fields["shipping_address"] = to_json(address)
        if data.billing_address is not UNSET:
            check_address(issues, "billing_address", data.billing_address)
            fields["billing_address"] = to_json(data.billing_address)
        if data.referral_code is not UNSET:
            fields["referral_code"] = data.referral_code
        issues.raise_if_any()
        return Change(lines=state.draft(), fields=fields)

    return await read(await mutate(store_id, cart_id, make))


@one_catalog_read
async def shipping_options(store_id: str, cart_id: str) -> list[ShippingOptionRead]:
    """The ways the region's shipping providers offer to ship the cart, cheapest first."""
    state = await load(store_id, cart_id)
    check_open(state)
    address = state.address("shipping_address")
    if address is None:
        raise CaravanError(errors.ADDRESS_REQUIRED)
    totals = await price(state, Change(lines=state.draft()))
    facts = await variant_facts(
        store_id, state.region.currency, [line.variant_id for line in totals.lines]
    )
    request = shipping_request(store_id, state.region.pricing, totals.lines, facts, address)
    found = []
    for provider in await providers.active(state.region.id, "shipping"):
        for option in await quote(provider, request):
            found.append(
                ShippingOptionRead(
                    provider=provider.code,
                    option_id=option.id,
                    name=option.name,
                    amount=option.amount,
                    formatted=format_money(
                        option.amount, state.region.currency, state.row["locale"]
                    ),
                    min_days=option.min_days,
                    max_days=option.max_days,
                )
            )
    return sorted(found, key=lambda o: (o.amount, o.provider, o.option_id))


@one_catalog_read
async def set_shipping_method(store_id: str, cart_id: str, data: ShippingMethodWrite) -> CartRead:
    """Choose one of the offered shipping options."""

    async def make(state: CartState) -> Change:
        if state.address("shipping_address") is None:
            raise CaravanError(errors.ADDRESS_REQUIRED)
        wanted = ShippingMethod(provider=data.provider, option_id=data.option_id, name="", amount=0)
        change = Change(lines=state.draft(), fields={"shipping_method": to_json(wanted)})
        totals = await price(state, change)
        if totals.shipping_method is None:
            raise CaravanError(
                errors.SHIPPING_OPTION_UNAVAILABLE,
                provider=data.provider[:64],
                option=data.option_id[:128],
            )
        return change

    return await read(await mutate(store_id, cart_id, make))
