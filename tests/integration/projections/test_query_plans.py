"""EXPLAIN evidence: with a realistic spread of rows, coverage is an index lookup, debtors
read the partial index of unpaid periods, income reads the rollup and keeping the rollup up
to date probes the rows a batch touches — no sequential scan of periods.

Rows are seeded with COPY into a scratch schema made by the same DDL function as the live
one, and ANALYZEd; the planner is left alone (no enable_seqscan tricks)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from uuid import uuid4

import asyncpg
import pytest

from services.projections.adapters.reads import COVERAGE_SQL, INCOME_SQL, owed_periods
from services.projections.adapters.store import ADD_INCOME

CLIENTS, CONTRACTS_PER_CLIENT, PERIODS_PER_CONTRACT = 2_000, 2, 6  # 4k contracts, 24k periods


@pytest.fixture(scope="module")
async def seeded(projections_dsn):  # type: ignore[no-untyped-def]
    schema = f"plans_{uuid4().hex[:8]}"
    conn = await asyncpg.connect(projections_dsn)
    await conn.execute("SELECT projections_meta.create_read_model($1)", schema)
    await conn.execute(f"SET search_path TO {schema}")
    rnd = random.Random(7)
    clients, contracts, periods = [], [], []
    for c in range(CLIENTS):
        client = uuid4()
        clients.append((client, f"Client {c}", "M", "m@example.com", c))
        for k in range(CONTRACTS_PER_CLIENT):
            contract = uuid4()
            contracts.append((contract, client, f"N-{c}-{k}", "t", date(2024, 1, 1), "active", None, None))
            start = date(2024, 1, 1)
            for _ in range(PERIODS_PER_CONTRACT):
                end = start + timedelta(days=90)
                paid = Decimal("1000.00") if rnd.random() < 0.9 else Decimal("0")
                periods.append((uuid4(), contract, client, start, end, Decimal("1000.00"), "RUB",
                                rnd.choice(("prepaid", "postpaid")), None, paid))
                start = end + timedelta(days=1)
    await conn.copy_records_to_table("clients", records=clients, schema_name=schema)
    await conn.copy_records_to_table("contracts", records=contracts, schema_name=schema)
    await conn.copy_records_to_table(
        "periods", records=periods, schema_name=schema,
        columns=["period_id", "contract_id", "client_id", "starts_on", "ends_on", "amount", "currency",
                 "payment_terms", "remind_on", "paid_amount"])
    await conn.execute("ANALYZE")
    await conn.execute("SELECT projections_meta.fill_income_months($1)", schema)
    yield conn, clients
    await conn.execute(f"DROP SCHEMA {schema} CASCADE")
    await conn.close()


def plan_text(rows: list[asyncpg.Record]) -> str:
    return "\n".join(r[0] for r in rows)


async def test_coverage_is_an_index_lookup(seeded) -> None:  # type: ignore[no-untyped-def]
    conn, clients = seeded
    plan = plan_text(await conn.fetch("EXPLAIN " + COVERAGE_SQL, clients[123][0], date(2025, 3, 1)))
    assert "periods_client_idx" in plan, plan
    assert "Seq Scan on periods" not in plan, plan
    assert "Seq Scan on contracts" not in plan, plan


async def test_debtors_use_the_partial_index_of_unpaid_periods(seeded) -> None:  # type: ignore[no-untyped-def]
    conn, _ = seeded
    captured: list[str] = []

    class Explaining:
        async def fetch(self, sql: str, *args: object) -> list[asyncpg.Record]:
            captured.append(plan_text(await conn.fetch("EXPLAIN " + sql, *args)))
            return []

    await owed_periods(Explaining(), on=date(2024, 3, 1), payment_terms=None, client_id=None,  # type: ignore[arg-type]
                       limit=100, offset=0)
    assert "periods_owed_idx" in captured[0], captured[0]
    assert "Seq Scan on periods" not in captured[0], captured[0]


async def test_income_reads_the_rollup_only(seeded) -> None:  # type: ignore[no-untyped-def]
    conn, _ = seeded
    plan = plan_text(await conn.fetch("EXPLAIN " + INCOME_SQL, date(2024, 1, 1), date(2025, 1, 1)))
    assert "income_months" in plan, plan
    assert "on periods" not in plan and "on payments" not in plan, plan


async def test_keeping_the_rollup_probes_the_touched_rows(seeded) -> None:  # type: ignore[no-untyped-def]
    conn, _ = seeded
    period, contract = await conn.fetchrow("SELECT period_id, contract_id FROM periods LIMIT 1")
    plan = plan_text(await conn.fetch("EXPLAIN " + ADD_INCOME, [period], [contract], [uuid4()],
                                      [], [], [], [], [], []))
    assert "Seq Scan on periods" not in plan, plan  # (payments: none seeded, a scan of nothing)
    assert "periods_pkey" in plan and "periods_contract_idx" in plan, plan
