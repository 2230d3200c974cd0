"""Benchmark 5: ticket registration with the coverage check — capacity and fixed rates.

``POST /tickets`` for a random client of the data set, registered today: the tickets
service asks projections for the client's coverage, writes the ticket with that snapshot
to its event store + outbox in one transaction, and answers with the coverage. A ticket
whose coverage came back ``unknown`` (projections too slow or unreachable) is still a
registered ticket, but it counts as a failure here: the target is about checked
registrations.
"""

from __future__ import annotations

import zlib

from bench.context import Ctx
from bench.http import HttpPool
from bench.measure import add_sweep_rows, sweep
from bench.results import Target
from bench.targets import load_targets

BENCH = "5 tickets"


class CoverageUnknown(Exception):
    pass


async def run(ctx: Ctx) -> None:
    targets = await load_targets(ctx)
    clients = targets.clients
    today = ctx.today.isoformat()
    pool = HttpPool(ctx.env.url("tickets"), size=256, token=ctx.env.token("dispatcher"))

    def register(tag: str):
        start = zlib.crc32(tag.encode())  # another spread of clients per measurement

        async def op(i: int) -> None:
            answer = await pool.json(
                "POST",
                "/tickets",
                json={
                    "client_id": str(clients[(i * 7919 + start) % len(clients)]),
                    "title": "Printer does not print",
                    "registered_at": today,
                },
                expect=(201,),
            )
            if answer["coverage"]["status"] == "unknown":
                raise CoverageUnknown()

        return op

    try:
        result = await sweep(
            ctx,
            "tickets",
            register,
            rates=ctx.profile.ticket_rates,
            sampled_rate=300,
            profile=("tickets", "projections"),
            bench=BENCH,
        )
    finally:
        await pool.close()
    add_sweep_rows(
        ctx,
        BENCH,
        "registrations",
        result,
        rates=ctx.profile.ticket_rates,
        throughput_target=Target(">=", 800, "≥ 800 /s"),
        latency_rate=300,
        latency_target=Target("<=", 30, "p99 ≤ 30 ms"),
    )
