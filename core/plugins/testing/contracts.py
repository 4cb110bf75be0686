"""Contract suites: the semantics every payment, tax, shipping and affiliate provider must keep.

A provider's tests subclass the suite of its kind and give it a configured
provider (the ``provider`` fixture) and, for tax, shipping and affiliate,
example requests; pytest then runs every check below against it. The suites are
plain classes (not collected themselves: their names do not start with
``Test``)::

    import pytest
    from core.plugins.testing.contracts import TaxProviderContract

    class TestFlatTaxContract(TaxProviderContract):
        @pytest.fixture
        def provider(self) -> FlatTax:
            return FlatTax(FlatTax.Config(rate="0.2"))

        @pytest.fixture
        def tax_requests(self) -> list[TaxRequest]:
            return [TaxRequest(...)]

A provider that needs the database asks for the harness's ``client`` fixture
in its own ``provider`` fixture. Every provider call runs within the
provider's ``timeout``, as the services will call it.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, TypeVar, get_args

import msgspec
import pytest

from core.affiliates.providers import AffiliateProvider, Commission, CommissionRequest
from core.kernel.ids import new_id
from core.payments.providers import (
    PaymentProvider,
    PaymentSession,
    PaymentSessionRequest,
    PaymentState,
    PaymentStatus,
    RefundResult,
)
from core.plugins.host import PluginHost
from core.providers import Provider
from core.providers.registry import ProviderRegistry, provider_registry
from core.shipping.providers import ShippingOption, ShippingProvider, ShippingRequest
from core.tax.providers import TaxProvider, TaxRequest, TaxResult

T = TypeVar("T")

CODE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
STATUSES: frozenset[str] = frozenset(get_args(PaymentStatus))
#: States in which no money has moved and none will.
DEAD: frozenset[str] = frozenset({"failed", "canceled"})


async def within(provider: Provider, call: Awaitable[T]) -> T:
    """Await one provider call within the provider's time budget."""
    async with asyncio.timeout(provider.timeout):
        return await call


async def attempt(provider: Provider, call: Awaitable[T]) -> T | Exception:
    """Await a call that the provider may refuse: its answer, or the exception it raised."""
    try:
        return await within(provider, call)
    except Exception as exc:
        return exc


def _is_amount(value: Any) -> bool:
    """An integer number of minor units, not negative (``bool`` is not an amount)."""
    return type(value) is int and value >= 0


# ---------------------------------------------------------------------------
# Every kind
# ---------------------------------------------------------------------------


class ProviderContract:
    """What every provider keeps: a stable code, a name, a strict JSON ``Config``.

    Subclasses provide the ``provider`` fixture: a configured instance.
    """

    kind: ClassVar[str]

    def test_code_is_a_stable_identifier(self, provider: Provider) -> None:
        cls = type(provider)
        assert cls.kind == self.kind
        assert isinstance(cls.code, str)
        assert CODE.fullmatch(cls.code), f"code {cls.code!r}: lowercase letters, digits, '_'"

    def test_name_and_timeout(self, provider: Provider) -> None:
        cls = type(provider)
        assert isinstance(cls.name, str)
        assert 0 < len(cls.name.strip()) <= 200
        assert isinstance(cls.timeout, int | float)
        assert 0 < cls.timeout <= 60

    def test_config_is_a_strict_struct(self, provider: Provider) -> None:
        cls = type(provider)
        assert isinstance(cls.Config, type)
        assert issubclass(cls.Config, msgspec.Struct)
        assert isinstance(provider.config, cls.Config)
        assert cls.Config.__struct_config__.forbid_unknown_fields, (
            "a misspelt setting must be refused: declare Config with forbid_unknown_fields=True"
        )

    def test_config_round_trips_through_json(self, provider: Provider) -> None:
        cls = type(provider)
        encoded = msgspec.json.encode(provider.config)
        assert msgspec.json.decode(encoded, type=cls.Config) == provider.config
        # As an activation stores it (JSON builtins) and reads it back (strictly).
        stored = msgspec.json.decode(encoded)
        assert isinstance(stored, dict)
        assert msgspec.convert(stored, cls.Config, strict=True) == provider.config

    def test_config_publishes_a_json_schema(self, provider: Provider) -> None:
        schema = msgspec.json.schema(type(provider).Config)
        msgspec.json.encode(schema)  # JSON all the way down
        target = schema
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[1]
            target = schema["$defs"][name]
        assert target.get("type") == "object"

    def test_is_registered_by_an_installed_plugin(self, provider: Provider) -> None:
        cls = type(provider)
        assert _registry().get(self.kind, cls.code) is cls


