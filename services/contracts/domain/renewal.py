"""Renewal (prolongation): continue a contract's last term, by hand or automatically.

``renew`` continues from the day after the last period ends up to ``through``, with the last
period's payment terms, reminder offset and length (or ``every``), each period costing the
last one's amount raised by ``indexation_percent`` and rounded to the currency's minor unit
(``shared.money.round_to_currency``). One ContractRenewed, then one ServicePeriodAdded per new
period. Refused for a contract terminated (or with a termination pending), without periods,
or when ``through`` is not after the last period.

Auto-renewal (``auto_renew`` on the contract, AutoRenewSet): ``notice_days`` before the last
period ends the scheduler renews for ``term_months`` more. It is a time event like the others
(``time_events``): armed for the current last period's end, emitted once; the renewal makes a
new last period, which arms the next one. Turned off before that day, nothing happens.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from dateutil.relativedelta import relativedelta

from services.contracts.domain.commands import Every, RenewContract, SetAutoRenew
from services.contracts.domain.periods import Period, check_amount, prorated
from services.contracts.domain.schedule_plan import STEP_MONTHS, plan_periods, stub_share
from shared.domain_errors import RuleViolated
from shared.events import contracts as ev
from shared.events.base import EventData
from shared.money import in_currency, round_to_currency

if TYPE_CHECKING:
    from services.contracts.domain.contract import ContractState

MAX_INDEXATION = Decimal(1000)


@dataclass(frozen=True)
class AutoRenew:
    enabled: bool
    notice_days: int
    indexation_percent: Decimal
    term_months: int = 12


def indexed(amount: Decimal, percent: Decimal, currency: str) -> Decimal:
    """``amount`` raised by ``percent`` %, rounded half-up to the currency's minor unit."""
    return round_to_currency(amount * (Decimal(100) + percent) / Decimal(100), currency)


def period_every(period: Period) -> Every | None:
    """The step a period is one of (a month, a quarter, a year from its start), or None."""
    for every, months in STEP_MONTHS.items():
        if period.starts_on + relativedelta(months=months) - timedelta(days=1) == period.ends_on:
            return every  # type: ignore[return-value]  # the keys of STEP_MONTHS are the Every literals
    return None


def last_period(state: ContractState) -> Period | None:
    return state.periods[-1] if state.periods else None


def renewal_period_id(contract_id: uuid.UUID, starts_on: date) -> uuid.UUID:
    """A renewal's period ids are made from the contract and the start: a retried decision
    names the same periods."""
    return uuid.uuid5(contract_id, f"renewal:{starts_on.isoformat()}")


def auto_through(state: ContractState) -> date | None:
    """Where an automatic renewal would end now (None: no auto-renewal armed)."""
    auto, last = state.auto_renew, last_period(state)
    if auto is None or not auto.enabled or last is None or state.terminated_on is not None:
        return None
    through: date = last.ends_on + relativedelta(months=auto.term_months)
    return through


def renews_on(state: ContractState) -> date | None:
    """The day the scheduler renews the contract (None: it does not)."""
    last = last_period(state)
    if auto_through(state) is None or last is None or state.auto_renew is None:
        return None
    return last.ends_on - timedelta(days=state.auto_renew.notice_days)


def set_auto_renew(command: SetAutoRenew, state: ContractState) -> list[EventData]:
    if not state.active or state.terminated_on is not None:
        raise RuleViolated("contract_terminated", f"contract {state.number} is terminated; it cannot renew")
    if not 0 <= command.notice_days <= 366:
        raise RuleViolated("invalid_notice_days", "notice_days must be 0..366", "notice_days")
    if not 1 <= command.term_months <= 120:
        raise RuleViolated("invalid_term_months", "term_months must be 1..120", "term_months")
    _check_percent(command.indexation_percent)
    new = AutoRenew(command.enabled, command.notice_days, command.indexation_percent, command.term_months)
    if new == state.auto_renew:
        return []
    return [
        ev.AutoRenewSet(
            contract_id=state.id,
            client_id=state.client_id,
            enabled=new.enabled,
            notice_days=new.notice_days,
            indexation_percent=new.indexation_percent,
            term_months=new.term_months,
        )
    ]


def _check_percent(percent: Decimal) -> None:
    if not percent.is_finite() or not -100 < percent <= MAX_INDEXATION:
        raise RuleViolated(
            "invalid_indexation",
            f"indexation_percent {percent} must be above -100 and at most 1000",
            "indexation_percent",
        )


def renew(command: RenewContract, state: ContractState, automatic: bool = False) -> list[EventData]:
    if not state.active or state.terminated_on is not None:
        when = state.terminated_on.isoformat() if state.terminated_on else "?"
        raise RuleViolated(
            "contract_terminated", f"contract {state.number} is terminated (on {when}); it cannot be renewed"
        )
    _check_percent(command.indexation_percent)
    last = last_period(state)
    if last is None:
        raise RuleViolated("no_periods", f"contract {state.number} has no period to continue", "contract_id")
    if command.through <= last.ends_on:
        raise RuleViolated(
            "through_not_after_last_period",
            f"through {command.through.isoformat()} is not after the last period, which ends on "
            f"{last.ends_on.isoformat()}",
            "through",
        )
    every = command.every or period_every(last)
    if every is None:
        raise RuleViolated(
            "every_required",
            f"the last period ({last.describe()}) is not a whole month, quarter or year: say every",
            "every",
        )
    starts_on = last.ends_on + timedelta(days=1)
    plan = plan_periods(starts_on, command.through, every)
    ids = (
        [renewal_period_id(state.id, start) for start, _ in plan]
        if command.period_ids is None
        else list(command.period_ids)
    )
    if len(ids) != len(plan):
        raise RuleViolated("period_ids_count", f"{len(plan)} period ids are needed, {len(ids)} given", "period_ids")
    amount = indexed(last.amount, command.indexation_percent, last.currency)
    check_amount(amount, last.currency)
    events: list[EventData] = [
        ev.ContractRenewed(
            contract_id=state.id,
            client_id=state.client_id,
            after_period_id=last.period_id,
            starts_on=starts_on,
            through=command.through,
            every=every,
            indexation_percent=command.indexation_percent,
            amount=amount,
            currency=last.currency,
            payment_terms=last.payment_terms,
            period_ids=ids,
            automatic=automatic,
        )
    ]
    days = last.remind_days_before
    for index, (period_id, (start, end)) in enumerate(zip(ids, plan, strict=True)):
        cost = prorated(amount, *stub_share(starts_on, every, index, end), last.currency)
        remind_on = None if days is None else end - timedelta(days=days)
        events.append(
            ev.ServicePeriodAdded(
                contract_id=state.id,
                client_id=state.client_id,
                period_id=period_id,
                starts_on=start,
                ends_on=end,
                amount=in_currency(cost, last.currency),
                currency=last.currency,
                payment_terms=last.payment_terms,
                remind_on=remind_on,
                remind_days_before=days,
            )
        )
    return events


def auto_renewal(state: ContractState) -> RenewContract | None:
    """The renewal the scheduler makes now (None: auto-renewal is off or not armed)."""
    through = auto_through(state)
    if through is None or state.auto_renew is None:
        return None
    return RenewContract(state.id, through, state.auto_renew.indexation_percent)


def renewal_notice(state: ContractState) -> ev.ContractRenewed | None:
    """What an automatic renewal would do, decided now (for the last period's reminder)."""
    command = auto_renewal(state)
    if command is None:
        return None
    try:
        events = renew(command, state, automatic=True)
    except RuleViolated:
        return None
    first = events[0]
    assert isinstance(first, ev.ContractRenewed)
    return first
