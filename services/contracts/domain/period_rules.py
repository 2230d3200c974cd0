"""Decisions on service periods: add, schedule, change, remove.

Every period obeys ``periods.check_period_values``; periods of one contract never overlap
and share one currency; a terminated contract takes no period changes, and while a
termination is pending no period may run on or after its date; a period with
(non-cancelled) payments keeps its dates, cost and terms — only its reminder may move.

A reminder made as "N days before the end" (``remind_days_before``) keeps that offset when
the end moves; a reminder date given explicitly replaces it. Re-pricing a period whose debt
was announced emits PeriodAdjusted; removing one emits DebtWrittenOff (``payments.v1``).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, TypeVar
from uuid import UUID

from services.contracts.domain.commands import (
    AddServicePeriod,
    ChangeServicePeriod,
    Keep,
    RemoveServicePeriod,
    SchedulePeriods,
)
from services.contracts.domain.periods import (
    Period,
    check_amount,
    check_no_overlap,
    check_period_values,
    check_same_currency,
    prorated,
)
from services.contracts.domain.schedule_plan import plan_periods, stub_share
from shared.domain_errors import Conflict, NotFound, RuleViolated
from shared.events.base import EventData
from shared.events.contracts import (
    DebtWrittenOff,
    PeriodAdjusted,
    ServicePeriodAdded,
    ServicePeriodChanged,
    ServicePeriodRemoved,
)
from shared.money import in_currency, money_text

if TYPE_CHECKING:
    from services.contracts.domain.contract import ContractState

T = TypeVar("T")


def pick(new: T | Keep, current: T) -> T:
    """The new value, or the current one when the command says KEEP."""
    return current if isinstance(new, Keep) else new


def require_active(state: ContractState) -> None:
    if not state.active:
        raise RuleViolated(
            "contract_terminated",
            f"contract {state.number} was terminated on "
            f"{state.terminated_on.isoformat() if state.terminated_on else '?'}; "
            "its periods can no longer change",
        )


def require_period(state: ContractState, period_id: UUID) -> Period:
    period = state.period(period_id)
    if period is None:
        raise NotFound("period_not_found", f"period {period_id} is not in contract {state.number}", "period_id")
    return period


def _check_fits(state: ContractState, period_id: UUID, starts_on: date, ends_on: date, currency: str) -> None:
    if state.terminated_on is not None and ends_on >= state.terminated_on:
        raise RuleViolated(
            "after_termination",
            f"the contract is terminated from {state.terminated_on.isoformat()}; a "
            f"period ending on {ends_on.isoformat()} would run after that "
            "(withdraw the termination first)",
            "ends_on",
        )
    check_no_overlap(period_id, starts_on, ends_on, state.periods)
    check_same_currency(period_id, currency, state.periods)


def add(command: AddServicePeriod, state: ContractState) -> list[EventData]:
    require_active(state)
    if state.period(command.period_id) is not None:
        raise Conflict("period_exists", f"period {command.period_id} already exists", "period_id")
    check_period_values(
        command.starts_on, command.ends_on, command.amount, command.currency, command.payment_terms, command.remind_on
    )
    _check_fits(state, command.period_id, command.starts_on, command.ends_on, command.currency)
    return [
        ServicePeriodAdded(
            contract_id=state.id,
            client_id=state.client_id,
            period_id=command.period_id,
            starts_on=command.starts_on,
            ends_on=command.ends_on,
            amount=in_currency(command.amount, command.currency),
            currency=command.currency,
            payment_terms=command.payment_terms,
            remind_on=command.remind_on,
        )
    ]


def schedule(command: SchedulePeriods, state: ContractState) -> list[EventData]:
    require_active(state)
    days = command.remind_days_before
    if days is not None and days < 0:
        raise RuleViolated(
            "negative_remind_days", f"remind_days_before must be 0 or more, not {days}", "remind_days_before"
        )
    plan = plan_periods(command.starts_on, command.ends_on, command.every)
    ids = list(command.period_ids)
    if len(ids) != len(plan):
        raise RuleViolated(
            "period_ids_count", f"{len(plan)} period ids are needed for this schedule, {len(ids)} given", "period_ids"
        )
    if len(set(ids)) != len(ids) or any(state.period(i) is not None for i in ids):
        raise Conflict("period_exists", "the period ids must be new and distinct", "period_ids")
    check_amount(command.amount, command.currency)
    if command.stub not in ("prorate", "full"):
        raise RuleViolated("invalid_stub", f"stub must be 'prorate' or 'full', not {command.stub!r}", "stub")
    events: list[EventData] = []
    for index, (period_id, (starts_on, ends_on)) in enumerate(zip(ids, plan, strict=True)):
        remind_on = None if days is None else ends_on - timedelta(days=days)
        amount = command.amount
        if command.stub == "prorate":
            amount = prorated(amount, *stub_share(command.starts_on, command.every, index, ends_on), command.currency)
        check_period_values(starts_on, ends_on, amount, command.currency, command.payment_terms, remind_on)
        _check_fits(state, period_id, starts_on, ends_on, command.currency)
        events.append(
            ServicePeriodAdded(
                contract_id=state.id,
                client_id=state.client_id,
                period_id=period_id,
                starts_on=starts_on,
                ends_on=ends_on,
                amount=in_currency(amount, command.currency),
                currency=command.currency,
                payment_terms=command.payment_terms,
                remind_on=remind_on,
                remind_days_before=days,
            )
        )
    return events


def change(command: ChangeServicePeriod, state: ContractState) -> list[EventData]:
    require_active(state)
    old = require_period(state, command.period_id)

    starts_on, ends_on = pick(command.starts_on, old.starts_on), pick(command.ends_on, old.ends_on)
    amount, currency = pick(command.amount, old.amount), pick(command.currency, old.currency)
    terms, remind_on = pick(command.payment_terms, old.payment_terms), pick(command.remind_on, old.remind_on)
    offset = old.remind_days_before
    if not isinstance(command.remind_on, Keep):
        offset = None  # a date given explicitly replaces "N days before the end"
    elif offset is not None:
        remind_on = ends_on - timedelta(days=offset)
    terms_same = (starts_on, ends_on, amount, currency, terms) == (
        old.starts_on,
        old.ends_on,
        old.amount,
        old.currency,
        old.payment_terms,
    )
    if terms_same and remind_on == old.remind_on:
        return []
    if not terms_same and old.active_payments:
        raise RuleViolated(
            "period_has_payments",
            f"{old.describe()} has payments of {money_text(old.paid_amount, old.currency)}; "
            "cancel them before changing its dates, cost or terms",
            "period_id",
        )
    check_period_values(starts_on, ends_on, amount, currency, terms, remind_on)
    _check_fits(state, old.period_id, starts_on, ends_on, currency)
    events: list[EventData] = [
        ServicePeriodChanged(
            contract_id=state.id,
            client_id=state.client_id,
            period_id=old.period_id,
            starts_on=starts_on,
            ends_on=ends_on,
            amount=in_currency(amount, currency),
            currency=currency,
            payment_terms=terms,
            remind_on=remind_on,
            remind_days_before=offset,
        )
    ]
    if old.overdue_flag and amount != old.amount:
        events.append(
            PeriodAdjusted(
                contract_id=state.id,
                client_id=state.client_id,
                period_id=old.period_id,
                old_amount=old.amount,
                new_amount=in_currency(amount, currency),
                paid_amount=old.paid_amount,
                credit=max(old.paid_amount - amount, 0),
                currency=currency,
                reason="repriced",
            )
        )
    return events


def remove(command: RemoveServicePeriod, state: ContractState) -> list[EventData]:
    require_active(state)
    period = require_period(state, command.period_id)
    if period.active_payments:
        raise RuleViolated(
            "period_has_payments",
            f"{period.describe()} has payments of "
            f"{money_text(period.paid_amount, period.currency)}; cancel them before "
            "removing it",
            "period_id",
        )
    events: list[EventData] = []
    if period.overdue_flag and not period.paid:
        events.append(
            DebtWrittenOff(
                contract_id=state.id,
                client_id=state.client_id,
                period_id=period.period_id,
                amount=period.owed,
                paid_amount=period.paid_amount,
                currency=period.currency,
            )
        )
    events.append(ServicePeriodRemoved(contract_id=state.id, client_id=state.client_id, period_id=period.period_id))
    return events
