"""Two notifier replicas in one consumer group, a rebalance in the middle of sending:
still exactly one e-mail per (event, recipient)."""

from __future__ import annotations

import asyncio

import httpx
from aiokafka import AIOKafkaProducer

from services.notifier.bootstrap import create_app
from services.notifier.settings import NotifierSettings
from shared.topics import CONTRACTS_SCHEDULE
from tests.integration.notifier.mailbox import Mailbox
from tests.support.servers import serving
from tests.unit.notifier.notifier_events import Client, ending_soon, envelope, overdue


async def test_a_second_replica_joining_mid_stream_sends_nothing_twice(
    notifier_api: httpx.AsyncClient, producer: AIOKafkaProducer, mailbox: Mailbox, settings: NotifierSettings
) -> None:
    events = []
    for i in range(16):
        client = Client(name=f"Replica client {i}")
        env = envelope((ending_soon if i % 2 else overdue)(client), client, version=1)
        events.append(env)
    mailbox.data_delay = 0.2  # slow SMTP: the first replica is mid-send when the group rebalances
    try:
        for env in events:
            await producer.send_and_wait(
                CONTRACTS_SCHEDULE, value=env.to_bytes(), key=env.partition_key.encode(), headers=env.kafka_headers()
            )
        await asyncio.sleep(0.5)
        second = create_app(settings)
        async with serving(second):
            runtime = second.state.consumer
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 60
            while runtime.client is None or not runtime.client.assignment():
                assert loop.time() < deadline, "the second replica got no partitions"
                await asyncio.sleep(0.1)
            for env in events:  # and every event once more, as a redelivery would bring it
                await producer.send_and_wait(
                    CONTRACTS_SCHEDULE,
                    value=env.to_bytes(),
                    key=env.partition_key.encode(),
                    headers=env.kafka_headers(),
                )
            for env in events:
                await mailbox.wait_for(env.event_id, 2, timeout=90, settle=0)
            await asyncio.sleep(2)
    finally:
        mailbox.data_delay = 0.0
    counts = {str(env.event_id): len(mailbox.for_event(env.event_id)) for env in events}
    assert set(counts.values()) == {2}, counts
