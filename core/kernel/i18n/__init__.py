"""Locale negotiation and message catalogs (babel + gettext ``.po`` files).

Every human-facing API message has a message id (an error code such as
``product_not_found``); ``locales/<lang>/LC_MESSAGES/caravan.po`` translates
it. Catalogs are read once at start-up with babel; English texts in the code
are the fallback when a catalog lacks a message.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).resolve().parents[3] / "locales"
DOMAIN = "caravan"
DEFAULT_LOCALE = "en"


class LocaleError(ValueError):
    """A malformed or unknown locale identifier."""


@lru_cache(maxsize=1024)
def normalize_locale(identifier: str) -> str:
    """Return the canonical form of a locale id (``de-at`` → ``de_AT``).

    Raises :class:`LocaleError` when babel does not know the locale.
    """
    if not identifier or len(identifier) > 35:
        raise LocaleError(identifier)
    try:
        return str(Locale.parse(identifier.replace("-", "_")))
    except (UnknownLocaleError, ValueError, TypeError) as exc:
        raise LocaleError(identifier) from exc


def is_locale(identifier: str) -> bool:
    """Return whether ``identifier`` names a locale babel knows."""
    try:
        normalize_locale(identifier)
    except LocaleError:
        return False
    return True


@lru_cache(maxsize=4096)
def parse_accept_language(header: str) -> tuple[str, ...]:
    """Return the locales of an ``Accept-Language`` header, best first."""
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")[:32]):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip()
        if not tag or tag == "*":
            continue
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])  # a preference weight, not money
            except ValueError:
                continue
        if quality <= 0:
            continue
        try:
            weighted.append((-quality, index, normalize_locale(tag)))
        except LocaleError:
            continue
    return tuple(tag for _, _, tag in sorted(weighted))


def _candidates(locale: str) -> Iterable[str]:
    """``zh_Hans_CN`` → ``zh_Hans_CN``, ``zh_Hans``, ``zh``."""
    parts = locale.split("_")
    for end in range(len(parts), 0, -1):
        yield "_".join(parts[:end])


@lru_cache(maxsize=4096)
def negotiate(
    wanted: tuple[str, ...], available: tuple[str, ...], default: str | None = None
) -> str:
    """Pick the best of ``available`` for the ``wanted`` locales (best first).

    A wanted ``de_AT`` matches an available ``de``; a wanted ``de`` matches an
    available ``de_DE``. Falls back to ``default`` or the first available.
    """
    if not available:
        return default or DEFAULT_LOCALE
    by_lower = {a.lower(): a for a in available}
    for locale in wanted:
        for candidate in _candidates(locale):
            if candidate.lower() in by_lower:
                return by_lower[candidate.lower()]
        language = locale.split("_")[0].lower()
        for a in available:
            if a.split("_")[0].lower() == language:
                return a
    return default if default in available else available[0]


class Catalogs:
    """Translated messages by locale, read from gettext ``.po`` files."""

    def __init__(self, directories: Iterable[Path] = (LOCALES_DIR,)) -> None:
        self.messages: dict[str, dict[str, str]] = {}
        for directory in directories:
            self._load(directory)
        self.locales: tuple[str, ...] = tuple(sorted(self.messages))

    def _load(self, directory: Path) -> None:
        for po_path in sorted(directory.glob("*/LC_MESSAGES/*.po")):
            locale = po_path.parts[-3]
            with po_path.open("rb") as handle:
                catalog = read_po(handle, locale=locale.replace("-", "_"))
            table = self.messages.setdefault(locale, {})
            for message in catalog:
                if message.id and message.string and not message.fuzzy:
                    table.setdefault(str(message.id), str(message.string))

    def gettext(self, locale: str, message_id: str, default: str) -> str:
        """Return ``message_id`` in ``locale`` (or its language), else ``default``."""
        for candidate in _candidates(locale):
            text = self.messages.get(candidate, {}).get(message_id)
            if text:
                return text
        return default

    def negotiate(self, accept_language: str | None) -> str:
        """Return the catalog locale best matching an ``Accept-Language`` header."""
        if not accept_language:
            return DEFAULT_LOCALE
        return negotiate(parse_accept_language(accept_language), self.locales, DEFAULT_LOCALE)


@lru_cache(maxsize=1)
def core_catalogs() -> Catalogs:
    """The core's own catalogs (``locales/``), read once."""
    return Catalogs([LOCALES_DIR])


#: The catalogs of the application serving the current request or task: the
#: core's plus its plugins' (set by ``PluginHost.activate``).
CURRENT: ContextVar[Catalogs] = ContextVar("caravan_catalogs")


def catalogs() -> Catalogs:
    """The current application's catalogs, else the core's own."""
    found = CURRENT.get(None)
    return found if found is not None else core_catalogs()
