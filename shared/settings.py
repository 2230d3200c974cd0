"""Settings shared by every service, read from the environment (pydantic-settings).

Prefixes: ``ABONENT_`` for what all services share (Kafka, logging), and one prefix per
service for its own (``CONTRACTS_``, ``PROJECTIONS_``, ``TICKETS_``, ``NOTIFY_``). Only a
service's ``bootstrap.py`` builds these; everything else receives values.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.calendar import CalendarSettings, calendar_settings


class KafkaSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ABONENT_KAFKA_", extra="ignore")

    bootstrap_servers: str = "127.0.0.1:19092"
    client_id_prefix: str = "abonent"


class LogSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ABONENT_LOG_", extra="ignore")

    format: Literal["console", "json"] = "console"
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class ServiceSettings(BaseSettings):
    """What every service has: its database, Kafka and logging. Subclasses set the prefix."""

    model_config = SettingsConfigDict(extra="ignore")

    database_url: SecretStr = Field(description="postgresql://user[:password]@host:port/db")
    http_host: str = "127.0.0.1"
    http_port: int
    db_pool_min: int = 2
    db_pool_max: int = 10
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    calendar: CalendarSettings = Field(default_factory=calendar_settings)
    """The company's time zone and day counts (``ABONENT_TIMEZONE``, ``ABONENT_GRACE_DAYS``, …)."""
