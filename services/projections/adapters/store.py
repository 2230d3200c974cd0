"""The read-model tables, written a batch at a time with a handful of set-based statements.

Every method takes the connection of the caller's transaction: the rows, the stream
versions, the parked events and the consumed offsets of one batch commit together.
Unqualified table names resolve through the connection's ``search_path`` (see ``db``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from uuid import UUID

import asyncpg
from asyncpg.transaction import Transaction

from services.projections.adapters.db import NOTIFY_CHANNEL
from services.projections.adapters.notifications import applied_payload
from services.projections.domain.fold import WorkingSet
from services.projections.domain.rows import ClientRow, ContractRow, PaymentRow, PeriodRow
from shared.db.locks import PARTITION_LOCK_CLASS, SWAP_LOCK

PERIOD_COLUMNS = (
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
)
CLIENT_COLUMNS = (
    "client_id",
    "name",
    "manager_name",
    "manager_email",
    "position",
    "events_position",
    "schedule_position",
)
CONTRACT_COLUMNS = (
    "contract_id",
    "client_id",
    "number",
    "title",
    "signed_on",
    "status",
    "terminated_on",
    "termination_reason",
)
PAYMENT_COLUMNS = (
    "payment_id",
    "period_id",
    "contract_id",
    "client_id",
    "amount",
    "currency",
    "paid_on",
    "reference",
    "cancelled",
)


def _upsert(table: str, columns: Sequence[str], types: Sequence[str], key: str) -> str:
    arrays = ", ".join(f"${i}::{t}[]" for i, t in enumerate(types, 1))
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c != key)
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({arrays}) "
        f"ON CONFLICT ({key}) DO UPDATE SET {updates}"
    )


UPSERT_CLIENTS = _upsert(
    "clients", CLIENT_COLUMNS, ("uuid", "text", "text", "text", "bigint", "bigint", "bigint"), "client_id"
)
UPSERT_CONTRACTS = _upsert(
    "contracts", CONTRACT_COLUMNS, ("uuid", "uuid", "text", "text", "date", "text", "date", "text"), "contract_id"
)
UPSERT_PERIODS = _upsert(
    "periods",
    PERIOD_COLUMNS,
    ("uuid", "uuid", "uuid", "date", "date", "numeric", "text", "text", "date", "numeric"),
    "period_id",
)
UPSERT_PAYMENTS = _upsert(
    "payments",
    PAYMENT_COLUMNS,
    ("uuid", "uuid", "uuid", "uuid", "numeric", "text", "date", "text", "boolean"),
    "payment_id",
)
UPSERT_VERSIONS = """
    INSERT INTO stream_versions (stream_id, version) SELECT * FROM unnest($1::text[], $2::int[])
    ON CONFLICT (stream_id) DO UPDATE SET version = GREATEST(stream_versions.version, EXCLUDED.version)"""
LOAD_STREAMS = """
    SELECT 'v' AS kind, stream_id, version FROM stream_versions WHERE stream_id = ANY($1::text[])
    UNION ALL
    SELECT DISTINCT 'p', stream_id, NULL::int FROM parked_events WHERE stream_id = ANY($1::text[])
    UNION ALL
    SELECT 's', stream_id, NULL FROM stopped_streams WHERE stream_id = ANY($1::text[])"""
"""Primary-key probes only (``= ANY``): a join to ``unnest`` could be planned as a scan."""
UPSERT_OFFSETS = """
    INSERT INTO consumed_offsets (topic, partition, next_offset)
    SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[])
    ON CONFLICT (topic, partition)
    DO UPDATE SET next_offset = GREATEST(consumed_offsets.next_offset, EXCLUDED.next_offset)"""
INSERT_PARKED = """
    INSERT INTO parked_events (stream_id, stream_version, event_id, event_type, schema_version,
                               client_id, position, data, source_topic, source_partition, source_offset)
    SELECT * FROM unnest($1::text[], $2::int[], $3::uuid[], $4::text[], $5::int[], $6::uuid[],
                         $7::bigint[], $8::jsonb[], $9::text[], $10::int[], $11::bigint[])
    ON CONFLICT DO NOTHING"""
DELETE_PARKED = """
    DELETE FROM parked_events p USING unnest($1::text[], $2::int[]) AS u(stream_id, version)
    WHERE p.stream_id = u.stream_id AND p.stream_version = u.version"""


def income_cells(periods_where: str, payments_where: str) -> str:
    """Sums per (month, currency) of the periods and payments the conditions select, through the
    ``period_income`` / ``payment_income`` views that say what counts (migration 0002)."""
    return f"""
        SELECT month, currency, sum(due) AS due, sum(outstanding) AS outstanding,
               sum(received) AS received, count(*)::int AS items
        FROM (SELECT month, currency, due, outstanding, 0 AS received FROM period_income
              WHERE {periods_where}
              UNION ALL
              SELECT month, currency, 0, 0, received FROM payment_income
              WHERE {payments_where}) f
        GROUP BY month, currency"""


INCOME_OF_ROWS = income_cells(
    "period_id = ANY($1::uuid[]) OR contract_id = ANY($2::uuid[])", "payment_id = ANY($3::uuid[])"
)
"""What the rows a batch touches add to income: a primary-key probe per period and payment,
``periods_contract_idx`` per contract (a termination voids the contract's later periods)."""
ADD_INCOME = f"""
    INSERT INTO income_months AS m (month, currency, due, outstanding, received, items)
    SELECT month, currency, sum(due), sum(outstanding), sum(received), sum(items)
    FROM ({INCOME_OF_ROWS}
          UNION ALL
          SELECT * FROM unnest($4::date[], $5::text[], $6::numeric[], $7::numeric[],
                               $8::numeric[], $9::int[])) d
    GROUP BY month, currency
    HAVING sum(due) <> 0 OR sum(outstanding) <> 0 OR sum(received) <> 0 OR sum(items) <> 0
    ORDER BY month, currency
    ON CONFLICT (month, currency) DO UPDATE SET
      due = m.due + EXCLUDED.due, outstanding = m.outstanding + EXCLUDED.outstanding,
      received = m.received + EXCLUDED.received, items = m.items + EXCLUDED.items
    RETURNING items"""
"""The touched rows' income now, minus what they added before the batch ($4…$9), added to the
rollup in one statement. Cells that do not change are not written, and the others are locked
in (month, currency) order, so two batches never deadlock on the rollup."""


REFRESH_DEBTS = """
    WITH touched AS (SELECT period_id FROM periods WHERE period_id = ANY($1::uuid[]) OR contract_id = ANY($2::uuid[])
                     UNION SELECT unnest($1::uuid[])),
    fresh AS (SELECT r.* FROM period_debt_rows r
              WHERE r.period_id = ANY($1::uuid[]) OR r.contract_id = ANY($2::uuid[])),
    gone AS (DELETE FROM period_debts d USING touched t
             WHERE d.period_id = t.period_id AND d.period_id NOT IN (SELECT period_id FROM fresh)
             RETURNING d.client_id),
    kept AS (INSERT INTO period_debts AS d SELECT * FROM fresh
             ON CONFLICT (period_id) DO UPDATE SET
               client_id = EXCLUDED.client_id, contract_id = EXCLUDED.contract_id,
               payment_terms = EXCLUDED.payment_terms, due_on = EXCLUDED.due_on, settled_on = EXCLUDED.settled_on,
               starts_on = EXCLUDED.starts_on, ends_on = EXCLUDED.ends_on, amount = EXCLUDED.amount,
               currency = EXCLUDED.currency, paid_amount = EXCLUDED.paid_amount
             WHERE d IS DISTINCT FROM EXCLUDED
             RETURNING d.client_id)
    SELECT client_id FROM gone UNION SELECT client_id FROM kept"""
"""``period_debts`` (migration 0008) in step for the periods a batch touches: the periods
written or removed, those whose payments changed, and every period of a contract written (a
termination voids its later periods); primary-key probes and ``periods_contract_idx``. The
rows that qualify are upserted, the others deleted — two disjoint sets, so one statement.
Returns the clients of the rows it wrote or deleted (for ``REFRESH_DEBTORS``)."""

REFRESH_DEBTORS = """
    WITH fresh AS (SELECT * FROM debtor_client_rows WHERE client_id = ANY($1::uuid[])),
    gone AS (DELETE FROM debtor_clients t
             WHERE t.client_id = ANY($1::uuid[]) AND t.client_id NOT IN (SELECT client_id FROM fresh)),
    renamed AS (UPDATE debtor_clients t SET name = c.name FROM clients c
                WHERE c.client_id = ANY($2::uuid[]) AND NOT c.client_id = ANY($1::uuid[])
                  AND t.client_id = c.client_id AND t.name IS DISTINCT FROM c.name)
    INSERT INTO debtor_clients AS t SELECT * FROM fresh
    ON CONFLICT (client_id) DO UPDATE SET
      name = EXCLUDED.name, prepaid_due = EXCLUDED.prepaid_due, postpaid_due = EXCLUDED.postpaid_due
    WHERE t IS DISTINCT FROM EXCLUDED"""
"""``debtor_clients`` (migration 0012) in step: the clients whose debts a batch changed ($1)
recomputed from their ``period_debts`` rows (``period_debts_rows_idx``), and the name of the
batch's other clients ($2, a primary-key probe each) where it changed."""


BATCH_PLANS = "SET LOCAL plan_cache_mode = force_custom_plan; SET LOCAL jit = off"
"""A batch's statements probe tables with arrays of hundreds of keys (``= ANY($1)``). A cached
generic plan guesses ten keys and keeps the plan it chose while the tables were small — a
sequential scan testing every row against every key: during a catch-up into a fresh read
model ``LOAD_STREAMS`` alone took 50 ms a batch so. A custom plan sees the array: it probes
the index, or hashes the keys when it scans (PostgreSQL ≥ 14 hashes a constant array).
Planning each statement afresh costs far less at these batch sizes. Seeing a thousand keys,
the planner also costs ``REFRESH_DEBTS`` past JIT's thresholds, and compiling it took 0.5 s of
a 0.54 s statement: no JIT in these batches (bench/results/notes-20261202-live-catch-up-
plans.md). ``LOCAL``: the transaction's own; the pool's read queries keep their cached plans."""
LARGE_BATCH = 200
"""Records from which a batch plans afresh: a backlog's batches. A caught-up batch (a few
records, a few keys per array) keeps the cached plans and saves planning its ten statements."""


def _debt_rows(ws: WorkingSet) -> tuple[list[UUID], list[UUID]] | None:
    """($1, $2) of ``REFRESH_DEBTS``; None if the batch cannot change what is owed."""
    periods = ws.dirty_periods | ws.removed_periods
    periods |= {ws.payments[p].period_id for p in ws.dirty_payments}
    return (list(periods), list(ws.dirty_contracts)) if periods or ws.dirty_contracts else None


def _income_rows(ws: WorkingSet) -> tuple[list[UUID], list[UUID], list[UUID]] | None:
    """($1, $2, $3) of ``INCOME_OF_ROWS`` for the rows a batch changes; None if none can
    change income (client details, positions)."""
    periods = list(ws.dirty_periods | ws.removed_periods)
    contracts, payments = list(ws.dirty_contracts), list(ws.dirty_payments)
    return (periods, contracts, payments) if periods or contracts or payments else None


def _negated(cells: Sequence[asyncpg.Record]) -> list[list[Any]]:
    """``cells`` as the columns $4…$9 of ``ADD_INCOME``, every amount and count negated."""
    return [
        [r["month"] for r in cells],
        [r["currency"] for r in cells],
        *([-r[name] for r in cells] for name in ("due", "outstanding", "received", "items")),
    ]


def _columns(rows: Iterable[Any], names: Sequence[str]) -> list[list[Any]]:
    rows = list(rows)
    return [[getattr(r, n) for r in rows] for n in names]


class ReadModelStore:
    """The projector's ``ProjectionStore`` on PostgreSQL."""

    refused: tuple[type[BaseException], ...] = (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError)
    passing: tuple[type[BaseException], ...] = (
        OSError,
        TimeoutError,
        asyncpg.InterfaceError,
        asyncpg.PostgresConnectionError,
        asyncpg.InsufficientResourcesError,
        asyncpg.OperatorInterventionError,
        asyncpg.TransactionRollbackError,
    )

    def transaction(self, conn: asyncpg.Connection) -> Transaction:
        return conn.transaction()

    async def begin_batch(self, conn: asyncpg.Connection, partitions: Iterable[int], size: int = 1) -> None:
        """At the start of a live batch's transaction of ``size`` records: for a large one, plan
        its statements for the arrays they are given (``BATCH_PLANS``); then take SWAP_LOCK
        shared and one lock per partition NUMBER: both topics are keyed by client with the same
        partition count, so partition N of either carries the same clients."""
        # One round trip: a multi-statement simple query runs its statements in order (SWAP_LOCK
        # first, then the partitions sorted: no lock-order deadlocks). Only ints go into the text.
        plans = [BATCH_PLANS] if size >= LARGE_BATCH else []
        await conn.execute(
            "; ".join(
                [*plans, f"SELECT pg_advisory_xact_lock_shared({int(SWAP_LOCK)})"]
                + [
                    f"SELECT pg_advisory_xact_lock({int(PARTITION_LOCK_CLASS)}, {int(p)})"
                    for p in sorted(set(partitions))
                ]
            )
        )

    async def load_streams(
        self, conn: asyncpg.Connection, streams: Sequence[str]
    ) -> tuple[dict[str, int], list[asyncpg.Record], list[asyncpg.Record]]:
        """The last applied version of every stream, and the parked events and stops of those
        that have any — one round trip when none has (as in most batches)."""
        rows = await conn.fetch(LOAD_STREAMS, streams)
        versions = {r["stream_id"]: r["version"] for r in rows if r["kind"] == "v"}
        parked = [r["stream_id"] for r in rows if r["kind"] == "p"]
        stopped = [r["stream_id"] for r in rows if r["kind"] == "s"]
        return (
            versions,
            await self.load_parked(conn, parked) if parked else [],
            await self.load_stopped(conn, stopped) if stopped else [],
        )

    async def load_parked(self, conn: asyncpg.Connection, streams: Sequence[str]) -> list[asyncpg.Record]:
        return await conn.fetch("SELECT * FROM parked_events WHERE stream_id = ANY($1::text[])", streams)

    async def load(
        self,
        conn: asyncpg.Connection,
        clients: Sequence[UUID],
        contracts: Sequence[UUID],
        periods: Sequence[UUID],
        payments: Sequence[UUID],
    ) -> WorkingSet:
        ws = WorkingSet()
        # one row type per table; each dict holds rows of its own type
        specs: tuple[tuple[Sequence[UUID], str, tuple[str, ...], Callable[..., object], dict[UUID, Any]], ...] = (
            (clients, "clients", CLIENT_COLUMNS, ClientRow, ws.clients),
            (contracts, "contracts", CONTRACT_COLUMNS, ContractRow, ws.contracts),
            (periods, "periods", PERIOD_COLUMNS, PeriodRow, ws.periods),
            (payments, "payments", PAYMENT_COLUMNS, PaymentRow, ws.payments),
        )
        for ids, table, columns, row_type, into in specs:
            if not ids:
                continue
            rows = await conn.fetch(
                f"SELECT {', '.join(columns)} FROM {table} WHERE {columns[0]} = ANY($1::uuid[])", list(ids)
            )
            for r in rows:
                into[r[0]] = row_type(*r)
        return ws

    async def save(self, conn: asyncpg.Connection, ws: WorkingSet, *, rollups: bool = True) -> None:
        """Write the dirty rows; with ``rollups``, keep ``income_months``, ``period_debts`` and
        ``debtor_clients`` in step in the same transaction (a rebuild leaves them out and fills
        them once at the end)."""
        touched = _income_rows(ws) if rollups else None
        if not touched:
            await self._write_rows(conn, ws)
        else:
            before = await conn.fetch(INCOME_OF_ROWS, *touched)
            await self._write_rows(conn, ws)
            cells = await conn.fetch(ADD_INCOME, *touched, *_negated(before))
            if any(r["items"] == 0 for r in cells):
                await conn.execute("DELETE FROM income_months WHERE items = 0")
        debts = _debt_rows(ws) if rollups else None
        changed = [r[0] for r in await conn.fetch(REFRESH_DEBTS, *debts)] if debts else []
        if rollups and (changed or ws.dirty_clients):
            await conn.execute(REFRESH_DEBTORS, changed, list(ws.dirty_clients))

    async def _write_rows(self, conn: asyncpg.Connection, ws: WorkingSet) -> None:
        writes = (
            (UPSERT_CLIENTS, ws.clients, ws.dirty_clients, CLIENT_COLUMNS),
            (UPSERT_CONTRACTS, ws.contracts, ws.dirty_contracts, CONTRACT_COLUMNS),
            (UPSERT_PERIODS, ws.periods, ws.dirty_periods, PERIOD_COLUMNS),
            (UPSERT_PAYMENTS, ws.payments, ws.dirty_payments, PAYMENT_COLUMNS),
        )
        for sql, rows, dirty, columns in writes:
            if dirty:
                await conn.execute(sql, *_columns((rows[i] for i in dirty), columns))
        if ws.removed_periods:
            await conn.execute("DELETE FROM periods WHERE period_id = ANY($1::uuid[])", list(ws.removed_periods))

    async def save_versions(self, conn: asyncpg.Connection, versions: dict[str, int]) -> None:
        if versions:
            await conn.execute(UPSERT_VERSIONS, list(versions), list(versions.values()))

    async def park(self, conn: asyncpg.Connection, rows: Sequence[tuple[Any, ...]]) -> None:
        if rows:
            await conn.execute(INSERT_PARKED, *(list(col) for col in zip(*rows, strict=True)))

    async def unpark(self, conn: asyncpg.Connection, keys: Sequence[tuple[str, int]]) -> None:
        if keys:
            await conn.execute(DELETE_PARKED, [k[0] for k in keys], [k[1] for k in keys])

    async def save_offsets(
        self,
        conn: asyncpg.Connection,
        next_offsets: dict[tuple[str, int], int],
        *,
        notify: bool = False,
        reached: Mapping[int, int] | None = None,
    ) -> None:
        """Store the next offset of every partition seen; ``notify``: in the same round trip,
        NOTIFY (delivered on commit) the queries waiting for ``min_position`` of what the batch
        ``reached`` (the highest position applied per client bucket)."""
        keys = list(next_offsets)
        columns = [[k[0] for k in keys], [k[1] for k in keys], list(next_offsets.values())]
        if notify:
            await conn.execute(
                f"WITH saved AS ({UPSERT_OFFSETS}) SELECT pg_notify($4, $5)",
                *columns,
                NOTIFY_CHANNEL,
                applied_payload(reached or {}),
            )
        elif keys:
            await conn.execute(UPSERT_OFFSETS, *columns)

    async def parked_count(self, conn: asyncpg.Connection) -> int:
        return await conn.fetchval("SELECT count(*) FROM parked_events")

    async def load_stopped(self, conn: asyncpg.Connection, streams: Sequence[str] | None) -> list[asyncpg.Record]:
        """The stopped streams among ``streams`` (None: all of them)."""
        if streams is None:
            return await conn.fetch("SELECT * FROM stopped_streams ORDER BY stream_id")
        return await conn.fetch("SELECT * FROM stopped_streams WHERE stream_id = ANY($1::text[])", streams)

    async def stop(self, conn: asyncpg.Connection, rows: Sequence[tuple[Any, ...]]) -> None:
        """(stream_id, client_id, stream_version, event_id, event_type, reason): a stream stops at
        its lowest version that cannot be applied."""
        if rows:
            await conn.executemany(
                """INSERT INTO stopped_streams (stream_id, client_id, stream_version, event_id, event_type, reason)
                   VALUES ($1, $2, $3, $4, $5, $6)
                   ON CONFLICT (stream_id) DO UPDATE SET
                     stream_version = EXCLUDED.stream_version, event_id = EXCLUDED.event_id,
                     event_type = EXCLUDED.event_type, reason = EXCLUDED.reason
                   WHERE EXCLUDED.stream_version < stopped_streams.stream_version""",
                rows,
            )

    async def unstop(self, conn: asyncpg.Connection, streams: Sequence[str]) -> None:
        if streams:
            await conn.execute("DELETE FROM stopped_streams WHERE stream_id = ANY($1::text[])", list(streams))

    async def stopped_clients(self, conn: asyncpg.Connection) -> int:
        return await conn.fetchval("SELECT count(DISTINCT client_id) FROM stopped_streams")
