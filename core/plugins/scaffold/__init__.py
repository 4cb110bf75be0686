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

KINDS: Final = (*PROVIDER_KINDS, "locale")
_NAME: Final = re.compile(r"^[a-z][a-z0-9_]{1,40}$")


class ScaffoldError(ValueError):
    """The plugin cannot be generated as asked (the message says why)."""


def _major(version: str) -> int:
    return int(version.split(".")[0])


_PYPROJECT = """\
[project]
name = "$dist"
version = "0.1.0"
description = "$summary"
readme = "README.md"
requires-python = ">=3.11"
license = { text = "Apache-2.0" }
dependencies = ["caravan"]

[project.entry-points."caravan.plugins"]
$name = "$package"

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[tool.hatch.build.targets.wheel]
packages = ["$package"]

[dependency-groups]
dev = ["pytest>=8", "pytest-asyncio>=0.24"]

[tool.pytest.ini_options]
asyncio_mode = "auto"
asyncio_default_fixture_loop_scope = "session"
asyncio_default_test_loop_scope = "session"
"""

_INIT = '''\
"""$title: $summary"""

from __future__ import annotations

from importlib.metadata import version
$imports
from core.plugins import Manifest, hookimpl

__version__ = version("$dist")


@hookimpl
def plugin_manifest() -> Manifest:
    """What this plugin is; checked when Caravan starts."""
    return Manifest(
        name="$dist",
        version=__version__,
        author="$author",
        summary="$summary",
        license="Apache-2.0",
        caravan_api=">=$api,<$next_api",
        countries=[],  # the ISO codes of the countries it is meant for
        permissions=[],  # staff scopes it needs, e.g. "orders:read"
    )
$hooks'''

_PROVIDER_HOOK = '''

@hookimpl
def register_${kind}_providers() -> list[type[$base]]:
    """The provider this plugin adds."""
    return [$cls]
'''

_LOCALE_HOOK = '''

@hookimpl
def register_translations() -> Path:
    """The plugin's gettext catalogues (``locales/<lang>/LC_MESSAGES/$package.po``)."""
    return Path(__file__).parent / "locales"
'''

_PAYMENT = '''\
"""The $name payment provider.

A sandbox that keeps payments in memory, with the semantics Caravan
expects of every payment provider (see ``core.plugins.testing.contracts``): replace
each method's body with a call to the service's API, passing
``idempotency_key`` on, and keep ``tests/test_provider.py`` green.
"""

from __future__ import annotations

import msgspec

from core.plugins import (
    PaymentProvider,
    PaymentSession,
    PaymentSessionRequest,
    PaymentState,
    RefundResult,
    Secret,
)


class $cls(PaymentProvider):
    """Takes payments through $title."""

    code = "$name"
    name = "$title"
    timeout = 10.0

    class Config(msgspec.Struct, forbid_unknown_fields=True):
        """What a store sets when it activates the provider for a region."""

        #: The service's API key: a Secret is stored encrypted and never shown again.
        api_key: Secret = ""
        #: The service's sandbox instead of live payments.
        sandbox: bool = True

    def __init__(self, config: Config) -> None:
        super().__init__(config)
        self._payments: dict[str, PaymentState] = {}
        self._sessions: dict[str, str] = {}
        self._captures: dict[str, PaymentState] = {}
        self._refunds: dict[str, RefundResult] = {}

    async def create_session(self, request: PaymentSessionRequest) -> PaymentSession:
        reference = self._sessions.get(request.idempotency_key)
        if reference is None:
            reference = f"$name-{len(self._payments) + 1}-{request.idempotency_key}"
            self._sessions[request.idempotency_key] = reference
            self._payments[reference] = PaymentState(status="authorized", amount=request.amount)
        return PaymentSession(reference=reference, status=self._payments[reference].status)

    async def retrieve(self, reference: str) -> PaymentState:
        return self._payments[reference]

    async def capture(self, reference: str, amount: int, idempotency_key: str) -> PaymentState:
        if idempotency_key in self._captures:
            return self._captures[idempotency_key]
        state = self._payments[reference]
        if state.status != "authorized" or amount > state.amount - state.captured:
            return state
        state = msgspec.structs.replace(state, status="captured", captured=state.captured + amount)
        self._payments[reference] = self._captures[idempotency_key] = state
        return state

    async def refund(
        self, reference: str, amount: int, idempotency_key: str, reason: str | None = None
    ) -> RefundResult:
        if idempotency_key in self._refunds:
            return self._refunds[idempotency_key]
        state = self._payments[reference]
        if amount > state.captured - state.refunded:
            result = RefundResult(reference="", status="failed", failure_reason="exceeds capture")
        else:
            self._payments[reference] = msgspec.structs.replace(
                state, refunded=state.refunded + amount
            )
            result = RefundResult(reference=f"re-{idempotency_key}", status="succeeded")
        self._refunds[idempotency_key] = result
        return result

    async def cancel(self, reference: str) -> PaymentState:
        state = self._payments[reference]
        if state.status in ("pending", "authorized", "requires_action"):
            state = msgspec.structs.replace(state, status="canceled")
            self._payments[reference] = state
        return state
'''

