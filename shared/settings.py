"""Settings shared by every service, read from the environment (pydantic-settings).

Prefixes: ``ABONENT_`` for what all services share (Kafka, logging, ``ABONENT_AUTH_`` for
bearer tokens), and one prefix per
service for its own (``CONTRACTS_``, ``PROJECTIONS_``, ``TICKETS_``, ``NOTIFY_``). Only a
service's ``bootstrap.py`` builds these; everything else receives values.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, Self, TypeVar

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.auth.settings import AuthSettings
from shared.calendar import CalendarSettings, calendar_settings

S = TypeVar("S", bound=BaseSettings)

KafkaProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]


class KafkaSettings(BaseSettings):
    """Where the cluster is and how every client (producer, consumer, admin) proves itself.

    ``shared.kafka_security`` turns these into client options, in one place for every client.
    """

    # An error must not echo the inputs: they hold the SASL password.
    model_config = SettingsConfigDict(env_prefix="ABONENT_KAFKA_", extra="ignore", hide_input_in_errors=True)

    bootstrap_servers: str = "127.0.0.1:19092"
    client_id_prefix: str = "abonent"
    security_protocol: KafkaProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: Path | None = Field(None, description="PEM CA bundle; default: the system's")
    ssl_certfile: Path | None = Field(None, description="PEM client certificate (mutual TLS)")
    ssl_keyfile: Path | None = Field(None, description="PEM private key of ssl_certfile")
    ssl_key_password: SecretStr | None = None

    @property
    def uses_tls(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")

    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol.startswith("SASL_")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        env = "ABONENT_KAFKA_"
        protocol = f"{env}SECURITY_PROTOCOL={self.security_protocol}"
        if self.uses_sasl and (not self.sasl_username or self.sasl_password is None):
            raise ValueError(f"{protocol} needs {env}SASL_USERNAME and {env}SASL_PASSWORD")
        if not self.uses_sasl and (self.sasl_username or self.sasl_password is not None):
            raise ValueError(
                f"{env}SASL_USERNAME/PASSWORD are set but {protocol} does not "
                "authenticate with SASL: use SASL_SSL (or SASL_PLAINTEXT)"
            )
        files = {"SSL_CAFILE": self.ssl_cafile, "SSL_CERTFILE": self.ssl_certfile, "SSL_KEYFILE": self.ssl_keyfile}
        given = [name for name, path in files.items() if path is not None]
        if given and not self.uses_tls:
            raise ValueError(f"{env}{given[0]} is set but {protocol} does not use TLS: use SSL or SASL_SSL")
        if (self.ssl_certfile is None) != (self.ssl_keyfile is None):
            raise ValueError(f"{env}SSL_CERTFILE and {env}SSL_KEYFILE go together (mutual TLS)")
        for name, path in files.items():
            if path is not None and not path.is_file():
                raise ValueError(f"{env}{name}: no such file: {path}")
        return self


class LogSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ABONENT_LOG_", extra="ignore")

    format: Literal["console", "json"] = "console"
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class ServiceSettings(BaseSettings):
    """What every service has: its database, Kafka and logging. Subclasses set the prefix."""

    # Subclasses inherit it: a settings error never echoes the DSN or a password.
    model_config = SettingsConfigDict(extra="ignore", hide_input_in_errors=True)

    database_url: SecretStr = Field(description="postgresql://user[:password]@host:port/db")
    http_host: str = "127.0.0.1"
    http_port: int
    db_pool_min: int = 2
    db_pool_max: int = 10
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)  # from ABONENT_AUTH_*
    calendar: CalendarSettings = Field(default_factory=calendar_settings)
    """The company's time zone and day counts (``ABONENT_TIMEZONE``, ``ABONENT_GRACE_DAYS``, …)."""


def load_or_exit(factory: Callable[..., S], **values: Any) -> S:
    """Build a process's settings; bad ones stop it with one line naming each problem (and
    never a value: they may be secrets)."""
    try:
        return factory(**values)
    except ValidationError as exc:
        prefix = str(getattr(factory, "model_config", {}).get("env_prefix", ""))

        def where(loc: tuple[int | str, ...]) -> str:  # a model-wide rule names its variables
            if len(loc) == 1 and prefix:
                return f"{prefix}{str(loc[0]).upper()}: "
            return ".".join(str(part) for part in loc) + ": " if loc else ""

        problems = "; ".join(
            f"{where(error['loc'])}{error['msg'].removeprefix('Value error, ')}" for error in exc.errors()
        )
        sys.exit(f"configuration error: {problems}")
