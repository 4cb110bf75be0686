"""The public API for plugin authors: everything a plugin imports from Caravan.

A plugin imports ``core.plugins`` (and, in its tests, ``core.plugins.testing``)
and nothing else of ``core``; a test of the core fails if a first-party plugin
does. What is listed in ``__all__`` changes additively: a name, once released,
is deprecated before it goes.

- **Declaring a plugin**: :data:`hookimpl`, :class:`Manifest`, :class:`Capability`,
  :class:`Subscriber` (an event subscriber the outbox worker runs),
  :data:`API_VERSION` (the hooks themselves are documented in
  :mod:`core.plugins.hookspecs`).
- **Providers**: the abstract classes of each kind with the structs their methods
  take and return (payment, tax, shipping, affiliate), :class:`Provider`,
  :data:`Secret` for a ``Config`` field that is stored encrypted.
- **Money and validation**: :class:`Money`, the field types of request bodies
  (:data:`Amount`, :data:`CountryCode`…), :class:`Issues`, :class:`Address`.
- **Errors**: :class:`CaravanError`, :func:`error_code` (codes are message ids,
  translated in the plugin's ``locales/``).
- **A plugin's own tables**: Piccolo tables declared with ``db=UNBOUND`` and
  returned by ``register_tables``, their Alembic versions in the folder
  ``register_migrations`` returns; :func:`id_column`, :func:`timestamp_now`,
  :data:`Store` (the table a plugin's rows belong to). Queries on them use
  Piccolo, or the statements below for SQL of the plugin's own tables
  (``{}`` placeholders): :func:`fetch`, :func:`select`, :func:`insert`,
  :func:`transaction`, :func:`now`, :func:`is_unique_violation`,
  :func:`unique_or_conflict`.
- **Tests**: :class:`PluginHost` (the ``host`` fixture of the testing kit,
  :mod:`core.plugins.testing`: what the application's plugins registered).
- **Routes**: :func:`needs` and :func:`operator_only` (who may call an admin
  route), :func:`store_id_of`, cursor pagination (:class:`Cursor`, :data:`Limit`,
  :class:`Page`).
"""

from __future__ import annotations

from core.affiliates.providers import (
    AffiliateProvider,
    Commission,
    CommissionLine,
    CommissionRequest,
)
from core.auth.guards import needs, operator_only, store_id_of
from core.db.columns import ID_LENGTH, id_column, timestamp_now
from core.db.engine import (
    UNBOUND,
    fetch,
    insert,
    is_unique_violation,
    now,
    select,
    transaction,
    unique_or_conflict,
)
from core.events.subscribers import Subscriber
from core.kernel.addresses import Address
from core.kernel.cache import TTLCache
from core.kernel.errors import SERVICE_UNAVAILABLE, CaravanError, ErrorCode, error_code
from core.kernel.i18n import negotiate
from core.kernel.ids import new_id
from core.kernel.money import Money
from core.kernel.pagination import Cursor, Limit, Page, decode_cursor, encode_cursor, page_of
from core.kernel.secrets import Secret
from core.kernel.settings import Settings
from core.kernel.validation import (
    MAX_LIST,
    Amount,
    Code,
    CountryCode,
    CurrencyCode,
    Issues,
    LocaleCode,
    Name,
)
from core.payments.providers import (
    NextAction,
    PaymentProvider,
    PaymentSession,
    PaymentSessionRequest,
    PaymentState,
    RefundResult,
)
from core.plugins.capabilities import Capability
from core.plugins.hookspecs import API_VERSION, hookimpl
from core.plugins.host import PluginHost
from core.plugins.manifests import Manifest, PluginError
from core.providers import Provider
from core.shipping.providers import (
    ShippingLine,
    ShippingOption,
    ShippingProvider,
    ShippingRequest,
)
from core.stores.tables import Store
from core.tax.providers import TaxLine, TaxLineResult, TaxProvider, TaxRequest, TaxResult, tax_of

__all__ = [
    "API_VERSION",
    "ID_LENGTH",
    "MAX_LIST",
    "SERVICE_UNAVAILABLE",
    "UNBOUND",
    "Address",
    "AffiliateProvider",
    "Amount",
    "Capability",
    "CaravanError",
    "Code",
    "Commission",
    "CommissionLine",
    "CommissionRequest",
    "CountryCode",
    "CurrencyCode",
    "Cursor",
    "ErrorCode",
    "Issues",
    "Limit",
    "LocaleCode",
    "Manifest",
    "Money",
    "Name",
    "NextAction",
    "Page",
    "PaymentProvider",
    "PaymentSession",
    "PaymentSessionRequest",
    "PaymentState",
    "PluginError",
    "PluginHost",
    "Provider",
    "RefundResult",
    "Secret",
    "Settings",
    "ShippingLine",
    "ShippingOption",
    "ShippingProvider",
    "ShippingRequest",
    "Store",
    "Subscriber",
    "TTLCache",
    "TaxLine",
    "TaxLineResult",
    "TaxProvider",
    "TaxRequest",
    "TaxResult",
    "decode_cursor",
    "encode_cursor",
    "error_code",
    "fetch",
    "hookimpl",
    "id_column",
    "insert",
    "is_unique_violation",
    "needs",
    "negotiate",
    "new_id",
    "now",
    "operator_only",
    "page_of",
    "select",
    "store_id_of",
    "tax_of",
    "timestamp_now",
    "transaction",
    "unique_or_conflict",
]
