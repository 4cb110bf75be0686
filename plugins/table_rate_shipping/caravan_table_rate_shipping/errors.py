"""Error codes of the table-rate shipping plugin."""

from core.plugins import error_code

SHIPPING_ZONE_NOT_FOUND = error_code(
    "shipping_zone_not_found",
    404,
    "Shipping zone not found",
    "No shipping zone {id} exists in this store.",
)
SHIPPING_RATE_NOT_FOUND = error_code(
    "shipping_rate_not_found",
    404,
    "Shipping rate not found",
    "No shipping rate {id} exists in this zone.",
)
COUNTRY_IN_OTHER_ZONE = error_code(
    "country_in_other_zone",
    409,
    "Country already in a zone",
    "{country} already belongs to shipping zone {zone}; a country belongs to one zone.",
)
