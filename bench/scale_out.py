"""Scale-out shown: two replicas each of contracts, projections and tickets, checked for
correctness and for CPU per command against one replica each, in the same run.

``python -m bench.scale_out`` (``make bench-scale``) starts its own stack (free ports, temp
dir), loads a small data set through the event store, publishes and projects it, then
alternates two kinds of phase, each measured at a fixed offered rate (open loop) and at
capacity (32 clients back to back):

* **1×**: one process each of contracts, projections and tickets;
* **2×**: ``contracts-2``, ``projections-2`` and ``tickets-2`` started beside them (their own
  ports; same databases, same consumer group). The clients round-robin over the replicas as a
  load balancer would; tickets-n asks projections-n for coverage.

The load is the write path's back-office mix (``bench.write_path.commands``) with one ticket
registration per four commands. Every command carries its own ``X-Correlation-ID``; after the
phases ``bench.exactly_once`` checks every accepted command — in the store once, one
transaction, on Kafka once and in key order — and ``cli check`` that the read model equals
a fresh rebuild. CPU per command is each process's CPU over the phase (``bench.measure``:
until the system is quiet again, idle polling subtracted), per process and summed per service.

On two cores throughput cannot grow with replicas; what this shows is that a second replica
changes nothing that matters — no lost or duplicated effect, about the same CPU per command —
which is what the capacity model in bench/README.md ("Scale-out") builds on.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
import typer
import uvloop
from prometheus_client.parser import text_string_to_metric_families

from bench import datagen, projections, relay, write_path
from bench.context import Ctx
from bench.datagen import Scale
from bench.environment import close_env, keep_logs, open_env
from bench.exactly_once import Ledger, Verdict, check, read_model_check
from bench.http import HttpPool
from bench.loadgen import LoadResult, Operation
from bench.measure import CAPACITY_CLIENTS, measure
from bench.profiles import PROFILES
from bench.results import Report, Target
from bench.stats import spread
from bench.targets import Targets, load_targets
from deploy.local.services import REPLICATED, replica_name
from services.projections.entrypoints.consumer import TOPICS as PROJECTED_TOPICS
from shared.topics import ALL_TOPICS

BENCH = "8 scale-out"
TICKET_EVERY = 5
"""Every fifth operation registers a ticket; the other four are the write path's mix."""


class CoverageUnknown(Exception):
    pass


class RoundRobin:
    """One ``json()`` over several replicas' pools, as a load balancer in front of them: each
    call goes to the next replica with an ``X-Correlation-ID`` of its own, and every answer
    that wrote something is recorded in the ledger."""

    def __init__(self, pools: list[HttpPool], ledger: Ledger, service: str) -> None:
        self.pools, self.ledger, self.service = pools, ledger, service
        self.sent: Counter[int] = Counter()
        self._turn = itertools.count()

    async def json(self, method: str, path: str, **kwargs: Any) -> Any:
        n = next(self._turn) % len(self.pools)
        self.sent[n] += 1
        correlation_id = self.ledger.new_id()
        answer = await self.pools[n].json(method, path, headers={"X-Correlation-ID": correlation_id}, **kwargs)
        self.ledger.record(self.service, correlation_id, answer)
        return answer

    async def close(self) -> None:
        for pool in self.pools:
            await pool.close()


def mixed_load(ctx: Ctx, contracts: RoundRobin, tickets: RoundRobin, targets: Targets, tag: str) -> Operation:
    """The write path's mix through ``contracts``, and a ticket for a client of ``targets``
    through ``tickets`` every ``TICKET_EVERY``-th operation."""
    write = write_path.commands(ctx, contracts, targets, tag)  # type: ignore[arg-type]  # duck-typed pool
    writes = itertools.count()
    today = ctx.today.isoformat()

    async def op(i: int) -> object:
        if i % TICKET_EVERY != TICKET_EVERY - 1:
            return await write(next(writes))
        client = targets.clients[(i * 7919) % len(targets.clients)]
        answer = await tickets.json(
            "POST",
            "/tickets",
            json={"client_id": str(client), "title": "Printer does not print", "registered_at": today},
            expect=(201,),
        )
        if answer["coverage"]["status"] == "unknown":
            raise CoverageUnknown(answer["coverage"])
        return answer

    return op


