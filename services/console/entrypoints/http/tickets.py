"""The dispatcher's ticket form (coverage shown as soon as a client is chosen), the ticket with
its cost specification from the price list, and the notifications log (retry for admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from services.console.application.access import may
from services.console.application.ports import Refused, User
from services.console.entrypoints.http.forms import Field
from services.console.entrypoints.http.web import Forbidden, apis, current_user, field_errors, form, render

router = APIRouter(include_in_schema=False)
Person = Annotated[User, Depends(current_user)]

TICKET = [
    Field("title", "Title"),
    Field("description", "Description", "textarea", required=False),
    Field("registered_at", "Registered at", "date", required=False),
]


def _need(user: User, what: str) -> None:
    if not may(user, what):
        raise Forbidden(what)


async def _coverage(request: Request, user: User, client_id: str, on: str) -> dict | None:
    if not client_id or not may(user, "read_coverage"):
        return None
    day = on or request.app.state.calendar.today().isoformat()
    try:
        return await apis(request).projections.coverage(user, client_id, {"on": day})
    except Refused as exc:
        return {"status": "unknown", "warnings": [{"code": e.rule, "message": e.message} for e in exc.errors]}


async def _form_page(
    request: Request,
    user: User,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    general: list[str] | None = None,
    status: int = 200,
    blocked: bool = False,
) -> Response:
    q, client_id = values.get("q", ""), values.get("client_id", "")
    params = {"page_size": "20", **({"q": q.strip()} if q.strip() else {})}
    found = await apis(request).projections.clients(user, params)
    coverage = await _coverage(request, user, client_id, values.get("registered_at", ""))
    return render(
        request,
        "ticket_new.html",
        user,
        status=status,
        fields=TICKET,
        values=values,
        errors=errors or {},
        general=general or [],
        clients=found.get("items", []),
        coverage=coverage,
        blocked=blocked,
    )


@router.get("/tickets/new")
async def new_ticket(request: Request, user: Person) -> Response:
    _need(user, "register_ticket")
    return await _form_page(request, user, dict(request.query_params))


@router.get("/tickets/coverage")
async def coverage_fragment(request: Request, user: Person, client_id: str = "", on: str = "") -> Response:
    """The coverage verdict alone, swapped into the form by console.js when a client is chosen."""
    _need(user, "register_ticket")
    return render(request, "_coverage.html", user, coverage=await _coverage(request, user, client_id, on))


@router.post("/tickets/new")
async def register_ticket(request: Request, user: Person) -> Response:
    _need(user, "register_ticket")
    values = await form(request)
    if values.get("check"):  # the form's no-script "check the client's coverage": registers nothing
        return await _form_page(request, user, values)
    body = {
        k: values[k].strip()
        for k in ("client_id", "title", "description", "registered_at", "override_reason")
        if values.get(k, "").strip()
    }
    body.setdefault("client_id", "")
    body.setdefault("title", "")
    try:
        answer = await apis(request).tickets.register(user, body)
    except Refused as exc:
        errors, general = field_errors(exc)
        blocked = exc.status == 409
        if blocked:
            errors["override_reason"] = exc.errors[0].message if exc.errors else ""
        return await _form_page(request, user, values, errors, general, status=exc.status, blocked=blocked)
    return RedirectResponse(f"/tickets/{answer['id']}", status_code=303)


async def _ticket_page(
    request: Request,
    user: User,
    ticket_id: str,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    general: list[str] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    """The ticket with its cost specification, and the form adding a line from the price list
    (its active items; after a refusal: the API's messages, what was chosen and typed kept)."""
    found = await apis(request).tickets.ticket(user, ticket_id)
    prices = (await apis(request).tickets.price_list(user)).get("items", []) if may(user, "read_price_list") else []
    return render(
        request,
        "ticket.html",
        user,
        status=status,
        ticket=found,
        prices=[p for p in prices if p.get("active", True)],
        errors=errors or {},
        general=general or [],
        values=values or {},
    )


@router.get("/tickets/{ticket_id}")
async def ticket(request: Request, ticket_id: str, user: Person) -> Response:
    _need(user, "read_tickets")
    return await _ticket_page(request, user, ticket_id)


@router.post("/tickets/{ticket_id}/items")
async def add_item(request: Request, ticket_id: str, user: Person) -> Response:
    _need(user, "add_ticket_item")
    values = await form(request)
    try:
        await apis(request).tickets.add_item(
            user, ticket_id, {"code": values.get("code", ""), "quantity": values.get("quantity", "").strip()}
        )
    except Refused as exc:
        errors, general = field_errors(exc)
        general += [message for name, message in errors.items() if name not in ("code", "quantity")]
        return await _ticket_page(
            request,
            user,
            ticket_id,
            status=422 if exc.status in (400, 422) else exc.status,
            errors=errors,
            general=general,
            values=values,
        )
    return RedirectResponse(f"/tickets/{ticket_id}", status_code=303)


@router.get("/notifications")
async def notifications(request: Request, user: Person, client_id: str = "", page: int = 1) -> Response:
    _need(user, "read_notifications")
    params = {"page": str(max(page, 1)), "page_size": "50", **({"client_id": client_id} if client_id else {})}
    answer = await apis(request).notifier.notifications(user, params)
    return render(request, "notifications.html", user, answer=answer, client_id=client_id, page=page)


@router.post("/notifications/{event_id}/retry")
async def retry(request: Request, event_id: str, user: Person) -> Response:
    _need(user, "retry_notification")
    await apis(request).notifier.retry(user, event_id)
    return RedirectResponse("/notifications", status_code=303)
