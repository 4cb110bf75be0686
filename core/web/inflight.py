"""Requests in flight, so that shutdown can let them finish."""

from __future__ import annotations

import asyncio
from typing import Any

# ---------------------------------------------------------------------------
# Requests in flight, so that shutdown can let them finish
# ---------------------------------------------------------------------------


class InFlight:
    """Counts HTTP requests being handled; shutdown waits for them to finish."""

    def __init__(self) -> None:
        self.count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def middleware(self, app: Any) -> Any:
        """ASGI middleware counting the requests ``app`` is handling."""

        async def counting(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            self.count += 1
            self._idle.clear()
            try:
                await app(scope, receive, send)
            finally:
                self.count -= 1
                if self.count == 0:
                    self._idle.set()

        return counting

    async def drained(self, grace: float) -> bool:
        """Wait until no request is in flight (at most ``grace`` seconds)."""
        try:
            await asyncio.wait_for(self._idle.wait(), grace)
        except TimeoutError:
            return False
        return True
