"""The bank-statement import's group commit on PostgreSQL (issue 17, the import's speed): a
batch's receipts on many contracts are one transaction — events, ledger rows and the
scheduler's rows — in file order per contract; and the scheduler's rows of several contracts
are rewritten in one statement exactly as one by one."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import asyncpg

from services.contracts.adapters.time_events_table import pending_rows, write_pending_many
from services.contracts.bootstrap import contracts_application, statement_import
from services.contracts.domain import commands as cmd
from services.contracts.domain.time_events import TimeEventDue
from shared.db.pool import create_pool
from shared.eventstore.records import CommandContext
from tests.integration.contracts.conftest import contracts_settings
from tests.support.statements import Doc, exchange_1c


def ctx() -> CommandContext:
    return CommandContext(correlation_id=str(uuid.uuid4()), actor="test-accountant", now=datetime.now(UTC))


async def test_a_batch_of_payments_on_many_contracts_is_one_transaction_with_its_rows(stack):
    pool = await create_pool(stack.database_urls["contracts"], min_size=1, max_size=2)
    try:
        app = contracts_application(pool, contracts_settings(stack), 0)
        tag = uuid.uuid4().hex[:6]
        payers = []
        for i in range(4):
            client_id, contract_id, tax = uuid.uuid4(), uuid.uuid4(), str(uuid.uuid4().int)[:10]
            await app.handle_client(cmd.RegisterClient(client_id, f"Payer {tag}-{i}", "M", "m@example.com", tax), ctx())
            await app.handle_contract(
                cmd.OpenContract(contract_id, client_id, f"GC-{tag}-{i}", "IT", date(2025, 12, 1)), ctx()
            )
            await app.handle_contract(
                cmd.SchedulePeriods(
                    contract_id,
                    [uuid.uuid4() for _ in range(4)],
                    date(2026, 1, 1),
                    date(2026, 12, 31),
                    "quarter",
                    Decimal("30000.00"),
                    "RUB",
                    "prepaid",
                ),
                ctx(),
            )
            payers.append((contract_id, tax, f"GC-{tag}-{i}"))
        docs = [
            Doc(f"{tag}-{n}-{i}", amount, tax, f"Оплата по договору {number}")
            for n, amount in enumerate(("30000.00", "45000.00"))
            for i, (_, tax, number) in enumerate(payers)
        ] + [Doc(f"{tag}-x", "5.00", str(uuid.uuid4().int)[:10], "?")]
        data = exchange_1c(docs).encode("cp1251")
        importing = ctx()
        report = await statement_import(pool, app).run(lambda: [data], importing, date(2026, 12, 31))
        assert (report.matched, report.unallocated, report.matched_by) == (8, 1, {"contract_number": 8})

        async with pool.acquire() as conn:
            events = await conn.fetch(
                "SELECT xmin::text AS tx, stream_id, position, data FROM events WHERE correlation_id = $1 "
                "ORDER BY position",
                importing.correlation_id,
            )
            ledger = await conn.fetch(
                "SELECT DISTINCT xmin::text AS tx FROM bank_receipts WHERE status = 'matched' AND id = ANY($1::uuid[])",
                [r["data"]["receipt_id"] for r in events],
            )
            pending = await conn.fetchval(
                "SELECT count(DISTINCT contract_id) FROM time_events_due WHERE contract_id = ANY($1::uuid[])",
                [c for c, _, _ in payers],
            )
        assert {r["tx"] for r in events} == {r["tx"] for r in ledger} and len(ledger) == 1  # one transaction
        assert report.position == events[-1]["position"]
        assert pending == 4
        for contract_id, _, _ in payers:
            state, _ = await app.get_contract(contract_id)
            # 30 000 pays Q1, then 45 000 pays Q2 and half of Q3: the file's order, one contract at a time
            assert [str(p.paid_amount) for p in state.periods] == ["30000.00", "30000.00", "15000.00", "0.00"]
    finally:
        await pool.close()


async def test_the_scheduler_rows_of_several_contracts_are_rewritten_in_one_statement(stack):
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()

    def due(kind: str, day: int) -> TimeEventDue:
        period = uuid.uuid4()
        return TimeEventDue(kind, period, date(2026, 1, day), f"{kind}:{period}:{day}")  # type: ignore[arg-type]  # the kinds are literals

    kept, moved, gone, other = due("started", 1), due("ended", 2), due("overdue", 3), due("started", 4)
    conn = await asyncpg.connect(stack.database_urls["contracts"])
    tx = conn.transaction()  # rolled back: no tick anywhere ever sees these contracts
    await tx.start()
    try:
        await pending_rows(a, [kept, moved, gone]).run(conn, 1)
        await pending_rows(b, [due("started", 5)]).run(conn, 2)
        await pending_rows(c, [other]).run(conn, 3)
        moved_on = TimeEventDue(moved.kind, moved.period_id, date(2026, 2, 2), moved.key)
        await write_pending_many(conn, {a: [kept, moved_on], b: []})
        rows = await conn.fetch(
            "SELECT contract_id, key, due_on FROM time_events_due WHERE contract_id = ANY($1::uuid[]) ORDER BY key",
            [a, b, c],
        )
    finally:
        await tx.rollback()
        await conn.close()
    assert sorted((r["contract_id"], r["key"], r["due_on"]) for r in rows) == sorted(
        [(a, kept.key, kept.due_on), (a, moved.key, date(2026, 2, 2)), (c, other.key, other.due_on)]
    )
