"""Marketplace routes: public browsing, authors' publishing, operators' review,
and stores' reviews (stores install through ``/admin/installations``)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post, put
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from core.auth import errors as auth_errors
from core.auth.guards import bearer_token, needs, operator_only, store_id_of
from core.kernel.errors import CaravanError
from core.kernel.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from core.plugins.marketplace import authors, reviews, service
from core.plugins.marketplace.schemas import (
    AuthorCreate,
    AuthorCreated,
    AuthorTokenCreate,
    AuthorTokenCreated,
    AuthorTokenRead,
    ListingDetail,
    ListingRead,
    ListingWrite,
    ReplyWrite,
    ReviewRead,
    ReviewWrite,
    Sort,
    State,
    StateChange,
    VersionWrite,
)

AnyRequest = Request[Any, Any, Any]
Query = Annotated[str | None, QueryParameter(max_length=200)]


async def author_guard(
    connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler
) -> None:
    """Authenticate an author's bearer token (``au_…``), refused as the admin API's are."""
    token = bearer_token(connection)
    if token is None:
        raise CaravanError(auth_errors.MISSING_TOKEN)
    author = await authors.author_of_token(token)
    if author is None:
        raise CaravanError(auth_errors.INVALID_TOKEN)
    connection.state.author_id = author


def _author(request: AnyRequest) -> str:
    author: str = request.state.author_id
    return author


class BrowseController(Controller):
    """Anyone: the published plugins, their versions and reviews."""

    tags = ["marketplace"]

    @post(
        "/marketplace/authors",
        operation_id="createAuthor",
        status_code=HTTP_201_CREATED,
    )
    async def sign_up(self, data: JSONBody[AuthorCreate]) -> AuthorCreated:
        """Sign up as a plugin author; the answer holds the first token, shown once."""
        return await authors.create_author(data)

    @get("/marketplace/plugins", operation_id="browsePlugins")
    async def browse(
        self,
        q: Query = None,
        kind: Annotated[
            str | None,
            QueryParameter(
                max_length=20,
                description="payment, tax, shipping, affiliate or localisation.",
            ),
        ] = None,
        country: Annotated[
            str | None, QueryParameter(pattern="^[A-Za-z]{2}$", description="ISO 3166-1 code.")
        ] = None,
        region: Annotated[str | None, QueryParameter(max_length=40)] = None,
        compatible: Annotated[
            bool,
            QueryParameter(description="Only plugins with a version for this deployment's API."),
        ] = False,
        available: Annotated[
            bool,
            QueryParameter(description="Only plugins whose package this deployment has."),
        ] = False,
        sort: Annotated[Sort, QueryParameter(description="installs, rating or recent.")] = (
            "installs"
        ),
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> Page[ListingRead]:
        """Search and filter the published plugins; each shows the permissions it asks for."""
        return await service.browse(
            q=q,
            kind=kind,
            country=country,
            region=region,
            compatible=compatible,
            available=available,
            sort=sort,
            limit=limit,
            cursor=cursor,
        )

    @get("/marketplace/plugins/{package:str}", operation_id="getPlugin")
    async def detail(self, package: FromPath[str]) -> ListingDetail:
        """A published plugin, with its versions (installs per version)."""
        return await service.listing_detail(package)

    @get("/marketplace/plugins/{package:str}/reviews", operation_id="listPluginReviews")
    async def reviews(
        self, package: FromPath[str], limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
    ) -> Page[ReviewRead]:
        """The reviews of a published plugin, newest first, with its author's replies."""
        return await reviews.list_reviews(package, limit=limit, cursor=cursor)


