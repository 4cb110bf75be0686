"""Translated API messages: complete catalogs, the extraction tool, negotiation, responses."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from core.kernel import errors
from core.kernel.i18n import LOCALES_DIR, Catalogs
from core.kernel.i18n.extract import (
    SHIPPED_LOCALES,
    catalog_path,
    error_modules,
    main,
    placeholders,
    source_messages,
)
from core.plugins.testing.api import Api

TRANSLATED = [locale for locale in SHIPPED_LOCALES if locale != "en"]
REGION_WITH_UNKNOWN_FIELD = {
    "code": "x",
    "name": "y",
    "currency": "EUR",
    "countries": ["DE"],
    "locales": ["de"],
    "price": 1,
}


def expected_english() -> dict[str, str]:
    """Every message id the core defines, with its English text (computed independently)."""
    declared = {
        value.code
        for module in error_modules()
        for value in vars(module).values()
        if isinstance(value, errors.ErrorCode)
    }
    english: dict[str, str] = {}
    for code in errors.REGISTRY.values():
        if code.code not in declared:
            continue
        english[code.code] = code.title
        if code.detail:
            english[f"{code.code}.detail"] = code.detail
    for field_code, text in errors.FIELD_CODES.items():
        english[f"field.{field_code}"] = text
    return english


def load_po(locale: str, locales_dir: Path = LOCALES_DIR) -> Catalog:
    with catalog_path(locales_dir, locale).open("rb") as handle:
        return read_po(handle, locale=locale)


def strings(locale: str) -> dict[str, str]:
    """The translated, non-fuzzy strings of a shipped catalog."""
    return {str(m.id): str(m.string) for m in load_po(locale) if m.id and m.string and not m.fuzzy}


# ---------------------------------------------------------------------------
# The shipped catalogs
# ---------------------------------------------------------------------------


def test_every_domain_errors_module_is_discovered() -> None:
    names = [module.__name__ for module in error_modules()]
    assert names[0] == "core.kernel.errors"
    assert {"core.auth.errors", "core.catalog.errors", "core.stores.errors"} <= set(names)


def test_extraction_covers_every_code_and_field_code() -> None:
    english = expected_english()
    assert {m.id: m.english for m in source_messages()} == english
    assert "validation_failed" in english
    assert "validation_failed.detail" in english
    assert "field.unknown_field" in english
    assert "not_modified.detail" not in english  # an empty text has nothing to translate


def test_codes_of_plugins_stay_in_their_own_catalogs(monkeypatch: pytest.MonkeyPatch) -> None:
    plugin_errors = ModuleType("caravan_fake.errors")
    code = errors.ErrorCode("fake_refused", 402, "Refused", "The fake provider said no.")
    plugin_errors.FAKE_REFUSED = code  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, plugin_errors.__name__, plugin_errors)
    monkeypatch.setitem(errors.REGISTRY, code.code, code)

    ids = {m.id for m in source_messages()}

    assert "fake_refused" not in ids
    assert "validation_failed" in ids


def test_shipped_locale_directories() -> None:
    shipped = sorted(p.parts[-3] for p in LOCALES_DIR.glob("*/LC_MESSAGES/caravan.po"))
    assert shipped == sorted(SHIPPED_LOCALES)
    assert sorted(Catalogs().locales) == sorted(SHIPPED_LOCALES)


@pytest.mark.parametrize("locale", SHIPPED_LOCALES)
def test_catalog_headers(locale: str) -> None:
    catalog = load_po(locale)
    assert str(catalog.locale_identifier) == locale
    assert catalog.charset == "utf-8"
    headers = dict(catalog.mime_headers)
    assert headers["Language"] == locale
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert headers["Plural-Forms"].startswith("nplurals=")
    assert not catalog.fuzzy


@pytest.mark.parametrize("locale", SHIPPED_LOCALES)
def test_every_message_is_translated_with_the_same_placeholders(locale: str) -> None:
    english = expected_english()
    translated = strings(locale)
    runtime = Catalogs().messages[locale]
    assert sorted(translated) == sorted(english)
    for msgid, source in english.items():
        text = translated[msgid]
        assert text.strip(), msgid
        assert placeholders(text) == placeholders(source), (msgid, text)
        values = {name: "<" + name + ">" for name in placeholders(source)}
        formatted = text.format(**values)  # no stray braces
        assert "{" not in formatted, (msgid, text)
        assert runtime[msgid] == text
        if locale == "en":
            assert text == source
        elif re.sub(r"\{\w+\}", "", source).strip():
            assert text != source, f"{locale}: {msgid} is left in English"


@pytest.mark.parametrize("locale", SHIPPED_LOCALES)
def test_catalog_is_sorted_by_msgid(locale: str) -> None:
    ids = [str(m.id) for m in load_po(locale) if m.id]
    assert ids == sorted(ids)


def test_catalogs_carry_the_english_source_for_translators() -> None:
    text = catalog_path(LOCALES_DIR, "de").read_text(encoding="utf-8")
    assert (
        "#. English: This value is too long (at most {max}).\n"
        '#: core/kernel/errors.py\nmsgid "field.too_long"\n'
        'msgstr "Dieser Wert ist zu lang (höchstens {max})."\n'
    ) in text


def test_check_passes_on_the_shipped_catalogs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--check"]) == 0
    out, err = capsys.readouterr()
    assert out == f"{len(expected_english())} message ids, 8 locales: catalogs complete\n"
    assert err == ""


# ---------------------------------------------------------------------------
# The extraction tool on a scratch copy of locales/
# ---------------------------------------------------------------------------


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    target = tmp_path / "locales"
    shutil.copytree(LOCALES_DIR, target)
    return target


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*.po"))}


def _tamper(locales_dir: Path) -> Path:
    """Drop one id from the German catalog, add an obsolete one, delete ``id/``."""
    de = catalog_path(locales_dir, "de")
    catalog = load_po("de", locales_dir)
    del catalog["region_not_found"]
    catalog.add("gone_code", "Weg")
    with de.open("wb") as handle:
        write_po(handle, catalog)
    shutil.rmtree(locales_dir / "id")
    return de


def test_check_reports_gaps_and_writes_nothing(
    scratch: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    de = _tamper(scratch)
    before = _snapshot(scratch)

    assert main(["--check", "--locales-dir", str(scratch)]) == 1

    err = capsys.readouterr().err
    assert f"{de}: stale; run `python -m core.kernel.i18n.extract`" in err
    assert f"{de}: lacks region_not_found" in err
    assert f"{de}: has obsolete gone_code" in err
    assert f"{de}: missing translation of region_not_found" in err
    assert f"{catalog_path(scratch, 'id')}: missing translation of validation_failed" in err
    assert _snapshot(scratch) == before


def test_extract_adds_new_ids_drops_obsolete_ones_and_keeps_translations(
    scratch: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    de = _tamper(scratch)

    assert main(["--locales-dir", str(scratch)]) == 0

    out = capsys.readouterr().out
    assert f"{de}: written" in out
    assert f"{de}: added region_not_found" in out
    assert f"{de}: dropped gone_code" in out
    updated = load_po("de", scratch)
    assert updated.get("gone_code") is None
    assert updated["region_not_found"].string == ""
    assert updated["region_not_found"].auto_comments == [
        "Problem title (HTTP 404).",
        "English: Region not found",
    ]
    assert updated["validation_failed"].string == "Validierung fehlgeschlagen"
    fresh = load_po("id", scratch)
    assert {str(m.id) for m in fresh if m.id} == set(expected_english())
    assert all(not m.string for m in fresh if m.id)
    assert dict(fresh.mime_headers)["Plural-Forms"] == "nplurals=1; plural=0;"
    # Untouched locales are not rewritten.
    assert catalog_path(scratch, "fr").read_bytes() == catalog_path(LOCALES_DIR, "fr").read_bytes()


def test_check_reports_a_translation_with_other_placeholders(
    scratch: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fr = catalog_path(scratch, "fr")
    text = fr.read_text(encoding="utf-8")
    fr.write_text(text.replace("({max} au maximum)", "({maximum} au maximum)"), encoding="utf-8")

    assert main(["--check", "--locales-dir", str(scratch)]) == 1

    err = capsys.readouterr().err
    assert err.splitlines() == [
        f"{fr}: placeholders of field.too_long differ from the English text",
        f"{len(expected_english())} message ids, 8 locales: 1 problem(s)",
    ]


def test_extract_is_idempotent(scratch: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = _snapshot(scratch)
    assert main(["--locales-dir", str(scratch)]) == 0
    assert _snapshot(scratch) == before
    assert capsys.readouterr().out.endswith("catalogs up to date\n")


def test_a_new_error_code_is_a_one_command_job(
    scratch: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    error_modules()
    new = errors.ErrorCode("gift_card_expired", 409, "Gift card expired", "Card {card} expired.")
    monkeypatch.setitem(errors.REGISTRY, new.code, new)

    assert main(["--check", "--locales-dir", str(scratch)]) == 1
    assert f"{catalog_path(scratch, 'ja')}: lacks gift_card_expired.detail" in (
        capsys.readouterr().err
    )
    assert main(["--locales-dir", str(scratch)]) == 0

    english = load_po("en", scratch)
    assert english["gift_card_expired"].string == "Gift card expired"
    assert english["gift_card_expired.detail"].string == "Card {card} expired."
    japanese = load_po("ja", scratch)
    assert japanese["gift_card_expired.detail"].string == ""
    assert japanese["gift_card_expired.detail"].auto_comments == [
        "Problem detail (HTTP 409). Keep {card} unchanged.",
        "English: Card {card} expired.",
    ]


def test_a_changed_english_text_marks_the_translation_fuzzy(
    scratch: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(errors.FIELD_CODES, "required", "This field must be given.")

    assert main(["--locales-dir", str(scratch)]) == 0
    assert main(["--check", "--locales-dir", str(scratch)]) == 1

    err = capsys.readouterr().err
    assert f"{catalog_path(scratch, 'fr')}: fuzzy translation of field.required" in err
    message = load_po("fr", scratch)["field.required"]
    assert message.string == "Ce champ est obligatoire."
    assert message.fuzzy
    assert load_po("en", scratch)["field.required"].string == "This field must be given."
    # A fuzzy translation is not served: the English text from the code is.
    assert Catalogs([scratch]).gettext("fr", "field.required", "fallback") == "fallback"


# ---------------------------------------------------------------------------
# Accept-Language negotiation
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "locale"),
    [
        ("de-DE,de;q=0.9,en;q=0.8", "de"),
        ("zh-CN", "zh_Hans"),
        ("zh-Hans", "zh_Hans"),
        ("zh-Hans-SG,en;q=0.5", "zh_Hans"),
        ("xx", "en"),
        ("fr-CA", "fr"),
        ("ar-EG", "ar"),
        ("id-ID", "id"),
        ("ja-JP", "ja"),
        ("es-419", "es"),
        ("en;q=0.5, ja;q=0.9, de;q=0.7", "ja"),
        ("de;q=0.2, fr", "fr"),
        ("de;q=0, es", "es"),
        ("xx, fr;q=0.1", "fr"),
        ("*", "en"),
        (";;;q=x,,,@@@", "en"),
        ("", "en"),
    ],
)
def test_negotiate(header: str, locale: str) -> None:
    assert Catalogs().negotiate(header) == locale


def test_negotiate_without_header() -> None:
    assert Catalogs().negotiate(None) == "en"


# ---------------------------------------------------------------------------
# Through the real ASGI app
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "locale", "title"),
    [
        ("de-DE,de;q=0.9,en;q=0.8", "de", "Validierung fehlgeschlagen"),
        ("ja", "ja", "検証エラー"),
        ("ar", "ar", "فشل التحقق"),
        ("zh-CN", "zh_Hans", "验证失败"),
    ],
)
async def test_validation_problem_is_translated(
    api: Api, language: str, locale: str, title: str
) -> None:
    store = await api.create_store()
    texts = strings(locale)

    r = await api.request(
        "POST",
        "/admin/regions",
        store.token,
        json=REGION_WITH_UNKNOWN_FIELD,
        headers={"Accept-Language": language},
    )

    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["content-language"] == locale.replace("_", "-")
    assert r.json() == {
        "type": "https://caravan.dev/problems/validation_failed",
        "title": title,
        "status": 422,
        "detail": texts["validation_failed.detail"],
        "code": "validation_failed",
        "errors": [
            {"field": "price", "code": "unknown_field", "message": texts["field.unknown_field"]}
        ],
    }
    assert texts["validation_failed"] == title
    listed = await api.request("GET", "/admin/regions", store.token)
    assert listed.json() == {"items": [], "next_cursor": None}  # nothing was created


async def test_german_field_message_is_german(api: Api) -> None:
    store = await api.create_store()

    r = await api.request(
        "POST",
        "/admin/regions",
        store.token,
        json=REGION_WITH_UNKNOWN_FIELD,
        headers={"Accept-Language": "de"},
    )

    assert r.status_code == 422
    body = r.json()
    assert body["detail"] == "Einige Felder der Anfrage sind ungültig; siehe die Liste errors."
    assert body["errors"][0]["message"] == "Dieses Feld ist hier nicht zulässig."


async def test_unauthorized_is_translated_into_french(api: Api) -> None:
    texts = strings("fr")

    r = await api.request(
        "GET", "/admin/regions", "not-a-real-token", headers={"Accept-Language": "fr-CA"}
    )

    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["content-language"] == "fr"
    assert r.json() == {
        "type": "https://caravan.dev/problems/invalid_token",
        "title": "Identifiants non valides",
        "status": 401,
        "detail": "Le jeton est inconnu, révoqué ou expiré.",
        "code": "invalid_token",
    }
    assert texts["invalid_token"] == "Identifiants non valides"
    assert texts["invalid_token.detail"] == "Le jeton est inconnu, révoqué ou expiré."


@pytest.mark.parametrize("language", [None, "xx-YY", "garbage;;q=?"])
async def test_unknown_or_missing_language_answers_in_english(
    api: Api, language: str | None
) -> None:
    headers = {"Accept-Language": language} if language else {}

    r = await api.request("GET", "/admin/regions", "not-a-real-token", headers=headers)

    assert r.status_code == 401
    assert r.headers["content-language"] == "en"
    assert r.json()["title"] == "Invalid credentials"
    assert r.json()["detail"] == "The token is unknown, revoked or expired."
