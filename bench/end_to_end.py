"""Benchmark 4: end to end — a command accepted → its effect visible in the coverage answer.

At a fixed 300 commands/s (and, when the write path was measured first, at half its
capacity, where nothing queues), each request records a 1.00 payment on an unpaid period
(a different contract each time) and, as soon as the contracts service answers with the
``position`` its events got, asks projections for that client's coverage with
``min_position``: projections answers once the event has come through outbox → relay →
Kafka → consumer → read model (bounded wait; a ``stale`` answer counts as a failure).

Two latencies: **accepted → visible** (from the command's answer to the coverage answer
that includes it: the pipeline's own delay) and **total** (from the request's due time).
"""

from __future__ import annotations

import itertools
import time

from bench.context import Ctx
from bench.http import HttpPool
from bench.measure import add_load_rows, measure
from bench.results import Target
from bench.stats import latency_summary, spread
from bench.targets import load_targets
from bench.write_path import half_of

BENCH = "4 end-to-end"
RATE = 300


class Stale(Exception):
    pass


async def run(ctx: Ctx) -> None:
    targets = await load_targets(ctx)
    payable = itertools.cycle(targets.payable[len(targets.payable) // 2:] or targets.payable)
    today = ctx.today.isoformat()
    contracts = HttpPool(ctx.env.url("contracts"), size=256)
    projections = HttpPool(ctx.env.url("projections"), size=256)
    rates = sorted({RATE, *([half_of(ctx.data["write_capacity"])] if "write_capacity" in ctx.data else [])})
    totals: dict[int, list] = {r: [] for r in rates}
    visible_runs: dict[int, list[dict[str, float]]] = {r: [] for r in rates}
    try:
        for n in range(ctx.profile.runs):
            for rate in rates:
                visible: list[float] = []

                async def op(i: int, visible: list[float] = visible) -> None:
                    t = next(payable)
                    answer = await contracts.json(
                        "POST", f"/contracts/{t.contract_id}/periods/{t.period_id}/payments",
                        json={"amount": "1.00", "paid_on": today}, expect=(201,))
                    accepted = time.perf_counter()
                    coverage = await projections.json("GET", f"/clients/{t.client_id}/coverage", params={
                        "on": today, "min_position": answer["position"]})
                    if coverage.get("stale") or (coverage.get("position") or 0) < answer["position"]:
                        raise Stale(f"position {coverage.get('position')} < {answer['position']}")
                    visible.append(time.perf_counter() - accepted)

                sampled = n == ctx.profile.runs - 1 and rate == RATE
                result = await measure(ctx, op, rate=rate, profile=("contracts", "projections"),
                                       profile_label=f"{BENCH} at {rate}/s" if sampled else None)
                totals[rate].append(result)
                visible_runs[rate].append(latency_summary(visible))
                ctx.say(f"  e2e run {n + 1}: {result.describe()}; accepted→visible p50 "
                        f"{visible_runs[rate][-1]['p50']:.1f} ms, p99 {visible_runs[rate][-1]['p99']:.1f} ms")
    finally:
        await contracts.close()
        await projections.close()
    for rate in rates:
        label = f"at {rate} cmd/s" + ("" if rate == RATE else " (half the write capacity)")
        runs = visible_runs[rate]
        for q, target in (("p50", Target("<=", 30, "p50 ≤ 30 ms")), ("p99", Target("<=", 150, "p99 ≤ 150 ms"))):
            others = " · ".join(f"{k} {spread([v[k] for v in runs])[0]:,.1f}"
                                for k in ("p50", "p90", "p99", "p99.9", "max") if k != q)
            ctx.report.add(BENCH, f"accepted → visible in coverage, {q} {label}", "ms", [v[q] for v in runs],
                           target=target if rate == RATE else None, note=f"{others} ms")
        add_load_rows(ctx, BENCH, "command + coverage (total)", totals[rate])
