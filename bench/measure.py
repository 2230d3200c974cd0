"""One measured load run, and the rows it turns into.

Every run starts from a quiet system (``settle``: outboxes empty, projections caught up,
services idle) so a run does not pay for the backlog of the one before, and it counts the
CPU each process of the stack spent on it, from its start until the system is quiet again
(so the relay's and the projections' share of a command is included). CPU per request is
the figure that survives a busy machine: the latency and throughput of a run depend on what
else runs, the CPU a command costs hardly does.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.context import Ctx
from bench.loadgen import LoadResult, Operation, closed_loop, open_loop
from bench.profiling import profiled
from bench.results import Target
from bench.stats import spread
from services.projections.entrypoints.consumer import TOPICS
from shared.topics import ALL_TOPICS

QUIET_CPU = 0.15
"""A service using less than this share of a core is idle (relay and consumer poll)."""
SERVICES = ("contracts", "projections", "tickets", "notifier", "scheduler")


async def settle(ctx: Ctx, timeout: float = 120.0) -> dict[str, float]:
    """Wait until the work of earlier runs is done; returns each process's idle CPU rate
    (CPU seconds per second in the last quiet look), to subtract from what a run costs."""
    started = time.perf_counter()
    tps = [TopicPartition(s.name, p) for s in ALL_TOPICS if s.name in TOPICS for p in range(s.partitions)]
    consumer = AIOKafkaConsumer(bootstrap_servers=ctx.env.bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    conns = {name: await asyncpg.connect(ctx.env.dsn(name)) for name in ("contracts", "tickets", "projections")}
    try:
        while True:
            pending = sum([await conns[n].fetchval("SELECT count(*) FROM outbox") for n in ("contracts", "tickets")])
            ends = sum((await consumer.end_offsets(tps)).values())
            applied = await conns["projections"].fetchval(
                "SELECT coalesce(sum(next_offset), 0)::bigint FROM projections.consumed_offsets"
            )
            before = ctx.env.cpu_seconds()
            await asyncio.sleep(1.0)
            after = ctx.env.cpu_seconds()
            idle = {k: after[k] - before.get(k, 0.0) for k in after}  # per second
            busy = max((rate for name, rate in idle.items() if name.rsplit("-", 1)[0] in SERVICES), default=0.0)
            if pending == 0 and applied >= ends and busy < QUIET_CPU:
                return idle
            if time.perf_counter() - started > timeout:
                busiest = max(idle, key=lambda k: idle[k] if k.rsplit("-", 1)[0] in SERVICES else -1.0)
                ctx.say(
                    f"  (not quiet after {timeout:.0f}s: outbox {pending}, lag {ends - applied}, "
                    f"busiest service {busiest} at {busy:.0%} of a core; measuring anyway)"
                )
                _count_not_quiet(ctx, busiest)
                return {k: 0.0 for k in idle}
    finally:
        for conn in conns.values():
            await conn.close()
        await consumer.stop()


NOT_QUIET = "not_quiet"


def _count_not_quiet(ctx: Ctx, busiest: str) -> None:
    """Keep a note in the report of the runs that could not start (or end) on a quiet system:
    their latency and capacity carry what else ran; their CPU per request is still the run's."""
    seen: dict[str, int] = ctx.data.setdefault(NOT_QUIET, {})
    if not seen:
        ctx.report.notes.append("")  # this note's place; filled in below as runs are counted
        ctx.data["not_quiet_note"] = len(ctx.report.notes) - 1
    seen[busiest] = seen.get(busiest, 0) + 1
    listed = ", ".join(f"{name} {n}×" for name, n in sorted(seen.items(), key=lambda kv: -kv[1]))
    ctx.report.notes[ctx.data["not_quiet_note"]] = (
        f"{sum(seen.values())} quiet checks gave up after their wait (busiest service: {listed}); "
        "those runs were measured on a system still busy with earlier work (see the run's log)"
    )


async def measure(
    ctx: Ctx,
    op: Operation,
    *,
    rate: float | None = None,
    concurrency: int = 32,
    duration: float | None = None,
    profile_label: str | None = None,
    profile: tuple[str, ...] = (),
) -> LoadResult:
    """Settle, then run ``op`` at ``rate`` (open loop) or, with no rate, ``concurrency``
    back-to-back workers (closed loop: the capacity); settle again and charge the CPU."""
    duration = duration or ctx.profile.window
    idle = await settle(ctx)
    before, started = ctx.env.cpu_seconds(), time.perf_counter()
    pids = {name: ctx.env.pid(name) for name in profile} if profile_label else {}
    async with profiled(ctx, profile_label or "", pids):
        if rate is None:
            result = await closed_loop(op, concurrency, duration)
        else:
            result = await open_loop(op, rate, duration)
    await settle(ctx)
    after, seconds = ctx.env.cpu_seconds(), time.perf_counter() - started
    # what each process spent beyond its idle polling (relay, consumers, broker) meanwhile
    result.cpu = {k: max(0.0, after[k] - before.get(k, 0.0) - idle.get(k, 0.0) * seconds) for k in after}
    return result


