"""Helpers of the security matrices: the live route table, a store holding one
object of every kind, request bodies, snapshots and problem checks.

The matrices read the routes from the running app (the OpenAPI document for
paths, methods and request bodies; the handlers' ``opt`` for the scope an
admin route needs), so a new route is covered without editing them. What a
new route may need is an entry here: a factory for a new path parameter, or a
body in :data:`BODIES` when the one built from its schema is refused.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from contextvars import ContextVar
from typing import Any
from urllib.parse import quote

import httpx
import msgspec
from httpx import Response
from litestar import Litestar
from litestar.testing import AsyncTestClient

from core.auth.scopes import SCOPES
from core.plugins.testing.api import (
    Api,
    StoreHandle,
    list_plugin,
    manifest_fields,
    place_order,
    sign_up_author,
    unique,
)

PROBLEM_JSON = "application/problem+json"
METHODS = ("get", "post", "put", "patch", "delete")

# ---------------------------------------------------------------------------
# The route table
# ---------------------------------------------------------------------------


class Operation(msgspec.Struct, frozen=True, kw_only=True):
    """One method on one path of the OpenAPI document."""

    method: str
    path: str
    operation_id: str
    params: tuple[str, ...]
    query: tuple[str, ...]
    body_schema: dict[str, Any] | None

    @property
    def surface(self) -> str:
        """``"admin"`` or ``"store"``: which API the operation belongs to."""
        return self.path.split("/")[1]

    def url(self, values: dict[str, str]) -> str:
        """The path with every ``{param}`` replaced by its (quoted) value."""
        return re.sub(r"\{(\w+)\}", lambda m: quote(values[m.group(1)], safe=""), self.path)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _route_path(litestar_path: str) -> str:
    """``/admin/regions/{region_id:str}`` → ``/admin/regions/{region_id}``."""
    return re.sub(r"\{(\w+):[^}]+\}", r"{\1}", litestar_path)


class Routes:
    """The app's ``/admin`` and ``/store`` operations and what each requires."""

    def __init__(self, doc: dict[str, Any], app: Litestar) -> None:
        self.doc = doc
        self.operations: list[Operation] = []
        for path, item in doc["paths"].items():
            if path.split("/")[1] not in ("admin", "store"):
                continue
            for method, op in item.items():
                if method not in METHODS:
                    continue
                params = [*item.get("parameters", []), *op.get("parameters", [])]
                body = op.get("requestBody", {}).get("content", {}).get("application/json")
                self.operations.append(
                    Operation(
                        method=method.upper(),
                        path=path,
                        operation_id=op["operationId"],
                        params=tuple(p["name"] for p in params if p["in"] == "path"),
                        query=tuple(p["name"] for p in params if p["in"] == "query"),
                        body_schema=body["schema"] if body else None,
                    )
                )
        self.opts: dict[tuple[str, str], dict[str, Any]] = {}
        for route in app.routes:
            for handler in getattr(route, "route_handlers", []):
                for method in handler.http_methods:
                    self.opts[(method, _route_path(route.path))] = dict(handler.opt)

    @classmethod
    async def load(cls, client: AsyncTestClient[Litestar], app: Litestar) -> Routes:
        """Read the live OpenAPI document through ``client``."""
        r = await client.get("/schema/openapi.json")
        assert r.status_code == 200, r.text
        return cls(r.json(), app)

    def of(self, surface: str) -> list[Operation]:
        """The operations of ``"admin"`` or ``"store"``."""
        return [op for op in self.operations if op.surface == surface]

    def ordered(self, surface: str) -> list[Operation]:
        """The operations of ``surface`` with deletes last, deepest path first, so
        a delete that wrongly succeeds spoils no other operation's target."""
        return sorted(
            self.of(surface), key=lambda op: (op.method.lower() == "delete", -len(op.path))
        )

    def find(self, method: str, path: str) -> Operation | None:
        """The operation ``method path``, if the app has it."""
        for op in self.operations:
            if op.method == method and op.path == path:
                return op
        return None

    def opt(self, op: Operation) -> dict[str, Any]:
        """The handler's ``opt`` (``{"operator": True}`` or ``{"scope": ...}``)."""
        return self.opts[(op.method, op.path)]

    def is_operator(self, op: Operation) -> bool:
        """Whether only the platform operator may call ``op``."""
        return bool(self.opt(op).get("operator"))

    def reader(self, op: Operation) -> Operation:
        """The GET that shows the object ``op`` acts on: the same path, or the
        nearest parent path with a GET (``…/rotate-key`` → the storefront)."""
        parts = op.path.split("/")
        while len(parts) > 2:
            found = self.find("GET", "/".join(parts))
            if found is not None and found.params and set(found.params) <= set(op.params):
                return found
            parts.pop()
        raise AssertionError(f"{op}: no GET shows the object it acts on")

    def listings(self, surface: str = "admin") -> list[Operation]:
        """The GET operations without path parameters (store-scoped ones only)."""
        return [
            op
            for op in self.of(surface)
            if op.method == "GET"
            and not op.params
            and not (surface == "admin" and self.is_operator(op))
        ]


