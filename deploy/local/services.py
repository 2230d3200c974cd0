"""The four services, the console and the scheduler as background processes, for the demo and e2e tests.

Each gets the stack's environment (``stack.env``), its port, a log file and a pid file under
``<run>/services``; "ready" means its ``/health/ready`` answered 200 (database and Kafka
reachable), not that some seconds passed.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx

from deploy.local import processes
from deploy.local.errors import LauncherError
from deploy.local.layout import REPO, port_is_free


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    module: str
    port_env: str | None
    default_port: int | None


SERVICES = (
    ServiceSpec("contracts", "services.contracts", "CONTRACTS_HTTP_PORT", 8001),
    ServiceSpec("projections", "services.projections", "PROJECTIONS_HTTP_PORT", 8002),
    ServiceSpec("tickets", "services.tickets", "TICKETS_HTTP_PORT", 8003),
    ServiceSpec("notifier", "services.notifier", "NOTIFY_HTTP_PORT", 8004),
    ServiceSpec("console", "services.console", "CONSOLE_HTTP_PORT", 8000),
    # no API of its own; its port answers /health/* and /metrics
    ServiceSpec("scheduler", "services.contracts.entrypoints.scheduler", "CONTRACTS_SCHEDULER_HTTP_PORT", 8005),
)


def _dir(run_dir: Path) -> Path:
    return run_dir / "services"


def urls(ports: dict[str, int]) -> dict[str, str]:
    return {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}


def service_env(stack_env: dict[str, str], ports: dict[str, int]) -> dict[str, str]:
    """The stack's environment, each service's port and the local defaults below for what
    ``stack_env`` leaves unset; ``CONTRACTS_INVOICE_DAYS_BEFORE_DUE=""`` turns the automatic
    invoices off (the variable unset: invoices by hand only)."""
    env = dict(stack_env)
    for spec in SERVICES:
        if spec.port_env is not None and spec.name in ports:
            env[spec.port_env] = str(ports[spec.name])
    env.setdefault("TICKETS_PROJECTIONS_URL", f"http://127.0.0.1:{ports['projections']}")
    for name in ("contracts", "projections", "tickets", "notifier"):  # the console calls them all
        env.setdefault(f"CONSOLE_{name.upper()}_URL", f"http://127.0.0.1:{ports[name]}")
    env.setdefault("NOTIFY_GENERAL_EMAIL", "service-desk@example.com")
    env.setdefault("NOTIFY_FROM_EMAIL", "abonent@example.com")
    env.setdefault("CONTRACTS_SCHEDULER_INTERVAL_SECONDS", "3600")
    # invoices (issue 17): the demo company, and invoices 10 days before each period falls due
    if env.setdefault("CONTRACTS_INVOICE_DAYS_BEFORE_DUE", "10") == "":
        del env["CONTRACTS_INVOICE_DAYS_BEFORE_DUE"]
    env.setdefault("CONTRACTS_COMPANY_NAME", "ООО «Абонент Сервис»")
    env.setdefault("CONTRACTS_COMPANY_TAX_ID", "7701234567")
    env.setdefault("CONTRACTS_COMPANY_ADDRESS", "125009, Москва, ул. Тверская, д. 1, офис 10")
    env.setdefault(
        "CONTRACTS_COMPANY_BANK_ACCOUNT",
        "р/с 40702810900000000001 в ПАО «Банк», БИК 044525225, к/с 30101810400000000225",
    )
    env.setdefault("ABONENT_LOG_FORMAT", "json")
    return env


def start_services(
    run_dir: Path,
    stack_env: dict[str, str],
    ports: dict[str, int] | None = None,
    *,
    timeout: float = 90.0,
    progress=print,
) -> dict[str, str]:
    """Start what is not running yet; returns the base URL of each HTTP service."""
    ports = ports or {s.name: s.default_port for s in SERVICES if s.default_port}
    env = {**os.environ, **service_env(stack_env, ports)}
    folder = _dir(run_dir)
    folder.mkdir(parents=True, exist_ok=True)
    started: list[ServiceSpec] = []
    try:
        for spec in SERVICES:
            pidfile = folder / f"{spec.name}.pid"
            if processes.running(pidfile) is not None:
                continue
            port = ports.get(spec.name)
            if spec.port_env is not None and port is None:
                continue  # an HTTP service the caller gave no port (e.g. a test without the console)
            if port is not None and not port_is_free(port):
                raise LauncherError(f"port {port} for {spec.name} is in use by another program")
            progress(f"{spec.name}: starting" + (f" on http://127.0.0.1:{port}" if port else ""))
            processes.spawn(
                [sys.executable, "-m", spec.module], log=folder / f"{spec.name}.log", pidfile=pidfile, env=env, cwd=REPO
            )
            started.append(spec)
        for spec in started:
            port = ports.get(spec.name)
            if port is not None:
                _wait_ready(spec, port, folder, timeout)
    except BaseException:
        for spec in started:
            processes.stop(folder / f"{spec.name}.pid")
        raise
    return urls(ports)


def _wait_ready(spec: ServiceSpec, port: int, folder: Path, timeout: float) -> None:
    def ready() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    processes.wait_for(ready, timeout, spec.name, folder / f"{spec.name}.log", folder / f"{spec.name}.pid")


def stop_services(run_dir: Path) -> list[str]:
    folder = _dir(run_dir)
    return [spec.name for spec in reversed(SERVICES) if processes.stop(folder / f"{spec.name}.pid")]


def service_pids(run_dir: Path) -> dict[str, int | None]:
    return {spec.name: processes.running(_dir(run_dir) / f"{spec.name}.pid") for spec in SERVICES}