def pools_for(ctx: Ctx, replicas: int, ledger: Ledger) -> tuple[RoundRobin, RoundRobin]:
    def pools(service: str, role: str) -> list[HttpPool]:
        return [
            HttpPool(ctx.env.url(replica_name(service, n)), size=128, token=ctx.env.token(role))
            for n in range(1, replicas + 1)
        ]

    return (
        RoundRobin(pools("contracts", "manager"), ledger, "contracts"),
        RoundRobin(pools("tickets", "dispatcher"), ledger, "tickets"),
    )


async def consumer_partitions(url: str) -> set[str]:
    """The partitions a projections process consumes now (its readiness page's ``lag`` keys)."""
    async with httpx.AsyncClient(timeout=5) as client:
        body = (await client.get(f"{url}/health/ready")).json()
    return set((body.get("consumer") or {}).get("lag") or {})


PROJECTED_PARTITIONS = sum(s.partitions for s in ALL_TOPICS if s.name in PROJECTED_TOPICS)


async def split_partitions(urls: list[str], timeout: float = 60.0) -> list[set[str]]:
    """Until the projections processes at ``urls`` consume every partition of their topics
    between them, each some and none another's (the group has settled after a replica joined
    or left); each one's partitions."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        owned = [await consumer_partitions(u) for u in urls]
        every = set().union(*owned)
        if all(owned) and sum(map(len, owned)) == len(every) == PROJECTED_PARTITIONS:
            return owned
        if loop.time() > deadline:
            raise TimeoutError(f"the projections group did not settle over {len(urls)} members: {owned}")
        await asyncio.sleep(0.5)


async def metric_total(url: str, sample: str) -> float:
    """The sum of a counter's samples (every label) on one process's ``/metrics``."""
    async with httpx.AsyncClient(timeout=5) as client:
        text = (await client.get(f"{url}/metrics")).text
    return sum(s.value for family in text_string_to_metric_families(text) for s in family.samples if s.name == sample)


async def relay_published(url: str) -> float:
    """Outbox rows one contracts/tickets process's in-process relay has published."""
    return await metric_total(url, "relay_published_total")


@dataclass
class Phase:
    replicas: int
    load: str
    """``at 100/s offered`` or ``capacity (32 clients back to back)``."""
    result: LoadResult
    sent: dict[str, list[int]] = field(default_factory=dict)
    """Per service, the requests each replica got."""
    published: dict[str, list[float]] = field(default_factory=dict)
    """Per service with a relay, the outbox rows each replica's relay published in the phase."""
    partitions: list[int] = field(default_factory=list)
    """Partitions each projections replica consumed during the phase."""

    def cpu_ms(self, process: str) -> float:
        return 1000 * self.result.cpu.get(process, 0.0) / max(self.result.ok, 1)

    def service_ms(self, service: str) -> float:
        """A service's CPU per command, its replicas together (a process not in it: its own)."""
        if service not in REPLICATED:
            return self.cpu_ms(service)
        return sum(self.cpu_ms(replica_name(service, n)) for n in range(1, self.replicas + 1))

    def stack_ms(self) -> float:
        return sum(self.cpu_ms(name) for name in self.result.cpu if not name.startswith("bench"))


async def start_replicas(ctx: Ctx, n: int) -> None:
    ctx.env.reserve_replicas(n, REPLICATED)  # tickets-n is told where projections-n answers
    for service in ("projections", "contracts", "tickets"):
        if ctx.env.pid(replica_name(service, n)) is None:
            await asyncio.to_thread(ctx.env.start, replica_name(service, n))


async def stop_replicas(ctx: Ctx, n: int) -> None:
    for service in REPLICATED:
        await asyncio.to_thread(ctx.env.stop, replica_name(service, n))


