"""Read topics from their beginning up to given offsets, without a consumer group.

Used by the rebuild: it assigns every partition itself, never commits, and can be told to
stop each partition at an exact offset (the live read model's consumed offset). Offsets and
limits are keyed by ``(topic, partition)``.

Records come back in step across partitions (by their Kafka timestamps), about in the order
the relay published them. A contract's stream is split over two topics; a fetch brings megabytes
of one partition at a time, so read as fetched the schedule topic ran far ahead of the facts
and a large share of a replay was parked and unparked through the database (and validated
twice). Records fetched beyond what every other partition has reached are held back here
(:func:`oldest`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Sequence
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from shared.kafka_security import client_options
from shared.settings import KafkaSettings

Key = tuple[str, int]


class Stamped(Protocol):
    timestamp: int


def oldest(held: Sequence[deque[Any]], max_records: int) -> list[Any]:
    """Take from the front of every partition's held records (each a deque of
    :class:`Stamped`) those no newer than the newest record of the partition that is furthest
    behind (the watermark): what the partitions holding records return later is newer. Up to
    ``max_records``, the partition with the oldest record first: every call with records makes
    progress, even if timestamps go back."""
    fetched = sorted((h for h in held if h), key=lambda h: h[0].timestamp)
    if not fetched:
        return []
    watermark = max(min(h[-1].timestamp for h in fetched), fetched[0][0].timestamp)
    out: list[Any] = []
    for h in fetched:
        while h and h[0].timestamp <= watermark and len(out) < max_records:
            out.append(h.popleft())
    return out


class TopicReplay:
    def __init__(
        self, kafka: KafkaSettings, topics: Sequence[str], client_id: str, only: Collection[Key] | None = None
    ) -> None:
        """``only``: these partitions of the topics (a rebuild worker's slice); default all."""
        self.topics = tuple(topics)
        self._only = None if only is None else frozenset(only)
        self._kafka = kafka
        self._consumer = AIOKafkaConsumer(
            **client_options(kafka),
            client_id=client_id,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=4 * 1024 * 1024,
            fetch_max_bytes=64 * 1024 * 1024,
        )
        self._tps: list[TopicPartition] = []
        self._held: dict[TopicPartition, deque[ConsumerRecord]] = {}
        """Fetched, below the limit, not returned yet: newer than other partitions' reach."""
        self.positions: dict[Key, int] = {}
        self._assigned = False

    async def _partitions(self) -> dict[str, list[int]]:
        admin = AIOKafkaAdminClient(**client_options(self._kafka))
        await admin.start()
        try:
            described = await admin.describe_topics(list(self.topics))
        finally:
            await admin.close()
        out = {d["topic"]: sorted(p["partition"] for p in d["partitions"]) for d in described}
        for topic in self.topics:
            if not out.get(topic):
                raise RuntimeError(f"topic {topic} has no partitions (does it exist?)")
        return out

    async def start(self) -> None:
        """Find the partitions and where they begin. They are assigned (and fetching starts)
        at the first :meth:`read`, from wherever :meth:`seek` put them by then."""
        partitions = await self._partitions()
        await self._consumer.start()
        self._tps = [
            TopicPartition(t, p)
            for t in self.topics
            for p in partitions[t]
            if self._only is None or (t, p) in self._only
        ]
        starts = await self._consumer.beginning_offsets(self._tps)
        self.positions = {(tp.topic, tp.partition): off for tp, off in starts.items()}
        self._held = {tp: deque() for tp in self._tps}
        self._assigned = False

    def _assign(self) -> None:
        if not self._assigned:
            self._consumer.assign(self._tps)
            for tp in self._tps:
                self._consumer.seek(tp, self.positions[(tp.topic, tp.partition)])
            self._assigned = True

    async def stop(self) -> None:
        await self._consumer.stop()

    async def seek(self, offsets: dict[Key, int]) -> None:
        for tp in self._tps:
            key = (tp.topic, tp.partition)
            if key in offsets:
                self.positions[key] = offsets[key]
                self._held[tp].clear()
                if self._assigned:
                    self._consumer.seek(tp, offsets[key])

    async def end_offsets(self) -> dict[Key, int]:
        ends = await self._consumer.end_offsets(self._tps)
        return {(tp.topic, tp.partition): off for tp, off in ends.items()}

    def remaining(self, limits: dict[Key, int]) -> int:
        return sum(max(0, limits.get(k, 0) - pos) for k, pos in self.positions.items())

    async def read(self, limits: dict[Key, int], max_records: int) -> list[ConsumerRecord] | None:
        """The next records below each partition's limit, none newer than what every other
        partition has reached (about ``max_records``; possibly none yet); ``None`` once every
        partition is there."""
        active = [
            tp for tp in self._tps if self.positions[(tp.topic, tp.partition)] < limits.get((tp.topic, tp.partition), 0)
        ]
        if not active:
            return None
        self._assign()
        await self._fetch([tp for tp in active if not self._held[tp]], limits, max_records)
        out = oldest([self._held[tp] for tp in active], max_records)
        for tp in active:
            key = (tp.topic, tp.partition)
            held = self._held[tp]
            self.positions[key] = held[0].offset if held else min(limits.get(key, 0), await self._consumer.position(tp))
        return out

    async def _fetch(self, tps: list[TopicPartition], limits: dict[Key, int], max_records: int) -> None:
        if not tps:
            return
        fetched = await self._consumer.getmany(*tps, timeout_ms=1000, max_records=max_records)
        for tp, records in fetched.items():
            limit = limits.get((tp.topic, tp.partition), 0)
            keep = [r for r in records if r.offset < limit]
            if len(keep) < len(records):
                self._consumer.seek(tp, limit)  # records past the limit are read again later
            self._held[tp].extend(keep)
