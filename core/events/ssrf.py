"""Egress checks of webhook URLs (server-side request forgery).

A webhook URL is checked when it is saved and again before every attempt:
the host is resolved, *every* address it resolves to must be public, and
the request then connects to one of the checked addresses (never resolving
the name a second time), so a name that resolves somewhere else between the
check and the connection (DNS rebinding) cannot reach an internal service.

Loopback addresses (and plain ``http``) are allowed only with the
development setting ``CARAVAN_WEBHOOKS_ALLOW_LOOPBACK``; private, link-local
(the 169.254.169.254 metadata service), unspecified, multicast and reserved
addresses never are.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import SplitResult, urlsplit

from core.kernel.scope import app_scope

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: ``async resolve(host) -> [address, …]``; raises :class:`OSError` when the name does not resolve.
Resolver = Callable[[str], Awaitable[list[str]]]

#: Seconds a name lookup may take.
RESOLVE_TIMEOUT: Final = 5.0

#: Ranges Python's ``ipaddress`` flags do not all cover (CGNAT, benchmarking, 6to4 of private…).
_EXTRA_BLOCKED: Final = tuple(
    ipaddress.ip_network(n)
    for n in ("100.64.0.0/10", "198.18.0.0/15", "192.0.0.0/24", "64:ff9b:1::/48", "2002::/16")
)


class URLRefusedError(Exception):
    """A webhook URL that may not be called; ``reason`` is a stable code."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def system_resolver(host: str) -> list[str]:
    """Resolve ``host`` with the operating system (every A and AAAA address)."""
    loop = asyncio.get_running_loop()
    infos = await asyncio.wait_for(
        loop.getaddrinfo(host, None, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT
    )
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def address_class(address: IPAddress) -> str | None:
    """Why ``address`` may not be called (``"private"``, …), or None when it is public."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address_class(address.ipv4_mapped)
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link_local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("private", address.is_private or any(address in net for net in _EXTRA_BLOCKED)),
        ("reserved", not address.is_global),
    )
    return next((name for name, hit in checks if hit), None)


@dataclass(frozen=True)
class EgressPolicy:
    """What webhook URLs may reach: the development allowances and the resolver."""

    allow_loopback: bool = False
    resolver: Resolver = field(default=system_resolver)

    def check_address(self, text: str) -> IPAddress:
        """Return the parsed ``text``; raise :class:`URLRefusedError` if it may not be called."""
        address = ipaddress.ip_address(text.split("%", 1)[0])
        reason = address_class(address)
        if reason == "loopback" and self.allow_loopback:
            return address
        if reason is not None:
            raise URLRefusedError(reason)
        return address

    def check_syntax(self, url: str) -> SplitResult:
        """Check the scheme, host and port of ``url`` (no lookup); return its parts."""
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises on a bad port
        except ValueError:
            raise URLRefusedError("invalid_url") from None
        allowed = ("https", "http") if self.allow_loopback else ("https",)
        if parts.scheme not in allowed:
            raise URLRefusedError("scheme")
        host = parts.hostname
        if not host or parts.username is not None or parts.password is not None:
            raise URLRefusedError("invalid_url")
        if not self.allow_loopback and (host == "localhost" or host.endswith(".localhost")):
            raise URLRefusedError("loopback")
        if _literal(host) is not None:
            self.check_address(host)
        return parts

    async def resolve(self, host: str) -> list[IPAddress]:
        """Resolve ``host`` and check every address (:class:`URLRefusedError` if one is refused)."""
        literal = _literal(host)
        if literal is not None:
            return [self.check_address(host)]
        try:
            found = await self.resolver(host)
        except (OSError, TimeoutError):
            raise URLRefusedError("unresolvable") from None
        except ValueError:  # not a valid host name (an IDNA label too long…)
            raise URLRefusedError("invalid_url") from None
        if not found:
            raise URLRefusedError("unresolvable")
        return [self.check_address(text) for text in found]

    async def check_on_save(self, url: str) -> None:
        """The check when an endpoint is saved: syntax, and the addresses if the name resolves.

        A name that does not resolve (yet) is accepted: it is resolved and
        checked again before every attempt.
        """
        parts = self.check_syntax(url)
        try:
            await self.resolve(parts.hostname or "")
        except URLRefusedError as exc:
            if exc.reason != "unresolvable":
                raise


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None


def current_policy() -> EgressPolicy:
    """The current application's egress policy (made of its settings'
    ``webhooks_allow_loopback`` unless :func:`use_policy` set another)."""
    return app_scope().memo(
        "events.egress_policy",
        lambda settings: EgressPolicy(allow_loopback=settings.webhooks_allow_loopback),
    )


def use_policy(policy: EgressPolicy) -> None:
    """Check webhook URLs with ``policy`` in the current application from now on."""
    app_scope().put("events.egress_policy", policy)
