"""Reviews of published listings by the stores that installed them, and authors' replies."""

from __future__ import annotations

from typing import Any

from core.db.engine import (
    fetch,
    insert,
    now,
    select,
    transaction,
    unique_or_conflict,
    write,
)
from core.kernel.errors import CaravanError
from core.kernel.ids import new_id
from core.kernel.pagination import Page, page_of
from core.plugins.installs import service as installs
from core.plugins.marketplace import errors
from core.plugins.marketplace.schemas import (
    ReplyWrite,
    ReviewRead,
    ReviewWrite,
)
from core.plugins.marketplace.service import published_row
from core.plugins.marketplace.tables import Review
from core.stores import service as stores

# --- reviews ------------------------------------------------------------------


def _review(row: dict[str, Any], package: str) -> ReviewRead:
    return ReviewRead(
        id=row["id"],
        package=package,
        store_name=row["store_name"],
        rating=row["rating"],
        body=row["body"],
        reply=row["reply"],
        replied_at=row["replied_at"],
        created_at=row["created_at"],
    )


async def create_review(store_id: str, package: str, data: ReviewWrite) -> ReviewRead:
    """A store rates and reviews a published listing it installed (once)."""
    listing = await published_row(package)
    if not await installs.ever_installed(store_id, package):
        raise CaravanError(errors.REVIEW_NEEDS_INSTALL, package=package)
    row = {
        "id": new_id("rev"),
        "listing": listing["id"],
        "store": store_id,
        "store_name": (await stores.get_store(store_id)).name,
        "rating": data.rating,
        "body": data.body,
        "reply": "",
        "replied_at": None,
        "created_at": now(),
    }
    async with transaction():
        await unique_or_conflict(insert(Review, [row]), errors.REVIEW_EXISTS, package=package)
    return _review(row, package)


async def list_reviews(package: str, *, limit: int, cursor: str | None) -> Page[ReviewRead]:
    """The reviews of a published listing, newest first."""
    listing = await published_row(package)
    return await page_of(
        Review.select().where(Review.listing == listing["id"]),
        Review.id,
        limit=limit,
        cursor=cursor,
        convert=lambda row: _review(row, package),
    )


async def reply(author_id: str, review_id: str, data: ReplyWrite) -> ReviewRead:
    """The author of a listing replies to one of its reviews (a new reply replaces it)."""
    found = await fetch(
        "SELECT r.id, l.package FROM marketplace_reviews r "
        "JOIN marketplace_listings l ON l.id = r.listing WHERE r.id = {} AND l.author = {}",
        review_id,
        author_id,
    )
    if not found:
        raise CaravanError(errors.REVIEW_NOT_FOUND, id=review_id)
    await write(
        "UPDATE marketplace_reviews SET reply = {}, replied_at = {} WHERE id = {}",
        data.body,
        now(),
        review_id,
    )
    rows = await select(Review, "id = {}", review_id)
    return _review(rows[0], found[0]["package"])
