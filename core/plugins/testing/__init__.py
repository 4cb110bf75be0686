"""Test helpers shipped with the core, for plugin authors: the provider contract suites.

A plugin's tests subclass :class:`~core.plugins.testing.contracts.PaymentProviderContract`,
:class:`~core.plugins.testing.contracts.TaxProviderContract`,
:class:`~core.plugins.testing.contracts.ShippingProviderContract` or
:class:`~core.plugins.testing.contracts.AffiliateProviderContract` and provide a
configured provider (and example requests); every test of the suite then runs
against it. The ``pytest11`` entry point :mod:`core.plugins.testing.pytest_plugin`
makes pytest rewrite the suites' assertions, so a failure shows the values.
"""
