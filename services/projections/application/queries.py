"""The four read-model queries, with read-your-writes.

``min_position`` (a position the contracts service returned for a write) makes a query wait,
at most ``max_wait`` seconds, then it answers anyway, with ``stale: true`` if not reached.

* Client-scoped (coverage; contracts/debtors/income with ``client_id``): reached when every
  event of the client with position ≤ N is applied, whichever of the two topics carried it.
  Each topic keeps one client's events in position order (one key, one partition, and the
  store commits one key's events in position order), but the two topics interleave freely, so
  the client's highest position over both topics says nothing about the other topic. Per topic:
  (a) the highest position applied from it for the client is ≥ N — nothing of the client up
  to N can still come on it; or else (b) the client's highest position (either topic) is ≥ N —
  the relay, which reads one key's events in order, has taken every event up to N — and the
  client's partition of that topic is consumed up to the end offset Kafka reports after (b).
  In both cases none of the client's events up to N may be parked (behind a lost predecessor).
* Global (debtors / income / contracts without ``client_id``): reached when (1) some event at
  position ≥ N is applied — so the relay, which publishes in order, has published every event
  up to N — and then (2) the read model has consumed both topics up to the end offsets Kafka
  reports *after* (1). Every event up to N is then applied, or parked behind a predecessor
  that will never come (those were consumed too); ``position`` is the highest applied for any
  client.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, Protocol, TypeVar
from uuid import UUID

import asyncpg

from services.projections.adapters import reads
from services.projections.adapters.kafka_offsets import partition_of
from services.projections.adapters.reads import PeriodFilter
from services.projections.domain.coverage import Coverage, assess, overdue
from services.projections.domain.debts import Debtor, group_debtors
from services.projections.domain.income import MonthIncome, income_by_month, next_month

T = TypeVar("T")


class UnknownClient(LookupError):
    """No event of this client has been applied. ``stale``: a ``min_position`` was asked for and
    not reached, so the client may well exist and just not be projected yet."""

    def __init__(self, client_id: UUID, stale: bool) -> None:
        super().__init__(str(client_id))
        self.client_id, self.stale = client_id, stale


class Wakeups(Protocol):
    @property
    def seen(self) -> int:
        """Batches committed so far, as far as this process has heard."""

    async def wait(self, timeout: float, since: int, reaching: int | None = None) -> None:
        """Return once ``seen`` has moved past ``since`` (by a batch that applied a position ≥
        ``reaching``, when given), or after ``timeout`` seconds."""


EndOffsets = Callable[[], Awaitable[dict[tuple[str, int], int]]]


@dataclass(frozen=True)
class Answer(Generic[T]):
    result: T
    position: int | None
    stale: bool


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_page: int | None


def _consumed(done: dict[tuple[str, int], int], ends: dict[tuple[str, int], int]) -> bool:
    return all(done.get(key, 0) >= end for key, end in ends.items() if end > 0)


def _partitions_of(client_id: UUID, ends: dict[tuple[str, int], int]) -> dict[tuple[str, int], int]:
    """The end offsets of the client's partition of each topic (both keyed by client id)."""
    counts: dict[str, int] = {}
    for topic, _ in ends:
        counts[topic] = counts.get(topic, 0) + 1
    keys = {(topic, partition_of(str(client_id), n)) for topic, n in counts.items()}
    return {key: end for key, end in ends.items() if key in keys}


def _page(rows: list[Any], page: int, page_size: int) -> tuple[list[Any], int | None]:
    return rows[:page_size], (page + 1 if len(rows) > page_size else None)


