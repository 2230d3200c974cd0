"""One bank payment over several periods (a receipt), and references naming one payment."""

from decimal import Decimal
from uuid import uuid4

import pytest

from services.contracts.domain.commands import Allocation, CancelPayment, RecordPayment, RecordReceipt
from services.contracts.domain.receipt_rules import part_id
from shared.domain_errors import Conflict, RuleViolated
from shared.events import contracts as ev
from shared.events.schedule import ServicePeriodBecameOverdue
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

Q1, Q2, Q3, Q4 = uuid4(), uuid4(), uuid4(), uuid4()
YEAR = (
    opened(),
    added(Q1, "2026-01-01", "2026-03-31"),
    added(Q2, "2026-04-01", "2026-06-30"),
    added(Q3, "2026-07-01", "2026-09-30"),
    added(Q4, "2026-10-01", "2026-12-31"),
)
Q1_PAID = paid(Q1, uuid4(), "30000.00", "30000.00", True)
Q2_PAID = paid(Q2, uuid4(), "30000.00", "30000.00", True)


def receipt(amount, reference="Счёт 15", allocations=None, paid_on="2026-07-02", receipt_id=None, latest=None):
    return RecordReceipt(
        CONTRACT_ID,
        receipt_id or uuid4(),
        Decimal(amount),
        d(paid_on),
        reference,
        None if allocations is None else [Allocation(p, Decimal(a)) for p, a in allocations],
        latest_paid_on=None if latest is None else d(latest),
    )


def parts(events):
    return [(e.period_id, str(e.amount)) for e in events if isinstance(e, ev.PaymentRecorded)]


def test_one_bank_payment_for_q3_and_q4_is_two_payments_under_one_reference_and_receipt():
    """Issue 12, case 1: one bank payment covering Q3 and Q4 could not be recorded (409 on Q4)."""
    command = receipt("60000", allocations=[(Q3, "30000"), (Q4, "30000")])
    events, state = then_state(given(*YEAR, Q1_PAID, Q2_PAID), command)
    assert parts(events) == [(Q3, "30000.00"), (Q4, "30000.00")]
    assert {e.reference for e in events} == {"Счёт 15"} and {e.receipt_id for e in events} == {command.receipt_id}
    assert [e.payment_id for e in events] == [part_id(command.receipt_id, Q3), part_id(command.receipt_id, Q4)]
    assert state.period(Q3).paid and state.period(Q4).paid
    assert [p.payment_id for p in state.payments_under("Счёт 15")] == [e.payment_id for e in events]


def test_without_allocations_the_oldest_owed_periods_are_paid_first_skipping_paid_ones():
    state = given(*YEAR, Q2_PAID, paid(Q3, uuid4(), "10000.00", "10000.00", False))
    events, after = then_state(state, receipt("55000"))
    assert parts(events) == [(Q1, "30000.00"), (Q3, "20000.00"), (Q4, "5000.00")]
    assert after.period(Q4).owed == Decimal("25000.00")


def test_oldest_first_is_by_due_day_so_a_postpaid_period_is_due_after_it_ends():
    p1, p2 = uuid4(), uuid4()
    mixed = (
        opened(),
        added(p1, "2026-01-01", "2026-03-31", payment_terms="postpaid"),  # due 1 April
        added(p2, "2026-02-01", "2026-02-28", amount="1000.00"),
    )  # prepaid: due 1 February
    events, _ = when(given(*mixed), receipt("1500")), None
    assert parts(events) == [(p2, "1000.00"), (p1, "500.00")]


def test_void_periods_after_termination_are_skipped():
    state = given(
        *YEAR,
        ev.ContractTerminated(
            contract_id=CONTRACT_ID, client_id=CLIENT_ID, terminated_on=d("2026-07-01"), reason="moved"
        ),
    )
    assert parts(when(state, receipt("60000"))) == [(Q1, "30000.00"), (Q2, "30000.00")]
    with pytest.raises(RuleViolated) as exc:
        when(state, receipt("60000.01"))
    assert (exc.value.rule, exc.value.field) == ("payment_exceeds_owed", "amount")
    assert "60000.00 RUB still owed" in exc.value.message
    with pytest.raises(RuleViolated) as exc:
        when(state, receipt("30000", allocations=[(Q3, "30000")]))
    assert (exc.value.rule, exc.value.field) == ("period_void", "allocations[0].period_id")


def test_more_than_everything_owed_is_refused():
    with pytest.raises(RuleViolated) as exc:
        when(given(*YEAR), receipt("120000.01"))
    assert (exc.value.rule, exc.value.field) == ("payment_exceeds_owed", "amount")
    assert exc.value.message == ("payment 120000.01 RUB exceeds the 120000.00 RUB still owed on contract A-17")
    with pytest.raises(RuleViolated) as exc:
        when(given(*YEAR), receipt("60000.01", allocations=[(Q1, "30000.01"), (Q2, "30000")]))
    assert (exc.value.rule, exc.value.field) == ("payment_exceeds_owed", "allocations[0].amount")


