"""EXPLAIN evidence: with a realistic spread of rows, coverage is an index lookup, a debtors
page walks clients in its order and stops at the page when many owe, and gathers the few
owing clients from the open debts when few do (never a walk over every client), income reads
the rollup and keeping the rollup up to date probes the rows a batch touches — no sequential
scan of periods.

Rows are seeded with COPY into a scratch schema made by the same DDL function as the live
one, and ANALYZEd; the planner is left alone (no enable_seqscan tricks)."""

from __future__ import annotations

import json
import random
import re
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import asyncpg
import pytest

from services.projections.adapters import reads
from services.projections.adapters.reads import (
    COVERAGE_SQL,
    INCOME_SQL,
    PERIOD_STATE,
    owed_periods,
    to_period_state,
)
from services.projections.adapters.store import (
    ADD_INCOME,
    BATCH_PLANS,
    LARGE_BATCH,
    LOAD_STREAMS,
    REFRESH_DEBTORS,
    REFRESH_DEBTS,
    ReadModelStore,
)
from services.projections.application.ports import PeriodFilter
from services.projections.domain.coverage import PeriodState, owed
from shared.owed import paid_as_at

CLIENTS, CONTRACTS_PER_CLIENT, PERIODS_PER_CONTRACT = 2_000, 2, 6  # 4k contracts, 24k periods


@pytest.fixture(scope="module")
async def seeded(projections_dsn):
    pg_schema = f"plans_{uuid4().hex[:8]}"
    conn = await asyncpg.connect(projections_dsn)
    await conn.execute("SELECT projections_meta.create_read_model($1)", pg_schema)
    await conn.execute(f"SET search_path TO {pg_schema}")
    rnd = random.Random(7)
    clients, contracts, periods, payments = [], [], [], []
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
                period = uuid4()
                periods.append(
                    (
                        period,
                        contract,
                        client,
                        start,
                        end,
                        Decimal("1000.00"),
                        "RUB",
                        rnd.choice(("prepaid", "postpaid")),
                        None,
                        paid,
                    )
                )
                if paid:  # paid within a month of its start: answers as at a day look these up
                    payments.append(
                        (
                            uuid4(),
                            period,
                            contract,
                            client,
                            paid,
                            "RUB",
                            start + timedelta(days=rnd.randrange(30)),
                            None,
                            False,
                        )
                    )
                start = end + timedelta(days=1)
    await conn.copy_records_to_table(
        "clients",
        records=clients,
        schema_name=pg_schema,
        columns=["client_id", "name", "manager_name", "manager_email", "position"],
    )
    await conn.copy_records_to_table("contracts", records=contracts, schema_name=pg_schema)
    await conn.copy_records_to_table(
        "periods",
        records=periods,
        schema_name=pg_schema,
        columns=[
            "period_id",
            "contract_id",
            "client_id",
            "starts_on",
            "ends_on",
            "amount",
            "currency",
            "payment_terms",
            "remind_on",
            "paid_amount",
        ],
    )
    await conn.copy_records_to_table("payments", records=payments, schema_name=pg_schema)
    await conn.execute("ANALYZE")
    await conn.execute("SELECT projections_meta.fill_income_months($1)", pg_schema)
    await conn.execute("SELECT projections_meta.fill_period_debts($1)", pg_schema)
    await conn.execute("ANALYZE period_debts")
    yield conn, clients
    await conn.execute(f"DROP SCHEMA {pg_schema} CASCADE")
    await conn.close()


def plan_text(rows: list[asyncpg.Record]) -> str:
    return "\n".join(r[0] for r in rows)


async def test_coverage_is_an_index_lookup(seeded) -> None:
    conn, clients = seeded
    plan = plan_text(await conn.fetch("EXPLAIN " + COVERAGE_SQL, clients[123][0], date(2025, 3, 1)))
    assert "periods_client_idx" in plan, plan
    assert "Seq Scan on periods" not in plan, plan
    assert "Seq Scan on contracts" not in plan, plan


async def explain_debtors(conn: asyncpg.Connection, options: str, **kwargs: object) -> list[asyncpg.Record]:
    captured: list[list[asyncpg.Record]] = []

    class Explaining:
        async def fetchrow(self, sql: str, *args: object) -> object:  # the bounded counts: run as is
            return await conn.fetchrow(sql, *args)

        async def fetch(self, sql: str, *args: object) -> list[asyncpg.Record]:
            captured.append(await conn.fetch(f"EXPLAIN ({options}) " + sql, *args))
            return []

    await owed_periods(Explaining(), **kwargs)  # type: ignore[arg-type]  # a stand-in connection that records EXPLAIN
    return captured[0]


