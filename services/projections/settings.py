"""The projections service's settings (``PROJECTIONS_*`` plus the shared ``ABONENT_*``)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from services.projections.adapters.db import LIVE_PG_SCHEMA
from shared.settings import ServiceSettings


class ProjectionsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PROJECTIONS_", extra="ignore")

    http_port: int = 8002
    read_model_schema: str = LIVE_PG_SCHEMA
    consume: bool = True
    batch_max_records: int = 2000
    """Records applied in one transaction at most: a catch-up's batches (in step, the next one
    decoded while one is applied); live, a batch is whatever arrived meanwhile."""
    batch_timeout_ms: int = 100
    """The longest one idle poll of the consumer waits; a record arriving ends it at once."""
    min_position_wait_seconds: float = 2.0
    ready_max_lag: int | None = None
    rebuild_batch_records: int = 5000
