"""All contracts (the seed's filters and its two debtor readings), debtors as at a date, income
by month, and their downloads (CSV, XLSX) streamed from the projections API with the same filters."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse
from starlette.background import BackgroundTask

from services.console.application.access import may
from services.console.application.ports import Params, User
from services.console.entrypoints.http.chart import bars
from services.console.entrypoints.http.web import Forbidden, apis, current_user, render, texts

router = APIRouter(include_in_schema=False)
Person = Annotated[User, Depends(current_user)]

CONTRACT_FILTERS = (
    "client_id",
    "status",
    "period_starts_from",
    "period_starts_to",
    "period_ends_from",
    "period_ends_to",
    "paid",
    "payment_terms",
)


def _need(user: User, what: str) -> None:
    if not may(user, what):
        raise Forbidden(what)


def _given(request: Request, names: tuple[str, ...]) -> Params:
    return {n: request.query_params[n].strip() for n in names if request.query_params.get(n, "").strip()}


def readings(today: date) -> dict[str, Params]:
    """The seed's two one-click readings, as filters on one period."""
    return {
        "prepay": {"period_starts_to": today.isoformat(), "paid": "false", "payment_terms": "prepaid"},
        "postpay": {
            "period_ends_to": (today - timedelta(days=1)).isoformat(),
            "paid": "false",
            "payment_terms": "postpaid",
        },
    }


@router.get("/contracts")
async def contracts(request: Request, user: Person, reading: str = "", page: int = 1) -> Response:
    _need(user, "read_contracts")
    today = request.app.state.calendar.today()
    filters = readings(today).get(reading) or _given(request, CONTRACT_FILTERS)
    answer = await apis(request).projections.contracts(user, {**filters, "page": str(max(page, 1)), "page_size": "50"})
    return render(
        request,
        "contracts.html",
        user,
        filters=filters,
        reading=reading,
        answer=answer,
        page=page,
        readings=readings(today),
        query="&".join(f"{k}={v}" for k, v in filters.items()),
    )


@router.get("/debtors")
async def debtors(request: Request, user: Person, page: int = 1) -> Response:
    _need(user, "read_debtors")
    on = request.query_params.get("on") or request.app.state.calendar.today().isoformat()
    filters = {"on": on, **_given(request, ("payment_terms",))}
    answer = await apis(request).projections.debtors(user, {**filters, "page": str(max(page, 1)), "page_size": "100"})
    totals: dict[str, Decimal] = {}
    for item in answer.get("items", []):
        totals[item["currency"]] = totals.get(item["currency"], Decimal(0)) + Decimal(item["total_owed"])
    return render(
        request,
        "debtors.html",
        user,
        filters=filters,
        answer=answer,
        totals=totals,
        page=page,
        query="&".join(f"{k}={v}" for k, v in filters.items()),
    )


@router.get("/income")
async def income(request: Request, user: Person) -> Response:
    _need(user, "read_income")
    today = request.app.state.calendar.today()
    first = request.query_params.get("from") or f"{today.year}-01"
    last = request.query_params.get("to") or f"{today.year}-12"
    answer = await apis(request).projections.income(user, {"from": first, "to": last})
    t = texts(request)
    months = answer.get("months", [])
    currencies = sorted({m["currency"] for m in months if m.get("currency")})
    labels = {"due": t("Due"), "received": t("Received"), "outstanding": t("Outstanding")}
    charts = {c: bars(months, c, labels, t.money) for c in currencies}
    return render(
        request,
        "income.html",
        user,
        first=first,
        last=last,
        months=months,
        charts=charts,
        query=f"from={first}&to={last}",
    )


@router.get("/{what}/export")
async def export(request: Request, what: str, user: Person, format: str = "csv") -> Response:
    """A download of the list the page shows (every page of it), streamed through from projections."""
    needs = {"contracts": "read_contracts", "debtors": "read_debtors", "income": "read_income"}
    if what not in needs or format not in ("csv", "xlsx"):
        raise Forbidden(what)
    _need(user, needs[what])
    names = {"contracts": CONTRACT_FILTERS, "debtors": ("on", "payment_terms"), "income": ("from", "to")}[what]
    reading = request.query_params.get("reading", "")
    today = request.app.state.calendar.today()
    params = readings(today).get(reading) if what == "contracts" and reading else None
    params = {**(params or _given(request, names)), "format": format}
    download = await apis(request).projections.download(user, what, params)
    return StreamingResponse(
        download.chunks,
        media_type=download.media_type,
        headers={"Content-Disposition": f'attachment; filename="{download.filename}"'},
        background=BackgroundTask(download.close) if download.close else None,
    )
