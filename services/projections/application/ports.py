"""What the projections application needs from the outside; the adapters implement these.

* queries: ``ReadModel`` (the read-model tables, ``adapters/read_model.py``), ``Wakeups``
  (batches committed, ``adapters/notifications.py``), ``TopicEnds`` (Kafka's end offsets,
  ``adapters/kafka_offsets.py``);
* rebuild: ``PgSchemas`` (whole read-model PostgreSQL schemas, ``adapters/pg_schemas.py``) and ``Source``
  (the topics from offset 0, ``adapters/replay.py``);
* projector: ``ProjectionStore`` (the read-model tables written a batch at a time,
  ``adapters/store.py``).

``Connection`` is opaque here: the rebuild hands the connection ``PgSchemas`` opened to the
projector and back, never using it itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol
from uuid import UUID

from services.projections.domain.coverage import OwedPeriod, PeriodState
from services.projections.domain.fold import WorkingSet

Offsets = dict[tuple[str, int], int]
"""Next offset to read (or to be written), per (topic, partition)."""

Connection = Any
"""A connection to the read model's database, as ``PgSchemas`` opened it."""

Row = Any
"""A row of the read model: columns by name (``row["client_id"]``)."""


@dataclass(frozen=True)
class ClientMark:
    """How far a client's events are applied: overall, per topic, and whether any of them up to
    the position asked waits parked behind a missing predecessor."""

    position: int | None
    events_position: int | None
    schedule_position: int | None
    parked: bool


@dataclass(frozen=True)
class PeriodFilter:
    starts_from: date | None = None
    starts_to: date | None = None
    ends_from: date | None = None
    ends_to: date | None = None
    paid: bool | None = None
    payment_terms: str | None = None
    on: date | None = None
    """``paid`` is as at this day (payments with ``paid_on <= on``); None: every payment."""

    @property
    def given(self) -> bool:
        return any(v is not None for k, v in self.__dict__.items() if k != "on")


class ReadModel(Protocol):
    """The four answers, each with the position it reflects read in the same snapshot."""

    async def client_mark(self, client_id: UUID, up_to: int) -> ClientMark: ...

    async def client_stopped(self, client_id: UUID) -> str | None:
        """Why the client's events stopped being applied (an event that cannot be), or None."""
        ...

    async def global_position(self) -> int | None: ...

    async def consumed_offsets(self) -> Offsets: ...

    async def coverage_periods(
        self, client_id: UUID, on: date
    ) -> tuple[bool, int | None, list[PeriodState], str | None]:
        """(known, position, periods starting on or before ``on``, ``client_stopped``) of one
        client, one snapshot."""
        ...

    async def contracts_page(
        self, *, client_id: UUID | None, status: str | None, periods: PeriodFilter, limit: int, offset: int
    ) -> tuple[int | None, Sequence[Row], Sequence[Row]]:
        """(position, contracts, their periods matching ``periods``)."""
        ...

    async def owed_periods(
        self,
        *,
        on: date,
        payment_terms: str | None,
        client_id: UUID | None,
        limit: int,
        offset: int,
        grace_days: int,
        after: tuple[str | None, UUID] | None = None,
    ) -> tuple[int | None, Sequence[Row]]:
        """(position, periods overdue on ``on`` of one page of debtor clients by (name, id):
        from ``offset``, or after the client ``after`` (a keyset cursor; ``offset`` then 0))."""
        ...

    async def income(
        self, *, start: date, end: date, client_id: UUID | None, on: date
    ) -> tuple[int | None, Sequence[Row]]:
        """(position, cells: month, currency, due, outstanding, received; a cell may repeat)."""
        ...

    async def clients_page(self, *, text: str | None, limit: int, offset: int) -> Sequence[Row]:
        """Clients (client_id, name, manager_name, manager_email) by name: all, or those whose
        name contains ``text`` or that hold a contract numbered ``text``."""
        ...

    async def client(self, client_id: UUID) -> Row | None:
        """One client's row (with its ``position``), None when none of its events is applied."""
        ...

    def owed_period(self, row: Row) -> OwedPeriod:
        """One row of ``owed_periods`` as the domain's owed period."""
        ...


