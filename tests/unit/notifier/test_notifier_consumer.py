"""The subscriber's ack policy: commit after settling, redeliver on failure, no crash loop."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import asyncpg
import pytest
from faststream.kafka import KafkaBroker

from services.notifier.entrypoints import consumer as consumer_module
from services.notifier.entrypoints.consumer import ScheduleConsumer
from tests.unit.notifier.notifier_events import Record


@dataclass
class Msg:
    acks: int = 0
    nacks: int = 0

    async def ack(self) -> None:
        self.acks += 1

    async def nack(self) -> None:
        self.nacks += 1


@dataclass
class Notifier:
    error: Exception | None = None
    given_up: list[str] = field(default_factory=list)

    async def handle(self, record: Any) -> None:
        if self.error is not None:
            raise self.error

    async def give_up(self, record: Any, error: str) -> None:
        self.given_up.append(error)

    def stop(self) -> None: ...


@pytest.fixture(autouse=True)
def no_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    async def sleep(_: float) -> None:
        return None

    monkeypatch.setattr(consumer_module, "pause", sleep)


def make(notifier: Notifier) -> ScheduleConsumer:
    c = ScheduleConsumer(KafkaBroker("127.0.0.1:1"), give_up_after=3)
    c.bind(notifier)  # type: ignore[arg-type]
    return c


async def test_a_settled_record_is_committed() -> None:
    c, msg = make(Notifier()), Msg()
    await c.handle(Record(b"x"), msg)
    assert (msg.acks, msg.nacks) == (1, 0)


@pytest.mark.parametrize("outage", [ConnectionRefusedError(), asyncpg.CannotConnectNowError("starting")])
async def test_an_outage_is_retried_without_a_bound(outage: Exception) -> None:
    notifier = Notifier(outage)
    c, msg = make(notifier), Msg()
    for _ in range(10):
        await c.handle(Record(b"x", offset=7), msg)
    assert (msg.acks, msg.nacks) == (0, 10) and not notifier.given_up


async def test_a_record_that_keeps_failing_for_another_reason_is_dead_lettered() -> None:
    notifier = Notifier(ValueError("a bug"))
    c, msg = make(notifier), Msg()
    for _ in range(3):
        await c.handle(Record(b"x", offset=7), msg)
    assert msg.nacks == 2 and msg.acks == 1
    assert notifier.given_up and "a bug" in notifier.given_up[0]


async def test_stopping_gives_the_record_back_at_once() -> None:
    notifier = Notifier(ConnectionRefusedError())
    c, msg = make(notifier), Msg()
    c.stop()
    await c.handle(Record(b"x"), msg)
    assert (msg.acks, msg.nacks) == (0, 1)
