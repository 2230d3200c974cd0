"""Debtors at docs/design.md §7 scale, the released walk against ``period_debts`` (issue 20),
on the same synthetic rows in one run: PostgreSQL CPU per query (the backend's own
user+system time, which other load on the machine hardly moves) and wall time.

    python -m bench.debtors_scale --dsn postgresql://…/projections [--clients 100000]
    python -m bench.debtors_scale --dsn … --reuse --before /tmp/old/services/projections/adapters/reads.py

``--before FILE`` compares against another version of ``adapters/reads.py`` (e.g. from
``git archive``) instead of the released walk; ``--reuse`` keeps the rows of an earlier run
(seeding 100 k clients takes minutes).

The rows are made in SQL (no events, no Kafka) in a scratch database beside ``dsn``: per client
3 contracts of ~7 monthly periods from 2024 on (2.1 M periods at 100 k clients), 65 % prepaid;
75 % of clients pay on time, 15 % 5–60 days late, 10 % leave their last periods unpaid — the
mix of ``bench/datagen.py``. Then ``period_debts`` is filled as a rebuild fills it.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import uvloop

from bench.tools import scratch_database, with_database
from services.projections.adapters import reads
from services.projections.adapters.reads import NOT_VOID, _Params, paid_as_at, period_state
from shared.db.migrations import apply_migrations, migrations_dir

SEED = """
INSERT INTO clients (client_id, name, position)
  SELECT md5('c' || g)::uuid, 'Client ' || lpad(g::text, 6, '0'), g FROM generate_series(1, $1) g;
INSERT INTO contracts (contract_id, client_id, number, title, signed_on, status)
  SELECT md5('k' || g || '-' || k)::uuid, md5('c' || g)::uuid, 'N-' || g || '-' || k, 't', date '2024-01-01', 'active'
  FROM generate_series(1, $1) g, generate_series(1, 3) k;
INSERT INTO periods (period_id, contract_id, client_id, starts_on, ends_on, amount, currency, payment_terms,
                     paid_amount)
  SELECT md5('p' || g || '-' || k || '-' || n)::uuid, md5('k' || g || '-' || k)::uuid, md5('c' || g)::uuid,
         s.starts_on, (s.starts_on + interval '1 month' - interval '1 day')::date, 1000, 'RUB',
         CASE WHEN (g + k) % 20 < 13 THEN 'prepaid' ELSE 'postpaid' END, 0
  FROM generate_series(1, $1) g, generate_series(1, 3) k, generate_series(0, 6) n,
       LATERAL (SELECT (date '2024-01-01' + ((g * 7 + k * 131) % 700) * interval '1 day'
                        + n * interval '1 month')::date AS starts_on) s;
-- who pays how: 75 % on the day it is owed, 15 % late, 10 % leave the last three unpaid
INSERT INTO payments (payment_id, period_id, contract_id, client_id, amount, currency, paid_on)
  SELECT md5('q' || p.period_id)::uuid, p.period_id, p.contract_id, p.client_id, p.amount, 'RUB',
         p.due_on + CASE WHEN h % 100 < 75 THEN 0 ELSE 5 + h % 56 END
  FROM (SELECT p.*, abs(hashtext(p.client_id::text)) AS h,
               row_number() OVER (PARTITION BY p.contract_id ORDER BY p.starts_on DESC) AS from_last
        FROM periods p) p
  WHERE p.due_on <= date '2026-11-30' AND NOT (p.h % 100 >= 90 AND p.from_last <= 3);
