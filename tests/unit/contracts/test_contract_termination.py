"""Termination (issue 12 cases 2 and 3): the first day without service, void periods, the cut
of the running period (prorated on request, with a credit), future dates and withdrawal."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from services.contracts.domain.commands import (
    AddServicePeriod,
    ChangeServicePeriod,
    EmitDueTimeEvents,
    RemoveServicePeriod,
    TerminateContract,
    WithdrawTermination,
)
from services.contracts.domain.time_events import pending_time_events
from shared.domain_errors import Conflict, RuleViolated
from shared.events import contracts as ev
from shared.events import schedule as sch
from tests.unit.contracts.contracts_helpers import (
    CLIENT_ID,
    CONTRACT_ID,
    added,
    client,
    d,
    given,
    opened,
    paid,
    then_state,
    when,
)

Q1, Q2, Q3, Q4 = uuid4(), uuid4(), uuid4(), uuid4()
YEAR = (
    opened(),
    added(Q1, "2026-01-01", "2026-03-31"),
    added(Q2, "2026-04-01", "2026-06-30"),
    added(Q3, "2026-07-01", "2026-09-30"),
    added(Q4, "2026-10-01", "2026-12-31"),
)
Q1_PAID = paid(Q1, uuid4(), "30000.00", "30000.00", True, paid_on="2026-01-10")


def terminate(on: str, today: str, prorate: bool = False) -> TerminateContract:
    return TerminateContract(CONTRACT_ID, d(on), "client moved", today=d(today), prorate=prorate)


def tick(as_of: str) -> EmitDueTimeEvents:
    return EmitDueTimeEvents(
        CONTRACT_ID, d(as_of), client(), now=datetime.fromisoformat(as_of + "T09:00:00").replace(tzinfo=UTC)
    )


def periods_named(events) -> set:
    return {_period_id(e) for e in events if isinstance(e, sch.SCHEDULE_EVENTS)}


def _period_id(event: Any) -> UUID:
    """A schedule event names its period directly or through its period snapshot."""
    return getattr(event, "period_id", None) or event.period.period_id


def test_case_2_terminated_on_april_1_voids_q2_to_q4_and_the_scheduler_emits_nothing_for_them():
    _, state = then_state(given(*YEAR, Q1_PAID), tick("2026-03-31"))
    events, state = then_state(state, terminate("2026-04-01", today="2026-04-01"))
    assert [type(e) for e in events] == [ev.ContractTerminated, ev.ContractTerminationTookEffect]
    assert (state.status, state.terminated_on) == ("terminated", d("2026-04-01"))
    assert [p.period_id for p in state.periods if state.is_void(p)] == [Q2, Q3, Q4]
    later = when(state, tick("2026-12-31"))
    assert periods_named(later) == {Q1}  # only Q1's own end on 1 April
    assert not any(isinstance(e, sch.ServicePeriodBecameOverdue | sch.ServicePeriodStarted) for e in later)
    assert {t.period_id for t in pending_time_events(state)} == {Q1}


def test_the_period_running_on_the_termination_day_ends_the_day_before():
    events, state = then_state(given(*YEAR), terminate("2026-05-16", today="2026-05-16"))
    change = next(e for e in events if isinstance(e, ev.ServicePeriodChanged))
    assert (change.period_id, change.ends_on, change.amount) == (Q2, d("2026-05-15"), Decimal("30000"))
    assert not any(isinstance(e, ev.PeriodAdjusted) for e in events)  # not prorated, nothing paid
    assert state.period(Q2).ends_on == d("2026-05-15")


def test_prorate_cuts_the_cost_by_served_days_and_what_was_paid_beyond_is_a_credit():
    q2_paid = paid(Q2, uuid4(), "30000.00", "30000.00", True, paid_on="2026-04-01")
    events, state = then_state(
        given(*YEAR, Q1_PAID, q2_paid), terminate("2026-05-16", today="2026-05-16", prorate=True)
    )
    # 1 April – 15 May is 45 of Q2's 91 days: 30000 × 45 / 91 = 14835.164… → 14835.16
    adjusted = next(e for e in events if isinstance(e, ev.PeriodAdjusted))
    assert adjusted == ev.PeriodAdjusted(
        contract_id=CONTRACT_ID,
        client_id=CLIENT_ID,
        period_id=Q2,
        old_amount="30000",
        new_amount="14835.16",
        paid_amount="30000",
        credit="15164.84",
        currency="RUB",
        reason="terminated",
    )
    assert state.period(Q2).amount == Decimal("14835.16")
    assert state.credit == Decimal("15164.84")


def test_money_paid_on_a_void_period_is_all_credit_and_announced():
    q3_paid = paid(Q3, uuid4(), "30000.00", "30000.00", True, paid_on="2026-03-01")
    events, state = then_state(given(*YEAR, q3_paid), terminate("2026-07-01", today="2026-07-01"))
    adjusted = [e for e in events if isinstance(e, ev.PeriodAdjusted)]
    assert [(a.period_id, a.new_amount, a.credit) for a in adjusted] == [(Q3, 0, Decimal("30000"))]
    assert state.credit == Decimal("30000")


def test_case_3_a_future_date_keeps_the_contract_active_until_that_day():
    events, state = then_state(given(*YEAR), terminate("2026-07-01", today="2026-03-10"))
    assert [type(e) for e in events] == [ev.ContractTerminated]
    assert (state.status, state.terminates_on, state.terminated_on) == ("active", d("2026-07-01"), d("2026-07-01"))
    # the remaining periods are still editable; nothing may run past the date
    _, state = then_state(state, ChangeServicePeriod(CONTRACT_ID, Q2, amount=Decimal("31000")))
    err = pytest.raises(RuleViolated, when, state, ChangeServicePeriod(CONTRACT_ID, Q2, ends_on=d("2026-07-15"))).value
    assert (err.rule, err.field) == ("after_termination", "ends_on")
    # the scheduler makes it take effect on the day
    assert not any(isinstance(e, ev.ContractTerminationTookEffect) for e in when(state, tick("2026-06-30")))
    effect, state = then_state(state, tick("2026-07-01"))
    assert (
        ev.ContractTerminationTookEffect(contract_id=CONTRACT_ID, client_id=CLIENT_ID, terminated_on=d("2026-07-01"))
        in effect
    )
    assert (state.status, state.terminates_on) == ("terminated", None)
    assert (
        pytest.raises(RuleViolated, when, state, RemoveServicePeriod(CONTRACT_ID, Q2)).value.rule
        == "contract_terminated"
    )


def test_a_future_termination_is_withdrawn_and_the_cut_period_restored():
    q2_paid = paid(Q2, uuid4(), "30000.00", "30000.00", True, paid_on="2026-04-01")
    _, state = then_state(given(*YEAR, q2_paid), terminate("2026-05-16", today="2026-04-10", prorate=True))
    assert state.period(Q2).amount == Decimal("14835.16")
    events, state = then_state(state, WithdrawTermination(CONTRACT_ID, today=d("2026-05-15")))
    assert type(events[0]) is ev.ContractTerminationWithdrawn
    restored = next(e for e in events if isinstance(e, ev.ServicePeriodChanged))
    assert (restored.ends_on, restored.amount) == (d("2026-06-30"), Decimal("30000"))
    adjusted = next(e for e in events if isinstance(e, ev.PeriodAdjusted))
    assert (adjusted.new_amount, adjusted.credit, adjusted.reason) == (
        Decimal("30000"),
        Decimal("0"),
        "termination_withdrawn",
    )
    assert (state.terminated_on, state.status, state.credit) == (None, "active", Decimal("0"))
    assert {t.period_id for t in pending_time_events(state)} >= {Q3, Q4}  # armed again


def test_withdrawal_on_or_after_the_date_or_without_termination_is_refused():
    _, state = then_state(given(*YEAR), terminate("2026-07-01", today="2026-03-10"))
    err = pytest.raises(Conflict, when, state, WithdrawTermination(CONTRACT_ID, today=d("2026-07-01"))).value
    assert (err.rule, err.field) == ("termination_in_effect", "contract_id")
    err = pytest.raises(Conflict, when, given(*YEAR), WithdrawTermination(CONTRACT_ID, today=d("2026-07-01"))).value
    assert err.rule == "not_terminated"


def test_a_termination_date_before_signing_is_refused_and_nothing_is_written():
    err = pytest.raises(
        RuleViolated, when, given(opened("2026-01-10")), terminate("2026-01-09", today="2026-02-01")
    ).value
    assert (err.rule, err.field) == ("terminated_before_signed", "terminated_on")


def test_a_second_termination_while_one_is_pending_is_refused():
    _, state = then_state(given(*YEAR), terminate("2026-07-01", today="2026-03-10"))
    assert (
        pytest.raises(RuleViolated, when, state, terminate("2026-08-01", today="2026-03-11")).value.rule
        == "contract_terminated"
    )


def test_no_period_is_added_after_a_pending_termination_date():
    _, state = then_state(given(opened()), terminate("2026-07-01", today="2026-03-10"))
    command = AddServicePeriod(CONTRACT_ID, uuid4(), d("2026-06-01"), d("2026-07-31"), Decimal(1), "RUB", "prepaid")
    assert pytest.raises(RuleViolated, when, state, command).value.rule == "after_termination"


def test_a_reminder_made_from_days_before_moves_with_the_cut():
    state = given(
        opened(),
        ev.ServicePeriodAdded(
            contract_id=CONTRACT_ID,
            client_id=CLIENT_ID,
            period_id=Q2,
            starts_on=d("2026-04-01"),
            ends_on=d("2026-06-30"),
            amount="30000",
            currency="RUB",
            payment_terms="prepaid",
            remind_on=d("2026-06-25"),
            remind_days_before=5,
        ),
    )
    _, state = then_state(state, terminate("2026-05-16", today="2026-05-01"))
    assert state.period(Q2).remind_on == d("2026-05-10")
