"""Registering tickets for the reference scenario's client, with projections answering."""

from __future__ import annotations

import uuid

from shared.topics import TICKETS_EVENTS
from tests.integration.tickets.seed import AFTER_THE_YEAR, Q1_DAY, Q2_DAY, reference_client
from tests.support.kafka import collect


async def register(api, client_id, on, min_position=None, **extra):
    body = {"client_id": client_id, "title": f"Ticket on {on}", "registered_at": on, **extra}
    if min_position is not None:
        body["min_position"] = min_position
    return await api.post("/tickets", json=body)


async def test_q1_covered_q2_unpaid_after_the_year_not_covered(contracts_api, tickets_api, stack):
    seed = await reference_client(contracts_api)

    q1 = await register(tickets_api, seed.client_id, Q1_DAY, seed.position)
    assert q1.status_code == 201, q1.text
    t1 = q1.json()
    assert t1["coverage"]["status"] == "covered"
    assert t1["coverage"]["warnings"] == [] and t1["coverage"]["owed"] == []
    assert t1["coverage"]["total_owed"] == "0.00" and not t1["coverage"]["stale"]
    assert t1["coverage"]["active_period"]["period_id"] == seed.period_ids[0]
    assert t1["id"] and t1["position"] > 0 and t1["billable"] is False

    q2 = (await register(tickets_api, seed.client_id, Q2_DAY, seed.position)).json()
    assert q2["coverage"]["status"] == "unpaid"
    [warning] = q2["coverage"]["warnings"]
    assert warning["code"] == "CURRENT_PERIOD_UNPAID"
    assert "2026-04-01" in warning["message"] and "30000.00 RUB" in warning["message"]
    [owed] = q2["coverage"]["owed"]
    assert (owed["period_id"], owed["amount_due"], owed["days_overdue"]) == (seed.period_ids[1], "30000.00", 44)
    assert (q2["coverage"]["total_owed"], q2["coverage"]["currency"]) == ("30000.00", "RUB")

    late = (await register(tickets_api, seed.client_id, AFTER_THE_YEAR, seed.position)).json()
    assert late["coverage"]["status"] == "not_covered"
    codes = [w["code"] for w in late["coverage"]["warnings"]]
    assert codes == ["NO_ACTIVE_PERIOD", "OVERDUE_PERIODS"]
    assert "service cannot be provided under subscription" in late["coverage"]["warnings"][0]["message"]
    assert "3 earlier periods" in late["coverage"]["warnings"][1]["message"]
    assert late["coverage"]["total_owed"] == "90000.00" and late["coverage"]["active_period"] is None
    assert late["billable"] is True and late["override_reason"] is None

    # the TicketRegistered events on Kafka carry the snapshot the dispatcher was shown
    events = await collect(
        stack.kafka_bootstrap, TICKETS_EVENTS, key=seed.client_id, until=lambda found: len(found) >= 3
    )
    assert [e.event_type for e in events] == ["TicketRegistered"] * 3
    by_ticket = {e.data["ticket_id"]: e for e in events}
    for shown in (t1, q2, late):
        event = by_ticket[shown["id"]]
        assert event.stream_id == f"ticket-{shown['id']}" and event.position == shown["position"]
        snapshot = event.data["coverage"]
        assert snapshot["status"] == shown["coverage"]["status"]
        assert [w["code"] for w in snapshot["warnings"]] == [w["code"] for w in shown["coverage"]["warnings"]]
        assert [o["amount_due"] for o in snapshot["owed"]] == [o["amount_due"] for o in shown["coverage"]["owed"]]
        assert snapshot["on"] == shown["registered_on"] and event.data["client_id"] == seed.client_id

    # the ticket as stored answers the same coverage later
    again = (await tickets_api.get(f"/tickets/{q2['id']}")).json()
    assert again["coverage"] == q2["coverage"] and again["position"] == q2["position"]


