"""Error codes of the catalog."""

from core.kernel.errors import error_code

PRODUCT_NOT_FOUND = error_code(
    "product_not_found", 404, "Product not found", "No product {id} exists in this store."
)
VARIANT_NOT_FOUND = error_code(
    "variant_not_found", 404, "Variant not found", "No variant {id} exists on this product."
)
COLLECTION_NOT_FOUND = error_code(
    "collection_not_found", 404, "Collection not found", "No collection {id} exists in this store."
)
PRODUCT_HANDLE_TAKEN = error_code(
    "product_handle_taken", 409, "Handle taken", "This store already has a product {handle}."
)
COLLECTION_HANDLE_TAKEN = error_code(
    "collection_handle_taken",
    409,
    "Handle taken",
    "This store already has a collection {handle}.",
)
SKU_TAKEN = error_code(
    "sku_taken", 409, "SKU taken", "This store already has a variant with SKU {sku}."
)
LAST_VARIANT = error_code(
    "last_variant",
    409,
    "Last variant",
    "A product keeps at least one variant; delete the product instead.",
)
