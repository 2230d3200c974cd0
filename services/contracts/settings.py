"""The contracts service's settings (``CONTRACTS_*`` plus the shared ``ABONENT_*``)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

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
    allow_future_ticks: bool = False
    """``POST /scheduler/tick`` with an ``as_of`` after today: for stacks that move through time
    on purpose (local stack, demo, tests); a production tick ahead of time is irreversible."""
