"""``caravan plugin new``: a ready plugin distribution to start from.

The generated distribution installs as it is (``pip install -e`` or ``uv pip
install``), registers itself under the ``caravan.plugins`` entry point,
declares its manifest and, for payment, tax, shipping and affiliate, a
provider that passes the core's contract suite: a sandbox the author replaces
with calls to the real service, keeping the tests green.
"""

from __future__ import annotations

import re
from pathlib import Path
from string import Template
from typing import Final

from core.plugins.hookspecs import API_VERSION
from core.providers.registry import KINDS as PROVIDER_KINDS

SCAFFOLD_KINDS: Final = (*PROVIDER_KINDS, "locale")
_NAME: Final = re.compile(r"^[a-z][a-z0-9_]{1,40}$")


class ScaffoldError(ValueError):
    """The plugin cannot be generated as asked (the message says why)."""


_TEMPLATES = Path(__file__).parent / "templates"


def _template(name: str) -> str:
    """The text of ``templates/<name>`` (``string.Template`` placeholders: ``$name``)."""
    return (_TEMPLATES / name).read_text(encoding="utf-8")


def _major(version: str) -> int:
    return int(version.split(".")[0])


_PYPROJECT = _template("pyproject.tmpl")
_INIT = _template("init.tmpl")
_PROVIDER_HOOK = _template("provider_hook.tmpl")
_LOCALE_HOOK = _template("locale_hook.tmpl")
_PAYMENT = _template("payment.tmpl")
_TAX = _template("tax.tmpl")
_SHIPPING = _template("shipping.tmpl")
_AFFILIATE = _template("affiliate.tmpl")
#: Every provider's test module starts alike, then tests its kind.
_TEST_HEAD = _template("test_head.tmpl")
_TEST_PAYMENT = _TEST_HEAD + _template("test_payment.tmpl")
_TEST_TAX = _TEST_HEAD + _template("test_tax.tmpl")
_TEST_SHIPPING = _TEST_HEAD + _template("test_shipping.tmpl")
_TEST_AFFILIATE = _TEST_HEAD + _template("test_affiliate.tmpl")
_TEST_LOCALE = _template("test_locale.tmpl")
_PO = _template("po.tmpl")
_README = _template("readme.tmpl")

_USAGE = {
    "payment": "Activate it for a region: `PUT /admin/regions/{region_id}/providers/payment/"
    "$name` with its config (see `caravan plugins info $name` for the schema).\n",
    "tax": "Activate it for a region: `PUT /admin/regions/{region_id}/providers/tax/$name` "
    'with `{"config": {"rate": "0.19"}}`.\n',
    "shipping": "Activate it for a region: `PUT /admin/regions/{region_id}/providers/"
    'shipping/$name` with `{"config": {"amount": 500}}`.\n',
    "affiliate": "Activate it for a region: `PUT /admin/regions/{region_id}/providers/"
    'affiliate/$name` with `{"config": {"affiliates": {"ANNA10": "kol-anna"}}}`; '
    "commissions on paid orders carrying a referral code are listed at "
    "`GET /admin/affiliate-commissions`.\n",
    "locale": "Add a catalogue per language under `$package/locales/<lang>/LC_MESSAGES/`.\n",
}

_SOURCES = {"payment": _PAYMENT, "tax": _TAX, "shipping": _SHIPPING, "affiliate": _AFFILIATE}
_TESTS = {
    "payment": _TEST_PAYMENT,
    "tax": _TEST_TAX,
    "shipping": _TEST_SHIPPING,
    "affiliate": _TEST_AFFILIATE,
}


def new_plugin(
    name: str, kind: str, directory: Path, *, author: str = "", lang: str = "de"
) -> Path:
    """Write the distribution of plugin ``name`` (``kind``) under ``directory``; return
    its folder (``caravan-<name>``)."""
    if not _NAME.match(name):
        raise ScaffoldError(
            f"plugin name {name!r}: 2-41 lowercase letters, digits or '_', starting with a letter"
        )
    if kind not in SCAFFOLD_KINDS:
        raise ScaffoldError(f"kind {kind!r}: one of {', '.join(SCAFFOLD_KINDS)}")
    dist = "caravan-" + name.replace("_", "-")
    package = "caravan_" + name
    root = directory / dist
    if root.exists():
        raise ScaffoldError(f"{root} exists already")
    title = name.replace("_", " ").title()
    values = {
        "name": name,
        "kind": kind,
        "dist": dist,
        "package": package,
        "title": title,
        "cls": title.replace(" ", "") + {"locale": ""}.get(kind, kind.title()),
        "summary": f"{title}: {'an' if kind[0] in 'aeiou' else 'a'} {kind} plugin for Caravan",
        "author": author or "The authors",
        "api": API_VERSION,
        "next_api": str(_major(API_VERSION) + 1),
        "base": PROVIDER_KINDS[kind].__name__ if kind in PROVIDER_KINDS else "",
        "lang": lang,
    }
    if kind in _SOURCES:
        values["stdlib_imports"] = ""
        values["core_imports"] = f"Manifest, {values['base']}, hookimpl"
        values["local_imports"] = f"\nfrom {package}.provider import {values['cls']}\n"
        values["hooks"] = Template(_PROVIDER_HOOK).substitute(values)
    else:
        values["stdlib_imports"] = "from pathlib import Path\n"
        values["core_imports"] = "Manifest, hookimpl"
        values["local_imports"] = ""
        values["hooks"] = Template(_LOCALE_HOOK).substitute(values)
    values["usage"] = Template(_USAGE[kind]).substitute(values)

    files = {
        "pyproject.toml": _PYPROJECT,
        "README.md": _README,
        f"{package}/__init__.py": _INIT,
    }
    if kind in _SOURCES:
        files[f"{package}/provider.py"] = _SOURCES[kind]
        files["tests/test_provider.py"] = _TESTS[kind]
    else:
        files[f"{package}/locales/{lang}/LC_MESSAGES/{package}.po"] = _PO
        files["tests/test_locale.py"] = _TEST_LOCALE
    for relative, template in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(Template(template).substitute(values), encoding="utf-8")
    return root
