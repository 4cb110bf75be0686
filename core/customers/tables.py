"""Customer accounts, their sessions, address books and login attempts.

``caravan_pii`` names the columns that hold personal data, for export and
erasure (GDPR articles 15, 17 and 20): nothing personal is kept elsewhere
in these tables (login attempts keep a hash of the email, not the email).
"""

from __future__ import annotations

from piccolo.columns import JSON, Boolean, ForeignKey, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from core.db.columns import ID_LENGTH, id_column, timestamp_now
from core.db.engine import UNBOUND
from core.stores.tables import Store


class Customer(Table, tablename="customers", db=UNBOUND):
    """A customer account of one store (the same email in two stores is two customers).

    ``email_normalized`` is the address stripped of surrounding whitespace and
    lower-cased; it is unique per store and what login looks up.
    """

    caravan_unique = (("store", "email_normalized"),)
    caravan_indexes = (("store", "id"),)
    caravan_pii = ("email", "email_normalized", "first_name", "last_name", "phone")

    id = id_column()
    store = ForeignKey(Store, on_delete=OnDelete.cascade, null=False)
    email = Varchar(length=254)
    email_normalized = Varchar(length=254)
    first_name = Varchar(length=200, default="")
    last_name = Varchar(length=200, default="")
    phone = Varchar(length=32, null=True, default=None)
    locale = Varchar(length=16, null=True, default=None)
    accepts_marketing = Boolean(default=False)
    #: ``scrypt$n$r$p$salt$hash`` (see :mod:`core.customers.passwords`).
    password_hash = Varchar(length=255)
    #: Ids of address book entries (no foreign key: cleared when the entry goes).
    default_shipping_address = Varchar(length=ID_LENGTH, null=True, default=None)
    default_billing_address = Varchar(length=ID_LENGTH, null=True, default=None)
    created_at = timestamp_now()
    updated_at = timestamp_now()


class CustomerSession(Table, tablename="customer_sessions", db=UNBOUND):
    """A customer's login: an opaque bearer token stored as its SHA-256 hash."""

    id = id_column()
    store = ForeignKey(Store, on_delete=OnDelete.cascade, null=False, index=True)
    customer = ForeignKey(Customer, on_delete=OnDelete.cascade, null=False, index=True)
    token_hash = Varchar(length=64, unique=True)
    created_at = timestamp_now()
    expires_at = Timestamptz()
    last_used_at = timestamp_now()
    revoked_at = Timestamptz(null=True, default=None)


class CustomerAddress(Table, tablename="customer_addresses", db=UNBOUND):
    """An entry of an address book (``address``: :class:`core.kernel.addresses.Address`)."""

    caravan_pii = ("address",)

    id = id_column()
    store = ForeignKey(Store, on_delete=OnDelete.cascade, null=False, index=True)
    customer = ForeignKey(Customer, on_delete=OnDelete.cascade, null=False, index=True)
    address = JSON(default="{}")
    created_at = timestamp_now()
    updated_at = timestamp_now()


class LoginAttempt(Table, tablename="customer_login_attempts", db=UNBOUND):
    """One login (or password check) of an account, kept until it succeeds or ages out.

    ``subject`` is the SHA-256 of the store id and the normalized email, so
    the table counts attempts on unknown emails too without storing any.
    Several processes share the count through this table.
    """

    caravan_indexes = (("subject", "attempted_at"), ("attempted_at",))

    id = id_column()
    store = ForeignKey(Store, on_delete=OnDelete.cascade, null=False, index=True)
    subject = Varchar(length=64)
    attempted_at = timestamp_now()
