"""Benchmark 6: the four read-model queries on the loaded data set: per query its capacity (32
clients back to back), then its profile's fixed rate and half the capacity (open loop). The
latency target is judged at the fixed rate when the host carries it with room to spare, else
at half the capacity (``verdict_rate``): on a host three times slower a fixed rate measured a
queue (the 1 December full-scale run: coverage p99 5.4 s at 500/s).

* coverage of a random client today;
* debtors today, first page (default page size);
* income for the current calendar year (12 months);
* contracts list with period filters: periods started by today, not paid, prepaid — the
  "prepay debtors" reading of docs/design.md §1 — first page of 50.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.context import Ctx
from bench.http import HttpPool
from bench.loadgen import Operation
from bench.measure import Sweep, add_sweep_rows, half_of, sweep
from bench.results import Target
from bench.targets import load_targets

BENCH = "6 queries"


def queries(ctx: Ctx, clients: list) -> dict[str, tuple[Callable[[int], tuple[str, dict[str, Any]]], Target | None]]:
    today, year = ctx.today.isoformat(), ctx.today.year
    return {
        "coverage": (
            lambda i: (f"/clients/{clients[(i * 7919) % len(clients)]}/coverage", {"on": today}),
            Target("<=", 5, "p99 ≤ 5 ms"),
        ),
        "debtors": (lambda i: ("/debtors", {"on": today}), Target("<=", 50, "p99 ≤ 50 ms")),
        "income": (
            lambda i: ("/income", {"from": f"{year}-01", "to": f"{year}-12"}),
            Target("<=", 100, "p99 ≤ 100 ms"),
        ),
        "contracts": (
            lambda i: (
                "/contracts",
                {"period_starts_to": today, "paid": "false", "payment_terms": "prepaid", "page_size": 50},
            ),
            None,
        ),
    }


def verdict_rate(profile_rate: int, capacity: float) -> int:
    """The rate a query's latency target is judged at: the profile's, unless this host cannot
    carry it with room to spare; then half the measured capacity (where nothing queues), so
    that a slower host measures the query and not a queue."""
    return min(profile_rate, half_of(capacity))


async def run(ctx: Ctx) -> None:
    targets = await load_targets(ctx)
    pool = HttpPool(ctx.env.url("projections"), size=256, token=ctx.env.token("manager"))
    plan = queries(ctx, targets.clients)
    swept: dict[str, Sweep] = {}
    try:
        for name, (request, _) in plan.items():

            def op_for(_tag: str, request=request) -> Operation:
                async def op(i: int) -> None:
                    path, params = request(i)
                    await pool.json("GET", path, params=params, expect=(200,))

                return op

            rate = ctx.profile.query_rates[name]
            swept[name] = await sweep(
                ctx, name, op_for, rates=(rate,), sampled_rate=rate, profile=("projections",), bench=f"{BENCH}: {name}"
            )
    finally:
        await pool.close()
    for name, (_, target) in plan.items():
        rate = ctx.profile.query_rates[name]
        add_sweep_rows(
            ctx,
            BENCH,
            name,
            swept[name],
            rates=(rate,),
            # a host that cannot carry the profile's rate says so, whatever its latency below it
            throughput_target=Target(">=", rate, f"≥ {rate:,} /s (the profile's rate)"),
            latency_rate=verdict_rate(rate, swept[name].capacity[0].throughput),
            latency_target=target,
        )
