"""Bad input gets a 4xx naming the field and the rule; nothing is half-written."""

from __future__ import annotations

import uuid

import pytest

from tests.integration.tickets.seed import Q1_DAY, reference_client


def field_rule(response) -> tuple[str, str]:
    [error] = response.json()["errors"]
    return error["field"], error["rule"]


@pytest.fixture(scope="module")
async def seeded(contracts_api, tickets_api):
    seed = await reference_client(contracts_api)
    r = await tickets_api.post(
        "/tickets",
        json={"client_id": seed.client_id, "title": "Base", "registered_at": Q1_DAY, "min_position": seed.position},
    )
    assert r.status_code == 201, r.text
    item, inactive = f"WS-{uuid.uuid4().hex[:8]}", f"OLD-{uuid.uuid4().hex[:8]}"
    for c, active in ((item, True), (inactive, False)):
        r = await tickets_api.post(
            "/price-list",
            json={"code": c, "name": "Set-up", "unit": "pcs", "price": "100.00", "currency": "RUB", "active": active},
        )
        assert r.status_code == 201, r.text
    return seed, r.json(), item, inactive


@pytest.mark.parametrize(
    "body, expected",
    [
        ({"title": ""}, ("title", "string_too_short")),
        ({"title": "   "}, ("title", "string_too_short")),
        ({"registered_at": "31.12.2026"}, ("registered_at", "date_format")),
        ({"registered_at": "2026-02-30"}, ("registered_at", "date_format")),
        ({"client_id": "not-a-uuid"}, ("client_id", "uuid_parsing")),
        ({"min_position": -1}, ("min_position", "greater_than_equal")),
        ({"colour": "red"}, ("colour", "extra_forbidden")),
    ],
)
async def test_bad_registrations_name_the_field(seeded, tickets_api, body, expected):
    seed = seeded[0]
    before = (await tickets_api.get("/tickets", params={"client_id": seed.client_id})).json()["items"]
    r = await tickets_api.post("/tickets", json={"client_id": seed.client_id, "title": "x", **body})
    assert r.status_code == 422 and field_rule(r) == expected, r.text
    after = (await tickets_api.get("/tickets", params={"client_id": seed.client_id})).json()["items"]
    assert after == before


async def test_bad_lines_name_the_field_and_leave_the_ticket_as_it_was(seeded, tickets_api):
    seed, _, item, inactive = seeded
    [ticket] = (await tickets_api.get("/tickets", params={"client_id": seed.client_id})).json()["items"]
    url = f"/tickets/{ticket['id']}/items"
    cases = [
        ({"code": "NO-SUCH-ITEM", "quantity": 1}, 404, ("code", "price_item_not_found")),
        ({"code": inactive, "quantity": 1}, 422, ("code", "price_item_inactive")),
        ({"code": item, "quantity": 0}, 422, ("quantity", "quantity_not_positive")),
        ({"code": item, "quantity": "-2"}, 422, ("quantity", "quantity_not_positive")),
        ({"code": item, "quantity": "a lot"}, 422, ("quantity", "quantity_format")),
        ({"code": item}, 422, ("quantity", "missing")),
    ]
    for body, status, expected in cases:
        r = await tickets_api.post(url, json=body)
        assert (r.status_code, field_rule(r)) == (status, expected), (body, r.text)
    r = await tickets_api.post(f"/tickets/{uuid.uuid4()}/items", json={"code": item, "quantity": 1})
    assert (r.status_code, field_rule(r)) == (404, ("ticket_id", "ticket_not_found"))
    r = await tickets_api.delete(f"{url}/{uuid.uuid4()}")
    assert (r.status_code, field_rule(r)) == (404, ("line_id", "line_not_found"))
    shown = (await tickets_api.get(f"/tickets/{ticket['id']}")).json()
    assert shown["lines"] == [] and shown["version"] == 1


