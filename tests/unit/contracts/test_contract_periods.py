"""Opening, terminating, and the period rules: given events / when command / then events."""

from datetime import date
from decimal import Decimal
from uuid import uuid4

import pytest

from services.contracts.domain.commands import (
    AddServicePeriod,
    ChangeServicePeriod,
    OpenContract,
    RemoveServicePeriod,
    SchedulePeriods,
    TerminateContract,
)
from services.contracts.domain.contract import evolve
from services.contracts.domain.schedule_plan import periods_needed
from shared.domain_errors import Conflict, DomainError, NotFound, RuleViolated
from shared.events import contracts as ev
from tests.unit.contracts.contracts_helpers import (
    CLIENT_ID,
    CONTRACT_ID,
    added,
    d,
    given,
    opened,
    paid,
    then_state,
    when,
)

P1, P2 = uuid4(), uuid4()


def add(
    period_id=None,
    starts="2026-01-01",
    ends="2026-03-31",
    amount="30000.00",
    currency="RUB",
    terms="prepaid",
    remind_on=None,
):
    return AddServicePeriod(
        CONTRACT_ID,
        period_id or uuid4(),
        d(starts),
        d(ends),
        Decimal(amount),
        currency,
        terms,
        d(remind_on) if remind_on else None,
    )


def refused(state, command, error=RuleViolated) -> DomainError:
    with pytest.raises(error) as exc:
        when(state, command)
    assert exc.value.message
    return exc.value


# --- open / terminate -----------------------------------------------------------------


def test_open_a_contract():
    events, state = then_state(None, OpenContract(CONTRACT_ID, CLIENT_ID, "A-17", "IT support", d("2025-12-20")))
    assert events == [opened()]
    assert (state.id, state.client_id, state.number, state.status, state.version) == (
        CONTRACT_ID,
        CLIENT_ID,
        "A-17",
        "active",
        1,
    )


def test_opening_an_existing_contract_is_a_conflict():
    assert (
        refused(given(opened()), OpenContract(CONTRACT_ID, CLIENT_ID, "A", "T", d("2026-01-01")), Conflict).rule
        == "contract_exists"
    )


def test_commands_on_an_unknown_contract_are_not_found():
    assert refused(None, add(), NotFound).rule == "contract_not_found"


def test_terminate_records_the_date_and_refuses_a_second_time():
    events, state = then_state(
        given(opened()), TerminateContract(CONTRACT_ID, d("2026-06-30"), "client left", today=d("2026-06-30"))
    )
    assert events == [
        ev.ContractTerminated(
            contract_id=CONTRACT_ID, client_id=CLIENT_ID, terminated_on=d("2026-06-30"), reason="client left"
        ),
        ev.ContractTerminationTookEffect(contract_id=CONTRACT_ID, client_id=CLIENT_ID, terminated_on=d("2026-06-30")),
    ]
    assert (state.status, state.terminated_on, state.version) == ("terminated", d("2026-06-30"), 3)
    assert (
        refused(state, TerminateContract(CONTRACT_ID, d("2026-07-01"), "again", today=d("2026-07-01"))).rule
        == "contract_terminated"
    )


def test_terminate_before_signing_is_refused():
    err = refused(
        given(opened("2026-01-10")), TerminateContract(CONTRACT_ID, d("2026-01-09"), "x", today=d("2026-01-10"))
    )
    assert (err.rule, err.field) == ("terminated_before_signed", "terminated_on")


def test_a_terminated_contract_takes_no_new_changed_or_removed_periods():
    state = given(
        opened(),
        added(P1, "2026-01-01", "2026-03-31"),
        ev.ContractTerminated(contract_id=CONTRACT_ID, client_id=CLIENT_ID, terminated_on=d("2026-03-31"), reason="x"),
        ev.ContractTerminationTookEffect(contract_id=CONTRACT_ID, client_id=CLIENT_ID, terminated_on=d("2026-03-31")),
    )
    assert refused(state, add(starts="2026-04-01", ends="2026-06-30")).rule == "contract_terminated"
    assert refused(state, ChangeServicePeriod(CONTRACT_ID, P1, amount=Decimal(1))).rule == "contract_terminated"
    assert refused(state, RemoveServicePeriod(CONTRACT_ID, P1)).rule == "contract_terminated"


# --- add ------------------------------------------------------------------------------


def test_add_a_period():
    events, state = then_state(given(opened()), add(P1, remind_on="2026-03-25"))
    assert events == [added(P1, "2026-01-01", "2026-03-31", remind_on="2026-03-25")]
    (period,) = state.periods
    assert (period.amount, period.paid_amount, period.paid, period.payments) == (
        Decimal("30000.00"),
        Decimal("0"),
        False,
        (),
    )


