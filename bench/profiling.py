"""Where the time goes: py-spy samples of a running service, summarised as text.

``py-spy record --format raw`` writes collapsed stacks (``frame;frame;… count``). The
summary lists, per function, the share of samples it was on the stack (inclusive) and on
top (self), so a README can say "42 % in pydantic validation" without a flame graph.
py-spy is in the ``bench`` extra (``make install`` puts it in the venv); ``$PY_SPY`` or one on
PATH also do.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>.*?)(?::(?P<line>\d+))?\)$")

PG_STATEMENTS_SETTINGS = "shared_preload_libraries=pg_stat_statements pg_stat_statements.track=all"
"""``ABONENT_PG_SETTINGS`` for a profiling stack: ``pg_stat_statements`` loaded, statements inside
plpgsql functions counted too (``track=all``; a report of top-level ones filters ``toplevel``)."""


def py_spy() -> str | None:
    beside_python = Path(sys.executable).with_name("py-spy")  # the venv's, when not on PATH
    return (
        os.environ.get("PY_SPY") or shutil.which("py-spy") or (str(beside_python) if beside_python.exists() else None)
    )


def record(pid: int, seconds: int, out: Path, rate: int = 200) -> Path | None:
    exe = py_spy()
    if exe is None:
        return None
    subprocess.run(
        [
            exe,
            "record",
            "-p",
            str(pid),
            "-d",
            str(seconds),
            "-r",
            str(rate),
            "-f",
            "raw",
            "-o",
            str(out),
            "--nonblocking",
        ],
        capture_output=True,
        timeout=seconds + 60,
    )
    return out if out.exists() else None


def _short(frame: str) -> str:
    m = FRAME.match(frame.strip())
    if not m:
        return frame.strip()
    path = m.group("file")
    for marker in ("site-packages/", "/work/main/", "lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{m.group('func')} ({path})"


def summarise(raw: Path, top: int = 15) -> str:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [_short(f) for f in stack.split(";") if f.strip()]
        # the process/thread header frames carry no file; keep code frames only
        frames = [f for f in frames if "(" in f and not f.startswith("<module>")]
        for f in set(frames):
            inclusive[f] += n
        if frames:
            own[frames[-1]] += n
            leaf = frames[-1].rsplit("(", 1)[1]
            packages[leaf.split("/", 1)[0].rstrip(")")] += n
    if not total:
        return "(no samples)"

    def pct(n: int) -> str:
        return f"{100 * n / total:5.1f} %"

    lines = [f"{total} samples"]
    lines.append("self time by top-level package/module:")
    lines += [f"  {pct(n)}  {name}" for name, n in packages.most_common(top)]
    lines.append("self time by function:")
    lines += [f"  {pct(n)}  {name}" for name, n in own.most_common(top)]
    lines.append("inclusive (on the stack), project code:")
    project = [
        (k, v)
        for k, v in inclusive.most_common()
        if k.split("(")[-1].startswith(("services/", "shared/")) and not k.startswith(("main (", "_run (", "run ("))
    ]
    lines += [f"  {pct(n)}  {name}" for name, n in project[:top]]
    return "\n".join(lines)


@contextlib.asynccontextmanager
async def profiled(ctx, label: str, pids: dict[str, int | None]) -> AsyncIterator[None]:
    """Sample ``pids`` with py-spy while the body runs (when ``--py-spy`` asked for it and
    py-spy is there); the summaries go into the report under ``label``."""
    exe = py_spy()
    if not ctx.data.get("py_spy") or exe is None:
        yield
        return
    running: dict[str, tuple[subprocess.Popen[bytes], Path]] = {}
    for name, pid in pids.items():
        if pid is None:
            continue
        out = ctx.env.run_dir / f"pyspy-{re.sub(r'[^A-Za-z0-9]+', '_', label)}-{name.replace(' ', '_')}.raw"
        running[name] = (
            subprocess.Popen(
                [
                    exe,
                    "record",
                    "-p",
                    str(pid),
                    "-r",
                    "100",
                    "-f",
                    "raw",
                    "-o",
                    str(out),
                    "--nonblocking",
                    "--subprocesses",  # the rebuild's worker processes
                    "-d",
                    "3600",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            ),
            out,
        )
    try:
        yield
    finally:
        for name, (proc, out) in running.items():
            proc.send_signal(signal.SIGINT)
            await asyncio.to_thread(proc.wait, 60)
            if out.exists():
                ctx.report.profiles[f"{label} — {name}"] = summarise(out)
