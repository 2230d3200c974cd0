"""The clients search (the console's lookup) on the real read model: by part of the name in
any case (ILIKE: letters outside ASCII fold as the database's LC_CTYPE folds them), by an exact
contract number, paged; one client by id."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

from tests.integration.projections.helpers import ClientFeed, fresh, publish


async def test_clients_are_found_by_part_of_the_name_or_a_contract_number(projections_api, producer) -> None:
    tag = uuid4().hex[:8]
    first, second = ClientFeed(f"Romashka {tag} North LLC"), ClientFeed(f"Romashka {tag} South LLC")
    contract = uuid4()
    await publish(producer, first, first.registered(), first.contract_opened(contract, f"N-{tag}", date(2026, 1, 1)))
    await publish(producer, second, second.registered())
    one = await fresh(projections_api, f"/clients/{second.client_id}", {"min_position": second.last_position})
    assert one["name"] == second.name and one["manager_email"] == "ivan@example.com"
    await fresh(projections_api, f"/clients/{first.client_id}", {"min_position": first.last_position})

    by_name = (await projections_api.get("/clients", params={"q": f"ROMASHKA {tag}"})).json()
    assert [c["name"] for c in by_name["items"]] == [first.name, second.name] and by_name["next_page"] is None
    paged = (await projections_api.get("/clients", params={"q": tag, "page_size": 1})).json()
    assert [c["client_id"] for c in paged["items"]] == [str(first.client_id)] and paged["next_page"] == 2
    by_number = (await projections_api.get("/clients", params={"q": f"N-{tag}"})).json()
    assert [c["client_id"] for c in by_number["items"]] == [str(first.client_id)]
    nothing = (await projections_api.get("/clients", params={"q": f"{tag}%_"})).json()
    assert nothing["items"] == [], "% and _ are letters to look for, not patterns"
    missing = await projections_api.get(f"/clients/{uuid4()}")
    assert missing.status_code == 404 and missing.json()["errors"][0]["rule"] == "unknown_client"
