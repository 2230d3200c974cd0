"""Contract lifecycle through the real processes (issue 12 cases 2, 3, 6 and 8).

Dates are relative to today, so the cases hold whenever the suite runs: a back-dated contract
is last year's; a bounced payment happens today. Reads pass ``min_position``; what the
notifier and the public feed do is polled (bounded), as an integrator would.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta
from typing import Any

from deploy.demo.client import Abonent
from deploy.demo.mailbox import read_mailbox
from shared.auth import Role
from shared.topics import PAYMENTS
from tests.support.kafka import collect

TODAY = date.today()
LAST_YEAR = TODAY.year - 1


async def signed_client(api: Abonent, year: int, *, signed_on: str | None = None) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    client = await api.register_client(f"Lifecycle {tag}", "Ирина Петрова", f"irina.{tag}@example.com")
    contract = await api.open_contract(client["id"], f"LC-{tag}", "IT outsourcing", signed_on or f"{year - 1}-12-20")
    return {"client_id": client["id"], "contract_id": contract["id"], "email": f"irina.{tag}@example.com"}


async def quarters(api: Abonent, contract_id: str, year: int) -> list[str]:
    scheduled = await api.schedule(
        contract_id,
        starts_on=f"{year}-01-01",
        ends_on=f"{year}-12-31",
        every="quarter",
        amount="30000.00",
        currency="RUB",
        payment_terms="prepaid",
        remind_days_before=10,
    )
    return scheduled["period_ids"]


async def history(api: Abonent, contract_id: str) -> list[dict[str, Any]]:
    r = await api.contracts.get(f"/contracts/{contract_id}/events")
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def notifications_settled(api: Abonent, client_id: str, count: int, timeout: float = 60.0) -> list[dict]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        items = (await api.notifications(client_id))["items"]
        if sum(1 for n in items if n["status"] != "pending") >= count or loop.time() > deadline:
            return items
        await asyncio.sleep(0.3)


async def test_case_2_a_termination_on_april_1_voids_q2_to_q4_in_every_service(abonent):
    api, y = abonent, LAST_YEAR
    c = await signed_client(api, y)
    q1, q2, q3, q4 = await quarters(api, c["contract_id"], y)
    await api.pay(c["contract_id"], q1, f"{y}-01-10")
    r = await api.contracts.post(
        f"/contracts/{c['contract_id']}/terminate", json={"terminated_on": f"{y}-04-01", "reason": "client moved"}
    )
    assert r.status_code == 200, r.text
    contract = await api.contract(c["contract_id"])
    assert (contract["status"], contract["terminated_on"], contract["terminates_on"]) == (
        "terminated",
        f"{y}-04-01",
        None,
    )
    assert [p["void"] for p in contract["periods"]] == [False, True, True, True]

    ticked = await api.tick(f"{y}-12-31")
    position = max(ticked["position"] or 0, r.json()["position"])
    timed = [
        e
        for e in await history(api, c["contract_id"])
        if e["event_type"].startswith("ServicePeriod")
        and e["event_type"] not in ("ServicePeriodAdded", "ServicePeriodChanged")
    ]
    named = {e["data"].get("period_id") or e["data"]["period"]["period_id"] for e in timed}
    assert named == {q1}, "the scheduler emitted time events for void periods"

    for on in (f"{y}-04-01", f"{y}-05-15", f"{y}-11-01"):
        cover = await api.coverage(c["client_id"], on, min_position=position)
        assert (cover["status"], cover["owed"], cover["stale"]) == ("not_covered", [], False), on
        debtors = await api.debtors(on, min_position=position, client_id=c["client_id"])
        assert debtors["items"] == [], on
    unpaid = (
        await api.projections.get(
            "/contracts",
            params={
                "client_id": c["client_id"],
                "paid": "false",
                "period_starts_to": f"{y}-12-31",
                "min_position": position,
            },
        )
    ).json()
    assert unpaid["items"] == []
    listed = (
        await api.projections.get("/contracts", params={"client_id": c["client_id"], "min_position": position})
    ).json()["items"]
    assert [(i["status"], [p["period_id"] for p in i["matched_periods"]]) for i in listed] == [("terminated", [q1])]


async def test_case_3_a_future_termination_keeps_the_contract_active_and_can_be_withdrawn(abonent):
    api = abonent
    c = await signed_client(api, TODAY.year, signed_on=(TODAY - timedelta(days=30)).isoformat())
    start = TODAY - timedelta(days=20)
    await api.schedule(
        c["contract_id"],
        starts_on=start.isoformat(),
        ends_on=(start + timedelta(days=200)).isoformat(),
        every="month",
        amount="1000.00",
        currency="RUB",
        payment_terms="postpaid",
    )
    url = f"/contracts/{c['contract_id']}"
    before = len(await history(api, c["contract_id"]))
    refused = await api.contracts.post(
        url + "/terminate", json={"terminated_on": (TODAY - timedelta(days=31)).isoformat(), "reason": "typo"}
    )
    assert refused.status_code == 422
    assert [(e["field"], e["rule"]) for e in refused.json()["errors"]] == [
        ("terminated_on", "terminated_before_signed")
    ]
    assert len(await history(api, c["contract_id"])) == before  # nothing written

    later = TODAY + timedelta(days=40)
    r = await api.contracts.post(
        url + "/terminate", json={"terminated_on": later.isoformat(), "reason": "client moves in spring"}
    )
    assert r.status_code == 200, r.text
    contract = await api.contract(c["contract_id"])
    assert (contract["status"], contract["terminates_on"]) == ("active", later.isoformat())
    listed = (
        await api.projections.get(
            "/contracts", params={"client_id": c["client_id"], "status": "active", "min_position": r.json()["position"]}
        )
    ).json()
    assert len(listed["items"]) == 1

    withdrawn = await api.contracts.delete(url + "/termination", params={"reason": "client stays"})
    assert withdrawn.status_code == 200, withdrawn.text
    contract = await api.contract(c["contract_id"])
    assert (contract["status"], contract["terminated_on"], contract["terminates_on"]) == ("active", None, None)
    assert not any(p["void"] for p in contract["periods"])

    now = await api.contracts.post(
        url + "/terminate", json={"terminated_on": TODAY.isoformat(), "reason": "client left", "prorate": True}
    )
    assert now.status_code == 200, now.text
    assert (await api.contract(c["contract_id"]))["status"] == "terminated"
    late = await api.contracts.delete(url + "/termination")
    assert late.status_code == 409 and late.json()["errors"][0]["rule"] == "termination_in_effect"


async def test_case_6_a_back_dated_contract_records_old_reminders_and_debts_as_skipped_late(abonent, stack):
    api, y = abonent, LAST_YEAR
    c = await signed_client(api, y)
    await quarters(api, c["contract_id"], y)
    await api.tick(f"{y}-12-31")
    # the stack issues invoices 10 days before each period falls due: those days are old too
    notes = await notifications_settled(api, c["client_id"], 12)
    assert sorted(n["kind"] for n in notes) == ["debt_notice"] * 4 + ["invoice"] * 4 + ["reminder"] * 4
    assert {n["status"] for n in notes} == {"skipped_late"}
    assert [m for m in read_mailbox(stack.maildir) if c["email"] in m.to] == []
    late = [e for e in await history(api, c["contract_id"]) if e["event_type"] == "ServicePeriodBecameOverdue"]
    assert len(late) == 4 and all(e["data"]["late"] for e in late)  # history stays complete


async def test_case_8_a_bounced_payment_reopens_the_debt_with_an_email_and_a_public_event(abonent, stack):
    api = abonent
    c = await signed_client(api, TODAY.year, signed_on=(TODAY - timedelta(days=10)).isoformat())
    start = TODAY - timedelta(days=1)
    added = await api.contracts.post(
        f"/contracts/{c['contract_id']}/periods",
        json={
            "starts_on": start.isoformat(),
            "ends_on": (start + timedelta(days=89)).isoformat(),
            "amount": "30000.00",
            "currency": "RUB",
            "payment_terms": "prepaid",
        },
    )
    assert added.status_code == 201, added.text
    period = added.json()["period_id"]
    await api.tick(TODAY.isoformat())
    paid = await api.pay(c["contract_id"], period, TODAY.isoformat())
    r = await api.contracts.delete(
        f"/contracts/{c['contract_id']}/periods/{period}/payments/{paid['payment_id']}",
        params={"reason": "bounced"},
        headers=api.as_(Role.ACCOUNTANT),
    )
    assert r.status_code == 200, r.text
    await api.tick(TODAY.isoformat())

    kinds = [e["event_type"] for e in await history(api, c["contract_id"])]
    assert kinds.count("ServicePeriodBecameOverdue") == 2 and kinds.count("DebtSettled") == 1

    def two_overdue(found) -> bool:
        return sum(e.event_type == "PeriodBecameOverdue" for e in found) >= 2

    public = [
        e.event_type
        for e in await collect(stack.kafka_bootstrap, PAYMENTS, key=c["client_id"], until=two_overdue, timeout=60)
        if e.event_type != "InvoiceIssued"  # the period's invoice, issued (late) by the first tick
    ]
    assert public[:5] == [
        "PeriodBecameOverdue",
        "PaymentRecorded",
        "DebtSettled",
        "PaymentCancelled",
        "PeriodBecameOverdue",
    ]

    notes = await notifications_settled(api, c["client_id"], 3)
    # its invoice's day was 11 days before the tick, but the period fell due only yesterday:
    # the invoice is still what the client pays by, so it is mailed (to the manager: no billing_email)
    assert sorted((n["kind"], n["status"]) for n in notes) == [("debt_notice", "sent")] * 2 + [("invoice", "sent")]
    mails = await mails_to(stack, c["email"], 3)
    assert sorted(m.subject.split()[0] for m in mails) == ["Задолженность:", "Задолженность:", "Счёт"]


async def mails_to(stack, address: str, count: int, timeout: float = 30.0) -> list:
    """The e-mails to ``address`` in the sink once there are ``count`` (bounded wait)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while len(mails := [m for m in read_mailbox(stack.maildir) if address in m.to]) < count and loop.time() < deadline:
        await asyncio.sleep(0.3)
    return mails


