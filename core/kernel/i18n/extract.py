"""Keep the gettext catalogs in ``locales/`` in step with the message ids in the code.

Every human-facing API message has a message id and an English text in the
code (see :mod:`core.kernel.errors`): an error code ``C`` gives the ids ``C`` (its
title) and ``C.detail``; a field code ``F`` gives ``field.F``. This tool
collects them from every ``core.<domain>.errors`` module and writes
``locales/<lang>/LC_MESSAGES/caravan.po`` for each shipped locale:

* new ids are added (English: the English text; other locales: untranslated),
* ids the code no longer has are dropped,
* existing translations are kept; one whose English source changed is marked
  ``fuzzy`` (ignored at run time) until a translator confirms it.

Each entry carries ``#. English: ...`` so translators see the source text.

Usage::

    python -m core.kernel.i18n.extract           # add/drop ids, keep translations
    python -m core.kernel.i18n.extract --check   # exit 1 on stale files or gaps
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import importlib.util
import io
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import ModuleType

import msgspec
from babel import Locale
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po, write_po

import core
from core.kernel import errors
from core.kernel.i18n import DOMAIN, LOCALES_DIR

#: The locales Caravan ships, as ``locales/`` directory names.
SHIPPED_LOCALES: tuple[str, ...] = ("en", "de", "fr", "es", "ja", "zh_Hans", "ar", "id")
#: The locale whose texts live in the code.
SOURCE_LOCALE = "en"
#: GNU gettext plural rules, where babel's default differs or is missing.
PLURAL_FORMS: dict[str, tuple[int, str]] = {
    "ar": (
        6,
        "(n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : n%100>=11 ? 4 : 5)",
    ),
    "id": (1, "0"),
}

ENGLISH_PREFIX = "English: "
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_PROJECT_ROOT = LOCALES_DIR.parent


class SourceMessage(msgspec.Struct, frozen=True):
    """A message id as the code defines it.

    Attributes:
        id: The gettext message id (``product_not_found.detail``).
        english: The English text, the fallback when a catalog lacks the id.
        note: What the text is, for translators (``Problem title (HTTP 404).``).
        location: The file that declares it, relative to the project root.
    """

    id: str
    english: str
    note: str
    location: str | None = None


class CatalogReport(msgspec.Struct):
    """What updating one locale's catalog changed or found missing.

    Attributes:
        locale: The locale directory name.
        path: The ``.po`` file.
        added: Ids the file lacked.
        dropped: Ids the code no longer has.
        missing: Ids without a translation.
        outdated: Ids whose translation predates a change of the English text.
        broken: Ids whose translation's ``{placeholders}`` differ from the English.
        stale: Whether the file differs from what the tool would write.
        written: Whether the tool wrote the file.
    """

    locale: str
    path: Path
    added: list[str]
    dropped: list[str]
    missing: list[str]
    outdated: list[str]
    broken: list[str]
    stale: bool
    written: bool


def placeholders(text: str) -> set[str]:
    """Return the ``{name}`` placeholders of a message text.

    Args:
        text: An English text or a translation.

    Returns:
        The placeholder names, without braces.
    """
    return set(_PLACEHOLDER.findall(text))


# ---------------------------------------------------------------------------
# Collecting the message ids
# ---------------------------------------------------------------------------


def error_modules() -> list[ModuleType]:
    """Import :mod:`core.kernel.errors` and every other ``errors`` module of ``core``.

    They are found by file name at any depth, so a new ``core/<domain>/errors.py``
    (or ``core/plugins/<part>/errors.py``) is picked up without changes here.

    Returns:
        The modules, :mod:`core.kernel.errors` first, then by path.
    """
    modules = [errors]
    root = Path(core.__file__).parent
    for path in sorted(root.rglob("errors.py")):
        name = ".".join(("core", *path.relative_to(root).with_suffix("").parts))
        if name != errors.__name__:
            modules.append(importlib.import_module(name))
    return modules


def _relative(path: str | None) -> str | None:
    if path is None:
        return None
    try:
        return Path(path).resolve().relative_to(_PROJECT_ROOT).as_posix()
    except ValueError:
        return None


def _code_locations(modules: Iterable[ModuleType]) -> dict[str, str]:
    """Map each error code to the file of the first module that names it."""
    locations: dict[str, str] = {}
    for module in modules:
        location = _relative(getattr(module, "__file__", None))
        if location is None:
            continue
        for value in vars(module).values():
            if isinstance(value, errors.ErrorCode):
                locations.setdefault(value.code, location)
    return locations


def _declared_elsewhere(core_codes: Iterable[str]) -> set[str]:
    """Codes that only modules outside ``core`` hold (a plugin's, a test's).

    Plugins ship their own catalogs; a code they register must not leak into
    the core's when the tool runs in a process that has loaded them.
    """
    known = set(core_codes)
    foreign: set[str] = set()
    for name, module in list(sys.modules.items()):
        if name == "core" or name.startswith("core.") or module is None:
            continue
        for value in list(getattr(module, "__dict__", {}).values()):
            if isinstance(value, errors.ErrorCode) and value.code not in known:
                foreign.add(value.code)
    return foreign


def _note(kind: str, english: str) -> str:
    names = sorted(placeholders(english))
    if not names:
        return kind
    keep = ", ".join("{" + name + "}" for name in names)
    return f"{kind} Keep {keep} unchanged."


def source_messages() -> list[SourceMessage]:
    """Return every message id of the code with its English text, sorted by id.

    The ids are those of every code in :data:`core.kernel.errors.REGISTRY` once all
    ``core.<domain>.errors`` modules are imported (codes only non-core modules
    declare, such as a plugin's, are left to their own catalogs) and of every
    field code in :data:`core.kernel.errors.FIELD_CODES`. Messages whose English text
    is empty (such as the detail of ``not_modified``, which has no body) have
    nothing to translate and are left out.

    Returns:
        The messages, sorted by id.

    Raises:
        ValueError: If two messages would share one id.
    """
    modules = error_modules()
    locations = _code_locations(modules)
    errors_file = _relative(errors.__file__)
    foreign = _declared_elsewhere(locations)
    found: dict[str, SourceMessage] = {}

    def add(message: SourceMessage) -> None:
        if not message.english:
            return
        if message.id in found:
            raise ValueError(f"message id {message.id!r} is defined twice")
        found[message.id] = message

    for code in errors.REGISTRY.values():
        if code.code in foreign:
            continue
        where = locations.get(code.code)
        status = f"(HTTP {code.status})."
        add(
            SourceMessage(
                code.code, code.title, _note(f"Problem title {status}", code.title), where
            )
        )
        add(
            SourceMessage(
                f"{code.code}.detail",
                code.detail,
                _note(f"Problem detail {status}", code.detail),
                where,
            )
        )
    for field_code, english in errors.FIELD_CODES.items():
        add(
            SourceMessage(
                errors.field_message_id(field_code),
                english,
                _note("Field error message.", english),
                errors_file,
            )
        )
    return [found[key] for key in sorted(found)]


# ---------------------------------------------------------------------------
# Building and comparing catalogs
# ---------------------------------------------------------------------------


def catalog_path(locales_dir: Path, locale: str) -> Path:
    """Return the ``.po`` file of ``locale`` under ``locales_dir``.

    Args:
        locales_dir: The ``locales/`` folder.
        locale: A locale directory name (``zh_Hans``).

    Returns:
        ``<locales_dir>/<locale>/LC_MESSAGES/caravan.po``.
    """
    return locales_dir / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(path: Path, locale: str) -> Catalog | None:
    """Read a ``.po`` file with babel, or return ``None`` if it does not exist.

    Args:
        path: The file.
        locale: Its locale directory name.

    Returns:
        The catalog, or ``None``.
    """
    if not path.exists():
        return None
    with path.open("rb") as handle:
        return read_po(handle, locale=locale, domain=DOMAIN)


def english_of(message: Message) -> str | None:
    """Return the English source text recorded in a message's ``#.`` comments.

    Args:
        message: A message read from a ``.po`` file.

    Returns:
        The text after ``English:`` (re-joined if it was wrapped), or ``None``.
    """
    comments = list(message.auto_comments)
    for index, line in enumerate(comments):
        if line.startswith(ENGLISH_PREFIX):
            joined = " ".join([line, *comments[index + 1 :]])
            return joined.removeprefix(ENGLISH_PREFIX)
    return None


def _new_catalog(locale: str, existing: Catalog | None) -> Catalog:
    now = datetime.datetime.now(datetime.UTC).replace(second=0, microsecond=0)
    created = existing.creation_date if existing is not None else now
    revised = existing.revision_date if existing is not None else now
    language = Locale.parse(locale)
    catalog = Catalog(
        locale=locale,
        domain=DOMAIN,
        header_comment=(
            f"# {language.english_name} translations of Caravan's API messages.\n"
            "# Kept in step with the code by `python -m core.kernel.i18n.extract`:\n"
            "# translate the msgstr lines; ids come and go with the code.\n"
            "#"
        ),
        project="Caravan",
        version="API",
        msgid_bugs_address="Caravan maintainers",
        creation_date=created,
        revision_date=revised,
        last_translator=(
            existing.last_translator if existing is not None else "Caravan maintainers"
        ),
        language_team=(
            existing.language_team if existing is not None else f"{language.english_name}"
        ),
        charset="utf-8",
        fuzzy=False,
    )
    if locale in PLURAL_FORMS:
        count, expression = PLURAL_FORMS[locale]
        catalog.mime_headers = [("Plural-Forms", f"nplurals={count}; plural={expression};")]
    return catalog


def build_catalog(
    locale: str, messages: Sequence[SourceMessage], existing: Catalog | None
) -> Catalog:
    """Return the catalog ``locale`` should have: ``messages`` plus kept translations.

    Args:
        locale: A locale directory name.
        messages: The message ids of the code, sorted.
        existing: The catalog on disk, if any.

    Returns:
        A new catalog. For :data:`SOURCE_LOCALE` every string is the English
        text; elsewhere existing translations are kept, and marked fuzzy when
        the English text they were made from has changed.
    """
    catalog = _new_catalog(locale, existing)
    for source in messages:
        flags: set[str] = set()
        string = ""
        if locale == SOURCE_LOCALE:
            string = source.english
        elif existing is not None and (old := existing.get(source.id)) is not None:
            string = str(old.string or "")
            fuzzy = old.fuzzy or english_of(old) not in (None, source.english)
            if string and fuzzy:
                flags.add("fuzzy")
        catalog.add(
            source.id,
            string,
            locations=[(source.location, 0)] if source.location else (),
            flags=flags,
            auto_comments=[source.note, ENGLISH_PREFIX + source.english],
        )
    return catalog


def render(catalog: Catalog) -> bytes:
    """Return the ``.po`` text of ``catalog`` (sorted by id, no obsolete entries).

    Args:
        catalog: A catalog made by :func:`build_catalog`.

    Returns:
        The UTF-8 file contents.
    """
    buffer = io.BytesIO()
    write_po(buffer, catalog, sort_output=True, ignore_obsolete=True, include_lineno=False)
    return buffer.getvalue()


def _entries(catalog: Catalog) -> list[tuple[object, ...]]:
    """The parts of a catalog that matter: headers a tool reads and every message."""
    headers = (
        str(catalog.locale_identifier),
        catalog.plural_forms,
        catalog.charset,
        catalog.project,
        catalog.version,
        catalog.msgid_bugs_address,
    )
    rows: list[tuple[object, ...]] = [headers]
    for message in catalog:
        if not message.id:
            continue
        rows.append(
            (
                str(message.id),
                str(message.string or ""),
                sorted(message.flags),
                [line.strip() for line in message.auto_comments],
                sorted(str(path) for path, _ in message.locations),
            )
        )
    rows.extend(("obsolete", str(key)) for key in catalog.obsolete)
    return rows


def _is_stale(path: Path, locale: str, wanted: Catalog) -> bool:
    """Whether the file on disk differs in substance from ``wanted``."""
    if not path.exists():
        return True
    on_disk = read_catalog(path, locale)
    again = read_po(io.BytesIO(render(wanted)), locale=locale, domain=DOMAIN)
    return on_disk is None or _entries(on_disk) != _entries(again)


def update_locale(
    locales_dir: Path, locale: str, messages: Sequence[SourceMessage], *, write: bool
) -> CatalogReport:
    """Bring one locale's catalog up to date (or, with ``write=False``, only look).

    Args:
        locales_dir: The ``locales/`` folder.
        locale: A locale directory name.
        messages: The message ids of the code.
        write: Whether to write the file when it is stale.

    Returns:
        What changed (or would change) and what still needs a translator.
    """
    path = catalog_path(locales_dir, locale)
    existing = read_catalog(path, locale)
    wanted = build_catalog(locale, messages, existing)
    old_ids = {str(m.id) for m in existing if m.id} if existing is not None else set()
    new_ids = {m.id for m in messages}
    stale = _is_stale(path, locale, wanted)
    if stale and write:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(render(wanted))
    missing = [str(m.id) for m in wanted if m.id and not m.string]
    outdated = [str(m.id) for m in wanted if m.id and m.string and m.fuzzy]
    english = {m.id: m.english for m in messages}
    broken = [
        str(m.id)
        for m in wanted
        if m.id and m.string and placeholders(str(m.string)) != placeholders(english[str(m.id)])
    ]
    return CatalogReport(
        locale=locale,
        path=path,
        added=sorted(new_ids - old_ids),
        dropped=sorted(old_ids - new_ids),
        missing=missing,
        outdated=outdated,
        broken=broken,
        stale=stale,
        written=stale and write,
    )


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def _describe(report: CatalogReport, *, check: bool) -> list[str]:
    lines: list[str] = []
    name = _relative(str(report.path)) or str(report.path)
    if report.written:
        lines.append(f"{name}: written")
    elif report.stale:
        lines.append(f"{name}: stale; run `python -m core.kernel.i18n.extract`")
    verb = "lacks" if check else "added"
    lines.extend(f"{name}: {verb} {msgid}" for msgid in report.added)
    verb = "has obsolete" if check else "dropped"
    lines.extend(f"{name}: {verb} {msgid}" for msgid in report.dropped)
    lines.extend(f"{name}: missing translation of {msgid}" for msgid in report.missing)
    lines.extend(
        f"{name}: fuzzy translation of {msgid} (English changed?)" for msgid in report.outdated
    )
    lines.extend(
        f"{name}: placeholders of {msgid} differ from the English text" for msgid in report.broken
    )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Run the tool.

    Args:
        argv: The command-line arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit status: with ``--check``, 1 when a file is stale or a
        translation is missing, fuzzy or has other placeholders than the
        English text; otherwise 0.
    """
    parser = argparse.ArgumentParser(
        prog="python -m core.kernel.i18n.extract",
        description="Update locales/*/LC_MESSAGES/caravan.po from the error codes in the code.",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if a catalog is stale or lacks translations",
    )
    parser.add_argument(
        "--locales-dir",
        type=Path,
        default=LOCALES_DIR,
        help="the locales folder (default: %(default)s)",
    )
    options = parser.parse_args(argv)
    messages = source_messages()
    problems = 0
    for locale in SHIPPED_LOCALES:
        report = update_locale(options.locales_dir, locale, messages, write=not options.check)
        for line in _describe(report, check=options.check):
            print(line, file=sys.stderr if options.check else sys.stdout)
        problems += (report.stale and not report.written) + len(report.missing)
        problems += len(report.outdated) + len(report.broken)
    summary = f"{len(messages)} message ids, {len(SHIPPED_LOCALES)} locales"
    if options.check:
        if problems:
            print(f"{summary}: {problems} problem(s)", file=sys.stderr)
            return 1
        print(f"{summary}: catalogs complete")
        return 0
    print(f"{summary}: catalogs up to date" + (f"; {problems} to translate" if problems else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