@pytest.mark.parametrize(
    "body, expected",
    [
        ({"price": "12,50"}, ("price", "amount_format")),
        ({"price": "abc"}, ("price", "amount_format")),
        ({"price": 12.5}, ("price", "amount_type")),
        ({"price": "-1.00"}, ("price", "price_negative")),
        ({"currency": "rub"}, ("currency", "currency_format")),
        ({"currency": "JPY", "price": "10.50"}, ("price", "amount_precision")),
        ({"code": "bad code"}, ("code", "string_pattern_mismatch")),
        ({"name": ""}, ("name", "string_too_short")),
    ],
)
async def test_bad_price_list_items_name_the_field(tickets_api, body, expected):
    c = f"BAD-{uuid.uuid4().hex[:8]}"
    r = await tickets_api.post(
        "/price-list", json={"code": c, "name": "n", "unit": "pcs", "price": "1.00", "currency": "RUB", **body}
    )
    assert r.status_code == 422 and field_rule(r) == expected, r.text
    assert c not in {i["code"] for i in (await tickets_api.get("/price-list")).json()["items"]}


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"from": "2026-05-01", "to": "2026-04-01"}, ("from", "from_after_to")),
        ({"from": "May"}, ("from", "date_format")),
        ({"from": "1699920000"}, ("from", "date_format")),
        ({"to": "2200-01-01"}, ("to", "date_out_of_range")),
        ({"page": 2**63}, ("page", "less_than_equal")),
        ({"coverage_status": "happy"}, ("coverage_status", "literal_error")),
        ({"page_size": 0}, ("page_size", "greater_than_equal")),
        ({"page_size": 501}, ("page_size", "less_than_equal")),
    ],
)
async def test_bad_list_parameters_name_the_parameter(tickets_api, params, expected):
    r = await tickets_api.get("/tickets", params=params)
    assert r.status_code == 422 and field_rule(r) == expected, r.text


async def test_an_unknown_ticket_is_404(tickets_api):
    r = await tickets_api.get(f"/tickets/{uuid.uuid4()}")
    assert (r.status_code, field_rule(r)) == (404, ("ticket_id", "ticket_not_found"))


# Issue 15 "500s from input": each answered 500 before the fix.


async def test_a_huge_quantity_is_refused_and_the_ticket_stays_as_it_was(seeded, tickets_api):
    seed = seeded[0]
    expensive = f"BIG-{uuid.uuid4().hex[:8]}"
    body = {"code": expensive, "name": "Plant", "unit": "pcs", "price": "999999999999999.99", "currency": "RUB"}
    assert (await tickets_api.post("/price-list", json=body)).status_code == 201
    [ticket] = (await tickets_api.get("/tickets", params={"client_id": seed.client_id})).json()["items"]
    for quantity in (448645531, "448645531", "999999999.999"):
        r = await tickets_api.post(f"/tickets/{ticket['id']}/items", json={"code": expensive, "quantity": quantity})
        assert (r.status_code, field_rule(r)) == (422, ("quantity", "line_total_too_large")), r.text
    assert (await tickets_api.get(f"/tickets/{ticket['id']}")).json()["lines"] == []


@pytest.mark.parametrize(
    "body, expected",
    [
        ({"title": "Printer\u0000"}, ("title", "control_character")),
        ({"title": "Printer\x1b[31m"}, ("title", "control_character")),
        ({"description": "line one\nline two\u0000"}, ("description", "control_character")),
        ({"override_reason": "\u0007"}, ("override_reason", "control_character")),
        ({"registered_at": "9999-12-31"}, ("registered_at", "date_out_of_range")),
        ({"registered_at": "0001-01-01T00:00:00+00:00"}, ("registered_at", "date_out_of_range")),
        ({"min_position": 2**63}, ("min_position", "less_than_equal")),
    ],
)
async def test_text_dates_and_positions_beyond_bounds_are_refused(seeded, tickets_api, body, expected):
    r = await tickets_api.post("/tickets", json={"client_id": seeded[0].client_id, "title": "x", **body})
    assert r.status_code == 422 and field_rule(r) == expected, r.text


async def test_a_multi_line_description_keeps_its_lines(seeded, tickets_api):
    r = await tickets_api.post(
        "/tickets",
        json={"client_id": seeded[0].client_id, "title": "x", "description": "line one\r\n\tline two"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["description"] == "line one\r\n\tline two"


async def test_the_price_list_is_paged(tickets_api):
    for _i in range(3):
        body = {"code": f"PG-{uuid.uuid4().hex[:8]}", "name": "n", "unit": "pcs", "price": "1.00", "currency": "RUB"}
        assert (await tickets_api.post("/price-list", json=body)).status_code == 201
    everything = (await tickets_api.get("/price-list")).json()
    first = (await tickets_api.get("/price-list", params={"page_size": 2})).json()
    second = (await tickets_api.get("/price-list", params={"page_size": 2, "page": 2})).json()
    assert (first["page"], first["page_size"], first["next_page"]) == (1, 2, 2)
    assert [i["code"] for i in first["items"] + second["items"]] == [i["code"] for i in everything["items"][:4]]
