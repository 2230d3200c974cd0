"""Issue 12 case 9: a ticket's day is the company's day (ABONENT_TIMEZONE), not UTC's.

The reference client is covered until 31 December. A ticket registered at 00:30 Moscow time on
1 January (21:30 UTC on 31 December) is, for a company in Moscow, a 1 January ticket: no
active period. A tickets service in UTC files the same instant under 31 December. Real
contracts, projections and tickets services on real Kafka and PostgreSQL."""

from __future__ import annotations

from shared.calendar import CalendarSettings
from tests.integration.tickets.seed import YEAR, reference_client

HALF_PAST_MIDNIGHT_MOSCOW = f"{YEAR}-12-31T21:30:00Z"


async def test_a_ticket_at_half_past_midnight_in_moscow_is_checked_against_1_january(
    contracts_api, tickets_service, projections_url, tickets_api
) -> None:
    seed = await reference_client(contracts_api)
    body = {
        "client_id": seed.client_id,
        "title": "Сервер не отвечает",
        "registered_at": HALF_PAST_MIDNIGHT_MOSCOW,
        "min_position": seed.position,
    }

    async with tickets_service(projections_url, calendar=CalendarSettings(timezone="Europe/Moscow")) as moscow:
        r = await moscow.post("/tickets", json=body)
    assert r.status_code == 201, r.text
    ticket = r.json()
    assert ticket["registered_on"] == ticket["coverage"]["on"] == f"{YEAR + 1}-01-01"
    assert ticket["coverage"]["status"] == "not_covered"
    assert "NO_ACTIVE_PERIOD" in {w["code"] for w in ticket["coverage"]["warnings"]}

    utc = (await tickets_api.post("/tickets", json=body)).json()  # the same instant, a UTC company
    assert utc["registered_on"] == utc["coverage"]["on"] == f"{YEAR}-12-31"
    assert utc["coverage"]["status"] != "not_covered"
