"""A private PostgreSQL cluster from the machine's server binaries, run as an ordinary user.

PostgreSQL refuses to run as root; when the launcher is root it runs every server binary as
the system user ``abonent`` (created once) and gives it the data directory.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
from pathlib import Path

from deploy.local.errors import LauncherError
from deploy.local.layout import RunDir, StackPorts, port_is_free

PG_USER = "abonent"
SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "max_connections": "300",
    "shared_buffers": "256MB",
    "synchronous_commit": "on",
    "log_min_messages": "warning",
}


def bindir() -> Path:
    candidates = []
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True).stdout.strip()
        candidates.append(out)
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for c in candidates:
        if c and (Path(c) / "initdb").exists() and (Path(c) / "pg_ctl").exists():
            return Path(c)
    raise LauncherError("PostgreSQL server binaries (initdb, pg_ctl) not found: apt-get install postgresql-15")


def _as_owner(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", PG_USER, "--", *argv]


def _ensure_user(run: RunDir) -> None:
    if os.geteuid() != 0:
        return
    try:
        pwd.getpwnam(PG_USER)
    except KeyError:
        result = subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                                 PG_USER], capture_output=True, text=True)
        if result.returncode != 0:
            raise LauncherError(f"could not create the system user {PG_USER!r} for PostgreSQL: {result.stderr.strip()}")
    run.pg.mkdir(parents=True, exist_ok=True)
    shutil.chown(run.pg, PG_USER, PG_USER)
    # Every directory above the data dir must be traversable by that user.
    for parent in run.pg.resolve().parents:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            os.chmod(parent, mode | 0o001)


def _run(argv: list[str], what: str) -> None:
    result = subprocess.run(_as_owner(argv), capture_output=True, text=True)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["(no output)"]
        raise LauncherError(f"{what} failed: {detail[0][:240]}")


def data_dir(run: RunDir) -> Path:
    return run.pg / "data"


def is_running(run: RunDir) -> bool:
    if not (data_dir(run) / "postmaster.pid").exists():
        return False
    result = subprocess.run(_as_owner([str(bindir() / "pg_ctl"), "status", "-D", str(data_dir(run))]),
                            capture_output=True, text=True)
    return result.returncode == 0


def pid(run: RunDir) -> int | None:
    try:
        return int((data_dir(run) / "postmaster.pid").read_text().splitlines()[0])
    except (FileNotFoundError, ValueError, IndexError):
        return None


def start(run: RunDir, ports: StackPorts) -> None:
    bins = bindir()
    _ensure_user(run)
    if is_running(run):
        return
    if not port_is_free(ports.postgres):
        raise LauncherError(f"port {ports.postgres} is in use by another program: stop it or use --pg-port")
    if not (data_dir(run) / "PG_VERSION").exists():
        _run([str(bins / "initdb"), "-D", str(data_dir(run)), "--auth=trust", f"--username={PG_USER}",
              "-E", "UTF8", "--locale=C"], "initdb")
    options = " ".join(f"-c {k}={v}" for k, v in SETTINGS.items())
    options += f" -p {ports.postgres} -k {run.pg}"
    _run([str(bins / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(data_dir(run)),
          "-l", str(run.pg / "postgres.log"), "-o", options], "PostgreSQL start")


def stop(run: RunDir) -> bool:
    if not is_running(run):
        return False
    _run([str(bindir() / "pg_ctl"), "stop", "-m", "fast", "-w", "-D", str(data_dir(run))], "PostgreSQL stop")
    return True


def url(ports: StackPorts, database: str) -> str:
    return f"postgresql://{PG_USER}@127.0.0.1:{ports.postgres}/{database}"


async def create_databases(ports: StackPorts, names: list[str]) -> None:
    import asyncpg

    conn = await asyncpg.connect(url(ports, "postgres"))
    try:
        existing = {r["datname"] for r in await conn.fetch("SELECT datname FROM pg_database")}
        for name in names:
            if name not in existing:
                await conn.execute(f'CREATE DATABASE "{name}" OWNER {PG_USER}')
    finally:
        await conn.close()
