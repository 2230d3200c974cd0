"""``python -m bench.write_profile [--seconds 20] [--only write,tickets]``: where a command's CPU goes.

Starts the bench's own stack (free ports, temp dir, removed after) with PostgreSQL's
``pg_stat_statements`` loaded (``track=all``: statements inside plpgsql functions are counted
too), loads the smoke data set, starts the services as ``python -m bench`` does, then per
benchmark runs its capacity mix (32 clients back to back, the same requests as
``bench/write_path.py`` and ``bench/tickets.py``) for ``--seconds`` while py-spy samples the
service — or, for ``e2e``, ``bench/end_to_end.py``'s command and coverage read at ``--e2e-rate`` (50/s) while
py-spy samples projections — and prints:

- CPU ms per request of every process of the stack (the bench's own accounting);
- PostgreSQL: each statement's calls and execution time per request, top-level and nested;
- py-spy: the service's self time by package and function, and project code on the stack.

The report is also saved as ``bench/results/write-profile-<time>.md``. The figures are for
comparing two commits on one host (run both back to back): CPU per request moves little with
other load, the shares within one process not at all.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import typer
import uvloop

from bench import datagen, end_to_end, relay, tickets, write_path
from bench.context import Ctx
from bench.environment import close_env, open_env
from bench.http import HttpPool
from bench.loadgen import LoadResult
from bench.measure import cpu_note, measure
from bench.profiles import PROFILES
from bench.profiling import PG_STATEMENTS_SETTINGS, _short
from bench.results import Report
from bench.runner import notifier_starts_at_the_end
from bench.targets import load_targets

STATEMENTS = """SELECT d.datname, s.toplevel, s.calls, s.total_exec_time, s.rows,
       regexp_replace(left(s.query, 160), '\\s+', ' ', 'g') AS query
FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
ORDER BY s.total_exec_time DESC LIMIT $1"""


async def _statements(ctx: Ctx, per: int, top: int = 25) -> list[str]:
    conn = await asyncpg.connect(ctx.env.dsn("contracts"))
    try:
        rows = await conn.fetch(STATEMENTS, top)
    finally:
        await conn.close()
    top_total = sum(r["total_exec_time"] for r in rows if r["toplevel"])
    lines = [
        f"PostgreSQL statements (execution time, all databases; top-level total {top_total / per:.3f} ms per request):",
        "| db | level | calls/req | ms/req | share of top-level | statement |",
        "|---|---|---:|---:|---:|---|",
    ]
    for r in rows:
        ms = r["total_exec_time"] / per
        share = f"{100 * r['total_exec_time'] / top_total:.1f} %" if top_total else ""
        level = "top" if r["toplevel"] else "nested"
        query = r["query"].replace("|", "\\|")
        lines.append(f"| {r['datname']} | {level} | {r['calls'] / per:.2f} | {ms:.3f} | {share} | `{query}` |")
    return lines


async def _reset(ctx: Ctx) -> None:
    conn = await asyncpg.connect(ctx.env.dsn("contracts"))
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        await conn.execute("SELECT pg_stat_statements_reset()")
    finally:
        await conn.close()


async def _one(
    ctx: Ctx, name: str, service: str, op, seconds: float, rate: float | None = None, also: tuple[str, ...] = ()
) -> list[str]:
    """``op`` for ``seconds``: at its capacity (32 clients back to back), or at ``rate`` (open
    loop), py-spy sampling ``service`` and the services in ``also``."""
    from bench.measure import settle

    await settle(ctx)
    await _reset(ctx)
    label = f"{name} capacity" if rate is None else f"{name} at {rate:g}/s"
    result: LoadResult = await measure(
        ctx, op, rate=rate, concurrency=32, duration=seconds, profile_label=label, profile=(service, *also)
    )
    lines = [
        f"## {name}: {result.ok:,} requests in {seconds:.0f} s ({result.throughput:,.0f}/s, "
        f"{sum(result.errors.values())} failed), load average {os.getloadavg()[0]:.1f}",
        "",
        cpu_note([result.cpu], result.ok, bound=True),
        "",
        *(await _statements(ctx, result.ok)),
        "",
    ]
    for sampled in (service, *also):
        lines += [
            "py-spy of " + sampled + ":",
            "```",
            ctx.report.profiles.get(f"{label} — {sampled}", "(py-spy not found)"),
            "```",
            *_deeper(ctx, label, sampled),
            "",
        ]
    return lines


def _deeper(ctx: Ctx, label: str, service: str, top: int = 45) -> list[str]:
    """Every function's inclusive share (libraries too), and the raw samples kept beside the report."""
    raws = sorted(ctx.env.run_dir.glob(f"pyspy-*{service}.raw"))
    if not raws:
        return []
    raw = raws[-1]
    kept = Path(tempfile.gettempdir()) / f"write-profile-{service}-{int(time.time())}.raw"
    shutil.copy(raw, kept)
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        total += int(count)
        for frame in {_short(f) for f in stack.split(";") if "(" in f}:
            inclusive[frame] += int(count)
    lines = [f"inclusive, every function ({total} samples; raw: {kept}):", "```"]
    lines += [f"  {100 * n / total:5.1f} %  {name}" for name, n in inclusive.most_common(top)]
    return [*lines, "```"]