_TAX = '''\
"""The $name tax provider.

One rate for every line (and shipping) as a starting point: replace
``calculate`` with the rules of the tax regime, or with a call to the tax
service, and keep ``tests/test_provider.py`` green. Amounts are integers
in minor units; rates are decimal strings.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import msgspec

from core.plugins import TaxLineResult, TaxProvider, TaxRequest, TaxResult


def tax_of(amount: int, rate: Decimal, inclusive: bool) -> int:
    """The tax in ``amount`` (inclusive) or on top of it, rounded half up."""
    if inclusive:
        exact = Decimal(amount) * rate / (1 + rate)
    else:
        exact = Decimal(amount) * rate
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


class $cls(TaxProvider):
    """Tax as $title computes it."""

    code = "$name"
    name = "$title"

    class Config(msgspec.Struct, forbid_unknown_fields=True):
        """What a store sets when it activates the provider for a region."""

        #: The rate as a decimal string, e.g. "0.19".
        rate: str = "0.1"
        #: Whether shipping is taxed at the same rate.
        tax_shipping: bool = True

    async def calculate(self, request: TaxRequest) -> TaxResult:
        rate = Decimal(self.config.rate)
        inclusive = request.tax_inclusive
        lines = tuple(
            TaxLineResult(line.id, tax_of(line.amount, rate, inclusive), self.config.rate)
            for line in request.lines
        )
        shipping = tax_of(request.shipping, rate, inclusive) if self.config.tax_shipping else 0
        return TaxResult(lines=lines, shipping=shipping if lines else 0)
'''

_SHIPPING = '''\
"""The $name shipping provider.

One flat option, free above a threshold, as a starting point: replace
``quote`` with the carrier's rates (or a call to its API) and keep
``tests/test_provider.py`` green. Amounts are integers in minor units.
"""

from __future__ import annotations

import msgspec

from core.plugins import ShippingOption, ShippingProvider, ShippingRequest


class $cls(ShippingProvider):
    """Ships with $title."""

    code = "$name"
    name = "$title"

    class Config(msgspec.Struct, forbid_unknown_fields=True):
        """What a store sets when it activates the provider for a region."""

        #: The price of the standard option, minor units.
        amount: int = 500
        #: Orders from this subtotal ship free (none: never free).
        free_above: int | None = None
        #: ISO codes of the countries served (empty: every country).
        countries: list[str] = []

    async def quote(self, request: ShippingRequest) -> list[ShippingOption]:
        address = request.ship_to
        if address is None or not request.lines:
            return []
        if self.config.countries and address.country not in self.config.countries:
            return []
        free = self.config.free_above is not None and request.subtotal >= self.config.free_above
        amount = 0 if free else self.config.amount
        return [
            ShippingOption(id="standard", name="Standard", amount=amount, min_days=2, max_days=5)
        ]
'''

_AFFILIATE = '''\
"""The $name affiliate provider.

A KOL programme that pays a share of each referred order's net sales
(subtotal less discount) to the KOL whose referral code the shopper used, as
a starting point: replace ``commission`` with the programme's rules, or with
a call to its API, and keep ``tests/test_provider.py`` green. Amounts are
integers in minor units; the commission is rounded down, never above the
order's subtotal.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from core.plugins import AffiliateProvider, Commission, CommissionRequest


class $cls(AffiliateProvider):
    """Commissions of the $title programme."""

    code = "$name"
    name = "$title"

    class Config(msgspec.Struct, forbid_unknown_fields=True):
        """What a store sets when it activates the provider for a region."""

        #: The commission in basis points of net sales (1000: 10 %).
        basis_points: Annotated[int, msgspec.Meta(ge=0, le=10_000)] = 1_000
        #: Referral codes of the programme's KOLs, each with the KOL's id at the programme.
        affiliates: dict[str, str] = {}

    async def commission(self, request: CommissionRequest) -> Commission | None:
        affiliate = self.config.affiliates.get(request.referral_code)
        if affiliate is None:
            return None
        net = max(0, request.subtotal - request.discount)
        return Commission(affiliate=affiliate, amount=net * self.config.basis_points // 10_000)
'''

