"""Ticket event schemas: registered, round-trip through JSON, quantities as decimal strings."""

from __future__ import annotations

import uuid
from decimal import Decimal

import orjson
import pytest
from pydantic import BaseModel, ValidationError

from services.tickets.domain.ticket import decide
from shared.events.base import registry
from shared.events.tickets import TICKET_EVENTS, Quantity, TicketItemAdded, TicketRegistered
from tests.unit.tickets.tickets_helpers import CLIENT, NOT_COVERED, register


def test_every_ticket_event_is_registered_frozen_and_carries_client_id():
    for model in TICKET_EVENTS:
        assert registry.model(model.event_type) is model
        assert model.model_config["frozen"] and "client_id" in model.model_fields


def test_the_coverage_snapshot_survives_the_wire():
    [event] = decide(register(NOT_COVERED, override_reason="flooded"), None)
    wire = orjson.loads(orjson.dumps(event.model_dump(mode="json")))
    assert wire["coverage"]["status"] == "not_covered"
    assert wire["coverage"]["warnings"][0]["code"] == "NO_ACTIVE_PERIOD"
    assert wire["override_reason"] == "flooded"
    assert registry.load("TicketRegistered", 1, wire) == event


def test_line_amounts_and_quantity_are_strings_on_the_wire():
    event = TicketItemAdded(
        ticket_id=uuid.uuid4(),
        client_id=CLIENT,
        line_id=uuid.uuid4(),
        code="TRAIN",
        name="Training",
        unit="hour",
        quantity=Decimal("1.50"),
        unit_price=Decimal("2000.00"),
        currency="RUB",
        line_total=Decimal("3000.00"),
    )
    wire = event.model_dump(mode="json")
    assert (wire["quantity"], wire["unit_price"], wire["line_total"]) == ("1.5", "2000.00", "3000.00")
    assert registry.load("TicketItemAdded", 1, wire) == event


class Q(BaseModel):
    quantity: Quantity


@pytest.mark.parametrize(
    "raw, expected",
    [
        (2, Decimal("2")),
        ("1.5", Decimal("1.5")),
        (0.25, Decimal("0.25")),
        ("-1", Decimal("-1")),
        ("0", Decimal("0")),
        ("-0", Decimal("0")),
        (" 3 ", Decimal("3")),
    ],
)
def test_quantities_accepted(raw, expected):
    assert Q(quantity=raw).quantity == expected


@pytest.mark.parametrize("raw", ["abc", "1,5", "1e3", "0.0001", True, None, [1], "1234567890", float("nan")])
def test_malformed_quantities_are_refused(raw):
    with pytest.raises(ValidationError) as refused:
        Q(quantity=raw)
    assert refused.value.errors()[0]["loc"] == ("quantity",)


def test_a_snapshot_refuses_unknown_fields():
    data = TicketRegistered.model_validate(decide(register(), None)[0].model_dump(mode="json")).model_dump(mode="json")
    data["coverage"]["surprise"] = 1
    with pytest.raises(ValidationError):
        TicketRegistered.model_validate(data)
