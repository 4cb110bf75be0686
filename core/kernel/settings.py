"""Runtime settings, read from ``CARAVAN_*`` environment variables."""

from __future__ import annotations

import os
from typing import Final

import msgspec

DEFAULT_DATABASE_URL: Final = "sqlite:///caravan.db"


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the application reads from its environment."""

    #: ``sqlite:///path.db`` or ``postgresql://user@host:port/db``.
    database_url: str = DEFAULT_DATABASE_URL
    #: PostgreSQL connection pool bounds per process.
    pool_min: int = 2
    pool_max: int = 10
    #: Persistent SQLite connections per process for queries outside transactions.
    sqlite_pool: int = 4
    #: Seconds a process trusts its cached view of a store's catalog version and
    #: of publishable keys before checking the database again (other processes'
    #: writes become visible within this delay; this process's own at once).
    cache_ttl: float = 1.0
    #: Number of encoded catalog responses kept per process.
    cache_entries: int = 4096
    #: Request body limits in bytes.
    storefront_max_body: int = 1024 * 1024
    admin_max_body: int = 10 * 1024 * 1024
    #: Seconds shutdown waits for requests in flight before closing the database.
    shutdown_grace: float = 10.0
    #: Emit debug tracebacks (never in production).
    debug: bool = False
    #: Run the outbox worker (event subscribers, webhooks) and the housekeeping
    #: inside ``caravan serve``; turn off when separate ``caravan worker`` processes do it.
    worker: bool = True
    #: Seconds an idle outbox worker waits before looking for work again.
    worker_poll_interval: float = 1.0
    #: Seconds between housekeeping rounds (expired stock reservations released,
    #: old idempotency keys forgotten), run wherever an outbox worker runs.
    housekeeping_interval: float = 30.0
    #: Development only: let webhook URLs use plain http and loopback addresses
    #: (127.0.0.1, ::1, localhost). Private and link-local addresses stay refused.
    webhooks_allow_loopback: bool = False
    #: Comma-separated keys (``caravan secrets new-key``) encrypting the secrets of
    #: provider configurations; the first encrypts, every one decrypts (rotation).
    secret_keys: str = ""
    #: Comma-separated names of the plugins every new store has installed.
    default_plugins: str = "manual_payment,rate_table_tax,table_rate_shipping"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Build settings from ``CARAVAN_<FIELD>`` variables, then ``overrides``."""
        env = os.environ if environ is None else environ
        raw: dict[str, object] = {}
        for field in cls.__struct_fields__:
            value = env.get(f"CARAVAN_{field.upper()}")
            if value is not None:
                raw[field] = value
        raw.update(overrides)
        return msgspec.convert(raw, cls, strict=False)

    def __repr__(self) -> str:
        """The settings with the secret keys masked (they are never printed or logged)."""
        fields = {name: getattr(self, name) for name in self.__struct_fields__}
        if fields["secret_keys"]:
            fields["secret_keys"] = "********"  # noqa: S105
        return f"Settings({', '.join(f'{k}={v!r}' for k, v in fields.items())})"

    @property
    def engine(self) -> str:
        """``"sqlite"`` or ``"postgres"``."""
        return (
            "postgres" if self.database_url.startswith(("postgres://", "postgresql")) else "sqlite"
        )
