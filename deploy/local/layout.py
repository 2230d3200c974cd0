"""Where the local stack keeps its files, and which ports it uses."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import socket
from collections.abc import Coroutine
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

from deploy.local.errors import LauncherError

REPO = Path(__file__).resolve().parents[2]
DEFAULT_RUN_DIR = REPO / ".run"
SERVICES = ("contracts", "projections", "tickets", "notifier")
T = TypeVar("T")


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, even when called inside an event loop."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


@dataclass(frozen=True)
class StackPorts:
    kafka: int = 19092
    controller: int = 19093
    postgres: int = 15432
    smtp: int = 11025

    @classmethod
    def free(cls) -> StackPorts:
        """Four distinct free ports (for a test run beside a developer's stack)."""
        socks = []
        try:
            for _ in range(4):
                s = socket.socket()
                s.bind(("127.0.0.1", 0))
                socks.append(s)
            return cls(*(s.getsockname()[1] for s in socks))
        finally:
            for s in socks:
                s.close()


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
        return StackPorts(**json.loads(self.ports_file.read_text()))

    def ports(self, wanted: StackPorts) -> StackPorts:
        """The ports this run dir already uses, or ``wanted`` for a new one."""
        saved = self.load_ports()
        if saved is not None and saved != wanted and wanted != StackPorts():
            raise LauncherError(
                f"{self.root} already runs on other ports ({saved}); use `down --purge` or another --run-dir"
            )
        return saved or wanted
