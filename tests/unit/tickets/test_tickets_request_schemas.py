"""Request bodies: what POST /tickets and the price list accept, and the field they name."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from services.tickets.entrypoints.http.schemas import (
    AddItemRequest,
    DefinePriceItemRequest,
    RegisterTicketRequest,
)

CLIENT = str(uuid.uuid4())


def errors_of(model, **body):
    with pytest.raises(ValidationError) as refused:
        model(**body)
    return {(e["loc"][0], e["type"]) for e in refused.value.errors()}


def test_registered_at_takes_a_date_or_a_datetime():
    assert RegisterTicketRequest(client_id=CLIENT, title="t", registered_at="2026-04-15").registered_at == date(
        2026, 4, 15
    )
    at = RegisterTicketRequest(client_id=CLIENT, title="t", registered_at="2026-04-15T10:30:00+03:00").registered_at
    assert at == datetime(2026, 4, 15, 10, 30, tzinfo=timezone(timedelta(hours=3)))
    assert RegisterTicketRequest(client_id=CLIENT, title="t").registered_at is None


@pytest.mark.parametrize("value", ["15.04.2026", "2026-02-30", "yesterday", 20260415, "2026-04-15X10"])
def test_a_registration_date_that_is_not_a_date_names_the_field(value):
    assert errors_of(RegisterTicketRequest, client_id=CLIENT, title="t", registered_at=value) == {
        ("registered_at", "date_format")
    }


def test_an_empty_title_names_the_field():
    assert ("title", "string_too_short") in errors_of(RegisterTicketRequest, client_id=CLIENT, title="  ")


def test_unknown_fields_are_refused():
    assert ("titel", "extra_forbidden") in errors_of(RegisterTicketRequest, client_id=CLIENT, title="t", titel="x")


@pytest.mark.parametrize(
    "price, rule",
    [
        ("12,50", "amount_format"),
        ("1e3", "amount_format"),
        (12.5, "amount_type"),
        ("1.0001", "amount_format"),
        ("٣٠٠", "amount_format"),
    ],
)
def test_a_malformed_price_names_the_field(price, rule):
    assert errors_of(DefinePriceItemRequest, code="A", name="n", unit="u", price=price, currency="RUB") == {
        ("price", rule)
    }


def test_a_malformed_quantity_names_the_field():
    assert errors_of(AddItemRequest, code="A", quantity="two") == {("quantity", "quantity_format")}
