"""Load a data set through the real write path, with a progress bar.

``python -m bench.datagen --database-url postgresql://…/abonent_contracts --profile quick``

Every event is decided by the contracts aggregates (``bench.stories``) and appended with
``PostgresEventStore.append`` and the contracts outbox router — the same store, outbox rows and
scheduler rows as an HTTP command writes, in one transaction per stream. What is skipped is
only HTTP and the read-before-write of each command (a new stream is appended whole, with
expected version 0). The outbox relay, Kafka and the projections then carry it on as they
would any other write.

The sizes are exact: ``clients`` streams of clients, ``contracts`` contract streams and
``periods`` service periods in all. Worker processes (one per core by default) take every
``workers``-th client; each runs ``concurrency`` appends at a time.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import queue
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from tqdm import tqdm

from bench.stories import StreamWrite, client_story
from services.contracts.adapters.outbox_routing import route
from services.contracts.adapters.time_events_table import pending_rows
from services.contracts.domain.time_events import pending_time_events
from shared.db.pool import create_pool
from shared.eventstore.records import NEW_STREAM, CommandContext
from shared.eventstore.store import PostgresEventStore


@dataclass(frozen=True)
class Scale:
    clients: int
    contracts: int
    periods: int

    def __str__(self) -> str:
        return f"{self.clients:,} clients / {self.contracts:,} contracts / {self.periods:,} periods"


@dataclass
class DataSetLoaded:
    scale: Scale
    streams: int = 0
    events: int = 0
    seconds: float = 0.0
    event_types: dict[str, int] = field(default_factory=dict)

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def plan(scale: Scale, seed: int) -> list[list[int]]:
    """Period counts of each client's contracts: exact totals, a realistic spread.

    2 % of clients have no contract; some clients are big (weight 6); a contract has 1-24
    periods (around ``periods / contracts`` on average)."""
    if scale.contracts < scale.clients * 0.98 or scale.periods < scale.contracts:
        raise ValueError(f"{scale}: need contracts >= 98 % of clients and periods >= contracts")
    rng = random.Random(seed)
    with_contract = [i for i in range(scale.clients) if rng.random() >= 0.02]
    per_client = [0] * scale.clients
    for i in with_contract[: scale.contracts]:
        per_client[i] = 1
    extra = scale.contracts - sum(per_client)
    weights = [6 if rng.random() < 0.1 else 1 for _ in with_contract]
    for i in rng.choices(with_contract, weights=weights, k=extra):
        per_client[i] += 1
    mean = scale.periods / scale.contracts
    counts = [max(1, min(24, round(rng.triangular(1, 2 * mean - 1, mean)))) for _ in range(scale.contracts)]
    diff = scale.periods - sum(counts)
    while diff:
        i = rng.randrange(scale.contracts)
        step = 1 if diff > 0 else -1
        if 1 <= counts[i] + step <= 24:
            counts[i] += step
            diff -= step
    out, at = [], 0
    for n in per_client:
        out.append(counts[at : at + n])
        at += n
    return out


async def _append(store: PostgresEventStore, write: StreamWrite, ctx: CommandContext) -> None:
    contract = write.contract
    pending = None if contract is None else pending_rows(contract.id, pending_time_events(contract, 0))
    await store.append(
        write.stream_id, NEW_STREAM, write.events, partition_key=write.partition_key, ctx=ctx, in_transaction=pending
    )


async def _worker_main(
    dsn: str,
    seed: int,
    today: date,
    counts: list[list[int]],
    worker: int,
    workers: int,
    concurrency: int,
    report: mp.Queue,
) -> None:
    pool = await create_pool(dsn, min_size=concurrency, max_size=concurrency)
    store = PostgresEventStore(pool, router=route)
    todo: asyncio.Queue[tuple[int, list[StreamWrite]] | None] = asyncio.Queue(maxsize=concurrency * 2)

    async def write_clients() -> None:
        while (item := await todo.get()) is not None:
            index, writes = item
            ctx = CommandContext(correlation_id=f"datagen-{seed}-{index}", actor="datagen", now=datetime.now(UTC))
            for w in writes:  # in order: the client's stream before its contracts
                await _append(store, w, ctx)
            types: dict[str, int] = {}
            for w in writes:
                for e in w.events:
                    types[e.event_type] = types.get(e.event_type, 0) + 1
            report.put((1, len(writes), types))

    writers = [asyncio.create_task(write_clients()) for _ in range(concurrency)]
    try:
        for index in range(worker, len(counts), workers):
            await todo.put((index, list(client_story(seed, index, counts[index], today))))
        for _ in writers:
            await todo.put(None)
        await asyncio.gather(*writers)
    finally:
        for t in writers:
            t.cancel()
        await pool.close()


def _worker(*args) -> None:
    import uvloop

    uvloop.run(_worker_main(*args))


def load(
    dsn: str,
    scale: Scale,
    *,
    today: date,
    seed: int = 1,
    workers: int | None = None,
    concurrency: int = 8,
    progress: bool = True,
) -> DataSetLoaded:
    """Write the whole data set "up to ``today``"; returns what was written and how fast.

    ``today`` must be the scheduler's today: the date in the stack's company time zone
    (``ABONENT_TIMEZONE``), not the host's. A day's difference leaves everything due on the
    later day for the scheduler's first tick (a third of all contracts on the 1st of a month:
    about 100,000 commands at full scale, run beside the benchmarks)."""
    counts = plan(scale, seed)
    workers = workers or max(1, min(os.cpu_count() or 1, 4))
    ctx = mp.get_context("fork")
    report: mp.Queue = ctx.Queue()
    procs = [
        ctx.Process(
            target=_worker, args=(dsn, seed, today, counts, w, workers, concurrency, report), name=f"datagen-{w}"
        )
        for w in range(workers)
    ]
    result = DataSetLoaded(scale)
    started = time.monotonic()
    for p in procs:
        p.start()
    bar = tqdm(
        total=scale.clients,
        unit="client",
        desc=f"datagen {scale}",
        disable=not progress,
        dynamic_ncols=True,
        mininterval=1.0,
    )
    done = 0
    try:
        while done < scale.clients:
            try:
                clients, streams, types = report.get(timeout=1.0)
            except queue.Empty:
                failed = [p for p in procs if p.exitcode not in (None, 0)]
                if failed:
                    raise RuntimeError(f"datagen worker {failed[0].name} failed (exit {failed[0].exitcode})") from None
                continue
            done += clients
            result.streams += streams
            for k, v in types.items():
                result.event_types[k] = result.event_types.get(k, 0) + v
                result.events += v
            bar.update(clients)
            bar.set_postfix(events=f"{result.events:,}", refresh=False)
        for p in procs:
            p.join()
    finally:
        bar.close()
        for p in procs:
            if p.is_alive():
                p.terminate()
    result.seconds = time.monotonic() - started
    return result


def main() -> None:
    import typer

    from bench.profiles import PROFILES
    from shared.calendar import calendar_settings

    def run(
        database_url: str = typer.Option(..., envvar="CONTRACTS_DATABASE_URL"),
        profile: str = typer.Option("quick"),
        seed: int = 1,
        workers: int = 0,
        concurrency: int = 8,
    ) -> None:
        today = calendar_settings().calendar().today()  # ABONENT_TIMEZONE, as the scheduler's
        loaded = load(
            database_url,
            PROFILES[profile].scale,
            today=today,
            seed=seed,
            workers=workers or None,
            concurrency=concurrency,
        )
        print(
            f"{loaded.events:,} events in {loaded.streams:,} streams, {loaded.seconds:.1f} s "
            f"({loaded.events_per_second:,.0f} events/s)"
        )

    typer.run(run)


if __name__ == "__main__":
    main()
