"""SSRF: webhook URLs reaching internal addresses are refused when saved and when sent."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.events import ssrf
from core.events.ssrf import EgressPolicy, URLRefusedError
from core.events.tables import WebhookAttempt, WebhookDelivery
from core.plugins.testing.api import Api
from tests.factories.events import Clock, Receiver, add_endpoint, drain, emit_committed, make_worker


class FakeDNS:
    """A resolver whose answers the test changes (to simulate DNS rebinding)."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    async def __call__(self, host: str) -> list[str]:
        self.asked.append(host)
        if host not in self.answers:
            raise OSError(f"no such host {host}")
        return self.answers[host]


@pytest.fixture
def prod_policy() -> Iterator[FakeDNS]:
    """The production policy (https only, no loopback) with a fake resolver."""
    dns = FakeDNS({"hooks.shop.test": ["93.184.215.14"]})
    previous = ssrf.current_policy()
    ssrf.use_policy(EgressPolicy(allow_loopback=False, resolver=dns))
    try:
        yield dns
    finally:
        ssrf.use_policy(previous)


REFUSED_AT_SAVE = [
    "https://127.0.0.1/hooks",
    "https://127.1.2.3:8443/hooks",
    "https://10.0.0.8/hooks",
    "https://172.16.0.1/hooks",
    "https://172.31.255.254/hooks",
    "https://192.168.1.10/hooks",
    "https://169.254.169.254/latest/meta-data/",
    "https://[::1]/hooks",
    "https://[fe80::1]/hooks",
    "https://[fc00::5]/hooks",
    "https://[::ffff:10.0.0.1]/hooks",
    "https://0.0.0.0/hooks",
    "https://224.0.0.1/hooks",
    "https://100.64.0.1/hooks",
    "https://localhost/hooks",
    "https://internal.localhost/hooks",
    "http://hooks.shop.test/hooks",  # plain http outside development
    "file:///etc/passwd",
    "gopher://127.0.0.1:70/_",
    "ftp://hooks.shop.test/",
    "https://user:pass@hooks.shop.test/hooks",
]


@pytest.mark.parametrize("url", REFUSED_AT_SAVE)
async def test_internal_urls_are_refused_when_saved(
    api: Api, prod_policy: FakeDNS, url: str
) -> None:
    store = await api.create_store()
    r = await api.request("POST", "/admin/webhooks/endpoints", store.token, json={"url": url})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] in ("webhook_url_refused", "validation_failed")
    r = await api.request("GET", "/admin/webhooks/endpoints", store.token)
    assert r.json()["items"] == []


async def test_a_name_resolving_to_a_private_address_is_refused_when_saved(
    api: Api, prod_policy: FakeDNS
) -> None:
    prod_policy.answers["rebind.shop.test"] = ["93.184.215.14", "10.1.1.1"]
    prod_policy.answers["meta.shop.test"] = ["169.254.169.254"]
    store = await api.create_store()
    for host, reason in (("rebind.shop.test", "private"), ("meta.shop.test", "link_local")):
        r = await api.request(
            "POST", "/admin/webhooks/endpoints", store.token, json={"url": f"https://{host}/h"}
        )
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "webhook_url_refused"
        assert reason in r.json()["detail"]


async def test_changing_the_url_to_an_internal_one_is_refused(
    api: Api, prod_policy: FakeDNS
) -> None:
    store = await api.create_store()
    made = await add_endpoint(api, store, "https://hooks.shop.test/h")
    path = f"/admin/webhooks/endpoints/{made['endpoint']['id']}"
    r = await api.request("PATCH", path, store.token, json={"url": "https://10.9.9.9/h"})
    assert r.status_code == 422, r.text
    r = await api.request("GET", path, store.token)
    assert r.json()["url"] == "https://hooks.shop.test/h"