def nodes(plan: dict) -> list[dict]:
    return [plan, *(n for child in plan.get("Plans", []) for n in nodes(child))]


async def test_a_debtors_page_walks_clients_and_stops_at_the_page(seeded, monkeypatch) -> None:
    """On 2025-06-01 about half the seeded clients owe something (0.9 of the periods are paid,
    ~8 have fallen due per client), as on a real "today". With more periods owed than the
    gather bound, the first page of 20 must walk the clients with an unpaid debt in the answer's
    order (name, id) on debtor_clients_name_idx under a Limit and stop after ~20 of them: the
    work is O(page), not O(owed periods), and no client is probed. The clients of debts settled
    after the day (none here: payments come within a month) are gathered beside it.
    A cursor page (``after``) starts its walk at the cursor: as few clients read as for the
    first page. The planner is left alone (no enable_seqscan tricks)."""
    conn, clients = seeded
    monkeypatch.setattr(reads, "DEBTS_GATHER_BOUND", 100)  # 2,000 clients: make "many" owe
    on = date(2025, 6, 1)
    assert await reads.few_owe(conn, on, 0, None) == reads.Owing(few=False, few_later=True)
    names = sorted((c[1], c[0]) for c in clients)
    for after in (None, names[1500]):
        kwargs = dict(on=on, payment_terms=None, client_id=None, limit=21, offset=0, after=after)
        text = plan_text(await explain_debtors(conn, "COSTS OFF", **kwargs))
        assert "debtor_clients_name_idx" in text and "period_debts_owed_idx" in text, text
        assert "clients_name_idx on clients" not in text and "Seq Scan" not in text, text

        [root] = json.loads((await explain_debtors(conn, "ANALYZE, FORMAT JSON", **kwargs))[0][0])
        plan = nodes(root["Plan"])
        walk = [n for n in plan if n.get("Index Name") == "debtor_clients_name_idx"]
        assert walk and all(n["Actual Loops"] == 1 for n in walk), plan
        # the due filter is on the walk: the clients read are those kept plus those removed
        read = sum(n["Actual Rows"] + n.get("Rows Removed by Filter", 0) for n in walk)
        assert 21 <= read <= 60 < CLIENTS, f"read {read} of {CLIENTS} clients for a page of 20 after {after}"
        probes = [n for n in plan if n.get("Index Name") == "period_debts_rows_idx"]
        assert sum(n["Actual Loops"] for n in probes) <= 21, probes  # the page's rows only


async def test_a_debtors_page_when_many_debts_were_settled_after_the_day_walks_every_client(
    seeded, monkeypatch
) -> None:
    """On 2024-01-15 the prepaid periods that started on 2024-01-01 are owed and most are paid
    later that month: with the bounds at 100, many owe and many settled after the day. The page
    walks clients_name_idx probing period_debts_rows_idx, under a Limit too."""
    conn, _ = seeded
    monkeypatch.setattr(reads, "DEBTS_GATHER_BOUND", 100)
    monkeypatch.setattr(reads, "LATER_GATHER_BOUND", 100)
    on = date(2024, 1, 15)
    assert await reads.few_owe(conn, on, 0, None) == reads.Owing(few=False, few_later=False)
    kwargs = dict(on=on, payment_terms=None, client_id=None, limit=21, offset=0)
    text = plan_text(await explain_debtors(conn, "COSTS OFF", **kwargs))
    assert "clients_name_idx on clients" in text and "period_debts_rows_idx" in text, text
    assert "debtor_clients" not in text and "Seq Scan" not in text, text
    [root] = json.loads((await explain_debtors(conn, "ANALYZE, FORMAT JSON", **kwargs))[0][0])
    walk = [n for n in nodes(root["Plan"]) if n.get("Index Name") == "clients_name_idx"]
    assert walk and sum(n["Actual Rows"] + n.get("Rows Removed by Filter", 0) for n in walk) < CLIENTS // 4, walk


