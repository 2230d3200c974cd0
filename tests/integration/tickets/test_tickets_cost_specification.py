"""The price list and a ticket's cost specification, on the real stack."""

from __future__ import annotations

import asyncio
import uuid

from shared.topics import TICKETS_EVENTS
from tests.integration.tickets.seed import AFTER_THE_YEAR, Q1_DAY, reference_client
from tests.support.kafka import collect


def code(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def define(api, **item):
    body = {"name": "Workstation set-up", "unit": "pcs", "price": "1500.00", "currency": "RUB", **item}
    return await api.post("/price-list", json=body)


async def ticket_for(api, seed, on=Q1_DAY):
    r = await api.post(
        "/tickets",
        json={
            "client_id": seed.client_id,
            "title": "New workstation",
            "registered_at": on,
            "min_position": seed.position,
        },
    )
    assert r.status_code == 201, r.text
    return r.json()


async def test_price_list_items_are_created_replaced_and_listed(tickets_api):
    ws = code("WS")
    created = await define(tickets_api, code=ws)
    assert created.status_code == 201, created.text
    assert created.json() | {"updated_at": None} == {
        "code": ws,
        "name": "Workstation set-up",
        "unit": "pcs",
        "price": "1500.00",
        "currency": "RUB",
        "active": True,
        "version": 1,
        "updated_at": None,
    }
    same = await define(tickets_api, code=ws)
    assert same.status_code == 200 and same.json()["version"] == 1  # nothing changed
    replaced = await define(tickets_api, code=ws, price="1750.50", active=False)
    assert replaced.status_code == 200 and replaced.json()["version"] == 2
    items = (await tickets_api.get("/price-list")).json()["items"]
    assert {"code": ws, "price": "1750.50", "active": False}.items() <= next(
        i for i in items if i["code"] == ws
    ).items()
    active = (await tickets_api.get("/price-list", params={"active": "true"})).json()["items"]
    assert ws not in {i["code"] for i in active}


async def test_lines_are_priced_at_the_moment_they_are_added(contracts_api, tickets_api, stack):
    seed = await reference_client(contracts_api)
    ws, train = code("WS"), code("TRAIN")
    await define(tickets_api, code=ws, price="1500.00")
    await define(tickets_api, code=train, name="User training", unit="hour", price="40.00", currency="EUR")
    ticket = await ticket_for(tickets_api, seed)
    url = f"/tickets/{ticket['id']}/items"

    first = await tickets_api.post(url, json={"code": ws, "quantity": 2})
    assert first.status_code == 201, first.text
    await define(tickets_api, code=ws, price="1800.00")  # the price changes afterwards
    second = await tickets_api.post(url, json={"code": ws, "quantity": "1"})
    third = await tickets_api.post(url, json={"code": train, "quantity": "1.5"})
    assert (second.status_code, third.status_code) == (201, 201)
    after = third.json()["ticket"]
    assert [(x["code"], x["quantity"], x["unit_price"], x["line_total"]) for x in after["lines"]] == [
        (ws, "2", "1500.00", "3000.00"),
        (ws, "1", "1800.00", "1800.00"),
        (train, "1.5", "40.00", "60.00"),
    ]
    assert after["totals"] == [{"amount": "60.00", "currency": "EUR"}, {"amount": "4800.00", "currency": "RUB"}]
    assert after["billable"] is True and after["version"] == 4

    removed = await tickets_api.delete(f"{url}/{first.json()['line_id']}")
    assert removed.status_code == 200, removed.text
    assert removed.json()["position"] > third.json()["position"]
    again = await tickets_api.delete(f"{url}/{first.json()['line_id']}")
    assert again.status_code == 200 and again.json()["position"] is None
    shown = (await tickets_api.get(f"/tickets/{ticket['id']}")).json()
    assert shown["totals"] == [{"amount": "60.00", "currency": "EUR"}, {"amount": "1800.00", "currency": "RUB"}]
    assert shown["position"] == removed.json()["position"]
    [row] = (await tickets_api.get("/tickets", params={"client_id": seed.client_id})).json()["items"]
    assert (row["lines"], row["billable"], row["totals"]) == (2, True, shown["totals"])

    events = await collect(
        stack.kafka_bootstrap, TICKETS_EVENTS, key=seed.client_id, until=lambda found: len(found) >= 5
    )
    assert [e.event_type for e in events] == [
        "TicketRegistered",
        "TicketItemAdded",
        "TicketItemAdded",
        "TicketItemAdded",
        "TicketItemRemoved",
    ]
    assert [e.data.get("unit_price") for e in events[1:4]] == ["1500.00", "1800.00", "40.00"]
    assert all(e.data["client_id"] == seed.client_id for e in events)


async def test_a_not_covered_ticket_is_billable_without_lines(contracts_api, tickets_api):
    seed = await reference_client(contracts_api)
    ticket = await ticket_for(tickets_api, seed, AFTER_THE_YEAR)
    assert ticket["coverage"]["status"] == "not_covered" and ticket["lines"] == [] and ticket["billable"]


async def test_concurrent_lines_on_one_ticket_lose_nothing(contracts_api, tickets_api):
    seed = await reference_client(contracts_api)
    ws = code("WS")
    await define(tickets_api, code=ws, price="10.00")
    ticket = await ticket_for(tickets_api, seed)
    answers = await asyncio.gather(
        *(tickets_api.post(f"/tickets/{ticket['id']}/items", json={"code": ws, "quantity": 1}) for _ in range(20))
    )
    added = [a for a in answers if a.status_code == 201]
    assert all(
        a.status_code == 409 and a.json()["errors"][0]["rule"] == "concurrent_modification"
        for a in answers
        if a.status_code != 201
    ), [a.text for a in answers]
    assert len(added) >= 15  # clashes are retried after a short random pause
    shown = (await tickets_api.get(f"/tickets/{ticket['id']}")).json()
    assert {x["line_id"] for x in shown["lines"]} == {a.json()["line_id"] for a in added}
    assert shown["totals"] == [{"amount": f"{10 * len(added)}.00", "currency": "RUB"}]
    [row] = (await tickets_api.get("/tickets", params={"client_id": seed.client_id})).json()["items"]
    assert row["lines"] == len(added) and row["version"] == shown["version"]
