"""Secrets in provider configurations: encrypted at rest, never answered.

A field of a provider's ``Config`` is secret when its type is :data:`Secret`
(an API key, a webhook signing secret…)::

    class Config(msgspec.Struct, forbid_unknown_fields=True):
        api_key: Secret = ""
        sandbox: bool = True

Its JSON Schema says ``"writeOnly": true``. When a store activates the
provider, the value is encrypted (Fernet: AES-128-CBC + HMAC-SHA256) with
the first key of ``CARAVAN_SECRET_KEYS`` before it is written; the admin API
answers :data:`MASK` in its place, and a reconfiguration that sends
:data:`MASK` back keeps the stored value. Decryption happens only when the
provider is instantiated for a region.

Keys rotate: put a new key first in ``CARAVAN_SECRET_KEYS`` (older keys
after it still decrypt), run ``caravan secrets rotate`` to re-encrypt every
stored secret with it, then drop the old keys. ``caravan secrets new-key``
prints a fresh key.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, Final

import msgspec
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from core.kernel.errors import RETRY_AFTER, SERVICE_UNAVAILABLE, CaravanError
from core.kernel.scope import app_scope

log = logging.getLogger("caravan.secrets")

#: The type of a secret configuration field.
Secret = Annotated[
    str,
    msgspec.Meta(extra={"secret": True}, extra_json_schema={"writeOnly": True}, max_length=4096),
]
#: What the API shows instead of a stored secret.
MASK: Final = "********"
_PREFIX: Final = "enc:v1:"


class SecretKeyError(ValueError):
    """``CARAVAN_SECRET_KEYS`` holds something that is not a Fernet key."""


def keyring(keys: str) -> MultiFernet | None:
    """The keys of ``keys`` (comma-separated Fernet keys, the first encrypts), or
    ``None`` for none; raises :class:`SecretKeyError` for a malformed one."""
    found = [key.strip() for key in keys.split(",") if key.strip()]
    try:
        return MultiFernet([Fernet(key) for key in found]) if found else None
    except ValueError as exc:
        raise SecretKeyError(
            "CARAVAN_SECRET_KEYS must be comma-separated keys made by `caravan secrets new-key`"
        ) from exc


def use_keys(keys: str) -> None:
    """Use ``keys`` in the current application from now on (its settings' keys
    otherwise): for a key rotation in a running process, and for tests."""
    app_scope().put("secrets.keys", keyring(keys))


def new_key() -> str:
    """A fresh key for ``CARAVAN_SECRET_KEYS``."""
    return Fernet.generate_key().decode()


def secret_fields(config_type: type) -> frozenset[str]:
    """The names (as stored) of the secret fields of a ``Config`` Struct."""
    info = msgspec.inspect.type_info(config_type)
    if not isinstance(info, msgspec.inspect.StructType):
        return frozenset()
    return frozenset(
        field.encode_name
        for field in info.fields
        if isinstance(field.type, msgspec.inspect.Metadata)
        and (field.type.extra or {}).get("secret")
    )


def _unavailable() -> CaravanError:
    return CaravanError(SERVICE_UNAVAILABLE, headers={"retry-after": RETRY_AFTER})


def _ring() -> MultiFernet:
    keys = app_scope().memo("secrets.keys", lambda settings: keyring(settings.secret_keys))
    if keys is None:
        log.error("a provider configuration holds a secret but CARAVAN_SECRET_KEYS is not set")
        raise _unavailable()
    return keys


def seal(config: dict[str, Any], secret: frozenset[str], stored: dict[str, Any]) -> dict[str, Any]:
    """``config`` as it is stored: secret values encrypted; :data:`MASK` keeps the value in
    ``stored`` (the current row's config)."""
    out = dict(config)
    for name in secret & out.keys():
        value = out[name]
        if value == MASK and isinstance(stored.get(name), str):
            out[name] = stored[name]
        elif value:
            out[name] = _PREFIX + _ring().encrypt(str(value).encode()).decode()
    return out


def unseal(config: dict[str, Any], secret: frozenset[str]) -> dict[str, Any]:
    """A stored config with its secrets decrypted (for the provider only)."""
    out = dict(config)
    for name in secret & out.keys():
        value = out[name]
        if _sealed(value):
            try:
                out[name] = _ring().decrypt(value[len(_PREFIX) :].encode()).decode()
            except InvalidToken:
                log.error("secret %r cannot be decrypted with CARAVAN_SECRET_KEYS", name)
                raise _unavailable() from None
    return out


def masked(config: dict[str, Any], secret: frozenset[str]) -> dict[str, Any]:
    """A stored config as the API shows it: set secrets (and anything encrypted, whatever
    the provider now declares) replaced by :data:`MASK`."""
    return {
        name: MASK if (name in secret and value) or _sealed(value) else value
        for name, value in config.items()
    }


def _sealed(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(_PREFIX)


def rotated(config: dict[str, Any]) -> dict[str, Any]:
    """A stored config with every encrypted value re-encrypted under the first key."""
    return {
        name: _PREFIX + _ring().rotate(value[len(_PREFIX) :].encode()).decode()
        if _sealed(value)
        else value
        for name, value in config.items()
    }