async def run_phase(ctx: Ctx, replicas: int, rate: float | None, seconds: float, ledger: Ledger, tag: str) -> Phase:
    """One measured load over ``replicas`` of each service: open loop at ``rate``, or the
    capacity (``CAPACITY_CLIENTS`` back to back) when ``rate`` is None."""
    targets = await load_targets(ctx)
    urls = {s: [ctx.env.url(replica_name(s, n)) for n in range(1, replicas + 1)] for s in REPLICATED}
    owned = await split_partitions(urls["projections"])
    before = {s: [await relay_published(u) for u in urls[s]] for s in ("contracts", "tickets")}
    contracts, tickets = pools_for(ctx, replicas, ledger)
    op = mixed_load(ctx, contracts, tickets, targets, tag)
    try:
        result = await measure(ctx, op, rate=rate, concurrency=CAPACITY_CLIENTS, duration=seconds)
    finally:
        await contracts.close()
        await tickets.close()
    after = {s: [await relay_published(u) for u in urls[s]] for s in ("contracts", "tickets")}
    load = f"at {rate:,.0f}/s offered" if rate else f"capacity ({CAPACITY_CLIENTS} clients back to back)"
    phase = Phase(replicas, load, result, partitions=[len(p) for p in owned])
    phase.sent = {"contracts": [contracts.sent[n] for n in range(replicas)]}
    phase.sent["tickets"] = [tickets.sent[n] for n in range(replicas)]
    phase.published = {s: [a - b for a, b in zip(after[s], before[s], strict=True)] for s in after}
    ctx.say(
        f"  {replicas}× {load}, run {tag}: {result.describe()}; CPU ms per command "
        + ", ".join(f"{s} {phase.service_ms(s):.2f}" for s in (*REPLICATED, "postgres", "kafka"))
        + f"; partitions per projections replica {phase.partitions}; relay rows per replica {phase.published}"
    )
    return phase


def _load_rows(ctx: Ctx, load: str, by: dict[int, list[Phase]]) -> None:
    report = ctx.report
    for k, runs in by.items():
        errors = sum((p.result.errors for p in runs), Counter())
        report.add(
            BENCH,
            f"operations/s {load}, {k} replica(s) each",
            "/s",
            [p.result.throughput for p in runs],
            note=f"{sum(errors.values())} failed {dict(errors)}" if errors else "",
        )
        p50 = spread([p.result.percentiles()["p50"] for p in runs])[0]
        report.add(
            BENCH,
            f"latency p99 {load}, {k} replica(s) each",
            "ms",
            [p.result.percentiles()["p99"] for p in runs],
            note=f"p50 {p50:.1f} ms",
        )
    processes = sorted({name for p in by[2] for name in p.result.cpu})
    for service in (*REPLICATED, "postgres", "kafka", "bench (load generator)"):
        one, two = ([p.service_ms(service) for p in by[k]] for k in (1, 2))
        per_process = [
            f"{name} {spread([p.cpu_ms(name) for p in by[2]])[0]:.2f}"
            for name in processes
            if service in REPLICATED and name.rsplit("-", 1)[0] == service
        ]
        report.add(BENCH, f"CPU ms per operation {load}: {service}, 1 replica each", "ms", one)
        ratio = f"÷ 1 replica {spread(two)[0] / spread(one)[0]:.2f}" if spread(one)[0] else ""
        split = f"per process {' · '.join(per_process)}" if per_process else ""
        report.add(
            BENCH,
            f"CPU ms per operation {load}: {service}, 2 replicas each together",
            "ms",
            two,
            note="; ".join(x for x in (ratio, split) if x),
        )
    one, two = ([p.stack_ms() for p in by[k]] for k in (1, 2))
    report.add(BENCH, f"CPU ms per operation {load}: whole stack, 1 replica each", "ms", one)
    report.add(
        BENCH,
        f"CPU ms per operation {load}: whole stack, 2 replicas each",
        "ms",
        two,
        note=f"÷ 1 replica {spread(two)[0] / spread(one)[0]:.2f}" if spread(one)[0] else "",
    )
    report.notes.append(
        f"2 replicas {load}: requests per replica "
        + "; ".join(f"{s} {[p.sent[s] for p in by[2]]}" for s in ("contracts", "tickets"))
        + f"; partitions consumed per projections replica {[p.partitions for p in by[2]]}"
        + "; outbox rows published per replica's relay "
        + "; ".join(f"{s} {[[round(x) for x in p.published[s]] for p in by[2]]}" for s in ("contracts", "tickets"))
    )


