"""Error codes of the rate-table tax plugin."""

from core.plugins import error_code

TAX_RATE_NOT_FOUND = error_code(
    "tax_rate_not_found", 404, "Tax rate not found", "No tax rate {id} exists in this store."
)
TAX_RATE_EXISTS = error_code(
    "tax_rate_exists",
    409,
    "Tax rate exists",
    "This store already has a {category} rate for {place}; change that rate instead.",
)
