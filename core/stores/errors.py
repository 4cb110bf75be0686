"""Error codes of stores, regions and storefronts."""

from core.kernel.errors import error_code

STORE_NOT_FOUND = error_code(
    "store_not_found", 404, "Store not found", "No store with id {id} exists."
)
REGION_NOT_FOUND = error_code(
    "region_not_found", 404, "Region not found", "No region {id} exists in this store."
)
STOREFRONT_NOT_FOUND = error_code(
    "storefront_not_found", 404, "Storefront not found", "No storefront with id {id} exists."
)
STORE_HANDLE_TAKEN = error_code(
    "store_handle_taken", 409, "Handle taken", "A store with handle {handle} already exists."
)
REGION_CODE_TAKEN = error_code(
    "region_code_taken", 409, "Region code taken", "This store already has a region {code}."
)
COUNTRY_IN_OTHER_REGION = error_code(
    "country_in_other_region",
    409,
    "Country already served",
    "{country} is already served by region {region}; a country belongs to one region.",
)
REGION_IN_USE = error_code(
    "region_in_use",
    409,
    "Region in use",
    "Region {code} is the default region of a storefront; change that storefront first.",
)
UNKNOWN_REGION = error_code(
    "unknown_region",
    400,
    "Unknown region",
    "This storefront has no region {code}; GET /store/regions lists them.",
)
NO_REGION = error_code(
    "no_region",
    400,
    "No region chosen",
    "Choose a region with ?region=<code> or the X-Region header.",
)
