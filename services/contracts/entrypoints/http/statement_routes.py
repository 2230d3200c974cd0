"""Bank statements over HTTP: import a file, list what it could not match, allocate that by hand.

The upload is a multipart form with the field ``file``; it may be up to
``CONTRACTS_STATEMENT_MAX_BYTES`` (64 MiB by default; the request limits refuse more with
413). A file that cannot be imported as a whole is a 422 naming the line and the problem, and
nothing of it is applied; otherwise the answer counts what happened to every payment.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from uuid import UUID

from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile

from services.contracts.application.ports import KeptReceipt
from services.contracts.application.statements import StatementImport, check
from services.contracts.domain import commands as cmd
from services.contracts.domain.statements.lines import StatementUnreadable
from services.contracts.entrypoints.http import schemas as s
from services.contracts.entrypoints.http import statement_schemas as ss
from services.contracts.entrypoints.http.deps import LatestPaidOn
from services.contracts.entrypoints.http.views import receipt_view
from shared.auth import Role, allow
from shared.http.commands import Context
from shared.http.errors import ApiError
from shared.http.idempotency import IDEMPOTENT
from shared.http.paging import PageNo, PageSize, next_page, offset
from shared.money import format_amount

router = APIRouter()
CHUNK = 256 * 1024
IMPORT_PATH = "/payments/import"
UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary", "description": "the statement file"}},
            }
        }
    },
}


@router.post(
    IMPORT_PATH,
    response_model=ss.ImportAnswer,
    tags=["payments"],
    dependencies=[allow(Role.ACCOUNTANT)],
    openapi_extra={"requestBody": UPLOAD_BODY},
    responses={
        413: {"description": "body_too_large: over CONTRACTS_STATEMENT_MAX_BYTES (use the CLI for larger files)"},
        422: {"description": "the file cannot be imported as a whole (the message names the line); nothing applied"},
    },
)
async def import_statement(request: Request, ctx: Context, latest_paid_on: LatestPaidOn) -> ss.ImportAnswer:
    """Import a bank statement: 1C client-bank exchange (``1CClientBankExchange``; Windows-1251,
    DOS or UTF-8) or CSV (``date, amount, currency, payer, payer_tax_id, purpose,
    document_number``). Matched payments become receipts on their contracts; the others wait in
    ``GET /payments/unallocated``; lines that cannot be read are listed with their problem."""
    service: StatementImport = request.app.state.statements
    # read here, after the token and the role were checked (a declared File parameter would
    # be read before): Starlette spools an upload over 1 MiB to a temporary file
    form = await request.form(max_files=1, max_fields=10)
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ApiError(422, "required", "send the statement as the multipart/form-data file field 'file'", "file")
        file = upload.file

        def source() -> Iterator[bytes]:
            file.seek(0)
            while chunk := file.read(CHUNK):
                yield chunk

        try:
            checked = await asyncio.to_thread(check, source)
        except StatementUnreadable as unreadable:
            raise ApiError(422, unreadable.rule, unreadable.message, "file") from None
        report = await service.run(source, ctx, latest_paid_on, checked=checked)
    finally:
        await form.close()
    return ss.ImportAnswer(
        format=report.format,
        encoding=report.encoding,
        payments=report.payments,
        matched=report.matched,
        already_imported=report.already_imported,
        unallocated=report.unallocated,
        rejected=report.rejected,
        outgoing=report.outgoing,
        matched_by=dict(report.matched_by),
        rejections=[ss.RejectedLine(line=r.line, rule=r.rule, message=r.message) for r in report.rejections],
        position=report.position,
    )


def unallocated_view(kept: KeptReceipt) -> ss.UnallocatedReceipt:
    line = kept.line
    return ss.UnallocatedReceipt(
        id=kept.id,
        booked_on=line.booked_on,
        amount=format_amount(line.amount, line.currency),
        currency=line.currency,
        payer=line.payer,
        payer_tax_id=line.payer_tax_id,
        payer_account=line.payer_account,
        document_number=line.document_number,
        document_date=line.document_date,
        purpose=line.purpose,
        reference=kept.reference,
        reason=kept.reason,
        imported_at=kept.imported_at,
        imported_by=kept.imported_by,
    )


@router.get(
    "/payments/unallocated",
    response_model=ss.UnallocatedPage,
    tags=["payments"],
    dependencies=[allow(Role.ACCOUNTANT)],
)
async def list_unallocated(request: Request, page: PageNo = 1, page_size: PageSize = 100) -> ss.UnallocatedPage:
    """Incoming bank payments an import could not match, oldest import first, with the reason."""
    service: StatementImport = request.app.state.statements
    kept = await service.unallocated(page_size + 1, offset(page, page_size))
    return ss.UnallocatedPage(
        items=[unallocated_view(k) for k in kept[:page_size]],
        page=page,
        page_size=page_size,
        next_page=next_page(page, page_size, len(kept)),
    )


@router.post(
    "/payments/unallocated/{receipt_id}/allocate",
    status_code=201,
    response_model=s.ReceiptCreated,
    tags=["payments"],
    dependencies=[allow(Role.ACCOUNTANT), IDEMPOTENT],
    responses={409: {"description": "receipt_allocated: it was allocated already"}},
)
async def allocate(
    receipt_id: UUID, body: ss.AllocateRequest, request: Request, ctx: Context, latest_paid_on: LatestPaidOn
) -> s.ReceiptCreated:
    """Record an unallocated receipt on a contract (oldest debt first, or as ``allocations`` say)."""
    service: StatementImport = request.app.state.statements
    allocations = (
        None if body.allocations is None else [cmd.Allocation(a.period_id, a.amount) for a in body.allocations]
    )
    written = await service.allocate(receipt_id, body.contract_id, allocations, ctx, latest_paid_on)
    return receipt_view(written)
