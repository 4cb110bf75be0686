"""Error codes of checkout and idempotent requests."""

from core.kernel.errors import error_code

INVALID_IDEMPOTENCY_KEY = error_code(
    "invalid_idempotency_key",
    400,
    "Invalid Idempotency-Key",
    "An Idempotency-Key is 1 to 255 printable ASCII characters.",
)
IDEMPOTENCY_KEY_REUSED = error_code(
    "idempotency_key_reused",
    422,
    "Idempotency-Key reused",
    "This Idempotency-Key was first used for a different request; use a new key.",
)
IDEMPOTENCY_IN_FLIGHT = error_code(
    "idempotency_in_flight",
    409,
    "Request in progress",
    "A request with this Idempotency-Key is still being processed; retry shortly.",
)
CART_NOT_READY = error_code(
    "cart_not_ready",
    422,
    "Cart not ready for checkout",
    "The cart needs the fields listed before it can be paid.",
)
CART_CHANGED = error_code(
    "cart_changed",
    409,
    "Cart changed after payment opened",
    "The cart changed after its payment session was opened; open a new payment session.",
)
PAYMENT_SESSION_REQUIRED = error_code(
    "payment_session_required",
    422,
    "No payment session",
    "Open a payment session for this cart before completing it.",
)
RESERVATION_EXPIRED = error_code(
    "reservation_expired",
    409,
    "Reservation expired",
    "The stock held for this cart was released, or is about to be; open a new payment session.",
)
PAYMENT_NOT_CONFIRMED = error_code(
    "payment_not_confirmed",
    409,
    "Payment not confirmed",
    "The payment provider has not confirmed the payment yet ({status}).",
)
PAYMENT_FAILED = error_code(
    "payment_failed",
    402,
    "Payment failed",
    "The payment provider refused the payment: {reason}.",
)
