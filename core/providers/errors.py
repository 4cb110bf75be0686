"""Error codes of provider activations and provider calls."""

from core.kernel.errors import error_code

PROVIDER_NOT_FOUND = error_code(
    "provider_not_found",
    404,
    "Provider not found",
    "No {kind} provider {code} is installed on this deployment.",
)
PROVIDER_NOT_ACTIVE = error_code(
    "provider_not_active",
    422,
    "Provider not active",
    "The {kind} provider {code} is not active in this region.",
)
INVALID_PROVIDER_CONFIG = error_code(
    "invalid_provider_config",
    422,
    "Invalid provider configuration",
    "The configuration does not match the schema of the {kind} provider {code}.",
)
PROVIDER_UNAVAILABLE = error_code(
    "provider_unavailable",
    503,
    "Provider unavailable",
    "The {kind} provider {code} did not answer in time or failed; try again shortly.",
)
PROVIDER_BAD_ANSWER = error_code(
    "provider_bad_answer",
    503,
    "Provider gave an impossible answer",
    "The {kind} provider {code} answered something impossible ({reason}); nothing was changed.",
)