async def _online(ctx: Ctx, only: set[str], seconds: float, e2e_rate: float) -> list[str]:
    await relay.drain_generated(ctx)
    from bench.projections import catch_up

    await catch_up(ctx)
    await notifier_starts_at_the_end(ctx)
    for name in ("contracts", "tickets", "notifier", "scheduler"):
        await asyncio.to_thread(ctx.env.start, name)
    targets = await load_targets(ctx)
    out: list[str] = []
    if "write" in only:
        pool = HttpPool(ctx.env.url("contracts"), size=256, token=ctx.env.token("manager"))
        try:
            await pool.json("GET", "/health/ready")
            op = write_path.commands(ctx, pool, targets, "profile")
            out += await _one(ctx, "write path (contracts)", "contracts", op, seconds)
        finally:
            await pool.close()
    if "tickets" in only:
        pool = HttpPool(ctx.env.url("tickets"), size=256, token=ctx.env.token("dispatcher"))
        try:
            clients = targets.clients
            today = ctx.today.isoformat()

            async def register(i: int) -> None:
                answer = await pool.json(
                    "POST",
                    "/tickets",
                    json={"client_id": str(clients[i % len(clients)]), "title": "Printer", "registered_at": today},
                    expect=(201,),
                )
                if answer["coverage"]["status"] == "unknown":
                    raise tickets.CoverageUnknown()

            # projections too: each registration is also its coverage answer
            out += await _one(ctx, "tickets (POST /tickets)", "tickets", register, seconds, also=("projections",))
        finally:
            await pool.close()
    if "e2e" in only:
        async with end_to_end.pools(ctx) as (contracts, projections):
            payable = itertools.cycle(targets.payable)
            op = end_to_end.pay_and_look(contracts, projections, payable, ctx.today.isoformat(), [])
            name = "end to end (payment, then coverage with min_position)"
            out += await _one(ctx, name, "projections", op, seconds, rate=e2e_rate)
    return out


def main(
    seconds: float = typer.Option(20.0, help="length of each capacity run"),
    only: str = typer.Option("write,tickets", help="any of write, tickets, e2e (comma-separated)"),
    e2e_rate: float = typer.Option(
        end_to_end.UNLOADED_RATE, help="commands/s of the e2e mix (near the CPU-bound ceiling the consumer trails)"
    ),
) -> None:
    os.environ["ABONENT_PG_SETTINGS"] = PG_STATEMENTS_SETTINGS
    profile = PROFILES["smoke"]
    report = Report(profile.name, "python -m bench.write_profile")
    env = open_env(print)
    lines: list[str] = []
    try:
        ctx = Ctx(env, profile, report, print, data={"py_spy": True})
        datagen.load(env.dsn("contracts"), profile.scale, today=env.today())
        lines = uvloop.run(_online(ctx, {s.strip() for s in only.split(",")}, seconds, e2e_rate))
    finally:
        close_env(env)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    head = f"# write profile {stamp} · load average {os.getloadavg()[0]:.1f} · {time.strftime('%H:%M')}\n\n"
    path = Path(__file__).parent / "results" / f"write-profile-{stamp}.md"
    path.write_text(head + "\n".join(lines) + "\n")
    print(head + "\n".join(lines))
    print(f"saved {path}")


if __name__ == "__main__":
    typer.run(main)
