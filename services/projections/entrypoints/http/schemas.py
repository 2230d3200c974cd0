"""Response bodies of the projections API (docs/design.md §5 "Wire shapes"; fields may grow, not change).

Money is a two-decimal string with its ISO 4217 currency. ``total_owed`` is a string when
everything owed is in one currency (``"0.00"`` when nothing is owed) and ``null`` when
several currencies are owed; ``totals`` always lists every currency.
"""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from shared.owed import PaymentTerms


class Freshness(BaseModel):
    position: int | None = Field(description="highest contracts-store position this answer reflects")
    stale: bool = Field(
        description="min_position was asked for and not reached within the wait, or (for one client) "
        "the client's events stopped being applied at an event that cannot be"
    )
    stale_reason: str | None = Field(None, description="why the answer is stale (null when it is not)")


class WarningOut(BaseModel):
    code: Literal["CURRENT_PERIOD_UNPAID", "OVERDUE_PERIODS", "NO_ACTIVE_PERIOD"]
    message: str


class MoneyOut(BaseModel):
    amount: str
    currency: str


class OwedPeriodOut(BaseModel):
    contract_id: UUID
    period_id: UUID
    starts_on: date
    ends_on: date
    payment_terms: PaymentTerms
    due_on: date
    amount_due: str
    currency: str
    days_overdue: int


class ActivePeriodOut(BaseModel):
    contract_id: UUID
    contract_number: str
    period_id: UUID
    starts_on: date
    ends_on: date
    payment_terms: PaymentTerms
    amount: str
    paid_amount: str
    paid: bool
    currency: str


class CoverageOut(Freshness):
    client_id: UUID
    on: date
    status: Literal["covered", "unpaid", "not_covered"]
    active_period: ActivePeriodOut | None
    owed: list[OwedPeriodOut]
    total_owed: str | None
    currency: str | None = Field(description="currency of total_owed; null if none or several")
    totals: list[MoneyOut]
    warnings: list[WarningOut]


class PeriodOut(BaseModel):
    period_id: UUID
    starts_on: date
    ends_on: date
    amount: str
    currency: str
    payment_terms: PaymentTerms
    remind_on: date | None
    paid_amount: str
    paid: bool
    due_on: date


class ContractOut(BaseModel):
    contract_id: UUID
    client_id: UUID
    number: str
    title: str
    signed_on: date | None
    status: Literal["active", "terminated"]
    terminated_on: date | None
    matched_periods: list[PeriodOut]


class ContractsOut(Freshness):
    items: list[ContractOut]
    page: int
    page_size: int
    next_page: int | None = Field(description="the page to ask for next; null on the last")


class DebtorOut(BaseModel):
    client_id: UUID
    client_name: str | None
    total_owed: str
    currency: str
    periods: list[OwedPeriodOut]
    ageing: dict[str, str] = Field(description='amount owed by days overdue: "0-30", "31-60", "61-90", "90+"')


class DebtorsOut(Freshness):
    on: date
    items: list[DebtorOut] = Field(description="one item per client and currency, by client name")
    page: int
    page_size: int
    next_page: int | None = Field(
        description="the page to ask for next; null on the last, and with after (follow next_after)"
    )
    next_after: str | None = Field(
        description="a cursor: ask with after=<it> for the next page (as cheap as the first); null on the last"
    )


class MonthOut(BaseModel):
    month: str = Field(examples=["2026-04"])
    currency: str | None
    due: str
    received: str
    outstanding: str


class IncomeOut(Freshness):
    months: list[MonthOut]


class ClientOut(BaseModel):
    client_id: UUID
    name: str | None
    manager_name: str | None
    manager_email: str | None


class ClientsOut(BaseModel):
    items: list[ClientOut]
    page: int
    page_size: int
    next_page: int | None


class ClientAnswer(ClientOut, Freshness):
    pass
