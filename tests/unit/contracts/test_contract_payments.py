"""Recording and cancelling payments, idempotency by reference, DebtSettled."""

from decimal import Decimal
from uuid import uuid4

import pytest

from services.contracts.domain.commands import CancelPayment, RecordPayment
from shared.domain_errors import Conflict, NotFound, RuleViolated
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
BASE = (opened(), added(P1, "2026-01-01", "2026-03-31"), added(P2, "2026-04-01", "2026-06-30"))


def pay(amount=None, period=P1, payment_id=None, reference=None, paid_on="2026-01-10"):
    return RecordPayment(
        CONTRACT_ID, period, payment_id or uuid4(), d(paid_on), None if amount is None else Decimal(amount), reference
    )


def test_mark_paid_pays_the_full_cost():
    command = pay()
    events, state = then_state(given(*BASE), command)
    assert events == [paid(P1, command.payment_id, "30000.00", "30000.00", True)]
    period = state.period(P1)
    assert (period.paid_amount, period.paid) == (Decimal("30000.00"), True)
    assert period.payments[0].payment_id == command.payment_id


def test_partial_payments_add_up_and_the_rest_is_paid_without_amount():
    events1, state = then_state(given(*BASE), pay("10000"))
    assert (events1[0].period_paid_amount, events1[0].period_paid) == (Decimal("10000"), False)
    events2, state = then_state(state, pay("5000.50"))
    assert events2[0].period_paid_amount == Decimal("15000.50")
    events3, state = then_state(state, pay())
    assert events3[0].amount == Decimal("14999.50") and events3[0].period_paid
    assert state.period(P1).paid and not state.period(P2).paid


def test_payment_exceeding_what_is_owed_names_the_amount_owed():
    state = given(*BASE, paid(P1, uuid4(), "10000.00", "10000.00", False))
    with pytest.raises(RuleViolated) as exc:
        when(state, pay("50000"))
    assert (exc.value.rule, exc.value.field) == ("payment_exceeds_owed", "amount")
    assert exc.value.message == "payment 50000.00 RUB exceeds the 20000.00 RUB still owed on this period"


def test_a_fully_paid_period_takes_no_more_payments():
    state = given(*BASE, paid(P1, uuid4(), "30000.00", "30000.00", True))
    for command in (pay(), pay("1")):
        with pytest.raises(RuleViolated) as exc:
            when(state, command)
        assert exc.value.rule == "period_paid"


@pytest.mark.parametrize(
    "amount, rule", [("0", "payment_not_positive"), ("-5", "payment_not_positive"), ("1.001", "amount_precision")]
)
def test_zero_negative_and_too_precise_payments_are_refused(amount, rule):
    with pytest.raises(RuleViolated) as exc:
        when(given(*BASE), pay(amount))
    assert (exc.value.rule, exc.value.field) == (rule, "amount")


def test_payment_on_unknown_period_is_not_found_and_payment_id_must_be_new():
    with pytest.raises(NotFound) as exc:
        when(given(*BASE), pay(period=uuid4()))
    assert exc.value.rule == "period_not_found"
    pid = uuid4()
    state = given(*BASE, paid(P1, pid, "100.00", "100.00", False))
    with pytest.raises(Conflict) as exc:
        when(state, pay("100", payment_id=pid))
    assert exc.value.rule == "payment_exists"


def test_payments_go_through_on_a_terminated_contract():
    state = given(
        *BASE,
        ev.ContractTerminated(contract_id=CONTRACT_ID, client_id=CLIENT_ID, terminated_on=d("2026-03-31"), reason="x"),
    )
    assert when(state, pay())


# --- idempotency by reference -----------------------------------------------------------


def test_a_reference_already_recorded_makes_the_payment_a_no_op():
    first = pay("10000", reference="PP-42")
    _, state = then_state(given(*BASE), first)
    assert when(state, pay("10000", reference="PP-42")) == []
    assert when(state, pay(reference=" PP-42 ")) == []  # retried: even if the rest is now different
    (existing,) = state.payments_under("PP-42")
    assert (existing.payment_id, existing.period_id) == (first.payment_id, P1)
    assert state.payments_under("PP-43") == ()


def test_a_reference_is_checked_before_the_period_being_paid():
    _, state = then_state(given(*BASE), pay(reference="PP-1"))
    assert state.period(P1).paid
    assert when(state, pay(reference="PP-1")) == []


def test_a_reference_on_another_period_is_a_conflict():
    _, state = then_state(given(*BASE), pay("100", reference="PP-1"))
    with pytest.raises(Conflict) as exc:
        when(state, pay("100", period=P2, reference="PP-1"))
    assert (exc.value.rule, exc.value.field) == ("reference_used", "reference")


def test_a_cancelled_reference_can_be_used_again():
    first = pay("100", reference="PP-1")
    _, state = then_state(given(*BASE), first)
    _, state = then_state(state, CancelPayment(CONTRACT_ID, P1, first.payment_id, "typo"))
    assert state.payments_under("PP-1") == ()
    assert when(state, pay("100", reference="PP-1"))


# --- cancel ---------------------------------------------------------------------------


