"""Benchmark 4: end to end — a command accepted → its effect visible in the coverage answer.

At a fixed 300 commands/s, each request records a 1.00 payment on an unpaid period (a
different contract each time) and, as soon as the contracts service answers with the
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
    totals, visible_runs = [], []
    try:
        for n in range(ctx.profile.runs):
            visible: list[float] = []

            async def op(i: int) -> None:
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

            last = n == ctx.profile.runs - 1
            result = await measure(ctx, op, rate=RATE, profile_label=f"{BENCH} at {RATE}/s" if last else None,
                                   profile=("contracts", "projections"))
            totals.append(result)
            visible_runs.append(latency_summary(visible))
            ctx.say(f"  e2e run {n + 1}: {result.describe()}; accepted→visible p50 "
                    f"{visible_runs[-1]['p50']:.1f} ms, p99 {visible_runs[-1]['p99']:.1f} ms")
    finally:
        await contracts.close()
        await projections.close()
    for q, target in (("p50", Target("<=", 30, "p50 ≤ 30 ms")), ("p99", Target("<=", 150, "p99 ≤ 150 ms"))):
        others = " · ".join(f"{k} {spread([v[k] for v in visible_runs])[0]:,.1f}"
                            for k in ("p50", "p90", "p99", "p99.9", "max") if k != q)
        ctx.report.add(BENCH, f"accepted → visible in coverage, {q} at {RATE} cmd/s", "ms",
                       [v[q] for v in visible_runs], target=target, note=f"{others} ms")
    add_load_rows(ctx, BENCH, "command + coverage (total)", totals)
