"""The ticket aggregate: given events, when a command, then events (or a refusal)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from services.tickets.domain.commands import RemoveTicketItem
from services.tickets.domain.errors import NotCovered
from services.tickets.domain.ticket import decide, evolve, line_total, registration_moment
from shared.calendar import CompanyCalendar, zone
from shared.domain_errors import Conflict, NotFound, RuleViolated
from shared.events.tickets import TicketItemAdded, TicketItemRemoved, TicketRegistered
from shared.fold import fold
from tests.unit.tickets.tickets_helpers import (
    CLIENT,
    NOT_COVERED,
    NOW,
    add,
    item,
    register,
    snapshot,
)


def registered(command=None):
    command = command or register()
    return decide(command, None)


# --- registration ------------------------------------------------------------------------


def test_registering_records_the_coverage_snapshot_it_was_given():
    coverage = snapshot(
        "unpaid",
        owed="30000.00",
        warnings=(("CURRENT_PERIOD_UNPAID", "the current period 2026-04-01 – 2026-06-30 is unpaid"),),
    )
    [event] = decide(register(coverage, title="  Mail server down  "), None)
    assert isinstance(event, TicketRegistered)
    assert event.client_id == CLIENT and event.title == "Mail server down"
    assert event.coverage == coverage and event.not_covered_policy == "warn"
    state = fold(evolve, [event], None)
    assert state is not None and state.coverage.status == "unpaid" and not state.billable


@pytest.mark.parametrize("title", ["", "   "])
def test_an_empty_title_is_refused_naming_the_field(title):
    with pytest.raises(RuleViolated) as refused:
        decide(register(title=title), None)
    assert refused.value.field == "title" and refused.value.rule == "required"


def test_a_ticket_id_is_registered_once():
    command = register()
    state = fold(evolve, decide(command, None), None)
    with pytest.raises(Conflict):
        decide(command, state)


def test_not_covered_with_policy_warn_registers_and_is_billable():
    [event] = decide(register(NOT_COVERED, policy="warn"), None)
    state = fold(evolve, [event], None)
    assert state is not None and state.coverage.status == "not_covered" and state.billable


def test_not_covered_with_policy_block_is_refused_with_the_reason():
    with pytest.raises(NotCovered) as refused:
        decide(register(NOT_COVERED, policy="block"), None)
    assert refused.value.field == "override_reason" and refused.value.rule == "client_not_covered"
    assert "service cannot be provided under subscription" in refused.value.message
    assert refused.value.coverage == NOT_COVERED


def test_policy_block_lets_an_override_through_and_records_its_reason():
    [event] = decide(register(NOT_COVERED, policy="block", override_reason=" server room flooded "), None)
    assert event.override_reason == "server room flooded"
    assert fold(evolve, [event], None).override_reason == "server room flooded"


def test_a_blank_override_reason_is_no_override():
    with pytest.raises(NotCovered):
        decide(register(NOT_COVERED, policy="block", override_reason="   "), None)


@pytest.mark.parametrize("status", ["covered", "unpaid", "unknown"])
def test_policy_block_only_refuses_not_covered(status):
    assert decide(register(snapshot(status), policy="block"), None)


def test_registration_moment():
    assert registration_moment(None, NOW) == (NOW, date(2026, 5, 15))
    assert registration_moment(date(2026, 2, 10), NOW) == (datetime(2026, 2, 10, tzinfo=UTC), date(2026, 2, 10))
    moscow = datetime(2026, 4, 1, 1, 30, tzinfo=timezone(timedelta(hours=3)))
    assert registration_moment(moscow, NOW) == (moscow, date(2026, 3, 31))  # the company's (UTC) day
    naive = datetime(2026, 4, 1, 12, 0)
    assert registration_moment(naive, NOW) == (naive.replace(tzinfo=UTC), date(2026, 4, 1))


def test_a_ticket_at_half_past_midnight_in_moscow_is_checked_against_that_day():
    """Issue 12 case 9: for a company in Moscow (ABONENT_TIMEZONE=Europe/Moscow) a ticket at 00:30
    on 1 January — 21:30 UTC on 31 December — is registered on, and checked against, 1 January."""
    company = CompanyCalendar(zone("Europe/Moscow"))
    half_past_midnight = datetime(2026, 12, 31, 21, 30, tzinfo=UTC)
    assert registration_moment(None, half_past_midnight, company) == (half_past_midnight, date(2027, 1, 1))
    assert registration_moment(half_past_midnight, NOW, company)[1] == date(2027, 1, 1)
    local = datetime(2027, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=3)))
    assert registration_moment(local, NOW, company) == (local, date(2027, 1, 1))
    at, on = registration_moment(date(2027, 1, 1), NOW, company)
    assert (at.isoformat(), on) == ("2027-01-01T00:00:00+03:00", date(2027, 1, 1))


# --- cost specification ------------------------------------------------------------------


def test_a_line_is_added_at_the_price_of_the_moment():
    state = fold(evolve, registered(), None)
    [event] = decide(add(state.id, item(price="1500.00"), "2"), state)
    assert isinstance(event, TicketItemAdded)
    assert (event.unit_price, event.quantity, event.line_total) == (
        Decimal("1500.00"),
        Decimal("2"),
        Decimal("3000.00"),
    )
    assert event.client_id == CLIENT and event.name == "Workstation set-up"
    later = evolve(state, event)
    # a later price change does not touch the line already added
    [event2] = decide(add(state.id, item(price="2000.00"), "1"), later)
    final = evolve(later, event2)
    assert [x.line_total for x in final.lines] == [Decimal("3000.00"), Decimal("2000.00")]
    assert final.totals == {"RUB": Decimal("5000.00")} and final.billable and final.version == 3


def test_totals_are_per_currency():
    state = fold(evolve, registered(), None)
    for price_item, qty in [
        (item(price="100.00"), "1.5"),
        (item("TRAIN", "50.00", "EUR"), "3"),
        (item(price="10.01"), "1"),
    ]:
        state = evolve(state, decide(add(state.id, price_item, qty, code=price_item.code), state)[0])
    assert state.totals == {"EUR": Decimal("150.00"), "RUB": Decimal("160.01")}


def test_line_totals_round_half_up_to_the_currency():
    assert line_total(Decimal("0.05"), Decimal("0.5"), "RUB") == Decimal("0.03")
    assert line_total(Decimal("1001"), Decimal("1.5"), "JPY") == Decimal("1502")
    assert line_total(Decimal("33.33"), Decimal("0.333"), "USD") == Decimal("11.10")


def test_an_unknown_item_is_refused_naming_code():
    state = fold(evolve, registered(), None)
    with pytest.raises(NotFound) as refused:
        decide(add(state.id, None, code="NOPE"), state)
    assert (refused.value.field, refused.value.rule) == ("code", "price_item_not_found")


def test_an_inactive_item_is_refused_naming_code():
    state = fold(evolve, registered(), None)
    with pytest.raises(RuleViolated) as refused:
        decide(add(state.id, item(active=False)), state)
    assert (refused.value.field, refused.value.rule) == ("code", "price_item_inactive")


@pytest.mark.parametrize("quantity", ["0", "-1", "-0.5"])
def test_zero_or_negative_quantity_is_refused_naming_quantity(quantity):
    state = fold(evolve, registered(), None)
    with pytest.raises(RuleViolated) as refused:
        decide(add(state.id, item(), quantity), state)
    assert (refused.value.field, refused.value.rule) == ("quantity", "quantity_not_positive")


def test_a_line_on_an_unknown_ticket_is_refused():
    with pytest.raises(NotFound) as refused:
        decide(add(uuid.uuid4(), item()), None)
    assert refused.value.field == "ticket_id"


def test_a_huge_line_total_is_refused_not_crashed():
    state = fold(evolve, registered(), None)
    with pytest.raises(RuleViolated) as refused:
        decide(add(state.id, item(price="999999999999999.00"), "999999999"), state)
    assert refused.value.field == "quantity"


def test_removing_a_line_then_removing_it_again_changes_nothing():
    state = fold(evolve, registered(), None)
    line_id = uuid.uuid4()
    state = evolve(state, decide(add(state.id, item(), "1", line_id), state)[0])
    [event] = decide(RemoveTicketItem(state.id, line_id), state)
    assert isinstance(event, TicketItemRemoved) and event.code == "WS-SETUP"
    state = evolve(state, event)
    assert state.lines == () and state.totals == {} and not state.billable
    assert decide(RemoveTicketItem(state.id, line_id), state) == []
    with pytest.raises(Conflict):  # a removed line id is not reused
        decide(add(state.id, item(), "1", line_id), state)


def test_removing_an_unknown_line_is_refused_naming_line_id():
    state = fold(evolve, registered(), None)
    with pytest.raises(NotFound) as refused:
        decide(RemoveTicketItem(state.id, uuid.uuid4()), state)
    assert refused.value.field == "line_id"


def test_a_not_covered_ticket_stays_billable_without_lines():
    state = fold(evolve, decide(register(NOT_COVERED), None), None)
    assert state.billable and state.lines == ()


def test_events_cannot_be_applied_out_of_order():
    [event] = registered()
    with pytest.raises(ValueError):
        evolve(fold(evolve, [event], None), event)
