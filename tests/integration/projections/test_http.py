"""Query parameters: malformed ones answer 422 naming the parameter; freshness; operations."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from shared.http.paging import encode_cursor
from tests.integration.projections.helpers import ClientFeed, fresh, publish


@pytest.mark.parametrize(
    ("url", "params", "field", "rule"),
    [
        (f"/clients/{uuid4()}/coverage", {"on": "2026-02-30"}, "on", None),
        ("/clients/not-a-uuid/coverage", {"on": "2026-02-01"}, "client_id", None),
        ("/debtors", {"on": "yesterday"}, "on", None),
        ("/debtors", {"on": "2026-01-01", "payment_terms": "weekly"}, "payment_terms", None),
        ("/debtors", {"on": "2026-01-01", "page_size": "501"}, "page_size", None),
        ("/contracts", {"page_size": "100000"}, "page_size", None),
        ("/contracts", {"page": "0"}, "page", None),
        ("/contracts", {"status": "frozen"}, "status", None),
        ("/contracts", {"paid": "maybe"}, "paid", None),
        (
            "/contracts",
            {"period_starts_from": "2026-05-01", "period_starts_to": "2026-04-01"},
            "period_starts_from",
            "from_after_to",
        ),
        ("/contracts", {"period_ends_to": "31.12.2026"}, "period_ends_to", None),
        ("/income", {"from": "2026-13", "to": "2026-12"}, "from", None),
        ("/income", {"from": "2026-05", "to": "2026-04"}, "from", "from_after_to"),
        ("/income", {"from": "2000-01", "to": "2026-12"}, "to", "range_too_long"),
        ("/income", {"to": "2026-12"}, "from", "missing"),
        (f"/clients/{uuid4()}/coverage", {"min_position": "-1"}, "min_position", None),
        # issue 15: each of these answered 500 (or was taken as a date) before
        ("/income", {"from": "0000-01", "to": "0000-01"}, "from", None),
        ("/income", {"from": "2200-01", "to": "2200-02"}, "from", None),
        ("/debtors", {"page": str(2**63)}, "page", "less_than_equal"),
        ("/contracts", {"page": str(2**63 + 1)}, "page", "less_than_equal"),
        (f"/clients/{uuid4()}/coverage", {"on": "1699920000"}, "on", "date_format"),
        (f"/clients/{uuid4()}/coverage", {"on": "9999-12-31"}, "on", "date_out_of_range"),
        ("/debtors", {"on": "1699920000"}, "on", "date_format"),
        (f"/clients/{uuid4()}/coverage", {"min_position": str(2**63)}, "min_position", "less_than_equal"),
        ("/contracts", {"period_starts_from": "0001-01-01"}, "period_starts_from", "date_out_of_range"),
        # issue 20: the debtors cursor
        ("/debtors", {"after": "not a cursor"}, "after", "bad_cursor"),
        ("/debtors", {"after": encode_cursor(["x", "not-a-uuid"])}, "after", "bad_cursor"),
        ("/debtors", {"after": encode_cursor(["x", str(uuid4())]), "page": "2"}, "page", "after_with_page"),
    ],
)
async def test_bad_parameters_are_named(projections_api, url, params, field, rule) -> None:
    response = await projections_api.get(url, params=params)
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert field in [e["field"] for e in errors], errors
    if rule is not None:
        assert rule in [e["rule"] for e in errors], errors


async def test_unknown_client_is_404(projections_api) -> None:
    response = await projections_api.get(f"/clients/{uuid4()}/coverage", params={"on": "2026-01-01"})
    assert response.status_code == 404
    assert response.json()["errors"][0]["field"] == "client_id"
    assert response.json()["errors"][0]["rule"] == "unknown_client"


async def test_a_position_not_reached_answers_stale_after_a_bounded_wait(projections_api, producer) -> None:
    feed = ClientFeed()
    await publish(producer, feed, feed.registered())
    body = None
    for _ in range(50):
        r = await projections_api.get(
            f"/clients/{feed.client_id}/coverage", params={"on": "2026-01-01", "min_position": feed.last_position}
        )
        if r.status_code == 200:
            body = r.json()
            break
    assert body is not None and body["stale"] is False and body["position"] == feed.last_position

    ahead = feed.last_position + 1_000_000
    r = await projections_api.get(
        f"/clients/{feed.client_id}/coverage", params={"on": "2026-01-01", "min_position": ahead}
    )
    assert r.status_code == 200 and r.json()["stale"] is True
    assert r.json()["position"] == feed.last_position
    r = await projections_api.get("/income", params={"from": "2026-01", "to": "2026-01"})
    assert r.json()["stale"] is False and r.json()["position"] >= feed.last_position


async def test_health_and_metrics(projections_api) -> None:
    assert (await projections_api.get("/health/live")).json() == {"status": "ok"}
    ready = await projections_api.get("/health/ready")
    body = ready.json()
    assert ready.status_code == 200, body
    assert body["checks"] == {"database": "ok"} and body["informational"] == {"kafka": "ok"}
    consumer = body["consumer"]
    assert consumer["running"] is True and consumer["group"] == "abonent.projections"
    assert "contracts.events.v1/0" in consumer["lag"] and "contracts.schedule.v1/0" in consumer["lag"]
    metrics = (await projections_api.get("/metrics")).text
    for name in (
        "projections_events_total",
        "projections_batch_apply_seconds",
        "projections_consumer_lag",
        "projections_parked_events",
    ):
        assert name in metrics, name


async def test_debtors_pages_by_cursor_are_the_numbered_pages(projections_api, producer) -> None:
    """Issue 20: following ``next_after`` gives the pages ``page=1, 2, …`` give, and the
    downloads (which page by the cursor) list the same debtors. Five clients of this test owe
    on a day of 2039 that only they and earlier tests' unpaid periods reach."""
    on, feeds = date(2039, 3, 1), []
    for n in range(5):
        feed, contract, period = ClientFeed(f"Cursor {uuid4().hex[:6]} {n}"), uuid4(), uuid4()
        await publish(
            producer,
            feed,
            feed.registered(),
            feed.contract_opened(contract, f"CUR-{n}", date(2039, 1, 1)),
            feed.period_added(contract, period, date(2039, 1, 1), date(2039, 1, 31)),
        )
        feeds.append(feed)
    wait = max(f.last_position for f in feeds)
    first = await fresh(projections_api, "/debtors", {"on": on.isoformat(), "page_size": 2, "min_position": wait})
    numbered, body, page = [first["items"]], first, 1
    while body["next_page"] is not None:
        page += 1
        body = (
            await projections_api.get("/debtors", params={"on": on.isoformat(), "page_size": 2, "page": page})
        ).json()
        numbered.append(body["items"])
    chained, body = [first["items"]], first
    while body["next_after"] is not None:
        response = await projections_api.get(
            "/debtors", params={"on": on.isoformat(), "page_size": 2, "after": body["next_after"]}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["next_page"] is None  # with a cursor, follow the cursor
        chained.append(body["items"])
    assert chained == numbered and len(numbered) >= 3
    clients = [d["client_id"] for items in numbered for d in items]
    assert {str(f.client_id) for f in feeds} <= set(clients)
    csv = await projections_api.get("/debtors", params={"on": on.isoformat(), "format": "csv"})
    assert all(str(f.client_id) in csv.text for f in feeds)
