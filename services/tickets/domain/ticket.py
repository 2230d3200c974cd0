"""The ticket aggregate: a support request with the coverage it was registered under and
its cost specification (lines from the price list).

``evolve`` folds events into state; ``decide`` turns a command into events or refuses it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from uuid import UUID

from services.tickets.domain.commands import AddTicketItem, RegisterTicket, RemoveTicketItem, TicketCommand
from services.tickets.domain.coverage import refusal
from services.tickets.domain.errors import NotCovered
from shared.calendar import CompanyCalendar
from shared.domain_errors import Conflict, NotFound, RuleViolated
from shared.events.base import EventData
from shared.events.tickets import (
    CoverageSnapshot,
    NotCoveredPolicy,
    TicketItemAdded,
    TicketItemRemoved,
    TicketRegistered,
)
from shared.money import MAX_INTEGER_DIGITS, in_currency, quantum

MAX_LINES = 500


@dataclass(frozen=True)
class Line:
    line_id: UUID
    code: str
    name: str
    unit: str
    quantity: Decimal
    unit_price: Decimal
    currency: str
    line_total: Decimal


@dataclass(frozen=True)
class TicketState:
    id: UUID
    client_id: UUID
    title: str
    description: str | None
    registered_at: datetime
    registered_on: date
    coverage: CoverageSnapshot
    policy: NotCoveredPolicy
    override_reason: str | None
    lines: tuple[Line, ...] = ()
    removed: frozenset[UUID] = frozenset()
    version: int = 1

    @property
    def totals(self) -> dict[str, Decimal]:
        """Ticket total per currency, currencies in alphabetical order."""
        sums: dict[str, Decimal] = {}
        for line in self.lines:
            sums[line.currency] = sums.get(line.currency, Decimal("0.00")) + line.line_total
        return dict(sorted(sums.items()))

    @property
    def billable(self) -> bool:
        """Something to invoice: priced work on it, or service given without coverage."""
        return bool(self.lines) or self.coverage.status == "not_covered"

    def line(self, line_id: UUID) -> Line | None:
        return next((x for x in self.lines if x.line_id == line_id), None)


def registration_moment(
    value: date | datetime | None, now: datetime, calendar: CompanyCalendar | None = None
) -> tuple[datetime, date]:
    """(registered_at, registered_on) from what the dispatcher gave; ``registered_on`` is the
    date in the company's time zone (docs/design.md §8), the day coverage is checked on.

    Nothing → now (UTC), on today's company date. A date → that date, at 00:00 in the company's
    zone. A datetime → as given (a naive one is taken as UTC), on its company-zone date: 00:30
    in Moscow on 1 January is 1 January for a company in Moscow, 31 December for one in UTC.
    """
    calendar = calendar or CompanyCalendar()
    if value is None:
        now = now.astimezone(UTC)
        return now, calendar.date_of(now)
    if isinstance(value, datetime):
        at = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return at, calendar.date_of(at)
    return datetime.combine(value, time(0), calendar.tz), value


def line_total(unit_price: Decimal, quantity: Decimal, currency: str) -> Decimal:
    """price × quantity, rounded half-up to the currency's minor unit (0, 2 or 3 decimals)."""
    return (unit_price * quantity).quantize(quantum(currency), rounding=ROUND_HALF_UP)


def evolve(state: TicketState | None, event: EventData) -> TicketState:
    match event:
        case TicketRegistered() if state is None:
            return TicketState(
                id=event.ticket_id,
                client_id=event.client_id,
                title=event.title,
                description=event.description,
                registered_at=event.registered_at,
                registered_on=event.registered_on,
                coverage=event.coverage,
                policy=event.not_covered_policy,
                override_reason=event.override_reason,
            )
        case TicketItemAdded() if state is not None:
            line = Line(
                event.line_id,
                event.code,
                event.name,
                event.unit,
                event.quantity,
                event.unit_price,
                event.currency,
                event.line_total,
            )
            return replace(state, lines=(*state.lines, line), version=state.version + 1)
        case TicketItemRemoved() if state is not None:
            return replace(
                state,
                lines=tuple(x for x in state.lines if x.line_id != event.line_id),
                removed=state.removed | {event.line_id},
                version=state.version + 1,
            )
    raise ValueError(f"ticket: cannot apply {type(event).__name__} to {state!r}")