_TEST_HEAD = '''\
"""The provider against Caravan's contract suite (run: pytest)."""

from __future__ import annotations

import pytest
from $package.provider import $cls

'''

_TEST_PAYMENT = (
    _TEST_HEAD
    + """from core.plugins.testing.contracts import PaymentProviderContract


class Test${cls}Contract(PaymentProviderContract):
    @pytest.fixture
    def provider(self) -> $cls:
        return $cls($cls.Config())
"""
)

_TEST_TAX = (
    _TEST_HEAD
    + """from core.plugins import TaxLine, TaxRequest
from core.plugins.testing.contracts import TaxProviderContract


class Test${cls}Contract(TaxProviderContract):
    @pytest.fixture
    def provider(self) -> $cls:
        return $cls($cls.Config(rate="0.19"))

    @pytest.fixture
    def tax_requests(self) -> list[TaxRequest]:
        lines = (
            TaxLine(id="l1", variant_id="v1", product_id="p1", quantity=2, amount=2_999),
            TaxLine(id="l2", variant_id="v2", product_id="p2", quantity=1, amount=1),
        )
        return [
            TaxRequest(
                store_id="s", region_id="r", currency="EUR", tax_inclusive=True,
                lines=lines, shipping=490,
            )
        ]
"""
)

_TEST_SHIPPING = (
    _TEST_HEAD
    + """from core.plugins import Address, ShippingLine, ShippingRequest
from core.plugins.testing.contracts import ShippingProviderContract


def request(country: str) -> ShippingRequest:
    return ShippingRequest(
        store_id="s", region_id="r", currency="EUR",
        lines=(ShippingLine(id="l1", variant_id="v1", quantity=1, amount=2_500),),
        subtotal=2_500,
        ship_to=Address(
            first_name="Ada", last_name="L", line1="Street 1", city="Berlin", country=country
        ),
    )


class Test${cls}Contract(ShippingProviderContract):
    @pytest.fixture
    def provider(self) -> $cls:
        return $cls($cls.Config(countries=["DE"]))

    @pytest.fixture
    def shipping_requests(self) -> list[ShippingRequest]:
        return [request("DE")]

    @pytest.fixture
    def unserved_requests(self) -> list[ShippingRequest]:
        return [request("US")]
"""
)

_TEST_AFFILIATE = (
    _TEST_HEAD
    + """from core.plugins import CommissionLine, CommissionRequest
from core.plugins.testing.contracts import AffiliateProviderContract


def request(referral_code: str) -> CommissionRequest:
    return CommissionRequest(
        store_id="s", region_id="r", order_id="o", order_number=1001, currency="EUR",
        referral_code=referral_code, country="DE", tax_inclusive=True,
        subtotal=11_900, discount=1_190, shipping=490, tax=1_788, total=11_200,
        lines=(
            CommissionLine(
                variant_id="v1", product_id="p1", sku="TOTE-1", quantity=1, total=10_710
            ),
        ),
    )


class Test${cls}Contract(AffiliateProviderContract):
    @pytest.fixture
    def provider(self) -> $cls:
        return $cls($cls.Config(affiliates={"ANNA10": "kol-anna"}))

    @pytest.fixture
    def commission_requests(self) -> list[CommissionRequest]:
        return [request("ANNA10")]

    @pytest.fixture
    def no_commission_requests(self) -> list[CommissionRequest]:
        return [request("NOBODY")]
"""
)

_TEST_LOCALE = '''\
"""The plugin registers its catalogues (run: pytest)."""

from __future__ import annotations

from pathlib import Path

from core.plugins import PluginHost


def test_the_catalogues_are_registered() -> None:
    host = PluginHost.load()
    assert "$name" in host.descriptions
    [found] = [d for d in host.translation_dirs if d.parent.name == "$package"]
    assert (Path(found) / "$lang" / "LC_MESSAGES" / "$package.po").is_file()
'''

_PO = """\
# $title: messages in $lang.
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"
"Language: $lang\\n"

msgid "insufficient_stock"
msgstr ""
"""

_README = """\
# $dist

$summary

A Caravan plugin ($kind). Install it next to Caravan and restart:

```sh
pip install -e .
caravan plugins info $name
```

$usage
Run its tests (the core's contract suite for its kind):

```sh
pytest
```
"""

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
    if kind not in KINDS:
        raise ScaffoldError(f"kind {kind!r}: one of {', '.join(KINDS)}")
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
        values["imports"] = f"\nfrom {package}.provider import {values['cls']}\n" + (
            f"from {PROVIDER_KINDS[kind].__module__} import {values['base']}"
        )
        values["hooks"] = Template(_PROVIDER_HOOK).substitute(values)
    else:
        values["imports"] = "from pathlib import Path\n"
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
