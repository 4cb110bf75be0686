"""Carts: every change re-prices the whole cart through :mod:`core.cart.totals`.

A change is computed outside the database transaction (providers may be
slow) and written with the cart's ``version`` as a guard: if another request
changed the cart meanwhile, the change is recomputed on the new state.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import msgspec
from msgspec import UNSET

from core.cart import errors
from core.cart.reading import read
from core.cart.schemas import (
    MAX_LINES,
    CartCreate,
    CartRead,
    CartUpdate,
    LineWrite,
    ShippingMethod,
    ShippingMethodWrite,
    ShippingOptionRead,
    to_json,
)
from core.cart.state import (
    LINE_COLUMNS,
    Along,
    CartRegionFacts,
    CartState,
    check_open,
    load,
    region_facts,
)
from core.cart.tables import Cart, CartLine
from core.cart.totals import (
    DraftLine,
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
from core.db.engine import (
    fetch,
    insert,
    insert_all,
    now,
    on_postgres,
    sql_values,
    transaction,
    write,
)
from core.inventory import service as inventory
from core.inventory.errors import INSUFFICIENT_STOCK
from core.inventory.routing import region_warehouses
from core.kernel.addresses import Address, check_address
from core.kernel.errors import CaravanError
from core.kernel.ids import new_id
from core.kernel.money import format_money
from core.kernel.validation import Issues
from core.providers import runtime as providers
from core.stores.context import Shopper

#: How often a change is recomputed when other requests keep changing the cart.
_ATTEMPTS = 5


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
    warehouses = await region_warehouses(store_id, region.id)
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
        for name in LINE_COLUMNS
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
            warehouses = await region_warehouses(store_id, state.region.id)
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
