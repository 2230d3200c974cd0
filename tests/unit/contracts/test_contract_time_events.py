"""Time events: due once, in date order, re-armed when dates change, overdue and DebtSettled."""

from datetime import date
from decimal import Decimal
from uuid import uuid4

import pytest

from services.contracts.domain.commands import (
    CancelPayment,
    ChangeServicePeriod,
    EmitDueTimeEvents,
    RecordPayment,
    RemoveServicePeriod,
)
from services.contracts.domain.time_events import TimeEventDue, pending_time_events, time_event_key
from shared.calendar import CompanyCalendar
from shared.domain_errors import RuleViolated
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

Q1, Q2 = uuid4(), uuid4()
BASE = (
    opened(),
    added(Q1, "2026-01-01", "2026-03-31", remind_on="2026-03-25"),
    added(Q2, "2026-04-01", "2026-06-30", amount="35000.00", remind_on="2026-06-25"),
)


def tick(as_of: str) -> EmitDueTimeEvents:
    return EmitDueTimeEvents(CONTRACT_ID, d(as_of), client())


def kinds(events):
    return [(type(e).__name__, getattr(e, "period_id", None) or e.period.period_id) for e in events]


def test_pending_lists_every_time_event_in_date_order():
    pending = pending_time_events(given(*BASE))
    assert [(t.kind, t.period_id, t.due_on) for t in pending] == [
        ("started", Q1, date(2026, 1, 1)),
        ("overdue", Q1, date(2026, 1, 1)),
        ("ending_soon", Q1, date(2026, 3, 25)),
        ("ended", Q1, date(2026, 4, 1)),
        ("started", Q2, date(2026, 4, 1)),
        ("overdue", Q2, date(2026, 4, 1)),
        ("ending_soon", Q2, date(2026, 6, 25)),
        ("ended", Q2, date(2026, 7, 1)),
    ]
    assert pending[0] == TimeEventDue("started", Q1, date(2026, 1, 1), f"started:{Q1}:2026-01-01")


def test_nothing_is_due_before_the_first_date():
    assert when(given(*BASE), tick("2025-12-31")) == []


def test_prepaid_unpaid_period_is_overdue_on_its_first_day():
    events, state = then_state(given(*BASE), tick("2026-01-01"))
    assert kinds(events) == [("ServicePeriodStarted", Q1), ("ServicePeriodBecameOverdue", Q1)]
    overdue = events[1]
    assert overdue == sch.ServicePeriodBecameOverdue(
        contract_id=CONTRACT_ID,
        client_id=CLIENT_ID,
        client_name="ООО Ромашка",
        manager_name="Ivan Petrov",
        manager_email="ivan@example.com",
        contract_number="A-17",
        contract_title="IT support",
        period_id=Q1,
        starts_on=d("2026-01-01"),
        ends_on=d("2026-03-31"),
        payment_terms="prepaid",
        due_on=d("2026-01-01"),
        overdue_on=d("2026-01-01"),
        amount="30000",
        paid_amount="0",
        amount_due="30000",
        currency="RUB",
    )
    assert state.period(Q1).overdue_flag and state.version == len(BASE) + 2


def test_each_time_event_is_emitted_once():
    _, state = then_state(given(*BASE), tick("2026-03-26"))
    assert when(state, tick("2026-03-26")) == []
    assert when(state, tick("2026-01-15")) == []
    assert kinds(when(state, tick("2026-04-01"))) == [
        ("ServicePeriodEnded", Q1),
        ("ServicePeriodStarted", Q2),
        ("ServicePeriodBecameOverdue", Q2),
    ]


def test_a_paid_prepaid_period_is_not_overdue():
    state = given(*BASE, paid(Q1, uuid4(), "30000.00", "30000.00", True, paid_on="2025-12-28"))
    events, state = then_state(state, tick("2026-01-01"))
    assert kinds(events) == [("ServicePeriodStarted", Q1)]
    assert not state.period(Q1).overdue_flag


