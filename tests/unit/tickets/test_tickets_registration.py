"""Registration writes a new stream without reading it first (a fake store, no database)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from services.tickets.application.ports import Known
from services.tickets.application.tickets import Registration, TicketsApplication, ticket_stream
from services.tickets.domain.errors import Conflict
from shared.eventstore.errors import ConcurrencyError
from shared.eventstore.records import NEW_STREAM, CommandContext, RecordedEvent
from tests.unit.tickets.tickets_helpers import CLIENT, NOW, snapshot

CTX = CommandContext(correlation_id="c-1", actor="dispatcher", now=NOW)


class Connection:
    def __init__(self) -> None:
        self.statements: list[str] = []

    async def execute(self, sql: str, *args: Any) -> None:
        self.statements.append(sql)


class Store:
    """An event store in memory that records what was read and appended."""

    def __init__(self) -> None:
        self.streams: dict[str, list[RecordedEvent]] = {}
        self.appends: list[tuple[str, int, str]] = []
        self.reads: list[str] = []
        self.conn = Connection()

    async def read_stream(self, stream_id: str) -> list[RecordedEvent]:
        self.reads.append(stream_id)
        return self.streams.get(stream_id, [])

    async def read_payloads(self, stream_id: str) -> list[tuple[str, int, dict[str, Any]]]:
        self.reads.append(stream_id)
        return [(e.event_type, e.schema_version, e.data) for e in self.streams.get(stream_id, [])]

    async def stream_version(self, stream_id: str) -> int:
        return len(self.streams.get(stream_id, []))

    async def append(self, stream_id, expected_version, events, *, partition_key, ctx, in_transaction=None):  # type: ignore[no-untyped-def]
        self.appends.append((stream_id, expected_version, partition_key))
        current = len(self.streams.get(stream_id, []))
        if current != expected_version:
            raise ConcurrencyError(stream_id, expected_version, current)
        recorded = [RecordedEvent(
            position=100 + i, event_id=e.event_id, stream_id=stream_id, stream_version=current + i + 1,
            event_type=e.event_type, schema_version=e.schema_version, partition_key=partition_key,
            data=e.data, occurred_at=e.occurred_at, recorded_at=NOW, correlation_id=ctx.correlation_id,
            causation_id=ctx.causation_id, actor=ctx.actor) for i, e in enumerate(events)]
        if in_transaction is not None:
            await in_transaction(self.conn, recorded)
        self.streams.setdefault(stream_id, []).extend(recorded)
        return recorded


class Coverage:
    async def coverage(self, client_id, on, min_position):  # type: ignore[no-untyped-def]
        return Known(snapshot())


def application(store: Store) -> TicketsApplication:
    return TicketsApplication(store, Coverage(), price_list=None, tickets_list=None)  # type: ignore[arg-type]


def registration(ticket_id: uuid.UUID) -> Registration:
    return Registration(ticket_id=ticket_id, client_id=CLIENT, title="Printer does not print",
                        registered_at=datetime(2026, 5, 15, 9, 30, tzinfo=UTC))


async def test_a_registration_appends_a_new_stream_without_reading_it():
    store = Store()
    ticket_id = uuid.uuid4()
    result = await application(store).register(registration(ticket_id), CTX)
    assert store.reads == []
    assert store.appends == [(ticket_stream(ticket_id), NEW_STREAM, str(CLIENT))]
    assert len(store.conn.statements) == 1  # the tickets list row, in the append's transaction
    assert result.state is not None and result.state.id == ticket_id
    assert (result.version, result.position) == (1, 100)


async def test_a_stream_that_exists_after_all_is_refused_by_the_domain():
    store = Store()
    ticket_id = uuid.uuid4()
    await application(store).register(registration(ticket_id), CTX)
    with pytest.raises(Conflict) as refused:
        await application(store).register(registration(ticket_id), CTX)
    assert refused.value.rule == "ticket_exists"
    assert store.reads == [ticket_stream(ticket_id)]  # read only once the append was refused
    assert len(store.streams[ticket_stream(ticket_id)]) == 1 and len(store.conn.statements) == 1