async def test_a_debtors_page_when_few_owe_reads_only_their_debts(seeded) -> None:
    """On 2024-01-01 only the prepaid periods starting that day are owed (about 2,000 of 24k,
    paid later that month — fewer than the gather bound): the page gathers their clients from
    period_debts_owed_idx (the periods owed on D), probes clients_pkey for each and sorts them —
    no walk over the clients in name order, no scan of periods or clients."""
    conn, _ = seeded
    kwargs = dict(on=date(2024, 1, 1), payment_terms=None, client_id=None, limit=21, offset=0)
    text = plan_text(await explain_debtors(conn, "COSTS OFF", **kwargs))
    assert "period_debts_owed_idx" in text, text
    assert "clients_name_idx" not in text and "Seq Scan on periods" not in text and "Seq Scan on clients" not in text, (
        text
    )
    [root] = json.loads((await explain_debtors(conn, "ANALYZE, FORMAT JSON", **kwargs))[0][0])
    gathered = [n for n in nodes(root["Plan"]) if n.get("Index Name") == "period_debts_owed_idx"]
    assert gathered and sum(n["Actual Rows"] for n in gathered) < reads.DEBTS_GATHER_BOUND, gathered


async def test_debtors_pages_are_the_domain_rule(seeded) -> None:
    """Whatever the plan, a page is what domain.coverage.owed says, clients by (name, id)."""
    conn, clients = seeded
    every = await conn.fetch(
        f"SELECT p.client_id, {PERIOD_STATE} FROM periods p JOIN contracts c ON c.contract_id = p.contract_id"
    )
    paid_by_period: dict = {}
    for q in await conn.fetch("SELECT period_id, amount, paid_on FROM payments WHERE NOT cancelled"):
        paid_by_period.setdefault(q["period_id"], []).append((q["amount"], q["paid_on"]))
    names = {c[0]: c[1] for c in clients}

    def as_at(r: asyncpg.Record, on: date) -> PeriodState:
        """The row with only the payments made by ``on`` (docs/design.md §8: answers as at a day)."""
        return replace(to_period_state(r), paid_amount=paid_as_at(paid_by_period.get(r["period_id"], []), on))

    for on, terms in (
        (date(2024, 1, 1), "prepaid"),
        (date(2024, 4, 1), None),
        (date(2025, 6, 1), "postpaid"),
        (date(2023, 1, 1), None),
    ):
        expected: dict = {}
        for r in every:
            if (terms is None or r["payment_terms"] == terms) and owed(as_at(r, on), on):
                expected.setdefault(r["client_id"], set()).add(r["period_id"])
        order = sorted(expected, key=lambda c: (names[c], str(c)))
        for offset in (0, 40):
            rows = await owed_periods(conn, on=on, payment_terms=terms, client_id=None, limit=41, offset=offset)
            got = list(dict.fromkeys(r["client_id"] for r in rows))
            assert got == order[offset : offset + 41], (on, terms, offset)
            for c in got:
                assert {r["period_id"] for r in rows if r["client_id"] == c} == expected[c]
            keys = [
                (names[r["client_id"]], str(r["client_id"]), r["currency"], r["starts_on"], str(r["period_id"]))
                for r in rows
            ]
            assert keys == sorted(keys)
        one = order[0] if order else clients[0][0]
        rows = await owed_periods(conn, on=on, payment_terms=terms, client_id=one, limit=2, offset=0)
        assert {r["period_id"] for r in rows} == expected.get(one, set())


async def test_income_reads_the_rollup_and_only_the_payments_dated_after_the_day(seeded) -> None:
    """Outstanding as at D = the rollup, corrected for the periods paid after D: a range of
    payments_paid_on_idx and a primary-key probe per such period, never a scan of periods."""
    conn, _ = seeded
    for on in (date(2025, 6, 1),):  # (as at a day long ago, most payments are after it: read them)
        plan = plan_text(await conn.fetch("EXPLAIN " + INCOME_SQL, date(2024, 1, 1), date(2025, 1, 1), on))
        assert "income_months" in plan, plan
        assert "Seq Scan on periods" not in plan and "Seq Scan on contracts" not in plan, plan


async def test_keeping_the_rollup_probes_the_touched_rows(seeded) -> None:
    conn, _ = seeded
    period, contract = await conn.fetchrow("SELECT period_id, contract_id FROM periods LIMIT 1")
    plan = plan_text(await conn.fetch("EXPLAIN " + ADD_INCOME, [period], [contract], [uuid4()], [], [], [], [], [], []))
    assert "Seq Scan on periods" not in plan, plan  # (payments: none seeded, a scan of nothing)
    assert "periods_pkey" in plan and "periods_contract_idx" in plan, plan


