"""The projections service's settings (``PROJECTIONS_*`` plus the shared ``ABONENT_*``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.projections.adapters.db import LIVE_PG_SCHEMA
from shared.settings import ServiceSettings
from shared.topics import PROJECTIONS_GROUP

MAX_REBUILD_WORKERS = 8
"""The default's cap, so a big host does not open dozens of Kafka readers and database
connections unless asked to (``PROJECTIONS_REBUILD_WORKERS``)."""


class ProjectionsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PROJECTIONS_", extra="ignore")

    http_port: int = 8002
    read_model_schema: str = LIVE_PG_SCHEMA
    consume: bool = True
    consumer_group: str = PROJECTIONS_GROUP
    """The Kafka consumer group. A second read model consuming the same topics beside the live
    one (a blue/green switch, a test on its own database) needs a group of its own; dead letters
    still go to the service's topic, ``abonent.projections.dlq``."""
    batch_max_records: int = 2000
    """Records applied in one transaction at most: a catch-up's batches (in step, the next one
    decoded while one is applied); live, a batch is whatever arrived meanwhile."""
    batch_timeout_ms: int = 100
    """The longest one idle poll of the consumer waits; a record arriving ends it at once."""
    min_position_wait_seconds: float = 2.0
    ready_max_lag: int | None = None
    rebuild_batch_records: int = 5000
    rebuild_workers: int = Field(default=0, ge=0)
    """Processes a rebuild's bulk replay is split over (by partition number); 0: one per CPU it may use,
    up to ``MAX_REBUILD_WORKERS``."""
    first_fill_from: int = Field(default=100_000, ge=0)
    """A read model that has consumed nothing, started while its topics hold at least this many
    records, is filled by the rebuild's bulk replay before the consumer starts (twice the live
    consumer's speed; ``application.first_fill``); 0: never, the consumer works it off live."""
    rebuild_parallel_from: int = Field(default=100_000, ge=0)
    """A bulk replay of fewer records runs in the rebuild's own process: starting a worker
    (a fresh interpreter, its imports, its Kafka and database connections) takes a second or two."""
