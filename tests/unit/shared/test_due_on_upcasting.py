"""Issue 12 case 5: ``due_on`` means the first owed day everywhere. Version-1 time events and
public PeriodBecameOverdue stored before the change said "the last day" for postpaid periods;
they are upcast to version 2, where ``due_on`` is the day after the end (prepaid unchanged)."""

from datetime import date
from uuid import uuid4

from shared.events.base import registry
from shared.events.payments import public_registry

CONTEXT = {
    "contract_id": str(uuid4()),
    "client_id": str(uuid4()),
    "client_name": "ООО Ромашка",
    "manager_name": "Ivan",
    "manager_email": None,
    "contract_number": "A-1",
    "contract_title": "IT",
}
PERIOD = {
    "period_id": str(uuid4()),
    "starts_on": "2026-01-01",
    "ends_on": "2026-03-31",
    "amount": "100.00",
    "currency": "RUB",
    "paid_amount": "0.00",
    "paid": False,
}


def overdue_v1(terms: str, due: str, overdue: str) -> dict:
    return {
        **CONTEXT,
        "period_id": PERIOD["period_id"],
        "starts_on": "2026-01-01",
        "ends_on": "2026-03-31",
        "payment_terms": terms,
        "due_on": due,
        "overdue_on": overdue,
        "amount": "100.00",
        "paid_amount": "0.00",
        "amount_due": "100.00",
        "currency": "RUB",
    }


def test_a_stored_postpaid_overdue_event_says_due_the_day_after_the_end():
    event = registry.load("ServicePeriodBecameOverdue", 1, overdue_v1("postpaid", "2026-03-31", "2026-04-01"))
    assert type(event).schema_version == 2
    assert (event.due_on, event.overdue_on) == (date(2026, 4, 1), date(2026, 4, 1))


def test_a_stored_prepaid_overdue_event_is_unchanged():
    event = registry.load("ServicePeriodBecameOverdue", 1, overdue_v1("prepaid", "2026-01-01", "2026-01-01"))
    assert event.due_on == date(2026, 1, 1)


def test_a_stored_reminder_names_the_first_owed_day_of_a_postpaid_next_period():
    data = {
        **CONTEXT,
        "remind_on": "2026-03-25",
        "period": {**PERIOD, "payment_terms": "prepaid"},
        "next_period": {
            **PERIOD,
            "period_id": str(uuid4()),
            "starts_on": "2026-04-01",
            "ends_on": "2026-06-30",
            "payment_terms": "postpaid",
            "due_on": "2026-06-30",
        },
    }
    event = registry.load("ServicePeriodEndingSoon", 1, data)
    assert type(event).schema_version == 2
    assert event.next_period.due_on == date(2026, 7, 1)
    assert registry.load("ServicePeriodEndingSoon", 1, {**data, "next_period": None}).next_period is None


def test_the_public_overdue_event_is_version_2_and_upcasts_version_1():
    data = {
        k: v
        for k, v in overdue_v1("postpaid", "2026-03-31", "2026-04-01").items()
        if k not in ("manager_name", "manager_email", "contract_title", "amount", "paid_amount")
    }
    event = public_registry.load("PeriodBecameOverdue", 1, data)
    assert type(event).schema_version == 2 and event.due_on == date(2026, 4, 1)
