"""Poison on the projections' topics (issue 15): broken JSON, an unknown event type, a body its
schema refuses, a record far over any event's size — each lands in the dead-letter topic with
its reason, and the next good record is applied. On the real broker."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer

from shared.consumer.decoding import MAX_RECORD_BYTES
from shared.topics import CONTRACTS_EVENTS
from tests.integration.projections.helpers import ClientFeed, fresh, publish
from tests.integration.projections.test_dead_letters import dead_letter_for


async def test_every_kind_of_poison_is_dead_lettered_with_its_reason_and_the_next_record_applies(
    projections_api, producer: AIOKafkaProducer, stack
) -> None:
    feed = ClientFeed("Poison Kinds Ltd")
    key = str(feed.client_id).encode()  # every record on the good client's partition, before it
    # The poison belongs to another client: an event that cannot be applied stops ITS stream.
    other = ClientFeed("Poisoned Ltd")
    stream = f"contract-{other.client_id}"
    unknown = other.envelope(stream + "-a", "ContractTeleported", {"to": "Mars"}, version=1)
    invalid = other.envelope(stream + "-b", "ContractOpened", {"number": 7}, version=1)
    huge = other.envelope(stream + "-c", "ClientUpdated", {"name": "x" * (MAX_RECORD_BYTES + 1000)}, version=1)
    poison = {
        "invalid envelope": await producer.send_and_wait(CONTRACTS_EVENTS, value=b"{broken", key=key),
        "unknown event type": await producer.send_and_wait(
            CONTRACTS_EVENTS, value=unknown.to_bytes(), key=key, headers=unknown.kafka_headers()
        ),
        "invalid ContractOpened v1 payload": await producer.send_and_wait(
            CONTRACTS_EVENTS, value=invalid.to_bytes(), key=key, headers=invalid.kafka_headers()
        ),
        "record too large": await producer.send_and_wait(
            CONTRACTS_EVENTS, value=huge.to_bytes(), key=key, headers=huge.kafka_headers()
        ),
    }
    await publish(producer, feed, feed.registered())  # the next good one, same partition

    body = await fresh(
        projections_api, f"/clients/{feed.client_id}/coverage", {"on": "2026-01-01", "min_position": feed.last_position}
    )
    assert body["status"] == "not_covered"
    for reason, sent in poison.items():
        dead = await dead_letter_for(stack.kafka_bootstrap, sent.partition, sent.offset)
        assert dead is not None, f"no dead letter for the {reason} record"
        assert dead["dlq_error"].decode().startswith(reason), dead["dlq_error"][:200]
    metrics = (await projections_api.get("/metrics")).text
    for kind in ("invalid_envelope", "unknown_event_type", "invalid_payload", "too_large"):
        assert (
            f'dead_letters_total{{consumer="abonent.projections",reason="{kind}",topic="{CONTRACTS_EVENTS}"}}'
            in metrics
        )