def cpu_note(cpu: list[dict[str, float]], count: int, per: int = 1, what: str = "request", bound: bool = False) -> str:
    """ "CPU ms per <what>: process a · process b …" summed over runs, for ``count`` done in all."""
    if not count:
        return ""
    totals: dict[str, float] = {}
    for run in cpu:
        for k, v in run.items():
            totals[k] = totals.get(k, 0.0) + v
    scale = 1000 * per / count
    parts = [f"{k} {v * scale:.2f}" for k, v in sorted(totals.items(), key=lambda kv: -kv[1]) if v * scale >= 0.005]
    stack = sum(v for k, v in totals.items() if not k.startswith("bench"))
    note = f"CPU ms per {what}: {' · '.join(parts)}; stack total {stack * scale:.2f}"
    if bound and stack:
        cores = os.cpu_count() or 1
        note += f"; CPU-bound ceiling with {cores} idle cores ≈ {cores * count / stack:,.0f}/s"
    return note


def _cpu_note(results: list[LoadResult], bound: bool = False) -> str:
    return cpu_note([r.cpu for r in results], sum(r.ok for r in results), bound=bound)


def add_load_rows(
    ctx: Ctx,
    bench: str,
    what: str,
    results: list[LoadResult],
    *,
    throughput_target: Target | None = None,
    latency_target: Target | None = None,
    latency: str = "p99",
    throughput: bool = True,
    label: str | None = None,
    key: str = "",
) -> None:
    """A throughput row (ok/s) and a latency row (``latency`` as the value, the other
    percentiles as medians in the note), one value per run; failures and CPU per request
    in the notes."""
    label = label or f"at {results[0].offered_rate:,.0f}/s offered"
    errors = sum((r.errors for r in results), start=type(results[0].errors)())
    sent = sum(r.sent + r.errors.get("too_many_in_flight", 0) for r in results)
    failed = f"{sum(errors.values()):,} of {sent:,} failed {dict(errors)}" if errors else ""
    cpu = _cpu_note(results, bound=throughput_target is not None)
    if not throughput:
        failed = "; ".join(x for x in (failed, cpu) if x)
    if throughput:
        ctx.report.add(
            bench,
            f"{what}/s {label}",
            "/s",
            [r.throughput for r in results],
            target=throughput_target,
            note="; ".join(x for x in (failed, cpu) if x),
            key=key,
        )
    pct = [r.percentiles() for r in results]
    others = " · ".join(
        f"{k} {spread([p[k] for p in pct])[0]:,.1f}" for k in ("p50", "p90", "p99", "p99.9", "max") if k != latency
    )
    ctx.report.add(
        bench,
        f"{what} latency {latency} {label}",
        "ms",
        [p[latency] for p in pct],
        target=latency_target,
        note="; ".join(x for x in (f"{others} ms", "" if throughput else failed) if x),
    )


CAPACITY_CLIENTS = 32
"""Clients back to back for a capacity run."""


def half_of(capacity: float) -> int:
    """Half the measured capacity, rounded to a 10 (at least 10/s)."""
    return max(10, int(round(capacity / 2, -1)))


def rate_label(rate: int, profile_rates: tuple[int, ...]) -> str:
    return f"at {rate:,}/s offered" + ("" if rate in profile_rates else " (half the capacity)")


@dataclass
class Sweep:
    """Per run: the capacity, then each fixed rate (the profile's and half the first capacity)."""

    capacity: list[LoadResult] = field(default_factory=list)
    by_rate: dict[int, list[LoadResult]] = field(default_factory=dict)


async def sweep(
    ctx: Ctx,
    name: str,
    op_for: Callable[[str], Operation],
    *,
    rates: tuple[int, ...],
    sampled_rate: int,
    profile: tuple[str, ...],
    bench: str,
    before_run: Callable[[int], Awaitable[None]] | None = None,
) -> Sweep:
    """Run the capacity and fixed-rate measurements ``ctx.profile.runs`` times; py-spy samples
    ``profile`` during the last run at ``sampled_rate``. ``op_for(tag)`` gives a fresh
    operation per measurement (unique ids per run)."""
    out = Sweep()
    for n in range(ctx.profile.runs):
        if before_run is not None:
            await before_run(n)
        out.capacity.append(await measure(ctx, op_for(f"{n}c"), concurrency=CAPACITY_CLIENTS))
        ctx.say(f"  {name}, run {n + 1}: capacity {out.capacity[-1].throughput:,.0f}/s with {CAPACITY_CLIENTS} clients")
        if n == 0:  # the profile's rates, and half the capacity: latency when not overloaded
            out.by_rate = {r: [] for r in sorted({*rates, half_of(out.capacity[0].throughput)})}
        for rate in out.by_rate:
            sampled = n == ctx.profile.runs - 1 and rate == sampled_rate
            result = await measure(
                ctx,
                op_for(f"{n}-{rate}"),
                rate=rate,
                profile_label=f"{bench} at {rate}/s" if sampled else None,
                profile=profile,
            )
            out.by_rate[rate].append(result)
            ctx.say(f"  {name}, run {n + 1}: {result.describe()}")
    return out


def add_sweep_rows(
    ctx: Ctx,
    bench: str,
    what: str,
    result: Sweep,
    *,
    rates: tuple[int, ...],
    throughput_target: Target | None = None,
    latency_rate: int,
    latency_target: Target | None,
    capacity_key: str = "",
) -> None:
    add_load_rows(
        ctx,
        bench,
        what,
        result.capacity,
        label=f"capacity ({CAPACITY_CLIENTS} clients back to back)",
        throughput_target=throughput_target,
        key=capacity_key,
    )
    for rate, results in result.by_rate.items():
        add_load_rows(
            ctx,
            bench,
            what,
            results,
            label=rate_label(rate, rates),
            latency_target=latency_target if rate == latency_rate else None,
        )
