"""The scopes of store staff tokens.

``<area>:write`` implies ``<area>:read``. A token can only create tokens
with scopes it holds itself.
"""

from __future__ import annotations

from typing import Final

AREAS: Final = ("catalog", "inventory", "orders", "customers", "settings", "webhooks", "tokens")
SCOPES: Final = tuple(f"{area}:{level}" for area in AREAS for level in ("read", "write"))
ALL_SCOPES: Final = frozenset(SCOPES)


def expand(scopes: list[str] | frozenset[str]) -> frozenset[str]:
    """Return ``scopes`` plus the read scopes their write scopes imply."""
    out = set(scopes)
    for scope in scopes:
        area, _, level = scope.partition(":")
        if level == "write":
            out.add(f"{area}:read")
    return frozenset(out)
