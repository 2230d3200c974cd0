"""Clients: search, registration, the card, and the actions on it (contracts, periods,
payments, termination)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from services.console.application.access import may
from services.console.application.card import client_card, contract_history
from services.console.application.ports import User
from services.console.entrypoints.http.forms import Field, show, submit, with_position
from services.console.entrypoints.http.web import Forbidden, apis, current_user, form, render

router = APIRouter(include_in_schema=False)
Person = Annotated[User, Depends(current_user)]
MinPosition = Annotated[int | None, Query(ge=0)]

CLIENT = [
    Field("name", "Name"),
    Field("manager_name", "Manager's name"),
    Field("manager_email", "Manager's e-mail", "email"),
]
CONTRACT = [Field("number", "Number"), Field("title", "Title"), Field("signed_on", "Signed on", "date")]
TERMS = ("prepaid", "postpaid")
PERIOD = [
    Field("starts_on", "Start", "date"),
    Field("ends_on", "End", "date"),
    Field("amount", "Cost"),
    Field("currency", "Currency", default="RUB"),
    Field("payment_terms", "Terms", "select", options=TERMS),
    Field("remind_on", "Remind on", "date", required=False),
]
SCHEDULE = [
    Field("starts_on", "Start", "date"),
    Field("ends_on", "End", "date"),
    Field("every", "Every", "select", options=("month", "quarter", "year"), default="quarter"),
    Field("amount", "Cost"),
    Field("currency", "Currency", default="RUB"),
    Field("payment_terms", "Terms", "select", options=TERMS),
    Field("remind_days_before", "Remind days before the end", "number", required=False),
]
PAYMENT = [
    Field("amount", "Amount", required=False, hint="empty: the rest still owed"),
    Field("paid_on", "Paid on", "date"),
    Field("reference", "Reference", required=False),
]
TERMINATION = [
    Field("terminated_on", "First day without service", "date"),
    Field("reason", "Reason"),
    Field("prorate", "Prorate the running period", "checkbox", required=False),
]


def _need(user: User, what: str) -> None:
    if not may(user, what):
        raise Forbidden(what)


@router.get("/clients")
async def search(request: Request, user: Person, q: str = "", page: Annotated[int, Query(ge=1)] = 1) -> Response:
    _need(user, "search_clients")
    params = {"page": str(page), "page_size": "25"}
    if q.strip():
        params["q"] = q.strip()[:200]
    found = await apis(request).projections.clients(user, params)
    return render(request, "clients.html", user, q=q, page=page, found=found)


@router.get("/clients/new")
async def new_client(request: Request, user: Person) -> Response:
    _need(user, "register_client")
    return show(request, user, "Register a client", CLIENT, back="/clients")


@router.post("/clients/new")
async def register_client(request: Request, user: Person) -> Response:
    _need(user, "register_client")
    return await submit(
        request,
        user,
        "Register a client",
        CLIENT,
        lambda body: apis(request).contracts.register_client(user, body),
        lambda answer: with_position(f"/clients/{answer['id']}", answer),
        back="/clients",
    )


@router.get("/clients/{client_id}")
async def card(request: Request, client_id: str, user: Person, min_position: MinPosition = None) -> Response:
    _need(user, "search_clients")
    today = request.app.state.calendar.today()
    found = await client_card(apis(request), user, client_id, today, min_position)
    return render(
        request, "card.html", user, status=404 if found.missing else 200, card=found, client_id=client_id, today=today
    )


def _card(client_id: str) -> str:
    return f"/clients/{client_id}"


@router.get("/clients/{client_id}/contracts/new")
async def new_contract(request: Request, client_id: str, user: Person) -> Response:
    _need(user, "open_contract")
    return show(request, user, "Open a contract", CONTRACT, back=_card(client_id))


@router.post("/clients/{client_id}/contracts/new")
async def open_contract(request: Request, client_id: str, user: Person) -> Response:
    _need(user, "open_contract")
    return await submit(
        request,
        user,
        "Open a contract",
        CONTRACT,
        lambda body: apis(request).contracts.open_contract(user, {**body, "client_id": client_id}),
        lambda answer: with_position(_card(client_id), answer),
        back=_card(client_id),
    )


ContractPath = "/clients/{client_id}/contracts/{contract_id}"


@router.get(ContractPath + "/history")
async def history(request: Request, client_id: str, contract_id: str, user: Person) -> Response:
    """Who did what, when: a page, or (``X-Console-Fragment: 1``) the table alone, which
    console.js puts into the card when the person opens a contract's history."""
    _need(user, "read_history")
    items = await contract_history(apis(request), user, contract_id)
    template = "_history.html" if request.headers.get("x-console-fragment") == "1" else "history.html"
    return render(request, template, user, history=items, client_id=client_id, contract_id=contract_id)


