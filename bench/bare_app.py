"""The bare endpoint: the roof a catalog listing is compared with.

One Litestar route returning a pre-encoded JSON page of 20 products as bytes,
no middleware, no database. Served by granian exactly like the real app:

    granian --interface asgi --factory bench.bare_app:create_app ...

The body is the file named by ``CARAVAN_BENCH_BODY_FILE`` when set (the bench
passes the real listing's response there, so both endpoints send the same
bytes), else a generated page of the same shape (:func:`bench.dataset.storefront_page`).
"""

from __future__ import annotations

import os
from pathlib import Path

from litestar import Litestar, MediaType, get

from bench.dataset import storefront_page

#: Environment variable naming a file whose bytes the endpoint serves.
BODY_ENV = "CARAVAN_BENCH_BODY_FILE"
#: The path the bench loads.
PATH = "/products"


def page_body() -> bytes:
    """The response body: the file named by ``CARAVAN_BENCH_BODY_FILE``, or a generated page."""
    name = os.environ.get(BODY_ENV)
    return Path(name).read_bytes() if name else storefront_page()


def create_app() -> Litestar:
    """Build the bare app (a granian factory)."""
    body = page_body()

    @get(PATH, media_type=MediaType.JSON)
    async def products() -> bytes:
        """The pre-encoded page."""
        return body

    return Litestar(route_handlers=[products], debug=False, openapi_config=None)
