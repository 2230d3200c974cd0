"""What an application needs from an event store; PostgreSQL and memory implement it.

``PostgresEventStore`` (``store.py``) is the production store; ``MemoryEventStore``
(``memory.py``) passes the same contract tests (``tests/support/eventstore_contract.py``) and
lets application tests run without a database.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from shared.eventstore.records import Append, CommandContext, NewEvent, RecordedEvent

Transaction = Any
"""The append's open transaction as the store that opened it knows it: an
``asyncpg.Connection`` for PostgreSQL, a ``MemoryTransaction`` for memory. Only an adapter of
the same backend writes through it; application code just passes it on."""

InTransaction = Callable[[Transaction, list[RecordedEvent]], Awaitable[None]]
"""A write of the caller's that commits with the events or not at all."""

InTransactionMany = Callable[[Transaction, list[list[RecordedEvent]]], Awaitable[None]]
"""The same for ``append_many``: given each append's recorded events, in the order of the appends."""


class EventStore(Protocol):
    async def read_stream(self, stream_id: str) -> list[RecordedEvent]: ...

    async def read_payloads(self, stream_id: str) -> list[tuple[str, int, dict[str, Any]]]:
        """(event_type, schema_version, data) of a stream in order: all that folding needs."""
        ...

    async def read_all(self, after_position: int = 0, limit: int = 10_000) -> list[RecordedEvent]: ...

    async def stream_version(self, stream_id: str) -> int: ...

    async def position_at(self, stream_id: str, stream_version: int) -> int | None: ...

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[NewEvent],
        *,
        partition_key: str,
        ctx: CommandContext,
        in_transaction: InTransaction | None = None,
    ) -> list[RecordedEvent]:
        """Append after ``expected_version`` (NEW_STREAM, an exact version, or ANY_VERSION),
        with the outbox messages and ``in_transaction`` in one transaction; ConcurrencyError when the
        stream moved on (nothing is written then)."""
        ...

    async def append_many(
        self, appends: Sequence[Append], *, ctx: CommandContext, in_transaction: InTransactionMany | None = None
    ) -> list[list[RecordedEvent]]:
        """Several streams' appends in one transaction (a group commit: one commit for many
        commands), each after its ``expected_version``: a clash on any stream writes nothing
        and raises ConcurrencyError naming it. Positions follow the order of ``appends``, and
        every partition key involved is held as in ``append``, so per key, commit order stays
        position order."""
        ...
