"""Live catch-up on its own: the projections consumer applying a backlog, consumer settings side by side.

``python -m bench.catch_up --clients 2000`` (``make bench-catch-up``) starts its own Kafka and
PostgreSQL (free ports, a temp dir; stopped and deleted at the end), publishes a synthetic
history as the relay would (per client: registration, 2 contracts of 12 monthly periods; then
month by month, across all clients, each period's start on the schedule topic and 3 of 4
periods paid on the events topic — the two topics interleave as in production), then for
each consumer setting applies the whole backlog from offset 0 into a fresh database with the
service's own consumer (``events_consumer``: the runtime, the projector, the store; a fresh
interpreter on uvloop per setting). ``--before DIR`` adds the consumer of another source tree
(``git archive <commit> | tar -x -C DIR``: its code, its migrations, its defaults) on the same
topics in the same run. Per setting: events/s from start to everything consumed, the CPU per
event of the consumer's process and of PostgreSQL, the events parked on the way, the batches,
the consumer's RSS growth, its longest GC pause and slowest batch; and the bare aiokafka
consumer on the same topics (the ceiling issue 20 measures catch-up against). ``--statements
N``: each consumer's N costliest statements (``pg_stat_statements``, µs per event).
``--members N``: N consumer processes in the one group, each with its share of the partitions
(what replicas give a deployment; the rebuild runs one worker per core): events/s from the
first one's start to the last one's end, CPU summed over them. ``--tracemalloc N``: the (first)
consumer traces its allocations and prints, on stderr, the N sites that grew most from its start
to near its RSS peak.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import uvloop
from aiokafka import AIOKafkaProducer

import shared.events.contracts  # noqa: F401 - registers the payload models
from bench.consumer_ceiling import bare_consumer
from bench.environment import family_cpu
from bench.profiling import PG_STATEMENTS_SETTINGS
from deploy.local import api
from deploy.local.layout import REPO, StackPorts
from shared.events.envelope import Envelope
from shared.topics import CONTRACTS_EVENTS, CONTRACTS_SCHEDULE


@dataclass(frozen=True)
class Setting:
    name: str
    max_records: int
    paced: bool = True


BEFORE = "the --before tree's consumer, its defaults"
SETTINGS = {
    "live": Setting("this tree, the live service's settings: 2,000 records a batch", 2000),
    "released": Setting("this tree, 500 records a batch", 500),
    "unpaced": Setting("this tree, 2,000 records a batch, nothing paused (as fetched, before pacing)", 2000, False),
}


class History:
    """Envelopes of synthetic clients, in the order the relay would publish them."""

    def __init__(self) -> None:
        self.position = 0
        self.versions: dict[str, int] = {}

    def envelope(self, client: UUID, stream: str, event_type: str, data: dict[str, Any]) -> Envelope:
        self.position += 1
        self.versions[stream] = version = self.versions.get(stream, 0) + 1
        now = datetime.now(UTC)
        return Envelope(
            event_id=uuid4(),
            event_type=event_type,
            schema_version=1,
            stream_id=stream,
            stream_version=version,
            position=self.position,
            partition_key=str(client),
            occurred_at=now,
            recorded_at=now,
            correlation_id=str(uuid4()),
            actor="bench",
            data={"client_id": str(client), **data},
        )


def history(clients: int, seed: int = 7) -> list[tuple[str, Envelope]]:
    rnd = random.Random(seed)
    h, out = History(), []
    books = []  # (client, contract, [(period, starts, ends)])
    for n in range(clients):
        client = UUID(int=rnd.getrandbits(128))
        name = f"Client {n:06d}"
        out.append(
            (
                CONTRACTS_EVENTS,
                h.envelope(
                    client,
                    f"client-{client}",
                    "ClientRegistered",
                    {"name": name, "manager_name": "Ivan Petrov", "manager_email": "ivan@example.com"},
                ),
            )
        )
        for c in range(2):
            contract = UUID(int=rnd.getrandbits(128))
            stream = f"contract-{contract}"
            number = f"B-{n}-{c}"
            out.append(
                (
                    CONTRACTS_EVENTS,
                    h.envelope(
                        client,
                        stream,
                        "ContractOpened",
                        {"contract_id": str(contract), "number": number, "title": "IT", "signed_on": "2026-01-01"},
                    ),
                )
            )
            periods = []
            for m in range(1, 13):
                period = UUID(int=rnd.getrandbits(128))
                starts = date(2026, m, 1)
                ends = date(2026 + m // 12, m % 12 + 1, 1) - timedelta(days=1)
                periods.append((period, starts, ends))
                out.append(
                    (
                        CONTRACTS_EVENTS,
                        h.envelope(
                            client,
                            stream,
                            "ServicePeriodAdded",
                            {
                                "contract_id": str(contract),
                                "period_id": str(period),
                                "starts_on": starts.isoformat(),
                                "ends_on": ends.isoformat(),
                                "amount": "1000.00",
                                "currency": "RUB",
                                "payment_terms": rnd.choice(("prepaid", "postpaid")),
                                "remind_on": None,
                            },
                        ),
                    )
                )
            books.append((client, name, contract, number, periods))
    for m in range(12):
        for client, name, contract, number, periods in books:
            period, starts, ends = periods[m]
            stream = f"contract-{contract}"
            common = {"contract_id": str(contract), "period_id": str(period)}
            out.append(
                (
                    CONTRACTS_SCHEDULE,
                    h.envelope(
                        client,
                        stream,
                        "ServicePeriodStarted",
                        {
                            **common,
                            "client_name": name,
                            "manager_name": "Ivan Petrov",
                            "manager_email": "ivan@example.com",
                            "contract_number": number,
                            "contract_title": "IT",
                            "starts_on": starts.isoformat(),
                            "ends_on": ends.isoformat(),
                            "amount": "1000.00",
                            "currency": "RUB",
                            "payment_terms": "prepaid",
                            "paid_amount": "0.00",
                            "paid": False,
                        },
                    ),
                )
            )
            if rnd.random() < 0.75:
                out.append(
                    (
                        CONTRACTS_EVENTS,
                        h.envelope(
                            client,
                            stream,
                            "PaymentRecorded",
                            {
                                **common,
                                "payment_id": str(UUID(int=rnd.getrandbits(128))),
                                "amount": "1000.00",
                                "currency": "RUB",
                                "paid_on": starts.isoformat(),
                                "reference": "pp",
                                "period_paid_amount": "1000.00",
                                "period_paid": True,
                            },
                        ),
                    )
                )
    return out


async def publish(bootstrap: str, events: list[tuple[str, Envelope]]) -> float:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", linger_ms=5, max_batch_size=256 * 1024
    )
    await producer.start()
    started = time.perf_counter()
    try:
        for i in range(0, len(events), 5000):
            sent = [
                await producer.send(t, value=e.to_bytes(), key=e.partition_key.encode(), headers=e.kafka_headers())
                for t, e in events[i : i + 5000]
            ]
            await asyncio.gather(*sent)
    finally:
        await producer.stop()
    return time.perf_counter() - started


CHILD = """
import asyncio, inspect, json, os, resource, sys, time
import uvloop
import shared.events.contracts
from services.projections.adapters.db import open_pool
from services.projections.adapters.store import ReadModelStore
from services.projections.application.projector import Projector
from services.projections.entrypoints import metrics
from services.projections.entrypoints.consumer import events_consumer
from shared.consumer import DeadLetterProducer, DeadLetterPublisher
from shared.db.migrations import apply_migrations, migrations_dir
from shared.kafka_security import plaintext
from shared.logging import configure_logging
from shared.runtime import tune_gc

