"""HTTP routes of the contracts service: validate, build a command, run it, answer.

Refusals are not caught here: ``shared.http.errors`` maps them once for every route.
"""

from __future__ import annotations

import uuid
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from services.contracts.application.commands import new_period_ids
from services.contracts.application.scheduler import refuse_future, tick
from services.contracts.domain import commands as cmd
from services.contracts.entrypoints.http import schemas as s
from services.contracts.entrypoints.http.deps import Calendar, Contracts, FutureTicksAllowed, LatestPaidOn
from services.contracts.entrypoints.http.views import (
    client_view,
    contract_view,
    event_view,
    receipt_view,
)
from shared.auth import Role, allow
from shared.http.commands import Context
from shared.http.idempotency import IDEMPOTENT
from shared.http.paging import MAX_PAGE_SIZE, PageNo, PageSize, slice_page

router = APIRouter()


def keep(value):
    return cmd.KEEP if value is None else value


@router.post(
    "/clients",
    status_code=201,
    response_model=s.Created,
    tags=["clients"],
    dependencies=[allow(Role.MANAGER), IDEMPOTENT],
)
async def register_client(body: s.RegisterClientRequest, app: Contracts, ctx: Context) -> s.Created:
    client_id = uuid.uuid4()
    result = await app.handle_client(
        cmd.RegisterClient(
            client_id,
            body.name,
            body.manager_name,
            str(body.manager_email),
            tax_id=body.tax_id or None,
            address=body.address,
            billing_email=str(body.billing_email) if body.billing_email else None,
        ),
        ctx,
    )
    return s.Created(id=client_id, position=result.position)


@router.patch("/clients/{client_id}", response_model=s.Written, tags=["clients"], dependencies=[allow(Role.MANAGER)])
async def update_client(client_id: UUID, body: s.UpdateClientRequest, app: Contracts, ctx: Context) -> s.Written:
    result = await app.handle_client(
        cmd.UpdateClient(
            client_id,
            body.name,
            body.manager_name,
            str(body.manager_email) if body.manager_email else None,
            tax_id=body.tax_id,
            address=body.address,
            billing_email=None if body.billing_email is None else str(body.billing_email),
        ),
        ctx,
    )
    return s.Written(position=result.position)


@router.get("/clients/{client_id}", response_model=s.ClientView, tags=["clients"], dependencies=[allow(Role.MANAGER)])
async def get_client(client_id: UUID, app: Contracts) -> s.ClientView:
    return client_view(await app.get_client(client_id))


@router.post(
    "/contracts",
    status_code=201,
    response_model=s.Created,
    tags=["contracts"],
    dependencies=[allow(Role.MANAGER), IDEMPOTENT],
)
async def open_contract(body: s.OpenContractRequest, app: Contracts, ctx: Context) -> s.Created:
    contract_id = uuid.uuid4()
    result = await app.handle_contract(
        cmd.OpenContract(contract_id, body.client_id, body.number, body.title, body.signed_on), ctx
    )
    return s.Created(id=contract_id, position=result.position)


@router.get(
    "/contracts/{contract_id}",
    response_model=s.ContractView,
    tags=["contracts"],
    dependencies=[allow(Role.MANAGER, Role.ACCOUNTANT, Role.INTEGRATION)],
)
async def get_contract(contract_id: UUID, app: Contracts) -> s.ContractView:
    state, _ = await app.get_contract(contract_id)
    return contract_view(state)


@router.get(
    "/contracts/{contract_id}/events",
    response_model=s.EventsPage,
    tags=["contracts"],
    dependencies=[allow(Role.MANAGER)],
)
async def list_contract_events(
    contract_id: UUID, app: Contracts, page: PageNo = 1, page_size: PageSize = MAX_PAGE_SIZE
) -> s.EventsPage:
    """The contract's events, oldest first (page_size defaults to the most, so a usual contract is one page)."""
    _, events = await app.get_contract(contract_id)
    shown, next_page = slice_page(events, page, page_size)
    return s.EventsPage(items=[event_view(e) for e in shown], page=page, page_size=page_size, next_page=next_page)


@router.post(
    "/contracts/{contract_id}/terminate",
    response_model=s.Written,
    tags=["contracts"],
    dependencies=[allow(Role.MANAGER)],
)
async def terminate_contract(
    contract_id: UUID, body: s.TerminateContractRequest, app: Contracts, ctx: Context, calendar: Calendar
) -> s.Written:
    result = await app.handle_contract(
        cmd.TerminateContract(
            contract_id, body.terminated_on, body.reason, today=calendar.today(ctx.now), prorate=body.prorate
        ),
        ctx,
    )
    return s.Written(position=result.position)


