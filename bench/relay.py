"""Benchmark 2: the outbox relay, events/s to Kafka, next to Kafka's own producer tool.

Each run fills a scratch database's outbox with copies of rows the data generator wrote
(same payloads, keys and headers; topic ``bench.relay.v1``) and starts the standalone relay
(``python -m shared.outbox``, the code the services run in-process). The rate is rows
published / time from the first row leaving the outbox to the outbox being empty (start-up
is not counted). Runs alternate with two ceilings, with the relay's producer settings and
records of the same average size (payload + key + headers): ``ProducerPerformance`` from the
kafka-tools jar (Kafka's own, Java) and ``bench.producer_ceiling`` (aiokafka alone, sending as
the relay does, from memory: what Python does at best).

``drain_generated`` publishes the data set itself the same way (one run: it is the real
path that feeds the projections) and is reported beside it.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import asyncpg

from bench.context import Ctx
from bench.environment import cpu_of, free_port
from bench.measure import cpu_note
from bench.producer_ceiling import measure as bare_producer
from bench.profiling import profiled
from bench.results import Target
from bench.tools import create_topic, producer_performance, scratch_database
from deploy.local.layout import REPO
from shared.db.locks import RELAY_LOCK
from shared.db.migrations import apply_migrations, migrations_dir
from shared.outbox.messages import NOTIFY_CHANNEL

BENCH = "2 outbox relay"
TOPIC = "bench.relay.v1"
PERF_TOPIC = "bench.producer-perf.v1"
BARE_TOPIC = "bench.bare-producer.v1"
SAMPLE_LIMIT = 200_000


async def sample_outbox(ctx: Ctx) -> None:
    """Keep copies of generated outbox rows (before they are published) for the relay runs."""
    conn = await asyncpg.connect(ctx.env.dsn("contracts"))
    try:
        rows = await conn.fetch(
            "SELECT key, event_id, payload, headers FROM outbox ORDER BY id LIMIT $1",
            min(ctx.profile.relay_messages, SAMPLE_LIMIT),
        )
        size = await conn.fetchval("SELECT avg(length(payload) + length(key) + length(headers::text)) FROM outbox")
    finally:
        await conn.close()
    ctx.data["outbox_sample"] = [tuple(r) for r in rows]
    ctx.data["record_size"] = int(size or 1000)


def _relay_process(ctx: Ctx, dsn: str, log: Path, http_port: int | None = None) -> subprocess.Popen[bytes]:
    out = log.open("ab")
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shared.outbox",
            "--database-url",
            dsn,
            "--bootstrap-servers",
            ctx.env.bootstrap,
            "--client-id",
            "bench-relay",
            "--log-format",
            "json",
            "--http-port",  # its probes: a free port, not the default 8006 another stack may hold
            str(http_port or free_port()),
        ],
        stdout=out,
        stderr=subprocess.STDOUT,
        cwd=REPO,
        start_new_session=True,
    )


async def watch_drain(dsn: str, timeout: float, on_progress=None) -> tuple[int, float]:
    """(rows published, seconds from the first one leaving to the outbox being empty)."""
    conn = await asyncpg.connect(dsn)
    try:
        first, last = await conn.fetchrow("SELECT min(id), max(id) FROM outbox")
        if first is None:
            return 0, 0.0
        total = await conn.fetchval("SELECT count(*) FROM outbox")
        started = time.perf_counter()
        before = started
        deadline = started + timeout
        while True:
            low = await conn.fetchval("SELECT min(id) FROM outbox")
            now = time.perf_counter()
            if low == first:
                before = now  # nothing published yet: the clock starts at the last such look
            if on_progress is not None:
                on_progress(total if low is None else low - first)
            if low is None:
                return total, now - before
            if now > deadline:
                raise TimeoutError(f"outbox not drained after {timeout:.0f}s ({last - low + 1} rows left)")
            await asyncio.sleep(0.05)
    finally:
        await conn.close()


async def _fill(conn: asyncpg.Connection, rows: list[tuple], count: int) -> None:
    def records():
        for i in range(count):
            key, event_id, payload, headers = rows[i % len(rows)]
            yield TOPIC, key, event_id, payload, headers

    await conn.copy_records_to_table(
        "outbox", records=records(), columns=["topic", "key", "event_id", "payload", "headers"]
    )
    await conn.execute("VACUUM ANALYZE outbox")


async def _until_live(proc: subprocess.Popen[bytes], port: int, timeout: float = 120.0) -> None:
    """Wait until the relay's probe answers (its imports and start-up are behind it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the relay exited with {proc.returncode} before it answered")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.2)
    raise TimeoutError(f"the relay's probe on port {port} did not answer in {timeout:.0f}s")


