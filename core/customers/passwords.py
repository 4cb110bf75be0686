"""Customer passwords: policy, scrypt hashing and constant-time verification.

Hashes are self-describing strings ``scrypt$<n>$<r>$<p>$<salt>$<hash>``
(salt and hash in unpadded URL-safe base64), so the cost can be raised later:
:func:`needs_rehash` tells the login to store a new hash with today's cost.
The KDF is memory-hard (scrypt, n=2**14, r=8: 16 MiB per hash) and runs in a
worker thread so that it never blocks the event loop.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import secrets
from typing import Final

N: Final = 2**14
R: Final = 8
P: Final = 1
SALT_BYTES: Final = 16
HASH_BYTES: Final = 32
MIN_LENGTH: Final = 10
MAX_LENGTH: Final = 128
#: Upper bounds of the cost parameters a stored hash may name (a corrupt or
#: hostile row must not make verification allocate gigabytes).
_MAX_N: Final = 2**17
_MAX_RP: Final = 16
_PREFIX: Final = "scrypt"


def is_acceptable(password: str) -> bool:
    """The password policy: 10 to 128 characters, not only whitespace."""
    return MIN_LENGTH <= len(password) <= MAX_LENGTH and not password.isspace()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _kdf(password: str, salt: bytes, n: int, r: int, p: int, size: int) -> bytes:
    """scrypt itself (one place, so tests can count the calls)."""
    return hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=r, p=p, maxmem=256 * n * r + 2**20, dklen=size
    )


def _encode(n: int, r: int, p: int, salt: bytes, digest: bytes) -> str:
    return f"{_PREFIX}${n}${r}${p}${_b64(salt)}${_b64(digest)}"


def hash_password_sync(password: str) -> str:
    """Hash ``password`` with a new random salt (blocking: ~50 ms of CPU, 16 MiB)."""
    salt = secrets.token_bytes(SALT_BYTES)
    return _encode(N, R, P, salt, _kdf(password, salt, N, R, P, HASH_BYTES))


def _parse(stored: str) -> tuple[int, int, int, bytes, bytes] | None:
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != _PREFIX:
        return None
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt, digest = _unb64(parts[4]), _unb64(parts[5])
    except (ValueError, binascii.Error):
        return None
    power_of_two = n > 1 and n & (n - 1) == 0
    if not (power_of_two and n <= _MAX_N and 0 < r <= _MAX_RP and 0 < p <= _MAX_RP and digest):
        return None
    return n, r, p, salt, digest


def verify_password_sync(password: str, stored: str) -> bool:
    """Whether ``password`` matches the ``stored`` hash (compared in constant time)."""
    parsed = _parse(stored)
    if parsed is None:
        return False
    n, r, p, salt, digest = parsed
    return hmac.compare_digest(_kdf(password, salt, n, r, p, len(digest)), digest)


def needs_rehash(stored: str) -> bool:
    """Whether ``stored`` was made with other parameters than today's."""
    parsed = _parse(stored)
    return parsed is None or parsed[:3] != (N, R, P) or len(parsed[4]) != HASH_BYTES


#: What a login naming an unknown email verifies against: today's parameters,
#: a random salt and a random digest that no password produces. Checking a
#: password against it costs what a real check costs, so the answer for an
#: unknown email comes as late as the one for a wrong password.
DUMMY_HASH: Final = _encode(
    N, R, P, secrets.token_bytes(SALT_BYTES), secrets.token_bytes(HASH_BYTES)
)


async def hash_password(password: str) -> str:
    """:func:`hash_password_sync` in a worker thread."""
    return await asyncio.to_thread(hash_password_sync, password)


async def verify_password(password: str, stored: str | None) -> bool:
    """:func:`verify_password_sync` in a worker thread.

    ``stored=None`` (no such account) verifies against :data:`DUMMY_HASH`
    and returns ``False``: the same work, the same answer as a wrong password.
    """
    if stored is None:
        await asyncio.to_thread(verify_password_sync, password, DUMMY_HASH)
        return False
    return await asyncio.to_thread(verify_password_sync, password, stored)
