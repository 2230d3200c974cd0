"""The client aggregate: a company served under contracts, with its responsible manager."""

from __future__ import annotations

from dataclasses import dataclass, replace
from uuid import UUID

from services.contracts.domain.commands import ClientCommand, RegisterClient, UpdateClient
from shared.domain_errors import Conflict, NotFound, RuleViolated
from shared.events.base import EventData
from shared.events.contracts import ClientRegistered, ClientUpdated


@dataclass(frozen=True)
class ClientState:
    id: UUID
    name: str
    manager_name: str
    manager_email: str
    version: int = 1
    tax_id: str | None = None
    address: str | None = None
    billing_email: str | None = None
    """The client's accountant: receives its invoices."""

    def details(self) -> tuple[str | None, str | None, str | None]:
        return self.tax_id, self.address, self.billing_email


def evolve(state: ClientState | None, event: EventData) -> ClientState:
    match event:
        case ClientRegistered() if state is None:
            return ClientState(
                event.client_id,
                event.name,
                event.manager_name,
                event.manager_email,
                tax_id=event.tax_id,
                address=event.address,
                billing_email=event.billing_email,
            )
        case ClientUpdated() if state is not None:
            return replace(
                state,
                name=event.name,
                manager_name=event.manager_name,
                manager_email=event.manager_email,
                tax_id=event.tax_id,
                address=event.address,
                billing_email=event.billing_email,
                version=state.version + 1,
            )
    raise ValueError(f"client: cannot apply {type(event).__name__} to {state!r}")


def _required(value: str, field: str) -> str:
    if not value or not value.strip():
        raise RuleViolated("required", f"{field} must not be empty", field)
    return value.strip()


def _email(value: str, field: str = "manager_email") -> str:
    value = _required(value, field)
    if "@" not in value.strip("@"):
        raise RuleViolated("invalid_email", f"{field} {value!r} is not an e-mail address", field)
    return value


def _optional(value: str | None, current: str | None, field: str) -> str | None:
    """None keeps ``current``; an empty text clears it."""
    if value is None:
        return current
    value = value.strip()
    if not value:
        return None
    if field == "tax_id" and not (value.isdigit() and value.isascii() and len(value) in (10, 12)):
        raise RuleViolated("invalid_tax_id", f"tax_id {value!r} must be 10 or 12 digits (ИНН)", field)
    return _email(value, field) if field == "billing_email" else value


def decide(command: ClientCommand, state: ClientState | None) -> list[EventData]:
    match command:
        case RegisterClient():
            if state is not None:
                raise Conflict("client_exists", f"client {command.client_id} is already registered", "client_id")
            return [
                ClientRegistered(
                    client_id=command.client_id,
                    name=_required(command.name, "name"),
                    manager_name=_required(command.manager_name, "manager_name"),
                    manager_email=_email(command.manager_email),
                    tax_id=_optional(command.tax_id, None, "tax_id"),
                    address=_optional(command.address, None, "address"),
                    billing_email=_optional(command.billing_email, None, "billing_email"),
                )
            ]
        case UpdateClient():
            if state is None:
                raise NotFound("client_not_found", f"client {command.client_id} does not exist", "client_id")
            name = state.name if command.name is None else _required(command.name, "name")
            manager_name = (
                state.manager_name if command.manager_name is None else _required(command.manager_name, "manager_name")
            )
            manager_email = state.manager_email if command.manager_email is None else _email(command.manager_email)
            details = (
                _optional(command.tax_id, state.tax_id, "tax_id"),
                _optional(command.address, state.address, "address"),
                _optional(command.billing_email, state.billing_email, "billing_email"),
            )
            if (name, manager_name, manager_email, details) == (
                state.name,
                state.manager_name,
                state.manager_email,
                state.details(),
            ):
                return []
            tax_id, address, billing_email = details
            return [
                ClientUpdated(
                    client_id=state.id,
                    name=name,
                    manager_name=manager_name,
                    manager_email=manager_email,
                    tax_id=tax_id,
                    address=address,
                    billing_email=billing_email,
                )
            ]
    raise TypeError(f"not a client command: {command!r}")