def _rows(ctx: Ctx, phases: list[Phase], verdict: Verdict, read_model_ok: bool) -> None:
    for load in dict.fromkeys(p.load for p in phases):
        _load_rows(ctx, load, {k: [p for p in phases if p.load == load and p.replicas == k] for k in (1, 2)})
    zero = Target("<=", 0, "0")
    ctx.report.add(
        BENCH,
        "differences: accepted commands lost or duplicated (store, Kafka), over all phases",
        "",
        [verdict.total],
        target=zero,
        note="; ".join(verdict.lines()),
    )
    ctx.report.add(
        BENCH, "differences: read model vs a fresh rebuild (cli check)", "", [0 if read_model_ok else 1], target=zero
    )


async def _online(ctx: Ctx, rate: float, seconds: float, runs: int) -> tuple[list[Phase], Ledger]:
    await relay.drain_generated(ctx)
    await projections.catch_up(ctx)
    for name in ("contracts", "tickets"):
        await asyncio.to_thread(ctx.env.start, name)
    ledger = Ledger()
    phases: list[Phase] = []
    for n in range(runs):
        for replicas in (1, 2):
            if replicas == 2:
                await start_replicas(ctx, 2)
            for load in (rate, None):
                phases.append(
                    await run_phase(ctx, replicas, load, seconds, ledger, f"{n}-{replicas}{'r' if load else 'c'}")
                )
        if n < runs - 1:
            await stop_replicas(ctx, 2)
    return phases, ledger


async def _check(ctx: Ctx, ledger: Ledger) -> Verdict:
    return await check(ledger, {s: ctx.env.dsn(s) for s in ("contracts", "tickets")}, ctx.env.bootstrap)


app = typer.Typer(add_completion=False)


@app.command()
def main(
    clients: int = typer.Option(200, help="data set: clients (contracts and periods scale with them)"),
    rate: float = typer.Option(100, help="commands/s offered in every phase (open loop)"),
    seconds: float = typer.Option(15, help="length of a phase"),
    runs: int = typer.Option(2, help="rounds of four phases: 1× at the rate, 1× capacity, 2× at the rate, 2× capacity"),
) -> None:
    """Two replicas of contracts, projections and tickets against one each: correctness and CPU per command."""
    command = "python -m bench.scale_out " + " ".join(sys.argv[1:])
    profile = replace(PROFILES["smoke"], name="scale", scale=Scale(clients, clients * 3, clients * 20), runs=runs)
    report = Report("scale", command.strip())
    env = open_env(print)
    try:
        ctx = Ctx(env, profile, report, print)
        loaded = datagen.load(env.dsn("contracts"), profile.scale, today=env.today())
        report.data = f"{profile.scale}, {loaded.events:,} events"
        phases, ledger = uvloop.run(_online(ctx, rate, seconds, runs))
        print("checking: every accepted command in the store once and on Kafka once; cli check")
        verdict = uvloop.run(_check(ctx, ledger))
        read_model_ok, output = read_model_check(env.stack.env())
        print(*verdict.lines(), sep="\n")
        print(output)
        _rows(ctx, phases, verdict, read_model_ok)
    finally:
        report.load_at_end = f"{os.getloadavg()[0]:.1f}"
        env.stop_all()
        print(f"logs kept in {keep_logs(env)}")
        close_env(env)
    print(report.markdown())
    path = report.save()
    print(f"saved {path} (+ .md)")
    failed = next((r for r in report.rows if r.target is not None and r.verdict() != "met"), None)
    if failed is not None:
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
