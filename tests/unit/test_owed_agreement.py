"""Issue 12 case 5, "one definition of owed": for random periods, payments and days, the
scheduler's overdue decision, coverage, the debtors list, the contracts-list ``paid`` filter and
income's ``outstanding`` agree — each through the pure function its service runs (the SQL of
the read side is checked against the same rules by tests/integration/projections).

The scheduler decides at D with the payments recorded by then (it runs on the day), so it is
compared with the read side's answer as at D — which must ignore payments dated after D."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from uuid import uuid4

from hypothesis import given as for_all
from hypothesis import settings
from hypothesis import strategies as st

from services.contracts.domain.commands import AddServicePeriod, EmitDueTimeEvents, RecordPayment
from services.projections.domain.coverage import PeriodState, assess, overdue
from services.projections.domain.debts import group_debtors
from services.projections.domain.income import income_by_month
from shared import owed
from shared.calendar import CompanyCalendar
from shared.events.schedule import ServicePeriodBecameOverdue
from tests.unit.contracts.contracts_helpers import CONTRACT_ID, client, given, opened, then_state

START = date(2026, 1, 1)
days = st.integers(min_value=0, max_value=200)


@st.composite
def cases(draw):
    terms = draw(st.sampled_from(["prepaid", "postpaid"]))
    starts = START + timedelta(days=draw(st.integers(0, 60)))
    ends = starts + timedelta(days=draw(st.integers(0, 90)))
    amount = Decimal(draw(st.integers(0, 500))) * 10
    grace = draw(st.integers(0, 15))
    on = START + timedelta(days=draw(days))
    payments, left = [], amount
    for _ in range(draw(st.integers(0, 3))):
        if left <= 0:
            break
        part = min(left, Decimal(draw(st.integers(1, 500))) * 10)
        payments.append((part, START + timedelta(days=draw(days))))
        left -= part
    return terms, starts, ends, amount, grace, on, payments


def scheduler_says_overdue(terms, starts, ends, amount, grace, on, payments) -> bool:
    period = uuid4()
    _, state = then_state(given(opened()), AddServicePeriod(CONTRACT_ID, period, starts, ends, amount, "RUB", terms))
    for part, paid_on in sorted(payments, key=lambda p: p[1]):
        if paid_on <= on:  # by the day of the tick, only these were recorded
            _, state = then_state(state, RecordPayment(CONTRACT_ID, period, uuid4(), paid_on, part))
    calendar = CompanyCalendar(grace_days=grace)
    events, _ = then_state(state, EmitDueTimeEvents(CONTRACT_ID, on, client(), calendar=calendar))
    return any(isinstance(e, ServicePeriodBecameOverdue) for e in events)


@settings(max_examples=300, deadline=None)
@for_all(cases())
def test_scheduler_coverage_debtors_filter_and_income_agree(case) -> None:
    terms, starts, ends, amount, grace, on, payments = case
    paid = owed.paid_as_at(payments, on)  # what the read side counts as at D
    p = PeriodState(uuid4(), "A-1", uuid4(), starts, ends, amount, "RUB", terms, paid)

    is_overdue = owed.is_overdue(terms, starts, ends, amount, paid, on, grace_days=grace)
    assert scheduler_says_overdue(*case) == is_overdue
    assert (overdue(p, on, grace) is not None) == is_overdue
    debtors = group_debtors([(uuid4(), "Client", o) for o in [overdue(p, on, grace)] if o is not None])
    assert bool(debtors) == is_overdue

    coverage = assess([p], on, grace)
    listed = [o for o in coverage.owed if o.period_id == p.period_id]
    is_owed = owed.is_owed(terms, starts, ends, amount, paid, on)
    assert bool(listed) == is_owed
    if listed:
        due = owed.due_on(terms, starts, ends)
        assert (listed[0].due_on, listed[0].days_overdue, listed[0].amount_due) == (due, (on - due).days, amount - paid)

    paid_filter = paid >= amount  # the contracts list's paid=true as at D
    assert paid_filter == (not is_owed and not (on < owed.due_on(terms, starts, ends) and paid < amount))
    if is_overdue:
        assert not paid_filter

    month = date(on.year, on.month, 1)
    [cell] = income_by_month(month, month, [(month, "RUB", amount, max(amount - paid, Decimal(0)))], [])
    assert (cell.outstanding > 0) == (not paid_filter)
