"""Bodies of the bank-statement routes (``POST /payments/import``, the unallocated receipts)."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, Field

from services.contracts.entrypoints.http.schemas import AllocationRequest, Request


class RejectedLine(BaseModel):
    line: int = Field(description="the line of the file where the problem is (1 = the first)")
    rule: str
    message: str


class ImportAnswer(BaseModel):
    format: str = Field(description="1c (1CClientBankExchange) or csv")
    encoding: str
    payments: int = Field(description="documents (1C) or rows (CSV) in the file")
    matched: int = Field(description="recorded as receipts on the contracts they pay")
    already_imported: int = Field(description="imported before (the same bank document): nothing recorded")
    unallocated: int = Field(description="kept as unallocated receipts: GET /payments/unallocated")
    rejected: int = Field(description="lines that could not be read: listed in rejections")
    outgoing: int = Field(description="money out or between our accounts: not imported")
    matched_by: dict[str, int] = Field(description="matched payments by the rule that matched them")
    rejections: list[RejectedLine] = Field(description="each rejected line with its problem (the first 1000)")
    position: int | None = Field(
        default=None,
        description="the position of the last event the import wrote (null: none); it spans clients, so a read "
        "about one client waits for that client's own last position (GET /contracts/{id}/events)",
    )


class UnallocatedReceipt(BaseModel):
    id: UUID
    booked_on: date
    amount: str
    currency: str
    payer: str
    payer_tax_id: str | None
    payer_account: str | None
    document_number: str
    document_date: date
    purpose: str
    reference: str = Field(description="the reference the receipt is recorded under once allocated")
    reason: str | None = Field(description="why the import could not match it")
    imported_at: datetime
    imported_by: str


class UnallocatedPage(BaseModel):
    items: list[UnallocatedReceipt]
    page: int
    page_size: int
    next_page: int | None


class AllocateRequest(Request):
    contract_id: UUID
    allocations: list[AllocationRequest] | None = Field(
        default=None,
        max_length=1000,
        description="how much goes to which period (must add up to the receipt); omit to pay the oldest owed first",
    )
