"""The local services' environment (the demo's automatic invoices by default, off on request), and
replicas: their names, ports and the peers they call."""

from __future__ import annotations

from deploy.local.services import default_ports, instance_names, replica_env, replica_name, service_env, spec_of

PORTS = {"contracts": 1, "projections": 2, "tickets": 3, "notifier": 4}


def test_automatic_invoices_ten_days_before_due_unless_the_stack_says_otherwise() -> None:
    assert service_env({}, PORTS)["CONTRACTS_INVOICE_DAYS_BEFORE_DUE"] == "10"
    assert service_env({"CONTRACTS_INVOICE_DAYS_BEFORE_DUE": "3"}, PORTS)["CONTRACTS_INVOICE_DAYS_BEFORE_DUE"] == "3"


def test_an_empty_value_turns_automatic_invoices_off() -> None:
    assert "CONTRACTS_INVOICE_DAYS_BEFORE_DUE" not in service_env({"CONTRACTS_INVOICE_DAYS_BEFORE_DUE": ""}, PORTS)


def test_a_replica_is_named_after_its_service_and_numbered_from_two() -> None:
    assert [replica_name("contracts", n) for n in (1, 2, 3)] == ["contracts", "contracts-2", "contracts-3"]
    assert [(spec.name, n) for spec, n in map(spec_of, ("tickets", "tickets-2", "scheduler"))] == [
        ("tickets", 1),
        ("tickets", 2),
        ("scheduler", 1),
    ]
    assert instance_names(["tickets-2", "relay", "contracts-3", "projections", "contracts", "contracts-2"]) == [
        "contracts",
        "contracts-2",
        "contracts-3",
        "projections",
        "tickets-2",
    ]


def test_replicas_take_the_ports_after_the_services_own_locally() -> None:
    ports = default_ports(replicas=2)
    assert {k: ports[k] for k in ("contracts-2", "projections-2", "tickets-2")} == {
        "contracts-2": 8011,
        "projections-2": 8012,
        "tickets-2": 8013,
    }
    assert default_ports() == {k: v for k, v in ports.items() if "-" not in k}
    assert "notifier-2" not in ports and "scheduler-2" not in ports


def test_a_replica_listens_on_its_own_port_and_calls_the_replicas_of_its_number() -> None:
    ports = {**PORTS, "contracts-2": 11, "projections-2": 12, "tickets-2": 13}
    env = service_env({}, ports)
    assert replica_env(env, ports, "tickets") is env
    second = replica_env(env, ports, "tickets-2")
    assert second["TICKETS_HTTP_PORT"] == "13"
    assert second["TICKETS_PROJECTIONS_URL"] == "http://127.0.0.1:12"
    assert env["TICKETS_PROJECTIONS_URL"] == "http://127.0.0.1:2"  # the first replica's unchanged
    assert replica_env(env, ports, "contracts-2")["CONTRACTS_HTTP_PORT"] == "11"


def test_without_a_notifier_the_others_still_get_their_environment() -> None:
    env = service_env({}, {"contracts": 1, "projections": 2, "tickets": 3})
    assert env["TICKETS_PROJECTIONS_URL"] == "http://127.0.0.1:2" and "CONSOLE_NOTIFIER_URL" not in env
