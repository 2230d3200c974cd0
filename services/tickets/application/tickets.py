"""The tickets application: one coroutine per command or query, over the event store.

Registration asks projections for coverage first, then lets the domain decide (the policy
may refuse), then appends. Whatever projections do, the append does not depend on them: an
unavailable projections service means coverage ``unknown``, never a lost ticket. It depends on
the ports only (``application.ports``, ``shared.eventstore.ports.EventStore``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from services.tickets.application.ports import (
    ClientUnknown,
    CoverageSource,
    Known,
    PriceList,
    TicketFilter,
    TicketsList,
    Unavailable,
)
from services.tickets.domain import coverage as coverage_rules
from services.tickets.domain import ticket
from services.tickets.domain.commands import AddTicketItem, RegisterTicket, RemoveTicketItem, TicketCommand
from services.tickets.domain.ticket import TicketState
from shared.calendar import CompanyCalendar
from shared.domain_errors import NotFound
from shared.events import tickets as _ticket_events  # noqa: F401 - registers the payload models
from shared.events.tickets import CoverageSnapshot, NotCoveredPolicy
from shared.eventstore.aggregates import AggregateRepository, Executed
from shared.eventstore.ports import EventStore
from shared.eventstore.records import CommandContext
from shared.logging import get_logger

log = get_logger("tickets")


def ticket_stream(ticket_id: UUID) -> str:
    return f"ticket-{ticket_id}"


@dataclass(frozen=True)
class Registration:
    """What the dispatcher typed (ids made by the caller)."""

    ticket_id: UUID
    client_id: UUID
    title: str
    description: str | None = None
    registered_at: date | datetime | None = None
    override_reason: str | None = None
    min_position: int | None = None


@dataclass(frozen=True)
class TicketAtPosition:
    """A ticket as read, and the position of its last event (for read-your-writes)."""

    state: TicketState
    position: int


STATE_CACHE_SIZE = 256
"""Ticket states a process keeps by default. A ticket's state carries the coverage snapshot it
was registered with (4–11 KB with its owed periods), every registration puts one in, and a
ticket is seldom touched again after its first hours: the shared default of 4,096 held
16–45 MB of registrations nobody would read from it (bench/results/notes-20261202-memory.md)."""


class TicketsApplication:
    def __init__(
        self,
        store: EventStore,
        coverage: CoverageSource,
        price_list: PriceList,
        tickets_list: TicketsList,
        policy: NotCoveredPolicy = "warn",
        calendar: CompanyCalendar | None = None,
        *,
        state_cache_size: int = STATE_CACHE_SIZE,
    ) -> None:
        """``state_cache_size``: ``TICKETS_STATE_CACHE_SIZE`` (tickets whose last state is kept, so
        a change to one starts without reading its stream)."""
        self.calendar = calendar or CompanyCalendar()
        self.tickets_list = tickets_list
        self.coverage = coverage
        self.price_list = price_list
        self.policy: NotCoveredPolicy = policy
        self.tickets: AggregateRepository[TicketState] = AggregateRepository(
            store, ticket.evolve, cache_size=state_cache_size
        )

    async def check_coverage(
        self, client_id: UUID, on: date, min_position: int | None, now: datetime
    ) -> CoverageSnapshot:
        lookup = await self.coverage.coverage(client_id, on, min_position)
        match lookup:
            case Known(snapshot):
                return coverage_rules.noted(snapshot)
            case ClientUnknown():
                # not refused: the client may be too new to be projected (a ticket is never lost)
                return coverage_rules.client_not_found(client_id, on, now)
            case Unavailable(reason):
                return coverage_rules.unknown_coverage(on, reason, now)
        raise TypeError(f"not a coverage lookup: {lookup!r}")

    async def register(self, r: Registration, ctx: CommandContext) -> Executed[TicketState]:
        registered_at, registered_on = ticket.registration_moment(r.registered_at, ctx.now, self.calendar)
        snapshot = await self.check_coverage(r.client_id, registered_on, r.min_position, ctx.now)
        command = RegisterTicket(
            ticket_id=r.ticket_id,
            client_id=r.client_id,
            title=r.title,
            registered_at=registered_at,
            registered_on=registered_on,
            coverage=snapshot,
            policy=self.policy,
            description=r.description,
            override_reason=r.override_reason,
        )
        result = await self._execute(command, ctx)
        log.info(
            "ticket registered",
            ticket_id=str(r.ticket_id),
            client_id=str(r.client_id),
            coverage=snapshot.status,
            warnings=[w.code for w in snapshot.warnings],
            override=r.override_reason is not None,
            position=result.position,
        )
        return result

    async def add_item(
        self, ticket_id: UUID, line_id: UUID, code: str, quantity: Decimal, ctx: CommandContext
    ) -> Executed[TicketState]:
        item = await self.price_list.get(code)  # the price of this moment goes into the event
        return await self._execute(AddTicketItem(ticket_id, line_id, code, quantity, item), ctx)

    async def remove_item(self, ticket_id: UUID, line_id: UUID, ctx: CommandContext) -> Executed[TicketState]:
        return await self._execute(RemoveTicketItem(ticket_id, line_id), ctx)

    async def _execute(self, command: TicketCommand, ctx: CommandContext) -> Executed[TicketState]:
        def key(state: TicketState | None, _: Any) -> str:
            if state is not None:
                return str(state.client_id)
            assert isinstance(command, RegisterTicket)
            return str(command.client_id)

        # The ticket id of a registration is minted by this service: its stream is known to be
        # empty, no read needed. A clash is retried by the repository with jittered back-off.
        return await self.tickets.execute(
            ticket_stream(command.ticket_id),
            lambda s: ticket.decide(command, s),
            partition_key=key,
            ctx=ctx,
            writes=lambda _, after, __: self.tickets_list.write(after),
            creates=isinstance(command, RegisterTicket),
        )

    async def get(self, ticket_id: UUID) -> TicketAtPosition:
        loaded = await self.tickets.load(ticket_stream(ticket_id))
        if loaded.state is None:
            raise NotFound("ticket_not_found", f"ticket {ticket_id} does not exist", "ticket_id")
        return TicketAtPosition(loaded.state, loaded.events[-1].position)

    async def list(self, f: TicketFilter, *, page: int, page_size: int) -> tuple[list[dict[str, Any]], int | None]:
        rows = await self.tickets_list.page(f, limit=page_size + 1, offset=(page - 1) * page_size)
        return rows[:page_size], (page + 1 if len(rows) > page_size else None)