GC = {"start": 0.0, "longest_ms": 0.0, "full": 0}

def note_gc(phase, info):  # the consumer's longest collection: a pause of everything it does
    if phase == "start":
        GC["start"] = time.perf_counter()
    else:
        GC["longest_ms"] = max(GC["longest_ms"], (time.perf_counter() - GC["start"]) * 1000)
        GC["full"] += info["generation"] == 2

def rss_mb():
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

async def main(dsn, bootstrap, total, name, settings, rate):
    configure_logging("json", "WARNING")  # as the service runs: debug lines filtered out
    tune_gc()  # as the service's server does (shared.http.server)
    import gc
    gc.callbacks.append(note_gc)
    await apply_migrations(dsn, migrations_dir("projections"))
    kafka = plaintext(bootstrap)
    pool = await open_pool(dsn, min_size=2, max_size=4)
    dead_letters = DeadLetterProducer(kafka, name + "-dlq")
    publisher = DeadLetterPublisher(dead_letters.send, "bench." + name)
    known = inspect.signature(events_consumer).parameters
    paced = settings.pop("paced", True)
    settings = {k: v for k, v in settings.items() if k in known}
    if not paced:
        settings["pacing"] = lambda: None
    consumer = events_consumer(kafka, pool, Projector(ReadModelStore(), publisher.publish_all), dead_letters,
                               client_id=name, group="bench." + name, **settings)
    traced = int(os.environ.get("BENCH_TRACEMALLOC", "0"))
    if traced:
        import tracemalloc
        tracemalloc.start(6)
        before = tracemalloc.take_snapshot()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu, rss = usage.ru_utime + usage.ru_stime, rss_mb()
    base, started, wall = rss, time.perf_counter(), time.time()
    consumer.start()
    peak = None
    while (await pool.fetchval("SELECT coalesce(sum(next_offset), 0) FROM consumed_offsets")) < total:
        now = rss_mb()
        if traced and now > rss + 4:  # the heap near its peak: where it grew since the start
            peak = tracemalloc.take_snapshot()
        rss = max(rss, now)
        await asyncio.sleep(0.05)
    if traced and peak is not None:
        for stat in peak.compare_to(before, "traceback")[:traced]:
            print(f"{stat.size_diff / 2**20:+.1f} MB, {stat.count_diff:+,} blocks:", file=sys.stderr)
            for line in stat.traceback.format()[-12:]:
                print("   " + line, file=sys.stderr)
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - cpu
    parked = metrics.EVENTS.labels("parked")._value.get()
    batches = metrics.BATCH_SIZE._sum.get(), sum(b.get() for b in metrics.BATCH_SIZE._buckets)
    delays = await steady(pool, bootstrap, total, rate) if rate else {}
    await consumer.stop()
    await pool.close()
    pauses = consumer.pacing.pauses if getattr(consumer, "pacing", None) is not None else 0
    print(json.dumps({"seconds": seconds, "began": wall, "ended": wall + seconds, "cpu": cpu, "parked": parked,
                      "rss_growth_mb": rss - base,
                      "batches": batches[1], "pauses": pauses, "gc_longest_ms": GC["longest_ms"],
                      "gc_full": GC["full"], "batch_longest_s": batch_longest(), **delays}))

