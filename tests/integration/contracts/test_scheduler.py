"""The scheduler of time events: each due event once, across ticks and replicas."""

from __future__ import annotations

import asyncio

from services.contracts.bootstrap import create_app
from shared.topics import CONTRACTS_SCHEDULE
from tests.integration.contracts.conftest import contracts_settings
from tests.integration.contracts.scenario import sign_client_for_a_year
from tests.support.kafka import collect
from tests.support.servers import serving


async def test_a_tick_emits_each_due_event_once_and_a_second_tick_or_replica_emits_nothing(
    contracts_api,
    stack,
):
    signed = await sign_client_for_a_year(contracts_api, year=2031)
    url = f"/contracts/{signed.contract_id}/periods/{signed.period_ids[0]}/payments"
    assert (await contracts_api.post(url, json={"paid_on": "2026-11-02"})).status_code == 201  # paid ahead

    first = await contracts_api.post("/scheduler/tick", json={"as_of": "2031-03-21"})
    assert first.status_code == 200, first.text
    assert first.json()["emitted"] >= 2  # Q1 started + Q1 reminder (plus whatever else is due)
    again = await contracts_api.post("/scheduler/tick", json={"as_of": "2031-03-21"})
    assert again.json()["emitted"] == 0

    # A second replica (its own process state, same database) ticking at the same moment.
    async with serving(create_app(contracts_settings(stack, run_relay=False))) as replica:
        a, b = await asyncio.gather(
            contracts_api.post("/scheduler/tick", json={"as_of": "2031-04-02"}),
            replica.post("/scheduler/tick", json={"as_of": "2031-04-02"}),
        )
    assert a.status_code == b.status_code == 200
    # Q1 ended, Q2 started, Q2 overdue (prepaid, unpaid on its first day): three, once. (The
    # ticks count every contract in the shared database: one that renews itself every year,
    # as the e2e scenario's does, has events due then too; this contract's history is exact.)
    assert a.json()["emitted"] + b.json()["emitted"] >= 3

    history = (await contracts_api.get(f"/contracts/{signed.contract_id}/events")).json()["items"]
    q1, q2 = signed.period_ids[0], signed.period_ids[1]
    by_period = [(h["event_type"], h["data"].get("period_id")) for h in history]
    for fact in (("ServicePeriodEnded", q1), ("ServicePeriodStarted", q2), ("ServicePeriodBecameOverdue", q2)):
        assert by_period.count(fact) == 1, fact
    kinds = [
        h["event_type"]
        for h in history
        if h["event_type"].startswith("ServicePeriod") and h["event_type"] not in ("ServicePeriodAdded",)
    ]
    assert kinds.count("ServicePeriodEndingSoon") == 1
    assert kinds.count("ServicePeriodBecameOverdue") == 1

    def has_reminder(found):
        return any(e.event_type == "ServicePeriodBecameOverdue" for e in found)

    on_kafka = await collect(stack.kafka_bootstrap, CONTRACTS_SCHEDULE, key=signed.client_id, until=has_reminder)
    reminders = [e for e in on_kafka if e.event_type == "ServicePeriodEndingSoon"]
    assert len(reminders) == 1
    reminder = reminders[0].data
    assert reminder["manager_email"].startswith("irina.")
    assert reminder["period"]["ends_on"] == "2031-03-31"
    assert reminder["next_period"]["amount"] == "30000.00"
    assert reminder["next_period"]["due_on"] == "2031-04-01"


async def test_changing_a_period_reminder_rearms_it(contracts_api):
    signed = await sign_client_for_a_year(contracts_api, year=2032)
    await contracts_api.post("/scheduler/tick", json={"as_of": "2032-06-20"})  # Q2 reminder sent
    r = await contracts_api.patch(
        f"/contracts/{signed.contract_id}/periods/{signed.period_ids[2]}", json={"remind_on": "2032-09-01"}
    )
    assert r.status_code == 200, r.text
    tick = await contracts_api.post("/scheduler/tick", json={"as_of": "2032-09-01"})
    history = (await contracts_api.get(f"/contracts/{signed.contract_id}/events")).json()["items"]
    reminders = [h for h in history if h["event_type"] == "ServicePeriodEndingSoon"]
    # Q1 and Q2 by the first tick; Q3 on its new date, not on its old one (2032-09-20)
    assert [r_["data"]["remind_on"] for r_ in reminders] == ["2032-03-21", "2032-06-20", "2032-09-01"]
    assert tick.json()["emitted"] >= 1