@router.delete(
    "/contracts/{contract_id}/termination",
    response_model=s.Written,
    tags=["contracts"],
    dependencies=[allow(Role.MANAGER)],
)
async def withdraw_termination(
    contract_id: UUID,
    app: Contracts,
    ctx: Context,
    calendar: Calendar,
    reason: Annotated[s.Text | None, Query()] = None,
) -> s.Written:
    """Withdraw a termination dated after today (409 ``termination_in_effect`` from that day on)."""
    result = await app.handle_contract(
        cmd.WithdrawTermination(contract_id, today=calendar.today(ctx.now), reason=reason), ctx
    )
    return s.Written(position=result.position)


@router.post(
    "/contracts/{contract_id}/renew",
    status_code=201,
    response_model=s.PeriodsScheduled,
    tags=["contracts"],
    dependencies=[allow(Role.MANAGER), IDEMPOTENT],
)
async def renew(contract_id: UUID, body: s.RenewRequest, app: Contracts, ctx: Context) -> s.PeriodsScheduled:
    """Continue the last term up to ``through``: one ContractRenewed and the new periods, each
    costing the last period's amount raised by ``indexation_percent`` (rounded to the minor unit)."""
    result = await app.handle_contract(
        cmd.RenewContract(contract_id, body.through, body.indexation_percent, body.every), ctx
    )
    renewed = [e for e in result.recorded if e.event_type == "ContractRenewed"]
    ids = [UUID(i) for i in renewed[0].data["period_ids"]] if renewed else []
    return s.PeriodsScheduled(period_ids=ids, position=result.position)


@router.put(
    "/contracts/{contract_id}/auto_renew",
    response_model=s.Written,
    tags=["contracts"],
    dependencies=[allow(Role.MANAGER)],
)
async def set_auto_renew(contract_id: UUID, body: s.AutoRenewRequest, app: Contracts, ctx: Context) -> s.Written:
    """Automatic renewal: ``notice_days`` before the last period ends the scheduler renews the
    contract for ``term_months`` more (``enabled: false`` before that day stops it)."""
    result = await app.handle_contract(
        cmd.SetAutoRenew(contract_id, body.enabled, body.notice_days, body.indexation_percent, body.term_months), ctx
    )
    return s.Written(position=result.position)


@router.post(
    "/contracts/{contract_id}/periods",
    status_code=201,
    response_model=s.PeriodCreated,
    tags=["periods"],
    dependencies=[allow(Role.MANAGER), IDEMPOTENT],
)
async def add_period(contract_id: UUID, body: s.AddPeriodRequest, app: Contracts, ctx: Context) -> s.PeriodCreated:
    period_id = uuid.uuid4()
    result = await app.handle_contract(
        cmd.AddServicePeriod(
            contract_id,
            period_id,
            body.starts_on,
            body.ends_on,
            body.amount,
            body.currency,
            body.payment_terms,
            body.remind_on,
        ),
        ctx,
    )
    return s.PeriodCreated(period_id=period_id, position=result.position)


@router.post(
    "/contracts/{contract_id}/periods/schedule",
    status_code=201,
    response_model=s.PeriodsScheduled,
    tags=["periods"],
    dependencies=[allow(Role.MANAGER), IDEMPOTENT],
)
async def schedule_periods(
    contract_id: UUID, body: s.SchedulePeriodsRequest, app: Contracts, ctx: Context
) -> s.PeriodsScheduled:
    ids = new_period_ids(body.starts_on, body.ends_on, body.every)
    written = await app.schedule_periods(
        cmd.SchedulePeriods(
            contract_id,
            ids,
            body.starts_on,
            body.ends_on,
            body.every,
            body.amount,
            body.currency,
            body.payment_terms,
            body.remind_days_before,
            body.stub,
        ),
        ctx,
    )
    return s.PeriodsScheduled(period_ids=list(written.ids), position=written.position)


