"""``python -m deploy.local up|down|status``: the local stack for development and the demo."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from deploy.local import api, kafka, postgres, processes, services
from deploy.local.errors import LauncherError
from deploy.local.layout import DEFAULT_RUN_DIR, RunDir, StackPorts, port_is_open

app = typer.Typer(add_completion=False, help=__doc__)
console = Console()
RUN_DIR = typer.Option(DEFAULT_RUN_DIR, "--run-dir", envvar="ABONENT_RUN_DIR", help="where data, logs and pids live")


def _fail(exc: LauncherError) -> None:
    console.print(f"[bold red]error:[/] {exc}", highlight=False)
    raise typer.Exit(1)


@app.command()
def up(
    run_dir: Path = RUN_DIR,
    kafka_port: int = typer.Option(19092, envvar="ABONENT_KAFKA_PORT"),
    controller_port: int = typer.Option(19093, envvar="ABONENT_KAFKA_CONTROLLER_PORT"),
    pg_port: int = typer.Option(15432, envvar="ABONENT_PG_PORT"),
    smtp_port: int = typer.Option(11025, envvar="ABONENT_SMTP_PORT"),
    brokers: int = typer.Option(
        1,
        min=1,
        envvar="ABONENT_KAFKA_BROKERS",
        help="Kafka nodes: 3 makes a local cluster (nodes 2 and 3 on the next ports, topics with "
        "3 copies and min.insync.replicas 2); a run dir keeps the size it was made with",
    ),
) -> None:
    """Start Kafka, PostgreSQL (databases + migrations), topics and the SMTP sink; idempotent."""
    try:
        api.start_stack(
            run_dir,
            StackPorts(kafka_port, controller_port, pg_port, smtp_port).with_brokers(brokers),
            progress=lambda m: console.print(f"[cyan]•[/] {m}", highlight=False),
        )
    except LauncherError as exc:
        _fail(exc)
    status(run_dir)


@app.command()
def down(run_dir: Path = RUN_DIR, purge: bool = typer.Option(False, help="also delete data and mail")) -> None:
    """Stop exactly the processes this launcher started (by their pid files)."""
    try:
        stopped = api.stop_stack(run_dir, purge=purge)
    except LauncherError as exc:
        _fail(exc)
    console.print(f"stopped: {', '.join(stopped) or 'nothing was running'}" + (" (data purged)" if purge else ""))


@app.command()
def status(run_dir: Path = RUN_DIR) -> None:
    """What runs, where, with which pid, and whether it answers."""
    run = RunDir(run_dir)
    ports = run.load_ports()
    if ports is None:
        console.print(f"no stack in {run_dir}; start one with `make up`")
        raise typer.Exit(1)
    table = Table(title=f"Abonent local stack ({run_dir})")
    for col in ("part", "pid", "address", "answers", "log / data"):
        table.add_column(col)
    rows = [
        (
            "Kafka (KRaft)" if len(ports.brokers) == 1 else f"Kafka node {n}",
            processes.running(kafka.pidfile(run, n)),
            f"127.0.0.1:{broker.client}",
            broker.client,
            f"{kafka.node_dir(run, n) / 'kafka.log'}",
        )
        for n, broker in enumerate(ports.brokers, start=1)
    ]
    rows += [
        (
            "PostgreSQL",
            postgres.pid(run) if postgres.is_running(run) else None,
            f"127.0.0.1:{ports.postgres}",
            ports.postgres,
            f"{run.pg / 'postgres.log'}",
        ),
        (
            "SMTP sink",
            processes.running(run.root / "smtp.pid"),
            f"127.0.0.1:{ports.smtp}",
            ports.smtp,
            f"mail in {run.mail}",
        ),
    ]
    healthy = True
    for name, pid, address, port, where in rows:
        ok = pid is not None and port_is_open(port)
        healthy &= ok
        table.add_row(name, str(pid or "-"), address, "[green]yes[/]" if ok else "[red]no[/]", where)
    console.print(table)
    console.print(f"environment for the services: {run.root / 'stack.env'}")
    if not healthy:
        raise typer.Exit(1)


def _stack_env(run_dir: Path) -> dict[str, str]:
    env_file = run_dir / "stack.env"
    if not env_file.exists():
        raise LauncherError(f"no stack in {run_dir}: run `make up` first")
    return dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)


@app.command("services-up")
def services_up(
    run_dir: Path = RUN_DIR,
    replicas: int = typer.Option(
        1,
        min=1,
        envvar="ABONENT_REPLICAS",
        help="processes of contracts, projections and tickets each: replica n on the service's port "
        "+ 10·(n−1) (contracts-2 on 8011, projections-2 on 8012, tickets-2 on 8013)",
    ),
) -> None:
    """Start contracts, projections, tickets, notifier and the scheduler in the background."""
    try:
        found = services.start_services(
            run_dir,
            _stack_env(run_dir),
            services.default_ports(replicas),
            progress=lambda m: console.print(f"[cyan]•[/] {m}", highlight=False),
        )
    except LauncherError as exc:
        _fail(exc)
    for name, url in found.items():
        console.print(f"  {name:<14} {url}  (API docs: {url}/docs)")
    console.print(f"  logs: {run_dir / 'services'}/*.log")


@app.command("services-down")
def services_down(run_dir: Path = RUN_DIR) -> None:
    """Stop the services started by services-up (by pid)."""
    stopped = services.stop_services(run_dir)
    console.print(f"stopped: {', '.join(stopped) or 'no service was running'}")


@app.command("services-status")
def services_status(run_dir: Path = RUN_DIR) -> None:
    """Which services run, with which pid."""
    for name, pid in services.service_pids(run_dir).items():
        console.print(f"  {name:<14} {'pid ' + str(pid) if pid else '[red]not running[/]'}")
