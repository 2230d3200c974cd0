"""Writes during an index migration at docs/design.md §7 scale (issue 20): the same index on
the read model's 2.1 M periods built by the migration runner twice in one run — once as an
ordinary (transactional) migration, once with the ``-- abonent: no-transaction`` marker and
``CREATE INDEX CONCURRENTLY`` — while writers keep updating periods the way the live
projector does (one row per transaction, four connections).

    python -m bench.migration_writes [--dsn postgresql://…/projections] [--clients 100000]

Without ``--dsn`` it starts a PostgreSQL of its own (free port, temp dir) and stops it after.
The rows are ``bench/debtors_scale.py``'s (made in SQL in a scratch database beside ``dsn``).
Printed per build: its wall time, the writes committed while it ran, and their latency
(p50, p99, max). A write that waits longer than ``--lock-timeout`` gives up and is counted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import uvloop

from bench.debtors_scale import _seed
from bench.tools import own_postgres, scratch_database
from shared.db.migrations import apply_migrations

ORDINARY = "CREATE INDEX periods_bench_plain_idx ON scale.periods (client_id, ends_on, amount);\n"
CONCURRENT = (
    "-- abonent: no-transaction\n"
    "DROP INDEX CONCURRENTLY IF EXISTS scale.periods_bench_concurrent_idx;\n"
    "CREATE INDEX CONCURRENTLY periods_bench_concurrent_idx ON scale.periods (client_id, ends_on, amount);\n"
)
WRITE = "UPDATE scale.periods SET paid_amount = paid_amount WHERE period_id = $1"


@dataclass
class Writes:
    latencies: list[tuple[float, float]] = field(default_factory=list)  # (committed at, seconds)
    gave_up: list[float] = field(default_factory=list)  # when a write hit its lock timeout


async def _writer(url: str, ids: list, lock_timeout_ms: int, stop: asyncio.Event, writes: Writes) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f"SET lock_timeout = '{lock_timeout_ms}ms'")
        while not stop.is_set():
            started = time.perf_counter()
            try:
                await conn.execute(WRITE, random.choice(ids))
            except asyncpg.LockNotAvailableError:
                writes.gave_up.append(time.perf_counter())
                continue
            now = time.perf_counter()
            writes.latencies.append((now, now - started))
    finally:
        await conn.close()


def _row(name: str, seconds: float, latencies: list[float], gave_up: int, load: float) -> str:
    if not latencies:
        return f"| {name} | {seconds:.1f} | 0 | — | — | — | {gave_up} | {load:.1f} |"
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"| {name} | {seconds:.1f} | {len(latencies):,} ({len(latencies) / (seconds + 1):,.0f}/s) | "
        f"{statistics.median(latencies) * 1000:.1f} | {p99 * 1000:.1f} | {max(latencies) * 1000:,.0f} | "
        f"{gave_up} | {load:.1f} |"
    )


async def _build(url: str, version: str, sql: str, ids: list, lock_timeout_ms: int) -> tuple[float, list[float], int]:
    """Apply one migration while the writers run: its wall seconds, the latency of each write
    that committed while it ran, and how many gave up meanwhile."""
    writes, stop = Writes(), asyncio.Event()
    writers = [asyncio.create_task(_writer(url, ids, lock_timeout_ms, stop, writes)) for _ in range(4)]
    await asyncio.sleep(3)  # the writers get going before the build
    with tempfile.TemporaryDirectory() as directory:
        (Path(directory) / f"{version}.sql").write_text(sql)
        started = time.perf_counter()
        applied = await apply_migrations(url, Path(directory))
        ended = time.perf_counter()
    assert applied == [version], applied
    await asyncio.sleep(1)  # a write held by the build commits right after it
    stop.set()
    await asyncio.gather(*writers)
    during = [s for at, s in writes.latencies if started <= at <= ended + 1]
    return ended - started, during, sum(started <= at <= ended + 1 for at in writes.gave_up)


async def main(dsn: str, clients: int, lock_timeout_ms: int) -> None:
    url = await scratch_database(dsn, "bench_migration_writes")
    conn = await _seed(url, clients)
    try:
        periods = await conn.fetchval("SELECT count(*) FROM scale.periods")
        ids = [r["period_id"] for r in await conn.fetch("SELECT period_id FROM scale.periods TABLESAMPLE SYSTEM (2)")]
    finally:
        await conn.close()
    print(f"{clients:,} clients, {periods:,} periods; writers: 4 connections, one UPDATE per transaction")
    print(f"writes give up after lock_timeout {lock_timeout_ms} ms\n")
    print("| migration | build s | writes during the build (+1 s) | p50 ms | p99 ms | max ms | gave up | load avg |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, version, sql in (
        ("`CREATE INDEX` (ordinary migration, in a transaction)", "9001_bench_plain", ORDINARY),
        ("`CREATE INDEX CONCURRENTLY` (`-- abonent: no-transaction`)", "9002_bench_concurrent", CONCURRENT),
    ):
        seconds, latencies, gave_up = await _build(url, version, sql, ids, lock_timeout_ms)
        print(_row(name, seconds, latencies, gave_up, os.getloadavg()[0]), flush=True)
    admin = await asyncpg.connect(dsn)
    try:
        await admin.execute('DROP DATABASE IF EXISTS "bench_migration_writes" WITH (FORCE)')
    finally:
        await admin.close()


def run_on_own_postgres(clients: int, lock_timeout_ms: int) -> None:
    with own_postgres("migrations") as (_, server):
        uvloop.run(main(server, clients, lock_timeout_ms))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dsn", help="a database URL (the scratch database is made beside it); default: own server")
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--lock-timeout", type=int, default=30_000, help="ms a write waits for a lock")
    args = parser.parse_args()
    if args.dsn:
        uvloop.run(main(args.dsn, args.clients, args.lock_timeout))
    else:
        run_on_own_postgres(args.clients, args.lock_timeout)
