"""Benchmark 6: the four read-model queries on the loaded data set, each at a fixed rate.

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
from bench.measure import add_load_rows, measure
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


async def run(ctx: Ctx) -> None:
    targets = await load_targets(ctx)
    pool = HttpPool(ctx.env.url("projections"), size=256, token=ctx.env.token("manager"))
    plan = queries(ctx, targets.clients)
    results: dict[str, list] = {name: [] for name in plan}
    try:
        for n in range(ctx.profile.runs):
            for name, (request, _) in plan.items():
                rate = ctx.profile.query_rates[name]

                async def op(i: int, request=request) -> None:
                    path, params = request(i)
                    await pool.json("GET", path, params=params, expect=(200,))

                last = n == ctx.profile.runs - 1
                result = await measure(
                    ctx,
                    op,
                    rate=rate,
                    profile=("projections",),
                    profile_label=f"{BENCH}: {name} at {rate}/s" if last else None,
                )
                results[name].append(result)
                ctx.say(f"  {name}, run {n + 1}: {result.describe()}")
    finally:
        await pool.close()
    for name, (_, target) in plan.items():
        add_load_rows(ctx, BENCH, name, results[name], latency_target=target, throughput=False)
