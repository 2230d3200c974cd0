"""Operations CLI::

    python -m services.projections.entrypoints.cli rebuild   # replay all events, swap in
    python -m services.projections.entrypoints.cli check     # replay into scratch, compare

Both read ``PROJECTIONS_DATABASE_URL`` and ``ABONENT_KAFKA_BOOTSTRAP_SERVERS`` like the
service. ``check`` exits 1 when the live read model differs from a fresh replay.
"""

from __future__ import annotations

import typer
import uvloop
from rich.console import Console
from rich.table import Table
from tqdm import tqdm

from services.projections.application.rebuild import RebuildReport
from services.projections.bootstrap import create_rebuild
from services.projections.settings import ProjectionsSettings
from shared.logging import configure_logging
from shared.runtime import tune_gc
from shared.settings import load_or_exit

app = typer.Typer(help="Projections read-model operations.", no_args_is_help=True)
console = Console(stderr=True)


def _run(swap: bool, batch: int | None, workers: int | None) -> RebuildReport:
    settings = load_or_exit(ProjectionsSettings)
    configure_logging(settings.log.format, "WARNING")
    if batch:
        settings.rebuild_batch_records = batch
    if workers:
        settings.rebuild_workers = workers
    rebuild = create_rebuild(settings)
    tune_gc()
    bar = tqdm(total=0, unit="ev", unit_scale=True, desc="replaying", dynamic_ncols=True)

    def progress(done: int, total: int) -> None:
        if total != bar.total:
            bar.total = total
        bar.update(done)

    try:
        # uvloop, as the live consumer runs on: asyncio's Python transports are slower
        return uvloop.run(rebuild.run(swap=swap, progress=progress))
    finally:
        bar.close()


def _summary(report: RebuildReport) -> None:
    console.print(
        f"[bold]{report.read:,}[/] events read in {report.seconds:.1f} s "
        f"({report.events_per_second:,.0f} ev/s): {report.applied:,} applied, "
        f"{report.skipped:,} duplicates skipped, {report.parked:,} parked, "
        f"{report.dead_letters:,} undecodable"
        + (
            f"; the bulk replay in {report.workers} processes, each at most {report.peak_worker_rss_mb:,.0f} MB RSS"
            if report.workers > 1
            else ""
        )
    )


WORKERS = typer.Option(None, help="processes the bulk replay is split over (default: one per core)")


@app.command()
def rebuild(batch: int = typer.Option(None, help="records per transaction"), workers: int = WORKERS) -> None:
    """Replay every event from offset 0 into a fresh schema and swap it in, no downtime."""
    report = _run(swap=True, batch=batch, workers=workers)
    _summary(report)
    console.print(f"[green]swapped in[/] the rebuilt read model ({report.pg_schema})")


@app.command()
def check(batch: int = typer.Option(None, help="records per transaction"), workers: int = WORKERS) -> None:
    """Replay into a scratch schema up to the live offsets and compare with the live read model."""
    report = _run(swap=False, batch=batch, workers=workers)
    _summary(report)
    table = Table("table", "only in live", "only in rebuild", "examples")
    for d in report.differences:
        table.add_row(d.table, str(d.only_live), str(d.only_rebuilt), ", ".join(d.samples) or "-")
    console.print(table)
    differing = [d.table for d in report.differences if d.differs]
    if differing:
        console.print(f"[red]the live read model differs[/] in: {', '.join(differing)}")
        raise typer.Exit(1)
    console.print("[green]no differences[/]")


if __name__ == "__main__":
    app()