def _text(value: str | None, field: str, limit: int, *, required: bool = False) -> str | None:
    value = (value or "").strip()
    if not value:
        if required:
            raise RuleViolated("required", f"{field} must not be empty", field)
        return None
    if len(value) > limit:
        raise RuleViolated("too_long", f"{field} is longer than {limit} characters", field)
    return value


def _existing(state: TicketState | None, ticket_id: UUID) -> TicketState:
    if state is None:
        raise NotFound("ticket_not_found", f"ticket {ticket_id} does not exist", "ticket_id")
    return state


def _register(c: RegisterTicket, state: TicketState | None) -> list[EventData]:
    if state is not None:
        raise Conflict("ticket_exists", f"ticket {c.ticket_id} is already registered", "ticket_id")
    title = _text(c.title, "title", 300, required=True)
    description = _text(c.description, "description", 5000)
    override_reason = _text(c.override_reason, "override_reason", 1000)
    refused = refusal(c.coverage, c.policy, override_reason, c.client_id)
    if refused is not None:
        raise NotCovered(c.coverage, refused)
    return [
        TicketRegistered(
            ticket_id=c.ticket_id,
            client_id=c.client_id,
            title=title,
            description=description,
            registered_at=c.registered_at,
            registered_on=c.registered_on,
            coverage=c.coverage,
            not_covered_policy=c.policy,
            override_reason=override_reason,
        )
    ]


def _add(c: AddTicketItem, state: TicketState | None) -> list[EventData]:
    ticket = _existing(state, c.ticket_id)
    item = c.item
    if item is None:
        raise NotFound("price_item_not_found", f"the price list has no item with code {c.code!r}", "code")
    if not item.active:
        raise RuleViolated(
            "price_item_inactive", f"price-list item {item.code!r} is inactive and cannot be added", "code"
        )
    if c.quantity <= 0:
        raise RuleViolated("quantity_not_positive", f"quantity must be positive, got {c.quantity}", "quantity")
    if ticket.line(c.line_id) is not None or c.line_id in ticket.removed:
        raise Conflict("line_exists", f"line {c.line_id} is already on ticket {ticket.id}", "line_id")
    if len(ticket.lines) >= MAX_LINES:
        raise RuleViolated("too_many_lines", f"a ticket holds at most {MAX_LINES} lines", "code")
    total = line_total(item.price, c.quantity, item.currency)
    if total.adjusted() >= MAX_INTEGER_DIGITS:
        raise RuleViolated("line_total_too_large", f"{item.price} × {c.quantity} is too large", "quantity")
    return [
        TicketItemAdded(
            ticket_id=ticket.id,
            client_id=ticket.client_id,
            line_id=c.line_id,
            code=item.code,
            name=item.name,
            unit=item.unit,
            quantity=c.quantity,
            unit_price=in_currency(item.price, item.currency),
            currency=item.currency,
            line_total=total,
        )
    ]


def _remove(c: RemoveTicketItem, state: TicketState | None) -> list[EventData]:
    ticket = _existing(state, c.ticket_id)
    if c.line_id in ticket.removed:
        return []  # removed already: a repeated DELETE changes nothing
    line = ticket.line(c.line_id)
    if line is None:
        raise NotFound("line_not_found", f"ticket {ticket.id} has no line {c.line_id}", "line_id")
    return [TicketItemRemoved(ticket_id=ticket.id, client_id=ticket.client_id, line_id=line.line_id, code=line.code)]


def decide(command: TicketCommand, state: TicketState | None) -> list[EventData]:
    match command:
        case RegisterTicket():
            return _register(command, state)
        case AddTicketItem():
            return _add(command, state)
        case RemoveTicketItem():
            return _remove(command, state)
    raise TypeError(f"not a ticket command: {command!r}")
