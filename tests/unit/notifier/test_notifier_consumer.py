"""The consumer's ack policy: commit after settling, redeliver on failure, no crash loop."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import asyncpg
import pytest

from services.notifier.entrypoints.consumer import NotifyEach
from shared.consumer import Backoff, ConsumerRuntime, DeadLetterProducer, Subscription
from shared.kafka_security import plaintext
from tests.support.fake_kafka import FakeConsumer, attach
from tests.unit.notifier.notifier_events import Record


@dataclass
class Notifier:
    error: Exception | None = None
    given_up: list[str] = field(default_factory=list)

    async def handle(self, record: Any) -> None:
        if self.error is not None:
            raise self.error

    async def give_up(self, record: Any, error: str) -> None:
        self.given_up.append(error)


def make(notifier: Notifier) -> tuple[ConsumerRuntime, FakeConsumer]:
    kafka = plaintext("127.0.0.1:1")
    c = ConsumerRuntime(
        kafka,
        Subscription(("contracts.schedule.v1",), "g", "t", max_records=1),
        NotifyEach(notifier, give_up_after=3),
        DeadLetterProducer(kafka, "t-dlq"),
        backoff=Backoff(0, 0),
    )  # no pauses
    return c, attach(c, FakeConsumer(high={("contracts.schedule.v1", 0): 10}))  # the partition is assigned


async def deliver(c: ConsumerRuntime, record: Record) -> None:
    await c.process([record])
    await c.flush_commits()


async def test_a_settled_record_is_committed() -> None:
    c, kafka = make(Notifier())
    await deliver(c, Record(b"x", offset=4))
    assert (kafka.commits, len(kafka.seeks)) == (1, 0)
    assert kafka.committed == [{("contracts.schedule.v1", 0): 5}]


@pytest.mark.parametrize("outage", [ConnectionRefusedError(), asyncpg.CannotConnectNowError("starting")])
async def test_an_outage_is_retried_without_a_bound(outage: Exception) -> None:
    notifier = Notifier(outage)
    c, kafka = make(notifier)
    for _ in range(10):
        await deliver(c, Record(b"x", offset=7))
    assert (kafka.commits, len(kafka.seeks)) == (0, 10) and not notifier.given_up
    assert set(kafka.seeks) == {("contracts.schedule.v1", 0, 7)}  # sought back to the record


async def test_a_record_that_keeps_failing_for_another_reason_is_dead_lettered() -> None:
    notifier = Notifier(ValueError("a bug"))
    c, kafka = make(notifier)
    for _ in range(3):
        await deliver(c, Record(b"x", offset=7))
    assert len(kafka.seeks) == 2 and kafka.commits == 1
    assert notifier.given_up and "a bug" in notifier.given_up[0]


async def test_stopping_gives_the_record_back_at_once() -> None:
    notifier = Notifier(ConnectionRefusedError())
    c, kafka = make(notifier)
    c.request_stop()
    await deliver(c, Record(b"x"))
    assert (kafka.commits, len(kafka.seeks)) == (0, 1)
