"""Reading carts: a cart's answer with its lines' titles, and the admin listing."""

from __future__ import annotations

from typing import Any

from core.cart.schemas import (
    CartLineRead,
    CartLineSummary,
    CartRead,
    CartRegion,
    CartSummary,
)
from core.cart.state import CartState, load
from core.cart.tables import Cart, CartLine
from core.cart.totals import (
    VariantFacts,
    one_catalog_read,
    variant_facts,
)
from core.catalog.reads import content_locales, pick_translation
from core.db.engine import (
    fetch,
    placeholders,
)
from core.kernel.money import format_money
from core.kernel.pagination import Page, page_of

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
