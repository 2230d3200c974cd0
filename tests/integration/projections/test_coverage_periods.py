"""Coverage reads only the periods that may be active on D and those owed on D (the latter by
``period_debts``), not a client's whole history: on every day of a varied year its answer is
the one ``assess`` gives over every period of the client with its paid amount as at that day.

One client, real Kafka + PostgreSQL: a prepaid contract of monthly periods paid on time, late,
in two parts straddling the due date, partly for months, not at all, and paid back and forth around a
date; a postpaid contract paid after its periods end; a third contract terminated mid-year (its
later periods void). Each day from December to the next January is asked through the service
(``GET /clients/{id}/coverage?on=``) and compared with the reference, computed here from every
period of the client."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import uuid4

import asyncpg
import orjson
import pytest

from services.projections.adapters.reads import period_state, to_period_state
from services.projections.application.queries import Answer
from services.projections.domain.coverage import assess
from services.projections.entrypoints.http import views
from tests.integration.projections.helpers import ClientFeed, fresh, publish

YEAR = 2036  # no other test writes money into this year

EVERY_PERIOD = f"""
    SELECT {period_state("$2")}
    FROM periods p JOIN contracts c ON c.contract_id = p.contract_id
    WHERE p.client_id = $1 AND p.starts_on <= $2"""
"""The reference: every period of the client that started by D, paid as at D (what the service
read before it asked ``period_debts``)."""


def month(m: int) -> tuple[date, date]:
    first = date(YEAR, m, 1)
    return first, (date(YEAR, m + 1, 1) if m < 12 else date(YEAR + 1, 1, 1)) - timedelta(days=1)


@pytest.fixture(scope="module")
async def history(projections_api, producer):
    feed = ClientFeed(f"Coverage history {uuid4().hex[:6]}")
    prepaid, postpaid, ended = uuid4(), uuid4(), uuid4()
    events = [
        feed.registered(),
        feed.contract_opened(prepaid, "CH-1", date(YEAR, 1, 1)),
        feed.contract_opened(postpaid, "CH-2", date(YEAR, 1, 1)),
        feed.contract_opened(ended, "CH-3", date(YEAR, 1, 1)),
    ]
    monthly = {m: uuid4() for m in range(1, 13)}
    for m, period in monthly.items():
        events.append(feed.period_added(prepaid, period, *month(m), amount="1000.00"))
    paid = {  # month -> payments (amount, day), in order; the period's running paid amount follows
        1: [("1000.00", date(YEAR, 1, 1))],  # on its due day
        2: [("1000.00", date(YEAR, 2, 20))],  # late
        3: [("400.00", date(YEAR, 2, 25)), ("600.00", date(YEAR, 3, 10))],  # part early, rest late
        4: [("300.00", date(YEAR, 4, 5)), ("700.00", date(YEAR, 8, 20))],  # partly, settled months later
        6: [("1000.00", date(YEAR, 5, 20))],  # in advance
        7: [("500.00", date(YEAR, 7, 1)), ("500.00", date(YEAR, 9, 30))],  # settled a quarter late
    }
    for m, payments in paid.items():
        running = 0
        for amount, day in payments:
            running += int(amount.split(".")[0])
            events.append(feed.payment(prepaid, monthly[m], amount, day, f"{running}.00", running >= 1000))
    quarters = [uuid4() for _ in range(4)]
    for q, period in enumerate(quarters):
        starts, ends = month(3 * q + 1)[0], month(3 * q + 3)[1]
        events.append(feed.period_added(postpaid, period, starts, ends, amount="3000.00", terms="postpaid"))
    events.append(feed.payment(postpaid, quarters[0], "3000.00", date(YEAR, 4, 15), "3000.00", True))
    events.append(feed.payment(postpaid, quarters[1], "3000.00", date(YEAR, 6, 30), "3000.00", True))
    halves = [uuid4(), uuid4()]
    events.append(feed.period_added(ended, halves[0], date(YEAR, 1, 1), date(YEAR, 6, 30), amount="500.00"))
    events.append(feed.period_added(ended, halves[1], date(YEAR, 7, 1), date(YEAR, 12, 31), amount="500.00"))
    events.append(feed.payment(ended, halves[0], "500.00", date(YEAR, 1, 2), "500.00", True))  # a day late
    events.append(feed.terminated(ended, date(YEAR, 5, 1)))  # H1 cut short; H2 void
    await publish(producer, feed, *events)
    return feed


async def test_coverage_on_every_day_is_assess_over_the_whole_history(
    projections_api, projections_dsn, history
) -> None:
    feed = history
    url = f"/clients/{feed.client_id}/coverage"
    await fresh(projections_api, url, {"min_position": feed.last_position})
    conn = await asyncpg.connect(projections_dsn, server_settings={"search_path": "projections"})
    try:
        day, compared, statuses = date(YEAR - 1, 12, 15), 0, set()
        while day <= date(YEAR + 1, 1, 15):
            body = await fresh(projections_api, url, {"on": day.isoformat()})
            rows = await conn.fetch(EVERY_PERIOD, feed.client_id, day)
            reference = views.coverage(
                feed.client_id, Answer(assess([to_period_state(r) for r in rows], day), None, False)
            )
            expected = {k: reference[k] for k in ("status", "active_period", "owed", "total_owed", "warnings")}
            got = {k: body[k] for k in expected}
            assert _json(got) == _json(expected), day
            statuses.add(body["status"])
            compared += 1
            day += timedelta(days=1)
    finally:
        await conn.close()
    assert compared > 390 and statuses == {"covered", "unpaid", "not_covered"}


def _json(value: object) -> object:
    """A view's values as the service serialises them (UUIDs, dates and amounts as strings)."""
    return orjson.loads(orjson.dumps(value, default=str))
