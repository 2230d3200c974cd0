"""Start and stop the whole local stack: Kafka, PostgreSQL (+ migrations), topics, SMTP sink.

Used by ``python -m deploy.local`` (``make up``/``down``/``status``) and by the test
fixtures, so a test run and a developer's stack are started by the same code.
"""

from __future__ import annotations

import json
import secrets
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from deploy.local import kafka, postgres, processes
from deploy.local.errors import LauncherError
from deploy.local.layout import SERVICES, RunDir, StackPorts, port_is_free, port_is_open, run_async
from deploy.local.topics import create_topics
from shared.db.migrations import MigrationError, apply_migrations, migrations_dir
from shared.kafka_security import plaintext


@dataclass(frozen=True)
class StackInfo:
    run_dir: Path
    kafka_bootstrap: str
    database_urls: dict[str, str]
    smtp_host: str
    smtp_port: int
    maildir: Path
    managed: bool = True
    """True when this code started the stack (so tests may stop and start its broker)."""
    pids: dict[str, int | None] = field(default_factory=dict)
    auth_secret: str = ""
    """The HS256 secret the services verify bearer tokens with (``make token`` signs with it)."""

    def env(self) -> dict[str, str]:
        return {**self._env(), **self.auth_env()}

    def auth_env(self) -> dict[str, str]:
        """Tokens signed with the stack's secret; ticks ahead of today allowed (this stack
        moves through a year on purpose: the demo and the tests)."""
        auth = {"ABONENT_AUTH_HS256_SECRET": self.auth_secret} if self.auth_secret else {}
        return {**auth, "CONTRACTS_ALLOW_FUTURE_TICKS": "true"}

    def _env(self) -> dict[str, str]:
        return {
            "ABONENT_KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap,
            "CONTRACTS_DATABASE_URL": self.database_urls["contracts"],
            "PROJECTIONS_DATABASE_URL": self.database_urls["projections"],
            "TICKETS_DATABASE_URL": self.database_urls["tickets"],
            "NOTIFY_DATABASE_URL": self.database_urls["notifier"],
            "NOTIFY_SMTP_HOST": self.smtp_host,
            "NOTIFY_SMTP_PORT": str(self.smtp_port),
            "NOTIFY_SMTP_TLS": "none",  # the local sink speaks plain SMTP and asks no login
            "ABONENT_MAILDIR": str(self.maildir),
            # the company's time zone: every "today" (docs/design.md §8); the demo company is in Moscow
            "ABONENT_TIMEZONE": "Europe/Moscow",
        }


def database_name(service: str) -> str:
    return f"abonent_{service}"


def auth_secret_of(run: RunDir) -> str:
    """The secret an earlier ``up`` wrote to ``stack.env`` (tokens minted then stay valid), or a new one."""
    env_file = run.root / "stack.env"
    if env_file.exists():
        for line in env_file.read_text().splitlines():
            if line.startswith("ABONENT_AUTH_HS256_SECRET="):
                return line.split("=", 1)[1]
    return secrets.token_urlsafe(48)


def info(run: RunDir, ports: StackPorts, auth_secret: str = "") -> StackInfo:
    return StackInfo(
        run_dir=run.root,
        kafka_bootstrap=ports.bootstrap,
        database_urls={s: postgres.url(ports, database_name(s), postgres.password(run)) for s in SERVICES},
        smtp_host="127.0.0.1",
        smtp_port=ports.smtp,
        maildir=run.mail,
        pids={
            **{
                "kafka" if n == 1 else f"kafka-{n}": processes.running(kafka.pidfile(run, n))
                for n in range(1, len(ports.brokers) + 1)
            },
            "postgres": postgres.pid(run),
            "smtp": processes.running(_smtp_pidfile(run)),
        },
        auth_secret=auth_secret,
    )


def _smtp_pidfile(run: RunDir) -> Path:
    return run.root / "smtp.pid"


def start_smtp(run: RunDir, ports: StackPorts) -> None:
    if processes.running(_smtp_pidfile(run)) is not None:
        return
    if not port_is_free(ports.smtp):
        raise LauncherError(f"port {ports.smtp} is in use by another program: stop it or use --smtp-port")
    log = run.root / "smtp.log"
    processes.spawn(
        [sys.executable, "-m", "deploy.local.smtp_sink", "--port", str(ports.smtp), "--maildir", str(run.mail)],
        log=log,
        pidfile=_smtp_pidfile(run),
    )
    processes.wait_for(lambda: port_is_open(ports.smtp), 20, "SMTP sink", log, _smtp_pidfile(run))


async def _prepare_databases(run: RunDir, ports: StackPorts) -> dict[str, list[str]]:
    secret = postgres.password(run)
    await postgres.create_databases(postgres.url(ports, "postgres", secret), [database_name(s) for s in SERVICES])
    return {
        s: await apply_migrations(postgres.url(ports, database_name(s), secret), migrations_dir(s)) for s in SERVICES
    }