class Queries:
    def __init__(self, pool: asyncpg.Pool, wakeups: Wakeups, end_offsets: EndOffsets,
                 max_wait: float = 2.0, poll_every: float = 0.25, grace_days: int = 0) -> None:
        """``grace_days``: ``ABONENT_GRACE_DAYS``, days after ``due_on`` before a debt is overdue."""
        self._pool = pool
        self._grace_days = grace_days
        self._wakeups = wakeups
        self._end_offsets = end_offsets
        self._max_wait = max_wait
        self._poll_every = poll_every

    async def _position(self, conn: asyncpg.Connection, client_id: UUID | None) -> int | None:
        if client_id is None:
            return await reads.global_position(conn)
        return (await reads.client_position(conn, client_id))[1]

    async def wait_for(self, client_id: UUID | None, min_position: int | None) -> bool:
        """True once ``min_position`` is reached (at once without one), False after the wait.

        The wake-up count is read *before* each look at the database, so a batch committing
        during the look ends the next wait at once instead of being slept through.
        """
        if min_position is None:
            return True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._max_wait
        ends: dict[tuple[str, int], int] | None = None
        while True:
            seen = self._wakeups.seen
            reaching: int | None = None
            async with self._pool.acquire() as conn:
                if client_id is None:
                    position = await reads.global_position(conn)
                    reached = position is not None and position >= min_position
                    if reached:
                        if ends is None:
                            ends = await self._ends()
                        reached = ends is not None and _consumed(await reads.consumed_offsets(conn), ends)
                else:
                    mark = await reads.client_mark(conn, client_id, min_position)
                    if mark.position is None or mark.position < min_position:
                        # only a batch applying a position at least as high can reach it
                        reached, reaching = False, min_position
                    else:
                        reached, ends = await self._client_complete(conn, client_id, mark,
                                                                     min_position, ends)
            remaining = deadline - loop.time()
            if reached or remaining <= 0:
                return reached
            await self._wakeups.wait(min(remaining, self._poll_every), since=seen, reaching=reaching)

    async def _client_complete(
        self, conn: asyncpg.Connection, client_id: UUID, mark: reads.ClientMark, min_position: int,
        ends: dict[tuple[str, int], int] | None,
    ) -> tuple[bool, dict[tuple[str, int], int] | None]:
        """(reached, end offsets asked): the client's position is ≥ ``min_position``; is every
        event of it up to there applied, on both topics? (rules (a) and (b) above)."""
        if mark.parked:
            return False, ends
        if min(mark.events_position or 0, mark.schedule_position or 0) >= min_position:
            return True, ends
        if ends is None:
            ends = await self._ends()
            if ends is None:
                return False, None
        return _consumed(await reads.consumed_offsets(conn), _partitions_of(client_id, ends)), ends

    async def _ends(self) -> dict[tuple[str, int], int] | None:
        try:
            return await self._end_offsets()
        except Exception:  # noqa: BLE001 - Kafka unreachable: cannot tell, the answer is stale
            return None

    @asynccontextmanager
    async def _snapshot(self) -> AsyncIterator[asyncpg.Connection]:
        async with self._pool.acquire() as conn, conn.transaction(isolation="repeatable_read",
                                                                  readonly=True):
            yield conn

    @staticmethod
    def _stale(reached: bool, position: int | None, min_position: int | None) -> bool:
        return min_position is not None and (
            not reached or position is None or position < min_position)

    async def coverage(self, client_id: UUID, on: date, min_position: int | None) -> Answer[Coverage]:
        reached = await self.wait_for(client_id, min_position)
        known, position, periods = await reads.coverage_periods(self._pool, client_id, on)
        if not known:
            raise UnknownClient(client_id, stale=min_position is not None)
        return Answer(assess(periods, on, self._grace_days), position,
                      self._stale(reached, position, min_position))

    async def contracts(self, *, client_id: UUID | None, status: str | None, periods: PeriodFilter,
                        page: int, page_size: int, min_position: int | None) -> Answer[Page[dict[str, Any]]]:
        reached = await self.wait_for(client_id, min_position)
        async with self._snapshot() as conn:
            position = await self._position(conn, client_id)
            contracts, period_rows = await reads.contracts_page(
                conn, client_id=client_id, status=status, periods=periods,
                limit=page_size + 1, offset=(page - 1) * page_size)
        contracts, next_page = _page(contracts, page, page_size)
        matched: dict[UUID, list[dict[str, Any]]] = {}
        for r in period_rows:
            matched.setdefault(r["contract_id"], []).append(dict(r))
        items = [{**dict(c), "matched_periods": matched.get(c["contract_id"], [])} for c in contracts]
        return Answer(Page(items, next_page), position, self._stale(reached, position, min_position))

    async def debtors(self, *, on: date, payment_terms: str | None, client_id: UUID | None,
                      page: int, page_size: int, min_position: int | None) -> Answer[Page[Debtor]]:
        reached = await self.wait_for(client_id, min_position)
        async with self._snapshot() as conn:
            position = await self._position(conn, client_id)
            rows = await reads.owed_periods(conn, on=on, payment_terms=payment_terms,
                                            client_id=client_id, limit=page_size + 1,
                                            offset=(page - 1) * page_size, grace_days=self._grace_days)
        clients = list(dict.fromkeys(r["client_id"] for r in rows))
        shown, next_page = _page(clients, page, page_size)
        keep = set(shown)
        owed_rows = []
        for r in rows:
            if r["client_id"] in keep and (
                    o := overdue(reads.to_period_state(r), on, self._grace_days)) is not None:
                owed_rows.append((r["client_id"], r["client_name"], o))
        return Answer(Page(group_debtors(owed_rows), next_page), position,
                      self._stale(reached, position, min_position))

    async def income(self, *, first: date, last: date, client_id: UUID | None, on: date,
                     min_position: int | None) -> Answer[list[MonthIncome]]:
        reached = await self.wait_for(client_id, min_position)
        position, cells = await reads.income(self._pool, start=first, end=next_month(last),
                                             client_id=client_id, on=on)
        months = income_by_month(
            first, last, [(r["month"], r["currency"], r["due"], r["outstanding"]) for r in cells],
            [(r["month"], r["currency"], r["received"]) for r in cells])
        return Answer(months, position, self._stale(reached, position, min_position))
