"""Time-ordered, prefixed identifiers (``prod_01JD…``).

Ids sort lexicographically in creation order (48-bit millisecond timestamp
followed by 80 random bits, Crockford base32), so "newest first" and cursor
pagination can order by id alone.
"""

from __future__ import annotations

import secrets
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


#: Every 10-bit value as its two base32 digits: an id's 26 digits are 13 lookups.
_PAIRS = tuple(a + b for a in _ALPHABET for b in _ALPHABET)


def _base32(value: int) -> str:
    """The 128-bit ``value`` as 26 Crockford base32 digits."""
    return "".join([_PAIRS[(value >> shift) & 1023] for shift in range(120, -1, -10)])


_last = [0, 0]  # the millisecond and random part of the previous id of this process


def new_id(prefix: str) -> str:
    """Return a new id such as ``prod_01JDX4ZQ3V9C6M0F4W2N8T5KRA``.

    Within one millisecond, ids of this process keep increasing (the random
    part of the previous id plus one), so creation order is id order.
    """
    millis = time.time_ns() // 1_000_000
    if millis <= _last[0]:
        millis, rand = _last[0], (_last[1] + 1) % (1 << 80)
    else:
        rand = secrets.randbits(79)  # headroom for increments in the same millisecond
    _last[0], _last[1] = millis, rand
    return f"{prefix}_{_base32(millis << 80 | rand)}"


def new_secret(prefix: str, nbytes: int = 24) -> str:
    """Return a random secret token such as ``sk_…`` (URL-safe, high entropy)."""
    return f"{prefix}_{secrets.token_urlsafe(nbytes)}"
