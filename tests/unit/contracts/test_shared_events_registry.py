"""Every payload survives model_dump(mode="json") → registry.load unchanged."""

from datetime import date
from decimal import Decimal
from uuid import uuid4

import pytest
from pydantic import ValidationError

from shared.events import contracts as ev
from shared.events import payments as public
from shared.events import public_registry, registry, to_public
from shared.events import schedule as sch
from shared.events.contracts import CONTRACT_EVENTS
from shared.events.schedule import SCHEDULE_EVENTS

C, K, P, PAY = uuid4(), uuid4(), uuid4(), uuid4()
D1, D2 = date(2026, 1, 1), date(2026, 3, 31)
CTX = dict(
    contract_id=K,
    client_id=C,
    client_name="Romashka",
    manager_name="Ivan",
    manager_email="ivan@example.com",
    contract_number="A-17",
    contract_title="IT support",
)
SNAP = dict(
    period_id=P,
    starts_on=D1,
    ends_on=D2,
    amount="30000",
    currency="RUB",
    payment_terms="prepaid",
    paid_amount="0",
    paid=False,
)

SAMPLES = [
    ev.ClientRegistered(client_id=C, name="Romashka", manager_name="Ivan", manager_email="i@x.ru"),
    ev.ClientUpdated(client_id=C, name="Romashka LLC", manager_name="Ivan", manager_email="i@x.ru"),
    ev.ContractOpened(contract_id=K, client_id=C, number="A-17", title="IT", signed_on=D1),
    ev.ContractTerminated(contract_id=K, client_id=C, terminated_on=D2, reason="moved away"),
    ev.ServicePeriodAdded(
        contract_id=K,
        client_id=C,
        period_id=P,
        starts_on=D1,
        ends_on=D2,
        amount="30000",
        currency="RUB",
        payment_terms="prepaid",
        remind_on=date(2026, 3, 25),
    ),
    ev.ServicePeriodChanged(
        contract_id=K,
        client_id=C,
        period_id=P,
        starts_on=D1,
        ends_on=D2,
        amount="31000.50",
        currency="RUB",
        payment_terms="postpaid",
        remind_on=None,
    ),
    ev.ServicePeriodRemoved(contract_id=K, client_id=C, period_id=P),
    ev.PaymentRecorded(
        contract_id=K,
        client_id=C,
        period_id=P,
        payment_id=PAY,
        amount="10000",
        currency="RUB",
        paid_on=D1,
        reference="PP-1",
        period_paid_amount="10000",
        period_paid=False,
    ),
    ev.PaymentCancelled(
        contract_id=K,
        client_id=C,
        period_id=P,
        payment_id=PAY,
        amount="10000",
        currency="RUB",
        reason="typo",
        period_paid_amount="0",
        period_paid=False,
    ),
    ev.DebtSettled(
        contract_id=K, client_id=C, period_id=P, payment_id=PAY, amount="30000", currency="RUB", settled_on=D2
    ),
    sch.ServicePeriodEndingSoon(
        **CTX,
        period=SNAP,
        remind_on=date(2026, 3, 25),
        next_period={**SNAP, "period_id": uuid4(), "due_on": date(2026, 4, 1)},
    ),
    sch.ServicePeriodEndingSoon(**{**CTX, "manager_email": None}, period=SNAP, remind_on=D2),
    sch.ServicePeriodStarted(**CTX, **SNAP),
    sch.ServicePeriodEnded(**CTX, **SNAP),
    sch.ServicePeriodBecameOverdue(
        **CTX,
        period_id=P,
        starts_on=D1,
        ends_on=D2,
        payment_terms="prepaid",
        due_on=D1,
        overdue_on=D1,
        amount="30000",
        paid_amount="0",
        amount_due="30000",
        currency="RUB",
    ),
    ev.ContractTerminationTookEffect(contract_id=K, client_id=C, terminated_on=D2),
    ev.ContractTerminationWithdrawn(contract_id=K, client_id=C, terminated_on=D2, reason="stays"),
    ev.PeriodAdjusted(
        contract_id=K,
        client_id=C,
        period_id=P,
        old_amount="30000",
        new_amount="10000",
        paid_amount="30000",
        credit="20000",
        currency="RUB",
        reason="terminated",
    ),
    ev.DebtWrittenOff(contract_id=K, client_id=C, period_id=P, amount="30000", paid_amount="0", currency="RUB"),
    ev.AutoRenewSet(contract_id=K, client_id=C, enabled=True, notice_days=30, indexation_percent=Decimal("5")),
    ev.ContractRenewed(
        contract_id=K,
        client_id=C,
        after_period_id=P,
        starts_on=D2,
        through=date(2027, 3, 31),
        every="quarter",
        indexation_percent=Decimal("5"),
        amount="31500.00",
        currency="RUB",
        payment_terms="prepaid",
        period_ids=[uuid4()],
        automatic=True,
    ),
    ev.InvoiceIssued(
        contract_id=K,
        client_id=C,
        period_id=P,
        invoice=ev.InvoiceDocument(
            invoice_id=uuid4(),
            number="2026-000001",
            issued_on=D1,
            due_on=D1,
            seller=ev.Party(name="Service LLC", tax_id="7701234567"),
            buyer=ev.Party(name="Romashka", tax_id="7712345678"),
            contract_id=K,
            contract_number="A-17",
            contract_title="IT",
            contract_signed_on=D1,
            period_id=P,
            starts_on=D1,
            ends_on=D2,
            payment_terms="prepaid",
            amount="30000.00",
            currency="RUB",
        ),
        billing_email="buh@x.ru",
        manager_name="Ivan",
        manager_email="i@x.ru",
    ),
]


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: e.event_type)
def test_round_trip_through_the_registry(event):
    wire = event.model_dump(mode="json")
    loaded = registry.load(event.event_type, event.schema_version, wire)
    assert loaded == event
    assert type(loaded) is type(event)


