"""``python -m bench.console``: the client card's server time with the read model at DESIGN scale.

DESIGN §7 and issue 18: a client card ≤ 300 ms server time with 2,000,000 periods in the read
model. The bench starts its own stack (Kafka, PostgreSQL; temp dir, free ports), then:

1. **real data**: ``--seed-clients`` clients (default 2,000 / 6,000 contracts / 40,000 periods)
   through the real write path (``bench.datagen``: the contracts domain decides every event),
   published by the standalone relay and applied by the projections service — the clients
   whose cards are opened, each with its event streams in contracts and its rows in projections;
2. **cards at seed scale**: ``--cards`` random cards of those clients (manager's view: client,
   contracts, coverage, tickets, then each contract and its history), one at a time;
3. **padding to DESIGN scale**: every read-model row (clients, contracts, periods, payments) is
   copied ``--copies`` times inside PostgreSQL (``INSERT … SELECT``, ids mapped by md5 so a
   copy's rows point at each other, names and numbers suffixed), secondary indexes dropped
   first and built once after, then ``ANALYZE``; the contracts event store likewise (streams
   renamed). 49 copies of the default seed = 100,000 clients / 300,000 contracts / 2,000,000
   periods / ~7.3 million events;
4. **the same cards again** at that scale.

The figure is the console's own ``Server-Timing`` (``app``: request in → answer out, all calls
and rendering); beside it each service call's time, the calls per card, the wall time seen by
the client, and CPU per card of the whole stack (less sensitive to other people's load).
Measured one card at a time, so no card waits for another. Results: printed, and saved under
``bench/results/console-<time>.md``.
"""

from __future__ import annotations

import asyncio
import math
import os
import random
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import typer

from bench import datagen, projections, relay
from bench.context import Ctx
from bench.datagen import Scale
from bench.environment import BenchEnv, close_env, free_port, keep_logs, open_env
from bench.profiles import PROFILES
from bench.results import Report, _git
from bench.stats import percentile

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_MS = 300.0
READ_MODEL = ("clients", "contracts", "periods", "payments")
TIMING = re.compile(r'(\w+)(?:;desc="([^"]*)")?;dur=([0-9.]+)')


@dataclass
class Cards:
    label: str
    server_ms: list[float] = field(default_factory=list)
    wall_ms: list[float] = field(default_factory=list)
    calls: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    calls_per_card: list[int] = field(default_factory=list)
    cpu_ms_per_card: float = math.nan
    cpu_by_process: dict[str, float] = field(default_factory=dict)
    load: str = ""

    def row(self) -> str:
        s = sorted(self.server_ms)
        w = sorted(self.wall_ms)
        n = sorted(self.calls_per_card)
        return (
            f"| {self.label} | {len(s)} | {_ms(percentile(s, 0.5))} | {_ms(percentile(s, 0.95))} | "
            f"{_ms(percentile(s, 0.99))} | {_ms(s[-1])} | {_ms(percentile(w, 0.5))} | "
            f"{sum(n) / len(n):.1f} ({n[0]}–{n[-1]}) | {self.cpu_ms_per_card:.1f} | {self.load} |"
        )


def _ms(v: float) -> str:
    return f"{v:,.1f}" if v < 100 else f"{v:,.0f}"


def _server_timing(value: str) -> tuple[float, list[tuple[str, float]]]:
    app, calls = math.nan, []
    for name, desc, dur in TIMING.findall(value):
        if name == "app":
            app = float(dur)
        elif name == "api":
            calls.append((desc, float(dur)))
    return app, calls


async def open_cards(env: BenchEnv, clients: list[str], warm_up: list[str], label: str, say) -> Cards:
    """Each client's card once, one after another, as a manager (who sees every part).
    ``warm_up``: other clients' cards opened first (connection pools, first-use imports)."""
    result = Cards(label)
    cookies = {"abonent_session": env.token("manager")}
    async with httpx.AsyncClient(base_url=env.url("console"), cookies=cookies, timeout=60) as web:
        for client in warm_up:
            (await web.get(f"/clients/{client}")).raise_for_status()
        cpu_before, started = env.cpu_seconds(), time.monotonic()
        for client in clients:
            t0 = time.perf_counter()
            page = await web.get(f"/clients/{client}")
            wall = time.perf_counter() - t0
            if page.status_code != 200 or 'class="contract"' not in page.text:
                raise RuntimeError(f"card of {client}: HTTP {page.status_code}: {page.text[:300]}")
            app, calls = _server_timing(page.headers.get("server-timing", ""))
            result.server_ms.append(app)
            result.wall_ms.append(wall * 1000)
            result.calls_per_card.append(len(calls))
            for desc, ms in calls:
                result.calls[desc].append(ms)
        cpu_after = env.cpu_seconds()
    spent = {k: cpu_after.get(k, 0.0) - cpu_before.get(k, 0.0) for k in cpu_after}
    result.cpu_by_process = {k: 1000 * v / len(clients) for k, v in spent.items() if v > 0}
    result.cpu_ms_per_card = sum(result.cpu_by_process.values())
    result.load = f"{os.getloadavg()[0]:.1f}"
    say(
        f"  {label}: {len(clients)} cards in {time.monotonic() - started:.1f}s, "
        f"server p50 {percentile(sorted(result.server_ms), 0.5):.1f} ms, "
        f"p99 {percentile(sorted(result.server_ms), 0.99):.1f} ms"
    )
    return result


