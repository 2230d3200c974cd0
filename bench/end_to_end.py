"""Benchmark 4: end to end — a command accepted → its effect visible in the coverage answer.

Each request records a 1.00 payment on an unpaid period (a different contract each time) and,
as soon as the contracts service answers with the ``position`` its events got, asks
projections for that client's coverage with ``min_position``: projections answers once the
event has come through outbox → relay → Kafka → consumer → read model (bounded wait; a
``stale`` answer counts as a failure). Per run: the mix's own capacity (32 clients back to
back: on a fast host that is bound by their latency, 32 ÷ the round trip, not by CPU), then
open loop at a fixed 300 commands/s (the target's rate) and at half the capacity measured in
the first run (a rate the stack sustains with room: a command with its coverage read costs
the stack about three times a write alone, so half the *write* capacity, used before, queued
on a slow host).

Two latencies: **accepted → visible** (from the command's answer to the coverage answer
that includes it: the pipeline's own delay) and **total** (from the request's due time).
Accepted → visible is broken down per stage (``bench/stages.py``): recorded → produced
(the relay), produced → readable (Kafka), produced → applied (the projections consumer),
produced → visible (consumer, apply and the query's wait).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

from bench.context import Ctx
from bench.http import HttpPool
from bench.loadgen import LoadResult, Operation
from bench.measure import CAPACITY_CLIENTS, add_load_rows, half_of, measure
from bench.results import Target
from bench.stages import Breakdown, Command, Scraped, Tap, applied_summary, looks_per_wait, scrape
from bench.stats import latency_summary, spread
from bench.targets import Payable, load_targets

BENCH = "4 end-to-end"
RATE = 300
UNLOADED_RATE = 50
"""``bench.write_profile``'s default rate for the mix (below this host's CPU-bound ceiling)."""


class Stale(Exception):
    pass


async def run(ctx: Ctx) -> None:
    targets = await load_targets(ctx)
    payable = itertools.cycle(targets.payable[len(targets.payable) // 2 :] or targets.payable)
    today = ctx.today.isoformat()
    async with pools(ctx) as (contracts, projections):
        await _runs(ctx, contracts, projections, payable, today)


async def _runs(ctx: Ctx, contracts: HttpPool, projections: HttpPool, payable: Iterator[Payable], today: str) -> None:
    capacity: list[LoadResult] = []
    rates: list[int] = []
    totals: dict[int, list] = {}
    visible_runs: dict[int, list[dict[str, float]]] = {}
    stage_runs: dict[int, list[dict[str, dict[str, float]]]] = {}
    looks_runs: dict[int, list[float]] = {}
    tap = Tap(ctx.env.bootstrap)
    await tap.start()
    try:
        for n in range(ctx.profile.runs):
            op = pay_and_look(contracts, projections, payable, today, [])
            capacity.append(await measure(ctx, op, concurrency=CAPACITY_CLIENTS))
            ctx.say(f"  e2e run {n + 1}: capacity {capacity[-1].describe()}")
            if n == 0:
                rates = sorted({RATE, half_of(capacity[0].throughput)})
                for store in (totals, visible_runs, stage_runs, looks_runs):
                    store.update({r: [] for r in rates})
            for rate in rates:
                commands: list[Command] = []

                op = pay_and_look(contracts, projections, payable, today, commands)
                sampled = n == ctx.profile.runs - 1 and rate == RATE
                before = await scrape(projections)
                result = await measure(
                    ctx,
                    op,
                    rate=rate,
                    profile=("contracts", "projections"),
                    profile_label=f"{BENCH} at {rate}/s" if sampled else None,
                )
                after = await scrape(projections)
                stages = _stages(commands, tap, before, after)
                if (looks := looks_per_wait(before, after)) is not None:
                    looks_runs[rate].append(looks)
                totals[rate].append(result)
                visible_runs[rate].append(latency_summary([c.visible - c.accepted for c in commands]))
                stage_runs[rate].append(stages)
                ctx.say(
                    f"  e2e run {n + 1}: {result.describe()}; accepted→visible p50 "
                    f"{visible_runs[rate][-1]['p50']:.1f} ms, p99 {visible_runs[rate][-1]['p99']:.1f} ms"
                )
                for name, s in stages.items():
                    ctx.say(f"    {name}: p50 {s['p50']:.1f} · p90 {s['p90']:.1f} · p99 {s['p99']:.1f} ms")
    finally:
        await tap.stop()
    add_load_rows(
        ctx, BENCH, "command + coverage (total)", capacity, label=f"capacity ({CAPACITY_CLIENTS} clients back to back)"
    )
    for rate in rates:
        label = f"at {rate} cmd/s" + ("" if rate == RATE else " (half the capacity)")
        runs = visible_runs[rate]
        for q, target in (("p50", Target("<=", 30, "p50 ≤ 30 ms")), ("p99", Target("<=", 150, "p99 ≤ 150 ms"))):
            others = " · ".join(
                f"{k} {spread([v[k] for v in runs])[0]:,.1f}" for k in ("p50", "p90", "p99", "p99.9", "max") if k != q
            )
            ctx.report.add(
                BENCH,
                f"accepted → visible in coverage, {q} {label}",
                "ms",
                [v[q] for v in runs],
                target=target if rate == RATE else None,
                note=f"{others} ms",
                key="visible_p50" if rate == RATE and q == "p50" else "",
            )
        _add_stage_rows(ctx, label, stage_runs[rate], keyed=rate == RATE)
        if looks_runs[rate]:
            ctx.report.add(
                BENCH,
                f"↳ looks at the read model per coverage query waiting for min_position, {label}",
                "looks",
                looks_runs[rate],
                note="projections_min_position_looks: the first look, and one per wake-up",
            )
        add_load_rows(ctx, BENCH, "command + coverage (total)", totals[rate])


@asynccontextmanager
async def pools(ctx: Ctx) -> AsyncIterator[tuple[HttpPool, HttpPool]]:
    """The mix's clients: contracts as an accountant (payments), projections as a manager."""
    contracts = HttpPool(ctx.env.url("contracts"), size=256, token=ctx.env.token("accountant"))
    projections = HttpPool(ctx.env.url("projections"), size=256, token=ctx.env.token("manager"))
    try:
        yield contracts, projections
    finally:
        await contracts.close()
        await projections.close()


