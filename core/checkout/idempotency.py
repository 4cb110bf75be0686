"""``Idempotency-Key`` for POSTs that move money.

The first request with a key claims it (a row ``in_flight``), runs, and
saves its status and body; a retry with the same key and the same request
gets those bytes back (``Idempotent-Replayed: true``); the same key with
another request is 422; a retry while the first still runs is 409. Keys
belong to a store (the same key in two stores is two keys) and are kept 24
hours.

Not saved, so that a retry runs again: 5xx (the work did not happen or its
outcome is unknown; retrying is safe because providers receive idempotency
keys derived from the cart) and 409 (a conflict of state that may clear:
a payment not confirmed yet, stock that may come back).

A claim is a lease: if the process holding it dies, another request may
take the key over once ``locked_until`` passes.

An operation may save its answer in its own last write (:func:`saving`):
the answer then commits with the work it reports, at no extra round trip.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any

import msgspec
from litestar import Request, Response

from core.checkout import errors
from core.checkout.tables import IdempotencyKey
from core.db.engine import is_unique_violation, now, write
from core.kernel.errors import CaravanError
from core.kernel.ids import new_id
from core.web.handlers import handle_caravan_error

HEADER = "idempotency-key"
RETENTION = timedelta(hours=24)
LEASE = timedelta(seconds=60)
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")

Operation = Callable[[], Awaitable[Response[bytes]]]
Statement = tuple[str, list[Any]]
_JSON = "application/json"


class _Claim(msgspec.Struct, kw_only=True):
    """The key the current request claimed, and the answer its operation saved."""

    store_id: str
    key: str
    #: The status, value and bytes of the answer :func:`saving` saved.
    saved: tuple[int, msgspec.Struct, bytes] | None = None


_claim: ContextVar[_Claim | None] = ContextVar("idempotency_claim", default=None)


def saving(status: int, value: msgspec.Struct) -> list[Statement]:
    """The statement saving the JSON answer ``value`` (with ``status``) under the
    request's ``Idempotency-Key``; none without a key.

    Run it with the operation's last write, and fail the operation if that
    write does not commit: the answer is then saved with the work it reports,
    and :func:`idempotent` saves nothing more when the operation answers
    with that value (:func:`answer`).
    """
    claim = _claim.get()
    if claim is None:
        return []
    body = msgspec.json.encode(value)
    claim.saved = (status, value, body)
    return [_save_sql(claim.store_id, claim.key, status, _JSON, body)]


def answer(status: int, value: msgspec.Struct) -> Response[bytes]:
    """The JSON answer ``value`` with ``status``: the bytes :func:`saving` saved when it
    saved this very value, so that they are encoded once."""
    claim = _claim.get()
    saved = claim.saved if claim is not None else None
    if saved is not None and saved[0] == status and saved[1] is value:
        body = saved[2]
    else:
        body = msgspec.json.encode(value)
    return Response(body, status_code=status, media_type=_JSON)


def fingerprint(request: Request[Any, Any, Any], body: bytes) -> str:
    """SHA-256 of the request's method, path and body."""
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(b" ")
    digest.update(request.url.path.encode())
    digest.update(b"\n")
    digest.update(body)
    return digest.hexdigest()


def _replay(row: dict[str, Any]) -> Response[bytes]:
    return Response(
        row["body"].encode(),
        status_code=row["status_code"],
        media_type=row["content_type"],
        headers={"idempotent-replayed": "true"},
    )


