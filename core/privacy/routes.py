"""Admin API: export and erase a shopper's personal data."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK

from core.auth.guards import needs, store_id_of
from core.privacy import service
from core.privacy.schemas import ErasureRead, PersonalDataExport, PersonalDataRequest

AnyRequest = Request[Any, Any, Any]


class PrivacyController(Controller):
    """Store staff: a shopper's data requests (access, portability, erasure)."""

    path = "/admin/privacy"
    tags = ["admin: privacy"]

    @post(
        "/exports",
        opt=needs("customers:read"),
        operation_id="exportPersonalData",
        status_code=HTTP_200_OK,
    )
    async def export(
        self, request: AnyRequest, data: JSONBody[PersonalDataRequest]
    ) -> PersonalDataExport:
        """Everything the store holds on the shopper with this email, as JSON: accounts
        and address books, orders with lines, returns and timelines, carts."""
        return await service.export(store_id_of(request), data.email)

    @post(
        "/erasures",
        opt=needs("customers:write"),
        operation_id="erasePersonalData",
        status_code=HTTP_200_OK,
    )
    async def erase(self, request: AnyRequest, data: JSONBody[PersonalDataRequest]) -> ErasureRead:
        """Erase the shopper with this email: accounts blanked, orders and carts keep
        only what tax records need, copies scrubbed; emits ``customer.erased``."""
        return await service.erase(store_id_of(request), data.email)


ADMIN_ROUTES = [PrivacyController]