async def test_a_backlogs_batch_keeps_the_open_debts_reading_only_its_periods(seeded) -> None:
    """A catch-up's batch touches a thousand periods of 24,000: keeping ``period_debts`` in
    step reads only those periods (``= ANY`` of the batch's arrays, which a batch plans as
    constants: probed by index, or hashed in a scan), never a join over every period."""
    conn, _ = seeded
    rows = await conn.fetch("SELECT period_id, contract_id FROM periods ORDER BY period_id LIMIT 1000")
    periods, contracts = [r[0] for r in rows], list({r[1] for r in rows[:300]})
    async with conn.transaction():
        await conn.execute(BATCH_PLANS)
        plan = plan_text(await conn.fetch("EXPLAIN " + REFRESH_DEBTS, periods, contracts))
    lines = plan.splitlines()
    reads = [i for i, line in enumerate(lines) if " on periods " in line]
    assert reads, plan
    for i in reads:  # every read of periods is of the batch's own keys (a scan filters by them)
        assert "ANY (" in lines[i + 1], "\n".join(lines[i : i + 2])[:300]


DROPPED_BY_0009 = {
    "periods_owed_idx": "ON periods (due_on, client_id) WHERE NOT paid",
    "periods_client_owed_idx": "ON periods (client_id, due_on) WHERE NOT paid",
}


async def read_side_plans(conn: asyncpg.Connection, clients: list) -> list[str]:
    """EXPLAIN of every query of the read side that reads periods, and of the batch's upkeep
    of ``period_debts``: coverage, debtors (walking and gathering), income, the contracts list
    with period filters (the bench's "prepay debtors" reading: started by a day, not paid,
    prepaid; now and as at a day; all contracts and one client's)."""
    plans: list[str] = []

    class Explaining:
        async def fetchrow(self, sql: str, *args: object) -> object:
            plans.append(plan_text(await conn.fetch("EXPLAIN " + sql, *args)))
            return await conn.fetchrow(sql, *args)

        async def fetch(self, sql: str, *args: object) -> list[asyncpg.Record]:
            plans.append(plan_text(await conn.fetch("EXPLAIN " + sql, *args)))
            return await conn.fetch(sql, *args)

    explaining: Any = Explaining()
    await reads.coverage_periods(explaining, clients[5][0], date(2025, 3, 1))
    for on in (date(2024, 1, 1), date(2025, 6, 1)):
        for terms in (None, "prepaid"):
            await owed_periods(explaining, on=on, payment_terms=terms, client_id=None, limit=21, offset=0)
    for paid in (False, True):
        for as_at in (None, date(2025, 6, 1)):
            periods = PeriodFilter(starts_to=date(2025, 6, 1), paid=paid, payment_terms="prepaid", on=as_at)
            for client in (None, clients[7][0]):
                await reads.contracts_page(
                    explaining, client_id=client, status=None, periods=periods, limit=50, offset=0
                )
    day = date(2025, 6, 1)
    plans.append(plan_text(await conn.fetch("EXPLAIN " + INCOME_SQL, date(2024, 1, 1), date(2025, 1, 1), day)))
    period, contract = await conn.fetchrow("SELECT period_id, contract_id FROM periods LIMIT 1")
    plans.append(plan_text(await conn.fetch("EXPLAIN " + REFRESH_DEBTS, [period], [contract])))
    plans.append(plan_text(await conn.fetch("EXPLAIN " + REFRESH_DEBTORS, [clients[1][0]], [clients[2][0]])))
    return plans


async def test_the_read_side_reads_periods_by_index_without_the_indexes_migration_0009_drops(seeded) -> None:
    """Issue 20: the two partial indexes of the debtors queries released before
    ``period_debts`` (0001, 0003) are gone from a new read model, and every query of the read
    side still reads periods through an index — never a sequential scan. (Where they exist,
    the planner ANDs ``periods_client_owed_idx`` into the bitmap of a page's periods filtered
    ``paid=false``, which ``periods_contract_idx`` reads and rechecks as well.)"""
    conn, clients = seeded
    indexes = {r[0] for r in await conn.fetch("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")}
    assert "periods_contract_idx" in indexes and not indexes & set(DROPPED_BY_0009)
    plans = await read_side_plans(conn, clients)
    assert len(plans) >= 20
    for plan in plans:
        assert "Seq Scan on periods" not in plan, plan