def _registry() -> ProviderRegistry:
    """The current application's registry, else that of the installed plugins."""
    try:
        return provider_registry()
    except RuntimeError:
        return PluginHost.load().registry


# ---------------------------------------------------------------------------
# Tax
# ---------------------------------------------------------------------------


def _both_modes(request: TaxRequest) -> list[TaxRequest]:
    """``request`` as given and with tax inclusion flipped."""
    flipped = msgspec.structs.replace(request, tax_inclusive=not request.tax_inclusive)
    return [request, flipped]


class TaxProviderContract(ProviderContract):
    """What every tax provider keeps.

    Subclasses provide ``provider`` and ``tax_requests``: example requests
    (at least one with lines) the provider is configured to tax. Each check
    runs every example both tax-inclusive and tax-exclusive.
    """

    kind = "tax"

    async def _calculate(self, provider: TaxProvider, request: TaxRequest) -> TaxResult:
        result = await within(provider, provider.calculate(request))
        assert isinstance(result, TaxResult)
        return result

    def test_examples_have_lines(self, tax_requests: list[TaxRequest]) -> None:
        assert any(request.lines for request in tax_requests)

    async def test_one_result_per_line(
        self, provider: TaxProvider, tax_requests: list[TaxRequest]
    ) -> None:
        for request in tax_requests:
            for variant in _both_modes(request):
                result = await self._calculate(provider, variant)
                assert sorted(r.line_id for r in result.lines) == sorted(
                    line.id for line in variant.lines
                )

    async def test_amounts_are_non_negative_integers_and_rates_decimals(
        self, provider: TaxProvider, tax_requests: list[TaxRequest]
    ) -> None:
        for request in tax_requests:
            for variant in _both_modes(request):
                result = await self._calculate(provider, variant)
                assert _is_amount(result.shipping), result
                for line in result.lines:
                    assert _is_amount(line.amount), line
                    try:
                        rate = Decimal(line.rate)
                    except InvalidOperation:
                        pytest.fail(f"rate {line.rate!r} is not a decimal")
                    assert rate.is_finite(), line
                    assert rate >= 0, line

    async def test_inclusive_tax_is_part_of_the_amount(
        self, provider: TaxProvider, tax_requests: list[TaxRequest]
    ) -> None:
        """Tax inside a price is at most the price, and at most the tax added on top of
        the same amount (its net value is smaller; taxes do not fall as value grows)."""
        for request in tax_requests:
            inclusive = msgspec.structs.replace(request, tax_inclusive=True)
            result = await self._calculate(provider, inclusive)
            exclusive = await self._calculate(
                provider, msgspec.structs.replace(request, tax_inclusive=False)
            )
            amounts = {line.id: line.amount for line in inclusive.lines}
            added = {line.line_id: line.amount for line in exclusive.lines}
            for line in result.lines:
                assert line.amount <= amounts[line.line_id], line
                assert line.amount <= added[line.line_id], line
            assert result.shipping <= inclusive.shipping
            assert result.shipping <= exclusive.shipping

    async def test_is_deterministic(
        self, provider: TaxProvider, tax_requests: list[TaxRequest]
    ) -> None:
        for request in tax_requests:
            for variant in _both_modes(request):
                first = await self._calculate(provider, variant)
                assert await self._calculate(provider, variant) == first

    async def test_zero_amounts_give_zero_tax(
        self, provider: TaxProvider, tax_requests: list[TaxRequest]
    ) -> None:
        for request in tax_requests:
            zero_lines = tuple(msgspec.structs.replace(line, amount=0) for line in request.lines)
            zero = msgspec.structs.replace(request, lines=zero_lines, shipping=0)
            for variant in _both_modes(zero):
                result = await self._calculate(provider, variant)
                assert result.total == 0, result

    async def test_no_lines_give_no_tax(
        self, provider: TaxProvider, tax_requests: list[TaxRequest]
    ) -> None:
        for request in tax_requests:
            empty = msgspec.structs.replace(request, lines=(), shipping=0)
            for variant in _both_modes(empty):
                result = await self._calculate(provider, variant)
                assert result.lines == () or list(result.lines) == []
                assert result.total == 0


# ---------------------------------------------------------------------------
# Shipping
# ---------------------------------------------------------------------------


