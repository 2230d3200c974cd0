"""Who gets what: manager + general addresses, and what happens when an address is missing."""

from __future__ import annotations

import uuid

import pytest

from services.notifier.domain.addresses import InvalidAddress, split_addresses
from services.notifier.domain.message_ids import message_id
from services.notifier.domain.recipients import NotAScheduleEvent, audience, kind_of
from shared.events.contracts import ClientRegistered
from tests.unit.notifier.notifier_events import Client, ending_soon, overdue, started


def test_each_schedule_event_maps_to_its_notification() -> None:
    client = Client()
    assert kind_of(ending_soon(client)) == "reminder"
    assert kind_of(overdue(client)) == "debt_notice"
    assert kind_of(started(client)) is None  # acknowledged, ignored
    with pytest.raises(NotAScheduleEvent):
        kind_of(ClientRegistered(client_id=uuid.uuid4(), name="X", manager_name="Y", manager_email="y@example.com"))


def test_manager_first_then_every_general_address() -> None:
    who = audience("Irina", "irina@example.com", ("ops@example.com", "acc@example.com"))
    assert [(r.address, r.role) for r in who.recipients] == [
        ("irina@example.com", "manager"),
        ("ops@example.com", "general"),
        ("acc@example.com", "general"),
    ]
    assert who.recipients[0].name == "Irina"
    assert not who.rejected and not who.warnings


def test_an_address_named_twice_gets_one_email() -> None:
    who = audience("Irina", "Ops@Example.com", ("ops@example.com",))
    assert [r.address for r in who.recipients] == ["Ops@example.com"]


@pytest.mark.parametrize("missing", [None, "", "   "])
def test_no_manager_email_still_writes_to_general_with_a_warning(missing: str | None) -> None:
    who = audience("Irina", missing, ("ops@example.com",))
    assert [(r.address, r.role) for r in who.recipients] == [("ops@example.com", "general")]
    assert not who.rejected
    assert any("has no e-mail" in w for w in who.warnings)


def test_an_invalid_manager_email_is_rejected_with_the_reason_and_general_still_gets_it() -> None:
    who = audience("Irina", "irina-at-example.com", ("ops@example.com",))
    assert [r.address for r in who.recipients] == ["ops@example.com"]
    assert len(who.rejected) == 1
    rejected = who.rejected[0]
    assert rejected.address == "irina-at-example.com" and rejected.role == "manager"
    assert "invalid manager e-mail" in rejected.reason and "@" in rejected.reason


def test_nobody_to_write_to() -> None:
    assert audience("Irina", None, ()).nobody
    assert not audience("Irina", "bad", ()).nobody  # a rejected recipient is still recorded


def test_general_setting_is_split_normalized_and_validated() -> None:
    assert split_addresses(" ops@Example.com ; acc@example.com,,OPS@example.com ") == (
        "ops@example.com",
        "acc@example.com",
    )
    assert split_addresses("") == ()
    with pytest.raises(InvalidAddress):
        split_addresses("ops@example.com, not an address")


def test_message_id_is_a_function_of_event_and_recipient() -> None:
    event_id = uuid.uuid4()
    first = message_id(event_id, "irina@example.com", "abonent.example.com")
    assert first == message_id(event_id, "Irina@Example.com", "abonent.example.com")
    assert first.startswith("<") and first.endswith("@abonent.example.com>")
    assert first != message_id(event_id, "ops@example.com", "abonent.example.com")
    assert first != message_id(uuid.uuid4(), "irina@example.com", "abonent.example.com")