def batch_longest():  # the upper bound of the slowest batch's bucket (the histogram's resolution)
    bounds = list(metrics.BATCH_SECONDS._upper_bounds)
    filled = [b for b, n in zip(bounds, metrics.BATCH_SECONDS._buckets) if n.get() > 0]
    return filled[-1] if filled else 0.0

async def steady(pool, bootstrap, total, rate, seconds=10):
    # Caught up: a payment a tick at `rate`/s on contracts opened just before (each its own
    # stream: v1 opened, v2 period added, v3 paid), then produced -> applied quantiles from the
    # consumer's own histogram (interpolated within its buckets, as bench/stages.py reads it).
    from datetime import UTC, datetime
    from uuid import uuid4
    from aiokafka import AIOKafkaProducer
    from shared.events.envelope import Envelope
    from shared.topics import CONTRACTS_EVENTS
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", linger_ms=2)
    await producer.start()
    n = int(rate * seconds)
    def env(client, stream, version, event_type, data):
        now = datetime.now(UTC)
        return Envelope(event_id=uuid4(), event_type=event_type, schema_version=1, stream_id=stream,
                        stream_version=version, position=None, partition_key=str(client), occurred_at=now,
                        recorded_at=now, correlation_id=str(uuid4()), actor="bench",
                        data={"client_id": str(client), **data})
    def send(e):
        return producer.send(CONTRACTS_EVENTS, value=e.to_bytes(), key=e.partition_key.encode(),
                             headers=e.kafka_headers())
    contracts = [(uuid4(), uuid4(), uuid4()) for _ in range(n)]
    setup = []
    for client, contract, period in contracts:
        stream = f"contract-{contract}"
        setup.append(await send(env(client, stream, 1, "ContractOpened", {"contract_id": str(contract),
                     "number": "S-" + str(contract)[:8], "title": "IT", "signed_on": "2026-01-01"})))
        setup.append(await send(env(client, stream, 2, "ServicePeriodAdded", {"contract_id": str(contract),
                     "period_id": str(period), "starts_on": "2026-01-01", "ends_on": "2026-01-31",
                     "amount": "10.00", "currency": "RUB", "payment_terms": "prepaid", "remind_on": None})))
    await asyncio.gather(*setup)
    total += 2 * n
    while (await pool.fetchval("SELECT coalesce(sum(next_offset), 0) FROM consumed_offsets")) < total:
        await asyncio.sleep(0.05)
    before = [b.get() for b in metrics.SINCE_PRODUCED._buckets]
    loop = asyncio.get_running_loop()
    start, sent = loop.time(), []
    for i, (client, contract, period) in enumerate(contracts):
        await asyncio.sleep(max(0.0, start + i / rate - loop.time()))
        sent.append(await send(env(client, f"contract-{contract}", 3, "PaymentRecorded", {
            "contract_id": str(contract), "period_id": str(period), "payment_id": str(uuid4()),
            "amount": "10.00", "currency": "RUB", "paid_on": "2026-01-02", "reference": "s",
            "period_paid_amount": "10.00", "period_paid": True})))
    await asyncio.gather(*sent)
    await producer.stop()
    total += n
    while (await pool.fetchval("SELECT coalesce(sum(next_offset), 0) FROM consumed_offsets")) < total:
        await asyncio.sleep(0.05)
    bounds = list(metrics.SINCE_PRODUCED._upper_bounds)
    counts, below, out = [b.get() - a for a, b in zip(before, metrics.SINCE_PRODUCED._buckets)], 0.0, {}
    cumulative = [sum(counts[: k + 1]) for k in range(len(counts))]
    for name, q in (("p50_ms", 0.5), ("p90_ms", 0.9), ("p99_ms", 0.99)):
        rank, lower, prev = q * cumulative[-1], 0.0, 0.0
        for upper, c in zip(bounds, cumulative):
            if c >= rank:
                inside = (upper - lower) * (rank - prev) / max(c - prev, 1e-9)
                out[name] = (lower if upper == float("inf") else lower + inside) * 1000
                break
            lower, prev = upper, c
    return out

