"""The whole run's watch for leaked provider secrets.

Every value a test sends in a secret field of a provider configuration
(``core.kernel.secrets.Secret`` fields of the provider's ``Config``) is noted; every
answer of the API, every log record and, at the end, a dump of the database
must never contain one of them in plain text.
"""

from __future__ import annotations

import asyncio
import logging
import re
import subprocess
import sys
from pathlib import Path

import httpx
import msgspec

from core.db.engine import fetch
from core.kernel import secrets
from core.providers.registry import provider_registry

_ACTIVATION = re.compile(r"/admin/regions/[^/]+/providers/(\w+)/(\w+)$")
#: How many times any of argv[2:] occurs in the file argv[1] and its WAL (a subprocess:
#: opening the SQLite file here would drop this process's locks on it).
_SCAN = (
    "import os, sys; p = sys.argv[1]; data = b''.join(open(f, 'rb').read() "
    "for f in (p, p + '-wal') if os.path.exists(f)); "
    "print([s for s in sys.argv[2:] if s.encode() in data])"
)


def _file_holds(path: str, values: list[str]) -> str:
    """Which of ``values`` the SQLite file ``path`` holds (printed as a list)."""
    assert Path(path).exists()
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", _SCAN, path, *values], capture_output=True, text=True, check=True
    ).stdout.strip()


class SecretWatch(logging.Handler):
    """Notes secrets sent to the API and finds them where they must not be."""

    def __init__(self) -> None:
        super().__init__(level=logging.NOTSET)
        self.known: set[str] = set()
        self.leaks: list[str] = []

    def _found(self, text: str, where: str) -> None:
        for secret in self.known:
            if secret in text:
                self.leaks.append(f"{where} holds the secret {secret[:6]}…")

    async def on_request(self, request: httpx.Request) -> None:
        match = _ACTIVATION.search(request.url.path)
        if request.method != "PUT" or not match or not request.content:
            return
        cls = provider_registry().get(match[1], match[2])
        if cls is None:
            return
        try:
            config = msgspec.json.decode(request.content).get("config", {})
        except (msgspec.DecodeError, AttributeError):
            return
        for field in secrets.secret_fields(cls.Config):
            value = config.get(field) if isinstance(config, dict) else None
            if isinstance(value, str) and len(value) >= 8 and value != secrets.MASK:
                self.known.add(value)

    async def on_response(self, response: httpx.Response) -> None:
        await response.aread()
        self._found(response.text, f"the answer to {response.request.method} {response.url}")

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage() + (self.format(record) if record.exc_info else "")
        except Exception:  # a record that cannot be formatted holds nothing
            return
        self._found(text, f"a log record of {record.name}")

    async def check_database(self, database_url: str) -> None:
        """Look for the known secrets in the database (the file itself, for SQLite)."""
        if not self.known:
            return
        if database_url.startswith("sqlite"):
            path = database_url.removeprefix("sqlite:///")
            found = await asyncio.to_thread(_file_holds, path, sorted(self.known))
            if found != "[]":
                self.leaks.append(f"the database file holds {found}")
            return
        tables = await fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        )
        for table in tables:
            name = table["table_name"]
            rows = await fetch(f'SELECT t::text AS row FROM "{name}" t')  # noqa: S608
            for row in rows:
                self._found(row["row"], f"table {name}")
