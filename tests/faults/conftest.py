"""The whole system as processes for the fault suite: the four services, the scheduler and a
standalone outbox relay beside the contracts service's own, on a stack of the suite's own whose
Kafka is a cluster of three brokers (topics with 3 copies, ``min.insync.replicas`` 2; every
client is given all three addresses).

Module-scoped like the e2e system: stopped when the suite ends, so its consumer groups do
not share partitions with the in-process services of the integration tests that run later.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from deploy.local import api, processes
from deploy.local.layout import REPO, StackPorts
from deploy.local.services import SERVICES, service_env, start_services, stop_services


@dataclass
class System:
    run_dir: Path
    env: dict[str, str]
    ports: dict[str, int]
    urls: dict[str, str] = field(default_factory=dict)

    @property
    def folder(self) -> Path:
        return self.run_dir / "services"

    def pidfile(self, name: str) -> Path:
        return self.folder / f"{name}.pid"

    def start(self) -> None:
        """Start whatever is not running (each HTTP service until it is ready)."""
        self.urls = start_services(self.run_dir, self.env, self.ports, progress=lambda _: None)
        if processes.running(self.pidfile("relay")) is None:
            processes.spawn(
                [sys.executable, "-m", "shared.outbox", "--database-url", self.env["CONTRACTS_DATABASE_URL"]],
                log=self.folder / "relay.log",
                pidfile=self.pidfile("relay"),
                env={**os.environ, **service_env(self.env, self.ports), "ABONENT_LOG_FORMAT": "json"},
                cwd=REPO,
            )

    def stop(self) -> None:
        processes.stop(self.pidfile("relay"))
        stop_services(self.run_dir)


PROCESSES = (*(s.name for s in SERVICES if s.name != "console"), "relay")
"""Every process that keeps or moves data; the console (pages over the APIs, no data of its own)
is not started here."""


BROKERS = 3


@pytest.fixture(scope="session")
def stack() -> Iterator[api.StackInfo]:
    """Always started here by the launcher, whatever the rest of the tests use: the suite kills
    brokers and stops PostgreSQL, so it needs processes it owns, and a cluster to lose a broker of."""
    run_dir = Path(tempfile.mkdtemp(prefix="abonent-faults-"))
    info = api.start_stack(
        run_dir,
        StackPorts.free(brokers=BROKERS),
        progress=lambda _: None,
        auth_secret=os.environ["ABONENT_AUTH_HS256_SECRET"],  # set by tests/conftest.py: tokens verify
    )
    try:
        yield info
    finally:
        api.stop_stack(run_dir)
        keep_logs(run_dir, LOGS)
        api.stop_stack(run_dir, purge=True)


LOGS = REPO / ".run" / "fault-suite-logs"
"""The last run's logs (every service, broker and the database), kept for a failure's post-mortem."""


def keep_logs(run_dir: Path, to: Path) -> None:
    shutil.rmtree(to, ignore_errors=True)
    for log in run_dir.rglob("*.log"):
        if "data" in log.relative_to(run_dir).parts:  # Kafka's log segments, PostgreSQL's files
            continue
        target = to / log.relative_to(run_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(log, target)


@pytest.fixture(scope="module")
def system(stack: api.StackInfo) -> Iterator[System]:
    free = StackPorts.free()
    ports = {"contracts": free.kafka, "projections": free.controller, "tickets": free.postgres, "notifier": free.smtp}
    ports["scheduler"] = StackPorts.free().kafka  # its probes and metrics (without a port it is not started)
    env = {
        **stack.env(),
        "NOTIFY_GENERAL_EMAIL": "faults-desk@example.com",
        "NOTIFY_RETRY_INITIAL_SECONDS": "0.5",
        "NOTIFY_RETRY_MAX_SECONDS": "2",
        "NOTIFY_MAX_ATTEMPTS": "40",
        "CONTRACTS_SCHEDULER_INTERVAL_SECONDS": "2",
        # No automatic invoices: each is a PDF (~0.6 s of CPU), and the ~500 of a run kept the
        # notifier busy for minutes after the load on 2 shared cores, behind which the notices
        # the suite checks waited. Invoices and their e-mails have their own tests.
        "CONTRACTS_INVOICE_DAYS_BEFORE_DUE": "",
    }
    system = System(stack.run_dir, env, ports)
    system.start()
    try:
        yield system
    finally:
        system.stop()
