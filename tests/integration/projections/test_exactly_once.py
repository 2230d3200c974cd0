"""At-least-once in, exactly-once effect out: duplicates, replays and cross-topic reordering."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import asyncpg

from services.projections.adapters.db import open_connection
from services.projections.adapters.replay import TopicReplay
from services.projections.adapters.store import ReadModelStore
from services.projections.application.projector import Projector
from services.projections.entrypoints.consumer import TOPICS
from shared.kafka_security import plaintext
from tests.integration.projections.helpers import (
    ClientFeed,
    fresh,
    publish,
    snapshot,
    wait_consumed,
)


async def history(producer, feed: ClientFeed) -> None:
    contract, periods = uuid4(), [uuid4(), uuid4()]
    await publish(
        producer,
        feed,
        feed.registered(),
        feed.contract_opened(contract, "D-1", date(2026, 1, 1)),
        feed.period_added(contract, periods[0], date(2026, 1, 1), date(2026, 6, 30), "500.00"),
        feed.period_added(contract, periods[1], date(2026, 7, 1), date(2026, 12, 31), "500.00"),
        feed.payment(contract, periods[0], "200.00", date(2026, 1, 3), "200.00", False),
        feed.period_started(contract, periods[1], date(2026, 7, 1), date(2026, 12, 31)),
    )


async def test_the_same_events_fed_twice_change_nothing(projections_api, producer, stack, projections_dsn) -> None:
    feed = ClientFeed("Twice Ltd")
    await history(producer, feed)
    first = await fresh(
        projections_api, f"/clients/{feed.client_id}/coverage", {"on": "2026-02-01", "min_position": feed.last_position}
    )
    assert first["owed"][0]["amount_due"] == "300.00"  # a partial payment reduces what is owed
    await wait_consumed(projections_dsn, stack.kafka_bootstrap)
    before = await snapshot(projections_dsn)

    for topic, env in list(feed.published):  # the relay re-sends the whole history
        await producer.send_and_wait(
            topic, value=env.to_bytes(), key=env.partition_key.encode(), headers=env.kafka_headers()
        )
    await wait_consumed(projections_dsn, stack.kafka_bootstrap)
    after = await snapshot(projections_dsn)
    assert {t: v for t, v in after.items() if t != "consumed_offsets"} == {
        t: v for t, v in before.items() if t != "consumed_offsets"
    }
    again = await fresh(projections_api, f"/clients/{feed.client_id}/coverage", {"on": "2026-02-01"})
    assert again["owed"] == first["owed"] and again["position"] == first["position"]


async def test_replay_from_offset_zero_leaves_the_read_model_unchanged(
    projections_api, producer, stack, projections_dsn
) -> None:
    feed = ClientFeed("Replay Ltd")
    await history(producer, feed)
    await fresh(
        projections_api, f"/clients/{feed.client_id}/coverage", {"on": "2026-02-01", "min_position": feed.last_position}
    )
    await wait_consumed(projections_dsn, stack.kafka_bootstrap)
    before = await snapshot(projections_dsn)

    # Every record of both topics from offset 0, through the live code path, into the live schema.
    replay = TopicReplay(plaintext(stack.kafka_bootstrap), TOPICS, "test-replay")
    await replay.start()
    conn = await open_connection(projections_dsn)
    projector = Projector(ReadModelStore(), dead_letters=_ignore)
    applied = 0
    try:
        limits = await replay.end_offsets()
        while (records := await replay.read(limits, 1000)) is not None:
            if records:
                applied += (await projector.apply_or_isolate(conn, records)).applied
    finally:
        await replay.stop()
        await conn.close()
    assert applied == 0
    assert await snapshot(projections_dsn) == before


async def _ignore(_: object) -> None:
    return None


async def test_an_event_ahead_of_its_predecessor_is_parked_then_applied(
    projections_api, producer, projections_dsn
) -> None:
    """The schedule topic's v3 of a contract stream arrives after the events topic's v4."""
    feed = ClientFeed("Order Ltd")
    contract, period = uuid4(), uuid4()
    stream = f"contract-{contract}"
    await publish(
        producer,
        feed,
        feed.registered(),
        feed.contract_opened(contract, "O-1", date(2026, 1, 1)),
        feed.period_added(contract, period, date(2026, 1, 1), date(2026, 12, 31), "100.00"),
    )
    started = feed.period_started(contract, period, date(2026, 1, 1), date(2026, 12, 31))  # v3
    paid = feed.payment(contract, period, "100.00", date(2026, 1, 2), "100.00", True)  # v4
    await publish(producer, feed, paid)
    conn = await asyncpg.connect(projections_dsn)
    try:
        for _ in range(300):
            parked = await conn.fetch(
                "SELECT stream_version FROM projections.parked_events WHERE stream_id = $1", stream
            )
            if parked:
                break
            await _sleep()
        assert [r["stream_version"] for r in parked] == [4]
        not_yet = await fresh(
            projections_api,
            f"/clients/{feed.client_id}/coverage",
            {"on": "2026-03-01", "min_position": feed.published[-2][1].position},
        )
        assert not_yet["status"] == "unpaid"  # v4 (the payment) is not applied out of order

        await publish(producer, feed, started)
        body = await fresh(
            projections_api,
            f"/clients/{feed.client_id}/coverage",
            {"on": "2026-03-01", "min_position": feed.last_position},
        )
        assert body["status"] == "covered"
        income = await fresh(
            projections_api, "/income", {"from": "2026-01", "to": "2026-01", "min_position": paid.position}
        )
        assert income["months"][0]["received"] != "0.00"
        assert await conn.fetchval("SELECT count(*) FROM projections.parked_events WHERE stream_id = $1", stream) == 0
        assert await conn.fetchval("SELECT version FROM projections.stream_versions WHERE stream_id = $1", stream) == 4
    finally:
        await conn.close()


async def _sleep() -> None:
    import asyncio

    await asyncio.sleep(0.05)
