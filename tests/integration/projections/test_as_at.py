"""Issue 12 case 4: answers "as at" a past date count only the payments made by then.

Q1 (prepaid, 1 January – 31 March) is paid on 15 February. Asked later, the debtors list on
1 February names the client, coverage on 1 February is ``unpaid``, the contracts filter
``paid=false`` as at 1 February finds Q1, and income's ``outstanding`` for January as at
1 February still counts it; as at 15 February it is paid everywhere. Real Kafka + PostgreSQL."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from tests.integration.projections.helpers import ClientFeed, fresh, publish

YEAR = 2041  # a year no other test writes to, so global income is this test's alone
Q1 = (date(YEAR, 1, 1), date(YEAR, 3, 31))
FEB_1, FEB_15 = date(YEAR, 2, 1), date(YEAR, 2, 15)


@pytest.fixture(scope="module")
async def paid_late(projections_api, producer):
    feed = ClientFeed(f"As-at {uuid4().hex[:6]}")
    contract, q1 = uuid4(), uuid4()
    await publish(
        producer,
        feed,
        feed.registered(),
        feed.contract_opened(contract, "AS-1", Q1[0]),
        feed.period_added(contract, q1, *Q1),
        feed.payment(contract, q1, "30000.00", FEB_15, "30000.00", True),
    )
    return feed, contract, q1


def _params(feed: ClientFeed, **extra: object) -> dict[str, object]:
    return {"min_position": feed.last_position, **extra}


async def test_debtors_as_at_a_date_before_the_payment_list_the_client(projections_api, paid_late) -> None:
    feed, _, q1 = paid_late
    body = await fresh(projections_api, "/debtors", _params(feed, on=FEB_1.isoformat(), client_id=str(feed.client_id)))
    [debtor] = body["items"]
    assert [(p["period_id"], p["amount_due"], p["days_overdue"]) for p in debtor["periods"]] == [
        (str(q1), "30000.00", 31)
    ]
    body = await fresh(projections_api, "/debtors", _params(feed, on=FEB_15.isoformat(), client_id=str(feed.client_id)))
    assert body["items"] == []
    # the global walk (no client_id) agrees
    everyone = await fresh(projections_api, "/debtors", _params(feed, on=FEB_1.isoformat(), page_size=500))
    assert str(feed.client_id) in {d["client_id"] for d in everyone["items"]}


async def test_coverage_as_at_a_date_before_the_payment_is_unpaid(projections_api, paid_late) -> None:
    feed, _, _ = paid_late
    url = f"/clients/{feed.client_id}/coverage"
    before = await fresh(projections_api, url, _params(feed, on=FEB_1.isoformat()))
    assert before["status"] == "unpaid"
    assert [w["code"] for w in before["warnings"]] == ["CURRENT_PERIOD_UNPAID"]
    assert before["active_period"]["paid_amount"] == "0.00" and before["active_period"]["paid"] is False
    after = await fresh(projections_api, url, _params(feed, on=FEB_15.isoformat()))
    assert after["status"] == "covered" and after["owed"] == []


async def test_the_paid_filter_is_as_at_on(projections_api, paid_late) -> None:
    feed, contract, q1 = paid_late

    async def matched(paid: bool, on: date) -> list[tuple[str, str, bool]]:
        body = await fresh(
            projections_api,
            "/contracts",
            _params(feed, client_id=str(feed.client_id), paid=str(paid).lower(), on=on.isoformat()),
        )
        return [(p["period_id"], p["paid_amount"], p["paid"]) for c in body["items"] for p in c["matched_periods"]]

    assert await matched(False, FEB_1) == [(str(q1), "0.00", False)]
    assert await matched(True, FEB_1) == []
    assert await matched(True, FEB_15) == [(str(q1), "30000.00", True)]
    assert await matched(False, FEB_15) == []


async def test_income_outstanding_is_as_at_on(projections_api, paid_late) -> None:
    feed, _, _ = paid_late
    for client in ({"client_id": str(feed.client_id)}, {}):
        months = {}
        for on in (FEB_1, FEB_15):
            body = await fresh(
                projections_api,
                "/income",
                _params(feed, **{"from": f"{YEAR}-01", "to": f"{YEAR}-02", "on": on.isoformat()}, **client),
            )
            months[on] = {m["month"]: (m["due"], m["received"], m["outstanding"]) for m in body["months"]}
        assert months[FEB_1][f"{YEAR}-01"] == ("30000.00", "0.00", "30000.00"), client
        assert months[FEB_15][f"{YEAR}-01"] == ("30000.00", "0.00", "0.00"), client
        assert months[FEB_1][f"{YEAR}-02"] == months[FEB_15][f"{YEAR}-02"] == ("0.00", "30000.00", "0.00")
