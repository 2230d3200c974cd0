"""Partitions read in step: records fetched beyond what the other partitions reached wait.

A fetch brings up to a megabyte of one partition, so records consumed as fetched run far
ahead on one partition and behind on another. Projections feel it: a contract's stream is
split over two co-partitioned topics, and an event read before its predecessor on the other
topic is parked and unparked through the database (validated twice) — a large share of a
catch-up or a replay read as fetched. :class:`InStep` keeps each partition's fetched records
and releases those no newer (Kafka timestamp) than the newest record of the partition
furthest behind. The rebuild's reader (``services/projections/adapters/replay.py``) and the
consumer runtime (``Subscription(in_step=True)``) use it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

Key = tuple[str, int]


class Stamped(Protocol):
    topic: str
    partition: int
    offset: int
    timestamp: int


def oldest(held: Sequence[deque[Any]], max_records: int) -> list[Any]:
    """Take from the front of every partition's held records those no newer than the newest
    record of the partition that is furthest behind (the watermark): what the partitions
    holding records return later is newer. Up to ``max_records``, the partition with the
    oldest record first: every call with records makes progress, even if timestamps go back."""
    fetched = sorted((h for h in held if h), key=lambda h: h[0].timestamp)
    if not fetched:
        return []
    watermark = max(min(h[-1].timestamp for h in fetched), fetched[0][0].timestamp)
    out: list[Any] = []
    for h in fetched:
        while h and h[0].timestamp <= watermark and len(out) < max_records:
            out.append(h.popleft())
    return out


class InStep:
    """Fetched records per partition, released in step (:func:`oldest`)."""

    def __init__(self) -> None:
        self._held: dict[Key, deque[Any]] = {}
        self._reach: dict[Key, int] = {}
        """Per partition: the offset after the last record fetched (what the fetcher reached)."""
        self.generation = 0
        """Counts :meth:`clear` (a rebalance): records taken before it belong to an old assignment."""

    def add(self, fetched: Mapping[Any, Sequence[Stamped]]) -> None:
        for records in fetched.values():
            if records:
                key = (records[0].topic, records[0].partition)
                self._held.setdefault(key, deque()).extend(records)
                self._reach[key] = records[-1].offset + 1

    def holds(self, key: Key) -> bool:
        return bool(self._held.get(key))

    def count(self, key: Key) -> int:
        return len(self._held.get(key, ()))

    def __len__(self) -> int:
        return sum(len(h) for h in self._held.values())

    def reach(self, key: Key) -> int | None:
        return self._reach.get(key)

    def take(self, max_records: int, *, in_step: bool = True) -> list[Any]:
        """Up to ``max_records``, the partition with the oldest record first: in step
        (:func:`oldest`), or (``in_step=False``: nothing more is coming to wait for) all held."""
        held = [h for h in self._held.values() if h]
        if in_step:
            return oldest(held, max_records)
        out: list[Any] = []
        for h in sorted(held, key=lambda h: h[0].timestamp):
            while h and len(out) < max_records:
                out.append(h.popleft())
        return out

    def drop(self, keys: Iterable[Key]) -> None:
        """Forget what is held of ``keys`` (their partitions were sought back or revoked)."""
        for key in keys:
            self._held.pop(key, None)
            self._reach.pop(key, None)

    def clear(self) -> None:
        self.generation += 1
        self._held.clear()
        self._reach.clear()