def pay_and_look(
    contracts: HttpPool, projections: HttpPool, payable: Iterator[Payable], today: str, commands: list[Command]
) -> Operation:
    """One end-to-end command: record 1.00 on the next unpaid period, then ask for its client's
    coverage at the position the answer gave; a stale answer raises ``Stale``."""

    async def op(i: int) -> None:
        t = next(payable)
        answer = await contracts.json(
            "POST",
            f"/contracts/{t.contract_id}/periods/{t.period_id}/payments",
            json={"amount": "1.00", "paid_on": today},
            expect=(201,),
        )
        accepted = time.time()
        coverage = await projections.json(
            "GET",
            f"/clients/{t.client_id}/coverage",
            params={"on": today, "min_position": answer["position"]},
        )
        if coverage.get("stale") or (coverage.get("position") or 0) < answer["position"]:
            raise Stale(f"position {coverage.get('position')} < {answer['position']}")
        commands.append(Command(answer["position"], accepted, time.time()))

    return op


APPLIED = "produced → applied (projections commit; histogram, interpolated)"


def _stages(commands: list[Command], tap: Tap, before: Scraped, after: Scraped) -> dict[str, dict[str, float]]:
    """One run's per-stage p50/p90/p99 (ms): exact from the tap, the apply from the metric."""
    stages = Breakdown.of(commands, tap.seen).summaries()
    stages[APPLIED] = applied_summary(before, after)
    return stages


KAFKA_STAGE = "produced → readable (Kafka)"
"""Kafka's own produced → readable: the ceiling accepted → visible is read against."""


def _add_stage_rows(ctx: Ctx, label: str, runs: list[dict[str, dict[str, float]]], keyed: bool = False) -> None:
    for name in runs[0] if runs else ():
        others = " · ".join(f"{k} {spread([r[name][k] for r in runs])[0]:,.1f}" for k in ("p90", "p99"))
        ctx.report.add(
            BENCH,
            f"↳ stage {name}, p50 {label}",
            "ms",
            [r[name]["p50"] for r in runs],
            note=f"{others} ms",
            key="readable_p50" if keyed and name == KAFKA_STAGE else "",
        )
