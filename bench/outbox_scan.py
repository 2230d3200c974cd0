"""``python -m bench.outbox_scan [--dead 2000000] [--reads 21]``: the relay's first read of a
transaction after a large drain, from the left of the outbox's primary key and from the scan
floor (``shared.outbox.scan_floor``).

Starts its own PostgreSQL (free port, temp dir, removed after), migrates an event store
database, and does what the data load of the full profile does to the contracts outbox: inserts
``--dead`` rows and deletes them, here with autovacuum off for the table (the state between two
vacuums, which at design scale lasted long enough to hold the relay's stage at p50 161 ms,
bench/results/notes-20261203-full-scale-evening.md). Then one live row is queued and the relay's
``SELECT_BATCH`` is timed ``--reads`` times each way (wall time at the client, one connection),
with the pages the read touched (``EXPLAIN (ANALYZE, BUFFERS)``). The first read from the left is
reported apart: it also visits the heap of every dead row and marks its index entries dead.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import typer
from tqdm import tqdm

from bench.tools import own_postgres, scratch_database
from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool
from shared.outbox.messages import OutboxMessage, enqueue
from shared.outbox.quarantine import SELECT_BATCH
from shared.outbox.scan_floor import ScanFloor

EVENTSTORE_SQL = Path(__file__).resolve().parents[1] / "shared" / "eventstore" / "sql"
CHUNK = 100_000
BATCH = 1000  # the relay's default batch_size
TOPIC = "contracts.events.v1"


async def _drain(conn: asyncpg.Connection, dead: int) -> None:
    with tqdm(total=dead, desc="insert", unit="row") as bar:
        for start in range(0, dead, CHUNK):
            n = min(CHUNK, dead - start)
            await conn.execute(
                """INSERT INTO outbox (topic, key, event_id, payload, headers)
                   SELECT $2, 'client-' || (g % 100000), gen_random_uuid(),
                          convert_to(repeat('x', 400), 'UTF8'), '{"event_type": "PaymentRecorded"}'
                   FROM generate_series(1, $1) g""",
                n,
                TOPIC,
            )
            bar.update(n)
    with tqdm(total=dead, desc="delete (as the relay)", unit="row") as bar:
        low = await conn.fetchval("SELECT min(id) FROM outbox")
        for start in range(low, low + dead, CHUNK):
            await conn.execute("DELETE FROM outbox WHERE id >= $1 AND id < $2", start, start + CHUNK)
            bar.update(min(CHUNK, low + dead - start))


async def _timed(conn: asyncpg.Connection, floor: int, reads: int) -> list[float]:
    times = []
    for _ in range(reads):
        started = time.perf_counter()
        rows = await conn.fetch(SELECT_BATCH, BATCH, floor)
        times.append((time.perf_counter() - started) * 1000)
        assert len(rows) == 1, len(rows)  # the live row, and nothing else
    return times


async def _pages(conn: asyncpg.Connection, floor: int) -> int:
    plan = await conn.fetchval(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {SELECT_BATCH}", BATCH, floor)
    top = (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]  # the pool decodes json
    return top["Shared Hit Blocks"] + top["Shared Read Blocks"]


@dataclass(frozen=True)
class Scan:
    dead: int
    size: str
    floor: int
    first: float  # ms, the first read from the left after the drain
    left: list[float]  # ms each, the reads from the left after it
    from_floor: list[float]
    left_pages: int
    floor_pages: int


async def measure(server: str, dead: int, reads: int) -> Scan:
    url = await scratch_database(server, "outbox_scan")
    await apply_migrations(url, EVENTSTORE_SQL)
    pool = await create_pool(url, min_size=2, max_size=4)
    try:
        async with pool.acquire() as conn:
            await conn.execute("ALTER TABLE outbox SET (autovacuum_enabled = false)")
            await _drain(conn, dead)
            live = OutboxMessage(topic=TOPIC, key="client-live", event_id=uuid.uuid4(), payload=b"{}", headers={})
            await enqueue(conn, [live])
            first = await _timed(conn, 0, 1)
            floor = ScanFloor(every=0)
            for _ in range(2):
                await floor.step(pool)
            return Scan(
                dead=dead,
                size=await conn.fetchval("SELECT pg_size_pretty(pg_total_relation_size('outbox'))"),
                floor=floor.value,
                first=first[0],
                left=await _timed(conn, 0, reads),
                from_floor=await _timed(conn, floor.value, reads),
                left_pages=await _pages(conn, 0),
                floor_pages=await _pages(conn, floor.value),
            )
    finally:
        await pool.close()


def render(scan: Scan) -> list[str]:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    reads = len(scan.left)
    return [
        f"`python -m bench.outbox_scan --dead {scan.dead} --reads {reads}` · {stamp} · "
        f"outbox {scan.size} after the drain",
        "",
        "| the relay's first read (`SELECT_BATCH`, 1,000 rows) | median ms | min–max ms | pages touched |",
        "|---|---:|---:|---:|",
        f"| from the left, first read after the drain | {scan.first:.1f} | | |",
        f"| from the left, then | {statistics.median(scan.left):.2f} | {min(scan.left):.2f}–{max(scan.left):.2f} "
        f"| {scan.left_pages} |",
        f"| from the scan floor ({scan.floor:,}) | {statistics.median(scan.from_floor):.2f} "
        f"| {min(scan.from_floor):.2f}–{max(scan.from_floor):.2f} | {scan.floor_pages} |",
    ]


def main(
    dead: int = typer.Option(2_000_000, help="rows inserted and deleted before the reads"),
    reads: int = typer.Option(21, help="reads timed each way"),
) -> None:
    with own_postgres("outbox-scan") as (_work, server):
        lines = render(asyncio.run(measure(server, dead, reads)))
    print("\n".join(lines))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (Path(__file__).parent / "results" / f"outbox-scan-{stamp}.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    typer.run(main)
