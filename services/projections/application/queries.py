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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar
from uuid import UUID

from services.projections.application.ports import (
    ClientMark,
    Offsets,
    PeriodFilter,
    ReadModel,
    TopicEnds,
    Wakeups,
)
from services.projections.application.reached import bucket_of
from services.projections.domain.coverage import Coverage, assess
from services.projections.domain.debts import Debtor, group_debtors
from services.projections.domain.income import MonthIncome, income_by_month, next_month

T = TypeVar("T")
DebtorKey = tuple[str | None, UUID]
"""Where a debtors page starts with a keyset cursor: after this (client name, client id)."""


class UnknownClient(LookupError):
    """No event of this client has been applied. ``stale``: a ``min_position`` was asked for and
    not reached, so the client may well exist and just not be projected yet."""

    def __init__(self, client_id: UUID, stale: bool) -> None:
        super().__init__(str(client_id))
        self.client_id, self.stale = client_id, stale


@dataclass(frozen=True)
class Answer(Generic[T]):
    result: T
    position: int | None
    stale: bool
    stale_reason: str | None = None


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_page: int | None
    next_after: tuple[Any, ...] | None = None
    """The sort key of the last item when there is more (a keyset list's cursor)."""


def _consumed(done: Offsets, ends: Offsets) -> bool:
    return all(done.get(key, 0) >= end for key, end in ends.items() if end > 0)


def _partitions_of(client_id: UUID, ends: Offsets, topics: TopicEnds) -> Offsets:
    """The end offsets of the client's partition of each topic (both keyed by client id)."""
    counts: dict[str, int] = {}
    for topic, _ in ends:
        counts[topic] = counts.get(topic, 0) + 1
    keys = {(topic, topics.partition_of(str(client_id), n)) for topic, n in counts.items()}
    return {key: end for key, end in ends.items() if key in keys}


def _page(rows: Sequence[Any], page: int, page_size: int) -> tuple[list[Any], int | None]:
    return list(rows[:page_size]), (page + 1 if len(rows) > page_size else None)


