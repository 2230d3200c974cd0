"""HTTP routes for tickets: validate, build the command, run it, answer."""

from __future__ import annotations

import uuid
from typing import Annotated, get_args
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from prometheus_client import Counter

from services.tickets.application.ports import TicketFilter
from services.tickets.application.tickets import Registration
from services.tickets.domain.errors import NotCovered
from services.tickets.entrypoints.http import schemas as s
from services.tickets.entrypoints.http import views
from services.tickets.entrypoints.http.deps import Tickets
from shared.auth import Role, allow
from shared.dates import IsoDate
from shared.events.tickets import CoverageStatus
from shared.http.commands import Context
from shared.http.errors import ApiError, problem_response
from shared.http.idempotency import IDEMPOTENT
from shared.http.json_body import JsonBody
from shared.http.paging import PageNo, PageSize

REGISTERED = Counter("tickets_registered_total", "Tickets registered, by coverage status", ["coverage"])
REGISTERED_BY_STATUS = {status: REGISTERED.labels(status) for status in get_args(CoverageStatus)}
"""The counters bound once: ``labels()`` validates and locks on every call."""
REFUSED = Counter("tickets_refused_not_covered_total", "Registrations refused by the block policy")

router = APIRouter(tags=["tickets"])


def refused(request: Request, exc: NotCovered) -> JSONResponse:
    """409 in the usual error shape, plus the coverage the refusal was based on (through its
    model: a refusal is rare, and the problem body is plain JSON)."""
    REFUSED.inc()
    errors = [{"field": exc.field, "rule": exc.rule, "message": exc.message}]
    shown = s.CoverageOut.model_validate(views.coverage(exc.coverage)).model_dump(mode="json")
    return problem_response(request, 409, errors, coverage=shown)


@router.post(
    "/tickets",
    status_code=201,
    response_model=s.TicketOut,
    responses={
        409: {"description": "policy `block`: the client is not covered and no override_reason was given"},
        404: {"description": "the projections service says the client does not exist"},
    },
    dependencies=[allow(Role.DISPATCHER), IDEMPOTENT],
)
async def register_ticket(
    body: s.RegisterTicketRequest, tickets: Tickets, ctx: Context, request: Request
) -> JsonBody | JSONResponse:
    """Register a ticket; the answer carries the client's coverage on the registration date."""
    registration = Registration(
        ticket_id=uuid.uuid4(),
        client_id=body.client_id,
        title=body.title,
        description=body.description,
        registered_at=body.registered_at,
        override_reason=body.override_reason,
        min_position=body.min_position,
    )
    try:
        result = await tickets.register(registration, ctx)
    except NotCovered as exc:  # the one refusal with its own answer: the coverage it saw
        return refused(request, exc)
    assert result.state is not None
    REGISTERED_BY_STATUS[result.state.coverage.status].inc()
    return JsonBody(views.ticket(result.state, result.position), status_code=201)


@router.get("/tickets/{ticket_id}", response_model=s.TicketOut, dependencies=[allow(Role.DISPATCHER, Role.MANAGER)])
async def get_ticket(ticket_id: UUID, tickets: Tickets) -> JsonBody:
    loaded = await tickets.get(ticket_id)
    return JsonBody(views.ticket(loaded.state, loaded.position))


@router.get("/tickets", response_model=s.TicketsPage, dependencies=[allow(Role.DISPATCHER, Role.MANAGER)])
async def list_tickets(
    tickets: Tickets,
    client_id: UUID | None = None,
    coverage_status: CoverageStatus | None = None,
    from_: Annotated[IsoDate | None, Query(alias="from", description="registered on or after")] = None,
    to: Annotated[IsoDate | None, Query(description="registered on or before")] = None,
    page_size: PageSize = 50,
    page: PageNo = 1,
) -> s.TicketsPage:
    """Tickets newest first (by registration date), filtered and paged."""
    if from_ is not None and to is not None and from_ > to:
        raise ApiError(422, "from_after_to", f"from ({from_}) is after to ({to})", field="from")
    rows, next_page = await tickets.list(
        TicketFilter(client_id, coverage_status, from_, to), page=page, page_size=page_size
    )
    return s.TicketsPage(items=[views.summary(r) for r in rows], page=page, page_size=page_size, next_page=next_page)


@router.post(
    "/tickets/{ticket_id}/items",
    status_code=201,
    response_model=s.ItemAdded,
    dependencies=[allow(Role.DISPATCHER), IDEMPOTENT],
)
async def add_item(ticket_id: UUID, body: s.AddItemRequest, tickets: Tickets, ctx: Context) -> JsonBody:
    """Add a line from the price list at its current price."""
    line_id = uuid.uuid4()
    result = await tickets.add_item(ticket_id, line_id, body.code, body.quantity, ctx)
    assert result.state is not None
    shown = {"line_id": line_id, "position": result.position, "ticket": views.ticket(result.state, result.position)}
    return JsonBody(shown, status_code=201)


@router.delete(
    "/tickets/{ticket_id}/items/{line_id}", response_model=s.ItemRemoved, dependencies=[allow(Role.DISPATCHER)]
)
async def remove_item(ticket_id: UUID, line_id: UUID, tickets: Tickets, ctx: Context) -> JsonBody:
    """Remove a line (removing it again changes nothing and answers position null)."""
    result = await tickets.remove_item(ticket_id, line_id, ctx)
    current = await tickets.get(ticket_id) if result.position is None else None
    assert result.state is not None
    shown = result.position if current is None else current.position
    return JsonBody({"position": result.position, "ticket": views.ticket(result.state, shown)})