@pytest.mark.parametrize(
    "command, rule, field",
    [
        (add(starts="2026-02-01", ends="2026-01-31"), "ends_before_start", "ends_on"),
        (add(remind_on="2026-04-01"), "reminder_after_end", "remind_on"),
        (add(amount="-1"), "negative_amount", "amount"),
        (add(currency="XYZ"), "unknown_currency", "currency"),
        (add(currency="JPY", amount="100.50"), "amount_precision", "amount"),
        (add(amount="1.005"), "amount_precision", "amount"),
        (add(terms="whenever"), "invalid_payment_terms", "payment_terms"),
    ],
)
def test_add_checks_the_period_values(command, rule, field):
    err = refused(given(opened()), command)
    assert (err.rule, err.field) == (rule, field)


def test_a_reminder_may_be_before_the_start_and_a_period_may_be_one_day():
    assert when(given(opened()), add(starts="2026-01-01", ends="2026-01-01", remind_on="2025-12-25"))


def test_a_free_period_costs_zero_and_is_paid():
    _, state = then_state(given(opened()), add(P1, amount="0"))
    assert state.periods[0].paid


@pytest.mark.parametrize(
    "starts, ends",
    [
        ("2026-03-31", "2026-04-30"),
        ("2025-12-01", "2026-01-01"),
        ("2026-02-01", "2026-02-10"),
        ("2025-01-01", "2027-01-01"),
    ],
)
def test_periods_never_overlap(starts, ends):
    state = given(opened(), added(P1, "2026-01-01", "2026-03-31"))
    err = refused(state, add(starts=starts, ends=ends))
    assert err.rule == "period_overlap"
    assert "2026-01-01..2026-03-31" in err.message


def test_adjacent_periods_do_not_overlap():
    state = given(opened(), added(P1, "2026-01-01", "2026-03-31"))
    assert when(state, add(starts="2026-04-01", ends="2026-06-30"))
    assert when(state, add(starts="2025-10-01", ends="2025-12-31"))


def test_one_contract_one_currency():
    state = given(opened(), added(P1, "2026-01-01", "2026-03-31"))
    err = refused(state, add(starts="2026-04-01", ends="2026-06-30", currency="USD"))
    assert (err.rule, err.field) == ("currency_mismatch", "currency")


def test_period_id_must_be_new():
    state = given(opened(), added(P1, "2026-01-01", "2026-03-31"))
    assert refused(state, add(P1, starts="2026-04-01", ends="2026-06-30"), Conflict).rule == "period_exists"


def test_periods_are_kept_in_start_order():
    state = given(opened(), added(P2, "2026-04-01", "2026-06-30"), added(P1, "2026-01-01", "2026-03-31"))
    assert [p.period_id for p in state.periods] == [P1, P2]
    assert state.version == 3


# --- schedule -------------------------------------------------------------------------


def schedule(
    n=None, starts="2026-01-01", ends="2026-12-31", every="quarter", amount="30000.00", terms="prepaid", remind=7
):
    n = periods_needed(d(starts), d(ends), every) if n is None else n
    return SchedulePeriods(
        CONTRACT_ID, [uuid4() for _ in range(n)], d(starts), d(ends), every, Decimal(amount), "RUB", terms, remind
    )


def test_schedule_adds_one_event_per_period_with_reminders():
    command = schedule()
    events, state = then_state(given(opened()), command)
    assert [(e.period_id, e.starts_on, e.ends_on, e.remind_on) for e in events] == [
        (command.period_ids[0], date(2026, 1, 1), date(2026, 3, 31), date(2026, 3, 24)),
        (command.period_ids[1], date(2026, 4, 1), date(2026, 6, 30), date(2026, 6, 23)),
        (command.period_ids[2], date(2026, 7, 1), date(2026, 9, 30), date(2026, 9, 23)),
        (command.period_ids[3], date(2026, 10, 1), date(2026, 12, 31), date(2026, 12, 24)),
    ]
    assert all(e.amount == Decimal("30000.00") and e.payment_terms == "prepaid" for e in events)
    assert len(state.periods) == 4 and state.version == 5


def test_schedule_without_reminders():
    events = when(given(opened()), schedule(remind=None, every="month"))
    assert len(events) == 12 and all(e.remind_on is None for e in events)


def test_schedule_checks_ids_overlap_and_values():
    base = given(opened(), added(P1, "2026-05-01", "2026-05-31"))
    assert refused(base, schedule(n=3)).rule == "period_ids_count"
    assert refused(base, schedule()).rule == "period_overlap"
    assert refused(given(opened()), schedule(amount="-5")).rule == "negative_amount"
    assert refused(given(opened()), schedule(remind=-1)).rule == "negative_remind_days"
    assert refused(given(opened()), schedule(starts="2026-02-01", ends="2026-01-01", n=0)).rule == "ends_before_start"
    dup = schedule()
    dup = SchedulePeriods(**{**dup.__dict__, "period_ids": [P2] * 4})
    assert refused(given(opened()), dup, Conflict).rule == "period_exists"


