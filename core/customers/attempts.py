"""Login brute-force protection, counted in the database so every process shares it.

Each password check of an account first records an attempt; at most
:data:`MAX_FAILURES` attempts per account (store + normalized email, known or
not) may be on record within :data:`WINDOW`. A successful check deletes the
account's record, a failed one leaves its attempt there, and one more
attempt than allowed is refused with 429 and ``Retry-After`` (the seconds
until the oldest attempt leaves the window). Because every attempt is
committed before it is counted, concurrent attempts cannot all slip under
the limit: the k-th committed attempt always counts at least k.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta
from typing import Final

from core.customers import errors
from core.customers.tables import LoginAttempt
from core.db.engine import now, transaction
from core.kernel.errors import CaravanError
from core.kernel.ids import new_id

MAX_FAILURES: Final = 10
WINDOW: Final = timedelta(minutes=15)


def subject_of(store_id: str, email_normalized: str) -> str:
    """What attempts on an account are counted under (no email stored in clear)."""
    return hashlib.sha256(f"{store_id}\n{email_normalized}".encode()).hexdigest()


async def _recent(subject: str, since: datetime, *, but: str = "") -> list[datetime]:
    """When the attempts on ``subject`` after ``since`` (but ``but``) were made, oldest first."""
    rows = (
        await LoginAttempt.select(LoginAttempt.attempted_at)
        .where(
            (LoginAttempt.subject == subject)
            & (LoginAttempt.attempted_at > since)
            & (LoginAttempt.id != but)
        )
        .order_by(LoginAttempt.attempted_at)
    )
    return [row["attempted_at"] for row in rows]


def _refuse(stamps: list[datetime], stamp: datetime) -> CaravanError:
    """The 429 for an account with ``stamps`` attempts on record (at least the maximum)."""
    frees_at = stamps[len(stamps) - MAX_FAILURES] + WINDOW
    seconds = max(1, math.ceil((frees_at - stamp).total_seconds()))
    return CaravanError(
        errors.TOO_MANY_ATTEMPTS, headers={"retry-after": str(seconds)}, retry_after=seconds
    )


async def begin(store_id: str, subject: str) -> str:
    """Record an attempt on ``subject`` and return its id, or raise 429 when over the limit.

    Attempts older than the window (of every account) are pruned on the way.
    """
    stamp = now()
    since = stamp - WINDOW
    if len(before := await _recent(subject, since)) >= MAX_FAILURES:
        raise _refuse(before, stamp)
    attempt_id = new_id("att")
    async with transaction():
        await LoginAttempt.delete().where(LoginAttempt.attempted_at <= since)
        await LoginAttempt.insert(
            LoginAttempt(id=attempt_id, store=store_id, subject=subject, attempted_at=stamp)
        )
    others = await _recent(subject, since, but=attempt_id)
    if len(others) >= MAX_FAILURES:  # concurrent attempts got in first
        async with transaction():
            await LoginAttempt.delete().where(LoginAttempt.id == attempt_id)
        raise _refuse(others, stamp)
    return attempt_id


async def succeeded(subject: str) -> None:
    """The password was right: forget the account's attempts."""
    async with transaction():
        await LoginAttempt.delete().where(LoginAttempt.subject == subject)
