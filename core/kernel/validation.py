"""Constrained types for request bodies and the checks msgspec cannot express.

msgspec enforces shapes, lengths and ranges while decoding; what needs a
lookup (is ``XYZ`` a currency? is ``xx_YY`` a locale?) is checked here and
collected into one 422 problem listing every bad field.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any, Final
from urllib.parse import urlsplit

import msgspec
from babel import Locale

from core.kernel import errors
from core.kernel.errors import CaravanError, FieldIssue
from core.kernel.i18n import is_locale, normalize_locale
from core.kernel.money import MAX_AMOUNT, is_currency

Handle = Annotated[
    str, msgspec.Meta(min_length=1, max_length=128, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
]
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=32, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
CurrencyCode = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$")]
CountryCode = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2}$")]
LocaleCode = Annotated[
    str,
    msgspec.Meta(min_length=2, max_length=16, pattern=r"^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})*$"),
]
Amount = Annotated[int, msgspec.Meta(ge=0, le=MAX_AMOUNT)]
Url = Annotated[str, msgspec.Meta(min_length=8, max_length=2048)]

MAX_LIST: Final = 250
_NOT_COUNTRIES: Final = frozenset({"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"})


@lru_cache(maxsize=1)
def countries() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes babel knows (two-letter territories, less CLDR's
    groupings and placeholders such as ``EU``, ``UN`` and ``ZZ``)."""
    codes = (str(code) for code in Locale("en").territories)
    return frozenset(c for c in codes if len(c) == 2 and c.isalpha() and c not in _NOT_COUNTRIES)


class Issues:
    """Collects field issues; :meth:`raise_if_any` raises one 422 for all of them."""

    def __init__(self) -> None:
        self.items: list[FieldIssue] = []

    def add(self, field: str, code: str, **params: Any) -> None:
        """Record that ``field`` is invalid with ``code``."""
        self.items.append(FieldIssue(field, code, params))

    def currency(self, field: str, value: str | None) -> None:
        """Check an ISO 4217 code."""
        if value is not None and not is_currency(value):
            self.add(field, "invalid_currency")

    def country(self, field: str, value: str | None) -> None:
        """Check an ISO 3166-1 alpha-2 code."""
        if value and value not in countries():
            self.add(field, "invalid_country")

    def locale(self, field: str, value: str | None) -> str | None:
        """Check a locale and return its canonical form (``de-at`` → ``de_AT``)."""
        if value is None:
            return None
        if not is_locale(value):
            self.add(field, "invalid_locale")
            return value
        return normalize_locale(value)

    def unique(self, field: str, values: list[str]) -> None:
        """Check that ``values`` has no duplicates."""
        seen: set[str] = set()
        for index, value in enumerate(values):
            if value in seen:
                self.add(f"{field}[{index}]", "duplicate")
            seen.add(value)

    def http_url(self, field: str, value: str, *, origin_only: bool = False) -> None:
        """Check an absolute http(s) URL (or a bare ``scheme://host[:port]`` origin)."""
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises on a bad port
        except ValueError:
            self.add(field, "invalid_url")
            return
        absolute = parts.scheme in ("http", "https") and bool(parts.hostname)
        extra = parts.path not in ("", "/") or parts.query or parts.fragment
        if not absolute or (origin_only and extra):
            self.add(field, "invalid_url")

    def raise_if_any(self) -> None:
        """Raise a 422 listing every recorded issue, if there are any."""
        if self.items:
            raise CaravanError(errors.VALIDATION_FAILED, errors=self.items)
