"""The bench's own stack: Kafka, PostgreSQL and the services, on free ports in a temp dir.

Never the developer's ``.run``: a bench starts everything it measures and stops it after,
so numbers are not mixed with whatever else is running, and nothing of the developer's is
touched. Services are started one by one (``start``), so a benchmark can run, say, the
contracts service without its in-process relay; ``start("contracts-2")`` starts a second
replica (``deploy.local.services``: its own port, the same databases and consumer groups).
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import httpx

from deploy.local import processes
from deploy.local.api import StackInfo, start_stack, stop_stack
from deploy.local.layout import REPO, RunDir, StackPorts
from deploy.local.services import SERVICES, instance_names, replica_env, replica_name, service_env, spec_of
from shared.calendar import CalendarSettings, CompanyCalendar

HTTP_SERVICES = ("contracts", "projections", "tickets", "notifier", "scheduler")
"""The services with a port (the scheduler's answers /health and /metrics only): each gets a
free one, and ``start`` waits for its /health/ready — a process sampled before it is up would
report the interpreter's start as its peak RSS (the scheduler's 3.6 MB of a short run)."""
MAIL = {"NOTIFY_GENERAL_EMAIL": "service-desk@abonent.example", "NOTIFY_FROM_EMAIL": "abonent@abonent.example"}
"""The notifier refuses reserved domains such as ``.local`` (the launcher's defaults)."""


def company_calendar(stack_env: Mapping[str, str]) -> CompanyCalendar:
    """The calendar the stack's services run by (``ABONENT_TIMEZONE`` in their environment)."""
    return CalendarSettings(timezone=stack_env.get("ABONENT_TIMEZONE", "UTC")).calendar()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class BenchEnv:
    stack: StackInfo
    run_dir: Path
    ports: dict[str, int]
    peak_rss_kb: dict[str, int] = field(default_factory=dict)
    """Highest VmHWM seen per service name (kept across restarts of a service)."""

    @property
    def services_dir(self) -> Path:
        return self.run_dir / "services"

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def token(self, role: str) -> str:
        """A bearer token of ``bench-<role>`` signed with this stack's secret."""
        from datetime import timedelta

        from shared.auth import AuthSettings, mint

        settings = AuthSettings(hs256_secret=self.stack.auth_secret, public_key_file=None, jwks_url=None)
        return mint(settings, [role], f"bench-{role}", ttl=timedelta(hours=12))

    def today(self, now: datetime | None = None) -> date:
        """Today in the stack's company time zone: the scheduler's today, so the data set's."""
        return company_calendar(self.stack.env()).today(now)

    def dsn(self, service: str) -> str:
        return self.stack.database_urls[service]

    @property
    def bootstrap(self) -> str:
        return self.stack.kafka_bootstrap

    def _pidfile(self, name: str) -> Path:
        return self.services_dir / f"{name}.pid"

    def pid(self, name: str) -> int | None:
        return processes.running(self._pidfile(name))

    def start(self, name: str, *, timeout: float = 120.0, until: str = "ready", **extra_env: str) -> None:
        """Start one service (``contracts``, …, ``scheduler``) or a replica of one (``contracts-2``:
        on a free port of its own); wait until /health/<until> is 200 (``live``: the process
        serves; ``ready``: it may take traffic — a projections service filling a fresh read
        model is not ready for minutes at full scale)."""
        spec, _ = spec_of(name)
        if spec.name in HTTP_SERVICES:
            self.ports.setdefault(name, free_port())
        env = {**os.environ, **service_env({**self.stack.env(), **MAIL}, self.ports), **extra_env}
        env = replica_env(env, self.ports, name)
        env.setdefault("ABONENT_LOG_LEVEL", "WARNING")
        self.services_dir.mkdir(parents=True, exist_ok=True)
        log = self.services_dir / f"{name}.log"
        processes.spawn([sys.executable, "-m", spec.module], log=log, pidfile=self._pidfile(name), env=env, cwd=REPO)
        if name in self.ports:
            self._wait_healthy(name, log, timeout, until)

    def _wait_healthy(self, name: str, log: Path, timeout: float, until: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url(name)}/health/{until}", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.pid(name) is None:
                raise RuntimeError(f"{name} exited during start-up; see {log}")
            time.sleep(0.2)
        raise RuntimeError(f"{name} not {until} after {timeout:.0f}s; see {log}")

    def reserve_replicas(self, n: int, services: tuple[str, ...]) -> list[str]:
        """Ports for replica ``n`` of each of ``services``, before any starts (so tickets-n
        knows where projections-n will answer); returns their names."""
        names = [replica_name(s, n) for s in services]
        for name in names:
            self.ports.setdefault(name, free_port())
        return names

    def names(self) -> list[str]:
        """Every service process this env started (replicas too), in start order."""
        known = {s.name for s in SERVICES}
        return instance_names(known | {p.stem for p in self.services_dir.glob("*.pid")})

    def sample_rss(self) -> dict[str, int]:
        """Record every running service's peak RSS (VmHWM, kB) so far; returns it."""
        for name in self.names():
            pid = self.pid(name)
            kb = peak_rss_kb(pid) if pid else None
            if kb:
                self.peak_rss_kb[name] = max(self.peak_rss_kb.get(name, 0), kb)
        return dict(self.peak_rss_kb)

    def stop(self, name: str) -> None:
        self.sample_rss()
        processes.stop(self._pidfile(name))

    def stop_all(self) -> None:
        for name in reversed(self.names()):
            if self.pid(name) is not None:
                self.stop(name)

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time (user + system) used so far by each process of this stack: the services,
        PostgreSQL (postmaster and every backend, ended ones too), Kafka, and the bench process
        itself."""
        out: dict[str, float] = {}
        for name in self.names():
            pid = self.pid(name)
            if pid and (t := cpu_of(pid)) is not None:
                out[name] = t
        out["postgres"] = family_cpu(self.stack.pids.get("postgres"))
        out["kafka"] = cpu_of(self.stack.pids.get("kafka")) or 0.0
        mine = os.times()
        out["bench (load generator)"] = mine.user + mine.system
        return out


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_of(pid: int | None) -> float | None:
    """utime + stime of ``pid`` in seconds (None when it is gone)."""
    if not pid:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def family_cpu(root: int | None) -> float:
    """User + system seconds of ``root`` and its child processes (PostgreSQL's postmaster and
    backends): the running children, and the ended ones (reaped: ``root``'s cutime + cstime).
    Without the ended ones a connection opened and closed between two readings (the rebuild
    CLI's, a one-off script's) would count nothing, and one closed meanwhile would count less
    than nothing."""
    if not root:
        return 0.0
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            pid = int(stat.parent.name)
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if pid == root:
                total += sum(int(f) for f in fields[11:15]) / CLOCK_TICKS
            elif int(fields[1]) == root:
                total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        except (OSError, ValueError, IndexError):
            continue
    return total


def peak_rss_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, ValueError):
        return None
    return None


PG_LOGGING = "log_autovacuum_min_duration=250ms log_checkpoints=on log_min_duration_statement=1s log_lock_waits=on"
"""What the bench's PostgreSQL logs beyond warnings, kept with the services' logs: vacuums over
250 ms, checkpoints, statements over 1 s, lock waits over ``deadlock_timeout``. The 3 December
full run's first write window timed out 821 of 3,000 commands and nothing told why."""


def open_env(say=print) -> BenchEnv:
    run_dir = Path(tempfile.mkdtemp(prefix="abonent-bench-"))
    say(f"bench stack in {run_dir}")
    os.environ["ABONENT_PG_SETTINGS"] = f"{os.environ.get('ABONENT_PG_SETTINGS', '')} {PG_LOGGING}".strip()
    try:
        stack = start_stack(run_dir, StackPorts.free(), progress=lambda m: say(f"  {m}"))
    except BaseException:
        stop_stack(run_dir, purge=True)
        shutil.rmtree(run_dir, ignore_errors=True)
        raise
    return BenchEnv(stack, run_dir, {name: free_port() for name in HTTP_SERVICES})


def keep_logs(env: BenchEnv) -> Path:
    """Copy the services' and tools' logs out of the run dir before it is deleted."""
    target = Path(tempfile.mkdtemp(prefix="abonent-bench-logs-"))
    pg_log = RunDir(env.run_dir).pg / "postgres.log"
    for log in [
        *env.run_dir.glob("*.log"),
        *env.services_dir.glob("*.log"),
        env.run_dir / "kafka" / "kafka.log",
        pg_log,
    ]:
        if log.exists():
            shutil.copy(log, target / log.name)
    return target


def close_env(env: BenchEnv, keep: bool = False) -> None:
    if keep:
        env.sample_rss()
        return
    env.stop_all()
    stop_stack(env.run_dir, purge=True)
    shutil.rmtree(env.run_dir, ignore_errors=True)
