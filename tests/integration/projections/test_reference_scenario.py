"""docs/design.md §1 reference scenario, through real Kafka and PostgreSQL: a year of quarterly
prepaid periods of 30000.00 RUB, Q1 paid, Q2 not."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from tests.integration.projections.helpers import ClientFeed, fresh, publish

YEAR = 2026
QUARTERS = [
    (date(YEAR, 1, 1), date(YEAR, 3, 31)),
    (date(YEAR, 4, 1), date(YEAR, 6, 30)),
    (date(YEAR, 7, 1), date(YEAR, 9, 30)),
    (date(YEAR, 10, 1), date(YEAR, 12, 31)),
]


@pytest.fixture(scope="module")
async def scenario(projections_api, producer):
    feed = ClientFeed("Romashka LLC")
    contract, periods = uuid4(), [uuid4() for _ in QUARTERS]
    await publish(producer, feed, feed.registered(), feed.contract_opened(contract, "A-1", date(YEAR, 1, 1)))
    await publish(
        producer, feed, *(feed.period_added(contract, p, s, e) for p, (s, e) in zip(periods, QUARTERS, strict=True))
    )
    await publish(producer, feed, feed.payment(contract, periods[0], "30000.00", date(YEAR, 1, 10), "30000.00", True))
    # a time event on the schedule topic, appended to the same contract stream
    await publish(producer, feed, feed.period_started(contract, periods[1], *QUARTERS[1]))
    return feed, contract, periods


async def coverage(api, feed: ClientFeed, on: date) -> dict:
    return await fresh(
        api, f"/clients/{feed.client_id}/coverage", {"on": on.isoformat(), "min_position": feed.last_position}
    )


async def test_covered_in_q1(projections_api, scenario) -> None:
    feed, contract, periods = scenario
    body = await coverage(projections_api, feed, date(YEAR, 2, 15))
    assert body["status"] == "covered"
    assert body["active_period"]["period_id"] == str(periods[0])
    assert body["active_period"]["paid"] is True
    assert body["owed"] == [] and body["warnings"] == [] and body["total_owed"] == "0.00"
    assert body["position"] >= feed.last_position and body["stale"] is False


async def test_unpaid_in_q2(projections_api, scenario) -> None:
    feed, contract, periods = scenario
    body = await coverage(projections_api, feed, date(YEAR, 4, 15))
    assert body["status"] == "unpaid"
    assert [w["code"] for w in body["warnings"]] == ["CURRENT_PERIOD_UNPAID"]
    assert f"{YEAR}-04-01" in body["warnings"][0]["message"]
    assert body["owed"] == [
        {
            "contract_id": str(contract),
            "period_id": str(periods[1]),
            "starts_on": f"{YEAR}-04-01",
            "ends_on": f"{YEAR}-06-30",
            "payment_terms": "prepaid",
            "due_on": f"{YEAR}-04-01",
            "amount_due": "30000.00",
            "currency": "RUB",
            "days_overdue": 14,
        }
    ]
    assert (body["total_owed"], body["currency"]) == ("30000.00", "RUB")


async def test_not_covered_after_the_year(projections_api, scenario) -> None:
    feed, _, _ = scenario
    body = await coverage(projections_api, feed, date(YEAR + 1, 1, 10))
    assert body["status"] == "not_covered" and body["active_period"] is None
    codes = [w["code"] for w in body["warnings"]]
    assert codes[0] == "NO_ACTIVE_PERIOD" and "OVERDUE_PERIODS" in codes
    assert body["warnings"][0]["message"] == (
        f"no active service period on {YEAR + 1}-01-10: service cannot be provided under subscription"
    )
    assert body["total_owed"] == "90000.00"  # Q2..Q4 still owed


async def test_debtors_on_15_april(projections_api, scenario) -> None:
    feed, contract, periods = scenario
    body = await fresh(
        projections_api,
        "/debtors",
        {"on": f"{YEAR}-04-15", "client_id": str(feed.client_id), "min_position": feed.last_position},
    )
    assert len(body["items"]) == 1
    debtor = body["items"][0]
    assert (debtor["client_id"], debtor["client_name"]) == (str(feed.client_id), "Romashka LLC")
    assert (debtor["total_owed"], debtor["currency"]) == ("30000.00", "RUB")
    assert [p["period_id"] for p in debtor["periods"]] == [str(periods[1])]
    assert debtor["ageing"] == {"0-30": "30000.00", "31-60": "0.00", "61-90": "0.00", "90+": "0.00"}

    unfiltered = await fresh(
        projections_api, "/debtors", {"on": f"{YEAR}-04-15", "page_size": 500, "payment_terms": "prepaid"}
    )
    pages = [unfiltered]
    while pages[-1]["next_page"]:
        pages.append(
            await fresh(
                projections_api,
                "/debtors",
                {"on": f"{YEAR}-04-15", "page_size": 500, "payment_terms": "prepaid", "page": pages[-1]["next_page"]},
            )
        )
    assert str(feed.client_id) in {d["client_id"] for p in pages for d in p["items"]}
    postpaid = await fresh(
        projections_api,
        "/debtors",
        {"on": f"{YEAR}-04-15", "client_id": str(feed.client_id), "payment_terms": "postpaid"},
    )
    assert postpaid["items"] == []


async def test_income_for_the_year(projections_api, scenario) -> None:
    feed, _, _ = scenario
    body = await fresh(
        projections_api,
        "/income",
        {
            "from": f"{YEAR}-01",
            "to": f"{YEAR}-12",
            "client_id": str(feed.client_id),
            "min_position": feed.last_position,
        },
    )
    months = {m["month"]: m for m in body["months"]}
    assert len(body["months"]) == 12 and {m["currency"] for m in body["months"]} == {"RUB"}
    due = {k: m["due"] for k, m in months.items() if m["due"] != "0.00"}
    assert due == {
        f"{YEAR}-01": "30000.00",
        f"{YEAR}-04": "30000.00",
        f"{YEAR}-07": "30000.00",
        f"{YEAR}-10": "30000.00",
    }
    received = {k: m["received"] for k, m in months.items() if m["received"] != "0.00"}
    assert received == {f"{YEAR}-01": "30000.00"}
    assert months[f"{YEAR}-01"]["outstanding"] == "0.00"
    assert months[f"{YEAR}-04"]["outstanding"] == "30000.00"


async def test_contracts_list_period_filters_apply_to_the_same_period(projections_api, scenario) -> None:
    feed, contract, periods = scenario
    base = {"client_id": str(feed.client_id), "min_position": feed.last_position}
    everything = await fresh(projections_api, "/contracts", base)
    assert [c["contract_id"] for c in everything["items"]] == [str(contract)]
    assert len(everything["items"][0]["matched_periods"]) == 4
    assert everything["next_page"] is None

    # "started until 15 April AND not paid" is one period: Q2 (Q1 started but is paid)
    body = await fresh(
        projections_api,
        "/contracts",
        {**base, "period_starts_to": f"{YEAR}-04-15", "paid": "false", "payment_terms": "prepaid"},
    )
    (item,) = body["items"]
    assert (item["number"], item["status"]) == ("A-1", "active")
    assert [p["period_id"] for p in item["matched_periods"]] == [str(periods[1])]
    assert item["matched_periods"][0]["amount"] == "30000.00"

    none = await fresh(projections_api, "/contracts", {**base, "period_ends_to": f"{YEAR}-03-31", "paid": "false"})
    assert none["items"] == []


async def test_termination_stops_coverage_from_its_date(projections_api, producer) -> None:
    feed = ClientFeed("Terminated Ltd")
    contract, period = uuid4(), uuid4()
    await publish(
        producer,
        feed,
        feed.registered(),
        feed.contract_opened(contract, "T-1", date(YEAR, 1, 1)),
        feed.period_added(contract, period, date(YEAR, 1, 1), date(YEAR, 12, 31), "1200.00"),
        feed.payment(contract, period, "1200.00", date(YEAR, 1, 1), "1200.00", True),
        feed.terminated(contract, date(YEAR, 6, 1)),
        feed.termination_took_effect(contract, date(YEAR, 6, 1)),
    )
    assert (await coverage(projections_api, feed, date(YEAR, 5, 31)))["status"] == "covered"
    assert (await coverage(projections_api, feed, date(YEAR, 6, 1)))["status"] == "not_covered"
    listed = await fresh(projections_api, "/contracts", {"client_id": str(feed.client_id), "status": "terminated"})
    assert [c["terminated_on"] for c in listed["items"]] == [f"{YEAR}-06-01"]
