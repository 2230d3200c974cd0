"""The fold: given rows, when an event is folded, then these rows (and dirty marks)."""

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import uuid4

from services.projections.domain.fold import WorkingSet, evolve
from services.projections.domain.rows import Fact
from shared.events.base import registry

CLIENT, CONTRACT, PERIOD, PAYMENT = uuid4(), uuid4(), uuid4(), uuid4()


def fact(event_type: str, version: int, position: int | None = None, **data: object) -> Fact:
    """A fact whose payload is validated by its event model, as the consumer hands it over."""
    event = registry.model(event_type).model_validate({"client_id": CLIENT, "contract_id": CONTRACT, **data})
    return Fact(f"contract-{CONTRACT}", version, CLIENT, position, event)


def reminder() -> dict[str, object]:
    """A ServicePeriodEndingSoon payload: a time event, which changes only the position."""
    return {
        "client_name": "Romashka",
        "manager_name": "Ivan",
        "contract_number": "A-1",
        "contract_title": "t",
        "remind_on": "2026-03-20",
        "period": {
            "period_id": PERIOD,
            "starts_on": "2026-01-01",
            "ends_on": "2026-03-31",
            "amount": "30000.00",
            "currency": "RUB",
            "payment_terms": "prepaid",
            "paid_amount": "0.00",
            "paid": False,
        },
    }


def period_data(**over: Any) -> dict[str, Any]:
    return {
        "period_id": PERIOD,
        "starts_on": date(2026, 1, 1),
        "ends_on": date(2026, 3, 31),
        "amount": Decimal("30000.00"),
        "currency": "RUB",
        "payment_terms": "prepaid",
        "remind_on": None,
        **over,
    }


def folded(*facts: Fact) -> WorkingSet:
    ws = WorkingSet()
    for f in facts:
        evolve(ws, f)
    return ws


def test_contract_with_period_and_payment() -> None:
    ws = folded(
        fact("ContractOpened", 1, 10, number="A-1", title="IT support", signed_on="2026-01-01"),
        fact("ServicePeriodAdded", 2, 11, **period_data()),
        fact(
            "PaymentRecorded",
            3,
            12,
            period_id=PERIOD,
            payment_id=PAYMENT,
            amount="30000.00",
            currency="RUB",
            paid_on=date(2026, 1, 5),
            reference="pp-1",
            period_paid_amount=Decimal("30000.00"),
            period_paid=True,
        ),
    )
    assert ws.contracts[CONTRACT].number == "A-1" and ws.contracts[CONTRACT].signed_on == date(2026, 1, 1)
    assert ws.periods[PERIOD].paid_amount == Decimal("30000.00")
    assert ws.payments[PAYMENT].paid_on == date(2026, 1, 5) and not ws.payments[PAYMENT].cancelled
    assert ws.clients[CLIENT].position == 12
    assert ws.dirty_periods == {PERIOD} and ws.dirty_payments == {PAYMENT}


def test_payment_cancelled_restores_the_period_state_from_the_event() -> None:
    ws = folded(
        fact("ServicePeriodAdded", 2, **period_data()),
        fact(
            "PaymentRecorded",
            3,
            period_id=PERIOD,
            payment_id=PAYMENT,
            amount="30000.00",
            currency="RUB",
            paid_on="2026-01-05",
            period_paid_amount="30000.00",
            period_paid=True,
        ),
        fact(
            "PaymentCancelled",
            4,
            period_id=PERIOD,
            payment_id=PAYMENT,
            amount="30000.00",
            currency="RUB",
            reason="typo",
            period_paid_amount="0.00",
            period_paid=False,
        ),
    )
    assert ws.payments[PAYMENT].cancelled
    assert ws.periods[PERIOD].paid_amount == Decimal("0.00")


def test_period_changed_keeps_what_was_paid_and_removed_deletes() -> None:
    ws = folded(fact("ServicePeriodAdded", 2, **period_data()))
    ws.periods[PERIOD].paid_amount = Decimal("100")
    evolve(ws, fact("ServicePeriodChanged", 3, **period_data(amount="35000.00", remind_on="2026-03-20")))
    assert ws.periods[PERIOD].amount == Decimal("35000.00")
    assert ws.periods[PERIOD].remind_on == date(2026, 3, 20)
    assert ws.periods[PERIOD].paid_amount == Decimal("100")
    evolve(ws, fact("ServicePeriodRemoved", 4, period_id=PERIOD))
    assert PERIOD not in ws.periods and ws.removed_periods == {PERIOD} and PERIOD not in ws.dirty_periods


def test_terminated_contract() -> None:
    ws = folded(
        fact("ContractOpened", 1, number="A-1", title="t", signed_on=date(2026, 1, 1)),
        fact("ContractTerminated", 2, terminated_on="2026-06-01", reason="moved"),
    )
    c = ws.contracts[CONTRACT]
    # the date is known (later periods are void) but the status waits for the day itself
    assert (c.status, c.terminated_on, c.termination_reason) == ("active", date(2026, 6, 1), "moved")
    evolve(ws, fact("ContractTerminationTookEffect", 3, terminated_on="2026-06-01"))
    assert (c.status, c.terminated_on) == ("terminated", date(2026, 6, 1))


def test_a_withdrawn_termination_clears_the_date() -> None:
    ws = folded(
        fact("ContractOpened", 1, number="A-1", title="t", signed_on=date(2026, 1, 1)),
        fact("ContractTerminated", 2, terminated_on="2026-06-01", reason="moved"),
        fact("ContractTerminationWithdrawn", 3, terminated_on="2026-06-01"),
    )
    c = ws.contracts[CONTRACT]
    assert (c.status, c.terminated_on, c.termination_reason) == ("active", None, None)


def test_client_details_and_position_only_grow() -> None:
    registered = registry.model("ClientRegistered").model_validate(
        {"client_id": CLIENT, "name": "Romashka", "manager_name": "Ivan", "manager_email": "ivan@example.com"}
    )
    ws = folded(
        Fact(f"client-{CLIENT}", 1, CLIENT, 7, registered), fact("ServicePeriodEndingSoon", 5, 3, **reminder())
    )  # other types: position only
    assert ws.clients[CLIENT].name == "Romashka" and ws.clients[CLIENT].position == 7


def test_event_for_a_missing_row_changes_nothing_but_the_position() -> None:
    ws = folded(fact("ContractTerminated", 2, 9, terminated_on="2026-06-01", reason="x"))
    assert ws.contracts == {} and ws.clients[CLIENT].position == 9
