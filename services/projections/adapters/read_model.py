"""``application.ports.ReadModel`` over the read-model tables (the SQL is in ``reads``).

Coverage and income are one statement each (one snapshot, any connection); contracts and
debtors read their position and rows in one read-only REPEATABLE READ transaction.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from uuid import UUID

import asyncpg

from services.projections.adapters import reads
from services.projections.application.ports import ClientMark, Offsets, PeriodFilter
from services.projections.domain.coverage import OwedPeriod, PeriodState


class PostgresReadModel:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def client_mark(self, client_id: UUID, up_to: int) -> ClientMark:
        async with self._pool.acquire() as conn:
            return await reads.client_mark(conn, client_id, up_to)

    async def client_stopped(self, client_id: UUID) -> str | None:
        return await reads.client_stopped(self._pool, client_id)

    async def global_position(self) -> int | None:
        async with self._pool.acquire() as conn:
            return await reads.global_position(conn)

    async def consumed_offsets(self) -> Offsets:
        async with self._pool.acquire() as conn:
            return await reads.consumed_offsets(conn)

    async def coverage_periods(
        self, client_id: UUID, on: date
    ) -> tuple[bool, int | None, list[PeriodState], str | None]:
        return await reads.coverage_periods(self._pool, client_id, on)

    @asynccontextmanager
    async def _snapshot(self) -> AsyncIterator[asyncpg.Connection]:
        async with self._pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            yield conn

    async def _position(self, conn: asyncpg.Connection, client_id: UUID | None) -> int | None:
        if client_id is None:
            return await reads.global_position(conn)
        return (await reads.client_position(conn, client_id))[1]

    async def contracts_page(
        self,
        *,
        client_id: UUID | None,
        status: str | None,
        periods: PeriodFilter,
        limit: int,
        offset: int,
    ) -> tuple[int | None, list[asyncpg.Record], list[asyncpg.Record]]:
        async with self._snapshot() as conn:
            position = await self._position(conn, client_id)
            contracts, period_rows = await reads.contracts_page(
                conn, client_id=client_id, status=status, periods=periods, limit=limit, offset=offset
            )
        return position, contracts, period_rows

    async def owed_periods(
        self,
        *,
        on: date,
        payment_terms: str | None,
        client_id: UUID | None,
        limit: int,
        offset: int,
        grace_days: int,
        after: reads.After | None = None,
    ) -> tuple[int | None, list[asyncpg.Record]]:
        async with self._snapshot() as conn:
            position = await self._position(conn, client_id)
            rows = await reads.owed_periods(
                conn,
                on=on,
                payment_terms=payment_terms,
                client_id=client_id,
                limit=limit,
                offset=offset,
                grace_days=grace_days,
                after=after,
            )
        return position, rows

    async def income(
        self, *, start: date, end: date, client_id: UUID | None, on: date
    ) -> tuple[int | None, list[asyncpg.Record]]:
        return await reads.income(self._pool, start=start, end=end, client_id=client_id, on=on)

    async def clients_page(self, *, text: str | None, limit: int, offset: int) -> list[asyncpg.Record]:
        async with self._pool.acquire() as conn:
            return await reads.clients_page(conn, text=text, limit=limit, offset=offset)

    async def client(self, client_id: UUID) -> asyncpg.Record | None:
        async with self._pool.acquire() as conn:
            return await reads.client(conn, client_id)

    def owed_period(self, row: asyncpg.Record) -> OwedPeriod:
        return reads.to_owed_period(row)
