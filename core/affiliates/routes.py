"""Admin routes of affiliate commissions."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import QueryParameter

from core.affiliates import service
from core.affiliates.schemas import STATES, CommissionRead
from core.auth.guards import needs, store_id_of
from core.kernel.pagination import Cursor, Limit, Page

AnyRequest = Request[Any, Any, Any]

AffiliateFilter = Annotated[
    str | None,
    QueryParameter(min_length=1, max_length=128, description="Only commissions of this affiliate."),
]
#: ``?state=``: checked by the service, so that a refusal names the field ``state`` (a
#: name Litestar keeps for the application's state, so the argument is called otherwise).
StateFilter = Annotated[
    str | None,
    QueryParameter(
        name="state",
        description="Only commissions in this state.",
        schema_extra={"enum": list(STATES)},
    ),
]


class AffiliateCommissionsController(Controller):
    """Store staff: what KOL programmes earned on the store's orders."""

    path = "/admin/affiliate-commissions"
    tags = ["admin: affiliates"]

    @get("/", opt=needs("orders:read"), operation_id="listAffiliateCommissions")
    async def list_commissions(
        self,
        request: AnyRequest,
        affiliate: AffiliateFilter = None,
        in_state: StateFilter = None,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> Page[CommissionRead]:
        """List commissions newest first, of one affiliate or in one state."""
        return await service.list_commissions(
            store_id_of(request), affiliate=affiliate, state=in_state, limit=limit, cursor=cursor
        )


ADMIN_ROUTES = [AffiliateCommissionsController]