async def test_a_period_added_or_renewed_inside_the_invoice_window_has_its_invoice_mailed(abonent, stack):
    """The stack invoices 10 days before a period falls due (CONTRACTS_INVOICE_DAYS_BEFORE_DUE).
    A period entered on 27 March for 1 April, and a renewal entered on 27 June for 1 July, are
    already inside that window: the next tick issues each invoice and the client's accountant
    and the manager receive it, like every other invoice (they were recorded as skipped_late:
    their day, 22 March and 21 June, was more than ABONENT_LATE_EVENT_DAYS gone)."""
    api, y = abonent, LAST_YEAR
    tag = uuid.uuid4().hex[:8]
    manager, accountant = f"irina.{tag}@example.com", f"buh.{tag}@example.com"
    client = await api.register_client(f"Window {tag}", "Ирина Петрова", manager, billing_email=accountant)
    contract = await api.open_contract(client["id"], f"WI-{tag}", "IT outsourcing", f"{y}-03-01")
    added = await api.contracts.post(
        f"/contracts/{contract['id']}/periods",
        json={
            "starts_on": f"{y}-04-01",
            "ends_on": f"{y}-06-30",
            "amount": "30000.00",
            "currency": "RUB",
            "payment_terms": "prepaid",
        },
    )
    assert added.status_code == 201, added.text
    await api.tick(f"{y}-03-27")  # the day it was entered, as the scheduler's loop would tick
    await api.renew(contract["id"], f"{y}-09-30")
    await api.tick(f"{y}-06-27")  # Q2 is old debt by now (skipped_late); Q3's invoice is news

    periods = (await api.contract(contract["id"]))["periods"]
    numbers = [p["invoice"]["number"] for p in periods]
    assert [p["invoice"]["issued_on"] for p in periods] == [f"{y}-03-27", f"{y}-06-27"]
    notes = await notifications_settled(api, client["id"], 3)
    assert sorted((n["kind"], n["status"]) for n in notes) == [
        ("debt_notice", "skipped_late"),
        ("invoice", "sent"),
        ("invoice", "sent"),
    ]
    assert [sorted(n["recipients"]) for n in notes if n["kind"] == "invoice"] == [sorted([accountant, manager])] * 2
    for address in (accountant, manager):
        mails = await mails_to(stack, address, 2)
        assert sorted(n for m in mails for n in numbers if n in m.subject) == sorted(numbers), address
