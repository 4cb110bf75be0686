"""Admin routes of the tax rate table."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_204_NO_CONTENT

from caravan_rate_table_tax import service
from caravan_rate_table_tax.schemas import TaxRateCreate, TaxRateRead, TaxRateUpdate
from core.plugins import Cursor, Limit, Page, needs, store_id_of

AnyRequest = Request[Any, Any, Any]
CountryFilter = Annotated[
    str | None, QueryParameter(pattern=r"^[A-Z]{2}$", description="Only rates of this country.")
]


class TaxRatesController(Controller):
    """Store staff: the rates the rate-table tax provider applies."""

    path = "/admin/tax-rates"
    tags = ["admin: tax"]

    @post("/", opt=needs("settings:write"), operation_id="createTaxRate")
    async def create_rate(self, request: AnyRequest, data: JSONBody[TaxRateCreate]) -> TaxRateRead:
        """Add a rate for a country (or subdivision) and tax category."""
        return await service.create_rate(store_id_of(request), data)

    @get("/", opt=needs("settings:read"), operation_id="listTaxRates")
    async def list_rates(
        self,
        request: AnyRequest,
        country: CountryFilter = None,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> Page[TaxRateRead]:
        """List rates, newest first."""
        return await service.list_rates(
            store_id_of(request), country=country, limit=limit, cursor=cursor
        )

    @get("/{tax_rate_id:str}", opt=needs("settings:read"), operation_id="getTaxRate")
    async def get_rate(self, request: AnyRequest, tax_rate_id: FromPath[str]) -> TaxRateRead:
        """Read one rate."""
        return await service.get_rate(store_id_of(request), tax_rate_id)

    @patch("/{tax_rate_id:str}", opt=needs("settings:write"), operation_id="updateTaxRate")
    async def update_rate(
        self, request: AnyRequest, tax_rate_id: FromPath[str], data: JSONBody[TaxRateUpdate]
    ) -> TaxRateRead:
        """Change a rate's value or name."""
        return await service.update_rate(store_id_of(request), tax_rate_id, data)

    @delete(
        "/{tax_rate_id:str}",
        opt=needs("settings:write"),
        operation_id="deleteTaxRate",
        status_code=HTTP_204_NO_CONTENT,
    )
    async def delete_rate(self, request: AnyRequest, tax_rate_id: FromPath[str]) -> None:
        """Remove a rate."""
        await service.delete_rate(store_id_of(request), tax_rate_id)