uvloop.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], json.loads(sys.argv[5]), int(sys.argv[6])))
"""
"""Applies the backlog with the consumer of the source tree it runs in (its cwd): this one, or
a checkout of an earlier commit (``--before``), in a fresh interpreter each."""


STATEMENTS = """SELECT s.calls, s.total_exec_time, s.rows, regexp_replace(left(s.query, 140), '\\s+', ' ', 'g') AS query
FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
WHERE d.datname = $1 AND s.toplevel ORDER BY s.total_exec_time DESC LIMIT $2"""


async def statements(base: str, name: str, total: int, top: int) -> list[str]:
    """The consumer's top-level statements in its database, by execution time per event."""
    conn = await asyncpg.connect(base)
    try:
        rows = await conn.fetch(STATEMENTS, name, top)
    finally:
        await conn.close()
    return [
        f"    {r['total_exec_time'] * 1000 / total:7.1f} µs/event {r['calls']:>7,} calls "
        f"{r['rows'] / max(r['calls'], 1):8.1f} rows/call  {r['query']}"
        for r in rows
    ]


async def apply_backlog(
    stack: api.StackInfo,
    tree: Path,
    setting: Setting,
    total: int,
    postmaster: int,
    rate: int = 0,
    top: int = 0,
    members: int = 1,
    traced: int = 0,
) -> dict[str, float]:
    base = stack.database_urls["projections"]
    name = f"catchup_{uuid4().hex[:8]}"
    admin = await asyncpg.connect(base)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        if top:
            await admin.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            await admin.execute("SELECT pg_stat_statements_reset()")
    finally:
        await admin.close()
    dsn = base.rsplit("/", 1)[0] + f"/{name}"
    settings = {"max_records": setting.max_records, "paced": setting.paced}
    pg = family_cpu(postmaster)
    children = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            CHILD,
            dsn,
            stack.kafka_bootstrap,
            str(total),
            name,
            json.dumps(settings if setting.name != BEFORE else {}),
            str(rate if member == 0 else 0),
            cwd=tree,
            env={**os.environ, "PYTHONPATH": str(tree), "BENCH_TRACEMALLOC": str(traced if member == 0 else 0)},
            stdout=subprocess.PIPE,
        )
        for member in range(members)
    ]
    outs = await asyncio.wait_for(asyncio.gather(*(c.communicate() for c in children)), 1800)
    if failed := [c.returncode for c in children if c.returncode != 0]:
        raise RuntimeError(f"{setting.name}: a consumer exited {failed[0]}")
    each = [json.loads(out.decode().strip().splitlines()[-1]) for out, _ in outs]
    result = dict(each[0])  # the first member's own figures (its steady phase, its RSS)
    if members > 1:  # one group: from the first member's start to the last one's end, CPU summed
        result["seconds"] = max(r["ended"] for r in each) - min(r["began"] for r in each)
        for key in ("cpu", "parked", "batches", "pauses"):
            result[key] = sum(r.get(key, 0) for r in each)
        for key in ("rss_growth_mb", "gc_longest_ms", "batch_longest_s"):
            result[key] = max(r.get(key, 0) for r in each)
    pg = family_cpu(postmaster) - pg
    if top:
        print("\n".join([f"  {setting.name}: top statements", *await statements(base, name, total, top)]), flush=True)
    return {
        "events_per_second": total / result["seconds"],
        "seconds": result["seconds"],
        "cpu_us_per_event": result["cpu"] / total * 1e6,
        "pg_cpu_us_per_event": pg / total * 1e6,
        "parked": result["parked"],
        "rss_growth_mb": result["rss_growth_mb"],
        "gc_longest_ms": result.get("gc_longest_ms", 0.0),
        "batch_longest_s": result.get("batch_longest_s", 0.0),
        "batches": result["batches"],
        "pauses": result.get("pauses", 0),
        **{k: v for k, v in result.items() if k.endswith("_ms")},
    }