class ProjectionStore(Protocol):
    """The read-model tables as the projector writes them: every method takes the connection of
    the caller's transaction, so the rows, stream versions, parked events and consumed offsets of
    one batch commit together."""

    refused: tuple[type[BaseException], ...]
    """Errors the same batch raises again whenever it is retried (a value the database refuses)."""
    passing: tuple[type[BaseException], ...]
    """Errors of an outage (the database going away, a deadlock): the record is retried, never
    dead-lettered for them. Any other error on a record on its own stops its stream."""

    def transaction(self, conn: Connection) -> AbstractAsyncContextManager[Any]: ...
    async def begin_batch(self, conn: Connection, partitions: Iterable[int], size: int = 1) -> None:
        """First in a live batch's transaction (``size`` records): take its locks."""
        ...

    async def load_parked(self, conn: Connection, streams: Sequence[str]) -> Sequence[Row]: ...
    async def load_streams(
        self, conn: Connection, streams: Sequence[str]
    ) -> tuple[dict[str, int], Sequence[Row], Sequence[Row]]:
        """(last applied versions, parked events, stops) of ``streams``."""
        ...

    async def load(
        self,
        conn: Connection,
        clients: Sequence[UUID],
        contracts: Sequence[UUID],
        periods: Sequence[UUID],
        payments: Sequence[UUID],
    ) -> WorkingSet: ...
    async def save(self, conn: Connection, ws: WorkingSet, *, rollups: bool = True) -> None: ...
    async def save_versions(self, conn: Connection, versions: dict[str, int]) -> None: ...
    async def park(self, conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None: ...
    async def unpark(self, conn: Connection, keys: Sequence[tuple[str, int]]) -> None: ...
    async def load_stopped(self, conn: Connection, streams: Sequence[str] | None) -> Sequence[Row]:
        """The stopped streams among ``streams`` (None: all of them)."""
        ...

    async def stop(self, conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
        """(stream_id, client_id, stream_version, event_id, event_type, reason) per stream."""
        ...

    async def unstop(self, conn: Connection, streams: Sequence[str]) -> None: ...
    async def save_offsets(
        self,
        conn: Connection,
        next_offsets: dict[tuple[str, int], int],
        *,
        notify: bool = False,
        reached: Mapping[int, int] | None = None,
    ) -> None:
        """``notify``: wake the waiting queries on commit, telling them ``reached`` (the
        highest position applied per client bucket, ``application.reached``)."""


class Wakeups(Protocol):
    @property
    def seen(self) -> int:
        """Batches committed so far, as far as this process has heard."""

    async def wait(self, timeout: float, since: int, reaching: tuple[int, int] | None = None) -> None:
        """Return once ``seen`` has moved past ``since`` (when ``reaching`` = (bucket, position)
        is given: by a batch that applied a position ≥ it in that client bucket), or after
        ``timeout`` seconds, or sooner when the waiter should look again anyway (polling while
        batches cannot be heard)."""


class TopicEnds(Protocol):
    async def __call__(self) -> Offsets:
        """The consumed topics' end offsets, as Kafka reports them now (raises if it cannot)."""
        ...

    def partition_of(self, key: str, partitions: int) -> int:
        """The partition the relay's producer puts ``key`` in, out of ``partitions``."""
        ...


class Source(Protocol):
    """The consumed topics read from offset 0 up to given offsets, without a consumer group."""

    positions: Offsets

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def end_offsets(self) -> Offsets: ...
    def remaining(self, limits: Offsets) -> int: ...
    async def read(self, limits: Offsets, max_records: int) -> list[Any] | None: ...
    async def seek(self, offsets: Offsets) -> None:
        """Go on from ``offsets`` (what worker processes replayed is not read again here)."""
        ...


@dataclass
class TableDiff:
    table: str
    only_live: int = 0
    only_rebuilt: int = 0
    samples: list[str] = field(default_factory=list)

    @property
    def differs(self) -> bool:
        return bool(self.only_live or self.only_rebuilt)


class RebuildBusy(RuntimeError):
    """Another rebuild, check or first fill holds the read model's rebuild lock."""


class PgSchemas(Protocol):
    """Whole read-model schemas: the live one by name, fresh ones to replay into."""

    live: str

    def exclusive_run(self) -> AbstractAsyncContextManager[None]: ...
    async def drop_leftovers(self) -> list[str]: ...
    async def create(self, schema: str, *, bulk: bool = False) -> None: ...
    async def finish(self, schema: str) -> None: ...
    async def connect(self, schema: str) -> Connection: ...
    async def drop(self, schema: str) -> None: ...
    async def offsets(self, conn: Connection, schema: str) -> Offsets: ...
    def swap_lock(self) -> AbstractAsyncContextManager[Connection]: ...
    async def fill_rollups(self, conn: Connection, schema: str) -> None: ...
    async def swap(self, conn: Connection, rebuilt: str, retired: str) -> None: ...
    def frozen(self) -> AbstractAsyncContextManager[tuple[Connection, Connection]]: ...
    async def take_snapshot(self, locked: Connection, snap: Connection) -> None: ...
    async def compare(self, conn: Connection, rebuilt: str, sample: int = 5) -> list[TableDiff]: ...
