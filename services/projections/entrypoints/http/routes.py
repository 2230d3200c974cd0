"""The four queries, the clients search, and the downloads (``export``).

Routes validate, call the application, map the answer — no SQL here.

``response_model`` documents each answer (OpenAPI); the body itself is built by ``views``
as a plain dict and returned as a ready Response, so FastAPI does not validate it again.

Bad parameters answer 422 naming the parameter (``shared.http.errors``: problem details with
``errors: [{field, rule, message}]``); lists page with ``page``/``page_size``/``next_page``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response

from services.projections.application.ports import PeriodFilter
from services.projections.application.queries import Answer, DebtorKey, Page, Queries, UnknownClient
from services.projections.domain.debts import Debtor
from services.projections.domain.income import MAX_MONTHS, months_between, parse_month
from services.projections.entrypoints.http import export, schemas, views
from shared.auth import Role, allow
from shared.dates import MONTH_PATTERN, IsoDate
from shared.http.errors import ApiError
from shared.http.json_body import JsonBody
from shared.http.paging import MAX_POSITION, AfterCursor, PageNo, PageSize, decode_cursor
from shared.owed import PaymentTerms

router = APIRouter(tags=["read models"])

MinPosition = Annotated[
    int | None,
    Query(
        ge=0,
        le=MAX_POSITION,
        description=(
            "wait (bounded) until the client's events up to this position are applied; "
            "answers with stale=true if they are not"
        ),
    ),
]
MaxWaitMs = Annotated[
    int | None,
    Query(
        ge=0,
        le=60_000,
        description=(
            "with min_position: wait at most this long (the server's own bound still applies); "
            "0 answers at once, stale=true while the position is not reached - for callers that "
            "ask again rather than keep a connection open"
        ),
    ),
]
OnDate = Annotated[
    IsoDate | None,
    Query(
        description=(
            "YYYY-MM-DD: the answer as at this day (only payments with paid_on on or before it count); "
            "today in the company's time zone (ABONENT_TIMEZONE) if omitted"
        )
    ),
]


async def get_queries(request: Request) -> Queries:
    """``async`` on purpose: FastAPI runs a plain ``def`` dependency in its thread pool, a
    thread hand-off on every request."""
    return request.app.state.queries


Q = Annotated[Queries, Depends(get_queries)]


async def get_today(request: Request) -> date:
    """Today in the company's time zone (docs/design.md §8), the default of every ``on``."""
    return request.app.state.calendar.today()


Today = Annotated[date, Depends(get_today)]


Format = Annotated[export.Format | None, Query(description=export.FORMAT_DESCRIPTION)]


def _ordered(low: date | None, high: date | None, low_name: str, high_name: str) -> None:
    if low is not None and high is not None and low > high:
        raise ApiError(422, "from_after_to", f"{low_name} ({low}) is after {high_name} ({high})", field=low_name)


@router.get(
    "/clients/{client_id}/coverage",
    response_model=schemas.CoverageOut,
    dependencies=[allow(Role.DISPATCHER, Role.MANAGER, Role.INTEGRATION, Role.SERVICE)],
)
async def get_coverage(
    client_id: UUID,
    queries: Q,
    today: Today,
    on: OnDate = None,
    min_position: MinPosition = None,
    max_wait_ms: MaxWaitMs = None,
) -> JsonBody:
    day = on or today
    try:
        answer = await queries.coverage(
            client_id, day, min_position, None if max_wait_ms is None else max_wait_ms / 1000
        )
    except UnknownClient as exc:
        if exc.stale:
            raise ApiError(
                404,
                "client_not_yet_projected",
                f"no events of client {client_id} are "
                f"applied yet (min_position {min_position} not reached): retry later",
                field="client_id",
            ) from None
        raise ApiError(
            404, "unknown_client", f"no events of client {client_id} have been applied", field="client_id"
        ) from None
    return JsonBody(views.coverage(client_id, answer))


@router.get(
    "/clients",
    response_model=schemas.ClientsOut,
    dependencies=[allow(Role.DISPATCHER, Role.MANAGER, Role.ACCOUNTANT, Role.INTEGRATION)],
)
async def clients(
    queries: Q,
    q: Annotated[
        str | None,
        Query(max_length=200, description="part of the client's name (any case) or a contract number (exact)"),
    ] = None,
    page_size: PageSize = 50,
    page: PageNo = 1,
) -> JsonBody:
    """Clients by name, for a person looking one up (the console's search)."""
    text = q.strip() if q else None
    found = await queries.clients(text=text or None, page=page, page_size=page_size)
    return JsonBody(views.clients(found, page, page_size))


@router.get(
    "/clients/{client_id}",
    response_model=schemas.ClientAnswer,
    dependencies=[allow(Role.DISPATCHER, Role.MANAGER, Role.ACCOUNTANT, Role.INTEGRATION)],
)
async def client(client_id: UUID, queries: Q, min_position: MinPosition = None) -> JsonBody:
    """The client's name and responsible manager as the read model has them."""
    try:
        answer = await queries.client(client_id, min_position)
    except UnknownClient:
        raise ApiError(
            404, "unknown_client", f"no events of client {client_id} have been applied", field="client_id"
        ) from None
    return JsonBody(views.client(answer))