def test_postpaid_is_overdue_the_day_after_its_end_unless_paid():
    p = uuid4()
    state = given(opened(), added(p, "2026-01-01", "2026-01-31", payment_terms="postpaid"))
    events, state = then_state(state, tick("2026-01-31"))
    assert kinds(events) == [("ServicePeriodStarted", p)]
    events, state = then_state(state, tick("2026-02-01"))
    assert kinds(events) == [("ServicePeriodEnded", p), ("ServicePeriodBecameOverdue", p)]
    # issue 12 case 5: due_on is the first owed day for both terms (postpaid: the day after the end)
    assert (events[1].due_on, events[1].overdue_on) == (d("2026-02-01"), d("2026-02-01"))

    paid_in_time = given(
        opened(),
        added(p, "2026-01-01", "2026-01-31", payment_terms="postpaid"),
        paid(p, uuid4(), "30000.00", "30000.00", True, paid_on="2026-01-31"),
    )
    assert kinds(when(paid_in_time, tick("2026-02-01"))) == [("ServicePeriodStarted", p), ("ServicePeriodEnded", p)]


def test_partial_payment_leaves_the_rest_due():
    state = given(*BASE, paid(Q1, uuid4(), "10000.00", "10000.00", False))
    overdue = when(state, tick("2026-01-01"))[1]
    assert (overdue.amount_due, overdue.paid_amount) == (Decimal("20000"), Decimal("10000"))


def test_cancelled_payment_makes_the_overdue_event_pending_again():
    pay_id = uuid4()
    state = given(*BASE, paid(Q1, pay_id, "30000.00", "30000.00", True, paid_on="2025-12-28"))
    _, state = then_state(state, tick("2026-01-10"))
    _, state = then_state(state, CancelPayment(CONTRACT_ID, Q1, pay_id, "bounced"))
    assert kinds(when(state, tick("2026-01-11"))) == [("ServicePeriodBecameOverdue", Q1)]


def test_ending_soon_names_the_next_period_and_when_it_is_due():
    events = when(given(*BASE), tick("2026-03-25"))
    reminder = events[-1]
    assert isinstance(reminder, sch.ServicePeriodEndingSoon)
    assert reminder.remind_on == d("2026-03-25")
    assert (reminder.period.period_id, reminder.period.ends_on) == (Q1, d("2026-03-31"))
    nxt = reminder.next_period
    assert (nxt.period_id, nxt.amount, nxt.due_on, nxt.paid) == (Q2, Decimal("35000"), d("2026-04-01"), False)
    assert (reminder.manager_email, reminder.client_name, reminder.contract_number) == (
        "ivan@example.com",
        "ООО Ромашка",
        "A-17",
    )


def test_ending_soon_for_a_postpaid_next_period_is_due_the_day_after_its_end_and_the_last_has_none():
    q3 = uuid4()
    state = given(*BASE, added(q3, "2026-07-01", "2026-09-30", payment_terms="postpaid", remind_on="2026-09-20"))
    events = when(state, tick("2026-09-20"))
    reminders = [e for e in events if isinstance(e, sch.ServicePeriodEndingSoon)]
    assert reminders[1].next_period.due_on == d("2026-10-01")
    assert reminders[2].period.period_id == q3 and reminders[2].next_period is None


def test_a_changed_date_rearms_what_has_not_happened_yet():
    _, state = then_state(given(*BASE), ChangeServicePeriod(CONTRACT_ID, Q1, remind_on=d("2026-03-28")))
    assert [t.key for t in pending_time_events(state) if t.kind == "ending_soon"][:1] == [
        time_event_key("ending_soon", Q1, d("2026-03-28"))
    ]
    assert when(state, tick("2026-03-27"))[-1].period_id == Q1  # started/overdue, no reminder yet
    events = when(state, tick("2026-03-30"))
    assert [e.remind_on for e in events if isinstance(e, sch.ServicePeriodEndingSoon)] == [d("2026-03-28")]


def test_a_reminder_already_sent_is_not_repeated_when_its_date_moves():
    """Issue 12 case 7: moving dates re-arms only what has not happened yet."""
    _, state = then_state(given(*BASE), tick("2026-03-25"))
    _, state = then_state(state, ChangeServicePeriod(CONTRACT_ID, Q1, remind_on=d("2026-03-28")))
    assert when(state, tick("2026-03-30")) == []


def test_moving_a_period_start_before_it_started_rearms_started_and_overdue():
    _, state = then_state(given(*BASE), tick("2026-03-31"))
    _, state = then_state(state, ChangeServicePeriod(CONTRACT_ID, Q2, starts_on=d("2026-04-05")))
    assert kinds(when(state, tick("2026-04-04"))) == [("ServicePeriodEnded", Q1)]
    assert kinds(when(state, tick("2026-04-05"))) == [
        ("ServicePeriodEnded", Q1),
        ("ServicePeriodStarted", Q2),
        ("ServicePeriodBecameOverdue", Q2),
    ]


