"""Request and response bodies of customer accounts and address books."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from msgspec import UNSET, UnsetType

from core.kernel.addresses import Address, Phone
from core.kernel.validation import LocaleCode

#: An email address as sent (checked and normalized by the service).
Email = Annotated[str, msgspec.Meta(min_length=3, max_length=254)]
#: A password as sent; the policy (10-128 characters) is checked by the service.
Password = Annotated[str, msgspec.Meta(max_length=1024)]
PersonName = Annotated[str, msgspec.Meta(max_length=200)]


class CustomerRead(msgspec.Struct, kw_only=True):
    """A customer account (never its password)."""

    id: str
    email: str
    first_name: str
    last_name: str
    phone: str | None
    locale: str | None
    accepts_marketing: bool
    default_shipping_address_id: str | None
    default_billing_address_id: str | None
    created_at: datetime
    updated_at: datetime


class CustomerRegister(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A new account: the email is unique in the store (case and outer spaces ignored)."""

    email: Email
    password: Password
    first_name: PersonName = ""
    last_name: PersonName = ""
    phone: Phone | None = None
    locale: LocaleCode | None = None
    accepts_marketing: bool = False


class CustomerLogin(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Email and password of an account of this store."""

    email: Email
    password: Password


class CustomerSessionRead(msgspec.Struct, kw_only=True):
    """A new session: send ``token`` as ``Authorization: Bearer <token>`` (shown once)."""

    token: str
    expires_at: datetime
    customer: CustomerRead


class CustomerUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Changes a customer makes to their own account (``null`` clears phone or locale)."""

    first_name: PersonName | UnsetType = UNSET
    last_name: PersonName | UnsetType = UNSET
    phone: Phone | UnsetType | None = UNSET
    locale: LocaleCode | UnsetType | None = UNSET
    accepts_marketing: bool | UnsetType = UNSET


class CustomerAdminUpdate(CustomerUpdate, forbid_unknown_fields=True, kw_only=True):
    """Changes staff make to an account: also its email (never its password)."""

    email: Email | UnsetType = UNSET


class PasswordChange(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A new password; every other session of the customer is logged out."""

    current_password: Password
    new_password: Password


class AddressCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A new address book entry; the customer's first one becomes the default for both uses."""

    address: Address
    default_shipping: bool = False
    default_billing: bool = False


class AddressUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Changes to an entry: ``address`` replaces the whole address.

    ``default_shipping: true`` makes the entry the default shipping address
    (instead of another); ``false`` stops it being the default (none is left).
    The same goes for ``default_billing``.
    """

    address: Address | UnsetType = UNSET
    default_shipping: bool | UnsetType = UNSET
    default_billing: bool | UnsetType = UNSET


class AddressRead(msgspec.Struct, kw_only=True):
    """An address book entry."""

    id: str
    address: Address
    default_shipping: bool
    default_billing: bool
    created_at: datetime
    updated_at: datetime


class CustomerDetail(msgspec.Struct, kw_only=True):
    """A customer with their address book, as staff see it."""

    customer: CustomerRead
    addresses: list[AddressRead]