# ---------------------------------------------------------------------------
# Request bodies
# ---------------------------------------------------------------------------

PRICES = [
    {"amount": 1299, "currency": "EUR"},
    {"amount": 1499, "currency": "USD"},
    {"amount": 1999, "currency": "SGD"},
]


def product_body(**overrides: Any) -> dict[str, Any]:
    """A valid, active product with two variants priced in EUR, USD and SGD."""
    return {
        "handle": unique("product"),
        "status": "active",
        "translations": {"en": {"title": "Linen shirt"}, "de": {"title": "Leinenhemd"}},
        "options": [{"name": "Size", "values": ["S", "M"]}],
        "tags": ["linen"],
        "variants": [
            {"sku": unique("SKU"), "options": {"Size": "S"}, "prices": PRICES},
            {"sku": unique("SKU"), "options": {"Size": "M"}, "prices": PRICES},
        ],
        **overrides,
    }


def address_body(**overrides: Any) -> dict[str, Any]:
    """A valid postal address (an address book entry's ``address``)."""
    return {
        "first_name": "Mia",
        "last_name": "Matrix",
        "line1": "Matrixstrasse 1",
        "city": "Berlin",
        "postal_code": "10115",
        "country": "DE",
        **overrides,
    }


def collection_body(**overrides: Any) -> dict[str, Any]:
    """A valid collection."""
    return {
        "handle": unique("collection"),
        "translations": {"en": {"title": "Summer"}},
        **overrides,
    }


#: Valid bodies by operationId. The values change what they touch, so a
#: request that should have been refused but was not shows in a snapshot.
BODIES: dict[str, Callable[[], Any]] = {
    "createStore": lambda: {
        "handle": unique("matrix-store"),
        "name": "Matrix",
        "base_currency": "EUR",
        "home_country": "DE",
    },
    "updateStore": lambda: {"name": "Changed by the matrix"},
    "updateOwnStore": lambda: {"name": "Changed by the matrix"},
    "createRegion": lambda: {
        "code": unique("kr"),
        "name": "Korea",
        "currency": "KRW",
        "countries": ["KR"],
        "locales": ["ko", "en"],
    },
    "updateRegion": lambda: {"name": "Changed by the matrix", "tax_inclusive": True},
    "createStorefront": lambda: {"name": "Matrix", "cors_origins": ["https://matrix.example"]},
    "updateStorefront": lambda: {"name": "Changed by the matrix"},
    "createToken": lambda: {"name": "Matrix", "scopes": ["catalog:read"]},
    "createStoreToken": lambda: {"name": "Matrix", "scopes": ["catalog:read"]},
    "createProduct": product_body,
    "updateProduct": lambda: {"status": "archived", "tags": ["changed"]},
    "createVariant": lambda: {"sku": unique("SKU"), "prices": PRICES},
    "updateVariant": lambda: {"weight_g": 777, "prices": [{"amount": 1, "currency": "EUR"}]},
    "createCollection": collection_body,
    "updateCollection": lambda: {"translations": {"en": {"title": "Changed by the matrix"}}},
    "createWebhookEndpoint": lambda: {"url": "https://93.184.215.14/matrix", "enabled": False},
    "updateWebhookEndpoint": lambda: {"description": "Changed by the matrix"},
    "createTaxRate": lambda: {"country": "FR", "category": "reduced", "rate": "0.055"},
    "updateTaxRate": lambda: {"rate": "0.123456", "name": "Changed"},
    "createShippingZone": lambda: {"name": "Matrix", "countries": ["IS"]},
    "updateShippingZone": lambda: {"name": "Changed by the matrix"},
    "createShippingRate": lambda: {"name": "Matrix", "amount": 990, "currency": "EUR"},
    "updateShippingRate": lambda: {"amount": 1, "free_above": 0},
    "updateCustomer": lambda: {"first_name": "Changed by the matrix", "accepts_marketing": True},
    "storeUpdateAddress": lambda: {"address": address_body(city="Changed by the matrix")},
    "createWarehouse": lambda: {"code": unique("wh"), "name": "Matrix", "country": "DE"},
    "updateWarehouse": lambda: {"name": "Changed by the matrix", "active": False},
    "adjustStock": lambda: {"quantity": 3, "reason": "received", "note": "matrix"},
    "updateVariantInventory": lambda: {"allow_backorder": True, "low_stock_threshold": 2},
    "refundOrder": lambda: {"amount": 1, "reason": "matrix"},
    "installPlugin": lambda: {"permissions": []},
    "reviewPlugin": lambda: {"rating": 4, "body": "Reviewed by the matrix"},
    "rejectListing": lambda: {"reason": "Rejected by the matrix"},
    "delistListing": lambda: {"reason": "Delisted by the matrix"},
}