def _postmaster(run_dir: Path) -> int:
    return int(next(run_dir.rglob("postmaster.pid")).read_text().split()[0])


async def main(args: argparse.Namespace) -> None:
    if args.statements:  # read by deploy.local.postgres when it starts the server
        os.environ["ABONENT_PG_SETTINGS"] = PG_STATEMENTS_SETTINGS
    run_dir = Path(tempfile.mkdtemp(prefix="abonent-catchup-"))
    stack = await asyncio.to_thread(api.start_stack, run_dir, StackPorts.free(), progress=lambda _: None)
    try:
        events = history(args.clients)
        seconds = await publish(stack.kafka_bootstrap, events)
        total = len(events)
        del events
        gc.collect()
        print(f"published {total:,} events of {args.clients:,} clients in {seconds:.1f} s", flush=True)
        load = os.getloadavg()[0]
        rows = []
        for _ in range(args.runs):
            n, s = await bare_consumer(stack.kafka_bootstrap)
            rows.append(("bare aiokafka consumer (ceiling)", {"events_per_second": n / s}))
            runs = [(args.before, Setting(BEFORE, 0))] if args.before else []
            runs += [(REPO, SETTINGS[key]) for key in args.settings.split(",") if key]
            for tree, setting in runs:
                result = await apply_backlog(
                    stack,
                    tree,
                    setting,
                    total,
                    _postmaster(run_dir),
                    args.steady,
                    args.statements,
                    args.members,
                    args.tracemalloc,
                )
                rows.append((setting.name, result))
                print(f"  {setting.name}: {result}", flush=True)
        ceiling = [r["events_per_second"] for name, r in rows if name.startswith("bare")]
        bare = sorted(ceiling)[len(ceiling) // 2]
        print(f"\nload average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end; {total:,} events")
        print(
            "| consumer | events/s | ÷ bare consumer | s | consumer CPU µs/event | PostgreSQL CPU µs/event "
            "| parked | pauses | batches | consumer RSS growth MB | longest GC pause ms | slowest batch ≤ s "
            "| caught up: produced → applied p50 · p90 · p99 ms |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for name, r in rows:
            print(
                f"| {name} | {r['events_per_second']:,.0f} | {r['events_per_second'] / bare:.3f} | "
                f"{r.get('seconds', 0):.1f} | {r.get('cpu_us_per_event', 0):.0f} | "
                f"{r.get('pg_cpu_us_per_event', 0):.0f} | {r.get('parked', 0):,.0f} | {r.get('pauses', 0):,.0f} | "
                f"{r.get('batches', 0):,.0f} | "
                f"{r.get('rss_growth_mb', 0):.0f} | "
                f"{r.get('gc_longest_ms', 0):.1f} | {r.get('batch_longest_s', 0):g} | "
                + " · ".join(f"{r[q]:.1f}" for q in ("p50_ms", "p90_ms", "p99_ms") if q in r)
                + " |"
            )
        if args.steady:
            print(f"caught up: {args.steady} payments/s for 10 s, each on a contract of its own")
    finally:
        await asyncio.to_thread(api.stop_stack, run_dir, purge=True)
        shutil.rmtree(run_dir, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument(
        "--settings", default="live", help=f"comma-separated: {', '.join(SETTINGS)} (empty: --before only)"
    )
    parser.add_argument("--before", type=Path, help="a source tree of an earlier commit: its consumer runs too")
    parser.add_argument(
        "--steady",
        type=int,
        default=0,
        help="then, caught up, this many payments/s for 10 s: produced -> applied (read it for the first setting "
        "of a run only: a later one also reads the earlier ones' steady records as backlog)",
    )
    parser.add_argument(
        "--statements",
        type=int,
        default=0,
        metavar="N",
        help="load pg_stat_statements and print each consumer's N costliest statements (µs of execution per event)",
    )
    parser.add_argument(
        "--members",
        type=int,
        default=1,
        help="consumer processes in the one group, each with its share of the partitions (the scale-out a "
        "deployment gets from replicas; the rebuild runs one worker per core): events/s from the first one's "
        "start to the last one's end, CPU per event summed over them",
    )
    parser.add_argument(
        "--tracemalloc",
        type=int,
        default=0,
        metavar="N",
        help="trace the (first) consumer's allocations and print, on stderr, the N sites whose memory grew most "
        "from its start to near its RSS peak (slows it: read its sizes, not its speed)",
    )
    uvloop.run(main(parser.parse_args()))
