from uuid import uuid4

import pytest

from services.contracts.domain import client as agg
from services.contracts.domain.commands import RegisterClient, UpdateClient
from shared.domain_errors import Conflict, NotFound, RuleViolated
from shared.events.contracts import ClientRegistered, ClientUpdated
from shared.fold import fold

CID = uuid4()
REGISTERED = ClientRegistered(
    client_id=CID, name="Romashka", manager_name="Ivan Petrov", manager_email="ivan@example.com"
)


def test_register_a_new_client():
    events = agg.decide(RegisterClient(CID, " Romashka ", "Ivan Petrov", "ivan@example.com"), None)
    assert events == [REGISTERED]
    state = fold(agg.evolve, events, None)
    assert state == agg.ClientState(CID, "Romashka", "Ivan Petrov", "ivan@example.com", version=1)


def test_registering_an_existing_client_is_a_conflict():
    with pytest.raises(Conflict) as exc:
        agg.decide(RegisterClient(CID, "Romashka", "Ivan", "ivan@example.com"), fold(agg.evolve, [REGISTERED], None))
    assert exc.value.rule == "client_exists"


@pytest.mark.parametrize(
    "name, manager, email, rule, field",
    [
        ("  ", "Ivan", "i@x.ru", "required", "name"),
        ("R", "", "i@x.ru", "required", "manager_name"),
        ("R", "Ivan", "not-an-email", "invalid_email", "manager_email"),
    ],
)
def test_register_checks_the_fields(name, manager, email, rule, field):
    with pytest.raises(RuleViolated) as exc:
        agg.decide(RegisterClient(CID, name, manager, email), None)
    assert (exc.value.rule, exc.value.field) == (rule, field)


def test_update_emits_all_new_values_and_keeps_the_rest():
    state = fold(agg.evolve, [REGISTERED], None)
    events = agg.decide(UpdateClient(CID, manager_email="olga@example.com", manager_name="Olga"), state)
    assert events == [
        ClientUpdated(client_id=CID, name="Romashka", manager_name="Olga", manager_email="olga@example.com")
    ]
    after = agg.evolve(state, events[0])
    assert (after.manager_name, after.manager_email, after.version) == ("Olga", "olga@example.com", 2)


def test_update_without_change_is_a_no_op():
    assert agg.decide(UpdateClient(CID, name="Romashka"), fold(agg.evolve, [REGISTERED], None)) == []


def test_update_of_an_unknown_client_is_not_found():
    with pytest.raises(NotFound) as exc:
        agg.decide(UpdateClient(CID, name="X"), None)
    assert exc.value.rule == "client_not_found"


def test_evolve_refuses_events_out_of_order():
    with pytest.raises(ValueError):
        agg.evolve(None, ClientUpdated(client_id=CID, name="a", manager_name="b", manager_email="c@d"))
    with pytest.raises(ValueError):
        agg.evolve(fold(agg.evolve, [REGISTERED], None), REGISTERED)
