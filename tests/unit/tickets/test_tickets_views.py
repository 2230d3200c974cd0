"""A ticket's body, built by ``views`` as a plain dict, is byte for byte what its documented
response model would have answered (``schemas.TicketOut`` and the bodies that carry it)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from services.tickets.domain import ticket as domain
from services.tickets.domain.ticket import TicketState
from services.tickets.entrypoints.http import schemas as s
from services.tickets.entrypoints.http import views
from shared.events.tickets import ActivePeriod, CoverageSnapshot, MoneyTotal, OwedPeriod
from tests.support.json_bodies import same_as_model
from tests.unit.tickets.tickets_helpers import CONTRACT, NOT_COVERED, add, item, register, snapshot


def state_of(*commands: object) -> TicketState:
    state: TicketState | None = None
    for command in commands:
        for event in domain.decide(command, state):  # type: ignore[arg-type]  # the helpers' commands
            state = domain.evolve(state, event)
    assert state is not None
    return state


def unpaid_in_two_currencies() -> CoverageSnapshot:
    def owed(amount: str, currency: str) -> OwedPeriod:
        return OwedPeriod(
            contract_id=CONTRACT,
            period_id=uuid.uuid4(),
            starts_on=date(2026, 4, 1),
            ends_on=date(2026, 6, 30),
            payment_terms="postpaid",
            due_on=date(2026, 4, 1),
            amount_due=Decimal(amount),
            currency=currency,
            days_overdue=3,
        )

    return CoverageSnapshot(
        status="unpaid",
        on=date(2026, 5, 15),
        active_period=ActivePeriod(
            contract_id=CONTRACT,
            contract_number=None,
            period_id=uuid.uuid4(),
            starts_on=date(2026, 5, 1),
            ends_on=date(2026, 5, 31),
            payment_terms="prepaid",
            amount=Decimal("30000"),
            paid_amount=Decimal("0.5"),
            paid=False,
            currency="EUR",
        ),
        owed=(owed("10.5", "EUR"), owed("7", "JPY")),
        totals=(MoneyTotal(amount=Decimal("10.5"), currency="EUR"), MoneyTotal(amount=Decimal("7"), currency="JPY")),
        source_position=None,
        stale=True,
        checked_at=datetime(2026, 5, 15, 12, 0, 0, 1234, tzinfo=timezone(timedelta(hours=3))),
    )


COVERAGES = [
    snapshot(),
    snapshot("unpaid", owed="30000.00", warnings=(("CURRENT_PERIOD_UNPAID", "unpaid"),)),
    NOT_COVERED,
    unpaid_in_two_currencies(),
    snapshot("unknown", warnings=(("COVERAGE_UNKNOWN", "projections did not answer"),)),
]


@pytest.mark.parametrize("coverage", COVERAGES, ids=lambda c: c.status)
def test_a_registered_tickets_body_is_its_models(coverage: CoverageSnapshot) -> None:
    state = state_of(register(coverage, override_reason="urgent"))
    same_as_model(s.TicketOut, views.ticket(state, 812))
    same_as_model(s.CoverageOut, views.coverage(coverage))


def test_a_ticket_with_lines_in_two_currencies_and_the_item_bodies_are_their_models() -> None:
    registered = register(snapshot(), title="Server room: «ничего не работает»")
    lines = [
        add(registered.ticket_id, item(), quantity="2.5"),
        add(registered.ticket_id, item("VISIT", price="90", currency="EUR"), code="VISIT"),
    ]
    state = state_of(registered, *lines)
    body = views.ticket(state, None)
    assert [line["quantity"] for line in body["lines"]] == ["2.5", "1"]  # as the events wrote them
    same_as_model(s.TicketOut, body)
    same_as_model(s.ItemAdded, {"line_id": lines[0].line_id, "position": 9, "ticket": body})
    same_as_model(s.ItemRemoved, {"position": None, "ticket": body})


def test_the_check_fails_on_a_body_out_of_its_models_order() -> None:
    body = views.ticket(state_of(register(snapshot())), 1)
    moved = {"client_id": body["client_id"], **{k: v for k, v in body.items() if k != "client_id"}}
    with pytest.raises(AssertionError):
        same_as_model(s.TicketOut, moved)
