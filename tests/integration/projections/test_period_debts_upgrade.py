"""Migration 0011 on a live read model that has rows: ``period_debts`` gains the period's own
columns (backfilled in committed steps, outside a transaction), and the page's index is
replaced CONCURRENTLY. After it the table is exactly what a fill from the tables makes, its new
columns are NOT NULL, the old index is gone and the new one valid — and a debtors page reads
no ``periods`` row.

Real PostgreSQL: a scratch database migrated to 0010, seeded with ``bench.debtors_scale``'s
rows (payments on time, late and never), filled as 0008 filled it, then migrated on."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path
from uuid import uuid4

import asyncpg

from bench.debtors_scale import SEED
from services.projections.adapters import reads
from shared.db.migrations import apply_migrations, migrations_dir


async def test_0011_backfills_the_live_table_and_swaps_its_index(stack, tmp_path: Path) -> None:
    admin_url = stack.database_urls["projections"]
    name = f"upgrade_{uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    dsn = admin_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        before = tmp_path / "migrations"
        before.mkdir()
        for f in sorted(migrations_dir("projections").glob("*.sql")):
            if f.name < "0011":
                shutil.copy(f, before / f.name)
        await apply_migrations(dsn, before)

        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute("SET search_path TO projections")
            for statement in SEED.split(";\n"):
                if statement.strip():
                    await conn.execute(statement.replace("$1", "300"))
            # a contract terminated inside its periods: its later periods are void, no debts
            await conn.execute(
                "UPDATE contracts SET terminated_on = date '2025-03-01' WHERE contract_id = "
                "(SELECT contract_id FROM contracts ORDER BY contract_id LIMIT 1)"
            )
            # a period paid in part (its paid amount is not its amount)
            await conn.execute(
                "UPDATE periods SET paid_amount = 400 WHERE period_id = "
                "(SELECT period_id FROM periods WHERE paid_amount = 0 ORDER BY period_id LIMIT 1)"
            )
            await conn.execute("SELECT projections_meta.fill_period_debts('projections')")
            rows_before = await conn.fetchval("SELECT count(*) FROM period_debts")
            assert rows_before > 300, rows_before  # the mix leaves debts: unpaid and paid late

            applied = await apply_migrations(dsn, migrations_dir("projections"))
            assert "0011_period_debts_page_columns" in applied, applied

            assert await conn.fetchval("SELECT count(*) FROM period_debts") == rows_before
            # and 0012's debtor_clients, filled from it
            assert await conn.fetchval("SELECT count(*) FROM debtor_clients") > 0
            for kept, filled in (("period_debts", "period_debt_rows"), ("debtor_clients", "debtor_client_rows")):
                for a, b in ((kept, filled), (filled, kept)):
                    differ = await conn.fetch(f"SELECT * FROM {a} EXCEPT ALL SELECT * FROM {b}")
                    assert differ == [], (a, b, differ[:3])
            nullable = await conn.fetch(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'projections' "
                "AND table_name = 'period_debts' AND is_nullable = 'YES'"
            )
            assert [r[0] for r in nullable] == ["settled_on"]
            indexes = dict(
                await conn.fetch(
                    "SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                    "WHERE i.indrelid = 'projections.period_debts'::regclass"
                )
            )
            assert indexes == {
                "period_debts_pkey": True,
                "period_debts_rows_idx": True,
                "period_debts_open_idx": True,
                "period_debts_owed_idx": True,
            }, indexes

            # a page's rows come from period_debts alone now
            await conn.execute("VACUUM ANALYZE period_debts")
            plans: list[str] = []

            class Explaining:
                async def fetch(self, sql: str, *args: object) -> list[asyncpg.Record]:
                    [plan] = await conn.fetch(f"EXPLAIN (FORMAT JSON) {sql}", *args)
                    plans.append(plan[0])
                    return await conn.fetch(sql, *args)

            page = await reads.owed_periods(
                Explaining(),
                on=date(2026, 11, 30),
                payment_terms=None,
                client_id=None,
                limit=21,
                offset=0,
                few=reads.Owing(few=False, few_later=True),
            )
            assert len({r["client_id"] for r in page}) == 21, page
            assert all(r["amount_due"] > 0 for r in page)
            [plan] = plans
            relations = {n.get("Relation Name") for n in _nodes(json.loads(plan)[0]["Plan"])}
            assert "periods" not in relations, relations
        finally:
            await conn.close()
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


def _nodes(node: dict) -> list[dict]:
    return [node, *(n for child in node.get("Plans", []) for n in _nodes(child))]
