"""Property-based tests of the contracts domain and the read model's fold (issue 15).

For any sequence of commands — periods added, changed and removed, payments recorded and
cancelled, a termination entered and withdrawn, time events emitted — with the refused ones
dropped (a refusal is an answer, not a failure):

* the decider keeps the domain's invariants: periods of a contract never overlap (void ones
  aside), what a period has been paid is the sum of its payments not cancelled and never more
  than it costs unless a termination shrank it, the stream version counts the events;
* folding the recorded events again from nothing gives the same state (no hidden input);
* the projections' fold of the same events gives the same periods and payments, so coverage
  and debt computed by the read model equal those computed directly from the events.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

from hypothesis import HealthCheck, settings
from hypothesis import given as for_all
from hypothesis import strategies as st

from services.contracts.domain import commands as cmd
from services.contracts.domain.contract import ContractState, decide, evolve
from services.projections.domain.coverage import PeriodState, assess, overdue
from services.projections.domain.fold import WorkingSet
from services.projections.domain.fold import evolve as project
from services.projections.domain.rows import Fact
from shared.calendar import CompanyCalendar
from shared.domain_errors import DomainError
from shared.events.base import EventData
from shared.fold import fold
from tests.unit.contracts.contracts_helpers import CLIENT_ID, CONTRACT_ID, client, opened

START = date(2026, 1, 1)

day = st.integers(0, 400).map(lambda n: START + timedelta(days=n))
amount = st.integers(0, 2_000).map(lambda n: Decimal(n) * 10)
pick = st.integers(0, 10_000)  # which existing period or payment a command is about

intent = st.one_of(
    st.tuples(st.just("add"), day, st.integers(0, 120), amount, st.sampled_from(["prepaid", "postpaid"])),
    st.tuples(st.just("pay"), pick, day, st.integers(1, 1_500).map(lambda n: Decimal(n) * 10)),
    st.tuples(st.just("cancel"), pick),
    st.tuples(st.just("change"), pick, amount),
    st.tuples(st.just("remove"), pick),
    st.tuples(st.just("terminate"), day, st.booleans()),
    st.tuples(
        st.just("withdraw"),
    ),
    st.tuples(st.just("tick"), day),
)


def command_for(step: tuple, state: ContractState) -> object | None:
    kind = step[0]
    periods = state.periods
    payments = [pay for p in periods for pay in p.active_payments]
    today = START + timedelta(days=200)
    if kind == "add":
        _, starts, length, cost, terms = step
        return cmd.AddServicePeriod(CONTRACT_ID, uuid4(), starts, starts + timedelta(days=length), cost, "RUB", terms)
    if kind == "pay" and periods:
        p = periods[step[1] % len(periods)]
        return cmd.RecordPayment(CONTRACT_ID, p.period_id, uuid4(), step[2], step[3])
    if kind == "cancel" and payments:
        pay = payments[step[1] % len(payments)]
        return cmd.CancelPayment(CONTRACT_ID, pay.period_id, pay.payment_id, "mistake")
    if kind == "change" and periods:
        return cmd.ChangeServicePeriod(CONTRACT_ID, periods[step[1] % len(periods)].period_id, amount=step[2])
    if kind == "remove" and periods:
        return cmd.RemoveServicePeriod(CONTRACT_ID, periods[step[1] % len(periods)].period_id)
    if kind == "terminate":
        return cmd.TerminateContract(CONTRACT_ID, step[1], "client left", today, prorate=step[2])
    if kind == "withdraw":
        return cmd.WithdrawTermination(CONTRACT_ID, today)
    if kind == "tick":
        return cmd.EmitDueTimeEvents(CONTRACT_ID, step[1], client(), calendar=CompanyCalendar())
    return None


def run(steps: list[tuple]) -> tuple[ContractState, list[EventData]]:
    first = opened()
    state = evolve(None, first)
    events: list[EventData] = [first]
    for step in steps:
        command = command_for(step, state)
        if command is None:
            continue
        try:
            new = decide(command, state)  # type: ignore[arg-type]  # every branch builds a contract command
        except DomainError:
            continue  # refused: the state must not move
        for e in new:
            state = evolve(state, e)
        events += new
        check_invariants(state, events)
    return state, events


def check_invariants(state: ContractState, events: list[EventData]) -> None:
    assert state.version == len(events)
    live = [p for p in state.periods if not state.is_void(p)]
    for a, b in zip(live, live[1:], strict=False):
        assert a.ends_on < b.starts_on, f"periods overlap: {a.starts_on}..{a.ends_on} and {b.starts_on}.."
    for p in state.periods:
        assert p.starts_on <= p.ends_on
        assert p.paid_amount == sum((x.amount for x in p.active_payments), Decimal(0))
        assert p.paid_amount >= 0
        assert p.paid_amount <= p.amount or state.terminated_on is not None, "paid more than the period costs"


def read_model(events: list[EventData]) -> WorkingSet:
    ws = WorkingSet()
    for version, e in enumerate(events, 1):
        project(ws, Fact(f"contract-{CONTRACT_ID}", version, CLIENT_ID, version, e))
    return ws


def paid_as_at(payments: list[tuple[Decimal, date, bool]], on: date) -> Decimal:
    return sum((a for a, paid_on, cancelled in payments if not cancelled and paid_on <= on), Decimal(0))


def from_events(state: ContractState, on: date) -> list[PeriodState]:
    return [
        PeriodState(
            state.id,
            state.number,
            p.period_id,
            p.starts_on,
            p.ends_on,
            p.amount,
            p.currency,
            p.payment_terms,
            paid_as_at([(x.amount, x.paid_on, x.cancelled) for x in p.payments], on),
            state.terminated_on,
        )
        for p in state.periods
        if not state.is_void(p)
    ]


def from_read_model(ws: WorkingSet, on: date) -> list[PeriodState]:
    contract = ws.contracts[CONTRACT_ID]
    out = []
    for row in ws.periods.values():
        if contract.terminated_on is not None and row.starts_on >= contract.terminated_on:
            continue  # void: in no answer
        pays = [(x.amount, x.paid_on, x.cancelled) for x in ws.payments.values() if x.period_id == row.period_id]
        out.append(
            PeriodState(
                contract.contract_id,
                contract.number,
                row.period_id,
                row.starts_on,
                row.ends_on,
                row.amount,
                row.currency,
                row.payment_terms,
                paid_as_at(pays, on),
                contract.terminated_on,
            )
        )
    return out


def by_period(periods: list[PeriodState]) -> dict[UUID, PeriodState]:
    return {p.period_id: p for p in periods}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@for_all(st.lists(intent, max_size=25))
def test_any_command_sequence_keeps_the_invariants_and_folds_again_to_the_same_state(steps) -> None:
    state, events = run(steps)
    assert fold(evolve, events, None) == state  # folding the events again: the same state


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@for_all(st.lists(intent, max_size=25), day, st.integers(0, 10))
def test_coverage_and_debt_by_the_read_models_fold_equal_those_from_the_events(steps, on, grace) -> None:
    state, events = run(steps)
    ws = read_model(events)
    direct, projected = by_period(from_events(state, on)), by_period(from_read_model(ws, on))
    assert direct == projected
    ordered = sorted(direct)  # the same input order on both sides
    assert assess([direct[i] for i in ordered], on, grace) == assess([projected[i] for i in ordered], on, grace)
    debts = {pid: overdue(p, on, grace) for pid, p in direct.items()}
    assert debts == {pid: overdue(p, on, grace) for pid, p in projected.items()}