def test_cancel_a_payment_reopens_the_period():
    first = pay()
    _, state = then_state(given(*BASE), first)
    events, state = then_state(state, CancelPayment(CONTRACT_ID, P1, first.payment_id, "wrong client"))
    assert events == [
        ev.PaymentCancelled(
            contract_id=CONTRACT_ID,
            client_id=CLIENT_ID,
            period_id=P1,
            payment_id=first.payment_id,
            amount="30000",
            currency="RUB",
            reason="wrong client",
            period_paid_amount="0",
            period_paid=False,
        )
    ]
    period = state.period(P1)
    assert (period.paid, period.paid_amount, period.payments[0].cancelled) == (False, 0, True)
    assert when(state, pay())  # can be paid again


def test_cancel_one_of_two_partial_payments():
    a, b = pay("10000"), pay("20000")
    _, state = then_state(given(*BASE), a)
    _, state = then_state(state, b)
    events, state = then_state(state, CancelPayment(CONTRACT_ID, P1, a.payment_id, "duplicate"))
    assert (events[0].period_paid_amount, events[0].period_paid) == (Decimal("20000"), False)
    assert state.period(P1).owed == Decimal("10000")


def test_cancel_unknown_or_already_cancelled_payment_is_refused():
    with pytest.raises(NotFound) as exc:
        when(given(*BASE), CancelPayment(CONTRACT_ID, P1, uuid4(), "x"))
    assert exc.value.rule == "payment_not_found"
    first = pay()
    _, state = then_state(given(*BASE), first)
    with pytest.raises(NotFound):  # recorded on P1, not on P2
        when(state, CancelPayment(CONTRACT_ID, P2, first.payment_id, "x"))
    with pytest.raises(RuleViolated) as exc:
        when(state, CancelPayment(CONTRACT_ID, P1, first.payment_id, " "))
    assert exc.value.rule == "required"
    _, state = then_state(state, CancelPayment(CONTRACT_ID, P1, first.payment_id, "x"))
    with pytest.raises(RuleViolated) as exc:
        when(state, CancelPayment(CONTRACT_ID, P1, first.payment_id, "x"))
    assert exc.value.rule == "payment_cancelled"


# --- issue 12, case 1: a real payment must never be dropped silently --------------------


def test_the_same_reference_with_another_amount_is_a_conflict_not_a_silent_no_op():
    """Pay 10 000 with reference "Счёт 15", then 20 000 with the same reference on the same
    period: the second is another payment, not a retry, and must not vanish."""
    first = pay("10000", reference="Счёт 15")
    _, state = then_state(given(*BASE), first)
    with pytest.raises(Conflict) as exc:
        when(state, pay("20000", reference="Счёт 15"))
    assert (exc.value.rule, exc.value.field) == ("reference_used", "reference")
    assert str(first.payment_id) in exc.value.message and "10000.00 RUB" in exc.value.message
    assert "'" not in exc.value.message.replace("'s", "")  # no Python repr in the message


@pytest.mark.parametrize("change", [{"paid_on": "2026-01-11"}, {"period": P2}, {"amount": "9999.99"}])
def test_the_same_reference_with_any_other_value_is_a_conflict(change):
    _, state = then_state(given(*BASE), pay("10000", reference="PP-9"))
    with pytest.raises(Conflict) as exc:
        when(state, pay(**{"amount": "10000", "reference": "PP-9", **change}))
    assert exc.value.rule == "reference_used"


def test_a_retry_with_the_same_values_records_nothing_and_names_the_original():
    first = pay("10000", reference="PP-9")
    _, state = then_state(given(*BASE), first)
    assert when(state, pay("10000", reference="PP-9")) == []
    (original,) = state.payments_under("PP-9")
    assert original.payment_id == first.payment_id
    assert original.version == state.version  # the stream version of its PaymentRecorded


# --- paid_on no later than tomorrow in the company's zone --------------------------------


def test_paid_on_later_than_the_bound_is_refused():
    command = RecordPayment(CONTRACT_ID, P1, uuid4(), d("2099-01-01"), None, None, latest_paid_on=d("2026-01-11"))
    with pytest.raises(RuleViolated) as exc:
        when(given(*BASE), command)
    assert (exc.value.rule, exc.value.field) == ("paid_on_in_future", "paid_on")
    assert "2099-01-01" in exc.value.message and "2026-01-11" in exc.value.message
    on_the_bound = RecordPayment(CONTRACT_ID, P1, uuid4(), d("2026-01-11"), None, None, latest_paid_on=d("2026-01-11"))
    assert when(given(*BASE), on_the_bound)


# --- currencies with 0 and 3 minor units (issue 12, case 11) -----------------------------


def test_three_decimal_currencies_keep_three_decimals_and_zero_decimal_ones_none():
    kwd = (opened(), added(P1, "2026-01-01", "2026-03-31", amount="1000", currency="KWD"))
    events, state = then_state(given(*kwd), pay("250.125"))
    assert events[0].model_dump(mode="json")["amount"] == "250.125"
    assert events[0].model_dump(mode="json")["period_paid_amount"] == "250.125"
    assert state.period(P1).owed == Decimal("749.875")
    jpy = (opened(), added(P1, "2026-01-01", "2026-03-31", amount="30000.00", currency="JPY"))
    events, _ = then_state(given(*jpy), pay())
    assert events[0].model_dump(mode="json")["amount"] == "30000"
    with pytest.raises(RuleViolated) as exc:
        when(given(*jpy), pay("100.50"))
    assert (exc.value.rule, exc.value.field) == ("amount_precision", "amount")
