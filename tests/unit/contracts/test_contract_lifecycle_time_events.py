"""Time events are today's news (issue 12 cases 6, 7, 8), and monthly stubs (case 10)."""

from datetime import UTC, datetime
from decimal import Decimal
from uuid import uuid4

import pytest

from services.contracts.domain.commands import (
    CancelPayment,
    ChangeServicePeriod,
    EmitDueTimeEvents,
    RecordPayment,
    RemoveServicePeriod,
    SchedulePeriods,
)
from services.contracts.domain.schedule_plan import periods_needed
from shared.calendar import CompanyCalendar
from shared.events import contracts as ev
from shared.events import schedule as sch
from tests.unit.contracts.contracts_helpers import (
    CONTRACT_ID,
    added,
    client,
    d,
    given,
    opened,
    then_state,
    when,
)

Q1, Q2 = uuid4(), uuid4()
BASE = (
    opened(),
    added(Q1, "2026-01-01", "2026-03-31", remind_on="2026-03-25"),
    added(Q2, "2026-04-01", "2026-06-30", remind_on="2026-06-25"),
)


def tick(as_of: str, now: str | None = None, late_days: int = 3) -> EmitDueTimeEvents:
    moment = datetime.fromisoformat((now or as_of) + "T10:00:00").replace(tzinfo=UTC)
    return EmitDueTimeEvents(
        CONTRACT_ID, d(as_of), client(), now=moment, calendar=CompanyCalendar(late_event_days=late_days)
    )


def overdue(events) -> list:
    return [e for e in events if isinstance(e, sch.ServicePeriodBecameOverdue)]


# --- case 6: back-dated entry ---------------------------------------------------------


def test_case_6_a_back_dated_contract_emits_its_history_marked_late():
    events = when(given(*BASE), tick("2026-06-10"))
    assert len(events) == 6  # every event of the past is still emitted and stored
    assert all(e.late for e in events)  # Q1 and Q2 started/overdue, Q1 reminder, Q1 ended


def test_only_events_older_than_the_late_days_are_late():
    events = when(given(*BASE), tick("2026-04-04", now="2026-04-04"))
    late = {(type(e).__name__, e.late) for e in events}
    assert ("ServicePeriodEndingSoon", True) in late  # 25 March: 10 days old
    assert ("ServicePeriodBecameOverdue", False) in late  # Q2 on 1 April: 3 days, not more
    assert all(e.late is False for e in when(given(*BASE), tick("2026-01-01")))


def test_without_now_nothing_is_late():
    assert not any(e.late for e in when(given(*BASE), EmitDueTimeEvents(CONTRACT_ID, d("2026-06-10"), client())))


# --- case 7: moving dates --------------------------------------------------------------


def test_case_7_moving_q2_start_after_its_overdue_notice_does_not_repeat_it():
    _, state = then_state(given(*BASE), tick("2026-04-02"))
    assert len(overdue(when(given(*BASE), tick("2026-04-02")))) == 2
    _, state = then_state(state, ChangeServicePeriod(CONTRACT_ID, Q2, starts_on=d("2026-04-02")))
    assert when(state, tick("2026-04-10")) == []


def test_case_7_a_reminder_made_from_days_before_keeps_its_offset_when_the_end_moves():
    ids = [uuid4() for _ in range(periods_needed(d("2026-01-01"), d("2026-06-30"), "quarter"))]
    _, state = then_state(
        given(opened()),
        SchedulePeriods(
            CONTRACT_ID,
            ids,
            d("2026-01-01"),
            d("2026-06-30"),
            "quarter",
            Decimal("30000"),
            "RUB",
            "prepaid",
            remind_days_before=7,
        ),
    )
    assert state.period(ids[1]).remind_on == d("2026-06-23")
    events, state = then_state(state, ChangeServicePeriod(CONTRACT_ID, ids[1], ends_on=d("2026-07-31")))
    assert (events[0].remind_on, events[0].remind_days_before) == (d("2026-07-24"), 7)
    # a date given explicitly replaces the offset
    _, state = then_state(state, ChangeServicePeriod(CONTRACT_ID, ids[1], remind_on=d("2026-07-01")))
    events, state = then_state(state, ChangeServicePeriod(CONTRACT_ID, ids[1], ends_on=d("2026-08-31")))
    assert (events[0].remind_on, events[0].remind_days_before) == (d("2026-07-01"), None)


# --- case 8: a bounced payment reopens the debt ------------------------------------------