@router.patch(
    "/contracts/{contract_id}/periods/{period_id}",
    response_model=s.Written,
    tags=["periods"],
    dependencies=[allow(Role.MANAGER)],
)
async def change_period(
    contract_id: UUID, period_id: UUID, body: s.ChangePeriodRequest, app: Contracts, ctx: Context
) -> s.Written:
    given = body.model_fields_set
    result = await app.handle_contract(
        cmd.ChangeServicePeriod(
            contract_id,
            period_id,
            starts_on=keep(body.starts_on),
            ends_on=keep(body.ends_on),
            amount=keep(body.amount),
            currency=keep(body.currency),
            payment_terms=keep(body.payment_terms),
            remind_on=body.remind_on if "remind_on" in given else cmd.KEEP,
        ),
        ctx,
    )
    return s.Written(position=result.position)


@router.delete(
    "/contracts/{contract_id}/periods/{period_id}",
    response_model=s.Written,
    tags=["periods"],
    dependencies=[allow(Role.MANAGER)],
)
async def remove_period(contract_id: UUID, period_id: UUID, app: Contracts, ctx: Context) -> s.Written:
    result = await app.handle_contract(cmd.RemoveServicePeriod(contract_id, period_id), ctx)
    return s.Written(position=result.position)


@router.post(
    "/contracts/{contract_id}/periods/{period_id}/payments",
    status_code=201,
    response_model=s.PaymentCreated,
    tags=["payments"],
    dependencies=[allow(Role.ACCOUNTANT, Role.INTEGRATION), IDEMPOTENT],
    responses={
        200: {"description": "a retry: the payment recorded earlier under this reference"},
        409: {"description": "reference_used: the reference names another payment"},
    },
)
async def record_payment(
    contract_id: UUID,
    period_id: UUID,
    body: s.RecordPaymentRequest,
    app: Contracts,
    ctx: Context,
    latest_paid_on: LatestPaidOn,
    response: Response,
) -> s.PaymentCreated:
    written = await app.record_payment(
        cmd.RecordPayment(
            contract_id, period_id, uuid.uuid4(), body.paid_on, body.amount, body.reference, latest_paid_on
        ),
        ctx,
    )
    assert written.id is not None
    if written.retried:
        response.status_code = 200
    return s.PaymentCreated(payment_id=written.id, position=written.position)


@router.post(
    "/contracts/{contract_id}/payments",
    status_code=201,
    response_model=s.ReceiptCreated,
    tags=["payments"],
    dependencies=[allow(Role.ACCOUNTANT, Role.INTEGRATION), IDEMPOTENT],
    responses={
        200: {"description": "a retry: the receipt recorded earlier under this reference"},
        409: {"description": "reference_used: the reference names another payment"},
    },
)
async def record_receipt(
    contract_id: UUID,
    body: s.RecordReceiptRequest,
    app: Contracts,
    ctx: Context,
    latest_paid_on: LatestPaidOn,
    response: Response,
) -> s.ReceiptCreated:
    """One bank payment over several periods: one payment per period, sharing the reference
    and a receipt id. Without allocations it pays the oldest owed periods first."""
    allocations = (
        None if body.allocations is None else [cmd.Allocation(a.period_id, a.amount) for a in body.allocations]
    )
    written = await app.record_receipt(
        cmd.RecordReceipt(
            contract_id, uuid.uuid4(), body.amount, body.paid_on, body.reference, allocations, latest_paid_on
        ),
        ctx,
    )
    if written.retried:
        response.status_code = 200
    return receipt_view(written)


@router.delete(
    "/contracts/{contract_id}/periods/{period_id}/payments/{payment_id}",
    response_model=s.Written,
    tags=["payments"],
    dependencies=[allow(Role.ACCOUNTANT)],
)
async def cancel_payment(
    contract_id: UUID,
    period_id: UUID,
    payment_id: UUID,
    app: Contracts,
    ctx: Context,
    reason: Annotated[s.Text, Query()] = "cancelled by mistake",
) -> s.Written:
    result = await app.handle_contract(cmd.CancelPayment(contract_id, period_id, payment_id, reason), ctx)
    return s.Written(position=result.position)


@router.post("/scheduler/tick", response_model=s.TickResult, tags=["scheduler"], dependencies=[allow(Role.ADMIN)])
async def scheduler_tick(
    body: s.TickRequest, app: Contracts, ctx: Context, calendar: Calendar, future_allowed: FutureTicksAllowed
) -> s.TickResult:
    """Emit every time event due up to ``as_of`` (admin; not after today unless the
    installation allows future ticks)."""
    refuse_future(body.as_of, calendar.today(), future_allowed)
    result = await tick(app, body.as_of, ctx, calendar=calendar)
    return s.TickResult(
        as_of=result.as_of,
        emitted=result.emitted,
        contracts=result.contracts,
        position=result.position,
        failed=result.failed,
    )