class AuthorController(Controller):
    """Authors: their listings, versions, tokens, and replies to reviews."""

    tags = ["marketplace: authors"]
    guards = [author_guard]

    @get("/marketplace/author/listings", operation_id="listOwnListings")
    async def listings(self, request: AnyRequest) -> list[ListingDetail]:
        """Your listings in every state, with their installs and ratings."""
        return await service.author_listings(_author(request))

    @post(
        "/marketplace/author/listings",
        operation_id="createListing",
        status_code=HTTP_201_CREATED,
    )
    async def create(self, request: AnyRequest, data: JSONBody[ListingWrite]) -> ListingDetail:
        """List a plugin as a draft, from what ``caravan plugins info NAME`` prints."""
        return await service.create_listing(_author(request), data)

    @put("/marketplace/author/listings/{package:str}", operation_id="updateListing")
    async def update(
        self, request: AnyRequest, package: FromPath[str], data: JSONBody[ListingWrite]
    ) -> ListingDetail:
        """Refresh your listing from a newer description of the plugin."""
        return await service.update_listing(_author(request), package, data)

    @post(
        "/marketplace/author/listings/{package:str}/versions",
        operation_id="createListingVersion",
        status_code=HTTP_201_CREATED,
    )
    async def version(
        self, request: AnyRequest, package: FromPath[str], data: JSONBody[VersionWrite]
    ) -> ListingDetail:
        """Release a version: its wheel's SHA-256 and size, and its Caravan API range."""
        return await service.add_version(_author(request), package, data)

    @post(
        "/marketplace/author/listings/{package:str}/submit",
        operation_id="submitListing",
        status_code=HTTP_200_OK,
    )
    async def submit(self, request: AnyRequest, package: FromPath[str]) -> ListingDetail:
        """Send a draft (or delisted) listing to review."""
        return await service.submit(_author(request), package)

    @post(
        "/marketplace/author/listings/{package:str}/delist",
        operation_id="withdrawListing",
        status_code=HTTP_200_OK,
    )
    async def withdraw(self, request: AnyRequest, package: FromPath[str]) -> ListingDetail:
        """Take your published listing out of the marketplace."""
        return await service.withdraw(_author(request), package)

    @post(
        "/marketplace/author/reviews/{review_id:str}/reply",
        operation_id="replyToReview",
        status_code=HTTP_200_OK,
    )
    async def reply(
        self, request: AnyRequest, review_id: FromPath[str], data: JSONBody[ReplyWrite]
    ) -> ReviewRead:
        """Reply to a review of one of your listings (a new reply replaces the last)."""
        return await reviews.reply(_author(request), review_id, data)

    @get("/marketplace/author/tokens", operation_id="listAuthorTokens")
    async def tokens(self, request: AnyRequest) -> list[AuthorTokenRead]:
        """Your tokens (never their secrets)."""
        return await authors.list_tokens(_author(request))

    @post(
        "/marketplace/author/tokens",
        operation_id="createAuthorToken",
        status_code=HTTP_201_CREATED,
    )
    async def create_token(
        self, request: AnyRequest, data: JSONBody[AuthorTokenCreate]
    ) -> AuthorTokenCreated:
        """Another token (for CI, say); the secret is shown once."""
        return await authors.create_token(_author(request), data.name)

    @delete(
        "/marketplace/author/tokens/{token_id:str}",
        operation_id="revokeAuthorToken",
        status_code=HTTP_204_NO_CONTENT,
    )
    async def revoke(self, request: AnyRequest, token_id: FromPath[str]) -> None:
        """Revoke one of your tokens."""
        await authors.revoke_token(_author(request), token_id)


class MarketplaceAdminController(Controller):
    """The operator reviews listings; store staff review the plugins they installed."""

    tags = ["admin: marketplace"]

    @get(
        "/admin/marketplace/listings",
        opt=operator_only(),
        operation_id="listListingsInState",
    )
    async def in_state(
        self, listing_state: Annotated[State, QueryParameter(name="state")] = "in_review"
    ) -> list[ListingRead]:
        """Listings in a state (by default the review queue), oldest change first."""
        return await service.listings_in_state(listing_state)

    @post(
        "/admin/marketplace/listings/{package:str}/approve",
        opt=operator_only(),
        operation_id="approveListing",
        status_code=HTTP_200_OK,
    )
    async def approve(self, package: FromPath[str]) -> ListingDetail:
        """Publish a listing under review."""
        return await service.review_listing(package, "approved")

    @post(
        "/admin/marketplace/listings/{package:str}/reject",
        opt=operator_only(),
        operation_id="rejectListing",
        status_code=HTTP_200_OK,
    )
    async def reject(self, package: FromPath[str], data: JSONBody[StateChange]) -> ListingDetail:
        """Send a listing under review back to its author as a draft, with the reason."""
        return await service.review_listing(package, "rejected", data.reason)

    @post(
        "/admin/marketplace/listings/{package:str}/delist",
        opt=operator_only(),
        operation_id="delistListing",
        status_code=HTTP_200_OK,
    )
    async def delist(self, package: FromPath[str], data: JSONBody[StateChange]) -> ListingDetail:
        """Take a published listing out of the marketplace, with the reason."""
        return await service.review_listing(package, "delisted", data.reason)

    @post(
        "/admin/marketplace/plugins/{package:str}/reviews",
        opt=needs("settings:write"),
        operation_id="reviewPlugin",
        status_code=HTTP_201_CREATED,
    )
    async def review(
        self, request: AnyRequest, package: FromPath[str], data: JSONBody[ReviewWrite]
    ) -> ReviewRead:
        """Rate (1-5) and review a plugin this store installed; once per store."""
        return await reviews.create_review(store_id_of(request), package, data)


ADMIN_ROUTES = [MarketplaceAdminController]
PUBLIC_ROUTES = [BrowseController, AuthorController]