@pytest.mark.parametrize(
    "allocations, rule, field",
    [
        ([(Q1, "30000"), (Q2, "20000")], "allocations_sum", "allocations"),
        ([], "allocations_sum", "allocations"),
        ([(Q1, "30000"), ("unknown", "30000")], "unknown_period", "allocations[1].period_id"),
        ([(Q1, "30000"), (Q1, "30000")], "duplicate_period", "allocations[1].period_id"),
        ([(Q1, "30000.005"), (Q2, "29999.995")], "amount_precision", "allocations[0].amount"),
        ([(Q1, "30000"), (Q2, "0"), (Q3, "30000")], "payment_not_positive", "allocations[1].amount"),
    ],
)
def test_bad_allocations_are_refused_naming_the_field_and_rule(allocations, rule, field):
    allocations = [(uuid4() if p == "unknown" else p, a) for p, a in allocations]
    with pytest.raises(RuleViolated) as exc:
        when(given(*YEAR), receipt("60000", allocations=allocations))
    assert (exc.value.rule, exc.value.field) == (rule, field)


def test_an_allocation_to_a_paid_period_is_refused():
    with pytest.raises(RuleViolated) as exc:
        when(given(*YEAR, Q1_PAID), receipt("30000", allocations=[(Q1, "30000")]))
    assert (exc.value.rule, exc.value.field) == ("period_paid", "allocations[0].period_id")


def test_a_retry_of_the_whole_receipt_records_nothing_and_anything_else_is_reference_used():
    command = receipt("45000")
    _, state = then_state(given(*YEAR), command)
    assert when(state, receipt("45000")) == []  # a new receipt id, same values: the retry
    assert when(state, receipt("45000", allocations=[(Q1, "30000"), (Q2, "15000")])) == []
    for other in (
        receipt("45000.01"),
        receipt("45000", paid_on="2026-07-03"),
        receipt("45000", allocations=[(Q1, "15000"), (Q2, "30000")]),
        RecordPayment(CONTRACT_ID, Q2, uuid4(), d("2026-07-02"), Decimal("15000"), "Счёт 15"),
    ):
        with pytest.raises(Conflict) as exc:
            when(state, other)
        assert (exc.value.rule, exc.value.field) == ("reference_used", "reference")
        assert f"receipt {command.receipt_id}" in exc.value.message


def test_a_receipt_completing_an_overdue_period_settles_the_debt():
    overdue = ServicePeriodBecameOverdue(
        contract_id=CONTRACT_ID,
        client_id=CLIENT_ID,
        client_name="x",
        manager_name="m",
        manager_email="m@example.com",
        contract_number="A-17",
        contract_title="IT support",
        period_id=Q1,
        starts_on=d("2026-01-01"),
        ends_on=d("2026-03-31"),
        payment_terms="prepaid",
        due_on=d("2026-01-01"),
        overdue_on=d("2026-01-01"),
        amount="30000.00",
        paid_amount="0.00",
        amount_due="30000.00",
        currency="RUB",
    )
    command = receipt("40000")
    events, state = then_state(given(*YEAR, overdue), command)
    assert [type(e).__name__ for e in events] == ["PaymentRecorded", "DebtSettled", "PaymentRecorded"]
    first = state.payments_under("Счёт 15")[0]
    assert first.settled_version == first.version + 1 == state.version - 1


def test_paid_on_in_the_future_and_a_long_or_missing_reference_are_refused():
    with pytest.raises(RuleViolated) as exc:
        when(given(*YEAR), receipt("100", paid_on="2099-01-01", latest="2026-07-03"))
    assert (exc.value.rule, exc.value.field) == ("paid_on_in_future", "paid_on")
    with pytest.raises(RuleViolated) as exc:
        when(given(*YEAR), receipt("100", reference="x" * 101))
    assert (exc.value.rule, exc.value.field) == ("reference_too_long", "reference")
    with pytest.raises(RuleViolated) as exc:
        when(given(*YEAR), receipt("100", reference="  "))
    assert (exc.value.rule, exc.value.field) == ("required", "reference")


def test_three_decimal_currency_receipt_keeps_its_minor_units():
    k1, k2 = uuid4(), uuid4()
    kwd = (
        opened(),
        added(k1, "2026-01-01", "2026-03-31", amount="100.250", currency="KWD"),
        added(k2, "2026-04-01", "2026-06-30", amount="100.250", currency="KWD"),
    )
    events = when(given(*kwd), receipt("150.125"))
    assert [e.model_dump(mode="json")["amount"] for e in events] == ["100.250", "49.875"]


def test_cancelling_every_part_frees_the_reference():
    command = receipt("45000")
    events, state = then_state(given(*YEAR), command)
    for e in events:
        _, state = then_state(state, CancelPayment(CONTRACT_ID, e.period_id, e.payment_id, "bounced"))
    assert state.payments_under("Счёт 15") == ()
    assert when(state, receipt("45000"))
