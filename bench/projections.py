"""Benchmark 3: projections, events/s applied on a replay, next to two ceilings.

* the replay is the operator's own command, ``python -m services.projections.entrypoints.cli
  rebuild``: read both contracts topics from offset 0 into a fresh schema, index it, swap
  it in (the live consumer keeps running); its events/s is read over the whole run;
* ceiling 1, a bare aiokafka consumer reading the same partitions from the beginning to
  the same end offsets, decoding nothing, writing nowhere;
* ceiling 2, a bare asyncpg ``COPY`` of one row per replayed event (rows shaped like the
  ``periods`` read-model table, into an UNLOGGED table with its primary key only — the
  rebuild's own bulk-load form).

``catch_up`` also times the live consumer applying the freshly generated data set.
"""

from __future__ import annotations

import asyncio
import os
import re
import resource
import subprocess
import sys
import time
import uuid
from functools import partial
from typing import Any

import asyncpg
import httpx
from tqdm import tqdm

from bench.catch_up import SETTINGS, apply_backlog
from bench.consumer_ceiling import bare_consumer, end_offsets
from bench.context import Ctx
from bench.measure import cpu_note
from bench.profiling import profiled
from bench.results import Target
from deploy.local.layout import REPO
from services.projections.application.first_fill import FillStatus

BENCH = "3 projections"
SUMMARY = re.compile(r"([\d,]+) events read in ([\d.]+) s \(([\d,]+) ev/s\)")


async def catch_up(ctx: Ctx) -> None:
    """Start the projections service and wait until it applied everything on its topics."""
    total = sum((await end_offsets(ctx.env.bootstrap)).values())
    started = time.perf_counter()
    # live, not ready: a first fill keeps it unready until the fill is swapped in
    await asyncio.to_thread(partial(ctx.env.start, "projections", until="live"))
    conn = await asyncpg.connect(ctx.env.dsn("projections"))
    bar = tqdm(
        total=total, desc="projections catch-up", unit="ev", unit_scale=True, dynamic_ncols=True, mininterval=1.0
    )
    service = httpx.AsyncClient(base_url=ctx.env.url("projections"), timeout=5)
    try:
        while True:
            done = await conn.fetchval("SELECT coalesce(sum(next_offset), 0)::bigint FROM projections.consumed_offsets")
            if done >= total:
                bar.update(done - bar.n)
                break
            # a first fill's offsets appear only at its swap: until then, its own count
            bar.update(max(done, await _filled_so_far(service)) - bar.n)
            if time.perf_counter() - started > 7200:
                raise TimeoutError("projections did not catch up in 2 hours")
            await asyncio.sleep(0.2)
    finally:
        bar.close()
        await conn.close()
        await service.aclose()
    seconds = time.perf_counter() - started
    ctx.data["replay_events"] = total
    fill = await _first_fill(ctx)
    filled = fill.get("state") == "done"
    rate = total / seconds
    ctx.say(f"  projections applied {total:,} events in {seconds:.1f}s ({rate:,.0f}/s), first fill: {fill}")
    how = "first fill (the rebuild's bulk replay), then live" if filled else "live consumer"
    ctx.report.add(
        BENCH,
        f"a fresh projections service's catch-up after the data load: {how} ({total:,} events, incl. start-up)",
        "ev/s",
        [total / seconds],
        note=(
            f"1 run; the fill's {fill['workers']} worker processes peaked at {fill['peak_worker_rss_mb']} MB RSS each"
            if filled and fill.get("peak_worker_rss_mb")
            else "1 run; the fill ran in the service's own process"
            if filled
            else "1 run"
        ),
        key="catch_up",
    )


async def _fill_shown(service: httpx.AsyncClient) -> dict[str, Any]:
    """The first fill as ``/health/ready`` shows it (consumer.first_fill); {} when it says nothing."""
    try:
        body = (await service.get("/health/ready")).json()
    except (httpx.HTTPError, ValueError):
        return {}
    return dict((body.get("consumer") or {}).get("first_fill") or {})


async def _filled_so_far(service: httpx.AsyncClient) -> int:
    """Records a running first fill replayed so far (0: none runs)."""
    fill = await _fill_shown(service)
    return int(fill.get("done", 0)) if fill.get("state") == "filling" else 0


async def _first_fill(ctx: Ctx) -> dict[str, Any]:
    """What the service says its first fill did, once it ended: the filled schema's offsets are
    swapped in a moment before the fill says done."""
    async with httpx.AsyncClient(base_url=ctx.env.url("projections"), timeout=5) as client:
        for _ in range(300):
            if (fill := await _fill_shown(client)).get("state") in FillStatus.ENDED:
                break
            await asyncio.sleep(0.1)
    return fill