async def _count(conn: asyncpg.Connection, table: str) -> int:
    return int(await conn.fetchval(f"SELECT count(*) FROM {table}"))


async def _copy_rows(conn: asyncpg.Connection, schema: str, table: str, copies: int, say) -> None:
    """``copies`` copies of every row of ``schema.table``, ids mapped by md5(id:k), within the
    database; secondary indexes dropped before and built once after."""
    columns = await conn.fetch(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = $1 AND table_name = $2 AND is_generated = 'NEVER' "
        "AND coalesce(column_default, '') NOT LIKE 'nextval%' ORDER BY ordinal_position",
        schema,
        table,
    )
    names, exprs = [], []
    for c in columns:
        name, kind = c["column_name"], c["data_type"]
        names.append(f'"{name}"')
        if kind == "uuid":
            exprs.append(f"md5(\"{name}\"::text || ':' || k)::uuid")
        elif name in ("name", "number"):
            exprs.append(f"\"{name}\" || ' #' || k")
        elif name in ("stream_id", "partition_key"):
            exprs.append(f"\"{name}\" || '#' || k")
        else:
            exprs.append(f'"{name}"')
    secondary = await conn.fetch(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i "
        "JOIN pg_namespace n ON n.nspname = i.schemaname "
        "JOIN pg_class c ON c.relname = i.indexname AND c.relnamespace = n.oid "
        "JOIN pg_index x ON x.indexrelid = c.oid "
        "WHERE i.schemaname = $1 AND i.tablename = $2 AND NOT x.indisprimary AND NOT x.indisunique",
        schema,
        table,
    )
    qualified = f'"{schema}"."{table}"'
    for index in secondary:
        await conn.execute(f'DROP INDEX "{schema}"."{index["indexname"]}"')
    await conn.execute(f"CREATE TEMP TABLE original AS SELECT {', '.join(names)} FROM {qualified}")
    started = time.monotonic()
    for k in range(1, copies + 1):
        await conn.execute(
            f"INSERT INTO {qualified} ({', '.join(names)}) "
            f"SELECT {', '.join(exprs)} FROM original, (SELECT $1::int AS k) n",
            k,
        )
        if k % 10 == 0 or k == copies:
            say(f"    {schema}.{table}: copy {k}/{copies} ({time.monotonic() - started:.0f}s)")
    await conn.execute("DROP TABLE original")
    for index in secondary:
        await conn.execute(index["indexdef"])
    await conn.execute(f"ANALYZE {qualified}")


async def pad(env: BenchEnv, copies: int, say) -> dict[str, int]:
    """The read model and the event store, each row copied ``copies`` times."""
    sizes: dict[str, int] = {}
    conn = await asyncpg.connect(env.dsn("projections"))
    try:
        await conn.execute("SET maintenance_work_mem = '256MB'")
        for table in READ_MODEL:
            await _copy_rows(conn, "projections", table, copies, say)
            sizes[table] = await _count(conn, f"projections.{table}")
    finally:
        await conn.close()
    conn = await asyncpg.connect(env.dsn("contracts"))
    try:
        await conn.execute("SET maintenance_work_mem = '256MB'")
        await _copy_rows(conn, "public", "events", copies, say)
        sizes["events"] = await _count(conn, "events")
    finally:
        await conn.close()
    return sizes


async def sample_clients(env: BenchEnv, cards: int, seed: int) -> list[str]:
    """``cards`` random clients of the real data that have at least one contract."""
    conn = await asyncpg.connect(env.dsn("projections"))
    try:
        rows = await conn.fetch("SELECT DISTINCT client_id::text FROM projections.contracts ORDER BY 1")
    finally:
        await conn.close()
    ids = [r[0] for r in rows]
    return random.Random(seed).sample(ids, min(cards, len(ids)))


