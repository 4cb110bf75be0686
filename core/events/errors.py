"""Error codes of events and webhooks."""

from core.kernel.errors import error_code

WEBHOOK_ENDPOINT_NOT_FOUND = error_code(
    "webhook_endpoint_not_found",
    404,
    "Webhook endpoint not found",
    "No webhook endpoint {id} exists in this store.",
)
WEBHOOK_DELIVERY_NOT_FOUND = error_code(
    "webhook_delivery_not_found",
    404,
    "Webhook delivery not found",
    "No webhook delivery {id} exists in this store.",
)
WEBHOOK_URL_REFUSED = error_code(
    "webhook_url_refused",
    422,
    "Webhook URL refused",
    "Webhook URLs must use https and must not point to a loopback, private, link-local, "
    "multicast or reserved address ({reason}).",
)
