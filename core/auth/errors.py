"""Error codes of authentication and authorization."""

from core.kernel.errors import error_code

INVALID_TOKEN = error_code(
    "invalid_token", 401, "Invalid credentials", "The token is unknown, revoked or expired."
)
MISSING_TOKEN = error_code(
    "missing_token",
    401,
    "Credentials required",
    "Send a secret token as 'Authorization: Bearer <token>'.",
)
PUBLISHABLE_KEY_ON_ADMIN = error_code(
    "publishable_key_not_allowed",
    401,
    "Publishable key not allowed",
    "Publishable keys only open the storefront API; the admin API takes secret tokens.",
)
MISSING_SCOPE = error_code(
    "missing_scope", 403, "Missing scope", "This token lacks the scope {scope} needed here."
)
OPERATOR_REQUIRED = error_code(
    "operator_required", 403, "Operator token required", "Only the platform operator may do this."
)
STORE_TOKEN_REQUIRED = error_code(
    "store_token_required",
    403,
    "Store token required",
    "This route acts on one store; use a secret token of that store.",
)
INVALID_PUBLISHABLE_KEY = error_code(
    "invalid_publishable_key",
    401,
    "Invalid publishable key",
    "Send a valid publishable key in the X-Publishable-Key header.",
)
TOKEN_NOT_FOUND = error_code(
    "token_not_found", 404, "Token not found", "No token with id {id} exists."
)
