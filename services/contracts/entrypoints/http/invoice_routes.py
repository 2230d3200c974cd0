"""HTTP routes of invoices: issue a period's invoice, read it as JSON or as a PDF."""

from __future__ import annotations

import asyncio
from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Request, Response

from services.contracts.entrypoints.http import schemas as s
from services.contracts.entrypoints.http.deps import Calendar, Contracts
from services.contracts.entrypoints.http.views import invoice_view
from shared.auth import Role, allow
from shared.http.commands import Context
from shared.http.idempotency import IDEMPOTENT
from shared.invoices import filename, render_pdf

router = APIRouter()


@router.post(
    "/contracts/{contract_id}/periods/{period_id}/invoice",
    status_code=201,
    response_model=s.InvoiceCreated,
    tags=["invoices"],
    dependencies=[allow(Role.MANAGER, Role.ACCOUNTANT), IDEMPOTENT],
    responses={200: {"description": "the period's invoice was issued before: that one"}},
)
async def issue_invoice(
    contract_id: UUID, period_id: UUID, app: Contracts, ctx: Context, calendar: Calendar, response: Response
) -> s.InvoiceCreated:
    """Issue the period's invoice, dated today (the company's date), numbered YYYY-NNNNNN."""
    _, doc, position = await app.issue_invoice(contract_id, period_id, calendar.today(ctx.now), ctx)
    if position is None:
        response.status_code = 200
    return s.InvoiceCreated(invoice_id=doc.invoice_id, number=doc.number, position=position)


@router.get(
    "/invoices/{invoice_id}.pdf",
    tags=["invoices"],
    dependencies=[allow(Role.MANAGER, Role.ACCOUNTANT)],
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "the invoice as a PDF"}},
)
async def invoice_pdf(
    invoice_id: UUID, app: Contracts, request: Request, lang: Literal["ru", "en"] | None = None
) -> Response:
    _, doc = await app.find_invoice(invoice_id)
    locale = lang or request.app.state.invoice_locale
    pdf = await asyncio.to_thread(render_pdf, doc, locale)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename(doc, locale)}"'},
    )


@router.get(
    "/invoices/{invoice_id}",
    response_model=s.InvoiceView,
    tags=["invoices"],
    dependencies=[allow(Role.MANAGER, Role.ACCOUNTANT)],
)
async def get_invoice(
    invoice_id: UUID, app: Contracts, request: Request, lang: Literal["ru", "en"] | None = None
) -> s.InvoiceView:
    state, doc = await app.find_invoice(invoice_id)
    return invoice_view(state, doc, lang or request.app.state.invoice_locale)
