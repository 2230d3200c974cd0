"""Benchmark 1: the write path — HTTP commands/s and latency at fixed rates, next to
PostgreSQL's own single-row INSERT transactions/s (pgbench) on the same server.

The commands are a mix a back office produces: 20 % register a client, 20 % open a
contract, 20 % schedule twelve monthly periods on a contract opened in this run, 40 %
record a 1.00 payment on an unpaid period (each request on another contract, so writers
rarely meet on one stream). Every command is the real one: HTTP → aggregate → event store
+ outbox in one transaction; the service's in-process relay publishes meanwhile and the
projections consume, as in production.

Per run: the capacity (32 clients back to back — the "commands/s" figure), then each fixed
rate of the profile (open loop; the latency figures).
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections import deque

from bench.append_ceiling import WRITERS as APPEND_WRITERS
from bench.append_ceiling import append_and_publish
from bench.context import Ctx
from bench.http import HttpPool
from bench.http_ceiling import measure_shell
from bench.measure import CAPACITY_CLIENTS, add_sweep_rows, sweep
from bench.results import Target
from bench.targets import Targets, load_targets
from bench.tools import pgbench, prepare_pgbench

BENCH = "1 write path"


def commands(ctx: Ctx, pool: HttpPool, targets: Targets, run: str):
    today = ctx.today.isoformat()
    opened: deque[str] = deque(maxlen=10_000)
    payable = itertools.cycle(targets.payable)
    clients = targets.clients
    accountant = ctx.env.token("accountant")  # payments; the pool's own token is the manager's

    async def op(i: int) -> object:
        kind = i % 10
        if kind in (0, 1):
            return await pool.json(
                "POST",
                "/clients",
                json={
                    "name": f"Bench client {run}-{i}",
                    "manager_name": "Bench Manager",
                    "manager_email": f"bench{run}-{i}@bench.example",
                },
                expect=(201,),
            )
        if kind in (2, 3) or (kind in (4, 5) and not opened):
            body = await pool.json(
                "POST",
                "/contracts",
                json={
                    "client_id": str(clients[i % len(clients)]),
                    "number": f"B-{run}-{i}",
                    "title": "Bench contract",
                    "signed_on": today,
                },
                expect=(201,),
            )
            opened.append(body["id"])
            return body
        if kind in (4, 5):
            return await pool.json(
                "POST",
                f"/contracts/{opened.popleft()}/periods/schedule",
                json={
                    "starts_on": today,
                    "ends_on": f"{ctx.today.year + 1}-{ctx.today.month:02d}-01",
                    "every": "month",
                    "amount": "12000.00",
                    "currency": "RUB",
                    "payment_terms": "prepaid",
                    "remind_days_before": 10,
                },
                expect=(201,),
            )
        target = next(payable)
        return await pool.json(
            "POST",
            f"/contracts/{target.contract_id}/periods/{target.period_id}/payments",
            json={"amount": "1.00", "paid_on": today},
            expect=(201,),
            as_token=accountant,
        )

    return op


async def run(ctx: Ctx) -> None:
    targets = await load_targets(ctx)
    url = await prepare_pgbench(ctx.env.dsn("contracts"))
    ceiling: list[float] = []
    pool = HttpPool(ctx.env.url("contracts"), size=256, token=ctx.env.token("manager"))

    loop: list[float] = []
    shell: list[float] = []
    shell_cpu: list[float] = []

    async def ceiling_first(n: int) -> None:
        ceiling.append(await asyncio.to_thread(pgbench, url, ctx.profile.pgbench_seconds))
        ctx.say(f"  pgbench run {n + 1}: {ceiling[-1]:,.0f} single-row INSERT tps")
        loop.append(await append_and_publish(ctx.env.dsn("contracts"), ctx.env.bootstrap, ctx.profile.pgbench_seconds))
        ctx.say(f"  asyncpg + aiokafka loop run {n + 1}: {loop[-1]:,.0f} events/s appended and published")
        rate, cpu = await measure_shell(
            ctx.env.stack.env(), ctx.env.token("accountant"), ctx.today.isoformat(), ctx.profile.pgbench_seconds
        )
        shell.append(rate)
        shell_cpu.append(cpu)
        ctx.say(f"  HTTP shell run {n + 1}: {rate:,.0f} requests/s, server CPU {cpu:.2f} ms per request")

    try:
        await pool.json("GET", "/health/ready")
        result = await sweep(
            ctx,
            "commands",
            lambda tag: commands(ctx, pool, targets, tag),
            rates=ctx.profile.write_rates,
            sampled_rate=500,
            profile=("contracts", "projections"),
            bench=BENCH,
            before_run=ceiling_first,
        )
    finally:
        await pool.close()
    ctx.data["write_capacity"] = result.capacity[0].throughput
    add_sweep_rows(
        ctx,
        BENCH,
        "commands",
        result,
        rates=ctx.profile.write_rates,
        throughput_target=Target(">=", 2_000, "≥ 2,000 /s"),
        latency_rate=500,
        latency_target=Target("<=", 25, "p99 ≤ 25 ms"),
        capacity_key="write_capacity",
    )
    ctx.report.add(
        BENCH, "pgbench single-row INSERT (autocommit, 16 connections)", "tps", ceiling, ceiling=True, key="pgbench"
    )
    ctx.report.add(
        BENCH,
        f"asyncpg + aiokafka append-and-publish loop, no framework ({APPEND_WRITERS} writers, 1 relay)",
        "ev/s",
        loop,
        ceiling=True,
        key="append_ceiling",
    )
    cpu, cores = sorted(shell_cpu)[len(shell_cpu) // 2], os.cpu_count() or 1
    ctx.report.add(
        BENCH,
        f"the HTTP shell alone: contracts' payment route, nothing behind it ({CAPACITY_CLIENTS} clients back to back; "
        f"server CPU {cpu:.2f} ms per request, so at most ≈ {cores * 1000 / cpu:,.0f}/s on {cores} idle cores)",
        "/s",
        shell,
        ceiling=True,
        key="http_ceiling",
    )