async def _take(store_id: str, key: str, print_: str) -> Response[bytes] | None:
    """Claim ``key`` for this request; a response when it must not run (replay or refusal)."""
    stamp = now()
    try:
        await write(
            'INSERT INTO idempotency_keys (id, store, "key", fingerprint, state, '
            "locked_until, status_code, content_type, body, created_at, expires_at) "
            "VALUES ({}, {}, {}, {}, 'in_flight', {}, 0, '', '', {}, {})",
            new_id("idem"),
            store_id,
            key,
            print_,
            stamp + LEASE,
            stamp,
            stamp + RETENTION,
        )
        return None
    except Exception as exc:
        if not is_unique_violation(exc):
            raise
    where = (IdempotencyKey.store == store_id) & (IdempotencyKey.key == key)
    row = await IdempotencyKey.select().where(where).first()
    if row is None:  # freed meanwhile (the first request failed): claim it again
        return await _take(store_id, key, print_)
    expired: bool = row["expires_at"] <= stamp
    if not expired and row["fingerprint"] != print_:
        raise CaravanError(errors.IDEMPOTENCY_KEY_REUSED)
    if not expired and row["state"] == "done":
        return _replay(row)
    if not expired and row["locked_until"] > stamp:
        raise CaravanError(errors.IDEMPOTENCY_IN_FLIGHT)
    # An expired key, or a claim whose holder died: take it over, if no one else does.
    taken = (
        await IdempotencyKey.update(
            {
                IdempotencyKey.fingerprint: print_,
                IdempotencyKey.state: "in_flight",
                IdempotencyKey.locked_until: stamp + LEASE,
                IdempotencyKey.expires_at: stamp + RETENTION,
                IdempotencyKey.body: "",
                IdempotencyKey.status_code: 0,
            }
        )
        .where(where & (IdempotencyKey.locked_until == row["locked_until"]))
        .returning(IdempotencyKey.id)
    )
    if not taken:
        raise CaravanError(errors.IDEMPOTENCY_IN_FLIGHT)
    return None


def _save_sql(store_id: str, key: str, status: int, media_type: str, body: bytes) -> Statement:
    return (
        "UPDATE idempotency_keys SET state = 'done', status_code = {}, content_type = {}, "
        'body = {} WHERE store = {} AND "key" = {} RETURNING id',
        [status, media_type, body.decode(), store_id, key],
    )


async def _save(claim: _Claim, response: Response[bytes]) -> None:
    body = response.content if isinstance(response.content, bytes) else b""
    status = response.status_code or 200  # Litestar's default for a Response
    if claim.saved is not None:
        saved_status, _, saved_body = claim.saved
        if (saved_status, saved_body) == (status, body):  # saved by the operation's write
            return
    sql, params = _save_sql(claim.store_id, claim.key, status, str(response.media_type), body)
    await write(sql, *params)


async def _free(store_id: str, key: str) -> None:
    await IdempotencyKey.delete().where(
        (IdempotencyKey.store == store_id)
        & (IdempotencyKey.key == key)
        & (IdempotencyKey.state == "in_flight")
    )


async def idempotent(
    request: Request[Any, Any, Any], store_id: str, operation: Operation
) -> Response[bytes]:
    """Run ``operation`` under the request's ``Idempotency-Key`` (if it sent one)."""
    key = request.headers.get(HEADER)
    if key is None:
        return await operation()
    if not _KEY.match(key):
        raise CaravanError(errors.INVALID_IDEMPOTENCY_KEY)
    body = await request.body()
    refused = await _take(store_id, key, fingerprint(request, body))
    if refused is not None:
        return refused
    claim = _Claim(store_id=store_id, key=key)
    token = _claim.set(claim)
    try:
        response = await operation()
    except CaravanError as exc:
        if exc.status >= 500 or exc.status == 409:
            await _free(store_id, key)
            raise
        response = handle_caravan_error(request, exc)
    except BaseException:
        await _free(store_id, key)
        raise
    finally:
        _claim.reset(token)
    await _save(claim, response)
    return response


async def sweep(before: datetime | None = None) -> int:
    """Delete keys past their retention; returns how many."""
    gone = (
        await IdempotencyKey.delete()
        .where(IdempotencyKey.expires_at < (before or now()))
        .returning(IdempotencyKey.id)
    )
    return len(gone)
