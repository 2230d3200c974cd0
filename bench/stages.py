"""Where accepted → visible goes: the end-to-end delay of each command, stage by stage.

Every clock here is the wall clock of this one machine (the bench's stack runs on it), so
timestamps taken by different processes compare directly:

* ``recorded``: the envelope's ``recorded_at`` (the contracts database's ``now()`` in the
  appending transaction);
* ``accepted``: the command's answer reached the bench;
* ``produced``: the Kafka record's timestamp (the relay's producer, as it sends);
* ``readable``: a plain consumer beside projections (:class:`Tap`, no group, one getmany
  loop) got the record — what Kafka itself costs;
* ``applied``: the projections batch that consumed it committed — from the service's own
  ``projections_event_delay_seconds{since="produced"}`` histogram (so per run, not per
  command: its quantiles are interpolated inside buckets, its mean is exact);
* ``visible``: the coverage answer that includes the command reached the bench.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from bench.http import HttpPool
from bench.stats import latency_summary
from services.projections.entrypoints.consumer import TOPICS
from shared.topics import ALL_TOPICS

DELAY_METRIC = "projections_event_delay_seconds"
LOOKS_METRIC = "projections_min_position_looks"


@dataclass(frozen=True)
class Command:
    """One measured command: its event's position and when the bench saw it accepted/visible."""

    position: int
    accepted: float
    visible: float


@dataclass(frozen=True)
class Seen:
    recorded: float
    produced: float
    readable: float


class Tap:
    """A group-less consumer of the contracts topics from their current end: for every
    event, by position, when it was recorded, produced and readable."""

    def __init__(self, bootstrap: str) -> None:
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
        self.seen: dict[int, Seen] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        tps = [TopicPartition(s.name, p) for s in ALL_TOPICS if s.name in TOPICS for p in range(s.partitions)]
        await self._consumer.start()
        self._consumer.assign(tps)
        await self._consumer.seek_to_end(*tps)
        for tp in tps:  # resolve the end now, not at the first fetch (events may come meanwhile)
            await self._consumer.position(tp)
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            batches = await self._consumer.getmany(timeout_ms=1000)
            now = time.time()
            for records in batches.values():
                for r in records:
                    self._note(r.value, r.timestamp / 1000, now)

    def _note(self, value: bytes | None, produced: float, readable: float) -> None:
        with suppress(ValueError, TypeError, KeyError):
            envelope = orjson.loads(value or b"")
            recorded = datetime.fromisoformat(envelope["recorded_at"]).timestamp()
            self.seen[int(envelope["position"])] = Seen(recorded, produced, readable)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
        await self._consumer.stop()


@dataclass(frozen=True)
class Scraped:
    """What the bench reads from projections' ``/metrics`` before and after a run."""

    delays: dict[float, float]
    """The produced → applied histogram: cumulative count per bucket's upper bound (``inf`` too)."""
    looks: tuple[float, float] = (0.0, 0.0)
    """``projections_min_position_looks``: (sum, count) — looks at the read model, waits."""


async def scrape(projections: HttpPool) -> Scraped:
    _, body = await projections.request("GET", "/metrics")
    delays: dict[float, float] = {}
    looks = [0.0, 0.0]
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            if family.name == DELAY_METRIC:
                if sample.name.endswith("_bucket") and sample.labels.get("since") == "produced":
                    delays[float(sample.labels["le"])] = sample.value
            elif family.name == LOOKS_METRIC:
                if sample.name.endswith("_sum"):
                    looks[0] = sample.value
                elif sample.name.endswith("_count"):
                    looks[1] = sample.value
    return Scraped(delays, (looks[0], looks[1]))


def looks_per_wait(before: Scraped, after: Scraped) -> float | None:
    """The mean looks at the read model per ``min_position`` wait during a run."""
    waits = after.looks[1] - before.looks[1]
    return (after.looks[0] - before.looks[0]) / waits if waits > 0 else None


def _bucket_quantile(buckets: list[tuple[float, float]], q: float) -> float:
    """Prometheus' ``histogram_quantile``: linear inside the bucket holding rank q."""
    total = buckets[-1][1] if buckets else 0.0
    if total <= 0:
        return float("nan")
    rank, lower, below = q * total, 0.0, 0.0
    for upper, count in buckets:
        if count >= rank:
            if upper == float("inf"):
                return lower
            return lower + (upper - lower) * (rank - below) / max(count - below, 1e-9)
        lower, below = upper, count
    return lower


def applied_summary(before: Scraped, after: Scraped) -> dict[str, float]:
    """p50/p90/p99 (ms, interpolated) of produced → applied for the events of one run."""
    buckets = sorted((le, after.delays[le] - before.delays.get(le, 0.0)) for le in after.delays)
    return {name: _bucket_quantile(buckets, q) * 1000 for name, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99))}


@dataclass
class Breakdown:
    """Per-stage latencies (seconds) of the commands the tap saw."""

    stages: dict[str, list[float]] = field(default_factory=dict)
    missing: int = 0

    @classmethod
    def of(cls, commands: list[Command], tap: dict[int, Seen]) -> Breakdown:
        out = cls({name: [] for name in STAGES})
        for c in commands:
            s = tap.get(c.position)
            if s is None:
                out.missing += 1
                continue
            for name, (start, end) in STAGES.items():
                out.stages[name].append(_at(c, s, end) - _at(c, s, start))
        return out

    def summaries(self) -> dict[str, dict[str, float]]:
        return {name: latency_summary(v) for name, v in self.stages.items()}


STAGES = {
    "recorded → accepted": ("recorded", "accepted"),
    "recorded → produced (relay)": ("recorded", "produced"),
    "produced → readable (Kafka)": ("produced", "readable"),
    "produced → visible (consumer + apply + query)": ("produced", "visible"),
    "accepted → visible": ("accepted", "visible"),
}
"""Exact per command (nearest rank over every command the tap saw)."""


def _at(c: Command, s: Seen, moment: str) -> float:
    return getattr(c, moment) if moment in ("accepted", "visible") else getattr(s, moment)