@router.get(ContractPath + "/periods/new")
async def new_period(request: Request, client_id: str, contract_id: str, user: Person) -> Response:
    _need(user, "add_periods")
    return show(request, user, "Add a period", PERIOD, back=_card(client_id))


@router.post(ContractPath + "/periods/new")
async def add_period(request: Request, client_id: str, contract_id: str, user: Person) -> Response:
    _need(user, "add_periods")
    return await submit(
        request,
        user,
        "Add a period",
        PERIOD,
        lambda body: apis(request).contracts.add_period(user, contract_id, body),
        lambda answer: with_position(_card(client_id), answer),
        back=_card(client_id),
    )


@router.get(ContractPath + "/periods/schedule")
async def new_schedule(request: Request, client_id: str, contract_id: str, user: Person) -> Response:
    _need(user, "add_periods")
    return show(request, user, "Schedule periods", SCHEDULE, back=_card(client_id))


@router.post(ContractPath + "/periods/schedule")
async def schedule(request: Request, client_id: str, contract_id: str, user: Person) -> Response:
    _need(user, "add_periods")
    return await submit(
        request,
        user,
        "Schedule periods",
        SCHEDULE,
        lambda body: apis(request).contracts.schedule_periods(user, contract_id, body),
        lambda answer: with_position(_card(client_id), answer),
        back=_card(client_id),
    )


@router.get(ContractPath + "/periods/{period_id}/pay")
async def new_payment(request: Request, client_id: str, contract_id: str, period_id: str, user: Person) -> Response:
    _need(user, "record_payment")
    return show(request, user, "Record a payment", PAYMENT, back=_card(client_id))


@router.post(ContractPath + "/periods/{period_id}/pay")
async def record_payment(request: Request, client_id: str, contract_id: str, period_id: str, user: Person) -> Response:
    _need(user, "record_payment")
    return await submit(
        request,
        user,
        "Record a payment",
        PAYMENT,
        lambda body: apis(request).contracts.record_payment(user, contract_id, period_id, body),
        lambda answer: with_position(_card(client_id), answer),
        back=_card(client_id),
    )


@router.post(ContractPath + "/periods/{period_id}/payments/{payment_id}/cancel")
async def cancel_payment(
    request: Request, client_id: str, contract_id: str, period_id: str, payment_id: str, user: Person
) -> Response:
    _need(user, "cancel_payment")
    reason = (await form(request)).get("reason", "").strip() or "cancelled by mistake"
    answer = await apis(request).contracts.cancel_payment(user, contract_id, period_id, payment_id, reason)
    return RedirectResponse(with_position(_card(client_id), answer), status_code=303)


@router.get(ContractPath + "/terminate")
async def new_termination(request: Request, client_id: str, contract_id: str, user: Person) -> Response:
    _need(user, "terminate")
    return show(request, user, "Terminate the contract", TERMINATION, back=_card(client_id))


@router.post(ContractPath + "/terminate")
async def terminate(request: Request, client_id: str, contract_id: str, user: Person) -> Response:
    _need(user, "terminate")
    return await submit(
        request,
        user,
        "Terminate the contract",
        TERMINATION,
        lambda body: apis(request).contracts.terminate(user, contract_id, body),
        lambda answer: with_position(_card(client_id), answer),
        back=_card(client_id),
    )