def test_removed_periods_have_no_time_events():
    _, state = then_state(given(*BASE), RemoveServicePeriod(CONTRACT_ID, Q2))
    assert {t.period_id for t in pending_time_events(state)} == {Q1}
    reminder = when(state, tick("2026-12-31"))[2]
    assert isinstance(reminder, sch.ServicePeriodEndingSoon) and reminder.next_period is None


def test_after_termination_periods_starting_later_are_skipped():
    state = given(
        *BASE,
        ev.ContractTerminated(
            contract_id=CONTRACT_ID, client_id=CLIENT_ID, terminated_on=d("2026-03-31"), reason="closed"
        ),
    )
    events = [e for e in when(state, tick("2026-12-31")) if not isinstance(e, ev.ContractTerminationTookEffect)]
    assert {e.period_id if hasattr(e, "period_id") else e.period.period_id for e in events} == {Q1}
    reminder = next(e for e in events if isinstance(e, sch.ServicePeriodEndingSoon))
    assert reminder.next_period is None


def test_overdue_period_paid_in_full_settles_the_debt():
    _, state = then_state(given(*BASE), tick("2026-01-05"))
    events, state = then_state(state, RecordPayment(CONTRACT_ID, Q1, uuid4(), d("2026-01-20"), Decimal("10000")))
    assert [type(e) for e in events] == [ev.PaymentRecorded]
    command = RecordPayment(CONTRACT_ID, Q1, uuid4(), d("2026-01-25"))
    events, state = then_state(state, command)
    assert events[1] == ev.DebtSettled(
        contract_id=CONTRACT_ID,
        client_id=CLIENT_ID,
        period_id=Q1,
        payment_id=command.payment_id,
        amount="30000",
        currency="RUB",
        settled_on=d("2026-01-25"),
    )
    assert state.period(Q1).paid and not state.period(Q1).overdue_flag  # the debt is closed
    assert state.period(Q1).overdue_count == 1


def test_a_period_paid_before_it_became_overdue_settles_no_debt():
    events = when(given(*BASE), RecordPayment(CONTRACT_ID, Q2, uuid4(), d("2026-03-30")))
    assert [type(e) for e in events] == [ev.PaymentRecorded]


def test_client_of_another_contract_is_refused():
    with pytest.raises(RuleViolated) as exc:
        when(given(*BASE), EmitDueTimeEvents(CONTRACT_ID, d("2026-01-01"), client(id=uuid4())))
    assert exc.value.rule == "client_mismatch"


def test_client_without_manager_email_is_sent_as_none():
    reminder = when(given(*BASE), EmitDueTimeEvents(CONTRACT_ID, d("2026-03-25"), client(manager_email="")))[-1]
    assert reminder.manager_email is None


def test_grace_delays_the_overdue_event_by_the_same_days_for_both_terms():
    """ABONENT_GRACE_DAYS: overdue fires on due_on + grace; due_on itself does not move."""
    post = uuid4()
    state = given(*BASE, added(post, "2026-07-01", "2026-07-31", payment_terms="postpaid"))
    pending = {(t.kind, t.period_id): t.due_on for t in pending_time_events(state, grace_days=5)}
    assert pending[("overdue", Q1)] == d("2026-01-06")
    assert pending[("overdue", post)] == d("2026-08-06")
    events = when(
        state, EmitDueTimeEvents(CONTRACT_ID, d("2026-01-05"), client(), calendar=CompanyCalendar(grace_days=5))
    )
    assert kinds(events) == [("ServicePeriodStarted", Q1)]
    events = when(
        state, EmitDueTimeEvents(CONTRACT_ID, d("2026-01-06"), client(), calendar=CompanyCalendar(grace_days=5))
    )
    overdue = events[1]
    assert (overdue.due_on, overdue.overdue_on) == (d("2026-01-01"), d("2026-01-06"))


def test_a_changed_grace_moves_a_pending_notice_but_never_repeats_a_sent_one():
    _, state = then_state(given(*BASE), tick("2026-01-01"))  # Q1's notice sent without a grace
    later = {(t.kind, t.period_id): t for t in pending_time_events(state, grace_days=5)}
    assert ("overdue", Q1) not in later
    assert later[("overdue", Q2)].due_on == d("2026-04-06")
    calendar = CompanyCalendar(grace_days=5)
    assert when(state, EmitDueTimeEvents(CONTRACT_ID, d("2026-01-10"), client(), calendar=calendar)) == []
