"""Error codes of inventory: warehouses, stock levels and reservations."""

from core.kernel.errors import error_code

WAREHOUSE_NOT_FOUND = error_code(
    "warehouse_not_found", 404, "Warehouse not found", "No warehouse {id} exists in this store."
)
WAREHOUSE_CODE_TAKEN = error_code(
    "warehouse_code_taken",
    409,
    "Warehouse code taken",
    "This store already has a warehouse {code}.",
)
WAREHOUSE_NOT_EMPTY = error_code(
    "warehouse_not_empty",
    409,
    "Warehouse holds stock",
    "Warehouse {code} still holds or reserves stock; adjust it to zero or deactivate it instead.",
)
INSUFFICIENT_STOCK = error_code(
    "insufficient_stock",
    409,
    "Insufficient stock",
    "Not enough stock is available for some items; the variants concerned are listed in extra.",
)
STOCK_BELOW_ZERO = error_code(
    "stock_below_zero",
    409,
    "Stock would go below zero",
    "This adjustment would leave {on_hand} units on hand; stock on hand cannot be negative.",
)
STOCK_BELOW_RESERVED = error_code(
    "stock_below_reserved",
    409,
    "Stock would go below the reserved units",
    "This adjustment would leave {on_hand} units on hand, fewer than the {reserved} reserved "
    "for open carts and orders.",
)
