"""HTTP routes for the price list."""

from __future__ import annotations

from fastapi import APIRouter, Response

from services.tickets.entrypoints.http import schemas as s
from services.tickets.entrypoints.http import views
from services.tickets.entrypoints.http.deps import PriceLists
from shared.auth import Role, allow
from shared.http.idempotency import IDEMPOTENT
from shared.http.paging import MAX_PAGE_SIZE, PageNo, PageSize, slice_page

router = APIRouter(tags=["price list"])


@router.post(
    "/price-list",
    status_code=201,
    response_model=s.PriceItemOut,
    responses={200: {"description": "an item with this code existed: it was replaced"}},
    dependencies=[allow(Role.ADMIN), IDEMPOTENT],
)
async def define_price_item(
    body: s.DefinePriceItemRequest, price_list: PriceLists, response: Response
) -> s.PriceItemOut:
    """Create an item, or replace the one with the same code (201 created, 200 replaced)."""
    stored, created = await price_list.define(body.code, body.name, body.unit, body.price, body.currency, body.active)
    if not created:
        response.status_code = 200
    return views.price_item(stored)


@router.get("/price-list", response_model=s.PriceListOut, dependencies=[allow(Role.DISPATCHER, Role.MANAGER)])
async def list_price_items(
    price_list: PriceLists, active: bool | None = None, page: PageNo = 1, page_size: PageSize = MAX_PAGE_SIZE
) -> s.PriceListOut:
    """Items by code (page_size defaults to the most: a usual price list is one page)."""
    shown, next_page = slice_page(await price_list.items(active), page, page_size)
    return s.PriceListOut(
        items=[views.price_item(x) for x in shown], page=page, page_size=page_size, next_page=next_page
    )
