"""Whole read-model schemas: create one, find the live one's offsets, swap, compare, drop.

Swap without downtime: in ONE transaction that holds ``SWAP_LOCK`` exclusively (so no live
batch is mid-commit), rename the live schema away and the rebuilt one to the live name.
Queries and the consumer resolve table names through ``search_path`` and see the new
tables from their next statement; the old schema is dropped afterwards.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from services.projections.adapters.db import (
    META_PG_SCHEMA,
    NOTIFY_CHANNEL,
    open_connection,
    quote_pg_schema,
)
from services.projections.adapters.notifications import ANYTHING
from services.projections.application.ports import RebuildBusy, TableDiff
from shared.db.locks import REBUILD_LOCK, SWAP_LOCK
from shared.db.pool import connect

COMPARED = {  # table -> key shown in samples of differing rows
    "clients": "client_id",
    "contracts": "contract_id",
    "periods": "period_id",
    "payments": "payment_id",
    "stream_versions": "stream_id",
    "parked_events": "stream_id || '@' || stream_version",
    "consumed_offsets": "topic || '/' || partition",
    "stopped_streams": "stream_id",
    "income_months": "month || ' ' || currency",
    "period_debts": "period_id",
    "debtor_clients": "client_id",
}


class PostgresPgSchemas:
    """``application.ports.PgSchemas`` in PostgreSQL."""

    def __init__(self, dsn: str, live: str) -> None:
        quote_pg_schema(live)
        self.dsn, self.live = dsn, live

    async def _admin(self) -> asyncpg.Connection:
        return await connect(self.dsn)

    @asynccontextmanager
    async def exclusive_run(self) -> AsyncIterator[None]:
        conn = await self._admin()
        try:
            if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", REBUILD_LOCK):
                raise RebuildBusy("another rebuild or check is running")
            yield
        finally:
            await conn.close()  # releases the session lock

    async def create(self, pg_schema: str, *, bulk: bool = False) -> None:
        """``bulk``: UNLOGGED tables with primary keys only, for a fast replay; see :meth:`finish`."""
        conn = await self._admin()
        try:
            await conn.execute(f"SELECT {META_PG_SCHEMA}.create_read_model($1, $2, $3)", pg_schema, not bulk, bulk)
        finally:
            await conn.close()

    async def finish(self, pg_schema: str) -> None:
        """Make a bulk-loaded schema durable (SET LOGGED), index it and analyze it."""
        conn = await self._admin()
        try:
            for table in COMPARED:
                await conn.execute(f"ALTER TABLE {quote_pg_schema(pg_schema)}.{table} SET LOGGED")
            await conn.execute(f"SELECT {META_PG_SCHEMA}.create_read_model_indexes($1)", pg_schema)
            for table in COMPARED:
                await conn.execute(f"ANALYZE {quote_pg_schema(pg_schema)}.{table}")
        finally:
            await conn.close()

    async def fill_rollups(self, conn: asyncpg.Connection, pg_schema: str) -> None:
        """Sum a replayed schema's tables into its rollups (the bulk replay does not maintain
        them: one pass is far cheaper than an update per batch; after it, batches keep them).

        ``period_debts`` reads each paid period's payments by ``period_id``: a schema without
        its indexes (``check``'s) gets that one index first, or the fill would scan every
        payment once per period (quadratic: minutes at the quick bench's 40,000 periods)."""
        schema = quote_pg_schema(pg_schema)
        await conn.execute(
            f"CREATE INDEX IF NOT EXISTS payments_period_idx ON {schema}.payments (period_id, paid_on) "
            "WHERE NOT cancelled"
        )
        await conn.execute(f"ANALYZE {schema}.payments, {schema}.periods, {schema}.contracts")
        await conn.execute(f"SELECT {META_PG_SCHEMA}.fill_income_months($1)", pg_schema)
        await conn.execute(f"SELECT {META_PG_SCHEMA}.fill_period_debts($1)", pg_schema)

    async def drop_leftovers(self) -> list[str]:
        """Schemas a crashed rebuild or check left behind (call holding ``exclusive_run``)."""
        conn = await self._admin()
        try:
            names = [
                r[0]
                for r in await conn.fetch(
                    "SELECT nspname FROM pg_namespace WHERE nspname ~ $1",
                    f"^{self.live}_(rebuild|check|retired)_[0-9]+$",
                )
            ]
            for name in names:
                await conn.execute(f"DROP SCHEMA {quote_pg_schema(name)} CASCADE")
            return names
        finally:
            await conn.close()

    async def drop(self, pg_schema: str) -> None:
        conn = await self._admin()
        try:
            await conn.execute(f"DROP SCHEMA IF EXISTS {quote_pg_schema(pg_schema)} CASCADE")
        finally:
            await conn.close()

    async def connect(self, pg_schema: str) -> asyncpg.Connection:
        return await open_connection(self.dsn, pg_schema)

    async def offsets(self, conn: asyncpg.Connection, pg_schema: str) -> dict[tuple[str, int], int]:
        rows = await conn.fetch(
            f"SELECT topic, partition, next_offset FROM {quote_pg_schema(pg_schema)}.consumed_offsets"
        )
        return {(r["topic"], r["partition"]): r["next_offset"] for r in rows}

    @asynccontextmanager
    async def swap_lock(self) -> AsyncIterator[asyncpg.Connection]:
        """A transaction holding SWAP_LOCK exclusively: live batches wait until it ends."""
        conn = await self._admin()
        try:
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock($1)", SWAP_LOCK)
                yield conn
        finally:
            await conn.close()

    async def swap(self, conn: asyncpg.Connection, rebuilt: str, retired: str) -> None:
        await conn.execute(f"ALTER SCHEMA {quote_pg_schema(self.live)} RENAME TO {quote_pg_schema(retired)}")
        await conn.execute(f"ALTER SCHEMA {quote_pg_schema(rebuilt)} RENAME TO {quote_pg_schema(self.live)}")
        await conn.execute("SELECT pg_notify($1, $2)", NOTIFY_CHANNEL, ANYTHING)  # every waiter looks again

    @asynccontextmanager
    async def frozen(self) -> AsyncIterator[tuple[asyncpg.Connection, asyncpg.Connection]]:
        """Two connections: ``locked`` holds SWAP_LOCK (live batches wait) until
        :meth:`take_snapshot` pins a snapshot on the other one and releases it."""
        locked, snap = await self._admin(), await self._admin()
        try:
            await locked.execute("SELECT pg_advisory_lock($1)", SWAP_LOCK)
            yield locked, snap
        finally:
            await locked.close()
            await snap.close()

    async def take_snapshot(self, locked: asyncpg.Connection, snap: asyncpg.Connection) -> None:
        """Pin a REPEATABLE READ snapshot on ``snap``, then let live batches go on."""
        await snap.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        await snap.fetchval("SELECT 1")
        await locked.execute("SELECT pg_advisory_unlock($1)", SWAP_LOCK)

    async def compare(self, conn: asyncpg.Connection, rebuilt: str, sample: int = 5) -> list[TableDiff]:
        live, new = quote_pg_schema(self.live), quote_pg_schema(rebuilt)
        out = []
        for table, key in COMPARED.items():
            diff = TableDiff(table)
            for a, b, attr, tag in ((live, new, "only_live", "live"), (new, live, "only_rebuilt", "rebuilt")):
                rows = await conn.fetch(
                    f"SELECT ({key})::text AS k, count(*) OVER () AS n FROM "
                    f"(SELECT * FROM {a}.{table} EXCEPT ALL SELECT * FROM {b}.{table}) d "
                    f"ORDER BY 1 LIMIT $1",
                    sample,
                )
                setattr(diff, attr, rows[0]["n"] if rows else 0)
                diff.samples += [f"{tag}: {r['k']}" for r in rows]
            out.append(diff)
        return out
