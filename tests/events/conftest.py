"""Fixtures of the events tests: a real HTTP receiver on 127.0.0.1, a fake clock and an
egress policy that allows that receiver (builders in :mod:`tests.factories.events`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

from core.events import ssrf
from core.events.ssrf import EgressPolicy
from tests.factories.events import Clock, Receiver


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    made = Receiver()
    made.server = await asyncio.start_server(made._handle, "127.0.0.1", 0)
    try:
        yield made
    finally:
        if made.gate is not None:
            made.gate.set()
        made.server.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def dev_policy() -> Iterator[EgressPolicy]:
    """The development policy (loopback and http allowed) for saved URLs too."""
    previous = ssrf.current_policy()
    policy = EgressPolicy(allow_loopback=True)
    ssrf.use_policy(policy)
    try:
        yield policy
    finally:
        ssrf.use_policy(previous)