def start_stack(
    run_dir: Path, ports: StackPorts | None = None, *, progress=print, auth_secret: str | None = None
) -> StackInfo:
    """Bring everything up (idempotent). On failure, stop what this call started, then raise.

    ``ports.more_brokers`` makes Kafka a cluster of that many more nodes, its topics with 3
    copies of each partition and ``min.insync.replicas`` 2 (:func:`kafka.replication`).
    ``auth_secret``: the HS256 token secret to write to ``stack.env`` (default: the one
    already there, else a new random one)."""
    run = RunDir(run_dir)
    ports = run.ports(ports or StackPorts())
    kafka.require_java_and_maven()
    postgres.bindir()
    started: list[str] = []
    try:
        run.save_ports(ports)
        if not postgres.is_running(run):
            progress(f"PostgreSQL: starting on 127.0.0.1:{ports.postgres}")
            postgres.start(run, ports)
            started.append("postgres")
        progress("PostgreSQL: databases and migrations")
        try:
            applied = run_async(_prepare_databases(run, ports))
        except MigrationError as exc:
            raise LauncherError(f"migrations: {exc} (a dev database can be reset with `make clean`)") from exc
        for service, versions in applied.items():
            if versions:
                progress(f"  {service}: applied {', '.join(versions)}")
        if any(processes.running(p) is None for p in kafka.pidfiles(run, ports)):
            progress("Kafka: fetching jars (cached after the first run)")
            kafka.fetch_jars()
            if ports.more_brokers:
                progress(f"Kafka: starting a KRaft cluster of {len(ports.brokers)} brokers on {ports.bootstrap}")
            else:
                progress(f"Kafka: starting KRaft broker on 127.0.0.1:{ports.kafka}")
            kafka.start(run, ports)
            started.append("kafka")
        copies = kafka.replication(len(ports.brokers))
        created = run_async(create_topics(plaintext(ports.bootstrap), copies))
        if created:
            progress(
                f"Kafka: created topics {', '.join(created)} (replication factor {copies.replication_factor}, "
                f"min.insync.replicas {copies.min_insync_replicas})"
            )
        if processes.running(_smtp_pidfile(run)) is None:
            progress(f"SMTP sink: starting on 127.0.0.1:{ports.smtp}, mail kept in {run.mail}")
            start_smtp(run, ports)
            started.append("smtp")
    except BaseException:
        _stop(run, started)
        raise
    stack = info(run, ports, auth_secret or auth_secret_of(run))
    _write_private(run.root / "stack.env", "".join(f"{k}={v}\n" for k, v in stack.env().items()))
    shown = {k: v for k, v in stack.env().items() if k != "ABONENT_AUTH_HS256_SECRET"}  # secret: stack.env only
    _write_private(run.root / "stack.json", json.dumps({**shown, "pids": stack.pids}, indent=2))
    return stack


def _write_private(path: Path, text: str) -> None:
    """Only this user may read it: the database URLs carry the password."""
    path.touch()
    path.chmod(0o600)
    path.write_text(text)


def _stop(run: RunDir, which: list[str]) -> None:
    for name in reversed(which):
        try:
            {
                "smtp": lambda: processes.stop(_smtp_pidfile(run)),
                "kafka": lambda: kafka.stop(run),
                "postgres": lambda: postgres.stop(run),
            }[name]()
        except Exception:  # noqa: BLE001 - best effort while already failing
            pass


def stop_stack(run_dir: Path, *, purge: bool = False) -> list[str]:
    """Stop exactly what the pid files name; with ``purge`` delete the data too."""
    run = RunDir(run_dir)
    stopped = []
    if processes.stop(_smtp_pidfile(run)):
        stopped.append("smtp")
    if kafka.stop(run):
        stopped.append("kafka")
    if run.pg.exists() and postgres.stop(run):
        stopped.append("postgres")
    if purge and run.root.exists():
        for child in run.root.iterdir():
            if child.name != "kafka-libs":
                shutil.rmtree(child) if child.is_dir() else child.unlink()
    return stopped


def stop_kafka(run_dir: Path) -> None:
    kafka.stop(RunDir(run_dir))


def start_kafka(run_dir: Path) -> None:
    """Start every Kafka node of the stack that is not running (all of them, or the ones a test killed)."""
    run = RunDir(run_dir)
    kafka.start(run, _ports(run))


def broker_pid(run_dir: Path, node: int) -> int | None:
    """The running pid of Kafka node ``node`` (1-based, its ``node.id``)."""
    return processes.running(kafka.pidfile(RunDir(run_dir), node))


def _ports(run: RunDir) -> StackPorts:
    ports = run.load_ports()
    if ports is None:
        raise LauncherError(f"{run.root} has no stack")
    return ports
