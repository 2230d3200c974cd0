"""Poison on the notifier's topic (issue 15): broken JSON, an unknown event type, a body its
schema refuses, a record far over any event's size — each lands in the dead-letter topic with
its reason, and the next good record is mailed. On the real broker."""

from __future__ import annotations

from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

from shared.consumer.decoding import MAX_RECORD_BYTES
from shared.topics import CONTRACTS_SCHEDULE, NOTIFIER_GROUP
from tests.integration.notifier.mailbox import Mailbox
from tests.integration.notifier.test_notifier_delivery import dead_letter_for, publish
from tests.unit.notifier.notifier_events import Client, ending_soon, envelope


async def test_every_kind_of_poison_is_dead_lettered_with_its_reason_and_the_next_record_is_mailed(
    notifier_api: httpx.AsyncClient, producer: AIOKafkaProducer, mailbox: Mailbox, stack: Any
) -> None:
    client = Client()
    key = str(client.client_id).encode()
    good = envelope(ending_soon(client), client, version=1)
    unknown = good.model_copy(update={"event_type": "ServicePeriodTeleported"})
    invalid = good.model_copy(update={"data": {**good.data, "period": "soon"}})
    huge = good.model_copy(update={"data": {**good.data, "padding": "x" * (MAX_RECORD_BYTES + 1000)}})
    poison = {
        "invalid envelope": await producer.send_and_wait(CONTRACTS_SCHEDULE, value=b"{broken", key=key),
        "unknown event type": await publish(producer, unknown),
        "invalid ServicePeriodEndingSoon": await publish(producer, invalid),
        "record too large": await publish(producer, huge),
    }
    await publish(producer, good)  # the next good one, same partition

    assert len(await mailbox.wait_for(good.event_id, 2)) == 2
    for reason, sent in poison.items():
        dead = await dead_letter_for(stack.kafka_bootstrap, sent)
        assert dead is not None, f"no dead letter for the {reason} record"
        assert dict(dead.headers)["dlq_error"].decode().startswith(reason)
    metrics = (await notifier_api.get("/metrics")).text
    for kind in ("invalid_envelope", "unknown_event_type", "invalid_payload", "too_large"):
        assert (
            f'dead_letters_total{{consumer="{NOTIFIER_GROUP}",reason="{kind}",topic="{CONTRACTS_SCHEDULE}"}}' in metrics
        )
