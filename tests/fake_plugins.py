"""Plugins the suite's app is built with, as if installed from packages.

``tests`` owns the fake providers tests add at run time and is installed in
every test store (a default plugin); ``tests_extra`` adds a tax provider and
asks for a permission, and is installed by no store until a test does it;
``market_a``… are packages a marketplace test lists, installs and reviews.
"""

from __future__ import annotations

from core.plugins.capabilities import Capability
from core.plugins.hookspecs import hookimpl
from core.plugins.manifests import Manifest
from core.plugins.testing.api import manifest_fields
from core.providers import Provider
from tests.core.checkout.fakes import FlatTax


def _manifest(name: str, **overrides: object) -> Manifest:
    return Manifest(**manifest_fields(name, **overrides))


class ManifestOnly:
    """A plugin that declares itself and registers nothing."""

    def __init__(self, manifest: Manifest) -> None:
        self.manifest = manifest

    @hookimpl
    def plugin_manifest(self) -> Manifest:
        return self.manifest


class ExtraTax(FlatTax):
    """The flat tax under another code, from the ``tests_extra`` plugin."""

    code = "extra_tax"
    name = "Extra tax"


class ExtraPlugin(ManifestOnly):
    """A tax plugin that asks for ``orders:read`` and shows a banner in every region."""

    @hookimpl
    def register_tax_providers(self) -> list[type[Provider]]:
        return [ExtraTax]

    @hookimpl
    def register_storefront_capabilities(self) -> list[Capability]:
        return [Capability(code="tests_extra.banner", title="Extra banner", data={"n": 1})]


EXTRA_PACKAGE = "caravan-test-extra"
MARKET_PACKAGES = ("caravan-test-market-a", "caravan-test-market-b", "caravan-test-market-c")


def plugins() -> list[tuple[object, str]]:
    """The suite's plugins, as ``create_app(settings, plugins=...)`` takes them."""
    return [
        (
            ManifestOnly(
                _manifest(
                    "caravan-test-fakes",
                    summary="Fake providers the test suite registers at run time",
                )
            ),
            "tests",
        ),
        (
            ExtraPlugin(_manifest(EXTRA_PACKAGE, permissions=["orders:read"], countries=["DE"])),
            "tests_extra",
        ),
        *(
            (ManifestOnly(_manifest(package)), package.replace("-", "_"))
            for package in MARKET_PACKAGES
        ),
    ]
