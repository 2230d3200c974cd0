"""Commands from cached state (AggregateRepository's StateCache) stay correct when the cache is
stale: another replica's write, a refusal or a no-op decided on old state, a minted stream id
that already exists. Against real PostgreSQL: the version check is the store's."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

import pytest

from shared.domain_errors import RuleViolated
from shared.events.base import EventData, registry
from shared.eventstore.aggregates import AggregateRepository
from shared.eventstore.records import CommandContext
from shared.eventstore.store import PostgresEventStore


@registry.event
class TallyOpened(EventData):
    event_type: ClassVar[str] = "TestTallyOpened"


@registry.event
class TallyAdded(EventData):
    event_type: ClassVar[str] = "TestTallyAdded"
    amount: int


@dataclass(frozen=True)
class Tally:
    total: int


def evolve(state: Tally | None, event: EventData) -> Tally:
    if isinstance(event, TallyOpened):
        return Tally(0)
    assert state is not None and isinstance(event, TallyAdded)
    return Tally(state.total + event.amount)


def open_tally(state: Tally | None) -> list[EventData]:
    if state is not None:
        raise RuleViolated("tally_exists", "already open")
    return [TallyOpened()]


def add(amount: int, limit: int | None = None):
    """Add ``amount`` unless the total would pass ``limit``; adding 0 is a no-op."""

    def decide(state: Tally | None) -> list[EventData]:
        assert state is not None
        if limit is not None and state.total + amount > limit:
            raise RuleViolated("over_limit", f"total {state.total} + {amount} passes {limit}", "amount")
        return [TallyAdded(amount=amount)] if amount else []

    return decide


def ctx() -> CommandContext:
    return CommandContext(correlation_id=str(uuid.uuid4()), actor="test", now=datetime.now(UTC))


async def run(repo: AggregateRepository[Tally], stream: str, decide, **kw):
    return await repo.execute(stream, decide, partition_key=lambda *_: stream, ctx=ctx(), **kw)


@pytest.fixture
def replicas(eventstore_pool):
    store = PostgresEventStore(eventstore_pool)
    return AggregateRepository(store, evolve), AggregateRepository(store, evolve), store


async def test_a_write_from_state_another_replica_moved_on_is_redone_on_fresh_state(replicas):
    a, b, store = replicas
    stream = f"tally-{uuid.uuid4()}"
    await run(a, stream, open_tally, creates=True)
    await run(b, stream, add(1))  # b now caches version 2
    await run(a, stream, add(10))  # a (cached at 1) clashes, re-reads, writes version 3
    result = await run(b, stream, add(100))  # b's cache is stale: clash, re-read, version 4
    assert result.version == 4 and result.state == Tally(111)
    assert (await a.load(stream)).state == Tally(111)
    assert [e.stream_version for e in await store.read_stream(stream)] == [1, 2, 3, 4]


async def test_a_refusal_on_stale_state_is_decided_again_on_the_stream_as_it_is(replicas):
    a, b, _ = replicas
    stream = f"tally-{uuid.uuid4()}"
    await run(a, stream, open_tally, creates=True)
    await run(a, stream, add(5))
    await run(b, stream, add(0))  # b caches total 5 (a no-op reads the stream)
    await run(a, stream, add(-5))  # the total is 0 again; b does not know
    result = await run(b, stream, add(8, limit=10))  # refused on b's cache (13), fine on the truth (8)
    assert result.state == Tally(8)


async def test_a_refusal_on_current_state_stands(replicas):
    a, _, store = replicas
    stream = f"tally-{uuid.uuid4()}"
    await run(a, stream, open_tally, creates=True)
    await run(a, stream, add(9))
    with pytest.raises(RuleViolated) as refused:
        await run(a, stream, add(2, limit=10))
    assert refused.value.rule == "over_limit"
    assert len(await store.read_stream(stream)) == 2


async def test_a_no_op_on_stale_state_is_decided_again(replicas):
    a, b, _ = replicas
    stream = f"tally-{uuid.uuid4()}"
    await run(a, stream, open_tally, creates=True)
    await run(b, stream, add(0))  # b caches version 1
    await run(a, stream, add(3))
    result = await run(b, stream, add(0))
    assert result.recorded == [] and result.version == 2 and result.state == Tally(3)


async def test_a_minted_stream_that_exists_after_all_is_refused_by_the_domain_not_overwritten(replicas):
    a, b, store = replicas
    stream = f"tally-{uuid.uuid4()}"
    await run(a, stream, open_tally, creates=True)
    with pytest.raises(RuleViolated) as refused:
        await run(b, stream, open_tally, creates=True)  # assumed new: clash, re-read, refused
    assert refused.value.rule == "tally_exists"
    assert len(await store.read_stream(stream)) == 1