#: Operations that succeed once per object by design: sent again, they must answer
#: 409 with this code (a store reviews a listing once; a listing moves on).
ONCE: dict[str, str] = {
    "reviewPlugin": "review_exists",
    "rejectListing": "illegal_listing_transition",
    "delistListing": "illegal_listing_transition",
}

#: Path parameters naming things of the whole deployment (a plugin's package), not
#: objects of one store: store B naming them acts on its own installation or review.
SHARED_PARAMS = frozenset({"package"})

#: The warehouse and order line of the order the matrix aims at (set by its factory),
#: for bodies that must name them.
_ORDER_FIELDS: ContextVar[dict[str, str] | None] = ContextVar("matrix_order_fields", default=None)

# Values the schema-built body uses for well-known field names.
_FIELD_VALUES: dict[str, Callable[[], Any]] = {
    "warehouse_id": lambda: (_ORDER_FIELDS.get() or {}).get("warehouse_id") or unique("matrix"),
    "line_id": lambda: (_ORDER_FIELDS.get() or {}).get("line_id") or unique("matrix"),
    "currency": lambda: "EUR",
    "base_currency": lambda: "EUR",
    "country": lambda: "DE",
    "home_country": lambda: "DE",
    "origin_country": lambda: "DE",
    "countries": lambda: ["FJ"],
    "locale": lambda: "en",
    "default_locale": lambda: "en",
    "locales": lambda: ["en"],
    "scopes": lambda: ["catalog:read"],
    "url": lambda: "https://matrix.example/x",
    "translations": lambda: {"en": {"title": "Matrix"}},
    "prices": lambda: PRICES,
    "rate": lambda: "0.19",
    "email": lambda: f"{unique('matrix')}@matrix.example",
    "permissions": list,
    "rating": lambda: 4,
}


