"""The local services' environment: the demo's automatic invoices by default, off on request."""

from __future__ import annotations

from deploy.local.services import service_env

PORTS = {"contracts": 1, "projections": 2, "tickets": 3, "notifier": 4}


def test_automatic_invoices_ten_days_before_due_unless_the_stack_says_otherwise() -> None:
    assert service_env({}, PORTS)["CONTRACTS_INVOICE_DAYS_BEFORE_DUE"] == "10"
    assert service_env({"CONTRACTS_INVOICE_DAYS_BEFORE_DUE": "3"}, PORTS)["CONTRACTS_INVOICE_DAYS_BEFORE_DUE"] == "3"


def test_an_empty_value_turns_automatic_invoices_off() -> None:
    assert "CONTRACTS_INVOICE_DAYS_BEFORE_DUE" not in service_env({"CONTRACTS_INVOICE_DAYS_BEFORE_DUE": ""}, PORTS)
