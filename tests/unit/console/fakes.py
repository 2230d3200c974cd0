"""In-memory stand-ins for the four services, shaped like their ports (no I/O): one client with
one quarterly contract; a payment dated 2026-02-30 is refused the way contracts refuses it."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import httpx

from services.console.application.ports import (
    Apis,
    Download,
    FieldError,
    Json,
    Params,
    Refused,
    ServiceDown,
    User,
)

CLIENT = "11111111-1111-1111-1111-111111111111"
CONTRACT = "22222222-2222-2222-2222-222222222222"
PERIODS = [f"3333333{q}-3333-3333-3333-333333333333" for q in range(4)]


def _period(q: int, paid: bool) -> Json:
    starts = date(2026, 1 + 3 * q, 1)
    ends = date(2026, 3 + 3 * q, {0: 31, 1: 30, 2: 30, 3: 31}[q])
    return {
        "period_id": PERIODS[q],
        "starts_on": starts.isoformat(),
        "ends_on": ends.isoformat(),
        "amount": "30000.00",
        "currency": "RUB",
        "payment_terms": "prepaid",
        "remind_on": None,
        "paid_amount": "30000.00" if paid else "0.00",
        "paid": paid,
        "void": False,
        "payments": [],
    }


class Calls:
    def __init__(self) -> None:
        self.made: list[tuple[str, str, Any]] = []

    def log(self, service: str, what: str, user: User, detail: Any = None) -> None:
        self.made.append((service, what, detail))
        assert user.token, "every call carries the person's token"


class FakeContracts:
    def __init__(self, calls: Calls) -> None:
        self.calls = calls
        self.paid = {0}

    async def register_client(self, user: User, body: Json) -> Json:
        self.calls.log("contracts", "register_client", user, body)
        return {"id": CLIENT, "position": 7}

    async def open_contract(self, user: User, body: Json) -> Json:
        return {"id": CONTRACT, "position": 8}

    async def contract(self, user: User, contract_id: str) -> Json:
        self.calls.log("contracts", "contract", user, contract_id)
        return {
            "id": CONTRACT,
            "client_id": CLIENT,
            "number": "A-17",
            "title": "IT outsourcing",
            "signed_on": "2026-01-01",
            "status": "active",
            "terminated_on": None,
            "terminates_on": None,
            "credit": "0.00",
            "version": 6,
            "periods": [_period(q, q in self.paid) for q in range(4)],
        }

    async def events(self, user: User, contract_id: str) -> Json:
        self.calls.log("contracts", "events", user, contract_id)
        return {
            "items": [
                {"event_type": "ContractOpened", "recorded_at": "2026-01-01T10:00:00+00:00", "actor": "maria (Maria)"}
            ]
        }

    async def add_period(self, user: User, contract_id: str, body: Json) -> Json:
        return {"period_id": PERIODS[0], "position": 9}

    async def schedule_periods(self, user: User, contract_id: str, body: Json) -> Json:
        return {"period_ids": PERIODS, "position": 9}

    async def record_payment(self, user: User, contract_id: str, period_id: str, body: Json) -> Json:
        self.calls.log("contracts", "record_payment", user, body)
        if body.get("paid_on") == "2026-02-30":
            raise Refused(
                "contracts",
                422,
                [FieldError("paid_on", "date_format", "paid_on must be a real date in YYYY-MM-DD")],
            )
        return {"payment_id": "44444444-4444-4444-4444-444444444444", "position": 10}

    async def cancel_payment(self, user: User, contract_id: str, period_id: str, payment_id: str, reason: str) -> Json:
        return {"position": 11}

    async def terminate(self, user: User, contract_id: str, body: Json) -> Json:
        return {"position": 12}


class FakeProjections:
    def __init__(self, calls: Calls, down: bool = False) -> None:
        self.calls, self.down = calls, down

    def _check(self) -> None:
        if self.down:
            raise ServiceDown("projections", "unreachable (ConnectError)")

    async def clients(self, user: User, params: Params) -> Json:
        self._check()
        self.calls.log("projections", "clients", user, params)
        return {
            "items": [{"client_id": CLIENT, "name": "Ромашка", "manager_name": "Maria", "manager_email": "m@x.ru"}],
            "next_page": None,
        }

    async def client(self, user: User, client_id: str, params: Params) -> Json:
        self._check()
        self.calls.log("projections", "client", user, params)
        if client_id != CLIENT:
            raise Refused("projections", 404, [FieldError("client_id", "unknown_client", "no events")])
        return {"client_id": CLIENT, "name": "Ромашка", "manager_name": "Maria", "manager_email": "m@x.ru"}

    async def coverage(self, user: User, client_id: str, params: Params) -> Json:
        self._check()
        self.calls.log("projections", "coverage", user, params)
        return {
            "client_id": CLIENT,
            "on": params["on"],
            "status": "unpaid",
            "owed": [
                {
                    "contract_id": CONTRACT,
                    "period_id": PERIODS[1],
                    "starts_on": "2026-04-01",
                    "ends_on": "2026-06-30",
                    "payment_terms": "prepaid",
                    "due_on": "2026-04-01",
                    "amount_due": "30000.00",
                    "currency": "RUB",
                    "days_overdue": 44,
                }
            ],
            "total_owed": "30000.00",
            "currency": "RUB",
            "totals": [{"amount": "30000.00", "currency": "RUB"}],
            "warnings": [{"code": "CURRENT_PERIOD_UNPAID", "message": "the current period is not paid"}],
        }

    async def contracts(self, user: User, params: Params) -> Json:
        self._check()
        self.calls.log("projections", "contracts", user, params)
        return {
            "items": [
                {
                    "contract_id": CONTRACT,
                    "client_id": CLIENT,
                    "number": "A-17",
                    "title": "IT outsourcing",
                    "status": "active",
                    "matched_periods": [],
                }
            ],
            "next_page": None,
        }

    async def debtors(self, user: User, params: Params) -> Json:
        self._check()
        return {
            "on": params["on"],
            "items": [
                {
                    "client_id": CLIENT,
                    "client_name": "Ромашка",
                    "total_owed": "60000.00",
                    "currency": "RUB",
                    "periods": [],
                    "ageing": {"0-30": "30000.00", "31-60": "30000.00", "61-90": "0.00", "90+": "0.00"},
                },
                {
                    "client_id": CLIENT,
                    "client_name": "Ромашка",
                    "total_owed": "100.00",
                    "currency": "EUR",
                    "periods": [],
                    "ageing": {"0-30": "100.00", "31-60": "0.00", "61-90": "0.00", "90+": "0.00"},
                },
            ],
            "next_page": None,
        }

    async def income(self, user: User, params: Params) -> Json:
        self._check()
        return {
            "months": [
                {
                    "month": "2026-01",
                    "currency": "RUB",
                    "due": "30000.00",
                    "received": "30000.00",
                    "outstanding": "0.00",
                },
                {
                    "month": "2026-04",
                    "currency": "RUB",
                    "due": "30000.00",
                    "received": "0.00",
                    "outstanding": "30000.00",
                },
            ]
        }

    async def download(self, user: User, what: str, params: Params) -> Download:
        self._check()
        self.calls.log("projections", "download", user, (what, params))

        async def chunks():
            yield b"contract_number\r\nA-17\r\n"

        return Download("text/csv; charset=utf-8", f"{what}.csv", chunks())


class FakeTickets:
    def __init__(self, calls: Calls) -> None:
        self.calls = calls

    async def register(self, user: User, body: Json) -> Json:
        self.calls.log("tickets", "register", user, body)
        return {"id": "55555555-5555-5555-5555-555555555555"}

    async def ticket(self, user: User, ticket_id: str) -> Json:
        return {}

    async def tickets(self, user: User, params: Params) -> Json:
        return {"items": []}

    async def price_list(self, user: User) -> Json:
        return {"items": []}

    async def add_item(self, user: User, ticket_id: str, body: Json) -> Json:
        return {}


class FakeNotifier:
    async def notifications(self, user: User, params: Params) -> Json:
        return {"items": [], "next_offset": None}

    async def retry(self, user: User, event_id: str) -> Json:
        return {"reopened": 1}


def fake_apis(calls: Calls, projections_down: bool = False) -> Apis:
    return Apis(FakeContracts(calls), FakeProjections(calls, projections_down), FakeTickets(calls), FakeNotifier())


TOKEN_FIELD = re.compile(r'<input type="hidden" name="csrf_token" value="([^"]+)">')


async def form_token(web: httpx.AsyncClient, page: str = "/sign-in") -> str:
    """The anti-forgery token of this session's forms, read from a rendered page as a browser
    has it (``web`` keeps the cookie the page sets before sign-in)."""
    found = TOKEN_FIELD.search((await web.get(page)).text)
    assert found, f"{page} has no form token"
    return found.group(1)


async def post_form(web: httpx.AsyncClient, url: str, data: dict[str, str]) -> httpx.Response:
    """A form's POST as the console's own page sends it: with the session's token."""
    return await web.post(url, data={**data, "csrf_token": await form_token(web)})
