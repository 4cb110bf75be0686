"""The one pipeline every cart total goes through.

line prices (the region's price list) → discounts (none yet) → shipping (the
chosen option, re-quoted by the region's shipping provider) → tax (the
region's tax provider; inclusive or exclusive) → total.

Every amount is an integer in minor units of the region's currency and

    subtotal - discount_total + shipping_total + tax_total (when exclusive) == total

holds exactly; each line's ``total`` is ``subtotal - discount + tax (when exclusive)``.
Providers' answers are checked: a missing, extra or impossible tax line
fails the operation closed (503) instead of producing a wrong total.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from typing import Any, ParamSpec, TypeVar

import msgspec

from core.cart.schemas import ShippingMethod
from core.db.engine import fetch, json_object_agg, placeholders
from core.kernel.addresses import Address
from core.providers import runtime as providers
from core.shipping.providers import ShippingLine, ShippingOption, ShippingProvider, ShippingRequest
from core.tax.providers import TaxLine, TaxProvider, TaxRequest, TaxResult


class VariantFacts(msgspec.Struct, frozen=True, kw_only=True):
    """What pricing needs to know about a variant, in one region's currency."""

    id: str
    product_id: str
    sku: str
    options: dict[str, str]
    weight_grams: int
    hs_code: str
    origin_country: str
    tax_category: str
    active: bool
    #: The price in the region's currency, or ``None`` when it has none.
    price: int | None
    #: The product's titles by locale.
    titles: dict[str, str]

    @property
    def purchasable(self) -> bool:
        """Whether the variant can be bought in the region (active and priced)."""
        return self.active and self.price is not None


class PricingRegion(msgspec.Struct, frozen=True, kw_only=True):
    """The region a cart is priced in."""

    id: str
    currency: str
    tax_inclusive: bool
    ship_from: str | None = None


class DraftLine(msgspec.Struct, frozen=True, kw_only=True):
    """A line before pricing."""

    id: str
    variant_id: str
    quantity: int


class PricedLine(msgspec.Struct, frozen=True, kw_only=True):
    """A line after pricing (amounts in minor units)."""

    id: str
    variant_id: str
    product_id: str
    quantity: int
    unit_price: int
    subtotal: int
    discount: int
    tax: int
    tax_rate: str
    total: int


class Totals(msgspec.Struct, frozen=True, kw_only=True):
    """A priced cart."""

    lines: tuple[PricedLine, ...]
    shipping_method: ShippingMethod | None
    subtotal: int
    discount_total: int
    shipping_total: int
    shipping_tax: int
    tax_total: int
    total: int


def _decode(value: Any) -> Any:
    return msgspec.json.decode(value) if isinstance(value, str | bytes) else value


P = ParamSpec("P")
T = TypeVar("T")

#: Facts already read by the current operation, by (store, currency, variant);
#: ``None`` for a variant the store does not have.
_seen: ContextVar[dict[tuple[str, str, str], VariantFacts | None] | None] = ContextVar(
    "caravan_variant_facts", default=None
)


