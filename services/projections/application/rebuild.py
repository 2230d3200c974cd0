"""Replay every event into a fresh schema, then swap it in (``rebuild``) or compare (``check``).

Phases — the live consumer keeps running throughout:

1. **Replay** from offset 0 into ``<live>_rebuild_<stamp>`` up to the topics' end offsets
   (``check``: up to the live read model's consumed offsets, never beyond them), into
   UNLOGGED tables with primary keys only, the rollups (``income_months``, ``period_debts``)
   left out — split over worker processes by partition number when a ``SliceReplay`` is given
   and the backlog is large enough (:func:`partition_slices`); then (``rebuild`` only) SET
   LOGGED, build the secondary indexes once — far less WAL and index upkeep than row-by-row
   maintenance — and fill the rollups from the tables in one pass each (after the indexes:
   ``period_debts`` reads each paid period's payments by ``period_id``; without the index that
   is a scan of all payments per period).
2. **Chase** the live consumer, still without blocking it, until within ``close_enough``
   (``rebuild``: keeping the rollups in step batch by batch, as the live consumer does).
3. **Final step under SWAP_LOCK** (live batches wait, briefly): read the live consumed
   offsets — they can no longer move — and catch up to them.
   * ``rebuild``: in that same transaction rename live → ``<live>_retired_<stamp>`` and the new
     schema → live; drop the retired one after. The new schema is at or past the live one on
     every partition, so no event is lost; events it has and the live consumer will still
     deliver are skipped by the stream-version check.
   * ``check``: fill the rollups from the tables (under the lock: ``check`` builds no
     indexes, which keeping them batch by batch would need), pin a snapshot, release the
     lock, and compare both schemas table by table.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from services.projections.application.ports import Connection, Offsets, PgSchemas, Source, TableDiff
from services.projections.application.projector import Prepared, Projector
from shared.logging import get_logger

log = get_logger("projections.rebuild")


@dataclass
class RebuildReport:
    pg_schema: str
    read: int = 0
    applied: int = 0
    skipped: int = 0
    parked: int = 0
    dead_letters: int = 0
    seconds: float = 0.0
    workers: int = 1
    """Processes the bulk replay ran in."""
    peak_worker_rss_mb: float = 0.0
    """The largest peak RSS of the bulk replay's worker processes (0: none ran): what the pod's
    memory limit must hold once per worker, beside the service itself."""
    swapped: bool = False
    differences: list[TableDiff] = field(default_factory=list)

    @property
    def events_per_second(self) -> float:
        return self.read / self.seconds if self.seconds else 0.0

    def add(self, other: RebuildReport) -> None:
        """Count another replay's records (a worker's slice) in this one."""
        self.read += other.read
        self.applied += other.applied
        self.skipped += other.skipped
        self.parked += other.parked
        self.dead_letters += other.dead_letters
        self.peak_worker_rss_mb = max(self.peak_worker_rss_mb, other.peak_worker_rss_mb)


Progress = Callable[[int, int], None]
"""``progress(done_now, total_so_far)``: records just read, and the current known total."""

SliceReplay = Callable[[str, Sequence[Offsets], Progress], Awaitable[RebuildReport]]
"""Replays each slice of partitions (up to its offsets) into the schema named, each in a
process of its own, and returns their counts together (``progress`` gets records done)."""


def partition_slices(limits: Offsets, workers: int) -> list[Offsets]:
    """``limits`` split into up to ``workers`` slices by partition number, every topic's
    partition *p* in the same slice: a client's key lands on the same partition number in
    each topic of one partition count, so each stream is replayed whole by one worker (its
    versions, parked events and rows are nobody else's). Topics of different partition
    counts do not line up that way: one slice then."""
    counts = {topic: sum(1 for t, _ in limits if t == topic) for topic, _ in limits}
    if workers <= 1 or len(set(counts.values())) != 1:
        return [dict(limits)]
    slices: list[Offsets] = [{} for _ in range(min(workers, next(iter(counts.values()))))]
    for (topic, partition), offset in sorted(limits.items()):
        slices[partition % len(slices)][(topic, partition)] = offset
    return slices


class Rebuild:
    def __init__(
        self,
        pg_schemas: PgSchemas,
        source_factory: Callable[[], Source],
        projector: Projector,
        *,
        batch_records: int = 5000,
        close_enough: int = 5000,
        slices: SliceReplay | None = None,
        workers: int = 1,
        parallel_from: int = 100_000,
    ) -> None:
        """``slices``, ``workers``: the bulk replay split over this many processes when it has
        at least ``parallel_from`` records (below that a process's start-up costs more than it
        saves)."""
        self._pg_schemas = pg_schemas
        self._source_factory = source_factory
        self._projector = projector
        self._batch = batch_records
        self._close_enough = close_enough
        self._slices, self._workers, self._parallel_from = slices, workers, parallel_from

    async def replay_slice(self, pg_schema: str, limits: Offsets, progress: Progress) -> RebuildReport:
        """A worker's part of the bulk replay: this source's partitions up to ``limits`` into
        ``pg_schema`` (made by the rebuild that split the work), no rollups."""
        report = RebuildReport(pg_schema)
        conn = await self._pg_schemas.connect(pg_schema)
        source = self._source_factory()
        try:
            await source.start()
            await self._replay(conn, source, limits, report, progress)
        finally:
            await source.stop()
            await conn.close()
        return report

    async def _bulk(
        self, conn: Connection, source: Source, target: str, limits: Offsets, report: RebuildReport, progress: Progress
    ) -> None:
        """Phase 1: in worker processes when worth it, else here; either way ``source`` ends
        at ``limits``."""
        slices = partition_slices(limits, self._workers)
        if self._slices is None or len(slices) < 2 or source.remaining(limits) < self._parallel_from:
            await self._replay(conn, source, limits, report, progress)
            return
        log.info("replaying in worker processes", workers=len(slices))
        total = source.remaining(limits)
        report.add(await self._slices(target, slices, lambda done, _total: progress(done, total)))
        report.workers = len(slices)
        await source.seek(limits)

    async def _replay(
        self,
        conn: Connection,
        source: Source,
        limits: Offsets,
        report: RebuildReport,
        progress: Progress,
        *,
        rollups: bool = False,
    ) -> None:
        """Pipelined: while one batch's transaction runs, the next is read and decoded (in a
        worker thread, so the database and the decoding work at the same time)."""

        async def next_batch() -> Prepared | None:
            while (records := await source.read(limits, self._batch)) is not None:
                if records:
                    return await asyncio.to_thread(self._projector.prepare, records)
            return None

        upcoming = asyncio.ensure_future(next_batch())
        try:
            while (batch := await upcoming) is not None:
                upcoming = asyncio.ensure_future(next_batch())
                result = await self._projector.apply_or_isolate(conn, batch, live=False, rollups=rollups)
                report.read += result.received
                report.applied += result.applied
                report.skipped += result.skipped
                report.parked += result.parked - result.unparked
                report.dead_letters += result.dead_lettered
                progress(result.received, report.read + source.remaining(limits))
        finally:
            upcoming.cancel()

    async def run(self, *, swap: bool, progress: Progress = lambda *_: None) -> RebuildReport:
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        live = self._pg_schemas.live
        target = f"{live}_{'rebuild' if swap else 'check'}_{stamp}"
        report = RebuildReport(target)
        started = time.monotonic()
        async with self._pg_schemas.exclusive_run():
            for leftover in await self._pg_schemas.drop_leftovers():
                log.warning("dropped a schema left by an interrupted run", pg_schema=leftover)
            await self._pg_schemas.create(target, bulk=True)
            conn = await self._pg_schemas.connect(target)
            source = self._source_factory()
            swapped = False
            try:
                await source.start()
                swapped = await self._phases(conn, source, target, report, swap, progress)
            finally:
                await source.stop()
                await conn.close()
                if not swapped:
                    await self._pg_schemas.drop(target)
        report.swapped = swapped
        report.seconds = time.monotonic() - started
        return report

    async def _live_offsets(self, conn: Connection) -> Offsets:
        return await self._pg_schemas.offsets(conn, self._pg_schemas.live)

    async def _phases(
        self, conn: Connection, source: Source, target: str, report: RebuildReport, swap: bool, progress: Progress
    ) -> bool:
        ends = await source.end_offsets()
        live_now = await self._live_offsets(conn)
        limits = ends if swap else {p: min(e, live_now.get(p, 0)) for p, e in ends.items()}
        log.info("replaying", pg_schema=target, records=source.remaining(limits))
        await self._bulk(conn, source, target, limits, report, progress)
        if swap:  # indexed first: the fill reads each paid period's payments by period_id
            await self._pg_schemas.finish(target)
            await self._pg_schemas.fill_rollups(conn, target)  # then kept per batch

        for _ in range(20):  # chase the live consumer without blocking it
            live_now = await self._live_offsets(conn)
            if source.remaining(live_now) <= self._close_enough:
                break
            await self._replay(conn, source, live_now, report, progress, rollups=swap)

        if swap:
            retired = f"{self._pg_schemas.live}_retired_{target.rsplit('_', 1)[1]}"
            async with self._pg_schemas.swap_lock() as locked:
                await self._replay(conn, source, await self._live_offsets(locked), report, progress, rollups=True)
                await self._pg_schemas.swap(locked, target, retired)
            await self._pg_schemas.drop(retired)
            log.info("rebuilt read model swapped in", pg_schema=self._pg_schemas.live, retired=retired)
            return True

        async with self._pg_schemas.frozen() as (locked, snap):
            await self._replay(conn, source, await self._live_offsets(locked), report, progress)
            await self._pg_schemas.fill_rollups(locked, target)
            await self._pg_schemas.take_snapshot(locked, snap)  # live batches go on from here
            report.differences = await self._pg_schemas.compare(snap, target)
        return False
