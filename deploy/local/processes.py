"""Detached processes tracked by pid files: start, check, stop exactly what we started."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path


def spawn(
    argv: Sequence[str], *, log: Path, pidfile: Path, env: dict[str, str] | None = None, cwd: Path | None = None
) -> int:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            list(argv),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
            cwd=cwd,
        )
    pidfile.write_text(str(proc.pid))
    return proc.pid


def read_pid(pidfile: Path) -> int | None:
    try:
        return int(pidfile.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (our exited child not yet reaped) is not alive.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][:1] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def running(pidfile: Path) -> int | None:
    pid = read_pid(pidfile)
    return pid if alive(pid) else None


def stop(pidfile: Path, timeout: float = 30.0) -> bool:
    """SIGTERM the recorded pid, SIGKILL after ``timeout``; remove the pid file. True if it ran."""
    return stop_all([pidfile], timeout)


def stop_all(pidfiles: Sequence[Path], timeout: float = 30.0) -> bool:
    """SIGTERM every recorded pid at once, SIGKILL those still running after ``timeout``;
    remove the pid files. True if any ran."""
    pids = [pid for pid in map(read_pid, pidfiles) if pid is not None and alive(pid)]
    for pid in pids:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        for pid in pids:
            _reap(pid)
        time.sleep(0.1)
    for pid in pids:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)
            while alive(pid):
                _reap(pid)
                time.sleep(0.05)
        _reap(pid)
    for pidfile in pidfiles:
        pidfile.unlink(missing_ok=True)
    return bool(pids)


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def wait_for(check, timeout: float, what: str, log: Path | None = None, pidfile: Path | None = None) -> None:
    """Poll ``check()`` until true; fail early if the process we wait for died."""
    from deploy.local.errors import LauncherError

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if pidfile is not None and running(pidfile) is None:
            raise LauncherError(f"{what} exited during start-up ({_last_line(log)}); see {log}")
        time.sleep(0.2)
    raise LauncherError(f"{what} not ready after {timeout:.0f}s ({_last_line(log)}); see {log}")


def _last_line(log: Path | None) -> str:
    try:
        lines = [ln for ln in log.read_text(errors="replace").splitlines() if ln.strip()] if log else []
    except FileNotFoundError:
        lines = []
    return f"last log line: {lines[-1][:300]}" if lines else "no log output"
