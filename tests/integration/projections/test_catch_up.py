"""Issue 20: a big backlog caught up by the live consumer is what a rebuild makes.

A fresh read model (its own database, its own consumer group) consumes both contracts topics
from offset 0 — a backlog of every event the session published so far plus a few thousand of
this test's, facts and time events interleaved month by month as the relay publishes them —
with the service's own consumer (``events_consumer``: records as fetched — an event read before
its predecessor on the other topic is parked —, batches of up to 2,000 records in one
transaction each), its pacing made eager (a partition ahead of its partner by more than 50
positions is paused while the partner has records waiting) so that the pauses and resumes
happen on this small backlog too. Then ``cli check`` replays the topics into a scratch
schema and compares every table: no difference."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any
from uuid import uuid4

from aiokafka import AIOKafkaProducer

from services.projections.adapters.db import open_pool
from services.projections.adapters.store import ReadModelStore
from services.projections.application.projector import Projector
from services.projections.entrypoints.consumer import events_consumer
from shared.consumer import DeadLetterProducer
from shared.consumer.pacing import Pacing
from shared.events.envelope import Envelope
from shared.kafka_security import plaintext
from tests.integration.projections.helpers import ClientFeed, scratch_database, topic_of, wait_consumed
from tests.integration.projections.test_rebuild import run_cli

CLIENTS = 300


def backlog() -> list[Envelope]:
    """Per client a contract of six monthly periods, then month by month across all clients
    each period's start (schedule topic) and, for most, its payment (events topic)."""
    setup: list[Envelope] = []
    books = []
    for n in range(CLIENTS):
        feed, contract = ClientFeed(f"Backlog {uuid4().hex[:6]} {n}"), uuid4()
        periods = [(uuid4(), date(2026, m, 1), date(2026, m + 1, 1) - timedelta(days=1)) for m in range(1, 7)]
        setup += [feed.registered(), feed.contract_opened(contract, f"BL-{n}", date(2026, 1, 1))]
        terms = "prepaid" if n % 3 else "postpaid"
        setup += [feed.period_added(contract, p, s, e, "500.00", terms) for p, s, e in periods]
        books.append((n, feed, contract, periods))
    months: list[Envelope] = []
    for m in range(6):
        for n, feed, contract, periods in books:
            period, starts, ends = periods[m]
            months.append(feed.period_started(contract, period, starts, ends))
            if (n + m) % 4:
                paid_on = starts + timedelta(days=(n % 40))  # on time, late, or after the end
                months.append(feed.payment(contract, period, "500.00", paid_on, "500.00", True))
            if n % 50 == 7 and m == 3:
                months.append(feed.terminated(contract, starts + timedelta(days=10)))
    return setup + months


async def publish_all(producer: AIOKafkaProducer, envelopes: Sequence[Envelope]) -> None:
    sent = [
        await producer.send(topic_of(e), value=e.to_bytes(), key=e.partition_key.encode(), headers=e.kafka_headers())
        for e in envelopes
    ]
    await asyncio.gather(*sent)


async def no_sink(_: Any) -> None:
    return None  # the session's live consumer dead-letters the session's poison already


async def test_a_backlog_caught_up_live_is_what_a_rebuild_makes(stack, producer) -> None:
    events = backlog()
    await publish_all(producer, events)
    async with scratch_database(stack.database_urls["projections"], "catchup") as dsn:
        await catch_up_and_check(stack, dsn, len(events))


async def catch_up_and_check(stack, dsn: str, published: int) -> None:
    name = dsn.rsplit("/", 1)[1]
    kafka = plaintext(stack.kafka_bootstrap)
    pool = await open_pool(dsn, min_size=1, max_size=2)
    consumer = events_consumer(
        kafka,
        pool,
        Projector(ReadModelStore(), no_sink),
        DeadLetterProducer(kafka, f"{name}-dlq"),
        client_id=name,
        max_records=2000,
        group=f"test.{name}",
        pacing=lambda: Pacing(backlog=1, lead=50),
    )
    sizes: list[int] = []
    handle = consumer.handler.handle

    async def counted(records: Sequence[Any], failures: int) -> Any:
        sizes.append(len(records))
        return await handle(records, failures)

    consumer.handler.handle = counted  # type: ignore[method-assign]  # counts the batch sizes
    consumer.start()
    try:
        await wait_consumed(dsn, stack.kafka_bootstrap, timeout=120)
        # caught up, the next idle poll resumes whatever pacing paused (aiokafka's own state)
        for _ in range(50):
            if consumer.client is not None and not consumer.client.paused():
                break
            await asyncio.sleep(0.1)
        assert consumer.client is not None and not consumer.client.paused()
    finally:
        await consumer.stop()
        await pool.close()
    assert sum(sizes) >= published and max(sizes) > 500, sizes  # the backlog, in big batches
    assert consumer.pacing is not None and consumer.pacing.pauses > 0

    checked = await asyncio.to_thread(run_cli, stack, "check", dsn)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "no differences" in checked.stderr