def _resolve(schema: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def sample(schema: dict[str, Any], doc: dict[str, Any], name: str = "") -> Any:
    """A small valid value of ``schema``: required properties only."""
    if name in _FIELD_VALUES:
        return _FIELD_VALUES[name]()
    schema = _resolve(schema, doc)
    for key in ("oneOf", "anyOf"):
        if key in schema:
            options = [s for s in schema[key] if _resolve(s, doc).get("type") != "null"]
            return sample(options[0], doc, name)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next(k for k in kind if k != "null")
    if kind == "object":
        props = schema.get("properties", {})
        return {key: sample(props[key], doc, key) for key in schema.get("required", [])}
    if kind == "array":
        count = schema.get("minItems", 0)
        return [sample(schema.get("items", {}), doc, name) for _ in range(count)]
    if kind == "integer":
        return int(schema.get("minimum", 1))
    if kind == "number":
        return schema.get("minimum", 1)
    if kind == "boolean":
        return False
    return unique("matrix")  # matches handles, codes, SKUs and names


def body_for(routes: Routes, op: Operation) -> Any:
    """A valid body for ``op`` (``None`` when it takes none)."""
    if op.body_schema is None:
        return None
    if op.operation_id in BODIES:
        return BODIES[op.operation_id]()
    return sample(op.body_schema, routes.doc)


# ---------------------------------------------------------------------------
# A store with one object of every kind
# ---------------------------------------------------------------------------


class StoreWorld:
    """A ready store (EU/US/SEA regions, a storefront) plus, on demand, one
    extra object of each kind for the matrices to aim at.

    The extra objects are not the ones the store's own requests depend on
    (the target region is no storefront's default, the target storefront's
    key is not the one ``store.publishable_key`` holds), so a request that
    wrongly deletes or rotates them changes data without hiding the change.
    """

    def __init__(self, api: Api, store: StoreHandle) -> None:
        self.api = api
        self.store = store
        self.ids: set[str] = {store.id, *(r["id"] for r in store.regions.values())}
        if store.storefront_id:
            self.ids.add(store.storefront_id)
        self._made: dict[str, Any] = {}

    @classmethod
    async def create(cls, api: Api) -> StoreWorld:
        """A new ready store with its storefront's customer (see :class:`Shoppers`)."""
        Shoppers.start(api)
        world = cls(api, await api.ready_store())
        await world.customer()
        return world

    async def _post(self, key: str, path: str, body: dict[str, Any]) -> Any:
        if key not in self._made:
            r = await self.api.request("POST", path, self.store.token, json=body)
            assert r.status_code == 201, f"POST {path}: {r.status_code} {r.text}"
            self._made[key] = r.json()
        return self._made[key]

    async def region(self) -> dict[str, Any]:
        """A region (NZ, NZD) no storefront uses as its default."""
        body = {
            "code": "matrix",
            "name": "Matrix",
            "currency": "NZD",
            "countries": ["NZ"],
            "locales": ["en"],
        }
        region = await self._post("region", "/admin/regions", body)
        self.ids.add(region["id"])
        return region

    async def storefront(self) -> dict[str, Any]:
        """A second storefront (its key unused by the tests)."""
        made = await self._post("storefront", "/admin/storefronts", {"name": "Matrix"})
        self.ids.add(made["storefront"]["id"])
        return made["storefront"]

    async def token(self) -> dict[str, Any]:
        """A second staff token."""
        body = {"name": "Matrix", "scopes": ["catalog:read"]}
        made = await self._post("token", "/admin/tokens", body)
        self.ids.add(made["record"]["id"])
        return made["record"]

    async def collection(self) -> dict[str, Any]:
        """A collection holding :meth:`product`."""
        collection = await self._post("collection", "/admin/collections", collection_body())
        self.ids.add(collection["id"])
        return collection

    async def product(self) -> dict[str, Any]:
        """An active product with two variants, in :meth:`collection`."""
        collection = await self.collection()
        body = product_body(collection_ids=[collection["id"]])
        product = await self._post("product", "/admin/products", body)
        self.ids.update([product["id"], *(v["id"] for v in product["variants"])])
        return product

    async def variant(self) -> dict[str, Any]:
        """The second variant of :meth:`product`."""
        variant: dict[str, Any] = (await self.product())["variants"][1]
        return variant

    async def customer(self) -> dict[str, Any]:
        """The customer the store's storefront requests are logged in as (:class:`Shoppers`)."""
        customer = await Shoppers.start(self.api).customer(self.store.publishable_key or "")
        self.ids.add(customer["id"])
        return customer

    async def address(self) -> dict[str, Any]:
        """An entry of :meth:`customer`'s address book."""
        if "address" not in self._made:
            await self.customer()
            token = Shoppers.start(self.api).token(self.store.publishable_key or "")
            r = await self.api.as_customer(
                "POST",
                "/store/customers/me/addresses",
                self.store,
                token,
                json={"address": address_body()},
            )
            assert r.status_code == 201, r.text
            self._made["address"] = r.json()
            self.ids.add(r.json()["id"])
        address: dict[str, Any] = self._made["address"]
        return address

    async def values(self, op: Operation) -> dict[str, str]:
        """A value for every path parameter of ``op``, made in this store."""
        out = {}
        for param in op.params:
            factory = FACTORIES.get(param)
            if factory is None:
                raise LookupError(missing_factory_message(param, [op]))
            out[param] = await factory(self, op.path)
        return out


Factory = Callable[[StoreWorld, str], Awaitable[str]]


async def _store_id(world: StoreWorld, _path: str) -> str:
    return world.store.id


async def _region_id(world: StoreWorld, _path: str) -> str:
    return str((await world.region())["id"])


async def _storefront_id(world: StoreWorld, _path: str) -> str:
    return str((await world.storefront())["id"])


async def _token_id(world: StoreWorld, _path: str) -> str:
    return str((await world.token())["id"])


async def _product_id(world: StoreWorld, _path: str) -> str:
    return str((await world.product())["id"])


async def _variant_id(world: StoreWorld, _path: str) -> str:
    return str((await world.variant())["id"])


async def _collection_id(world: StoreWorld, _path: str) -> str:
    return str((await world.collection())["id"])


async def _customer_id(world: StoreWorld, _path: str) -> str:
    return str((await world.customer())["id"])


async def _address_id(world: StoreWorld, _path: str) -> str:
    return str((await world.address())["id"])


async def _handle(world: StoreWorld, path: str) -> str:
    if path.startswith("/store/products/"):
        return str((await world.product())["handle"])
    if path.startswith("/store/collections/"):
        return str((await world.collection())["handle"])
    raise LookupError(f"{path}: the 'handle' factory does not know this path; teach it")


async def _warehouse_id(world: StoreWorld, _path: str) -> str:
    body = {"code": "matrix", "name": "Matrix", "country": "DE"}
    warehouse = await world._post("warehouse", "/admin/warehouses", body)
    world.ids.add(warehouse["id"])
    return str(warehouse["id"])


async def _cart(world: StoreWorld) -> dict[str, Any]:
    """A cart in the store's EU region holding one stocked unit of :meth:`StoreWorld.variant`."""
    if "cart" not in world._made:
        variant = str((await world.variant())["id"])
        warehouse = await _warehouse_id(world, "")
        eu = world.store.regions["eu"]["id"]
        api, token = world.api, world.store.token
        r = await api.request(
            "PUT", f"/admin/regions/{eu}/warehouses", token, json={"warehouse_ids": [warehouse]}
        )
        assert r.status_code == 200, r.text
        r = await api.request(
            "POST",
            f"/admin/variants/{variant}/inventory/{warehouse}/adjustments",
            token,
            json={"quantity": 100, "reason": "received"},
        )
        assert r.status_code == 201, r.text
        body = {"region": "eu", "lines": [{"variant_id": variant, "quantity": 1}]}
        r = await api.store_call("POST", "/store/carts", world.store, json=body)
        assert r.status_code == 201, r.text
        cart_id = r.json()["id"]
        r = await api.store_call(
            "PATCH",
            f"/store/carts/{cart_id}",
            world.store,
            json={"email": "matrix@example.com", "shipping_address": address_body()},
        )
        assert r.status_code == 200, r.text
        world._made["cart"] = r.json()
        world.ids.update([r.json()["id"], r.json()["lines"][0]["id"]])
    cart: dict[str, Any] = world._made["cart"]
    return cart


async def _provider_kind(world: StoreWorld, path: str) -> str:
    """The built-in manual payment provider, activated in the target region."""
    if "activation" not in world._made:
        region = await world.region()
        r = await world.api.request(
            "PUT",
            f"/admin/regions/{region['id']}/providers/payment/manual",
            world.store.token,
            json={"config": {}},
        )
        assert r.status_code == 200, r.text
        world._made["activation"] = r.json()  # named by region, kind and code, not by its id
    return "payment"


async def _provider_code(world: StoreWorld, path: str) -> str:
    await _provider_kind(world, path)
    return "manual"


async def _cart_id(world: StoreWorld, _path: str) -> str:
    return str((await _cart(world))["id"])


async def _line_id(world: StoreWorld, _path: str) -> str:
    return str((await _cart(world))["lines"][0]["id"])


async def _order(world: StoreWorld) -> dict[str, Any]:
    """An order of the store's customer (manual payment, EU) of six units, paid, two of
    them shipped and asked back: ``{"order", "fulfillment_id", "return_id"}``. Bodies
    naming a ``warehouse_id`` or ``line_id`` name its warehouse and line."""
    if "order" not in world._made:
        await _cart(world)  # stocks the variant in the EU region's warehouse
        variant = str((await world.variant())["id"])
        await world.api.activate(world.store, "eu", "payment", "manual")
        await world.customer()
        key = world.store.publishable_key or ""
        shoppers = Shoppers.start(world.api)
        placed = await place_order(
            world.api, world.store, [(variant, 6)], session=shoppers.token(key)
        )
        order_id, line_id = placed["order"]["id"], placed["order"]["lines"][0]["id"]
        shoppers.order_tokens[(key, order_id)] = placed["access_token"]
        admin = f"/admin/orders/{order_id}"
        shipment = {
            "warehouse_id": await _warehouse_id(world, ""),
            "carrier": "DHL",
            "tracking_number": "MATRIX1",
            "lines": [{"line_id": line_id, "quantity": 2}],
        }
        back = {"lines": [{"line_id": line_id, "quantity": 2}]}
        steps = ((f"{admin}/mark-paid", None, 200), (f"{admin}/fulfillments", shipment, 201))
        for path, body, status in steps:
            r = await world.api.request("POST", path, world.store.token, json=body)
            assert r.status_code == status, r.text
        r = await world.api.request("POST", f"{admin}/returns", world.store.token, json=back)
        assert r.status_code == 201, r.text
        made = {
            "order": r.json(),
            "fulfillment_id": r.json()["fulfillments"][0]["id"],
            "return_id": r.json()["returns"][0]["id"],
        }
        world.ids.update([order_id, line_id, made["fulfillment_id"], made["return_id"]])
        world._made["order"] = made
    order: dict[str, Any] = world._made["order"]
    fields = {"warehouse_id": order["order"]["fulfillments"][0]["warehouse_id"]}
    _ORDER_FIELDS.set({**fields, "line_id": order["order"]["lines"][0]["id"]})
    return order


async def _order_id(world: StoreWorld, _path: str) -> str:
    return str((await _order(world))["order"]["id"])


async def _fulfillment_id(world: StoreWorld, _path: str) -> str:
    return str((await _order(world))["fulfillment_id"])


async def _return_id(world: StoreWorld, _path: str) -> str:
    return str((await _order(world))["return_id"])


async def _tax_rate_id(world: StoreWorld, _path: str) -> str:
    rate = await world._post("tax_rate", "/admin/tax-rates", {"country": "AT", "rate": "0.2"})
    world.ids.add(rate["id"])
    return str(rate["id"])


async def _shipping_zone_id(world: StoreWorld, _path: str) -> str:
    body = {"name": "Matrix", "countries": ["NO"]}
    zone = await world._post("shipping_zone", "/admin/shipping-zones", body)
    world.ids.add(zone["id"])
    return str(zone["id"])


async def _shipping_rate_id(world: StoreWorld, path: str) -> str:
    zone_id = await _shipping_zone_id(world, path)
    body = {"name": "Matrix", "amount": 500, "currency": "EUR", "free_above": 10_000}
    rate = await world._post("shipping_rate", f"/admin/shipping-zones/{zone_id}/rates", body)
    world.ids.add(rate["id"])
    return str(rate["id"])


async def _endpoint_id(world: StoreWorld, _path: str) -> str:
    """A disabled webhook endpoint (on a public literal address: no DNS, never called)."""
    body = {"url": "https://93.184.215.14/matrix", "enabled": False}
    made = await world._post("webhook_endpoint", "/admin/webhooks/endpoints", body)
    world.ids.add(made["endpoint"]["id"])
    return str(made["endpoint"]["id"])


async def _delivery_id(world: StoreWorld, path: str) -> str:
    """A failed delivery of an event to :func:`_endpoint_id`'s endpoint."""
    if "webhook_delivery" not in world._made:
        from core.db.engine import now, transaction
        from core.events.outbox import emit
        from core.events.tables import WebhookDelivery
        from core.kernel.ids import new_id

        endpoint_id = await _endpoint_id(world, path)
        delivery_id = new_id("msg")
        async with transaction():
            event_id = await emit(world.store.id, "matrix.test", {"by": "matrix"})
            await WebhookDelivery.insert(
                WebhookDelivery(
                    id=delivery_id,
                    store=world.store.id,
                    endpoint=endpoint_id,
                    event=event_id,
                    event_type="matrix.test",
                    status="failed",
                    attempts=1,
                    created_at=now(),
                )
            )
        world.ids.update([delivery_id, event_id])
        world._made["webhook_delivery"] = delivery_id
    return str(world._made["webhook_delivery"])


async def _listing(world: StoreWorld, state: str) -> str:
    """The package of a new marketplace listing (of a new author) in ``state``."""
    author, package = await sign_up_author(world.api, "matrix-author"), unique("caravan-matrix")
    version = {"version": "1.0.0", "caravan_api": ">=1", "sha256": "0" * 64, "size": 1}
    await list_plugin(author, {"manifest": manifest_fields(package)}, version, until=state)
    return package


async def _package(world: StoreWorld, path: str) -> str:
    if path.startswith("/admin/installations/"):
        return "caravan-test-fakes"  # installed in every test store
    if path.startswith("/admin/marketplace/plugins/"):
        return "caravan-manual-payment"  # a published first-party listing, installed
    if path.startswith("/admin/marketplace/listings/"):
        return await _listing(world, "published" if path.endswith("/delist") else "in_review")
    raise LookupError(f"{path}: the 'package' factory does not know this path; teach it")


#: How to make, in a store, the object a path parameter names. The isolation
#: matrix fails for a route whose parameter has no entry here.
FACTORIES: dict[str, Factory] = {
    "store_id": _store_id,
    "region_id": _region_id,
    "storefront_id": _storefront_id,
    "token_id": _token_id,
    "product_id": _product_id,
    "variant_id": _variant_id,
    "collection_id": _collection_id,
    "handle": _handle,
    "endpoint_id": _endpoint_id,
    "delivery_id": _delivery_id,
    "tax_rate_id": _tax_rate_id,
    "shipping_zone_id": _shipping_zone_id,
    "shipping_rate_id": _shipping_rate_id,
    "warehouse_id": _warehouse_id,
    "cart_id": _cart_id,
    "kind": _provider_kind,
    "code": _provider_code,
    "line_id": _line_id,
    "customer_id": _customer_id,
    "address_id": _address_id,
    "order_id": _order_id,
    "fulfillment_id": _fulfillment_id,
    "return_id": _return_id,
    "package": _package,
}


# ---------------------------------------------------------------------------
# Logged-in customers on the storefront
# ---------------------------------------------------------------------------

#: Storefront routes that act for a logged-in customer.
CUSTOMER_ROUTES = "/store/customers/me"
#: Storefront routes of one order, for whoever holds its access token.
ORDER_ROUTES = "/store/orders/"


class Shoppers:
    """One logged-in customer per publishable key, for the matrices' storefront requests.

    The matrices call storefront routes with the calling store's publishable
    key alone. Routes under :data:`CUSTOMER_ROUTES` also need a customer
    session: while a test holds a :class:`StoreWorld` (made in the test or in
    one of its fixtures), such a request that carries a key and no
    ``Authorization`` header is sent with the session of that key's customer,
    registered on first use. So store A's customer owns the objects the
    factories make, and store B's customer, with valid credentials of B,
    aims at them. Tests without a :class:`StoreWorld` are not touched.
    """

    _current: ContextVar[Shoppers | None] = ContextVar("matrix_shoppers", default=None)

    def __init__(self, api: Api) -> None:
        self.api = api
        self.sessions: dict[str, dict[str, Any]] = {}
        #: Guest access tokens of orders by (publishable key, order id), sent as
        #: ``X-Order-Token`` on that key's requests under :data:`ORDER_ROUTES`.
        self.order_tokens: dict[tuple[str, str], str] = {}

    @classmethod
    def start(cls, api: Api) -> Shoppers:
        """The shoppers of the running test, started (and hooked into the client) if need be."""
        current = cls._current.get()
        if current is None:
            current = cls(api)
            cls._current.set(current)
        hooks = api.client.event_hooks["request"]
        if _log_in not in hooks:
            hooks.append(_log_in)
        return current

    async def _session(self, key: str) -> dict[str, Any] | None:
        if key not in self.sessions:
            body = {"email": f"{unique('shopper')}@matrix.example", "password": "matrix password"}
            r = await self.api.client.post(
                "/store/customers/register", json=body, headers={"X-Publishable-Key": key}
            )
            if r.status_code != 201:  # not a live key: the route will say so itself
                return None
            self.sessions[key] = r.json()
        return self.sessions[key]

    async def customer(self, key: str) -> dict[str, Any]:
        """The customer of ``key`` (registered now if it has none yet)."""
        session = await self._session(key)
        assert session is not None, f"no customer for key {key[:8]}…"
        customer: dict[str, Any] = session["customer"]
        return customer

    def token(self, key: str) -> str:
        """The session token of :meth:`customer`."""
        return str(self.sessions[key]["token"])

    @classmethod
    async def log_in(cls, request: httpx.Request) -> None:
        """Add the session of the key's customer to a customer route's request."""
        current = cls._current.get()
        key = request.headers.get("x-publishable-key")
        if current is None or not key or "authorization" in request.headers:
            return
        if request.url.path.startswith(CUSTOMER_ROUTES):
            session = await current._session(key)
            if session is not None:
                request.headers["Authorization"] = f"Bearer {session['token']}"
        if request.url.path.startswith(ORDER_ROUTES) and "x-order-token" not in request.headers:
            order_id = request.url.path.split("/")[3]
            if token := current.order_tokens.get((key, order_id)):
                request.headers["X-Order-Token"] = token


async def _log_in(request: httpx.Request) -> None:
    """The client's request hook (one function object, so it is added once)."""
    await Shoppers.log_in(request)


def missing_factory_message(param: str, ops: Iterable[Operation]) -> str:
    """What to tell a developer whose new route has a parameter without a factory."""
    used_by = ", ".join(sorted({str(op) for op in ops}))
    return (
        f"path parameter {{{param}}} (used by {used_by}) has no factory: add one to "
        "FACTORIES in tests/matrix_support.py that creates such an object in the "
        "given store, so the isolation matrix can check the route"
    )


# ---------------------------------------------------------------------------
# Tokens, snapshots and checks
# ---------------------------------------------------------------------------


def scopes_without(scope: str) -> list[str]:
    """Every scope except what grants ``scope`` (``area:write`` also grants ``area:read``)."""
    area, _, level = scope.partition(":")
    refused = {scope} if level == "write" else {f"{area}:read", f"{area}:write"}
    return [s for s in SCOPES if s not in refused]


async def make_token(api: Api, store: StoreHandle, scopes: list[str]) -> tuple[str, str]:
    """A new staff token of ``store`` with ``scopes``: ``(secret, id)``."""
    body = {"name": "matrix " + " ".join(scopes)[:180], "scopes": scopes}
    r = await api.request("POST", "/admin/tokens", store.token, json=body)
    assert r.status_code == 201, r.text
    data = r.json()
    return data["token"], data["record"]["id"]


async def snapshot(api: Api, routes: Routes, store: StoreHandle) -> dict[str, Any]:
    """Everything the store's admin listings show (up to 100 items each)."""
    out: dict[str, Any] = {}
    for op in routes.listings("admin"):
        params = {"limit": 100} if "limit" in op.query else None
        r = await api.request("GET", op.path, store.token, params=params)
        assert r.status_code == 200, f"{op}: {r.status_code} {r.text}"
        out[op.path] = r.json()
    return out


def changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The listings that differ between two snapshots."""
    return [path for path in before if before[path] != after.get(path)]


def problem_mismatch(r: Response, status: int, code: str | None = None) -> str | None:
    """Why ``r`` is not a ``status`` problem (with ``code``), or ``None`` if it is."""
    kind = r.headers.get("content-type", "")
    if r.status_code != status or not kind.startswith(PROBLEM_JSON):
        return f"expected {status} {code or ''} problem, got {r.status_code} {kind}: {r.text[:300]}"
    body = r.json()
    if body.get("status") != status:
        return f"problem status {body.get('status')} != {status}: {r.text[:300]}"
    if code is not None and body.get("code") != code:
        return f"expected code {code}, got {body.get('code')}: {r.text[:300]}"
    return None


def leaked_ids(r: Response, ids: Iterable[str], url: str) -> list[str]:
    """The ids in ``ids`` that the response shows though the request did not name them."""
    return sorted(i for i in ids if i in r.text and i not in url)
