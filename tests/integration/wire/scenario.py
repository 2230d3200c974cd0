"""A small scenario over HTTP that makes every event type of every topic at least once.

One client with two contracts: the first is paid, cancelled, ticked into debt, settled,
repriced and removed while owed (all of payments.v1); the second is terminated in the future,
withdrawn, and terminated at once. A ticket gets a cost line and loses it. A new event type
on a topic makes the wire test fail until a step here produces it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date

import httpx

YEAR = 2025
"""The paid contract's year: in the past, so payments and ticks need no future dates."""


@dataclass
class Played:
    client_id: str
    contract_ids: list[str]
    ticket_id: str
    payments: dict[str, dict[str, str]] = field(default_factory=dict)
    """payment_id -> {"period_id", "amount", "state": "recorded"|"cancelled"}"""


def _ok(response: httpx.Response) -> dict:
    assert response.status_code in (200, 201), f"{response.request.method} {response.request.url}: {response.text}"
    return response.json()


async def play(contracts: httpx.AsyncClient, tickets: httpx.AsyncClient) -> Played:
    tag = uuid.uuid4().hex[:8]
    client = _ok(
        await contracts.post(
            "/clients",
            json={
                "name": f"ООО Вектор {tag}",
                "manager_name": "Анна Смирнова",
                "manager_email": f"anna.{tag}@example.com",
            },
        )
    )
    client_id = client["id"]
    _ok(await contracts.patch(f"/clients/{client_id}", json={"manager_name": "Анна Смирнова-Ли"}))

    # Contract A: a year of quarterly prepaid periods, reminders 10 days before each end.
    a = (
        _ok(
            await contracts.post(
                "/contracts",
                json={
                    "client_id": client_id,
                    "number": f"W-{tag}",
                    "title": "IT outsourcing",
                    "signed_on": f"{YEAR - 1}-12-20",
                },
            )
        )
    )["id"]
    scheduled = _ok(
        await contracts.post(
            f"/contracts/{a}/periods/schedule",
            json={
                "starts_on": f"{YEAR}-01-01",
                "ends_on": f"{YEAR}-12-31",
                "every": "quarter",
                "amount": "30000.00",
                "currency": "RUB",
                "payment_terms": "prepaid",
                "remind_days_before": 10,
            },
        )
    )
    q1, q2, q3, q4 = scheduled["period_ids"]
    played = Played(client_id, [a], "")

    async def pay(period: str, paid_on: str, amount: str | None = None) -> str:
        body = {"paid_on": paid_on, "reference": f"PP-{uuid.uuid4().hex[:6]}"}
        if amount is not None:
            body["amount"] = amount
        payment = _ok(await contracts.post(f"/contracts/{a}/periods/{period}/payments", json=body))
        played.payments[payment["payment_id"]] = {
            "period_id": period,
            "amount": amount or "30000.00",
            "state": "recorded",
        }
        return payment["payment_id"]

    await pay(q1, f"{YEAR}-01-10")
    mistaken = await pay(q2, f"{YEAR}-01-15", "1000.00")
    _ok(await contracts.delete(f"/contracts/{a}/periods/{q2}/payments/{mistaken}", params={"reason": "wrong period"}))
    played.payments[mistaken]["state"] = "cancelled"
    # Q1 starts, is reminded of and ends; Q2 and Q3 start unpaid: overdue.
    _ok(await contracts.post("/scheduler/tick", json={"as_of": f"{YEAR}-07-02"}))
    await pay(q2, f"{YEAR}-07-03")  # settles an overdue debt
    _ok(await contracts.patch(f"/contracts/{a}/periods/{q3}", json={"amount": "25000.00"}))  # repriced
    _ok(await contracts.delete(f"/contracts/{a}/periods/{q3}"))  # written off
    assert q4  # stays as it is
    # Q4 is invoiced (InvoiceIssued on both topics); the contract is renewed into next year and
    # set to renew itself (ContractRenewed, AutoRenewSet).
    _ok(await contracts.post(f"/contracts/{a}/periods/{q4}/invoice"))
    _ok(await contracts.post(f"/contracts/{a}/renew", json={"through": f"{YEAR + 1}-03-31", "indexation_percent": "5"}))
    _ok(
        await contracts.put(
            f"/contracts/{a}/auto_renew", json={"enabled": True, "notice_days": 30, "indexation_percent": "5"}
        )
    )

    # Contract B: next year's service, terminated ahead of time, withdrawn, then ended at once.
    next_year = date.today().year + 1
    b = (
        _ok(
            await contracts.post(
                "/contracts",
                json={
                    "client_id": client_id,
                    "number": f"W2-{tag}",
                    "title": "Printers",
                    "signed_on": f"{next_year - 2}-12-01",
                },
            )
        )
    )["id"]
    played.contract_ids.append(b)
    _ok(
        await contracts.post(
            f"/contracts/{b}/periods",
            json={
                "starts_on": f"{next_year}-01-01",
                "ends_on": f"{next_year}-12-31",
                "amount": "12000.00",
                "currency": "RUB",
                "payment_terms": "postpaid",
            },
        )
    )
    _ok(
        await contracts.post(
            f"/contracts/{b}/terminate",
            json={"terminated_on": f"{next_year}-07-01", "reason": "moving offices", "prorate": True},
        )
    )
    _ok(await contracts.delete(f"/contracts/{b}/termination", params={"reason": "they stay"}))
    _ok(
        await contracts.post(
            f"/contracts/{b}/terminate",
            json={"terminated_on": f"{next_year - 1}-01-01", "reason": "cancelled before it began"},
        )
    )

    # A ticket with a cost line added and removed again.
    code = f"SETUP-{tag}".upper()
    _ok(
        await tickets.post(
            "/price-list",
            json={"code": code, "name": "Workstation set-up", "unit": "pcs", "price": "1500.00", "currency": "RUB"},
        )
    )
    ticket = _ok(await tickets.post("/tickets", json={"client_id": client_id, "title": "New laptop"}))
    played.ticket_id = ticket["id"]
    line = _ok(await tickets.post(f"/tickets/{ticket['id']}/items", json={"code": code, "quantity": "2"}))
    _ok(await tickets.delete(f"/tickets/{ticket['id']}/items/{line['line_id']}"))
    return played
