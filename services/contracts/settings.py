"""The contracts service's settings (``CONTRACTS_*`` plus the shared ``ABONENT_*``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.contracts.application.commands import STATE_CACHE_SIZE
from services.contracts.domain.commands import CompanyDetails
from shared.settings import ServiceSettings


class ContractsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CONTRACTS_", extra="ignore")

    http_port: int = 8001
    run_relay: bool = True
    """Publish the outbox from this process (several replicas may: one publishes at a time)."""
    scheduler_interval_seconds: float = 60.0
    scheduler_batch: int = 500
    statement_max_bytes: int = 64 * 1024 * 1024
    """The largest bank statement ``POST /payments/import`` takes (larger ones: the CLI)."""
    scheduler_http_port: int = 8005
    """Where the scheduler process answers ``/health/*`` and ``/metrics`` (on ``CONTRACTS_HTTP_HOST``)."""
    allow_future_ticks: bool = False
    """``POST /scheduler/tick`` with an ``as_of`` after today: for stacks that move through time
    on purpose (local stack, demo, tests); a production tick ahead of time is irreversible."""

    company_name: str = "Abonent"
    """The company that issues the invoices (the seller printed on each), with its taxpayer
    number (ИНН: also names its invoice numbering), address and bank details (one text)."""
    company_tax_id: str | None = None
    company_address: str | None = None
    company_bank_account: str | None = None
    invoice_days_before_due: int | None = Field(default=None, ge=0, le=366)
    """Issue each period's invoice this many days before it falls due (None: only by hand)."""
    invoice_locale: Literal["ru", "en"] = "ru"
    """The language of ``GET /invoices/{id}.pdf`` when the request names none."""
    state_cache_size: int = Field(default=STATE_CACHE_SIZE, ge=0)
    """Clients and contracts (each) whose last state the process keeps, so a command on one
    of them starts without reading its stream; 0: every command reads its stream."""

    def company(self) -> CompanyDetails:
        return CompanyDetails(self.company_name, self.company_tax_id, self.company_address, self.company_bank_account)