class ShippingProviderContract(ProviderContract):
    """What every shipping provider keeps.

    Subclasses provide ``provider``, ``shipping_requests`` (examples the
    provider serves: each gets at least one option) and may provide
    ``unserved_requests`` (examples it does not serve: each gets ``[]``).
    """

    kind = "shipping"

    @pytest.fixture
    def unserved_requests(self) -> list[ShippingRequest]:
        """Requests the provider does not serve (none by default)."""
        return []

    async def _quote(
        self, provider: ShippingProvider, request: ShippingRequest
    ) -> list[ShippingOption]:
        options = await within(provider, provider.quote(request))
        assert isinstance(options, list)
        assert all(isinstance(option, ShippingOption) for option in options)
        return options

    def test_examples_exist(self, shipping_requests: list[ShippingRequest]) -> None:
        assert shipping_requests

    async def test_served_requests_get_options_with_unique_ids(
        self, provider: ShippingProvider, shipping_requests: list[ShippingRequest]
    ) -> None:
        for request in shipping_requests:
            options = await self._quote(provider, request)
            assert options, f"no option for {request}"
            ids = [option.id for option in options]
            assert all(isinstance(i, str) and i for i in ids)
            assert len(set(ids)) == len(ids), ids

    async def test_amounts_and_estimates_are_well_formed(
        self, provider: ShippingProvider, shipping_requests: list[ShippingRequest]
    ) -> None:
        for request in shipping_requests:
            for option in await self._quote(provider, request):
                assert _is_amount(option.amount), option
                assert option.name.strip(), option
                for days in (option.min_days, option.max_days):
                    assert days is None or _is_amount(days), option
                if option.min_days is not None and option.max_days is not None:
                    assert option.min_days <= option.max_days, option

    async def test_unserved_requests_get_no_options(
        self, provider: ShippingProvider, unserved_requests: list[ShippingRequest]
    ) -> None:
        for request in unserved_requests:
            assert await self._quote(provider, request) == []

    async def test_no_address_is_answered(
        self, provider: ShippingProvider, shipping_requests: list[ShippingRequest]
    ) -> None:
        for request in shipping_requests:
            await self._quote(provider, msgspec.structs.replace(request, ship_to=None))

    async def test_is_deterministic(
        self, provider: ShippingProvider, shipping_requests: list[ShippingRequest]
    ) -> None:
        for request in shipping_requests:
            first = await self._quote(provider, request)
            assert await self._quote(provider, request) == first


# ---------------------------------------------------------------------------
# Payment
# ---------------------------------------------------------------------------


