"""One command line for every service: ``python -m services.<name>`` serves its HTTP API (and
whatever runs beside it), ``python -m services.<name> migrate`` applies its SQL migrations and
exits — what a Kubernetes Job or compose's one-shot ``migrate`` service runs before an upgrade.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import typer
import uvloop
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.db.migrations import MigrationError, apply_migrations, migrations_dir
from shared.logging import configure_logging, get_logger
from shared.settings import LogSettings, ServiceSettings, load_or_exit


def service_cli(
    name: str,
    settings_class: type[ServiceSettings],
    create_app: Callable[[Any], Any],
    *,
    what: str,
) -> typer.Typer:
    """``name``: the package under ``services/`` (its ``migrations/`` folder); ``what``: one line
    for ``--help``."""
    prefix = str(settings_class.model_config.get("env_prefix", ""))
    cli = typer.Typer(add_completion=False)

    @cli.callback(
        invoke_without_command=True,
        help=f"{what} With no command: serve on {prefix}HTTP_HOST:{prefix}HTTP_PORT. "
        f"Settings: {prefix}* and ABONENT_* variables.",
    )
    def serve(ctx: typer.Context) -> None:
        if ctx.invoked_subcommand is not None:
            return
        from shared.http.server import serve as run_server  # uvicorn only where it serves

        settings = load_or_exit(settings_class)
        run_server(create_app(settings), settings.http_host, settings.http_port)

    @cli.command(
        help=f"Apply the service's forward-only SQL migrations to {prefix}DATABASE_URL, then exit. "
        "Safe beside running replicas and from several places at once (an advisory lock; a file "
        "already applied is skipped, one changed after it was applied is refused)."
    )
    def migrate() -> None:
        database = load_or_exit(_database_settings(prefix))
        log = load_or_exit(LogSettings)
        configure_logging(log.format, log.level)
        try:
            applied = uvloop.run(apply_migrations(database.database_url.get_secret_value(), migrations_dir(name)))
        except MigrationError as exc:
            sys.exit(f"migrate {name}: {exc}")
        get_logger(name).info("migrations applied", service=name, applied=applied)

    return cli


class DatabaseSettings(BaseSettings):
    """Only ``<prefix>DATABASE_URL``: migrating needs no Kafka, tokens or calendar settings, so
    a Job can run it before anything else of the release exists."""

    model_config = SettingsConfigDict(extra="ignore", hide_input_in_errors=True)
    database_url: SecretStr


def _database_settings(prefix: str) -> type[DatabaseSettings]:
    class Prefixed(DatabaseSettings):
        model_config = SettingsConfigDict(env_prefix=prefix, extra="ignore", hide_input_in_errors=True)

    return Prefixed
