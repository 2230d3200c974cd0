"""The four services, the console and the scheduler as background processes, for the demo and e2e tests.

Each gets the stack's environment (``stack.env``), its port, a log file and a pid file under
``<run>/services``; "ready" means its ``/health/ready`` answered 200 (database and Kafka
reachable), not that some seconds passed.

**Replicas**: a port given for ``contracts-2`` (``tickets-3``, …) starts another process of that
service under that name (its own port, log and pid file; same databases, same consumer groups):
what a second pod behind the same Service is in production. Replica *n* of tickets asks replica
*n* of projections for coverage when one runs (the console likewise), so the calls spread over
the replicas as a load balancer would spread them. Why two replicas are safe — one relay
publishing per database, the projections group splitting the partitions — is in
docs/operations.md, "Scaling rules".
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
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


REPLICATED = ("contracts", "projections", "tickets")
"""The services ``services-up --replicas N`` starts N of (the stateless HTTP services and the
projections consumer; the notifier and the scheduler have replica tests of their own)."""
REPLICA_PORT_STEP = 10
"""Replica *n* of a service listens on its default port + 10·(n−1) locally: contracts-2 on 8011."""


def replica_name(service: str, n: int) -> str:
    """``contracts`` for the first process of a service, ``contracts-2``, ``contracts-3`` … after it."""
    return service if n == 1 else f"{service}-{n}"


def spec_of(name: str) -> tuple[ServiceSpec, int]:
    """The service a process name runs, and which replica it is (``tickets-2`` → tickets, 2)."""
    base, _, number = name.rpartition("-")
    service, n = (base, int(number)) if base and number.isdigit() and int(number) >= 2 else (name, 1)
    for spec in SERVICES:
        if spec.name == service:
            return spec, n
    raise KeyError(f"{name!r} is no service of {[s.name for s in SERVICES]}")


def default_ports(replicas: int = 1) -> dict[str, int]:
    """The local ports (8000-8005), and ``replicas`` of each of ``REPLICATED`` on the ports after."""
    ports = {s.name: s.default_port for s in SERVICES if s.default_port}
    for s in SERVICES:
        if s.name in REPLICATED and s.default_port:
            ports |= {
                replica_name(s.name, n): s.default_port + REPLICA_PORT_STEP * (n - 1) for n in range(2, replicas + 1)
            }
    return ports


def _dir(run_dir: Path) -> Path:
    return run_dir / "services"


def instance_names(names: Iterable[str]) -> list[str]:
    """``names`` that are service processes (``contracts``, ``contracts-2`` …), in start order:
    the services in ``SERVICES`` order, each one's replicas after it by number."""
    order = {s.name: i for i, s in enumerate(SERVICES)}
    found = []
    for name in names:
        try:
            spec, n = spec_of(name)
        except KeyError:  # another process of the run dir (a standalone relay)
            continue
        found.append((order[spec.name], n, name))
    return [name for *_, name in sorted(found)]


def _running_names(folder: Path) -> list[str]:
    return instance_names(p.stem for p in folder.glob("*.pid"))


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
    if "projections" in ports:
        env.setdefault("TICKETS_PROJECTIONS_URL", f"http://127.0.0.1:{ports['projections']}")
    for name in ("contracts", "projections", "tickets", "notifier"):  # the console calls them all
        if name in ports:
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


def replica_env(env: dict[str, str], ports: dict[str, int], name: str) -> dict[str, str]:
    """``env`` (from :func:`service_env`) for the process ``name``: a replica gets its own port,
    and the URLs of the same-numbered replicas of the services it calls, where those run."""
    spec, n = spec_of(name)
    if n == 1:
        return env
    env = dict(env)
    if spec.port_env is not None and name in ports:
        env[spec.port_env] = str(ports[name])
    for service in ("contracts", "projections", "tickets", "notifier"):
        if (port := ports.get(replica_name(service, n))) is None:
            continue
        url = f"http://127.0.0.1:{port}"
        env[f"CONSOLE_{service.upper()}_URL"] = url
        if service == "projections":
            env["TICKETS_PROJECTIONS_URL"] = url
    return env


def start_services(
    run_dir: Path,
    stack_env: dict[str, str],
    ports: dict[str, int] | None = None,
    *,
    timeout: float = 90.0,
    progress=print,
) -> dict[str, str]:
    """Start what is not running yet; returns the base URL of each HTTP service (and replica:
    ``ports`` naming ``contracts-2`` starts a second contracts process there)."""
    ports = ports or default_ports()
    env = {**os.environ, **service_env(stack_env, ports)}
    folder = _dir(run_dir)
    folder.mkdir(parents=True, exist_ok=True)
    started: list[str] = []
    try:
        for name in instance_names({*(s.name for s in SERVICES), *ports}):
            spec, _ = spec_of(name)
            pidfile = folder / f"{name}.pid"
            if processes.running(pidfile) is not None:
                continue
            port = ports.get(name)
            if spec.port_env is not None and port is None:
                continue  # an HTTP service the caller gave no port (e.g. a test without the console)
            if port is not None and not port_is_free(port):
                raise LauncherError(f"port {port} for {name} is in use by another program")
            progress(f"{name}: starting" + (f" on http://127.0.0.1:{port}" if port else ""))
            processes.spawn(
                [sys.executable, "-m", spec.module],
                log=folder / f"{name}.log",
                pidfile=pidfile,
                env=replica_env(env, ports, name),
                cwd=REPO,
            )
            started.append(name)
        for name in started:
            port = ports.get(name)
            if port is not None:
                wait_ready(name, port, folder, timeout)
    except BaseException:
        for name in started:
            processes.stop(folder / f"{name}.pid")
        raise
    return urls(ports)


def wait_ready(name: str, port: int, folder: Path, timeout: float) -> None:
    """Until the process ``name`` answers 200 on ``/health/ready``; fails early if it died."""

    def ready() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    processes.wait_for(ready, timeout, name, folder / f"{name}.log", folder / f"{name}.pid")


def stop_services(run_dir: Path) -> list[str]:
    """Stop every service process of the run dir (replicas too), the last started first."""
    folder = _dir(run_dir)
    names = instance_names({*(s.name for s in SERVICES), *_running_names(folder)})
    return [name for name in reversed(names) if processes.stop(folder / f"{name}.pid")]


def service_pids(run_dir: Path) -> dict[str, int | None]:
    folder = _dir(run_dir)
    names = instance_names({*(s.name for s in SERVICES), *_running_names(folder)})
    return {name: processes.running(folder / f"{name}.pid") for name in names}