async def test_a_name_that_turns_private_after_saving_is_refused_when_sent(
    api: Api, prod_policy: FakeDNS, clock: Clock
) -> None:
    store = await api.create_store()
    made = await add_endpoint(api, store, "https://hooks.shop.test/hooks")
    await emit_committed(store, "order.paid", {})
    prod_policy.answers["hooks.shop.test"] = ["10.0.0.5"]  # DNS rebinding
    prod_policy.asked.clear()
    async with make_worker(clock, ssrf.current_policy()) as worker:
        await drain(worker)
    assert prod_policy.asked == ["hooks.shop.test"]  # resolved again at send
    (attempt,) = await WebhookAttempt.select().where(
        WebhookAttempt.endpoint == made["endpoint"]["id"]
    )
    assert attempt["success"] is False
    assert attempt["status_code"] is None
    assert attempt["error"] == "refused: address not allowed (private)"
    delivery = (
        await WebhookDelivery.select()
        .where(WebhookDelivery.endpoint == made["endpoint"]["id"])
        .first()
    )
    assert delivery is not None
    assert delivery["status"] == "pending"


async def test_the_request_goes_to_the_address_that_was_checked(
    api: Api, receiver: Receiver, clock: Clock
) -> None:
    """The worker connects to the checked address, not to a second lookup: the
    fake name resolves only through the policy's resolver, yet arrives."""
    dns = FakeDNS({"hooks.dev.test": ["127.0.0.1"]})
    policy = EgressPolicy(allow_loopback=True, resolver=dns)
    previous = ssrf.current_policy()
    ssrf.use_policy(policy)
    try:
        store = await api.create_store()
        await add_endpoint(api, store, f"http://hooks.dev.test:{receiver.port}/in")
        await emit_committed(store, "order.paid", {})
        async with make_worker(clock, policy) as worker:
            await drain(worker)
    finally:
        ssrf.use_policy(previous)
    (request,) = receiver.requests
    assert request.headers["host"] == f"hooks.dev.test:{receiver.port}"
    assert request.target == "/in"


async def test_loopback_receiver_is_refused_at_send_without_the_development_setting(
    api: Api, receiver: Receiver, clock: Clock
) -> None:
    previous = ssrf.current_policy()
    ssrf.use_policy(EgressPolicy(allow_loopback=True))
    try:
        store = await api.create_store()
        made = await add_endpoint(api, store, f"https://127.0.0.1:{receiver.port}/hooks")
    finally:
        ssrf.use_policy(previous)
    await emit_committed(store, "order.paid", {})
    async with make_worker(clock, EgressPolicy(allow_loopback=False)) as worker:
        await drain(worker)
    assert receiver.requests == []
    (attempt,) = await WebhookAttempt.select().where(
        WebhookAttempt.endpoint == made["endpoint"]["id"]
    )
    assert attempt["error"] == "refused: address not allowed (loopback)"


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.5.4", "private"),
        ("192.168.0.1", "private"),
        ("fd12::1", "private"),
        ("169.254.169.254", "link_local"),
        ("fe80::1", "link_local"),
        ("0.0.0.0", "unspecified"),  # noqa: S104
        ("::", "unspecified"),
        ("239.1.1.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("::ffff:192.168.0.1", "private"),
        ("198.18.0.1", "private"),
    ],
)
def test_address_classes(address: str, reason: str) -> None:
    with pytest.raises(URLRefusedError) as raised:
        EgressPolicy().check_address(address)
    assert raised.value.reason == reason


def test_public_addresses_pass() -> None:
    for address in ("93.184.215.14", "1.1.1.1", "2606:4700:4700::1111"):
        EgressPolicy().check_address(address)
    assert str(EgressPolicy(allow_loopback=True).check_address("127.0.0.1")) == "127.0.0.1"
    with pytest.raises(URLRefusedError):
        EgressPolicy(allow_loopback=True).check_address("10.0.0.1")


async def test_odd_host_names_get_a_clear_answer(api: Api) -> None:
    """With the real resolver: an invalid name is refused, an unknown one accepted
    (it is resolved and checked again before every attempt)."""
    store = await api.create_store()
    for url, status in (
        (f"https://{'a' * 70}.example/hooks", 422),
        ("https://xn--zz-zzzzz.example/hooks", 201),
        ("https://no-such-host.invalid/hooks", 201),
        ("https://2130706433/hooks", 422),  # 127.0.0.1 written as one number
    ):
        r = await api.request("POST", "/admin/webhooks/endpoints", store.token, json={"url": url})
        assert r.status_code == status, (url, r.text)
