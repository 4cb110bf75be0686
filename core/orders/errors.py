"""Error codes of orders, fulfilments, refunds and returns."""

from core.kernel.errors import error_code

ORDER_NOT_FOUND = error_code("order_not_found", 404, "Order not found", "No order {id} exists.")
ILLEGAL_TRANSITION = error_code(
    "illegal_order_transition",
    409,
    "Not possible in this order state",
    "Order {number} is {status}; it cannot become {target}.",
)
NOT_MANUAL_PAYMENT = error_code(
    "not_manual_payment",
    409,
    "Paid through a provider",
    "Order {number} is paid through {provider}, which confirms payments itself.",
)
FULFILLMENT_NOT_FOUND = error_code(
    "fulfillment_not_found", 404, "Fulfilment not found", "No fulfilment {id} exists."
)
RETURN_NOT_FOUND = error_code("return_not_found", 404, "Return not found", "No return {id} exists.")
ALREADY_DELIVERED = error_code(
    "fulfillment_already_delivered",
    409,
    "Already delivered",
    "Fulfilment {id} is already marked delivered.",
)
RETURN_NOT_OPEN = error_code(
    "return_not_open", 409, "Return already handled", "Return {id} is {status}."
)
REFUND_EXCEEDS = error_code(
    "refund_exceeds_refundable",
    422,
    "Refund too large",
    "At most {refundable} can be refunded on order {number}; {amount} was asked.",
)
REFUND_IN_PROGRESS = error_code(
    "refund_in_progress",
    409,
    "A refund is in progress",
    "Another refund of order {number} is being processed; retry when it has finished.",
)
REFUND_REFUSED = error_code(
    "refund_refused",
    402,
    "Refund refused",
    "The payment provider refused the refund: {reason}",
)
CAPTURE_REFUSED = error_code(
    "capture_refused",
    402,
    "Payment not recorded",
    "The payment provider did not record the payment: {reason}",
)
NO_PAYMENT = error_code(
    "order_has_no_payment",
    409,
    "No payment",
    "Order {number} has no payment to act on.",
)
