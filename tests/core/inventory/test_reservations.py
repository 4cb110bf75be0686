"""Stock reservations at the service level: races, splitting, expiry, commit and release."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta
from typing import Any

import pytest

from core.app import housekeeping
from core.checkout.tables import IdempotencyKey
from core.db.engine import now, transaction
from core.events.tables import OutboxEvent
from core.inventory import service
from core.inventory.tables import Reservation, StockLevel
from core.kernel.errors import CaravanError
from core.kernel.ids import new_id
from tests.factories.inventory import StockShop, check_invariants


async def reserve(shop: StockShop, owner: str, lines: list[tuple[str, int]], **kw: Any) -> None:
    """``service.reserve`` in its own transaction, as checkout calls it."""
    kw.setdefault("expires_at", now() + service.DEFAULT_RESERVATION_TTL)
    async with transaction():
        await service.reserve(shop.store.id, shop.region_id, owner, lines, **kw)


async def attempt(shop: StockShop, owner: str, lines: list[tuple[str, int]]) -> str:
    """``"ok"`` or the error code of a reservation."""
    try:
        await reserve(shop, owner, lines)
    except CaravanError as exc:
        return exc.code
    return "ok"


async def states(owner: str) -> list[tuple[str, int]]:
    rows = await Reservation.select(Reservation.state, Reservation.quantity).where(
        Reservation.owner == owner
    )
    return sorted((r["state"], r["quantity"]) for r in rows)


async def ledger_reasons(shop: StockShop, variant: str) -> list[tuple[str, int, int, str]]:
    r = await shop.call("GET", "/admin/stock-movements", params={"variant_id": variant})
    return [
        (m["reason"], m["delta_on_hand"], m["delta_reserved"], m["reference"])
        for m in reversed(r.json()["items"])
    ]


# ---------------------------------------------------------------------------
# Races
# ---------------------------------------------------------------------------


async def test_last_units_race(shop: StockShop) -> None:
    """200 concurrent one-unit reservations of a variant with 10 in stock."""
    variant = await shop.stocked(10)

    results = await asyncio.gather(
        *(attempt(shop, f"cart_race_{i}", [(variant, 1)]) for i in range(200))
    )
    assert results.count("ok") == 10
    assert results.count("insufficient_stock") == 190
    assert await shop.levels(variant) == {"main": (10, 10)}
    active = await Reservation.count().where(
        (Reservation.variant == variant) & (Reservation.state == "active")
    )
    assert active == 10
    await check_invariants(shop.store.id)
    avail = await service.available(shop.store.id, shop.region_id, [variant])
    assert avail == {variant: 0}


async def test_two_lines_of_one_variant_are_summed(shop: StockShop) -> None:
    await shop.warehouse("main")
    [variant, other] = await shop.variants(2)
    await shop.stock(variant, "main", 10)
    await shop.stock(other, "main", 10)
    with pytest.raises(CaravanError) as caught:
        await reserve(shop, "cart_66", [(other, 2), (variant, 6), (variant, 6)])
    assert caught.value.code == "insufficient_stock"
    assert caught.value.status == 409
    assert caught.value.extra == {"variants": [variant]}
    assert await shop.levels(variant) == {"main": (10, 0)}
    assert await shop.levels(other) == {"main": (10, 0)}
    assert await states("cart_66") == []
    await reserve(shop, "cart_55", [(variant, 5), (variant, 5)])
    assert await states("cart_55") == [("active", 10)]
    await check_invariants(shop.store.id)


async def test_mixed_concurrent_multi_line_reservations(shop: StockShop) -> None:
    await shop.warehouse("a")
    await shop.warehouse("b")
    await shop.route("a", "b")
    variants = await shop.variants(4)
    for v in variants:
        await shop.stock(v, "a", 7)
        await shop.stock(v, "b", 5)
    rng = random.Random(3)
    carts = [
        [(v, rng.randint(1, 4)) for v in rng.sample(variants, rng.randint(1, 3))]
        for _ in range(100)
    ]
    results = await asyncio.gather(
        *(attempt(shop, f"cart_mix_{i}", lines) for i, lines in enumerate(carts))
    )
    assert set(results) <= {"ok", "insufficient_stock"}
    assert "insufficient_stock" in results
    assert "ok" in results
    await check_invariants(shop.store.id)
    # Exactly what the successful carts asked for is reserved, never more than stock.
    wanted = dict.fromkeys(variants, 0)
    for lines, result in zip(carts, results, strict=True):
        if result == "ok":
            for v, q in lines:
                wanted[v] += q
    for v in variants:
        levels = await shop.levels(v)
        assert sum(reserved for _, reserved in levels.values()) == wanted[v] <= 12
    # A failed cart holds nothing.
    for i, result in enumerate(results):
        if result != "ok":
            assert await states(f"cart_mix_{i}") == []


async def test_concurrent_changes_commits_releases_and_sweeps(shop: StockShop) -> None:
    """Carts changing their lines while others pay, give up or expire: no deadlock,
    no 5xx, and the invariants hold after."""
    await shop.warehouse("a")
    await shop.warehouse("b")
    await shop.route("b", "a")
    variants = await shop.variants(3)
    for v in variants:
        await shop.stock(v, "a", 20)
        await shop.stock(v, "b", 10)
    rng = random.Random(7)

    def lines() -> list[tuple[str, int]]:
        return [(v, rng.randint(1, 5)) for v in rng.sample(variants, rng.randint(1, 3))]

    past = now() - timedelta(seconds=1)
    for i in range(20, 30):
        await reserve(shop, f"cart_chg_{i}", [(variants[i % 3], 1)], expires_at=past)
    for i in range(20):
        await attempt(shop, f"cart_chg_{i}", lines())

    async def act(i: int) -> str:
        owner = f"cart_chg_{i % 30}"
        if i % 4 == 0:
            async with transaction():
                await service.commit(owner, f"order_{i}")
            return "ok"
        if i % 4 == 1:
            async with transaction():
                await service.release(owner, "abandoned")
            return "ok"
        if i % 4 == 2:
            await service.sweep_expired()
            return "ok"
        return await attempt(shop, owner, lines())

    results = await asyncio.gather(*(act(i) for i in range(120)))
    assert set(results) <= {"ok", "insufficient_stock"}
    await check_invariants(shop.store.id)
    for v in variants:
        for on_hand, reserved in (await shop.levels(v)).values():
            assert on_hand >= reserved >= 0


# ---------------------------------------------------------------------------
# Warehouse choice
# ---------------------------------------------------------------------------


async def test_first_warehouse_that_covers_the_line_else_split(shop: StockShop) -> None:
    for code in ("a", "b", "c"):
        await shop.warehouse(code)
    await shop.route("a", "b", "c")
    [variant] = await shop.variants()
    await shop.stock(variant, "a", 2)
    await shop.stock(variant, "b", 5)
    await shop.stock(variant, "c", 9)

    await reserve(shop, "cart_4", [(variant, 4)])
    assert await shop.levels(variant) == {"a": (2, 0), "b": (5, 4), "c": (9, 0)}
    await reserve(shop, "cart_7", [(variant, 7)])  # b has 1 left: c covers it
    assert await shop.levels(variant) == {"a": (2, 0), "b": (5, 4), "c": (9, 7)}
    await reserve(shop, "cart_5", [(variant, 5)])  # nobody alone: a 2 + b 1 + c 2
    assert await shop.levels(variant) == {"a": (2, 2), "b": (5, 5), "c": (9, 9)}
    assert await states("cart_5") == [("active", 1), ("active", 2), ("active", 2)]
    assert await attempt(shop, "cart_1", [(variant, 1)]) == "insufficient_stock"
    await check_invariants(shop.store.id)


async def test_only_the_regions_active_warehouses_count(shop: StockShop) -> None:
    await shop.warehouse("a")
    await shop.warehouse("b")
    [variant] = await shop.variants()
    await shop.stock(variant, "a", 3)
    await shop.stock(variant, "b", 4)
    # No warehouse assigned: every active warehouse of the store serves the region.
    assert await service.available(shop.store.id, shop.region_id, [variant]) == {variant: 7}
    await shop.route("b")
    assert await service.available(shop.store.id, shop.region_id, [variant]) == {variant: 4}
    assert await attempt(shop, "cart_x", [(variant, 5)]) == "insufficient_stock"
    r = await shop.call(
        "PATCH", f"/admin/warehouses/{shop.warehouses['b']}", json={"active": False}
    )
    assert r.status_code == 200
    assert await service.available(shop.store.id, shop.region_id, [variant]) == {variant: 0}
    # A region without assignments falls back to the active warehouses (a only now).
    assert await service.available(shop.store.id, "reg_other", [variant, "var_x"]) == {
        variant: 3,
        "var_x": 0,
    }


async def test_backorder_always_reserves(shop: StockShop) -> None:
    await shop.warehouse("a")
    await shop.warehouse("b")
    await shop.route("a", "b")
    [variant, plain] = await shop.variants(2)
    await shop.settings(variant, allow_backorder=True)
    await shop.stock(variant, "b", 2)
    assert await service.available(shop.store.id, shop.region_id, [variant, plain]) == {
        variant: None,
        plain: 0,
    }
    await reserve(shop, "cart_bo", [(variant, 5)])
    assert await shop.levels(variant) == {"a": (0, 3), "b": (2, 2)}
    await check_invariants(shop.store.id)
    async with transaction():
        await service.commit("cart_bo", "order_bo")
    assert await shop.levels(variant) == {"a": (-3, 0), "b": (0, 0)}
    await check_invariants(shop.store.id)


# ---------------------------------------------------------------------------
# Lifecycle
# ---------------------------------------------------------------------------


async def test_reserve_again_replaces_the_owners_reservation(shop: StockShop) -> None:
    variant = await shop.stocked(5)
    await reserve(shop, "cart_r", [(variant, 4)])
    await reserve(shop, "cart_r", [(variant, 5)])  # needs the 4 it held
    assert await shop.levels(variant) == {"main": (5, 5)}
    assert await states("cart_r") == [("active", 5), ("released", 4)]
    assert await attempt(shop, "cart_r", [(variant, 6)]) == "insufficient_stock"
    # The failed call rolled back: the 5 are still held.
    assert await states("cart_r") == [("active", 5), ("released", 4)]
    await check_invariants(shop.store.id)


async def test_reserve_again_with_other_variants_frees_the_old_ones(shop: StockShop) -> None:
    """The levels of the owner's earlier reservations are not among the new lines'
    (they are locked with them, in the same order) and get their units back."""
    old, new = await shop.stocked(5), await shop.stocked(5)
    await reserve(shop, "cart_o", [(old, 2)])
    await reserve(shop, "cart_o", [(new, 3)])
    assert await shop.levels(old) == {"main": (5, 0)}
    assert await shop.levels(new) == {"main": (5, 3)}
    assert await states("cart_o") == [("active", 3), ("released", 2)]
    await check_invariants(shop.store.id)


async def test_transfer_commit_and_restock(shop: StockShop) -> None:
    wid = await shop.warehouse("main")
    [variant] = await shop.variants()
    await shop.settings(variant, low_stock_threshold=7)
    await shop.stock(variant, "main", 10)
    await reserve(shop, "cart_c", [(variant, 3)])
    assert await service.has_active("cart_c")
    async with transaction():
        await service.transfer("cart_c", "order_c", expires_at=None)
    assert not await service.has_active("cart_c")
    assert await service.has_active("order_c")
    await service.sweep_expired(now() + timedelta(days=1))
    assert await states("order_c") == [("active", 3)]

    async with transaction():
        await service.commit("order_c", "order_c")
        await service.commit("order_c", "order_c")  # a repeated confirmation: no-op
    assert await shop.levels(variant) == {"main": (7, 0)}
    assert await states("order_c") == [("committed", 3)]
    assert await service.committed_lines("order_c") == [(variant, wid, 3)]
    assert not await service.has_active("order_c")
    events = (
        await OutboxEvent.select(OutboxEvent.payload)
        .where((OutboxEvent.store == shop.store.id) & (OutboxEvent.type == "inventory.low"))
        .output(load_json=True)
    )
    assert [e["payload"] for e in events] == [
        {"variant_id": variant, "warehouse_id": wid, "available": 7}
    ]

    async with transaction():
        await service.restock(shop.store.id, wid, variant, 3, "canceled", "order_c")
    assert await shop.levels(variant) == {"main": (10, 0)}
    assert await ledger_reasons(shop, variant) == [
        ("recount", 10, 0, ""),
        ("reserved", 0, 3, "cart_c"),
        ("sold", -3, -3, "order_c"),
        ("canceled", 3, 0, "order_c"),
    ]
    with pytest.raises(CaravanError) as caught:
        async with transaction():
            await service.restock("store_other", wid, variant, 1, "returned", "x")
    assert caught.value.code == "warehouse_not_found"
    await check_invariants(shop.store.id)


async def test_release(shop: StockShop) -> None:
    variant = await shop.stocked(4)
    await reserve(shop, "cart_rel", [(variant, 4)])
    async with transaction():
        await service.release("cart_rel", "payment_failed")
        await service.release("cart_rel", "payment_failed")
    assert await shop.levels(variant) == {"main": (4, 0)}
    assert await states("cart_rel") == [("released", 4)]
    assert (await ledger_reasons(shop, variant))[-1] == ("payment_failed", 0, -4, "cart_rel")
    with pytest.raises(ValueError, match="invalid reason"):
        await service.release("cart_rel", "Not A Reason")
    await check_invariants(shop.store.id)


async def test_sweep_releases_exactly_the_expired(shop: StockShop) -> None:
    variant = await shop.stocked(10)
    base = now()
    await reserve(shop, "cart_old1", [(variant, 1)], expires_at=base - timedelta(minutes=1))
    await reserve(shop, "cart_old2", [(variant, 2)], expires_at=base - timedelta(seconds=1))
    await reserve(shop, "cart_new", [(variant, 3)], expires_at=base + timedelta(minutes=10))
    await reserve(shop, "cart_order", [(variant, 4)], expires_at=None)
    assert not await service.has_active("cart_old1")
    assert await service.has_active("cart_new")

    assert await service.sweep_expired(base) == 2
    assert await states("cart_old1") == [("expired", 1)]
    assert await states("cart_old2") == [("expired", 2)]
    assert await states("cart_new") == [("active", 3)]
    assert await shop.levels(variant) == {"main": (10, 7)}
    assert await service.sweep_expired(base) == 0
    assert await service.sweep_expired(base + timedelta(minutes=11)) == 1
    assert await shop.levels(variant) == {"main": (10, 4)}
    # A commit after expiry finds nothing to sell.
    async with transaction():
        await service.commit("cart_old1", "order_late")
    assert await states("cart_old1") == [("expired", 1)]
    await check_invariants(shop.store.id)


async def test_expired_reservations_do_not_block_stock(shop: StockShop) -> None:
    """Stock held by an expired reservation the sweeper has not reached yet is reusable."""
    variant = await shop.stocked(2)
    await reserve(shop, "cart_stale", [(variant, 2)], expires_at=now() - timedelta(seconds=1))
    await reserve(shop, "cart_fresh", [(variant, 2)])
    assert await states("cart_stale") == [("expired", 2)]
    assert await states("cart_fresh") == [("active", 2)]
    await check_invariants(shop.store.id)


async def test_concurrent_sweeps_release_once(shop: StockShop) -> None:
    variant = await shop.stocked(30)
    past = now() - timedelta(seconds=5)
    for i in range(30):
        await reserve(shop, f"cart_sw_{i}", [(variant, 1)], expires_at=past)
    counts = await asyncio.gather(*(service.sweep_expired() for _ in range(5)))
    assert sum(counts) >= 30  # other tests' leftovers may be swept too
    level = await StockLevel.select(StockLevel.reserved).where(StockLevel.variant == variant)
    assert level == [{"reserved": 0}]
    await check_invariants(shop.store.id)


async def test_housekeeping_releases_expired_reservations_and_forgets_old_keys(
    shop: StockShop,
) -> None:
    variant = await shop.stocked(1)
    await reserve(shop, "cart_task", [(variant, 1)], expires_at=now() - timedelta(seconds=1))
    live = now() + timedelta(hours=1)
    for key, expires in (("old", now() - timedelta(seconds=1)), ("kept", live)):
        await IdempotencyKey.insert(
            IdempotencyKey(
                id=new_id("idem"),
                store=shop.store.id,
                key=key,
                fingerprint="0" * 64,
                state="done",
                locked_until=expires,
                expires_at=expires,
            )
        )
    stop = asyncio.Event()
    task = asyncio.create_task(housekeeping.run(0.01, stop))
    for _ in range(500):
        if await states("cart_task") == [("expired", 1)]:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert await states("cart_task") == [("expired", 1)]
    keys = await IdempotencyKey.select(IdempotencyKey.key).where(
        IdempotencyKey.store == shop.store.id
    )
    assert keys == [{"key": "kept"}]
    await check_invariants(shop.store.id)


async def test_bad_arguments_are_bugs(shop: StockShop) -> None:
    [variant] = await shop.variants()
    for lines in ([(variant, 0)], [(variant, -1)]):
        with pytest.raises(ValueError, match="is not positive"):
            await reserve(shop, "cart_bad", lines)
    with pytest.raises(ValueError, match="invalid reservation owner"):
        await reserve(shop, "x" * 65, [(variant, 1)])
