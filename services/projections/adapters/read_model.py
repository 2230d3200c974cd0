"""``application.ports.ReadModel`` over the read-model tables (the SQL is in ``reads``).

Coverage, debtors and income are one statement each (one snapshot, any connection; debtors
may count first, which only picks a plan); contracts reads its position and rows in one
read-only REPEATABLE READ transaction.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from uuid import UUID

import asyncpg

from services.projections.adapters import reads
from services.projections.application.ports import ClientMark, Offsets, PeriodFilter
from services.projections.domain.coverage import OwedPeriod, PeriodState

FEW_OWE_SECONDS = 10.0
"""How long a debtors count (gather or walk) is reused for the same day, grace and terms."""


class PostgresReadModel:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._few: dict[tuple[date, int, str | None], tuple[float, reads.Owing]] = {}

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

    async def consumed_nothing(self) -> bool:
        """No offset was ever stored: a new read model (``application.first_fill``)."""
        return not await self._pool.fetchval("SELECT EXISTS (SELECT 1 FROM consumed_offsets)")

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
        async with self._pool.acquire() as conn:
            few = None if client_id is not None else await self._few_owe(conn, on, grace_days, payment_terms)
            rows = await reads.owed_periods(
                conn,
                on=on,
                payment_terms=payment_terms,
                client_id=client_id,
                limit=limit,
                offset=offset,
                grace_days=grace_days,
                after=after,
                few=few,
                with_position=True,
            )
        return rows[0]["position"], [r for r in rows if r["client_id"] is not None]

    async def _few_owe(
        self, conn: asyncpg.Connection, on: date, grace_days: int, payment_terms: str | None
    ) -> reads.Owing:
        """``reads.few_owe``, remembered for ``FEW_OWE_SECONDS``: it only picks the cheaper of two
        ways to the same answer, so an old count costs time at worst, never a wrong page."""
        key = (on, grace_days, payment_terms)
        now = time.monotonic()
        known = self._few.get(key)
        if known is not None and known[0] > now:
            return known[1]
        few = await reads.few_owe(conn, on, grace_days, payment_terms)
        if len(self._few) >= 64:
            self._few.clear()
        self._few[key] = (now + FEW_OWE_SECONDS, few)
        return few

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
