"""The income rollup the consumer keeps batch by batch equals the sums of the tables, through
every event that moves money: added, changed and removed periods, payments and their
cancellation, a termination that voids later periods; and GET /income without ``client_id``
(the rollup) agrees with the same client's answer (its own rows)."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import asyncpg

from services.projections.adapters.store import income_cells
from tests.integration.projections.helpers import ClientFeed, fresh, publish

YEAR = 2091  # no other test writes money into this year: the global answer is this client's


async def test_rollup_follows_every_money_event(projections_api, producer, projections_dsn) -> None:
    feed = ClientFeed("Rollup Ltd")
    contract, jan, spring, eur, autumn = uuid4(), uuid4(), uuid4(), uuid4(), uuid4()
    cancelled = feed.payment(contract, jan, "40.00", date(YEAR, 1, 3), "140.00", True)
    stream = f"contract-{contract}"
    await publish(
        producer,
        feed,
        feed.registered(),
        feed.contract_opened(contract, "R-1", date(YEAR, 1, 1)),
        feed.period_added(contract, jan, date(YEAR, 1, 1), date(YEAR, 1, 31), "100.00"),
        feed.period_added(contract, spring, date(YEAR, 2, 1), date(YEAR, 3, 31), "300.00", "postpaid"),
        feed.period_added(contract, eur, date(YEAR, 4, 1), date(YEAR, 4, 30), "7.00", currency="EUR"),
        feed.period_added(contract, autumn, date(YEAR, 9, 1), date(YEAR, 9, 30), "900.00"),
        feed.payment(contract, jan, "100.00", date(YEAR, 1, 2), "100.00", True),
        cancelled,
        feed.envelope(
            stream,
            "PaymentCancelled",
            {
                "contract_id": str(contract),
                "period_id": str(jan),
                "payment_id": cancelled.data["payment_id"],
                "amount": "40.00",
                "currency": "RUB",
                "reason": "typo",
                "period_paid_amount": "100.00",
                "period_paid": True,
            },
        ),
        feed.period_added(
            contract,
            spring,
            date(YEAR, 2, 1),
            date(YEAR, 3, 31),
            "250.00",
            "postpaid",
            event_type="ServicePeriodChanged",
        ),
        feed.envelope(stream, "ServicePeriodRemoved", {"contract_id": str(contract), "period_id": str(eur)}),
        feed.terminated(contract, date(YEAR, 6, 1)),
    )

    # as at the end of the year: the payments (dated YEAR) count, whatever today is
    params = {"from": f"{YEAR}-01", "to": f"{YEAR}-12", "min_position": feed.last_position, "on": f"{YEAR}-12-31"}
    of_client = await fresh(projections_api, "/income", {**params, "client_id": str(feed.client_id)})
    everyone = await fresh(projections_api, "/income", params)
    months = {m["month"]: m for m in everyone["months"] if m["due"] != "0.00" or m["received"] != "0.00"}
    assert months == {
        f"{YEAR}-01": {
            "month": f"{YEAR}-01",
            "currency": "RUB",
            "due": "100.00",
            "received": "100.00",
            "outstanding": "0.00",
        },
        f"{YEAR}-03": {
            "month": f"{YEAR}-03",
            "currency": "RUB",
            "due": "250.00",
            "received": "0.00",
            "outstanding": "250.00",
        },
    }, "removed EUR period, cancelled payment and the voided September period must not count"
    assert everyone["months"] == of_client["months"]

    conn = await asyncpg.connect(projections_dsn, server_settings={"search_path": "projections"})
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            kept = await conn.fetch(
                "SELECT month, currency, due, outstanding, received, items FROM income_months ORDER BY 1, 2"
            )
            summed = await conn.fetch(income_cells("true", "true") + " ORDER BY 1, 2")
    finally:
        await conn.close()
    assert [tuple(r) for r in kept] == [tuple(r) for r in summed]
