"""Issue 12 case 12: ``stale: false`` at ``min_position=N`` means every event of the client with
position <= N is applied, whichever of the two contracts topics carried it.

The relay publishes a client's events in position order, but the projection consumes the two
topics independently. Here the client's partition of contracts.events.v1 is held back
(paused on the live consumer) while a payment of contract A (position N) waits in it, and a
later time event of contract B (position M > N) is applied from contracts.schedule.v1. The
client's highest applied position is then M ≥ N, yet the payment is not applied: the answer
must be stale. Once the partition resumes, the same query is fresh and shows the payment.
Real Kafka + PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import date
from uuid import uuid4

import asyncpg
from aiokafka import TopicPartition

from services.projections.adapters.kafka_offsets import partition_of
from shared.topics import CONTRACTS_EVENTS
from tests.integration.projections.helpers import ClientFeed, fresh, publish

YEAR = 2051
Q1 = (date(YEAR, 1, 1), date(YEAR, 3, 31))


async def applied_up_to(dsn: str, client_id, position: int, timeout: float = 30.0) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while (
            await conn.fetchval("SELECT position FROM projections.clients WHERE client_id = $1", client_id) or 0
        ) < position:
            assert asyncio.get_running_loop().time() < deadline, "time event never applied"
            await asyncio.sleep(0.1)
    finally:
        await conn.close()


async def test_a_later_time_event_of_another_contract_does_not_satisfy_min_position_of_a_payment(
    projections_api, producer, projections_dsn
) -> None:
    kafka = projections_api.projections_app.state.consumer.client
    feed = ClientFeed(f"RYW {uuid4().hex[:6]}")
    a, b, qa, qb = uuid4(), uuid4(), uuid4(), uuid4()
    await publish(
        producer,
        feed,
        feed.registered(),
        feed.contract_opened(a, "A-1", Q1[0]),
        feed.period_added(a, qa, *Q1),
        feed.contract_opened(b, "B-1", Q1[0]),
        feed.period_added(b, qb, *Q1),
    )
    await fresh(projections_api, f"/clients/{feed.client_id}/coverage", {"min_position": feed.last_position})

    payment = feed.payment(a, qa, "30000.00", date(YEAR, 1, 5), "30000.00", True)  # position N
    started = feed.period_started(b, qb, *Q1)  # position M > N
    assert started.position is not None and payment.position is not None
    assert started.position > payment.position
    held = TopicPartition(
        CONTRACTS_EVENTS, partition_of(str(feed.client_id), len(kafka.partitions_for_topic(CONTRACTS_EVENTS)))
    )
    kafka.pause(held)
    try:
        await publish(producer, feed, payment)  # the relay publishes in position order: N ...
        await publish(producer, feed, started)  # ... then M, on the other topic
        await applied_up_to(projections_dsn, feed.client_id, started.position)

        url = f"/clients/{feed.client_id}/coverage"
        params = {"on": date(YEAR, 1, 10).isoformat(), "min_position": payment.position}
        body = (await projections_api.get(url, params=params)).json()
        assert body["stale"] is True, body  # the payment at N is not applied yet
        assert body["position"] >= payment.position  # though the client's position says M
        assert {o["period_id"] for o in body["owed"]} == {str(qa), str(qb)}  # A's payment not in
    finally:
        kafka.resume(held)

    body = await fresh(projections_api, url, params)
    assert body["stale"] is False, body
    assert [o["period_id"] for o in body["owed"]] == [str(qb)]  # A paid; B (never paid) still owed
