"""The four services the console calls, as the small interfaces its pages need.

Every call carries the signed-in person's bearer token (``User.token``): the console acts as
that person, with that person's roles, and owns no business data. Answers are the services'
JSON bodies as dicts, read tolerantly (fields may grow). Three failures a page handles:

* ``Refused`` — the service answered 4xx: its ``errors`` (field, rule, message) are shown next
  to the fields of the form that caused them;
* ``SignInAgain`` — the service answered 401 (the token expired or was revoked);
* ``ServiceDown`` — no answer within the deadline, no connection, or a 5xx: the page names the
  service and what still works.

``adapters/http_apis.py`` implements them over HTTP; tests use fakes of the same shape.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

Json = dict[str, Any]
Params = dict[str, str]


@dataclass(frozen=True)
class User:
    """The signed-in person: who (``sub``, ``name``), what they may do (``roles``), and the
    bearer token every call is made with."""

    sub: str
    roles: frozenset[str]
    token: str
    name: str | None = None

    def has(self, *roles: str) -> bool:
        return "admin" in self.roles or bool(self.roles & set(roles))


@dataclass(frozen=True)
class FieldError:
    field: str | None
    rule: str
    message: str


class Refused(Exception):
    def __init__(self, service: str, status: int, errors: list[FieldError], body: Json | None = None) -> None:
        super().__init__(f"{service} answered {status}: " + "; ".join(e.message for e in errors))
        self.service, self.status, self.errors, self.body = service, status, errors, body or {}

    def rule(self) -> str | None:
        return self.errors[0].rule if self.errors else None


class SignInAgain(Exception):
    """The service did not accept the person's token (401)."""


class ServiceDown(Exception):
    def __init__(self, service: str, reason: str) -> None:
        super().__init__(f"the {service} service is unavailable: {reason}")
        self.service, self.reason = service, reason


@dataclass(frozen=True)
class Download:
    """A file a service streams (CSV, XLSX): its media type, file name and bytes as they come."""

    media_type: str
    filename: str
    chunks: AsyncIterator[bytes]
    close: Any = field(default=None)


class ContractsApi(Protocol):
    async def register_client(self, user: User, body: Json) -> Json: ...
    async def open_contract(self, user: User, body: Json) -> Json: ...
    async def contract(self, user: User, contract_id: str) -> Json: ...
    async def events(self, user: User, contract_id: str) -> Json: ...
    async def add_period(self, user: User, contract_id: str, body: Json) -> Json: ...
    async def schedule_periods(self, user: User, contract_id: str, body: Json) -> Json: ...
    async def record_payment(self, user: User, contract_id: str, period_id: str, body: Json) -> Json: ...
    async def cancel_payment(
        self, user: User, contract_id: str, period_id: str, payment_id: str, reason: str
    ) -> Json: ...
    async def terminate(self, user: User, contract_id: str, body: Json) -> Json: ...


class ProjectionsApi(Protocol):
    async def clients(self, user: User, params: Params) -> Json: ...
    async def client(self, user: User, client_id: str, params: Params) -> Json: ...
    async def coverage(self, user: User, client_id: str, params: Params) -> Json: ...
    async def contracts(self, user: User, params: Params) -> Json: ...
    async def debtors(self, user: User, params: Params) -> Json: ...
    async def income(self, user: User, params: Params) -> Json: ...
    async def download(self, user: User, what: str, params: Params) -> Download:
        """``what``: contracts, debtors or income, with ``format`` csv or xlsx in ``params``."""
        ...


class TicketsApi(Protocol):
    async def register(self, user: User, body: Json) -> Json: ...
    async def ticket(self, user: User, ticket_id: str) -> Json: ...
    async def tickets(self, user: User, params: Params) -> Json: ...
    async def price_list(self, user: User) -> Json: ...
    async def add_item(self, user: User, ticket_id: str, body: Json) -> Json: ...


class NotifierApi(Protocol):
    async def notifications(self, user: User, params: Params) -> Json: ...
    async def retry(self, user: User, event_id: str) -> Json: ...


@dataclass(frozen=True)
class Apis:
    contracts: ContractsApi
    projections: ProjectionsApi
    tickets: TicketsApi
    notifier: NotifierApi