def one_catalog_read(operation: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Let ``operation`` read each variant's facts from the database once.

    A cart operation asks for the same facts several times (checks, pricing,
    the answer); within one operation they are one read of the catalog.
    """

    @functools.wraps(operation)
    async def run(*args: P.args, **kwargs: P.kwargs) -> T:
        token = _seen.set({})
        try:
            return await operation(*args, **kwargs)
        finally:
            _seen.reset(token)

    return run


async def variant_facts(
    store_id: str, currency: str, variant_ids: Sequence[str]
) -> dict[str, VariantFacts]:
    """Facts of the store's variants among ``variant_ids`` (unknown ids are left out)."""
    ids = list(dict.fromkeys(variant_ids))
    seen = _seen.get()
    if seen is None:
        return await _read_facts(store_id, currency, ids)
    missing = [vid for vid in ids if (store_id, currency, vid) not in seen]
    if missing:
        found = await _read_facts(store_id, currency, missing)
        for vid in missing:
            seen[store_id, currency, vid] = found.get(vid)
    return {vid: fact for vid in ids if (fact := seen[store_id, currency, vid]) is not None}


def facts_sql(currency: str, alias: str = "f") -> tuple[str, str]:
    """The columns (named ``f_…``) and joins reading the facts of the variant ``f_v``
    priced in ``currency`` (an SQL expression), for :func:`facts_of`; another ``alias``
    replaces ``f`` in those names."""
    a = alias
    columns = (
        f"{a}_v.id AS {a}_id, {a}_v.product AS {a}_product, {a}_v.sku AS {a}_sku, "  # noqa: S608
        f"{a}_v.options AS {a}_options, {a}_v.weight_g AS {a}_weight_g, "
        f"{a}_v.hs_code AS {a}_hs_code, {a}_v.origin_country AS {a}_origin_country, "
        f"{a}_p.status AS {a}_status, {a}_p.tax_category AS {a}_tax_category, "
        f"{a}_vp.amount AS {a}_amount, "
        f"(SELECT {json_object_agg('t.locale', 't.title')} FROM product_translations t "
        f"WHERE t.product = {a}_v.product) AS {a}_titles"
    )
    joins = (
        f"LEFT JOIN products {a}_p ON {a}_p.id = {a}_v.product "
        f"LEFT JOIN variant_prices {a}_vp ON {a}_vp.variant = {a}_v.id "
        f"AND {a}_vp.currency = {currency}"
    )
    return columns, joins


def facts_of(row: dict[str, Any], alias: str = "f") -> VariantFacts:
    """The facts in a row read with :func:`facts_sql` (names starting ``alias``)."""
    a = alias
    return VariantFacts(
        id=row[f"{a}_id"],
        product_id=row[f"{a}_product"],
        sku=row[f"{a}_sku"],
        options=_decode(row[f"{a}_options"]) or {},
        weight_grams=row[f"{a}_weight_g"] or 0,
        hs_code=row[f"{a}_hs_code"] or "",
        origin_country=row[f"{a}_origin_country"] or "",
        tax_category=row[f"{a}_tax_category"] or "standard",
        active=row[f"{a}_status"] == "active",
        price=row[f"{a}_amount"],
        titles=_decode(row[f"{a}_titles"]) or {},
    )


def remember_facts(store_id: str, currency: str, facts: dict[str, VariantFacts | None]) -> None:
    """Let the current operation (:func:`one_catalog_read`) reuse facts read along with
    other rows (``None``: the store has no such variant)."""
    seen = _seen.get()
    if seen is not None:
        for variant_id, fact in facts.items():
            seen[store_id, currency, variant_id] = fact


async def _read_facts(store_id: str, currency: str, ids: Sequence[str]) -> dict[str, VariantFacts]:
    return {vid: fact for vid, (fact, _) in (await _facts_rows(store_id, currency, ids)).items()}


async def _facts_rows(
    store_id: str, currency: str, ids: Sequence[str], extra: str = "NULL", *params: Any
) -> dict[str, tuple[VariantFacts, Any]]:
    """The facts of the store's variants among ``ids``, each with the value of the SQL
    expression ``extra`` over the variant ``f_v`` (``{}`` placeholders: ``params``)."""
    if not ids:
        return {}
    columns, joins = facts_sql("{}")
    rows = await fetch(
        f"SELECT {columns}, {extra} AS f_extra FROM variants f_v {joins} "  # noqa: S608
        f"WHERE f_v.store = {{}} AND f_v.id IN ({placeholders(ids)})",
        *params,
        currency,
        store_id,
        *ids,
    )
    return {row["f_id"]: (facts_of(row), row["f_extra"]) for row in rows}


async def variant_facts_with(
    store_id: str, currency: str, variant_ids: Sequence[str], extra: str, *params: Any
) -> dict[str, tuple[VariantFacts, Any]]:
    """Like :func:`variant_facts`, read from the database now, each variant's facts with
    the value of the SQL expression ``extra`` over the variant ``f_v`` (``{}``
    placeholders: ``params``); the current operation reuses the facts."""
    ids = list(dict.fromkeys(variant_ids))
    found = await _facts_rows(store_id, currency, ids, extra, *params)
    remember_facts(
        store_id, currency, {vid: found[vid][0] if vid in found else None for vid in ids}
    )
    return found


async def _shipping(
    store_id: str,
    region: PricingRegion,
    lines: Sequence[PricedLine],
    facts: dict[str, VariantFacts],
    address: Address | None,
    chosen: ShippingMethod | None,
) -> ShippingMethod | None:
    """Re-quote the chosen option; ``None`` when it is no longer offered."""
    if chosen is None or address is None or not lines:
        return None
    for provider in await providers.active(region.id, "shipping"):
        if provider.code != chosen.provider:
            continue
        options = await quote(provider, shipping_request(store_id, region, lines, facts, address))
        for option in options:
            if option.id == chosen.option_id:
                return ShippingMethod(
                    provider=provider.code,
                    option_id=option.id,
                    name=option.name,
                    amount=option.amount,
                )
    return None


def shipping_request(
    store_id: str,
    region: PricingRegion,
    lines: Sequence[PricedLine],
    facts: dict[str, VariantFacts],
    address: Address | None,
) -> ShippingRequest:
    """What the shipping providers quote for a cart."""
    return ShippingRequest(
        store_id=store_id,
        region_id=region.id,
        currency=region.currency,
        lines=tuple(
            ShippingLine(
                id=line.id,
                variant_id=line.variant_id,
                quantity=line.quantity,
                amount=line.subtotal - line.discount,
                weight_grams=facts[line.variant_id].weight_grams,
            )
            for line in lines
        ),
        subtotal=sum(line.subtotal - line.discount for line in lines),
        ship_to=address,
        ship_from=region.ship_from,
    )


async def quote(provider: Any, request: ShippingRequest) -> list[ShippingOption]:
    """Ask one shipping provider for options, and check its answer."""
    assert isinstance(provider, ShippingProvider)
    options = await providers.call(provider, provider.quote(request))
    seen: set[str] = set()
    for option in options:
        if not isinstance(option, ShippingOption):
            raise providers.bad_answer(provider, "an option is not a ShippingOption")
        if not isinstance(option.amount, int) or option.amount < 0:
            raise providers.bad_answer(provider, f"option {option.id} costs {option.amount!r}")
        if option.id in seen:
            raise providers.bad_answer(provider, f"option id {option.id} appears twice")
        seen.add(option.id)
    return options


async def _tax(
    store_id: str,
    region: PricingRegion,
    lines: Sequence[PricedLine],
    facts: dict[str, VariantFacts],
    address: Address | None,
    shipping: int,
) -> tuple[dict[str, tuple[int, str]], int]:
    """Tax per line id (amount, rate) and tax on shipping, from the region's first tax provider."""
    found = await providers.active(region.id, "tax")
    if not found or not lines:
        return {}, 0
    provider = found[0]
    assert isinstance(provider, TaxProvider)
    request = TaxRequest(
        store_id=store_id,
        region_id=region.id,
        currency=region.currency,
        tax_inclusive=region.tax_inclusive,
        lines=tuple(
            TaxLine(
                id=line.id,
                variant_id=line.variant_id,
                product_id=line.product_id,
                quantity=line.quantity,
                amount=line.subtotal - line.discount,
                tax_category=facts[line.variant_id].tax_category,
                hs_code=facts[line.variant_id].hs_code or None,
                origin_country=facts[line.variant_id].origin_country or None,
            )
            for line in lines
        ),
        shipping=shipping,
        ship_to=address,
        ship_from=region.ship_from,
    )
    result = await providers.call(provider, provider.calculate(request))
    return _checked_tax(provider, request, result), result.shipping


def _checked_tax(
    provider: TaxProvider, request: TaxRequest, result: TaxResult
) -> dict[str, tuple[int, str]]:
    """The per-line taxes of ``result``, after checking that they are possible."""
    if not isinstance(result, TaxResult):
        raise providers.bad_answer(provider, "the answer is not a TaxResult")
    amounts = {line.id: line.amount for line in request.lines}
    taxes: dict[str, tuple[int, str]] = {}
    for line in result.lines:
        if line.line_id not in amounts or line.line_id in taxes:
            raise providers.bad_answer(provider, f"unexpected tax line {line.line_id}")
        if not isinstance(line.amount, int) or line.amount < 0:
            raise providers.bad_answer(provider, f"tax {line.amount!r} on line {line.line_id}")
        if request.tax_inclusive and line.amount > amounts[line.line_id]:
            raise providers.bad_answer(provider, f"tax above the price of line {line.line_id}")
        taxes[line.line_id] = (line.amount, line.rate)
    if len(taxes) != len(amounts):
        raise providers.bad_answer(provider, "a line has no tax result")
    shipping = result.shipping
    if (
        not isinstance(shipping, int)
        or shipping < 0
        or (request.tax_inclusive and shipping > request.shipping)
    ):
        raise providers.bad_answer(provider, f"shipping tax {shipping!r}")
    return taxes


async def compute(
    store_id: str,
    region: PricingRegion,
    draft: Sequence[DraftLine],
    facts: dict[str, VariantFacts],
    *,
    address: Address | None,
    shipping_method: ShippingMethod | None,
    known_prices: dict[str, int] | None = None,
) -> Totals:
    """Price ``draft`` in ``region``: the whole pipeline, in minor units.

    A variant that lost its price keeps the one in ``known_prices`` (the line's
    last price); the checkout refuses such lines before taking payment.
    """
    known_prices = known_prices or {}
    priced: list[PricedLine] = []
    for line in draft:
        fact = facts[line.variant_id]
        unit = fact.price if fact.price is not None else known_prices.get(line.id, 0)
        subtotal = unit * line.quantity
        priced.append(
            PricedLine(
                id=line.id,
                variant_id=line.variant_id,
                product_id=fact.product_id,
                quantity=line.quantity,
                unit_price=unit,
                subtotal=subtotal,
                discount=0,  # the promotions slot
                tax=0,
                tax_rate="0",
                total=subtotal,
            )
        )
    method = await _shipping(store_id, region, priced, facts, address, shipping_method)
    shipping = method.amount if method else 0
    taxes, shipping_tax = await _tax(store_id, region, priced, facts, address, shipping)
    lines: list[PricedLine] = []
    for each in priced:
        tax, rate = taxes.get(each.id, (0, "0"))
        net = each.subtotal - each.discount
        lines.append(
            msgspec.structs.replace(
                each, tax=tax, tax_rate=rate, total=net if region.tax_inclusive else net + tax
            )
        )
    subtotal = sum(line.subtotal for line in lines)
    discount = sum(line.discount for line in lines)
    tax_total = sum(line.tax for line in lines) + shipping_tax
    total = subtotal - discount + shipping + (0 if region.tax_inclusive else tax_total)
    return Totals(
        lines=tuple(lines),
        shipping_method=method,
        subtotal=subtotal,
        discount_total=discount,
        shipping_total=shipping,
        shipping_tax=shipping_tax,
        tax_total=tax_total,
        total=total,
    )