UPDATE periods p SET paid_amount = q.amount FROM payments q WHERE q.period_id = p.period_id;
"""


async def released_owed_periods(
    conn: asyncpg.Connection,
    *,
    on: date,
    payment_terms: str | None,
    limit: int,
    offset: int,
    grace_days: int = 0,
    client_id: UUID | None = None,
) -> list[asyncpg.Record]:
    """The debtors query as released before issue 20 (adapters/reads.py at e505ee5): walk every
    client by name, probe its unpaid periods and its payments dated after D. Kept as the
    reference the new one is held to (tests/integration/projections/test_period_debts.py)."""
    param = _Params()
    day = param(on)
    common = [f"p.due_on <= {param(on - timedelta(days=grace_days))}", NOT_VOID]
    if payment_terms is not None:
        common.append(f"p.payment_terms = {param(payment_terms)}")
    clients = f"cl.client_id = {param(client_id)}" if client_id is not None else "true"
    base = "FROM periods p JOIN contracts c ON c.contract_id = p.contract_id WHERE "
    owed = base + " AND ".join(["p.client_id = cl.client_id", "NOT p.paid", *common])
    paid_later = base + " AND ".join(
        [
            f"p.period_id IN (SELECT q.period_id FROM payments q WHERE q.client_id = cl.client_id "
            f"AND q.paid_on > {day} AND NOT q.cancelled)",
            "p.paid",
            *common,
            f"{paid_as_at(day)} < p.amount",
        ]
    )
    columns = f"p.client_id, {period_state(day)}"
    sql = f"""
        SELECT cl.name AS client_name, o.*
        FROM (SELECT cl.client_id, cl.name FROM clients cl
              WHERE {clients} AND EXISTS (SELECT 1 {owed} UNION ALL SELECT 1 {paid_later})
              ORDER BY cl.name NULLS LAST, cl.client_id
              LIMIT {int(limit)} OFFSET {int(offset)}) cl
        CROSS JOIN LATERAL (SELECT {columns} {owed} UNION ALL SELECT {columns} {paid_later}) o
        ORDER BY cl.name NULLS LAST, cl.client_id, o.currency, o.starts_on, o.period_id"""
    return await conn.fetch(sql, *param.values)


def _cpu(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (a PostgreSQL backend on this host)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _seed(url: str, clients: int) -> asyncpg.Connection:
    await apply_migrations(url, migrations_dir("projections"))
    conn = await asyncpg.connect(url, command_timeout=3600)
    await conn.execute("DROP SCHEMA IF EXISTS scale CASCADE")
    await conn.execute("SELECT projections_meta.create_read_model('scale', false)")
    await conn.execute("SET search_path TO scale")
    started = time.perf_counter()
    for statement in SEED.split(";\n"):
        if statement.strip():
            await conn.execute(statement.replace("$1", str(int(clients))))
    await conn.execute("SELECT projections_meta.create_read_model_indexes('scale')")
    filled = time.perf_counter()
    await conn.execute("SELECT projections_meta.fill_period_debts('scale')")
    print(f"seeded in {filled - started:.0f} s; period_debts filled in {time.perf_counter() - filled:.1f} s")
    await conn.execute("VACUUM ANALYZE")
    return conn


async def _time(conn: asyncpg.Connection, pid: int, runs: int, query) -> tuple[float, float, float, int, int]:
    """(CPU ms per query of the backend, wall p50 ms, wall max ms, clients answered, buffers a
    query touches); ``query(conn)`` runs it."""
    rows = await query(conn)  # warm: plans cached, pages in memory
    walls = []
    cpu = _cpu(pid)
    for _ in range(runs):
        t = time.perf_counter()
        await query(conn)
        walls.append((time.perf_counter() - t) * 1000)
    cpu_ms = (_cpu(pid) - cpu) * 1000 / runs
    counting = _CountingBuffers(conn)
    await query(counting)
    answered = len({r["client_id"] for r in rows}) if isinstance(rows, list) else 0
    return cpu_ms, statistics.median(walls), max(walls), answered, counting.buffers


class _CountingBuffers:
    """A connection that adds up the shared buffers (hit + read) each statement's plan touches,
    from ``EXPLAIN (ANALYZE, BUFFERS)``: how much of the database a query reads, which decides
    its cost when those pages are not in shared buffers (and does not move with the machine)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn, self.buffers = conn, 0

    async def _count(self, sql: str, *args: object) -> None:
        [plan] = json.loads(await self.conn.fetchval(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}", *args))
        self.buffers += plan["Plan"]["Shared Hit Blocks"] + plan["Plan"]["Shared Read Blocks"]

    async def fetch(self, sql: str, *args: object) -> list[asyncpg.Record]:
        await self._count(sql, *args)
        return await self.conn.fetch(sql, *args)

    async def fetchrow(self, sql: str, *args: object) -> Any:
        await self._count(sql, *args)
        return await self.conn.fetchrow(sql, *args)

    async def fetchval(self, sql: str, *args: object) -> Any:  # an older reads.py's count
        await self._count(sql, *args)
        return await self.conn.fetchval(sql, *args)


def _load_reads(path: str) -> Any:
    """Another version of ``adapters/reads.py`` as a module of its own (its imports resolve here)."""
    spec = importlib.util.spec_from_file_location("reads_before", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def _reused(dsn: str) -> asyncpg.Connection | None:
    """The rows of an earlier run, if its database and schema are there."""
    try:
        conn = await asyncpg.connect(with_database(dsn, "bench_debtors_scale"), command_timeout=3600)
    except asyncpg.InvalidCatalogNameError:
        return None
    if await conn.fetchval("SELECT to_regclass('scale.period_debts')") is None:
        await conn.close()
        return None
    await conn.execute("SET search_path TO scale")
    return conn


async def main(dsn: str, clients: int, runs: int, before: str | None = None, reuse: bool = False) -> None:
    conn = await _reused(dsn) if reuse else None
    if conn is None:
        conn = await _seed(await scratch_database(dsn, "bench_debtors_scale"), clients)
        clients = await conn.fetchval("SELECT count(*) FROM clients")
    else:
        clients = await conn.fetchval("SELECT count(*) FROM clients")
    old_reads = _load_reads(before) if before else None
    try:
        pid = await conn.fetchval("SELECT pg_backend_pid()")
        counts = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM periods) AS periods, (SELECT count(*) FROM payments) AS payments, "
            "(SELECT count(*) FROM period_debts) AS debts"
        )
        print(
            f"{clients:,} clients, {counts['periods']:,} periods, {counts['payments']:,} payments, "
            f"{counts['debts']:,} period_debts rows; load average {os.getloadavg()[0]:.1f}"
        )
        today = date(2026, 11, 30)
        everyone = await reads.owed_periods(conn, on=today, payment_terms=None, client_id=None, limit=10**6, offset=0)
        debtors = list(dict.fromkeys((r["client_name"], r["client_id"]) for r in everyone))
        deep = max(len(debtors) // 200, 1)  # the page half-way through today's debtors
        print(f"{len(debtors):,} debtors today; the deep page is page {deep + 1}")
        cases = [
            ("today (2026-11-30), page 1", today, None, 0),
            ("a year ago (2025-11-30), page 1", date(2025, 11, 30), None, 0),
            ("few owe (2024-01-05), page 1", date(2024, 1, 5), None, 0),
            ("none owe: postpaid on 2024-02-05, page 1", date(2024, 2, 5), "postpaid", 0),
            (f"today, page {deep + 1} (offset {deep * 100:,})", today, None, deep),
        ]
        was = "released" if old_reads is None else "before"
        # The service counts once per day, grace and terms and reuses the count's choice of plan
        # for FEW_OWE_SECONDS (adapters/read_model.py): a page and its count are timed apart.
        print(
            f"| case | {was}: page PG CPU ms · wall p50 · max · buffers | its count: same | "
            "now: page | now: count | clients on the page |"
        )
        print("|---|---|---|---|---|---|")

        def cells(t: tuple[float, float, float, int, int] | None) -> str:
            return "–" if t is None else f"{t[0]:.1f} · {t[1]:.1f} · {t[2]:.1f} · {t[4]:,}"

        async def page_and_count(module: Any, kw: dict[str, Any]) -> tuple[Any, Any, Any]:
            """(page timing, count timing, the count's answer) with ``module``'s ``owed_periods``."""
            day, terms = kw["on"], kw["payment_terms"]
            few = await module.few_owe(conn, day, 0, terms)
            count = await _time(conn, pid, runs, lambda c: module.few_owe(c, day, 0, terms))
            page = await _time(conn, pid, runs, lambda c: module.owed_periods(c, client_id=None, few=few, **kw))
            return page, count, few

        for label, on, terms, page in cases:
            kw: dict[str, Any] = dict(on=on, payment_terms=terms, limit=101, offset=page * 100)
            if old_reads is None:
                old = await _time(conn, pid, runs, lambda c, kw=kw: released_owed_periods(c, **kw))
                old_count = None
            else:
                old, old_count, _ = await page_and_count(old_reads, kw)
            new, new_count, few = await page_and_count(reads, kw)
            print(
                f"| {label} | {cells(old)} | {cells(old_count)} | {cells(new)} | {cells(new_count)} | "
                f"{old[3]} / {new[3]} ({few}) |"
            )
        # the same deep page by cursor: after the last debtor of the page before it (the count as
        # for the first page of the day)
        last = debtors[deep * 100 - 1]
        cursor: dict[str, Any] = dict(on=today, payment_terms=None, client_id=None, limit=101, offset=0, after=last)
        was_cursor = None
        if old_reads is not None:
            old_few = await old_reads.few_owe(conn, today, 0, None)
            was_cursor = await _time(conn, pid, runs, lambda c: old_reads.owed_periods(c, few=old_few, **cursor))
        few = await reads.few_owe(conn, today, 0, None)
        new = await _time(conn, pid, runs, lambda c: reads.owed_periods(c, few=few, **cursor))
        print(f"| today, page {deep + 1} by `after` cursor | {cells(was_cursor)} | – | {cells(new)} | – | {new[3]} |")
    finally:
        await conn.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--dsn", required=True, help="a PostgreSQL URL on this host (its backends' CPU is read from /proc)"
    )
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--before", help="another adapters/reads.py to compare with (instead of the released walk)")
    parser.add_argument("--reuse", action="store_true", help="keep the rows of an earlier run if they are there")
    args = parser.parse_args()
    uvloop.run(main(args.dsn, args.clients, args.runs, args.before, args.reuse))