def test_schedule_reminder_longer_than_the_period_falls_before_its_start():
    events = when(given(opened()), schedule(every="month", starts="2026-01-01", ends="2026-02-28", remind=40))
    assert events[0].remind_on == date(2025, 12, 22)


# --- change ---------------------------------------------------------------------------


def test_change_keeps_what_is_not_given_and_emits_all_new_values():
    state = given(opened(), added(P1, "2026-01-01", "2026-03-31", remind_on="2026-03-25"))
    events, after = then_state(
        state, ChangeServicePeriod(CONTRACT_ID, P1, ends_on=d("2026-04-30"), amount=Decimal("40000"))
    )
    assert events == [
        ev.ServicePeriodChanged(
            contract_id=CONTRACT_ID,
            client_id=CLIENT_ID,
            period_id=P1,
            starts_on=d("2026-01-01"),
            ends_on=d("2026-04-30"),
            amount="40000",
            currency="RUB",
            payment_terms="prepaid",
            remind_on=d("2026-03-25"),
        )
    ]
    assert after.periods[0].ends_on == d("2026-04-30") and after.version == 3


def test_change_can_clear_the_reminder_and_no_change_is_a_no_op():
    state = given(opened(), added(P1, "2026-01-01", "2026-03-31", remind_on="2026-03-25"))
    assert when(state, ChangeServicePeriod(CONTRACT_ID, P1, remind_on=None))[0].remind_on is None
    assert when(state, ChangeServicePeriod(CONTRACT_ID, P1, amount=Decimal("30000"))) == []


@pytest.mark.parametrize(
    "change, rule",
    [
        (dict(ends_on=d("2025-12-31")), "ends_before_start"),
        (dict(remind_on=d("2026-04-01")), "reminder_after_end"),
        (dict(ends_on=d("2026-03-01")), "reminder_after_end"),
        (dict(amount=Decimal("-1")), "negative_amount"),
        (dict(ends_on=d("2026-04-15")), "period_overlap"),
        (dict(currency="EUR"), "currency_mismatch"),
    ],
)
def test_change_rechecks_every_rule(change, rule):
    state = given(
        opened(), added(P1, "2026-01-01", "2026-03-31", remind_on="2026-03-25"), added(P2, "2026-04-01", "2026-06-30")
    )
    assert refused(state, ChangeServicePeriod(CONTRACT_ID, P1, **change)).rule == rule


def test_the_only_period_may_change_currency():
    state = given(opened(), added(P1, "2026-01-01", "2026-03-31"))
    assert when(state, ChangeServicePeriod(CONTRACT_ID, P1, currency="EUR"))[0].currency == "EUR"


def test_a_period_with_payments_keeps_its_terms_but_its_reminder_may_move():
    pay = uuid4()
    state = given(opened(), added(P1, "2026-01-01", "2026-03-31"), paid(P1, pay, "1000.00", "1000.00", False))
    err = refused(state, ChangeServicePeriod(CONTRACT_ID, P1, amount=Decimal("40000")))
    assert (err.rule, err.field) == ("period_has_payments", "period_id")
    assert "1000.00 RUB" in err.message
    assert when(state, ChangeServicePeriod(CONTRACT_ID, P1, remind_on=d("2026-03-20")))


def test_change_of_an_unknown_period_is_not_found():
    err = refused(given(opened()), ChangeServicePeriod(CONTRACT_ID, P1, amount=Decimal(1)), NotFound)
    assert (err.rule, err.field) == ("period_not_found", "period_id")


# --- remove ---------------------------------------------------------------------------


def test_remove_a_period():
    events, state = then_state(
        given(opened(), added(P1, "2026-01-01", "2026-03-31")), RemoveServicePeriod(CONTRACT_ID, P1)
    )
    assert events == [ev.ServicePeriodRemoved(contract_id=CONTRACT_ID, client_id=CLIENT_ID, period_id=P1)]
    assert state.periods == () and state.currency is None


def test_remove_refused_with_payments_allowed_once_they_are_cancelled():
    pay = uuid4()
    state = given(opened(), added(P1, "2026-01-01", "2026-03-31"), paid(P1, pay, "30000.00", "30000.00", True))
    assert refused(state, RemoveServicePeriod(CONTRACT_ID, P1)).rule == "period_has_payments"
    state = evolve(
        state,
        ev.PaymentCancelled(
            contract_id=CONTRACT_ID,
            client_id=CLIENT_ID,
            period_id=P1,
            payment_id=pay,
            amount="30000",
            currency="RUB",
            reason="wrong client",
            period_paid_amount="0",
            period_paid=False,
        ),
    )
    assert when(state, RemoveServicePeriod(CONTRACT_ID, P1))


def test_remove_unknown_period_is_not_found():
    assert refused(given(opened()), RemoveServicePeriod(CONTRACT_ID, P1), NotFound).rule == "period_not_found"
