"""The tickets application on the in-memory event store and tables (no database).

Registration writes a new stream without reading it first; the list row commits with the
events; items are priced from the price list; the block policy refuses; an unknown or
unreachable projections service never loses a ticket.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from services.tickets.adapters.memory import MemoryPriceList, MemoryTicketsList
from services.tickets.application.ports import ClientUnknown, CoverageLookup, Known, TicketFilter, Unavailable
from services.tickets.application.tickets import Registration, TicketsApplication, ticket_stream
from services.tickets.domain.errors import NotCovered
from shared.domain_errors import Conflict, NotFound
from shared.eventstore.memory import MemoryEventStore
from shared.eventstore.ports import InTransaction
from shared.eventstore.records import NEW_STREAM, CommandContext, NewEvent, RecordedEvent
from tests.unit.tickets.tickets_helpers import CLIENT, NOT_COVERED, NOW, item, snapshot

CTX = CommandContext(correlation_id="c-1", actor="dispatcher", now=NOW)


class Store(MemoryEventStore):
    """The in-memory event store, noting which streams were read and what was appended."""

    def __init__(self) -> None:
        super().__init__()
        self.appends: list[tuple[str, int, str]] = []
        self.reads: list[str] = []

    async def read_stream(self, stream_id: str) -> list[RecordedEvent]:
        self.reads.append(stream_id)
        return await super().read_stream(stream_id)

    async def read_payloads(self, stream_id: str) -> list[tuple[str, int, dict[str, Any]]]:
        self.reads.append(stream_id)
        return await super().read_payloads(stream_id)

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Any,
        *,
        partition_key: str,
        ctx: CommandContext,
        in_transaction: InTransaction | None = None,
    ) -> list[RecordedEvent]:
        self.appends.append((stream_id, expected_version, partition_key))
        return await super().append(
            stream_id, expected_version, events, partition_key=partition_key, ctx=ctx, in_transaction=in_transaction
        )


class Coverage:
    def __init__(self, answer: CoverageLookup | None = None) -> None:
        self.answer = answer or Known(snapshot())

    async def coverage(self, client_id, on, min_position):
        return self.answer


class World:
    def __init__(self, coverage: CoverageLookup | None = None, policy: str = "warn") -> None:
        self.store = Store()
        self.tickets_list = MemoryTicketsList()
        self.price_list = MemoryPriceList()
        self.app = TicketsApplication(self.store, Coverage(coverage), self.price_list, self.tickets_list, policy=policy)  # type: ignore[arg-type]  # parametrized policy text


def registration(ticket_id: uuid.UUID, **values: Any) -> Registration:
    return Registration(
        ticket_id=ticket_id,
        client_id=CLIENT,
        title="Printer does not print",
        registered_at=values.pop("registered_at", datetime(2026, 5, 15, 9, 30, tzinfo=UTC)),
        **values,
    )


async def test_a_registration_appends_a_new_stream_without_reading_it():
    world = World()
    ticket_id = uuid.uuid4()
    result = await world.app.register(registration(ticket_id), CTX)
    assert world.store.reads == []
    assert world.store.appends == [(ticket_stream(ticket_id), NEW_STREAM, str(CLIENT))]
    assert list(world.tickets_list.rows) == [ticket_id]  # the list row, in the append's transaction
    assert result.state is not None and result.state.id == ticket_id
    recorded = await MemoryEventStore.read_stream(world.store, ticket_stream(ticket_id))
    assert (result.version, result.position) == (1, recorded[0].position)


async def test_a_stream_that_exists_after_all_is_refused_by_the_domain():
    world = World()
    ticket_id = uuid.uuid4()
    await world.app.register(registration(ticket_id), CTX)
    another_replica = TicketsApplication(world.store, Coverage(), world.price_list, world.tickets_list)
    with pytest.raises(Conflict) as refused:
        await another_replica.register(registration(ticket_id), CTX)
    assert refused.value.rule == "ticket_exists"
    assert world.store.reads == [ticket_stream(ticket_id)]  # read only once the append was refused
    assert len(world.tickets_list.rows) == 1
    assert await world.store.stream_version(ticket_stream(ticket_id)) == 1


async def test_a_list_row_is_not_written_when_the_append_fails():
    world = World()
    ticket_id = uuid.uuid4()
    taken = NewEvent(uuid.uuid4(), "Other", 1, {}, NOW)
    await world.store.append(ticket_stream(ticket_id), NEW_STREAM, [taken], partition_key="x", ctx=CTX)
    app = TicketsApplication(world.store, Coverage(), world.price_list, world.tickets_list)
    with pytest.raises(Exception):  # noqa: B017 - however the append fails, no list row may be written
        await app.register(registration(ticket_id), CTX)
    assert world.tickets_list.rows == {}


async def test_items_are_priced_from_the_price_list_and_removed_once():
    world = World()
    await world.price_list.define(item(price="1500.00"))
    ticket_id, line_id = uuid.uuid4(), uuid.uuid4()
    await world.app.register(registration(ticket_id), CTX)
    added = await world.app.add_item(ticket_id, line_id, "WS-SETUP", Decimal("2"), CTX)
    assert added.state is not None and added.state.totals == {"RUB": Decimal("3000.00")}
    assert world.tickets_list.rows[ticket_id]["totals"] == [{"amount": "3000.00", "currency": "RUB"}]
    removed = await world.app.remove_item(ticket_id, line_id, CTX)
    again = await world.app.remove_item(ticket_id, line_id, CTX)
    assert removed.position is not None and again.position is None
    loaded = await world.app.get(ticket_id)
    assert loaded.state.lines == () and loaded.position == removed.position
    assert world.tickets_list.rows[ticket_id]["version"] == 3


@pytest.mark.parametrize(("cache_size", "reads"), [(2, ["first"]), (3, []), (0, ["first", "third"])])
async def test_only_the_last_registered_tickets_are_kept(cache_size, reads):
    """``TICKETS_STATE_CACHE_SIZE``: a ticket's state (its coverage snapshot with it) is kept
    for the last few tickets only; a change to an older one reads its stream."""
    world = World()
    world.app = TicketsApplication(
        world.store, Coverage(), world.price_list, world.tickets_list, state_cache_size=cache_size
    )
    await world.price_list.define(item(price="1500.00"))
    ids = {name: uuid.uuid4() for name in ("first", "second", "third")}
    for ticket_id in ids.values():
        await world.app.register(registration(ticket_id), CTX)
    await world.app.add_item(ids["first"], uuid.uuid4(), "WS-SETUP", Decimal("1"), CTX)
    await world.app.add_item(ids["third"], uuid.uuid4(), "WS-SETUP", Decimal("1"), CTX)
    assert world.store.reads == [ticket_stream(ids[name]) for name in reads]


async def test_an_item_not_in_the_price_list_is_refused():
    world = World()
    ticket_id = uuid.uuid4()
    await world.app.register(registration(ticket_id), CTX)
    with pytest.raises(NotFound) as missing:
        await world.app.add_item(ticket_id, uuid.uuid4(), "NO-SUCH", Decimal("1"), CTX)
    assert missing.value.rule == "price_item_not_found"
    assert await world.store.stream_version(ticket_stream(ticket_id)) == 1


async def test_an_unknown_ticket_is_not_found():
    with pytest.raises(NotFound) as missing:
        await World().app.get(uuid.uuid4())
    assert missing.value.rule == "ticket_not_found"


async def test_the_block_policy_refuses_an_uncovered_client_and_writes_nothing():
    world = World(Known(NOT_COVERED), policy="block")
    ticket_id = uuid.uuid4()
    with pytest.raises(NotCovered):
        await world.app.register(registration(ticket_id, registered_at=date(2027, 1, 15)), CTX)
    assert world.store.outbox == [] and world.tickets_list.rows == {}
    covered = await world.app.register(
        registration(ticket_id, registered_at=date(2027, 1, 15), override_reason="the director said so"), CTX
    )
    assert covered.state is not None and covered.state.override_reason == "the director said so"


@pytest.mark.parametrize("answer, status", [(ClientUnknown(), "unknown"), (Unavailable("down"), "unknown")])
async def test_a_ticket_is_never_lost_to_projections(answer: CoverageLookup, status: str):
    world = World(answer)
    result = await world.app.register(registration(uuid.uuid4()), CTX)
    assert result.state is not None and result.state.coverage.status == status


async def test_the_list_pages_newest_first():
    world = World()
    ids = [uuid.uuid4() for _ in range(3)]
    for day, ticket_id in zip((10, 12, 11), ids, strict=True):
        await world.app.register(registration(ticket_id, registered_at=datetime(2026, 5, day, 9, tzinfo=UTC)), CTX)
    first, next_page = await world.app.list(TicketFilter(client_id=CLIENT), page=1, page_size=2)
    assert [r["ticket_id"] for r in first] == [ids[1], ids[2]] and next_page == 2
    last, none = await world.app.list(TicketFilter(registered_to=date(2026, 5, 10)), page=1, page_size=2)
    assert [r["ticket_id"] for r in last] == [ids[0]] and none is None