async def _relay_run(ctx: Ctx, dsn: str, cpu: list[dict[str, float]], profile: bool = False) -> float:
    """One relay run; appends the CPU the relay, PostgreSQL and Kafka spent to ``cpu``.

    The relay starts first and the outbox is filled while this bench holds ``RELAY_LOCK`` (the
    relay's try-lock fails, so it waits): the CPU counted is the drain's, not the relay's
    start-up (≈2 s of imports, a third of a 60,000-row run's CPU) nor the fill's."""
    port = free_port()
    holder = await asyncpg.connect(dsn)
    proc = _relay_process(ctx, dsn, ctx.env.run_dir / "bench-relay.log", port)
    try:
        await holder.execute("SELECT pg_advisory_lock($1)", RELAY_LOCK)
        await _until_live(proc, port)
        await _fill(holder, ctx.data["outbox_sample"], ctx.profile.relay_messages)
        await asyncio.sleep(1.0)  # the relay's producer is up and it is polling the lock
        before, relay_before = ctx.env.cpu_seconds(), cpu_of(proc.pid) or 0.0
        await holder.execute("SELECT pg_advisory_unlock($1), pg_notify($2, '')", RELAY_LOCK, NOTIFY_CHANNEL)
        async with profiled(ctx, BENCH, {"standalone relay": proc.pid} if profile else {}):
            published, seconds = await watch_drain(dsn, timeout=900)
        after = ctx.env.cpu_seconds()
        used = {k: after[k] - before.get(k, 0.0) for k in ("postgres", "kafka")}
        used["relay"] = (cpu_of(proc.pid) or 0.0) - relay_before
        cpu.append(used)
    finally:
        proc.terminate()
        await asyncio.to_thread(proc.wait, 30)
        await holder.close()
    return published / seconds if seconds else float("nan")


async def run(ctx: Ctx) -> None:
    if "outbox_sample" not in ctx.data:
        raise RuntimeError("relay bench needs sample_outbox() before the generated outbox is drained")
    dsn = await scratch_database(ctx.env.dsn("contracts"), "bench_relay")
    await apply_migrations(dsn, migrations_dir("contracts"))
    await create_topic(ctx.env.bootstrap, TOPIC)
    await create_topic(ctx.env.bootstrap, PERF_TOPIC)
    await create_topic(ctx.env.bootstrap, BARE_TOPIC)
    size, records = ctx.data["record_size"], ctx.profile.producer_records
    relay: list[float] = []
    ceiling: list[float] = []
    bare: list[float] = []
    cpu: list[dict[str, float]] = []
    for i in range(ctx.profile.runs):
        ceiling.append(await asyncio.to_thread(producer_performance, ctx.env.bootstrap, PERF_TOPIC, records, size))
        bare.append(await asyncio.to_thread(bare_producer, ctx.env.bootstrap, BARE_TOPIC, records, size))
        relay.append(await _relay_run(ctx, dsn, cpu, profile=i == ctx.profile.runs - 1))
        ctx.say(
            f"  relay run {i + 1}: {relay[-1]:,.0f} events/s; ProducerPerformance {ceiling[-1]:,.0f} records/s; "
            f"bare aiokafka {bare[-1]:,.0f} records/s"
        )
    ctx.report.add(
        BENCH,
        f"events/s to Kafka, standalone relay, {ctx.profile.relay_messages:,} rows/run",
        "ev/s",
        relay,
        target=Target(">=", 20_000, "≥ 20,000 ev/s"),
        note=cpu_note(cpu, ctx.profile.relay_messages * len(cpu), per=1000, what="1,000 events", bound=True),
        key="relay",
    )
    ctx.report.add(
        BENCH,
        f"Kafka ProducerPerformance, acks=all idempotent, {records:,} × {size} B",
        "rec/s",
        ceiling,
        ceiling=True,
        key="producer_perf",
    )
    ctx.report.add(
        BENCH,
        f"bare aiokafka producer (bench.producer_ceiling), relay's settings, {records:,} × {size} B",
        "rec/s",
        bare,
        ceiling=True,
        key="aiokafka_producer",
    )


async def drain_generated(ctx: Ctx) -> None:
    """Publish what the data generator wrote (the real outbox) with one standalone relay."""
    from tqdm import tqdm

    dsn = ctx.env.dsn("contracts")
    proc = _relay_process(ctx, dsn, ctx.env.run_dir / "drain-relay.log")
    bar = tqdm(desc="relay → Kafka", unit="msg", unit_scale=True, dynamic_ncols=True, mininterval=1.0)
    try:
        published, seconds = await watch_drain(dsn, timeout=7200, on_progress=lambda n: bar.update(n - bar.n))
    finally:
        bar.close()
        proc.terminate()
        await asyncio.to_thread(proc.wait, 30)
    rate = published / seconds if seconds else float("nan")
    ctx.say(f"  generated outbox: {published:,} messages published in {seconds:.1f}s ({rate:,.0f}/s)")
    ctx.report.add(
        BENCH,
        f"drain of the generated outbox ({published:,} messages to 3 topics)",
        "ev/s",
        [rate],
        note="1 run, real data set",
    )
