"""Terminating a contract, and withdrawing a termination that has not taken effect.

``terminated_on`` is the first day without service (docs/design.md §8), everywhere:

- periods starting on or after it are **void** (``shared.owed.is_void``): no time events,
  no debt, in no list; if money was paid on one, all of it is a credit (PeriodAdjusted to 0);
- the period running on that day is **cut** to end the day before (ServicePeriodChanged);
  with ``prorate`` its cost becomes cost × served days ÷ period days, rounded to the
  currency's minor unit, and what was paid beyond that is a ``credit`` (PeriodAdjusted);
- a date not later than the company's today takes effect at once
  (ContractTerminationTookEffect in the same decision); a later date leaves the contract
  active (its periods before the date still editable) until the scheduler emits
  ContractTerminationTookEffect on that day, and it can be withdrawn until then, which
  restores the cut period and the void ones.

The cut is decided when the termination is entered, so every service sees the same
periods from then on; the state remembers the period as it was (``ContractState.cut_from``)
so a withdrawal can restore it exactly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from services.contracts.domain.commands import TerminateContract, WithdrawTermination
from services.contracts.domain.periods import Period, prorated
from shared.domain_errors import Conflict, RuleViolated
from shared.events import contracts as ev
from shared.events.base import EventData
from shared.owed import is_void

if TYPE_CHECKING:
    from services.contracts.domain.contract import ContractState


def running_on(periods: Iterable[Period], day: date) -> Period | None:
    """The period that starts before ``day`` and is still running on it."""
    return next((p for p in periods if p.starts_on < day <= p.ends_on), None)


def _adjusted(
    state: ContractState, period: Period, new_amount: Decimal, reason: ev.AdjustmentReason
) -> ev.PeriodAdjusted:
    return ev.PeriodAdjusted(
        contract_id=state.id,
        client_id=state.client_id,
        period_id=period.period_id,
        old_amount=period.amount,
        new_amount=new_amount,
        paid_amount=period.paid_amount,
        credit=max(period.paid_amount - new_amount, Decimal(0)),
        currency=period.currency,
        reason=reason,
    )


def _changed(state: ContractState, p: Period) -> ev.ServicePeriodChanged:
    return ev.ServicePeriodChanged(
        contract_id=state.id,
        client_id=state.client_id,
        period_id=p.period_id,
        starts_on=p.starts_on,
        ends_on=p.ends_on,
        amount=p.amount,
        currency=p.currency,
        payment_terms=p.payment_terms,
        remind_on=p.remind_on,
        remind_days_before=p.remind_days_before,
    )


def _announced(p: Period) -> bool:
    """Money was paid on it, or its debt was announced: downstream systems know of it."""
    return bool(p.active_payments) or p.overdue_flag


def terminate(command: TerminateContract, state: ContractState) -> list[EventData]:
    if state.terminated_on is not None:
        when = "was" if not state.active else "is to be"
        raise RuleViolated(
            "contract_terminated",
            f"contract {state.number} {when} terminated on "
            f"{state.terminated_on.isoformat()}" + ("" if not state.active else "; withdraw that termination first"),
            "terminated_on",
        )
    if command.terminated_on < state.signed_on:
        raise RuleViolated(
            "terminated_before_signed",
            f"termination date {command.terminated_on.isoformat()} is before the "
            f"contract was signed on {state.signed_on.isoformat()}",
            "terminated_on",
        )
    if not command.reason or not command.reason.strip():
        raise RuleViolated("required", "reason must not be empty", "reason")
    day = command.terminated_on
    events: list[EventData] = [
        ev.ContractTerminated(
            contract_id=state.id,
            client_id=state.client_id,
            terminated_on=day,
            reason=command.reason.strip(),
            prorate=command.prorate,
        )
    ]
    running = running_on(state.periods, day)
    if running is not None:
        new_end = day - timedelta(days=1)
        amount = running.amount
        remind_on: date | None
        if command.prorate:
            amount = prorated(
                running.amount,
                (day - running.starts_on).days,
                (running.ends_on - running.starts_on).days + 1,
                running.currency,
            )
        if running.remind_days_before is not None:
            remind_on = new_end - timedelta(days=running.remind_days_before)
        else:
            remind_on = min(running.remind_on, new_end) if running.remind_on else None
        events.append(_changed(state, replace(running, ends_on=new_end, amount=amount, remind_on=remind_on)))
        if amount != running.amount:
            events.append(_adjusted(state, running, amount, "terminated"))
    for p in state.periods:
        if is_void(p.starts_on, day) and _announced(p) and p.amount:
            events.append(_adjusted(state, p, Decimal(0), "terminated"))
    if day <= command.today:
        events.append(
            ev.ContractTerminationTookEffect(contract_id=state.id, client_id=state.client_id, terminated_on=day)
        )
    return events


def withdraw(command: WithdrawTermination, state: ContractState) -> list[EventData]:
    day = state.terminated_on
    if day is None:
        raise Conflict("not_terminated", f"contract {state.number} has no termination to withdraw", "contract_id")
    if not state.active or day <= command.today:
        raise Conflict(
            "termination_in_effect",
            f"the termination of contract {state.number} took effect on "
            f"{day.isoformat()}; it can no longer be withdrawn",
            "contract_id",
        )
    events: list[EventData] = [
        ev.ContractTerminationWithdrawn(
            contract_id=state.id,
            client_id=state.client_id,
            terminated_on=day,
            reason=command.reason.strip() if command.reason and command.reason.strip() else None,
        )
    ]
    before = state.cut_from
    now = state.period(before.period_id) if before is not None else None
    if before is not None and now is not None:
        events.append(
            _changed(
                state,
                replace(
                    now,
                    ends_on=before.ends_on,
                    amount=before.amount,
                    remind_on=before.remind_on,
                    remind_days_before=before.remind_days_before,
                ),
            )
        )
        if before.amount != now.amount:
            events.append(_adjusted(state, now, before.amount, "termination_withdrawn"))
    for p in state.periods:
        if is_void(p.starts_on, day) and _announced(p) and p.amount:
            # what the termination adjusted to 0 is owed again: the same facts, reversed
            events.append(
                ev.PeriodAdjusted(
                    contract_id=state.id,
                    client_id=state.client_id,
                    period_id=p.period_id,
                    old_amount=Decimal(0),
                    new_amount=p.amount,
                    paid_amount=p.paid_amount,
                    credit=p.overpaid,
                    currency=p.currency,
                    reason="termination_withdrawn",
                )
            )
    return events
