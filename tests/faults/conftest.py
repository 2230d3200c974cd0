"""The whole system as processes for the fault suite: the four services, the scheduler and a
standalone outbox relay beside the contracts service's own, on the test session's stack.

Module-scoped like the e2e system: stopped when the suite ends, so its consumer groups do
not share partitions with the in-process services of the integration tests that run later.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from deploy.local import processes
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


@pytest.fixture(scope="module")
def system(stack) -> Iterator[System]:
    if not getattr(stack, "managed", False):
        pytest.skip("the fault suite kills the broker and stops PostgreSQL: it needs the stack this session started")
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
    }
    system = System(stack.run_dir, env, ports)
    system.start()
    try:
        yield system
    finally:
        system.stop()
