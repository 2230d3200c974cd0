"""A poison message goes to the dead-letter topic with the reason in headers; the next good
message is applied."""

from __future__ import annotations

import asyncio

import asyncpg

from shared.topics import CONTRACTS_EVENTS, PROJECTIONS_GROUP
from tests.integration.projections.helpers import ClientFeed, fresh, publish
from tests.support.kafka import dead_letters


async def dead_letter_for(bootstrap: str, partition: int, offset: int) -> dict[str, bytes] | None:
    """The projections group's dead letter of this contracts.events record: value, key, headers."""
    found = await dead_letters(bootstrap, PROJECTIONS_GROUP, CONTRACTS_EVENTS, partition, offset)
    return {"value": found[0].value, "key": found[0].key, **dict(found[0].headers)} if found else None


async def test_poison_goes_to_the_dead_letter_topic_and_the_next_message_is_applied(
    projections_api, producer, stack
) -> None:
    feed = ClientFeed("Poison Ltd")
    key = str(feed.client_id).encode()
    garbage = await producer.send_and_wait(
        CONTRACTS_EVENTS, value=b"{not an envelope", key=key, headers=[("content-type", b"application/json")]
    )
    bad_payload = feed.envelope(f"client-{feed.client_id}", "ClientRegistered", {"client_id": "not-a-uuid"}, version=1)
    invalid = await producer.send_and_wait(
        CONTRACTS_EVENTS, value=bad_payload.to_bytes(), key=key, headers=bad_payload.kafka_headers()
    )
    await publish(producer, feed, feed.registered())  # the next good one (same partition)

    body = await fresh(
        projections_api, f"/clients/{feed.client_id}/coverage", {"on": "2026-01-01", "min_position": feed.last_position}
    )
    assert body["status"] == "not_covered"

    dead = await dead_letter_for(stack.kafka_bootstrap, garbage.partition, garbage.offset)
    assert dead is not None, "no dead letter for the garbage message"
    assert dead["value"] == b"{not an envelope" and dead["key"] == key
    assert dead["dlq_error"].startswith(b"invalid envelope")
    assert dead["dlq_source_topic"] == CONTRACTS_EVENTS.encode()
    assert dead["dlq_group"] == PROJECTIONS_GROUP.encode()
    assert dead["dlq_consumer_group"] == PROJECTIONS_GROUP.encode()  # the service's own reader sent it
    assert dead["content-type"] == b"application/json"  # original headers are kept

    dead = await dead_letter_for(stack.kafka_bootstrap, invalid.partition, invalid.offset)
    assert dead is not None and dead["dlq_error"].startswith(b"invalid ClientRegistered v1 payload")

    metrics = (await projections_api.get("/metrics")).text
    assert "projections_dead_letters_total" in metrics


async def test_a_successor_of_a_dead_lettered_event_waits_parked(projections_api, producer, projections_dsn) -> None:
    """Never applied out of order: v2 waits for the v1 that went to the DLQ (until a fixed v1
    is re-published, or a rebuild with fixed code replays it); readiness reports it."""
    feed = ClientFeed("Gap Ltd")
    stream = f"client-{feed.client_id}"
    invalid = feed.envelope(stream, "ClientRegistered", {"name": 42})  # v1: fails validation
    await publish(producer, feed, invalid)
    updated = feed.envelope(
        stream, "ClientUpdated", {"name": "Gap Ltd", "manager_name": "A", "manager_email": "a@example.com"}
    )  # v2
    await publish(producer, feed, updated)
    conn = await asyncpg.connect(projections_dsn)
    try:
        for _ in range(600):
            if await conn.fetchval("SELECT count(*) FROM projections.parked_events WHERE stream_id = $1", stream):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("v2 was not parked")
        ready = (await projections_api.get("/health/ready")).json()
        assert ready["consumer"]["parked_events"] >= 1

        fixed = feed.envelope(
            stream,
            "ClientRegistered",
            {"name": "Gap Ltd", "manager_name": "A", "manager_email": "a@example.com"},
            version=1,
        )
        await publish(producer, feed, fixed)  # the gap fills: v1 then the parked v2 apply
        body = await fresh(
            projections_api,
            f"/clients/{feed.client_id}/coverage",
            {"on": "2026-01-01", "min_position": updated.position},
        )
        assert body["position"] >= updated.position
        assert await conn.fetchval("SELECT count(*) FROM projections.parked_events WHERE stream_id = $1", stream) == 0
    finally:
        await conn.close()


async def test_a_record_the_database_refuses_is_isolated_and_dead_lettered(projections_api, producer, stack) -> None:
    """Valid by its schema, but PostgreSQL cannot store it (a NUL character in a text): the
    batch is applied record by record and that record goes to the DLQ."""
    bad = ClientFeed("Bad\u0000Name")
    sent = await producer.send_and_wait(
        CONTRACTS_EVENTS, value=bad.registered().to_bytes(), key=str(bad.client_id).encode()
    )
    good = ClientFeed("Good Ltd")
    await publish(producer, good, good.registered())
    body = await fresh(
        projections_api,
        f"/clients/{good.client_id}/coverage",
        {"on": "2026-01-01", "min_position": good.last_position},
        timeout=60,
    )
    assert body["stale"] is False
    dead = await dead_letter_for(stack.kafka_bootstrap, sent.partition, sent.offset)
    assert dead is not None and dead["dlq_error"].startswith(b"cannot apply")
