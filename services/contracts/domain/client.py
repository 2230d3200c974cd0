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
    """ИНН: 10 digits for a company, 12 for a person (how a bank statement names the payer)."""


def evolve(state: ClientState | None, event: EventData) -> ClientState:
    match event:
        case ClientRegistered() if state is None:
            return ClientState(
                event.client_id, event.name, event.manager_name, event.manager_email, tax_id=event.tax_id
            )
        case ClientUpdated() if state is not None:
            return replace(
                state,
                name=event.name,
                manager_name=event.manager_name,
                manager_email=event.manager_email,
                version=state.version + 1,
            )
    raise ValueError(f"client: cannot apply {type(event).__name__} to {state!r}")


def _required(value: str, field: str) -> str:
    if not value or not value.strip():
        raise RuleViolated("required", f"{field} must not be empty", field)
    return value.strip()


def _email(value: str) -> str:
    value = _required(value, "manager_email")
    if "@" not in value.strip("@"):
        raise RuleViolated("invalid_email", f"manager_email {value!r} is not an e-mail address", "manager_email")
    return value


def _tax_id(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if not (value.isdigit() and value.isascii() and len(value) in (10, 12)):
        raise RuleViolated(
            "invalid_tax_id", f"tax_id {value[:20]!r} must be 10 digits (a company) or 12 (a person)", "tax_id"
        )
    return value


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
                    tax_id=_tax_id(command.tax_id),
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
            if (name, manager_name, manager_email) == (state.name, state.manager_name, state.manager_email):
                return []
            return [
                ClientUpdated(client_id=state.id, name=name, manager_name=manager_name, manager_email=manager_email)
            ]
    raise TypeError(f"not a client command: {command!r}")