class Queries:
    def __init__(
        self,
        read_model: ReadModel,
        wakeups: Wakeups,
        end_offsets: TopicEnds,
        max_wait: float = 2.0,
        grace_days: int = 0,
        on_looks: Callable[[int], None] | None = None,
    ) -> None:
        """``grace_days``: ``ABONENT_GRACE_DAYS``, days after ``due_on`` before a debt is overdue;
        ``on_looks``: told how many times each ``min_position`` wait looked at the database."""
        self._read_model = read_model
        self._grace_days = grace_days
        self._wakeups = wakeups
        self._end_offsets = end_offsets
        self._max_wait = max_wait
        self._on_looks = on_looks

    async def wait_for(self, client_id: UUID | None, min_position: int | None, max_wait: float | None = None) -> bool:
        """True once ``min_position`` is reached (at once without one), False after the wait
        (``max_wait`` seconds if the caller asked for less than the service's bound).

        The wake-up count is read *before* each look at the database, so a batch committing
        during the look ends the next wait at once instead of being slept through. While the
        client's position is below ``min_position``, only a batch that applied a position at
        least that high in the client's bucket wakes the wait (``application.reached``).
        """
        if min_position is None:
            return True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self._max_wait if max_wait is None else min(max_wait, self._max_wait))
        ends: Offsets | None = None
        model = self._read_model
        looks = 0
        while True:
            seen = self._wakeups.seen
            reaching: tuple[int, int] | None = None
            looks += 1
            if client_id is None:
                position = await model.global_position()
                reached = position is not None and position >= min_position
                if reached:
                    if ends is None:
                        ends = await self._ends(deadline)
                    reached = ends is not None and _consumed(await model.consumed_offsets(), ends)
            else:
                mark = await model.client_mark(client_id, min_position)
                if mark.position is None or mark.position < min_position:
                    # only a batch applying one of the client's events at least as high can reach it
                    reached, reaching = False, (bucket_of(client_id), min_position)
                else:
                    reached, ends = await self._client_complete(client_id, mark, min_position, ends, deadline)
            remaining = deadline - loop.time()
            if reached or remaining <= 0:
                if self._on_looks is not None:
                    self._on_looks(looks)
                return reached
            await self._wakeups.wait(remaining, since=seen, reaching=reaching)

    async def _client_complete(
        self,
        client_id: UUID,
        mark: ClientMark,
        min_position: int,
        ends: Offsets | None,
        deadline: float,
    ) -> tuple[bool, Offsets | None]:
        """(reached, end offsets asked): the client's position is ≥ ``min_position``; is every
        event of it up to there applied, on both topics? (rules (a) and (b) above)."""
        if mark.parked:
            return False, ends
        if min(mark.events_position or 0, mark.schedule_position or 0) >= min_position:
            return True, ends
        if ends is None:
            ends = await self._ends(deadline)
            if ends is None:
                return False, None
        return _consumed(
            await self._read_model.consumed_offsets(), _partitions_of(client_id, ends, self._end_offsets)
        ), ends

    async def _ends(self, deadline: float) -> Offsets | None:
        """Kafka's end offsets now, or None (the answer is stale) when Kafka cannot say before
        the wait's ``deadline`` (a loop time)."""
        remaining = max(deadline - asyncio.get_running_loop().time(), 0.01)
        try:
            return await asyncio.wait_for(self._end_offsets(), remaining)
        except Exception:  # noqa: BLE001 - Kafka unreachable or slow: cannot tell, the answer is stale
            return None

    @staticmethod
    def _stale(reached: bool, position: int | None, min_position: int | None) -> bool:
        return min_position is not None and (not reached or position is None or position < min_position)

    async def _answer(
        self, result: T, position: int | None, reached: bool, min_position: int | None, client_id: UUID | None
    ) -> Answer[T]:
        """The answer with its freshness: stale when ``min_position`` was not reached, and for
        one client also when its stream is stopped (an event that cannot be applied)."""
        stopped = await self._read_model.client_stopped(client_id) if client_id is not None else None
        return self._fresh(result, position, reached, min_position, stopped)

    def _fresh(
        self, result: T, position: int | None, reached: bool, min_position: int | None, stopped: str | None
    ) -> Answer[T]:
        """``_answer`` with the stopped stream's reason (``client_stopped``) already read."""
        if stopped is not None:
            return Answer(result, position, True, stopped)
        if self._stale(reached, position, min_position):
            return Answer(result, position, True, f"min_position {min_position} not reached within the wait")
        return Answer(result, position, False)

    async def coverage(
        self, client_id: UUID, on: date, min_position: int | None, max_wait: float | None = None
    ) -> Answer[Coverage]:
        reached = await self.wait_for(client_id, min_position, max_wait)
        known, position, periods, stopped = await self._read_model.coverage_periods(client_id, on)
        if not known:
            stopped = await self._read_model.client_stopped(client_id)  # its first event cannot be applied
            raise UnknownClient(client_id, stale=min_position is not None or stopped is not None)
        return self._fresh(assess(periods, on, self._grace_days), position, reached, min_position, stopped)

    async def contracts(
        self,
        *,
        client_id: UUID | None,
        status: str | None,
        periods: PeriodFilter,
        page: int,
        page_size: int,
        min_position: int | None,
    ) -> Answer[Page[dict[str, Any]]]:
        reached = await self.wait_for(client_id, min_position)
        position, contracts, period_rows = await self._read_model.contracts_page(
            client_id=client_id, status=status, periods=periods, limit=page_size + 1, offset=(page - 1) * page_size
        )
        contracts, next_page = _page(contracts, page, page_size)
        matched: dict[UUID, list[dict[str, Any]]] = {}
        for r in period_rows:
            matched.setdefault(r["contract_id"], []).append(dict(r))
        items = [{**dict(c), "matched_periods": matched.get(c["contract_id"], [])} for c in contracts]
        return await self._answer(Page(items, next_page), position, reached, min_position, client_id)

    async def debtors(
        self,
        *,
        on: date,
        payment_terms: str | None,
        client_id: UUID | None,
        page: int,
        page_size: int,
        min_position: int | None,
        after: DebtorKey | None = None,
    ) -> Answer[Page[Debtor]]:
        """One page of debtors by (client name, client id): the ``page``-th, or with ``after``
        (a keyset cursor, ``page`` then 1) the one after that client. ``next_after`` is the
        last client's key when there is more; ``next_page`` only without ``after``."""
        reached = await self.wait_for(client_id, min_position)
        position, rows = await self._read_model.owed_periods(
            on=on,
            payment_terms=payment_terms,
            client_id=client_id,
            limit=page_size + 1,
            offset=(page - 1) * page_size,
            grace_days=self._grace_days,
            after=after,
        )
        names = {r["client_id"]: r["client_name"] for r in rows}
        clients = list(names)
        shown, next_page = _page(clients, page, page_size)
        keep = set(shown)
        # the rows are the periods overdue on ``on`` already (the read model's filter is
        # shared.owed's rule, held equal to it by the integration tests): one OwedPeriod each
        owed_period = self._read_model.owed_period
        owed_rows = [(r["client_id"], r["client_name"], owed_period(r)) for r in rows if r["client_id"] in keep]
        next_after = (names[shown[-1]], shown[-1]) if next_page is not None else None
        page_of = Page(group_debtors(owed_rows), None if after is not None else next_page, next_after)
        return await self._answer(page_of, position, reached, min_position, client_id)

    async def income(
        self, *, first: date, last: date, client_id: UUID | None, on: date, min_position: int | None
    ) -> Answer[list[MonthIncome]]:
        reached = await self.wait_for(client_id, min_position)
        position, cells = await self._read_model.income(start=first, end=next_month(last), client_id=client_id, on=on)
        months = income_by_month(
            first,
            last,
            [(r["month"], r["currency"], r["due"], r["outstanding"]) for r in cells],
            [(r["month"], r["currency"], r["received"]) for r in cells],
        )
        return await self._answer(months, position, reached, min_position, client_id)

    async def clients(self, *, text: str | None, page: int, page_size: int) -> Page[dict[str, Any]]:
        rows = await self._read_model.clients_page(text=text, limit=page_size + 1, offset=(page - 1) * page_size)
        items, next_page = _page([dict(r) for r in rows], page, page_size)
        return Page(items, next_page)

    async def client(self, client_id: UUID, min_position: int | None) -> Answer[dict[str, Any]]:
        reached = await self.wait_for(client_id, min_position)
        row = await self._read_model.client(client_id)
        if row is None:
            raise UnknownClient(client_id, stale=min_position is not None)
        found = dict(row)
        position = found.pop("position")
        return Answer(found, position, self._stale(reached, position, min_position))
