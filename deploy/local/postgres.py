"""A private PostgreSQL cluster from the machine's server binaries, run as an ordinary user.

PostgreSQL refuses to run as root; when the launcher is root it runs every server binary as
the system user ``abonent`` (created once) and gives it the data directory.

Clients authenticate with a password (``scram-sha-256`` in ``pg_hba.conf``, for TCP and the
socket alike), never ``trust``: the launcher generates it once, keeps it in
``<run>/pg.password`` (mode 0600) and puts it in the database URLs it writes to
``stack.env``. A cluster made by an older launcher with ``trust`` is switched over on start.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import subprocess
from pathlib import Path

from deploy.local.errors import LauncherError
from deploy.local.layout import RunDir, StackPorts, port_is_free, run_async

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
        result = subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_USER],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise LauncherError(
                f"could not create the system user {PG_USER!r} for PostgreSQL: {result.stderr.strip()}"
            ) from None
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
    result = subprocess.run(
        _as_owner([str(bindir() / "pg_ctl"), "status", "-D", str(data_dir(run))]), capture_output=True, text=True
    )
    return result.returncode == 0


def pid(run: RunDir) -> int | None:
    try:
        return int((data_dir(run) / "postmaster.pid").read_text().splitlines()[0])
    except (FileNotFoundError, ValueError, IndexError):
        return None


def password_file(run: RunDir) -> Path:
    return run.root / "pg.password"


def password(run: RunDir) -> str:
    """The superuser's password, made on first use (URL-safe characters only)."""
    path = password_file(run)
    if not path.exists():
        run.root.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(24) + "\n")
    return path.read_text().strip()


HBA = """# Written by deploy/local/postgres.py: every client proves its password.
local   all   all                 scram-sha-256
host    all   all   127.0.0.1/32  scram-sha-256
host    all   all   ::1/128       scram-sha-256
"""


def _initdb(run: RunDir, bins: Path) -> None:
    pwfile = run.pg / ".initdb-password"  # readable by the server's user, gone after initdb
    pwfile.touch(mode=0o600)
    pwfile.write_text(password(run) + "\n")
    if os.geteuid() == 0:
        shutil.chown(pwfile, PG_USER, PG_USER)
    try:
        _run(
            [
                str(bins / "initdb"),
                "-D",
                str(data_dir(run)),
                "--auth=scram-sha-256",
                f"--pwfile={pwfile}",
                f"--username={PG_USER}",
                "-E",
                "UTF8",
                "--locale=C",
            ],
            "initdb",
        )
    finally:
        pwfile.unlink(missing_ok=True)


def uses_trust(run: RunDir) -> bool:
    rules = [
        line.split()
        for line in (data_dir(run) / "pg_hba.conf").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    return any("trust" in fields for fields in rules)


async def _switch_to_passwords(run: RunDir, ports: StackPorts) -> None:
    """A cluster from an older launcher (``trust``): give the superuser a password, require it."""
    import asyncpg

    conn = await asyncpg.connect(f"postgresql://{PG_USER}@127.0.0.1:{ports.postgres}/postgres")
    try:
        literal = await conn.fetchval("SELECT quote_literal($1)", password(run))
        await conn.execute(f"ALTER ROLE {PG_USER} PASSWORD {literal}")
        (data_dir(run) / "pg_hba.conf").write_text(HBA)  # root or the owner: the owner stays
        await conn.fetchval("SELECT pg_reload_conf()")
    finally:
        await conn.close()


def start(run: RunDir, ports: StackPorts) -> None:
    bins = bindir()
    _ensure_user(run)
    if is_running(run):
        return
    if not port_is_free(ports.postgres):
        raise LauncherError(f"port {ports.postgres} is in use by another program: stop it or use --pg-port")
    if not (data_dir(run) / "PG_VERSION").exists():
        _initdb(run, bins)
    options = " ".join(f"-c {k}={v}" for k, v in SETTINGS.items())
    # extra server settings for a profiling run, e.g. bench.write_profile's pg_stat_statements
    options += "".join(f" -c {kv}" for kv in os.environ.get("ABONENT_PG_SETTINGS", "").split())
    options += f" -p {ports.postgres} -k {run.pg}"
    _run(
        [
            str(bins / "pg_ctl"),
            "start",
            "-w",
            "-t",
            "60",
            "-D",
            str(data_dir(run)),
            "-l",
            str(run.pg / "postgres.log"),
            "-o",
            options,
        ],
        "PostgreSQL start",
    )
    if uses_trust(run):
        run_async(_switch_to_passwords(run, ports))


def stop(run: RunDir) -> bool:
    if not is_running(run):
        return False
    _run([str(bindir() / "pg_ctl"), "stop", "-m", "fast", "-w", "-D", str(data_dir(run))], "PostgreSQL stop")
    return True


def url(ports: StackPorts, database: str, secret: str) -> str:
    return f"postgresql://{PG_USER}:{secret}@127.0.0.1:{ports.postgres}/{database}"


async def create_databases(server_url: str, names: list[str]) -> None:
    import asyncpg

    conn = await asyncpg.connect(server_url)
    try:
        existing = {r["datname"] for r in await conn.fetch("SELECT datname FROM pg_database")}
        for name in names:
            if name not in existing:
                await conn.execute(f'CREATE DATABASE "{name}" OWNER {PG_USER}')
    finally:
        await conn.close()
