"""A stand-in for aiokafka's consumer, for unit tests of shared.consumer's runtime."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from aiokafka import TopicPartition
from aiokafka.errors import KafkaError


@dataclass
class FakeConsumer:
    """Counts what the runtime asks of a consumer: commits (acks) and seeks (redeliveries)."""

    high: dict[tuple[str, int], int] = field(default_factory=dict)
    """The assigned partitions and their highwater marks."""
    committed: list[dict[tuple[str, int], int]] = field(default_factory=list)
    seeks: list[tuple[str, int, int]] = field(default_factory=list)
    stopped: bool = False
    chunks: dict[tuple[str, int], list[list[Any]]] = field(default_factory=dict)
    """What ``getmany`` returns: per partition, one list of records per fetch."""
    fetches: list[tuple[list[tuple[str, int]], int]] = field(default_factory=list)
    """Every ``getmany``: the partitions asked for (all assigned when none named) and its timeout."""
    paused: set[tuple[str, int]] = field(default_factory=set)
    unreachable: bool = False
    """Every metadata request fails (a client that knows only brokers that are gone)."""
    probes: int = 0

    @property
    def commits(self) -> int:
        return len(self.committed)

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        # as aiokafka: a commit naming a partition not assigned is refused whole
        assert all((tp.topic, tp.partition) in self.high for tp in offsets), "Partition is not assigned"
        self.committed.append({(tp.topic, tp.partition): o for tp, o in offsets.items()})

    async def getmany(
        self, *partitions: TopicPartition, timeout_ms: int = 0, max_records: int | None = None
    ) -> dict[TopicPartition, list[Any]]:
        keys = sorted((tp.topic, tp.partition) for tp in partitions) or sorted(self.high)
        self.fetches.append((keys, timeout_ms))
        fetched = {TopicPartition(*k): self.chunks[k].pop(0) for k in keys if self.chunks.get(k)}
        await asyncio.sleep(0 if fetched else 0.001)  # nothing to fetch: a poll takes a moment
        return fetched

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.seeks.append((tp.topic, tp.partition, offset))

    def pause(self, *partitions: TopicPartition) -> None:
        assert all((tp.topic, tp.partition) in self.high for tp in partitions), "Partition is not assigned"
        self.paused |= {(tp.topic, tp.partition) for tp in partitions}

    def resume(self, *partitions: TopicPartition) -> None:
        self.paused -= {(tp.topic, tp.partition) for tp in partitions}

    def highwater(self, tp: TopicPartition) -> int | None:
        assert (tp.topic, tp.partition) in self.high, "Partition is not assigned"  # as aiokafka
        return self.high[(tp.topic, tp.partition)]

    def assignment(self) -> set[TopicPartition]:
        return {TopicPartition(t, p) for t, p in self.high}

    async def position(self, tp: TopicPartition) -> int:
        return 0

    async def stop(self) -> None:
        self.stopped = True

    async def topics(self) -> set[str]:
        """The cluster's topics (an idle runtime's probe); raises while no known broker answers."""
        self.probes += 1
        if self.unreachable:
            raise KafkaError("Unable to get cluster metadata over all known brokers")
        return {t for t, _ in self.high}


def attach(runtime: Any, consumer: FakeConsumer) -> FakeConsumer:
    """Give ``runtime`` the fake as its started, joined consumer."""
    runtime.client, runtime.joined = consumer, True
    return consumer
