"""Where the local stack keeps its files, and which ports it uses."""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import json
import socket
from collections.abc import Coroutine
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from deploy.local.errors import LauncherError

REPO = Path(__file__).resolve().parents[2]
DEFAULT_RUN_DIR = REPO / ".run"
SERVICES = ("contracts", "projections", "tickets", "notifier")
T = TypeVar("T")


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, even when called inside an event loop."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


class BrokerPorts(NamedTuple):
    """One Kafka node's ports: its client listener and its KRaft controller listener."""

    client: int
    controller: int


@dataclass(frozen=True)
class StackPorts:
    kafka: int = 19092
    controller: int = 19093
    postgres: int = 15432
    smtp: int = 11025
    more_brokers: tuple[BrokerPorts, ...] = ()
    """Nodes 2, 3, … of a local Kafka cluster; empty: the single broker of ``kafka``/``controller``."""

    @property
    def brokers(self) -> tuple[BrokerPorts, ...]:
        """Every Kafka node's ports, node 1 first (node ids are positions from 1)."""
        return (BrokerPorts(self.kafka, self.controller), *self.more_brokers)

    @property
    def bootstrap(self) -> str:
        """Every node's client address: what clients get, so they can fail over."""
        return ",".join(f"127.0.0.1:{b.client}" for b in self.brokers)

    def with_brokers(self, count: int) -> StackPorts:
        """``count`` Kafka nodes: nodes 2, 3, … take the ports after node 1's, two each, skipping
        PostgreSQL's and the SMTP sink's (19094/19095, 19096/19097 by default)."""
        if count < 1:
            raise LauncherError(f"a Kafka cluster needs at least one broker, not {count}")
        taken = {self.postgres, self.smtp}
        candidates = (p for p in itertools.count(max(self.kafka, self.controller) + 1) if p not in taken)
        more = tuple(BrokerPorts(next(candidates), next(candidates)) for _ in range(count - 1))
        return replace(self, more_brokers=more)

    @classmethod
    def free(cls, brokers: int = 1) -> StackPorts:
        """Distinct free ports (for a test run beside a developer's stack): two per Kafka node,
        PostgreSQL's and the SMTP sink's."""
        socks = []
        try:
            for _ in range(2 + 2 * brokers):
                s = socket.socket()
                s.bind(("127.0.0.1", 0))
                socks.append(s)
            kafka, controller, postgres, smtp, *more = (s.getsockname()[1] for s in socks)
            pairs = tuple(BrokerPorts(more[i], more[i + 1]) for i in range(0, len(more), 2))
            return cls(kafka, controller, postgres, smtp, pairs)
        finally:
            for s in socks:
                s.close()

    @classmethod
    def from_json(cls, saved: dict[str, Any]) -> StackPorts:
        more = tuple(BrokerPorts(*pair) for pair in saved.pop("more_brokers", ()))
        return cls(**saved, more_brokers=more)


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def port_is_open(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


@dataclass(frozen=True)
class RunDir:
    root: Path

    @property
    def kafka(self) -> Path:
        return self.root / "kafka"

    @property
    def pg(self) -> Path:
        return self.root / "pg"

    @property
    def mail(self) -> Path:
        return self.root / "mail"

    @property
    def ports_file(self) -> Path:
        return self.root / "ports.json"

    def save_ports(self, ports: StackPorts) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.ports_file.write_text(json.dumps(asdict(ports)))

    def load_ports(self) -> StackPorts | None:
        if not self.ports_file.exists():
            return None
        return StackPorts.from_json(json.loads(self.ports_file.read_text()))

    def ports(self, wanted: StackPorts) -> StackPorts:
        """The ports this run dir already uses, or ``wanted`` for a new one."""
        saved = self.load_ports()
        if saved is not None and saved != wanted and wanted != StackPorts():
            raise LauncherError(
                f"{self.root} already runs on other ports ({saved}); use `down --purge` or another --run-dir"
            )
        return saved or wanted
