"""The marketplace: authors list plugins and release versions, an operator reviews,
anyone browses what is published, stores install and review what they installed."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest

from core.db.engine import fetch
from core.plugins.testing.api import (
    Api,
    MarketAuthor,
    StoreHandle,
    list_plugin,
    manifest_fields,
    sign_up_author,
    unique,
)
from tests.fake_plugins import EXTRA_PACKAGE, MARKET_PACKAGES

SHA = "ab" * 32
ILLEGAL = {
    # state: the actions that must be refused in it
    "draft": ["approve", "reject", "delist", "withdraw"],
    "in_review": ["submit", "delist", "withdraw"],
    "published": ["submit", "approve", "reject"],
    "delisted": ["approve", "reject", "delist", "withdraw"],
}


def _listing(package: str, **manifest: Any) -> dict[str, Any]:
    defaults = {"author": "Example Payments Ltd", "summary": f"{package} for the marketplace tests"}
    return {
        "manifest": manifest_fields(package, **{**defaults, **manifest}),
        "providers": [{"kind": "payment", "code": "ovo", "name": "OVO"}],
    }


def _version(version: str = "1.0.0", **overrides: Any) -> dict[str, Any]:
    return {
        "version": version,
        "caravan_api": ">=1.0,<2",
        "sha256": SHA,
        "size": 12345,
        **overrides,
    }


async def _operator(api: Api, package: str, action: str, reason: str = "") -> Any:
    body = {"reason": reason} if action in ("reject", "delist") else None
    return await api.request(
        "POST", f"/admin/marketplace/listings/{package}/{action}", api.operator_token, json=body
    )


async def _act(api: Api, author: MarketAuthor, package: str, action: str) -> Any:
    """Take ``action`` on a listing as whoever may (author or operator)."""
    if action == "submit":
        return await author.call("POST", f"/marketplace/author/listings/{package}/submit")
    if action == "withdraw":
        return await author.call("POST", f"/marketplace/author/listings/{package}/delist")
    return await _operator(api, package, action, "Not up to standard")


async def _published(
    api: Api, author: MarketAuthor, package: str, **manifest: Any
) -> dict[str, Any]:
    return await list_plugin(author, _listing(package, **manifest), _version(), until="published")


async def _counts(package: str) -> list[Any]:
    return [
        await fetch(
            "SELECT state, state_reason FROM marketplace_listings WHERE package = {}", package
        ),
        await fetch(
            "SELECT COUNT(*) AS n FROM marketplace_versions v JOIN marketplace_listings l "
            "ON l.id = v.listing WHERE l.package = {}",
            package,
        ),
        await fetch(
            "SELECT COUNT(*) AS n FROM marketplace_reviews r JOIN marketplace_listings l "
            "ON l.id = r.listing WHERE l.package = {}",
            package,
        ),
    ]


async def test_a_fresh_deployment_lists_the_first_party_plugins(api: Api) -> None:
    await api.create_store()  # which has the default plugins installed
    r = await api.request("GET", "/marketplace/plugins?q=caravan-manual-payment", None)
    assert r.status_code == 200, r.text
    (manual,) = r.json()["items"]
    assert manual["author"]["handle"] == "caravan"
    assert manual["first_party"] is True
    assert manual["state"] == "published"
    assert manual["available"] is True
    assert manual["kinds"] == ["payment"]
    assert manual["permissions"] == ["orders:write"]
    assert manual["compatible_version"] == manual["latest_version"]
    detail = (await api.request("GET", "/marketplace/plugins/caravan-manual-payment", None)).json()
    assert detail["versions"][0]["sha256"] is None  # bundled with the deployment
    assert detail["installs"] >= 1  # every store has it installed


async def test_the_handle_of_the_first_party_author_is_reserved(api: Api) -> None:
    body = {"handle": "caravan", "name": "Impostor", "email": "x@example.com"}
    r = await api.request("POST", "/marketplace/authors", None, json=body)
    assert r.status_code == 409
    assert r.json()["code"] == "author_handle_taken"
    r = await api.request(
        "POST", "/marketplace/authors", None, json={**body, "handle": "ok-handle", "email": "nope"}
    )
    assert r.status_code == 422


async def test_author_routes_need_an_author_token(api: Api, client: httpx.AsyncClient) -> None:
    store = await api.create_store()
    for token in (None, store.token, "au_unknown"):
        r = await api.request("GET", "/marketplace/author/listings", token)
        assert r.status_code == 401, r.text
    refusals = [
        ({}, "missing_token"),
        ({"Authorization": "Bearer "}, "invalid_token"),
        ({"Authorization": "Basic au_x"}, "invalid_token"),
        ({"Authorization": "Bearer " + "x" * 257}, "invalid_token"),
        ({"Authorization": "Bearer au_unknown"}, "invalid_token"),
    ]
    for headers, code in refusals:
        r = await client.get("/marketplace/author/listings", headers=headers)
        assert (r.status_code, r.json()["code"]) == (401, code), headers
    author = await sign_up_author(api)
    r = await author.call("POST", "/marketplace/author/tokens", json={"name": "CI"})
    assert r.status_code == 201, r.text
    second = r.json()
    r = await api.request("GET", "/marketplace/author/tokens", second["token"])
    assert r.status_code == 200
    assert len(r.json()) == 2
    assert second["token"] not in r.text
    r = await author.call("DELETE", f"/marketplace/author/tokens/{second['record']['id']}")
    assert r.status_code == 204
    assert (
        await api.request("GET", "/marketplace/author/tokens", second["token"])
    ).status_code == 401


async def test_from_draft_through_review_to_published(api: Api) -> None:
    author, package = await sign_up_author(api), unique("caravan-ovo")
    r = await author.call(
        "POST",
        "/marketplace/author/listings",
        json=_listing(package, countries=["ID"], permissions=["orders:read"]),
    )
    assert r.status_code == 201, r.text
    assert r.json()["state"] == "draft"
    assert (await api.request("GET", f"/marketplace/plugins/{package}", None)).status_code == 404

    r = await author.call("POST", f"/marketplace/author/listings/{package}/submit")
    assert r.status_code == 409
    assert r.json()["code"] == "listing_has_no_versions"

    r = await author.call(
        "POST", f"/marketplace/author/listings/{package}/versions", json=_version()
    )
    assert r.status_code == 201, r.text
    r = await author.call("POST", f"/marketplace/author/listings/{package}/submit")
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "in_review"
    queue = (await api.request("GET", "/admin/marketplace/listings", api.operator_token)).json()
    assert package in [listing["package"] for listing in queue]

    r = await _operator(api, package, "reject", "")
    assert r.status_code == 422
    r = await _operator(api, package, "reject", "The summary does not say what it does")
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "draft"
    assert r.json()["state_reason"] == "The summary does not say what it does"
    mine = (await author.call("GET", "/marketplace/author/listings")).json()
    assert mine[0]["state_reason"] == "The summary does not say what it does"

    r = await author.call(
        "PUT",
        f"/marketplace/author/listings/{package}",
        json=_listing(
            package,
            summary="OVO e-wallet payments for Indonesia",
            countries=["ID"],
            permissions=["orders:read"],
        ),
    )
    assert r.status_code == 200, r.text
    assert (
        await author.call("POST", f"/marketplace/author/listings/{package}/submit")
    ).status_code == 200
    r = await _operator(api, package, "approve")
    assert r.status_code == 200, r.text

    public = await api.request("GET", f"/marketplace/plugins/{package}", None)
    assert public.status_code == 200
    listing = public.json()
    assert listing["summary"] == "OVO e-wallet payments for Indonesia"
    assert listing["permissions"] == ["orders:read"]  # shown before any store installs it
    assert listing["available"] is False  # its package is not installed on this deployment
    for available, expected in (("false", [package]), ("true", [])):
        params = {"q": package, "available": available}
        found = await api.request("GET", "/marketplace/plugins", None, params=params)
        assert [item["package"] for item in found.json()["items"]] == expected
    assert listing["published_at"] is not None
    assert listing["versions"][0]["sha256"] == SHA

    r = await author.call("POST", "/marketplace/author/listings", json=_listing(package))
    assert r.status_code == 409
    assert r.json()["code"] == "listing_exists"

    # Asking for other permissions sends a published listing back to review.
    wider = _listing(package, countries=["ID"], permissions=["orders:read", "customers:read"])
    r = await author.call("PUT", f"/marketplace/author/listings/{package}", json=wider)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "in_review"
    assert "permissions changed" in r.json()["state_reason"]
    assert (await api.request("GET", f"/marketplace/plugins/{package}", None)).status_code == 404
    r = await _operator(api, package, "approve")
    assert r.json()["permissions"] == ["customers:read", "orders:read"]

    r = await _operator(api, package, "delist", "Security issue reported")
    assert r.status_code == 200
    assert (await api.request("GET", f"/marketplace/plugins/{package}", None)).status_code == 404
    r = await author.call("POST", f"/marketplace/author/listings/{package}/submit")
    assert r.json()["state"] == "in_review"


@pytest.mark.parametrize("state", sorted(ILLEGAL))
async def test_every_illegal_transition_is_refused(api: Api, state: str) -> None:
    author, package = await sign_up_author(api), unique("caravan-states")
    r = await author.call("POST", "/marketplace/author/listings", json=_listing(package))
    assert r.status_code == 201
    await author.call("POST", f"/marketplace/author/listings/{package}/versions", json=_version())
    path = {"draft": [], "in_review": ["submit"], "published": ["submit", "approve"]}
    for action in path.get(state, ["submit", "approve", "delist"]):
        assert (await _act(api, author, package, action)).status_code == 200
    before = await _counts(package)
    assert before[0][0]["state"] == state
    for action in ILLEGAL[state]:
        r = await _act(api, author, package, action)
        assert r.status_code == 409, (state, action, r.text)
        assert r.json()["code"] == "illegal_listing_transition"
        assert r.json()["extra"]["state"] == state
    assert await _counts(package) == before


async def test_bad_listings_and_versions_are_refused_and_write_nothing(api: Api) -> None:
    author, other = await sign_up_author(api), await sign_up_author(api)
    package = unique("caravan-bad")
    r = await author.call(
        "POST", "/marketplace/author/listings", json=_listing(package, version="one.two")
    )
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_manifest"
    assert "PEP 440" in r.json()["detail"]
    r = await author.call(
        "POST", "/marketplace/author/listings", json=_listing(package, countries=["XX"])
    )
    assert r.status_code == 422
    assert (await _counts(package))[0] == []

    assert (
        await author.call("POST", "/marketplace/author/listings", json=_listing(package))
    ).status_code == 201
    versions = f"/marketplace/author/listings/{package}/versions"
    for bad in (
        _version(sha256="ab" * 31),
        _version(sha256="AB" * 32),
        _version(sha256="zz" * 32),
        _version(version="1.0.0-final-final"),
        _version(caravan_api="about one"),
        _version(size=0),
        _version(released_at="2099-01-01T00:00:00Z"),  # would top "recent" for ever
        _version(released_at="yesterday"),
        _version(released_at="2026-01-01T00:00:00"),  # no time zone
    ):
        r = await author.call("POST", versions, json=bad)
        assert r.status_code == 422, (bad, r.text)
    assert (await _counts(package))[1][0]["n"] == 0
    assert (await author.call("POST", versions, json=_version())).status_code == 201
    r = await author.call("POST", versions, json=_version())
    assert r.status_code == 409
    assert r.json()["code"] == "version_exists"

    # Only the owner may publish versions, change or move the listing.
    r = await other.call("POST", versions, json=_version("2.0.0"))
    assert r.status_code == 403
    assert r.json()["code"] == "not_listing_owner"
    assert (
        await other.call("POST", "/marketplace/author/listings", json=_listing(package))
    ).status_code == 403
    assert (
        await other.call("PUT", f"/marketplace/author/listings/{package}", json=_listing(package))
    ).status_code == 403
    assert (
        await other.call("POST", f"/marketplace/author/listings/{package}/submit")
    ).status_code == 403
    counts = await _counts(package)
    assert counts[0][0]["state"] == "draft"
    assert counts[1][0]["n"] == 1
    # The Caravan project's packages are its own.
    taken = "caravan-manual-payment"
    r = await other.call("POST", "/marketplace/author/listings", json=_listing(taken))
    assert r.status_code == 403
    versions = f"/marketplace/author/listings/{taken}/versions"
    assert (await other.call("POST", versions, json=_version("9.0.0"))).status_code == 403


async def _stores_installing(api: Api, package: str, n: int) -> list[StoreHandle]:
    stores = []
    for _ in range(n):
        store = await api.create_store(name=f"Brand {unique('b')}")
        r = await api.request(
            "PUT", f"/admin/installations/{package}", store.token, json={"permissions": []}
        )
        assert r.status_code == 200, r.text
        stores.append(store)
    return stores


async def _review(api: Api, store: StoreHandle, package: str, rating: int) -> Any:
    return await api.request(
        "POST",
        f"/admin/marketplace/plugins/{package}/reviews",
        store.token,
        json={"rating": rating, "body": f"{rating} stars"},
    )


async def test_browse_searches_filters_sorts_and_paginates(api: Api) -> None:
    author = await sign_up_author(api)
    a, b, c = MARKET_PACKAGES
    tag = unique("zebra")  # the word that finds only this test's listings
    await _published(
        api,
        author,
        a,
        summary=f"{tag} payments for Indonesia",
        countries=["ID"],
        regions=["Southeast Asia"],
    )
    await _published(api, author, b, summary=f"{tag} tax for the EU", regions=["EU"])
    await _published(api, author, c, summary=f"{tag} shipping anywhere")
    await author.call(
        "POST",
        f"/marketplace/author/listings/{b}/versions",
        json=_version("2.0.0", caravan_api=">=2"),
    )
    r = await author.call(
        "PUT",
        f"/marketplace/author/listings/{b}",
        json={
            **_listing(b, summary=f"{tag} tax for the EU", regions=["EU"]),
            "providers": [{"kind": "tax", "code": "eu_vat", "name": "EU VAT"}],
        },
    )
    assert r.status_code == 200, r.text
    r = await author.call(
        "PUT",
        f"/marketplace/author/listings/{c}",
        json={
            **_listing(c, summary=f"{tag} shipping anywhere"),
            "providers": [],
            "kinds": ["localisation"],
        },
    )
    assert r.status_code == 200, r.text

    stores = {
        a: await _stores_installing(api, a, 3),
        b: await _stores_installing(api, b, 1),
        c: await _stores_installing(api, c, 2),
    }
    for package, ratings in ((a, [3, 3, 3]), (b, [5]), (c, [4, 5])):
        for store, rating in zip(stores[package], ratings, strict=True):
            assert (await _review(api, store, package, rating)).status_code == 201

    async def browse(**params: Any) -> list[str]:
        r = await api.request("GET", "/marketplace/plugins", None, params={"q": tag, **params})
        assert r.status_code == 200, r.text
        return [item["package"] for item in r.json()["items"]]

    assert await browse() == [a, c, b]  # by installs
    assert await browse(sort="rating") == [b, c, a]  # 5.0, 4.5, 3.0
    assert await browse(sort="recent") == [b, c, a]  # b's 2.0.0 is newest
    assert await browse(q=f"{tag} indonesia") == [a]
    assert await browse(kind="payment") == [a]
    assert await browse(kind="tax") == [b]
    assert await browse(kind="localisation") == [c]
    assert await browse(country="ID") == [a, c]  # c serves anywhere
    assert await browse(country="de") == [c]
    assert await browse(region="eu") == [c, b]
    assert await browse(region="Southeast Asia") == [a, c]
    assert await browse(compatible="true") == [a, c, b]  # b's 1.0.0 still fits
    assert await browse(available="true") == [a, c, b]  # the test packages are here
    detail = (await api.request("GET", f"/marketplace/plugins/{b}", None)).json()
    assert [(v["version"], v["compatible"], v["installs"]) for v in detail["versions"]] == [
        ("2.0.0", False, 0),
        ("1.0.0", True, 1),  # the deployment runs 1.0.0 of every test package
    ]
    assert detail["latest_version"] == "2.0.0"
    assert detail["compatible_version"] == "1.0.0"
    assert detail["installs"] == 1
    assert detail["rating_average"] == 5.0

    seen, cursor = [], None
    for _ in range(5):
        params = {"q": tag, "limit": 1, "sort": "rating", **({"cursor": cursor} if cursor else {})}
        page = (await api.request("GET", "/marketplace/plugins", None, params=params)).json()
        seen += [item["package"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [b, c, a]
    for bad in ({"cursor": "nonsense"}, {"sort": "price"}, {"country": "Germany"}, {"limit": 0}):
        r = await api.request("GET", "/marketplace/plugins", None, params=bad)
        assert r.status_code == 422, (bad, r.text)

    mine = {
        m["package"]: m for m in (await author.call("GET", "/marketplace/author/listings")).json()
    }
    assert (mine[a]["installs"], mine[a]["rating_count"], mine[a]["rating_average"]) == (3, 3, 3.0)
    assert mine[c]["rating_average"] == 4.5


async def test_reviews_once_per_store_that_installed_and_author_replies(api: Api) -> None:
    author = await sign_up_author(api)
    await _published(api, author, EXTRA_PACKAGE, permissions=["orders:read"])
    never = await api.create_store()
    user = await api.create_store(name="Batik House")
    r = await api.request(
        "PUT",
        f"/admin/installations/{EXTRA_PACKAGE}",
        user.token,
        json={"permissions": ["orders:read"]},
    )
    assert r.status_code == 200, r.text
    before = await _counts(EXTRA_PACKAGE)

    r = await _review(api, never, EXTRA_PACKAGE, 5)
    assert r.status_code == 403
    assert r.json()["code"] == "review_needs_install"
    for rating in (0, 6, "5"):
        r = await _review(api, user, EXTRA_PACKAGE, rating)  # type: ignore[arg-type]
        assert r.status_code == 422, rating
    assert await _counts(EXTRA_PACKAGE) == before

    r = await _review(api, user, EXTRA_PACKAGE, 4)
    assert r.status_code == 201, r.text
    review = r.json()
    assert review["store_name"] == "Batik House"
    r = await api.request("DELETE", f"/admin/installations/{EXTRA_PACKAGE}", user.token)
    assert r.status_code == 204
    r = await _review(api, user, EXTRA_PACKAGE, 1)  # uninstalled, and reviewed already
    assert r.status_code == 409
    assert r.json()["code"] == "review_exists"

    other = await sign_up_author(api)
    r = await other.call(
        "POST", f"/marketplace/author/reviews/{review['id']}/reply", json={"body": "Hi"}
    )
    assert r.status_code == 404
    r = await author.call(
        "POST", f"/marketplace/author/reviews/{review['id']}/reply", json={"body": "Thank you!"}
    )
    assert r.status_code == 200, r.text
    page = (await api.request("GET", f"/marketplace/plugins/{EXTRA_PACKAGE}/reviews", None)).json()
    assert [(x["rating"], x["reply"]) for x in page["items"]] == [(4, "Thank you!")]
    assert page["items"][0]["replied_at"] is not None
    detail = (await api.request("GET", f"/marketplace/plugins/{EXTRA_PACKAGE}", None)).json()
    assert detail["available"] is True
    assert (detail["rating_count"], detail["rating_average"]) == (1, 4.0)
    assert detail["permissions"] == ["orders:read"]


async def test_hostile_values_get_clear_problems(api: Api) -> None:
    from tests.core.test_hostile_input import HOSTILE_IDS

    author = await sign_up_author(api)
    failures = []
    for value in HOSTILE_IDS:
        name = quote(value, safe="")
        calls = [
            (None, "GET", f"/marketplace/plugins/{name}", None),
            (None, "GET", f"/marketplace/plugins/{name}/reviews", None),
            (author.token, "PUT", f"/marketplace/author/listings/{name}", _listing("x-y")),
            (author.token, "POST", f"/marketplace/author/listings/{name}/versions", _version()),
            (author.token, "POST", f"/marketplace/author/listings/{name}/submit", None),
            (author.token, "POST", f"/marketplace/author/reviews/{name}/reply", {"body": "x"}),
            (author.token, "DELETE", f"/marketplace/author/tokens/{name}", None),
        ]
        for token, method, path, body in calls:
            r = await api.request(method, path, token, json=body)
            if r.status_code not in (404, 422) or "code" not in r.json():
                failures.append(f"{method} {path[:60]}: {r.status_code} {r.text[:200]}")
        for params in ({"q": value}, {"region": value}, {"cursor": value}, {"kind": value}):
            r = await api.request("GET", "/marketplace/plugins", None, params=params)
            if r.status_code not in (200, 422):
                failures.append(
                    f"GET /marketplace/plugins {params}: {r.status_code} {r.text[:200]}"
                )
    assert not failures, "\n".join(failures)