async def test_a_waiting_querys_look_finds_the_clients_parked_events_by_index(projections_dsn) -> None:
    """Every look of a ``min_position`` wait asks whether one of the client's events up to N
    waits parked. With thousands parked (a stopped stream holding its successors, a member
    catching up) that must not be a scan of ``parked_events`` per look (migration 0010)."""
    pg_schema = f"plans_parked_{uuid4().hex[:8]}"
    conn = await asyncpg.connect(projections_dsn)
    try:
        await conn.execute("SELECT projections_meta.create_read_model($1)", pg_schema)
        await conn.execute(f"SET search_path TO {pg_schema}")
        owners = [uuid4() for _ in range(500)]
        parked = [
            (f"contract-{i % 2_000}", i, uuid4(), "PaymentRecorded", 1, owners[i % 500], i, "{}", "t", 0, i)
            for i in range(10_000)
        ]
        await conn.copy_records_to_table("parked_events", records=parked, schema_name=pg_schema)
        await conn.execute("ANALYZE parked_events")
        plan = plan_text(await conn.fetch("EXPLAIN " + reads.CLIENT_MARK_SQL, owners[7], 5_000))
        assert "parked_events_client_idx" in plan, plan
        assert "Seq Scan on parked_events" not in plan, plan
    finally:
        await conn.execute(f"DROP SCHEMA {pg_schema} CASCADE")
        await conn.close()


async def test_a_batch_plans_its_key_arrays_with_the_tables_as_they_are_now(projections_dsn) -> None:
    """A live catch-up starts on empty tables. A connection that caches a generic plan of a
    batch statement then keeps it as the tables grow: it guesses ten keys per array and scans,
    testing each row against each of a batch's thousand keys (50 ms a batch of
    ``LOAD_STREAMS`` at 3,000 streams, seen in ``bench.catch_up``). A batch's transaction plans
    its statements afresh (``BATCH_PLANS``), so the planner sees the array it is given; outside
    a batch, or in a caught-up batch of a few records, the cached plans serve."""
    pg_schema = f"plans_batch_{uuid4().hex[:8]}"
    conn = await asyncpg.connect(projections_dsn)
    store = ReadModelStore()
    try:
        await conn.execute("SELECT projections_meta.create_read_model($1)", pg_schema)
        await conn.execute(f"SET search_path TO {pg_schema}")
        await conn.execute("SET plan_cache_mode = force_generic_plan")  # PostgreSQL's choice, made sure of
        streams = [f"contract-{i}" for i in range(20_000)]
        rows = [(s, 3) for s in streams]
        await conn.copy_records_to_table("stream_versions", records=rows[:50], schema_name=pg_schema)
        await conn.execute("ANALYZE stream_versions")  # the first batches' few rows, counted
        await conn.execute(f"PREPARE load_streams(text[]) AS {LOAD_STREAMS}")
        await conn.execute("EXECUTE load_streams('{contract-0}')")  # its plan is cached now
        await conn.copy_records_to_table("stream_versions", records=rows[50:], schema_name=pg_schema)
        explain = "EXPLAIN EXECUTE load_streams('{" + ",".join(streams[::10]) + "}')"

        def scan(plan: list[asyncpg.Record]) -> str:  # how stream_versions is read (not the keys)
            return next(r[0] for r in plan if "stream_versions" in r[0]).strip()

        def estimated(node: str) -> int:
            return int(re.search(r" rows=(\d+) ", node).group(1))  # type: ignore[union-attr]

        cached = await conn.fetch(explain)
        assert scan(cached).startswith("->  Seq Scan") and "ANY ($1)" in plan_text(cached), plan_text(cached)[:400]
        async with conn.transaction():
            await store.begin_batch(conn, [0], size=3)  # caught up: the cached plans serve
            assert await conn.fetch(explain) == cached
        async with conn.transaction():
            await store.begin_batch(conn, [0], size=LARGE_BATCH)
            batch = await conn.fetch(explain)
            # costed for its thousand keys, REFRESH_DEBTS passed JIT's thresholds: 0.5 s compiling
            assert await conn.fetchval("SHOW jit") == "off"
        # the array is a constant to the planner: it counts its keys, and hashes them when it
        # scans (PostgreSQL >= 14 hashes a constant array of nine or more) — linear either way
        assert "$1" not in plan_text(batch), plan_text(batch)[:400]
        assert estimated(scan(batch)) == 2_000 and estimated(scan(cached)) <= 10, (scan(cached), scan(batch))
        assert await conn.fetch(explain) == cached  # LOCAL: the transaction's own
    finally:
        await conn.execute(f"DROP SCHEMA {pg_schema} CASCADE")
        await conn.close()
