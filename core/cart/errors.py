"""Error codes of carts."""

from core.kernel.errors import FIELD_CODES, error_code

CART_NOT_FOUND = error_code("cart_not_found", 404, "Cart not found", "No cart {id} exists.")
CART_NOT_OPEN = error_code(
    "cart_not_open",
    409,
    "Cart closed",
    "Cart {id} is {status}: it can no longer change or be checked out.",
)
CART_BUSY = error_code(
    "cart_busy",
    409,
    "Cart changed concurrently",
    "The cart was changed by another request at the same time; retry.",
)
LINE_NOT_FOUND = error_code(
    "cart_line_not_found", 404, "Cart line not found", "The cart has no line {id}."
)
TOO_MANY_LINES = error_code(
    "too_many_lines", 422, "Too many lines", "A cart holds at most {max} lines."
)
SHIPPING_OPTION_UNAVAILABLE = error_code(
    "shipping_option_unavailable",
    422,
    "Shipping option unavailable",
    "The shipping option {option} of {provider} is not offered for this cart.",
)
ADDRESS_REQUIRED = error_code(
    "shipping_address_required",
    422,
    "Shipping address required",
    "Set a shipping address on the cart before choosing how to ship it.",
)

FIELD_CODES.update(
    {
        "country_not_served": "This region does not serve this country.",
        "variant_unavailable": "This variant is not for sale in this region.",
    }
)
