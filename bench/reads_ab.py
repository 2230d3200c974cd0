"""Two builds of the projections read side, back to back on the same data: CPU per request.

    python -m bench.reads_ab config.json

Start each build as an HTTP-only projections process on the same database
(``PROJECTIONS_CONSUME=false``, its own ``PROJECTIONS_HTTP_PORT``; the "before" one from an
export of the older commit, e.g. ``git archive <commit> | tar -x -C /tmp/before`` and
``PYTHONPATH=/tmp/before``). The config names them and the load::

    {"targets": {"before": ["http://127.0.0.1:47111", <pid>], "after": ["http://127.0.0.1:47112", <pid>]},
     "postmaster": <PostgreSQL's pid>, "token": "<a manager's bearer token>",
     "clients": ["<client id>", ...], "today": "2026-11-30",
     "queries": ["debtors", "coverage"], "rates": {"debtors": 10, "coverage": 50},
     "seconds": 6, "rounds": 2}

For each round, query and build (alternating, so both see the same load): a fixed arrival
rate for ``seconds``, latency from each request's due time, and the user+system CPU of that
build's process and of every PostgreSQL process (the postmaster's children) over the run,
per request. One JSON line per run. Nothing else should query those processes meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.http import HttpPool

TICK = os.sysconf("SC_CLK_TCK")
Request = tuple[str, dict[str, Any]]


def _cpu(stat: Path) -> tuple[int, float]:
    """(parent pid, user+system CPU seconds) from a /proc/<pid>/stat."""
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK


def process_cpu(pid: int) -> float:
    return _cpu(Path(f"/proc/{pid}/stat"))[1]


def server_cpu(postmaster: int) -> float:
    """CPU seconds of the postmaster and every process it started (backends, workers)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent, cpu = _cpu(entry / "stat")
            except (FileNotFoundError, ProcessLookupError):
                continue
            if parent == postmaster or int(entry.name) == postmaster:
                total += cpu
    return total


def requests(cfg: dict[str, Any]) -> dict[str, Callable[[int], Request]]:
    today, clients = cfg["today"], cfg.get("clients", [])
    return {
        "debtors": lambda i: ("/debtors", {"on": today}),
        "debtors_few": lambda i: ("/debtors", {"on": cfg.get("few_day", "2024-01-05")}),
        "coverage": lambda i: (f"/clients/{clients[(i * 7919) % len(clients)]}/coverage", {"on": today}),
        "contracts": lambda i: (
            "/contracts",
            {"period_starts_to": today, "paid": "false", "payment_terms": "prepaid", "page_size": 50},
        ),
    }


async def run(
    url: str, pid: int, cfg: dict[str, Any], request: Callable[[int], Request], rate: float
) -> dict[str, float]:
    pool = HttpPool(url, size=64, token=cfg["token"])
    latencies: list[float] = []
    try:
        for i in range(5):  # warm: connections, cached plans
            path, params = request(i)
            await pool.json("GET", path, params=params, expect=(200,))
        count = int(rate * cfg["seconds"])
        cpu, pg, start = process_cpu(pid), server_cpu(cfg["postmaster"]), time.perf_counter()

        async def one(i: int) -> None:
            due = start + i / rate
            if (wait := due - time.perf_counter()) > 0:
                await asyncio.sleep(wait)
            path, params = request(i)
            await pool.json("GET", path, params=params, expect=(200,))
            latencies.append((time.perf_counter() - due) * 1000)

        await asyncio.gather(*(one(i) for i in range(count)))
        cpu, pg = process_cpu(pid) - cpu, server_cpu(cfg["postmaster"]) - pg
    finally:
        await pool.close()
    latencies.sort()

    def rank(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))]

    return {
        "service_cpu_ms": cpu * 1000 / count,
        "postgres_cpu_ms": pg * 1000 / count,
        "p50_ms": rank(0.5),
        "p99_ms": rank(0.99),
        "requests": count,
    }


async def main(cfg: dict[str, Any]) -> None:
    plan = requests(cfg)
    for n in range(cfg["rounds"]):
        for name in cfg["queries"]:
            for label, (url, pid) in cfg["targets"].items():
                result = await run(url, pid, cfg, plan[name], cfg["rates"][name])
                line = {"round": n, "query": name, "build": label, **{k: round(v, 2) for k, v in result.items()}}
                print(json.dumps({**line, "load": round(os.getloadavg()[0], 1)}), flush=True)


if __name__ == "__main__":
    asyncio.run(main(json.loads(Path(sys.argv[1]).read_text())))
