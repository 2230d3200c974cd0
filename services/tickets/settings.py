"""The tickets service's settings (``TICKETS_*`` plus the shared ``ABONENT_*``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from services.tickets.application.tickets import STATE_CACHE_SIZE
from shared.settings import ServiceSettings


class TicketsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TICKETS_", extra="ignore")

    http_port: int = 8003
    run_relay: bool = True
    """Publish the outbox from this process (several replicas may: one publishes at a time)."""
    projections_url: str = "http://127.0.0.1:8002"
    coverage_timeout_seconds: float = Field(0.3, gt=0)
    """Deadline of one coverage lookup; past it the ticket is registered with coverage unknown."""
    coverage_wait_timeout_seconds: float = Field(3.0, gt=0)
    """Deadline when the request passes ``min_position`` (projections wait for it, bounded)."""
    coverage_breaker_failures: int = Field(3, ge=1)
    """Failed lookups in a row that open the circuit (no calls to projections meanwhile)."""
    coverage_breaker_reset_seconds: float = Field(5.0, gt=0)
    """How long the circuit stays open before one trial lookup is let through."""
    coverage_max_connections: int = Field(50, ge=1)
    projections_token: SecretStr | None = None
    """A static ``service``-role token for projections (installations whose SSO issues it);
    unset: this service mints its own from ``ABONENT_AUTH_HS256_SECRET``, renewed before expiry."""
    not_covered_policy: Literal["warn", "block"] = "warn"
    """``block``: refuse tickets for clients without coverage unless an override reason is given."""
    state_cache_size: int = Field(default=STATE_CACHE_SIZE, ge=0)
    """Tickets whose last state the process keeps, so a change to one starts without reading its
    stream; 0: every change reads its stream."""