def test_every_event_type_is_sampled_and_carries_client_id():
    sampled = {type(e) for e in SAMPLES}
    assert sampled == set(CONTRACT_EVENTS) | set(SCHEDULE_EVENTS)
    for model in sampled:
        assert "client_id" in model.model_fields, model


def test_amounts_are_decimal_strings_on_the_wire_with_the_digits_they_were_given():
    """The domain writes amounts in their currency's minor units; an event keeps them as
    given, so a stored event re-serializes to the same text (JPY "30000", KWD "1.250")."""
    wire = SAMPLES[7].model_dump(mode="json")
    assert wire["amount"] == "10000" and wire["period_paid_amount"] == "10000"
    assert SAMPLES[7].amount == Decimal("10000.00")
    again = type(SAMPLES[7]).model_validate({**wire, "amount": "1.250", "currency": "KWD"})
    assert again.model_dump(mode="json")["amount"] == "1.250"


def test_events_are_frozen_and_forbid_unknown_fields():
    event = SAMPLES[2]
    with pytest.raises(ValidationError):
        event.number = "B-1"
    with pytest.raises(ValidationError):
        ev.ContractOpened(contract_id=K, client_id=C, number="A", title="T", signed_on=D1, extra=1)


def test_public_models_live_in_their_own_registry_with_descriptions():
    assert set(public_registry._models) == {
        "PaymentRecorded",
        "PaymentCancelled",
        "PeriodBecameOverdue",
        "DebtSettled",
        "PeriodAdjusted",
        "DebtWrittenOff",
        "InvoiceIssued",
    }
    assert registry.model("PaymentRecorded") is ev.PaymentRecorded
    assert public_registry.model("PaymentRecorded") is public.PaymentRecorded
    for model in public.PUBLIC_EVENTS:
        assert model.__doc__
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no description"
        props = model.model_json_schema()["properties"]
        assert all(p.get("description") for p in props.values())


@pytest.mark.parametrize(
    "event, public_type",
    [
        (SAMPLES[7], public.PaymentRecorded),
        (SAMPLES[8], public.PaymentCancelled),
        (SAMPLES[14], public.PeriodBecameOverdue),
        (SAMPLES[9], public.DebtSettled),
        (SAMPLES[17], public.PeriodAdjusted),
        (SAMPLES[18], public.DebtWrittenOff),
        (SAMPLES[21], public.InvoiceIssued),
    ],
)
def test_to_public_maps_the_payment_facts(event, public_type):
    out = to_public(event)
    assert type(out) is public_type
    wire = out.model_dump(mode="json")
    assert wire["client_id"] == str(C) and wire["period_id"] == str(P)
    assert public_registry.load(out.event_type, out.schema_version, wire) == out
    assert "manager_email" not in wire


@pytest.mark.parametrize(
    "event", [e for i, e in enumerate(SAMPLES) if i not in (7, 8, 9, 14, 17, 18, 21)], ids=lambda e: e.event_type
)
def test_to_public_skips_everything_else(event):
    assert to_public(event) is None


def test_a_late_overdue_event_is_published_late():
    late = SAMPLES[14].model_copy(update={"late": True})
    out = to_public(late)
    assert isinstance(out, public.PeriodBecameOverdue) and out.late
    assert to_public(SAMPLES[14]).late is False
