"""The password hashing primitives: format, verification, policy, cost upgrades."""

from __future__ import annotations

import pytest

from core.customers import passwords


def test_hash_is_self_describing_salted_and_verifies() -> None:
    first = passwords.hash_password_sync("correct horse battery")
    second = passwords.hash_password_sync("correct horse battery")
    assert first.split("$")[:4] == ["scrypt", "16384", "8", "1"]
    assert first != second  # a new salt each time
    assert passwords.verify_password_sync("correct horse battery", first)
    assert passwords.verify_password_sync("correct horse battery", second)
    assert not passwords.verify_password_sync("correct horse batterY", first)
    assert not passwords.needs_rehash(first)


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "plain text",
        "bcrypt$16384$8$1$c2FsdA$aGFzaA",
        "scrypt$16384$8$1$c2FsdA",
        "scrypt$abc$8$1$c2FsdA$aGFzaA",
        "scrypt$1000$8$1$c2FsdA$aGFzaA",  # n not a power of two
        "scrypt$1073741824$8$1$c2FsdA$aGFzaA",  # n too large to accept
        "scrypt$16384$8$1$!!!$aGFzaA",
        "scrypt$16384$8$1$c2FsdA$",
    ],
)
def test_malformed_stored_hashes_never_verify(stored: str) -> None:
    assert not passwords.verify_password_sync("anything at all", stored)
    assert passwords.needs_rehash(stored)


def test_a_hash_of_other_parameters_verifies_and_asks_for_a_rehash() -> None:
    salt = b"0123456789abcdef"
    digest = passwords._kdf("correct horse battery", salt, 2**10, 8, 1, 32)
    old = passwords._encode(2**10, 8, 1, salt, digest)
    assert passwords.verify_password_sync("correct horse battery", old)
    assert passwords.needs_rehash(old)


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("x" * 9, False),
        ("x" * 10, True),
        ("x" * 128, True),
        ("x" * 129, False),
        (" " * 10, False),
        ("\t\n " * 5, False),
        (" a " * 4, True),
        ("密" * 10, True),
    ],
)
def test_password_policy(password: str, ok: bool) -> None:
    assert passwords.is_acceptable(password) is ok


async def test_unknown_accounts_verify_against_the_dummy() -> None:
    assert not passwords.needs_rehash(passwords.DUMMY_HASH)
    assert await passwords.verify_password("whatever it is", None) is False
