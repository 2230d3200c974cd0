"""Benchmark 5: ticket registration with the coverage check — capacity and fixed rates.

``POST /tickets`` for a random client of the data set, registered today: the tickets
service asks projections for the client's coverage, writes the ticket with that snapshot
to its event store + outbox in one transaction, and answers with the coverage. A ticket
whose coverage came back ``unknown`` (projections too slow or unreachable) is still a
registered ticket, but it counts as a failure here: the target is about checked
registrations.
"""

from __future__ import annotations

from bench.context import Ctx
from bench.http import HttpPool
from bench.measure import add_load_rows, measure
from bench.results import Target
from bench.targets import load_targets
from bench.write_path import half_of, rate_label

BENCH = "5 tickets"
CAPACITY_CLIENTS = 32


class CoverageUnknown(Exception):
    pass


async def run(ctx: Ctx) -> None:
    targets = await load_targets(ctx)
    clients = targets.clients
    today = ctx.today.isoformat()
    pool = HttpPool(ctx.env.url("tickets"), size=256)
    capacity: list = []
    by_rate: dict[int, list] = {}

    def register(n: int):  # type: ignore[no-untyped-def]
        async def op(i: int) -> None:
            answer = await pool.json("POST", "/tickets", json={
                "client_id": str(clients[(i * 7919 + n) % len(clients)]),
                "title": "Printer does not print", "registered_at": today}, expect=(201,))
            if answer["coverage"]["status"] == "unknown":
                raise CoverageUnknown()
        return op

    try:
        for n in range(ctx.profile.runs):
            capacity.append(await measure(ctx, register(n), concurrency=CAPACITY_CLIENTS))
            ctx.say(f"  tickets, run {n + 1}: capacity {capacity[-1].throughput:,.0f}/s with {CAPACITY_CLIENTS} clients")
            if n == 0:
                by_rate = {r: [] for r in sorted({*ctx.profile.ticket_rates, half_of(capacity[0].throughput)})}
            for rate in by_rate:
                sampled = n == ctx.profile.runs - 1 and rate == 300
                result = await measure(ctx, register(n + rate), rate=rate,
                                       profile_label=f"{BENCH} at {rate}/s" if sampled else None,
                                       profile=("tickets", "projections"))
                by_rate[rate].append(result)
                ctx.say(f"  tickets, run {n + 1}: {result.describe()}")
    finally:
        await pool.close()
    add_load_rows(ctx, BENCH, "registrations", capacity, label=f"capacity ({CAPACITY_CLIENTS} clients back to back)",
                  throughput_target=Target(">=", 800, "≥ 800 /s"))
    for rate, results in by_rate.items():
        add_load_rows(ctx, BENCH, "registrations", results, label=rate_label(rate, ctx.profile.ticket_rates),
                      latency_target=Target("<=", 30, "p99 ≤ 30 ms") if rate == 300 else None)