class PaymentProviderContract(ProviderContract):
    """What every payment provider keeps.

    Subclasses provide ``provider``. They may override :attr:`amount`,
    :attr:`currency`, :meth:`session_request`, :meth:`complete_payment` (do
    what the customer does, so the payment can be captured: confirm on the
    provider's fake page, say) and :meth:`failed_reference` (a payment the
    provider reports failed).
    """

    kind = "payment"
    amount: ClassVar[int] = 10_000
    currency: ClassVar[str] = "EUR"

    def session_request(self, **overrides: Any) -> PaymentSessionRequest:
        """A new request (its own cart and idempotency key) for :attr:`amount`."""
        values: dict[str, Any] = {
            "store_id": "store_contract",
            "cart_id": new_id("cart"),
            "amount": self.amount,
            "currency": self.currency,
            "email": "contract@example.com",
            "locale": "en",
            "idempotency_key": new_id("idem"),
            **overrides,
        }
        return PaymentSessionRequest(**values)

    async def complete_payment(self, provider: PaymentProvider, session: PaymentSession) -> None:
        """Make ``session`` capturable, as the customer would (nothing to do by default)."""

    async def failed_reference(self, provider: PaymentProvider) -> str | None:
        """A payment the provider reports ``failed`` (``None``: the provider cannot make one)."""
        return None

    async def _open(self, provider: PaymentProvider, **overrides: Any) -> PaymentSession:
        session = await within(provider, provider.create_session(self.session_request(**overrides)))
        assert isinstance(session, PaymentSession)
        return session

    async def _state(self, provider: PaymentProvider, reference: str) -> PaymentState:
        state = await within(provider, provider.retrieve(reference))
        assert isinstance(state, PaymentState)
        assert state.status in STATUSES, state
        assert _is_amount(state.amount), state
        assert _is_amount(state.captured), state
        assert _is_amount(state.refunded), state
        assert state.captured <= state.amount, state
        assert state.refunded <= state.captured, state
        return state

    async def _captured(self, provider: PaymentProvider) -> tuple[PaymentSession, PaymentState]:
        session = await self._open(provider)
        await self.complete_payment(provider, session)
        state = await within(
            provider, provider.capture(session.reference, self.amount, new_id("idem"))
        )
        assert (state.status, state.captured) == ("captured", self.amount), state
        return session, state

    async def test_create_session_answers_a_reference_and_a_legal_status(
        self, provider: PaymentProvider
    ) -> None:
        session = await self._open(provider)
        assert isinstance(session.reference, str)
        assert session.reference
        assert session.status in STATUSES - {"captured", "failed", "canceled"}, session
        action = session.next_action
        if action.type == "redirect":
            assert action.redirect_url
        if action.type == "client_secret":
            assert action.client_secret
        msgspec.json.encode(session)  # kept with the payment as JSON

    async def test_the_same_idempotency_key_opens_one_payment(
        self, provider: PaymentProvider
    ) -> None:
        request = self.session_request()
        first = await within(provider, provider.create_session(request))
        again = await within(provider, provider.create_session(request))
        assert again.reference == first.reference

    async def test_retrieve_reports_the_session(self, provider: PaymentProvider) -> None:
        session = await self._open(provider)
        state = await self._state(provider, session.reference)
        assert (state.amount, state.captured, state.refunded) == (self.amount, 0, 0)
        assert state.status == session.status

    async def test_capture_takes_the_amount_once_per_key(self, provider: PaymentProvider) -> None:
        session = await self._open(provider)
        await self.complete_payment(provider, session)
        key = new_id("idem")
        first = await within(provider, provider.capture(session.reference, self.amount, key))
        again = await within(provider, provider.capture(session.reference, self.amount, key))
        assert (first.status, first.captured) == ("captured", self.amount), first
        assert again.captured == self.amount, again
        assert (await self._state(provider, session.reference)).captured == self.amount

    async def test_capture_never_exceeds_the_amount(self, provider: PaymentProvider) -> None:
        session = await self._open(provider)
        await self.complete_payment(provider, session)
        over = await attempt(
            provider, provider.capture(session.reference, self.amount + 1, new_id("idem"))
        )
        assert isinstance(over, Exception) or over.captured <= self.amount, over
        state = await self._state(provider, session.reference)
        assert state.captured <= self.amount
        # Once captured in full, another key captures nothing more.
        await within(provider, provider.capture(session.reference, self.amount, new_id("idem")))
        more = await attempt(provider, provider.capture(session.reference, 1, new_id("idem")))
        assert isinstance(more, Exception) or more.captured == self.amount, more
        assert (await self._state(provider, session.reference)).captured == self.amount

    async def test_refund_gives_back_once_per_key(self, provider: PaymentProvider) -> None:
        session, _ = await self._captured(provider)
        part = self.amount // 4
        key = new_id("idem")
        first = await within(provider, provider.refund(session.reference, part, key, "contract"))
        again = await within(provider, provider.refund(session.reference, part, key, "contract"))
        assert isinstance(first, RefundResult)
        assert first.status in ("succeeded", "pending")
        assert first.reference
        assert again.reference == first.reference
        state = await self._state(provider, session.reference)
        assert state.refunded <= part
        if first.status == "succeeded":
            assert state.refunded == part

    async def test_refund_beyond_the_captured_amount_is_refused(
        self, provider: PaymentProvider
    ) -> None:
        session, _ = await self._captured(provider)
        over = await attempt(
            provider, provider.refund(session.reference, self.amount + 1, new_id("idem"))
        )
        assert isinstance(over, Exception) or over.status == "failed", over
        assert (await self._state(provider, session.reference)).refunded == 0

    async def test_an_uncaptured_payment_cannot_be_refunded(
        self, provider: PaymentProvider
    ) -> None:
        session = await self._open(provider)
        refused = await attempt(provider, provider.refund(session.reference, 1, new_id("idem")))
        assert isinstance(refused, Exception) or refused.status == "failed", refused
        assert (await self._state(provider, session.reference)).refunded == 0

    async def test_a_canceled_payment_cannot_be_captured(self, provider: PaymentProvider) -> None:
        session = await self._open(provider)
        canceled = await within(provider, provider.cancel(session.reference))
        assert canceled.status == "canceled", canceled
        refused = await attempt(
            provider, provider.capture(session.reference, self.amount, new_id("idem"))
        )
        assert isinstance(refused, Exception) or refused.captured == 0, refused
        state = await self._state(provider, session.reference)
        assert (state.status, state.captured) == ("canceled", 0)

    async def test_cancel_of_a_failed_payment_is_harmless(self, provider: PaymentProvider) -> None:
        reference = await self.failed_reference(provider)
        if reference is None:  # no way to make one fail: a canceled one is as dead
            reference = (await self._open(provider)).reference
            await within(provider, provider.cancel(reference))
        before = await self._state(provider, reference)
        assert before.status in DEAD
        for _ in range(2):
            state = await within(provider, provider.cancel(reference))
            assert (state.status, state.captured) == (before.status, 0), state
        assert await self._state(provider, reference) == before

    async def test_a_captured_payment_is_not_canceled(self, provider: PaymentProvider) -> None:
        session, _ = await self._captured(provider)
        await attempt(provider, provider.cancel(session.reference))
        state = await self._state(provider, session.reference)
        assert (state.status, state.captured) == ("captured", self.amount)


