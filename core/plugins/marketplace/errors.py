"""Error codes of the marketplace."""

from core.kernel.errors import error_code

LISTING_NOT_FOUND = error_code(
    "listing_not_found", 404, "Listing not found", "No listing of package {package} exists."
)
NOT_LISTING_OWNER = error_code(
    "not_listing_owner",
    403,
    "Not your listing",
    "The package {package} is listed by another author; only its author may change it.",
)
INVALID_MANIFEST = error_code(
    "invalid_manifest",
    422,
    "Invalid manifest",
    "The manifest cannot be listed: {problems}.",
)
VERSION_EXISTS = error_code(
    "version_exists",
    409,
    "Version exists",
    "Version {version} of {package} is published already; release a new version.",
)
ILLEGAL_LISTING_TRANSITION = error_code(
    "illegal_listing_transition",
    409,
    "Illegal listing transition",
    "A listing in state {state} cannot be {action}.",
)
LISTING_EXISTS = error_code(
    "listing_exists",
    409,
    "Listing exists",
    "You list {package} already; change it with PUT /marketplace/author/listings/{package}.",
)
NO_VERSIONS = error_code(
    "listing_has_no_versions",
    409,
    "Listing has no versions",
    "Add a version (with its wheel's SHA-256) before submitting the listing for review.",
)
AUTHOR_HANDLE_TAKEN = error_code(
    "author_handle_taken", 409, "Handle taken", "The author handle {handle} is taken."
)
AUTHOR_TOKEN_NOT_FOUND = error_code(
    "author_token_not_found", 404, "Token not found", "No token with id {id} exists."
)
REVIEW_EXISTS = error_code(
    "review_exists",
    409,
    "Already reviewed",
    "This store has reviewed {package} already; a store reviews a listing once.",
)
REVIEW_NEEDS_INSTALL = error_code(
    "review_needs_install",
    403,
    "Not installed",
    "Only stores that installed {package} may review it.",
)
REVIEW_NOT_FOUND = error_code(
    "review_not_found", 404, "Review not found", "No review with id {id} of your listings exists."
)
