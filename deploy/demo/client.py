"""A thin HTTP client for the four services, as the people using them would call them.

Each call carries the bearer token of the person who would make it: the manager signs
clients and contracts, the accountant records payments, the dispatcher registers tickets,
the admin moves the scheduler. Tokens are minted with the stack's HS256 secret
(``ABONENT_AUTH_*``, as ``.run/stack.env`` sets them); their subjects are ``<actor>-<role>``,
which the events then show as their ``actor``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx

from shared.auth import AuthSettings, Role, mint


class ApiFailed(AssertionError):
    pass


def _ok(response: httpx.Response, *expected: int) -> dict[str, Any]:
    if response.status_code not in (expected or (200, 201)):
        raise ApiFailed(
            f"{response.request.method} {response.request.url} -> {response.status_code}: {response.text[:500]}"
        )
    return response.json()


@dataclass
class Abonent:
    contracts: httpx.AsyncClient
    projections: httpx.AsyncClient
    tickets: httpx.AsyncClient
    notifier: httpx.AsyncClient
    tokens: dict[str, str] = field(default_factory=dict)
    """role -> a bearer token of ``<actor>-<role>``."""

    @classmethod
    def connect(cls, urls: dict[str, str], actor: str = "demo", auth: AuthSettings | None = None) -> Abonent:
        """``auth``: the stack's token settings (default: ``ABONENT_AUTH_*`` from the environment)."""
        settings = auth or AuthSettings()
        tokens = {
            role.value: mint(settings, [role.value], f"{actor}-{role.value}", ttl=timedelta(hours=8)) for role in Role
        }

        def client(name: str, role: Role) -> httpx.AsyncClient:
            return httpx.AsyncClient(
                base_url=urls[name], timeout=30, headers={"Authorization": f"Bearer {tokens[role.value]}"}
            )

        return cls(
            client("contracts", Role.MANAGER),
            client("projections", Role.MANAGER),
            client("tickets", Role.DISPATCHER),
            client("notifier", Role.MANAGER),
            tokens,
        )

    def as_(self, role: Role) -> dict[str, str]:
        """Headers for one call made by someone else than the client's default person."""
        return {"Authorization": f"Bearer {self.tokens[role.value]}"}

    async def close(self) -> None:
        for c in (self.contracts, self.projections, self.tickets, self.notifier):
            await c.aclose()

    # --- contracts (writes answer the position their events got) ----------------------
    async def register_client(
        self, name: str, manager_name: str, manager_email: str, **details: str | None
    ) -> dict[str, Any]:
        """``details``: tax_id, address, billing_email (the client's accountant, who gets invoices)."""
        body = {"name": name, "manager_name": manager_name, "manager_email": manager_email}
        body.update({k: v for k, v in details.items() if v is not None})
        return _ok(await self.contracts.post("/clients", json=body), 201)

    async def auto_renew(
        self, contract_id: str, notice_days: int, indexation_percent: str, enabled: bool = True
    ) -> dict[str, Any]:
        body = {"enabled": enabled, "notice_days": notice_days, "indexation_percent": indexation_percent}
        return _ok(await self.contracts.put(f"/contracts/{contract_id}/auto_renew", json=body))

    async def renew(self, contract_id: str, through: str, **body: Any) -> dict[str, Any]:
        return _ok(await self.contracts.post(f"/contracts/{contract_id}/renew", json={"through": through, **body}), 201)

    async def issue_invoice(self, contract_id: str, period_id: str) -> dict[str, Any]:
        return _ok(await self.contracts.post(f"/contracts/{contract_id}/periods/{period_id}/invoice"), 200, 201)

    async def invoice(self, invoice_id: str, lang: str | None = None) -> dict[str, Any]:
        params = {"lang": lang} if lang else {}
        return _ok(
            await self.contracts.get(f"/invoices/{invoice_id}", params=params, headers=self.as_(Role.ACCOUNTANT))
        )

    async def invoice_pdf(self, invoice_id: str, lang: str | None = None) -> bytes:
        params = {"lang": lang} if lang else {}
        response = await self.contracts.get(f"/invoices/{invoice_id}.pdf", params=params)
        if response.status_code != 200:
            raise ApiFailed(f"GET /invoices/{invoice_id}.pdf -> {response.status_code}: {response.text[:300]}")
        return response.content

    async def open_contract(self, client_id: str, number: str, title: str, signed_on: str) -> dict[str, Any]:
        return _ok(
            await self.contracts.post(
                "/contracts", json={"client_id": client_id, "number": number, "title": title, "signed_on": signed_on}
            ),
            201,
        )

    async def schedule(self, contract_id: str, **body: Any) -> dict[str, Any]:
        return _ok(await self.contracts.post(f"/contracts/{contract_id}/periods/schedule", json=body), 201)

    async def pay(
        self, contract_id: str, period_id: str, paid_on: str, amount: str | None = None, reference: str | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"paid_on": paid_on}
        if amount is not None:
            body["amount"] = amount
        if reference is not None:
            body["reference"] = reference
        return _ok(
            await self.contracts.post(
                f"/contracts/{contract_id}/periods/{period_id}/payments", json=body, headers=self.as_(Role.ACCOUNTANT)
            ),
            201,
        )

    async def terminate(
        self, contract_id: str, terminated_on: str, reason: str, prorate: bool = False
    ) -> dict[str, Any]:
        return _ok(
            await self.contracts.post(
                f"/contracts/{contract_id}/terminate",
                json={"terminated_on": terminated_on, "reason": reason, "prorate": prorate},
            )
        )

    async def import_statement(self, data: bytes, name: str = "statement.txt") -> dict[str, Any]:
        """``POST /payments/import``: the accountant uploads the bank's statement file."""
        return _ok(
            await self.contracts.post(
                "/payments/import", files={"file": (name, data, "text/plain")}, headers=self.as_(Role.ACCOUNTANT)
            )
        )

    async def unallocated(self, page: int = 1) -> dict[str, Any]:
        return _ok(
            await self.contracts.get(
                "/payments/unallocated", params={"page": page, "page_size": 500}, headers=self.as_(Role.ACCOUNTANT)
            )
        )

    async def allocate(self, receipt_id: str, contract_id: str) -> dict[str, Any]:
        """An unallocated receipt recorded on ``contract_id`` by hand (oldest debt first)."""
        return _ok(
            await self.contracts.post(
                f"/payments/unallocated/{receipt_id}/allocate",
                json={"contract_id": contract_id},
                headers=self.as_(Role.ACCOUNTANT),
            ),
            201,
        )

    async def tick(self, as_of: str) -> dict[str, Any]:
        return _ok(await self.contracts.post("/scheduler/tick", json={"as_of": as_of}, headers=self.as_(Role.ADMIN)))

    async def contract(self, contract_id: str) -> dict[str, Any]:
        return _ok(await self.contracts.get(f"/contracts/{contract_id}"))

    async def events(self, contract_id: str) -> dict[str, Any]:
        return _ok(await self.contracts.get(f"/contracts/{contract_id}/events"))

    async def last_position(self, contract_id: str) -> int:
        """The position of the contract's last event (what a read about its client waits for
        after a write that answered with another client's position, like an import)."""
        position, page = 0, 1
        while True:
            answer = _ok(await self.contracts.get(f"/contracts/{contract_id}/events", params={"page": page}))
            position = max([position, *(e["position"] for e in answer["items"])])
            if answer.get("next_page") is None:
                return position
            page = answer["next_page"]

    # --- projections (reads wait for min_position instead of sleeping) -------------------
    async def coverage(self, client_id: str, on: str, min_position: int | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {"on": on}
        if min_position is not None:
            params["min_position"] = min_position
        return _ok(await self.projections.get(f"/clients/{client_id}/coverage", params=params))

    async def debtors(self, on: str, min_position: int | None = None, **filters: Any) -> dict[str, Any]:
        params = {"on": on, **filters}
        if min_position is not None:
            params["min_position"] = min_position
        return _ok(await self.projections.get("/debtors", params=params, headers=self.as_(Role.ACCOUNTANT)))

    async def income(
        self, month_from: str, month_to: str, min_position: int | None = None, on: str | None = None
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"from": month_from, "to": month_to}
        if on is not None:
            params["on"] = on
        if min_position is not None:
            params["min_position"] = min_position
        return _ok(await self.projections.get("/income", params=params, headers=self.as_(Role.ACCOUNTANT)))

    # --- tickets and notifications -------------------------------------------------------
    async def register_ticket(
        self, client_id: str, title: str, registered_at: str, min_position: int | None = None, **extra: Any
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"client_id": client_id, "title": title, "registered_at": registered_at, **extra}
        if min_position is not None:
            body["min_position"] = min_position
        return _ok(await self.tickets.post("/tickets", json=body), 201)

    async def notifications(self, client_id: str | None = None) -> dict[str, Any]:
        params = {"client_id": client_id} if client_id else {}
        return _ok(await self.notifier.get("/notifications", params=params))
