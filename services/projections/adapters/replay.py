"""Read topics from their beginning up to given offsets, without a consumer group.

Used by the rebuild: it assigns every partition itself, never commits, and can be told to
stop each partition at an exact offset (the live read model's consumed offset). Offsets and
limits are keyed by ``(topic, partition)``.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

Key = tuple[str, int]


class TopicReplay:
    def __init__(self, bootstrap_servers: str, topics: Sequence[str], client_id: str) -> None:
        self.topics = tuple(topics)
        self._bootstrap = bootstrap_servers
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap_servers, client_id=client_id, group_id=None,
            enable_auto_commit=False, auto_offset_reset="earliest",
            max_partition_fetch_bytes=4 * 1024 * 1024, fetch_max_bytes=64 * 1024 * 1024)
        self._tps: list[TopicPartition] = []
        self.positions: dict[Key, int] = {}

    async def _partitions(self) -> dict[str, list[int]]:
        admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap)
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
        partitions = await self._partitions()
        await self._consumer.start()
        self._tps = [TopicPartition(t, p) for t in self.topics for p in partitions[t]]
        self._consumer.assign(self._tps)
        await self._consumer.seek_to_beginning(*self._tps)
        starts = await self._consumer.beginning_offsets(self._tps)
        self.positions = {(tp.topic, tp.partition): off for tp, off in starts.items()}

    async def stop(self) -> None:
        await self._consumer.stop()

    async def end_offsets(self) -> dict[Key, int]:
        ends = await self._consumer.end_offsets(self._tps)
        return {(tp.topic, tp.partition): off for tp, off in ends.items()}

    def remaining(self, limits: dict[Key, int]) -> int:
        return sum(max(0, limits.get(k, 0) - pos) for k, pos in self.positions.items())

    async def read(self, limits: dict[Key, int], max_records: int) -> list[ConsumerRecord] | None:
        """The next records below each partition's limit; ``None`` once every partition is there."""
        active = [tp for tp in self._tps
                  if self.positions[(tp.topic, tp.partition)] < limits.get((tp.topic, tp.partition), 0)]
        if not active:
            return None
        fetched = await self._consumer.getmany(*active, timeout_ms=1000, max_records=max_records)
        out: list[ConsumerRecord] = []
        for tp in active:
            key = (tp.topic, tp.partition)
            limit = limits.get(key, 0)
            records = fetched.get(tp, [])
            keep = [r for r in records if r.offset < limit]
            if len(keep) < len(records):
                self._consumer.seek(tp, limit)  # records past the limit are read again later
            out.extend(keep)
            self.positions[key] = min(limit, await self._consumer.position(tp))
        return out