async def test_the_tickets_list_filters_by_client_status_and_dates(contracts_api, tickets_api):
    seed = await reference_client(contracts_api)
    ids = {}
    for on in (Q1_DAY, Q2_DAY, AFTER_THE_YEAR):
        r = await register(tickets_api, seed.client_id, on, seed.position)
        assert r.status_code == 201, r.text
        ids[on] = r.json()["id"]

    page = (await tickets_api.get("/tickets", params={"client_id": seed.client_id})).json()
    assert [t["id"] for t in page["items"]] == [ids[AFTER_THE_YEAR], ids[Q2_DAY], ids[Q1_DAY]]
    assert [t["coverage_status"] for t in page["items"]] == ["not_covered", "unpaid", "covered"]
    assert page["items"][1]["warning_codes"] == ["CURRENT_PERIOD_UNPAID"]
    assert page["next_page"] is None

    unpaid = (
        await tickets_api.get("/tickets", params={"client_id": seed.client_id, "coverage_status": "unpaid"})
    ).json()
    assert [t["id"] for t in unpaid["items"]] == [ids[Q2_DAY]]
    in_2026 = (
        await tickets_api.get(
            "/tickets", params={"client_id": seed.client_id, "from": "2026-01-01", "to": "2026-12-31"}
        )
    ).json()
    assert {t["id"] for t in in_2026["items"]} == {ids[Q1_DAY], ids[Q2_DAY]}

    first = (await tickets_api.get("/tickets", params={"client_id": seed.client_id, "page_size": 2})).json()
    second = (
        await tickets_api.get(
            "/tickets", params={"client_id": seed.client_id, "page_size": 2, "page": first["next_page"]}
        )
    ).json()
    assert first["next_page"] == 2 and second["next_page"] is None
    assert [t["id"] for t in first["items"] + second["items"]] == [t["id"] for t in page["items"]]


async def test_block_policy_refuses_not_covered_unless_overridden(contracts_api, blocking_tickets_api):
    api = blocking_tickets_api
    seed = await reference_client(contracts_api)

    covered = await register(api, seed.client_id, Q1_DAY, seed.position)
    unpaid = await register(api, seed.client_id, Q2_DAY, seed.position)
    assert (covered.status_code, unpaid.status_code) == (201, 201)  # block only concerns not_covered

    refused = await register(api, seed.client_id, AFTER_THE_YEAR, seed.position)
    assert refused.status_code == 409, refused.text
    [error] = refused.json()["errors"]
    assert (error["field"], error["rule"]) == ("override_reason", "client_not_covered")
    assert "service cannot be provided under subscription" in error["message"]
    assert refused.json()["coverage"]["status"] == "not_covered"
    listed = (await api.get("/tickets", params={"client_id": seed.client_id})).json()["items"]
    assert len(listed) == 2  # nothing written for the refused one

    overridden = await register(
        api, seed.client_id, AFTER_THE_YEAR, seed.position, override_reason="server room flooded; director approved"
    )
    assert overridden.status_code == 201, overridden.text
    ticket = (await api.get(f"/tickets/{overridden.json()['id']}")).json()
    assert ticket["override_reason"] == "server room flooded; director approved"
    assert ticket["coverage"]["status"] == "not_covered" and ticket["not_covered_policy"] == "block"
    assert ticket["billable"] is True
    listed = (await api.get("/tickets", params={"client_id": seed.client_id, "coverage_status": "not_covered"})).json()[
        "items"
    ]
    assert [t["override_reason"] for t in listed] == ["server room flooded; director approved"]


async def test_a_client_projections_never_saw_is_registered_with_unknown_coverage(tickets_api):
    """Issue 12 case 13: a ticket is never lost, not even for a client the projection has not
    seen (yet): registered with coverage ``unknown`` and the warning ``CLIENT_NOT_FOUND``."""
    client_id = str(uuid.uuid4())
    r = await register(tickets_api, client_id, Q1_DAY)
    assert r.status_code == 201, r.text
    coverage = r.json()["coverage"]
    assert coverage["status"] == "unknown"
    assert [w["code"] for w in coverage["warnings"]] == ["CLIENT_NOT_FOUND"]
    [listed] = (await tickets_api.get("/tickets", params={"client_id": client_id})).json()["items"]
    assert listed["id"] == r.json()["id"]
    stored = (await tickets_api.get(f"/tickets/{listed['id']}")).json()
    assert stored["coverage"]["status"] == "unknown"
    assert [w["code"] for w in stored["coverage"]["warnings"]] == ["CLIENT_NOT_FOUND"]


async def test_a_ticket_without_a_date_is_registered_today(contracts_api, tickets_api):
    seed = await reference_client(contracts_api)
    r = await tickets_api.post(
        "/tickets",
        json={
            "client_id": seed.client_id,
            "title": "Wi-Fi is slow",
            "description": "3rd floor",
            "min_position": seed.position,
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["registered_on"] == body["coverage"]["on"] == body["registered_at"][:10]
    assert body["description"] == "3rd floor"