# ---------------------------------------------------------------------------
# Affiliate
# ---------------------------------------------------------------------------

#: Currencies of 0, 2 and 3 decimals: amounts are minor units of whichever one a request has.
CURRENCIES: tuple[str, ...] = ("JPY", "EUR", "KWD")


def _other_currencies(request: CommissionRequest) -> list[CommissionRequest]:
    """``request`` in each of :data:`CURRENCIES` (the same minor amounts)."""
    return [msgspec.structs.replace(request, currency=code) for code in CURRENCIES]


def _free(request: CommissionRequest) -> CommissionRequest:
    """``request`` with every amount zero (an order paid entirely by a gift, say)."""
    lines = tuple(msgspec.structs.replace(line, total=0) for line in request.lines)
    return msgspec.structs.replace(
        request, lines=lines, subtotal=0, discount=0, shipping=0, tax=0, total=0
    )


class AffiliateProviderContract(ProviderContract):
    """What every affiliate provider keeps.

    Subclasses provide ``provider``, ``commission_requests`` (paid orders whose
    referral code is one of the programme's: each earns a commission) and may
    provide ``no_commission_requests`` (orders that earn none: each gets
    ``None``). A commission is an integer number of minor units of the
    request's currency, from 0 to the order's subtotal, the same for the same
    request.
    """

    kind = "affiliate"

    @pytest.fixture
    def no_commission_requests(self) -> list[CommissionRequest]:
        """Requests that earn no commission (none by default)."""
        return []

    async def _commission(
        self, provider: AffiliateProvider, request: CommissionRequest
    ) -> Commission | None:
        answer = await within(provider, provider.commission(request))
        assert answer is None or isinstance(answer, Commission), answer
        if answer is not None:
            assert _is_amount(answer.amount), f"{answer}: minor units, an int, not negative"
            assert answer.amount <= request.subtotal, f"{answer}: above the subtotal"
        return answer

    def test_examples_exist(self, commission_requests: list[CommissionRequest]) -> None:
        assert commission_requests

    async def test_examples_earn_a_commission_for_an_affiliate(
        self, provider: AffiliateProvider, commission_requests: list[CommissionRequest]
    ) -> None:
        for request in commission_requests:
            answer = await self._commission(provider, request)
            assert answer is not None, f"no commission for {request}"
            assert isinstance(answer.affiliate, str), answer
            assert answer.affiliate.strip(), answer
            assert len(answer.affiliate) <= 128, answer
            assert answer.reference is None or (
                isinstance(answer.reference, str) and len(answer.reference) <= 255
            ), answer
            msgspec.json.encode(answer)  # recorded and sent in events as JSON

    async def test_requests_that_earn_nothing_get_none(
        self, provider: AffiliateProvider, no_commission_requests: list[CommissionRequest]
    ) -> None:
        for request in no_commission_requests:
            assert await self._commission(provider, request) is None, request

    async def test_amounts_are_minor_units_of_the_request_currency(
        self, provider: AffiliateProvider, commission_requests: list[CommissionRequest]
    ) -> None:
        """Whatever the currency's decimals, an answer stays within that order's subtotal:
        nothing is converted, no amount of another currency comes back."""
        for request in commission_requests:
            for variant in _other_currencies(request):
                await self._commission(provider, variant)

    async def test_an_order_worth_nothing_earns_nothing(
        self, provider: AffiliateProvider, commission_requests: list[CommissionRequest]
    ) -> None:
        for request in commission_requests:
            answer = await self._commission(provider, _free(request))
            assert answer is None or answer.amount == 0, answer

    async def test_is_deterministic(
        self,
        provider: AffiliateProvider,
        commission_requests: list[CommissionRequest],
        no_commission_requests: list[CommissionRequest],
    ) -> None:
        for request in [*commission_requests, *no_commission_requests]:
            first = await self._commission(provider, request)
            assert await self._commission(provider, request) == first
