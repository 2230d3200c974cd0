"""Keeping co-partitioned topics in step while a consumer works off a backlog.

A contract's stream is spread over two topics keyed alike, so partition N of both holds the
same clients' events. Read as fetched, a backlog comes off the two at different speeds (a
fetch takes up to the same number of bytes from each partition, and the two topics' records
differ in size and in how much of the history they cover), and the one that runs ahead
delivers events whose predecessors on the other topic are not read yet: the projector parks
them and reads them back later (a third of a catch-up, issue 20).

:class:`Pacing` pauses a partition that is more than ``lead`` positions (the event store's
``position`` header of the last record handled) ahead of the same partition number of another
topic that still has a backlog (``backlog`` records or more between what was handled and the
broker's highwater), and resumes it once that partner has caught up with it or has worked its
backlog off; the lead keeps a partition from being paused and resumed on every fetch. Caught
up — no partner with that many records waiting — nothing is paused and every record is
handled as soon as it is fetched: the live path pays only the bookkeeping.

It never waits: a paused partition is simply not fetched (aiokafka drops what it had buffered
of it and fetches it again on resume) while the one it waits for is, so the one furthest
behind always moves; and a poll that brings nothing resumes every paused partition (the
partner is not delivering — its leader is moving, say — so nothing is held back for it).
Records without a ``position`` header (another producer's) leave their partition's place
unknown, and an unknown place pauses nothing.

What aiokafka drops of a paused partition is a reference cycle (its buffer and the generator
unpacking it) holding the fetch's bytes; :class:`DroppedBuffers` has them collected.
"""

from __future__ import annotations

import gc
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from aiokafka import TopicPartition

POSITION_HEADER = "position"


class PausableConsumer(Protocol):
    def assignment(self) -> set[TopicPartition]: ...

    def highwater(self, tp: TopicPartition) -> int | None: ...

    def pause(self, *partitions: TopicPartition) -> None: ...

    def resume(self, *partitions: TopicPartition) -> None: ...


def record_position(record: Any) -> int | None:
    """The event store's position a record carries in its headers (None: it carries none).
    Headers as aiokafka gives them (name, value pairs) or as a mapping, as decoding reads them."""
    headers = record.headers
    if not headers:
        return None
    if isinstance(headers, Mapping):
        value = headers.get(POSITION_HEADER)
    else:
        value = next((v for name, v in headers if name == POSITION_HEADER), None)
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


class Pacing:
    def __init__(self, backlog: int = 500, lead: int = 5000) -> None:
        self.backlog, self.lead = backlog, lead
        self.positions: dict[TopicPartition, int] = {}
        """The position of the last handled record of each partition (that carried one)."""
        self.paused: set[TopicPartition] = set()
        self.pauses = 0
        """How many times a partition was paused (for tests and logs)."""

    def handled(self, records: Sequence[Any]) -> None:
        """Note where each partition's handled records ended."""
        last: dict[tuple[str, int], Any] = {}
        for r in records:
            last[(r.topic, r.partition)] = r
        for (topic, partition), record in last.items():
            if (position := record_position(record)) is not None:
                self.positions[TopicPartition(topic, partition)] = position

    def steer(self, consumer: PausableConsumer, next_offsets: Mapping[tuple[str, int], int]) -> None:
        """Pause the partitions ahead of a partner with a backlog, resume the others."""
        assigned = consumer.assignment()
        by_number: dict[int, list[TopicPartition]] = defaultdict(list)
        for tp in assigned:
            by_number[tp.partition].append(tp)
        hold: set[TopicPartition] = set()
        for tps in by_number.values():
            if len(tps) > 1:
                hold |= self._ahead(consumer, tps, next_offsets)
        resume = (self.paused & assigned) - hold
        pause = hold - self.paused
        if resume:
            consumer.resume(*resume)
        if pause:
            consumer.pause(*pause)
            self.pauses += len(pause)
        self.paused = hold

    def _ahead(
        self, consumer: PausableConsumer, tps: list[TopicPartition], next_offsets: Mapping[tuple[str, int], int]
    ) -> set[TopicPartition]:
        """Of one partition number's partitions: those ahead of a partner with a backlog."""
        behind: list[int] = []
        for tp in tps:
            # a paused partition's highwater is the one of its last fetch: its backlog is not
            # overstated, and the floor (the one furthest behind) is never paused
            position, nxt = self.positions.get(tp), next_offsets.get((tp.topic, tp.partition))
            high = consumer.highwater(tp)
            if position is not None and nxt is not None and high is not None and high - nxt >= self.backlog:
                behind.append(position)
        if not behind:
            return set()
        floor = min(behind)
        return {
            tp
            for tp in tps
            if (p := self.positions.get(tp)) is not None and p > floor + (0 if tp in self.paused else self.lead)
        }

    def release(self, consumer: PausableConsumer) -> None:
        """An idle poll: the partitions not paused had nothing to give, so whatever a paused one
        waits for is not coming soon — resume them all rather than stall."""
        if self.paused:
            consumer.resume(*(self.paused & consumer.assignment()))
            self.paused = set()

    def forget(self, revoked: Sequence[TopicPartition] | set[TopicPartition]) -> None:
        """A rebalance: partitions no longer ours, and aiokafka's new assignment pauses nothing."""
        for tp in revoked:
            self.positions.pop(tp, None)
        self.paused.clear()


class DroppedBuffers:
    """Collect the fetched records aiokafka drops when pacing pauses a partition.

    aiokafka keeps what it fetched for a partition in a buffer that refers to the generator
    unpacking it, which refers back to the buffer: a reference cycle holding the fetch's bytes
    (up to a MiB a partition). Pausing the partition drops the buffer half-read, and only the
    cyclic collector frees it — which, with the thresholds every service runs with
    (``shared.runtime.tune_gc``: a young collection after 100,000 more allocations than frees,
    rarely reached by a consumer whose objects die young), it almost never did: a live catch-up
    at DESIGN scale grew to 1.5 GB, about 160 bytes an event (issue 20). So after a poll, if
    pacing paused anything since the last collection, a full one runs — at most every
    ``every`` seconds while fetches come, and at once on the idle poll that ends a catch-up.
    Caught up, pacing pauses nothing and this costs nothing."""

    def __init__(self, every: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.every, self._clock = every, clock
        self._pauses_seen = 0
        self._next = 0.0
        self.collections = 0

    def after_poll(self, pacing: Pacing, *, idle: bool) -> None:
        if pacing.pauses == self._pauses_seen:
            return
        now = self._clock()
        if idle or now >= self._next:
            self._pauses_seen, self._next = pacing.pauses, now + self.every
            gc.collect()
            self.collections += 1
