"""Error codes of customer accounts, sessions and address books."""

from core.kernel.errors import FIELD_CODES, error_code

EMAIL_TAKEN = error_code(
    "email_taken",
    409,
    "Email taken",
    "This store already has a customer account with this email address.",
)
INVALID_CREDENTIALS = error_code(
    "invalid_credentials",
    401,
    "Invalid email or password",
    "The email address or the password is wrong.",
)
TOO_MANY_ATTEMPTS = error_code(
    "too_many_attempts",
    429,
    "Too many attempts",
    "Too many failed logins for this account; retry after {retry_after} seconds.",
)
LOGIN_REQUIRED = error_code(
    "login_required",
    401,
    "Login required",
    "Log in first and send the session as 'Authorization: Bearer <token>'.",
)
SESSION_INVALID = error_code(
    "session_invalid",
    401,
    "Session invalid",
    "The customer session is unknown, revoked or expired; log in again.",
)
CUSTOMER_NOT_FOUND = error_code(
    "customer_not_found", 404, "Customer not found", "No customer {id} exists in this store."
)
ADDRESS_NOT_FOUND = error_code(
    "address_not_found", 404, "Address not found", "No address {id} exists in this address book."
)
ADDRESS_BOOK_FULL = error_code(
    "address_book_full",
    409,
    "Address book full",
    "An address book holds at most {max} addresses; delete one first.",
)

# Field-level codes (the ``code`` of a field error), registered with the core's.
FIELD_CODES.setdefault(
    "weak_password",
    "A password has 10 to 128 characters and is not only spaces.",
)
FIELD_CODES.setdefault("invalid_email", "This is not an email address.")
FIELD_CODES.setdefault("incorrect_password", "This is not the account's current password.")