@router.get(
    "/contracts",
    response_model=schemas.ContractsOut,
    responses=export.CONTENT,
    dependencies=[allow(Role.MANAGER, Role.ACCOUNTANT, Role.INTEGRATION)],
)
async def list_contracts(
    request: Request,
    queries: Q,
    today: Today,
    client_id: UUID | None = None,
    status: Literal["active", "terminated"] | None = None,
    period_starts_from: IsoDate | None = None,
    period_starts_to: IsoDate | None = None,
    period_ends_from: IsoDate | None = None,
    period_ends_to: IsoDate | None = None,
    paid: Annotated[bool | None, Query(description="paid in full as at `on` (default today)")] = None,
    payment_terms: PaymentTerms | None = None,
    page_size: PageSize = 50,
    page: PageNo = 1,
    min_position: MinPosition = None,
    on: OnDate = None,
    format: Format = None,
) -> Response:
    _ordered(period_starts_from, period_starts_to, "period_starts_from", "period_starts_to")
    _ordered(period_ends_from, period_ends_to, "period_ends_from", "period_ends_to")
    filters = PeriodFilter(
        period_starts_from, period_starts_to, period_ends_from, period_ends_to, paid, payment_terms, on or today
    )
    fmt = export.wanted(request, format)
    if fmt != "json":

        def contracts_page(number: int, wait: int | None) -> Awaitable[Answer[Page[dict[str, Any]]]]:
            return queries.contracts(
                client_id=client_id,
                status=status,
                periods=filters,
                page=number,
                page_size=export.EXPORT_PAGE,
                min_position=wait,
            )

        pages = export.every_page(contracts_page, export.contract_rows, min_position)
        return export.download(fmt, "contracts", export.CONTRACT_COLUMNS, pages)
    answer = await queries.contracts(
        client_id=client_id, status=status, periods=filters, page=page, page_size=page_size, min_position=min_position
    )
    return JsonBody(views.contracts(answer, page, page_size))


@router.get(
    "/debtors",
    response_model=schemas.DebtorsOut,
    responses=export.CONTENT,
    dependencies=[allow(Role.MANAGER, Role.ACCOUNTANT, Role.INTEGRATION)],
)
async def list_debtors(
    request: Request,
    queries: Q,
    today: Today,
    on: OnDate = None,
    payment_terms: PaymentTerms | None = None,
    client_id: UUID | None = None,
    page_size: PageSize = 100,
    page: PageNo = 1,
    after: AfterCursor = None,
    min_position: MinPosition = None,
    format: Format = None,
) -> Response:
    day = on or today
    fmt = export.wanted(request, format)
    if fmt != "json":

        def debtors_page(key: DebtorKey | None, wait: int | None) -> Awaitable[Answer[Page[Debtor]]]:
            return queries.debtors(
                on=day,
                payment_terms=payment_terms,
                client_id=client_id,
                page=1,
                page_size=export.EXPORT_PAGE,
                min_position=wait,
                after=key,
            )

        pages = export.every_keyset_page(debtors_page, export.debtor_rows, min_position)
        return export.download(fmt, "debtors", export.DEBTOR_COLUMNS, pages)
    answer = await queries.debtors(
        on=day,
        payment_terms=payment_terms,
        client_id=client_id,
        page=page,
        page_size=page_size,
        min_position=min_position,
        after=_debtor_key(after, page),
    )
    return JsonBody(views.debtors(day, answer, page, page_size))


def _debtor_key(after: str | None, page: int) -> DebtorKey | None:
    """The (client name, client id) a debtors cursor names; 422 if it names none."""
    if after is None:
        return None
    if page != 1:
        raise ApiError(422, "after_with_page", "after (a cursor) starts its own page: leave page at 1", field="page")
    key = decode_cursor(after)
    if key is not None and len(key) == 2 and (key[0] is None or isinstance(key[0], str)) and isinstance(key[1], str):
        try:
            return key[0], UUID(key[1])
        except ValueError:
            pass
    raise ApiError(422, "bad_cursor", "after is not a next_after this list answered", field="after")


@router.get(
    "/income",
    response_model=schemas.IncomeOut,
    responses=export.CONTENT,
    dependencies=[allow(Role.MANAGER, Role.ACCOUNTANT, Role.INTEGRATION)],
)
async def get_income(
    request: Request,
    queries: Q,
    today: Today,
    from_: Annotated[str, Query(alias="from", pattern=MONTH_PATTERN, examples=["2026-01"])],
    to: Annotated[str, Query(pattern=MONTH_PATTERN, examples=["2026-12"])],
    client_id: UUID | None = None,
    min_position: MinPosition = None,
    on: OnDate = None,
    format: Format = None,
) -> Response:
    first, last = parse_month(from_), parse_month(to)
    if first > last:
        raise ApiError(422, "from_after_to", f"from ({from_}) is after to ({to})", field="from")
    if len(months_between(first, last)) > MAX_MONTHS:
        raise ApiError(422, "range_too_long", f"at most {MAX_MONTHS} months at once", field="to")
    answer = await queries.income(
        first=first, last=last, client_id=client_id, on=on or today, min_position=min_position
    )
    fmt = export.wanted(request, format)
    if fmt != "json":

        async def months() -> AsyncIterator[list[export.Row]]:
            yield export.income_rows(answer.result)

        return export.download(fmt, "income", export.INCOME_COLUMNS, months())
    return JsonBody(views.income(answer))