def report(seed: Scale, sizes: dict[str, int], results: list[Cards], loaded_events: int, command: str) -> str:
    big = results[-1]
    slowest = sorted(big.calls.items(), key=lambda kv: -percentile(sorted(kv[1]), 0.5))
    lines = [
        f"`{command}` · {datetime.now(UTC):%Y-%m-%d %H:%M} UTC · commit {_git('rev-parse', '--short', 'HEAD')} · "
        f"{os.cpu_count()} cores · **measured on a shared machine** (load average in the table)",
        "",
        f"Real data: {seed} ({loaded_events:,} events) through the write path; padded to "
        + ", ".join(f"{v:,} {k}" for k, v in sizes.items())
        + ".",
        "",
        "| read model | cards | server p50 ms | p95 | p99 | max | wall p50 ms | service calls per card | "
        "stack CPU ms per card | load avg |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *(r.row() for r in results),
        "",
        f"Target: server p99 ≤ {TARGET_MS:.0f} ms at DESIGN scale — "
        + (
            "**met**"
            if percentile(sorted(big.server_ms), 0.99) <= TARGET_MS
            else f"**missed** (p99 {percentile(sorted(big.server_ms), 0.99):.0f} ms)"
        )
        + f"; p99 at scale ÷ p99 at seed scale = "
        f"{percentile(sorted(big.server_ms), 0.99) / percentile(sorted(results[0].server_ms), 0.99):.2f}.",
        "",
        f"Each call of the card at DESIGN scale ({big.label}), slowest first:",
        "",
        "| call | per card | p50 ms | p95 | p99 |",
        "|---|---:|---:|---:|---:|",
    ]
    for desc, samples in slowest:
        s = sorted(samples)
        lines.append(
            f"| `{desc}` | {len(s) / len(big.server_ms):.2f} | {_ms(percentile(s, 0.5))} | "
            f"{_ms(percentile(s, 0.95))} | {_ms(percentile(s, 0.99))} |"
        )
    lines += ["", "Stack CPU per card at DESIGN scale, by process (ms):", ""]
    lines.append(", ".join(f"{k} {v:.1f}" for k, v in sorted(big.cpu_by_process.items(), key=lambda kv: -kv[1])))
    return "\n".join(lines) + "\n"


async def _run(env: BenchEnv, seed: Scale, copies: int, cards: int, say) -> tuple[dict[str, int], list[Cards]]:
    ctx = Ctx(env, PROFILES["quick"], Report("console", "bench.console"), say)
    await relay.drain_generated(ctx)
    await projections.catch_up(ctx)
    env.ports["console"] = free_port()
    for name in ("contracts", "tickets", "console"):
        await asyncio.to_thread(env.start, name)
    sampled = await sample_clients(env, cards + 20, seed=7)
    chosen, warm_up = sampled[:cards], sampled[cards:]
    results = [await open_cards(env, chosen, warm_up[:10], f"seed: {seed.periods:,} periods", say)]
    say(f"padding: {copies} copies of every read-model row and event")
    started = time.monotonic()
    sizes = await pad(env, copies, say)
    say(f"  padded in {time.monotonic() - started:.0f}s: {sizes}")
    for name in ("contracts", "console"):  # no aggregate or pool warmed by the first pass
        await asyncio.to_thread(env.stop, name)
        await asyncio.to_thread(env.start, name)
    results.append(await open_cards(env, chosen, warm_up[10:], f"DESIGN: {sizes['periods']:,} periods", say))
    return sizes, results


def main(
    seed_clients: int = typer.Option(2_000, help="clients written through the write path (the cards opened)"),
    copies: int = typer.Option(49, help="copies of every read-model row and event (49: 100k clients, 2M periods)"),
    cards: int = typer.Option(300, help="random cards opened at each scale"),
) -> None:
    say = print
    seed = Scale(seed_clients, seed_clients * 3, seed_clients * 20)
    command = f"python -m bench.console --seed-clients {seed_clients} --copies {copies} --cards {cards}"
    say(f"load average at start: {os.getloadavg()[0]:.1f}")
    env = open_env(say)
    try:
        loaded = datagen.load(env.dsn("contracts"), seed, today=env.today())  # before any event loop: it forks workers
        say(f"  {loaded.events:,} events in {loaded.seconds:.0f}s")
        sizes, results = asyncio.run(_run(env, seed, copies, cards, say))
    finally:
        env.stop_all()
        say(f"logs kept in {keep_logs(env)}")
        close_env(env)
    text = report(seed, sizes, results, loaded.events, command)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"console-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.md"
    path.write_text(text)
    print(text)
    print(f"saved {path}")


if __name__ == "__main__":
    typer.run(main)
