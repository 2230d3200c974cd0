"""Operations CLI of the contracts service::

    python -m services.contracts.entrypoints.cli import-statement FILE [--actor NAME]

Imports a bank statement (1C client-bank exchange or CSV) straight into the contracts
database (``CONTRACTS_DATABASE_URL``), like ``POST /payments/import`` but without its size
limit, with a progress bar; the service's relay publishes what it records. Exits 1 when the
file cannot be imported as a whole (nothing is applied then), 0 otherwise — the rejected
lines are listed with their line numbers.
"""

from __future__ import annotations

import getpass
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import typer
import uvloop
from rich.console import Console
from rich.table import Table
from tqdm import tqdm

from services.contracts.application.statements import ImportReport, Source, check
from services.contracts.bootstrap import contracts_application, statement_import
from services.contracts.domain.statements.lines import StatementUnreadable
from services.contracts.settings import ContractsSettings
from shared.db.migrations import apply_migrations, migrations_dir
from shared.db.pool import create_pool
from shared.eventstore.records import CommandContext
from shared.logging import configure_logging
from shared.settings import load_or_exit

app = typer.Typer(help="Contracts operations.", no_args_is_help=True)
console = Console(stderr=True)
CHUNK = 256 * 1024


def file_source(path: Path) -> Source:
    """The file's bytes in pieces, read afresh on every call (the import reads it twice)."""

    def chunks() -> Iterator[bytes]:
        with path.open("rb") as f:
            while chunk := f.read(CHUNK):
                yield chunk

    return chunks


async def import_file(settings: ContractsSettings, path: Path, actor: str) -> ImportReport:
    source = file_source(path)
    checked = check(source)  # before connecting: an unreadable file touches nothing
    dsn = settings.database_url.get_secret_value()
    await apply_migrations(dsn, migrations_dir("contracts"))
    pool = await create_pool(dsn, min_size=1, max_size=4)
    calendar = settings.calendar.calendar()
    try:
        service = statement_import(pool, contracts_application(pool, settings, calendar.grace_days))
        now = datetime.now(UTC)
        ctx = CommandContext(correlation_id=f"import-{uuid.uuid4()}", actor=actor, now=now)
        with tqdm(total=checked.payments, unit="payment", desc=path.name, dynamic_ncols=True) as bar:
            return await service.run(source, ctx, calendar.latest_paid_on(now), progress=bar.update, checked=checked)
    finally:
        await pool.close()


def print_report(report: ImportReport) -> None:
    console.print(
        f"{report.payments:,} payments ({report.format}, {report.encoding}): [green]{report.matched:,} matched[/], "
        f"{report.already_imported:,} already imported, [yellow]{report.unallocated:,} unallocated[/], "
        f"[red]{report.rejected:,} rejected[/], {report.outgoing:,} outgoing"
    )
    if report.rejections:
        table = Table("line", "rule", "problem")
        for r in report.rejections:
            table.add_row(str(r.line), r.rule, r.message)
        console.print(table)


@app.callback()
def operations() -> None:
    """Contracts operations (a group, so every command keeps its name as more are added)."""


@app.command("import-statement")
def import_statement(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="the statement file"),
    actor: str = typer.Option(None, help="who imports (the actor of the events; default cli:<user>)"),
) -> None:
    """Import a bank statement: matched payments become receipts, the rest wait as unallocated."""
    settings = load_or_exit(ContractsSettings)
    configure_logging(settings.log.format, "WARNING")
    try:
        report = uvloop.run(import_file(settings, file, actor or f"cli:{getpass.getuser()}"))
    except StatementUnreadable as unreadable:
        console.print(f"[red]not imported[/] ({unreadable.rule}): {unreadable.message}")
        raise typer.Exit(1) from None
    print_report(report)


if __name__ == "__main__":
    app()