async def live_catch_up(ctx: Ctx) -> None:
    """The live consumer working a backlog off, as a read model that has consumed before does
    (one that was down, or fell behind) — the first fill is for a fresh one only. The service's
    own consumer (``events_consumer``, its live settings) in a fresh interpreter, from offset 0
    of the same topics into a database of its own under a group of its own (``bench.catch_up``)."""
    total = ctx.data["replay_events"]
    postgres = ctx.env.stack.pids.get("postgres")
    assert postgres is not None, "the bench's PostgreSQL has no pid"
    result = await apply_backlog(ctx.env.stack, REPO, SETTINGS["live"], total, postgres)
    ctx.say(f"  live consumer from offset 0: {result['events_per_second']:,.0f} ev/s ({result['seconds']:.1f}s)")
    ctx.report.add(
        BENCH,
        f"live consumer catch-up of a read model behind, {total:,} events from offset 0 (its own database and group)",
        "ev/s",
        [result["events_per_second"]],
        note=(
            f"1 run; consumer CPU {result['cpu_us_per_event']:.0f} µs/event, "
            f"PostgreSQL {result['pg_cpu_us_per_event']:.0f} µs/event"
        ),
        key="live_catch_up",
    )


async def _rebuild(ctx: Ctx, profile: bool = False) -> tuple[int, float]:
    env = {**os.environ, **ctx.env.stack.env(), "COLUMNS": "200", "ABONENT_LOG_FORMAT": "json"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.projections.entrypoints.cli",
        "rebuild",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=REPO,
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    stack_before = ctx.env.cpu_seconds()
    async with profiled(ctx, BENCH, {"cli rebuild": proc.pid} if profile else {}):
        stdout, stderr = await asyncio.wait_for(proc.communicate(), 4 * 3600)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    stack_after = ctx.env.cpu_seconds()
    used = {k: stack_after[k] - stack_before.get(k, 0.0) for k in ("postgres", "kafka", "projections")}
    used["rebuild"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    ctx.data.setdefault("rebuild_cpu", []).append(used)
    text = (stdout + stderr).decode(errors="replace")
    (ctx.env.run_dir / "rebuild.log").open("a").write(text)
    found = SUMMARY.search(text)
    if proc.returncode != 0 or not found:
        raise RuntimeError(f"rebuild failed (exit {proc.returncode}): {text[-400:]}")
    return int(found.group(1).replace(",", "")), float(found.group(2))


async def bare_copy(dsn: str, rows: int) -> float:
    """Seconds to COPY ``rows`` periods-shaped rows into an UNLOGGED table with its PK only."""
    conn = await asyncpg.connect(dsn)
    try:
        sample = await conn.fetch("""SELECT contract_id, client_id, starts_on, ends_on, amount, currency,
                                            payment_terms, remind_on, paid_amount
                                     FROM projections.periods LIMIT 100000""")
        await conn.execute("DROP TABLE IF EXISTS public.bench_copy")
        await conn.execute("""CREATE UNLOGGED TABLE public.bench_copy
                              (LIKE projections.periods INCLUDING DEFAULTS INCLUDING GENERATED)""")
        await conn.execute("ALTER TABLE public.bench_copy ADD PRIMARY KEY (period_id)")
        base = uuid.uuid4().int & ~((1 << 64) - 1)

        def records():
            for i in range(rows):
                yield (uuid.UUID(int=base + i), *sample[i % len(sample)])

        columns = [
            "period_id",
            "contract_id",
            "client_id",
            "starts_on",
            "ends_on",
            "amount",
            "currency",
            "payment_terms",
            "remind_on",
            "paid_amount",
        ]
        started = time.perf_counter()
        await conn.copy_records_to_table("bench_copy", schema_name="public", records=records(), columns=columns)
        seconds = time.perf_counter() - started
        await conn.execute("DROP TABLE public.bench_copy")
        return seconds
    finally:
        await conn.close()


async def run(ctx: Ctx) -> None:
    replay, consumer, copy = [], [], []
    events = 0
    for i in range(max(ctx.profile.runs, ctx.profile.replay_runs)):
        if i < ctx.profile.replay_runs:
            events, seconds = await _rebuild(ctx, profile=i == ctx.profile.replay_runs - 1)
            replay.append(events / seconds)
            ctx.say(f"  replay run {i + 1}: {replay[-1]:,.0f} ev/s ({events:,} events in {seconds:.1f}s)")
        n, s = await bare_consumer(ctx.env.bootstrap)
        consumer.append(n / s)
        copy.append(n / await bare_copy(ctx.env.dsn("projections"), n))
        ctx.say(f"  ceilings run {i + 1}: bare consumer {consumer[-1]:,.0f} rec/s; bare COPY {copy[-1]:,.0f} rows/s")
    ctx.report.add(
        BENCH,
        f"events/s applied, `cli rebuild` replaying {events:,} events into a fresh schema",
        "ev/s",
        replay,
        target=Target(">=", 20_000, "≥ 20,000 ev/s"),
        note=cpu_note(
            ctx.data.get("rebuild_cpu", []),
            events * len(replay),
            per=1000,
            what="1,000 events (projections = the live service meanwhile)",
            bound=True,
        ),
        key="replay",
    )
    ctx.report.add(
        BENCH,
        "bare aiokafka consumer, same topics, no decoding, no database",
        "rec/s",
        consumer,
        ceiling=True,
        key="bare_consumer",
    )
    ctx.report.add(BENCH, "bare asyncpg COPY, one periods row per event, UNLOGGED + PK", "rows/s", copy, ceiling=True)