def test_case_8_a_cancelled_payment_after_settling_makes_the_period_overdue_again():
    _, state = then_state(given(*BASE), tick("2026-01-05"))
    payment = uuid4()
    events, state = then_state(state, RecordPayment(CONTRACT_ID, Q1, payment, d("2026-01-20")))
    assert [type(e) for e in events] == [ev.PaymentRecorded, ev.DebtSettled]
    _, state = then_state(state, CancelPayment(CONTRACT_ID, Q1, payment, "bounced"))
    # the next run, weeks after 1 January, announces it again and it is news, not history
    again = overdue(when(state, tick("2026-02-10")))
    assert [(e.period_id, e.late, e.amount_due) for e in again] == [(Q1, False, Decimal("30000"))]
    _, state = then_state(state, tick("2026-02-10"))
    assert state.period(Q1).overdue_count == 2 and overdue(when(state, tick("2026-02-11"))) == []
    # and settling again settles again
    events, _ = then_state(state, RecordPayment(CONTRACT_ID, Q1, uuid4(), d("2026-02-12")))
    assert [type(e) for e in events] == [ev.PaymentRecorded, ev.DebtSettled]


def test_a_partial_cancel_of_an_open_debt_does_not_repeat_the_notice():
    _, state = then_state(given(*BASE), tick("2026-01-05"))
    part = uuid4()
    _, state = then_state(state, RecordPayment(CONTRACT_ID, Q1, part, d("2026-01-20"), Decimal("100")))
    _, state = then_state(state, CancelPayment(CONTRACT_ID, Q1, part, "typo"))
    assert overdue(when(state, tick("2026-02-10"))) == []


def test_re_pricing_an_announced_debt_emits_period_adjusted():
    _, state = then_state(given(*BASE), tick("2026-01-05"))
    events = when(state, ChangeServicePeriod(CONTRACT_ID, Q1, amount=Decimal("25000")))
    assert [type(e) for e in events] == [ev.ServicePeriodChanged, ev.PeriodAdjusted]
    assert (events[1].old_amount, events[1].new_amount, events[1].reason) == (
        Decimal("30000"),
        Decimal("25000"),
        "repriced",
    )
    assert [type(e) for e in when(given(*BASE), ChangeServicePeriod(CONTRACT_ID, Q1, amount=Decimal("25000")))] == [
        ev.ServicePeriodChanged
    ]  # never announced: nothing to correct downstream


def test_removing_an_announced_debt_writes_it_off():
    _, state = then_state(given(*BASE), tick("2026-01-05"))
    events = when(state, RemoveServicePeriod(CONTRACT_ID, Q1))
    assert [type(e) for e in events] == [ev.DebtWrittenOff, ev.ServicePeriodRemoved]
    assert (events[0].amount, events[0].reason) == (Decimal("30000"), "removed")


def test_a_settled_period_is_not_written_off():
    _, state = then_state(given(*BASE), tick("2026-01-05"))
    pay = uuid4()
    _, state = then_state(state, RecordPayment(CONTRACT_ID, Q1, pay, d("2026-01-20")))
    _, state = then_state(state, CancelPayment(CONTRACT_ID, Q1, pay, "moved to another contract"))
    assert [type(e) for e in when(state, RemoveServicePeriod(CONTRACT_ID, Q1))] == [ev.ServicePeriodRemoved]


# --- case 10: monthly stubs ----------------------------------------------------------------


def schedule(starts: str, ends: str, amount: str, stub: str = "prorate", every: str = "month"):
    ids = [uuid4() for _ in range(periods_needed(d(starts), d(ends), every))]
    return SchedulePeriods(
        CONTRACT_ID,
        ids,
        d(starts),
        d(ends),
        every,  # type: ignore[arg-type]  # parametrized as text
        Decimal(amount),
        "RUB",
        "prepaid",
        stub=stub,  # type: ignore[arg-type]  # parametrized as text
    )


def test_case_10_a_short_last_period_is_prorated_by_days():
    events = when(given(opened()), schedule("2026-01-31", "2026-04-14", "3000.00"))
    assert [(e.starts_on, e.ends_on, e.amount) for e in events] == [
        (d("2026-01-31"), d("2026-02-27"), Decimal("3000")),
        (d("2026-02-28"), d("2026-03-30"), Decimal("3000")),
        # 31 Mar – 14 Apr is 15 of the 30 days to 29 April
        (d("2026-03-31"), d("2026-04-14"), Decimal("1500")),
    ]


@pytest.mark.parametrize("stub, last", [("full", Decimal("3000")), ("prorate", Decimal("1178.57"))])
def test_stub_full_charges_the_whole_amount(stub, last):
    # 1 – 11 February is 11 of February's 28 days: 3000 × 11 / 28 = 1178.571… → 1178.57
    events = when(given(opened()), schedule("2026-01-01", "2026-02-11", "3000.00", stub=stub))
    assert [e.amount for e in events] == [Decimal("3000"), last]
