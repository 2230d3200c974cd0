"""The rebuild's bulk replay split over worker processes (``SliceReplay``).

One Python process decodes and applies about 10,000 events a second, most of it pydantic and
the projector's own Python, which one interpreter runs on one core at a time whatever the
threads. So a large replay is split by partition number (``partition_slices``): each worker
is a fresh interpreter (``spawn``: nothing of the parent's event loop or connections) that
reads its partitions of both topics with a reader of its own and writes into the same fresh
schema on a connection of its own. Each stream is one client's and every client is in one
slice, so the workers never touch the same rows.

A worker reports its records as it goes and its counts at the end through a queue; the first
one that fails fails the rebuild (the others are stopped, and the fresh schema is dropped by
the rebuild as for any failure).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import queue
import resource
from collections.abc import Sequence
from typing import Any

from services.projections.application.ports import Offsets
from services.projections.application.rebuild import Progress, RebuildReport
from services.projections.settings import ProjectionsSettings
from shared.logging import get_logger

log = get_logger("projections.rebuild")

POLL_SECONDS = 0.5
"""How often the parent looks at the queue and at its workers' exit codes."""


def _work(
    settings: ProjectionsSettings, pg_schema: str, limits: Offsets, reports: Any, index: int, dead_letters: bool
) -> None:
    """A worker process's main: replay one slice, report progress and the counts;
    ``dead_letters``: send the slice's poison records to the dead-letter topic (a first fill)."""
    import uvloop

    from services.projections.bootstrap import create_rebuild, dead_letter_sink
    from shared.consumer import DeadLetterProducer
    from shared.logging import configure_logging
    from shared.runtime import tune_gc

    configure_logging(settings.log.format, "WARNING")
    tune_gc()
    prefix = settings.kafka.client_id_prefix
    producer = DeadLetterProducer(settings.kafka, f"{prefix}-projections-fill-{index}-dlq") if dead_letters else None
    rebuild = create_rebuild(
        settings,
        partitions=set(limits),
        dead_letters=dead_letter_sink(producer, settings.consumer_group) if producer else None,
    )

    def progress(done: int, _total: int) -> None:
        reports.put(("progress", index, done))

    async def replay() -> RebuildReport:
        try:
            return await rebuild.replay_slice(pg_schema, limits, progress)
        finally:
            if producer is not None:
                await producer.stop()

    try:
        report = uvloop.run(replay())
    except BaseException as exc:
        reports.put(("failed", index, repr(exc)[:1000]))
        raise
    reports.put(("done", index, report))


class ProcessSlices:
    """``SliceReplay`` in processes started for the call and gone after it."""

    def __init__(self, settings: ProjectionsSettings, *, dead_letters: bool = False) -> None:
        self._settings, self._dead_letters = settings, dead_letters

    async def __call__(self, pg_schema: str, slices: Sequence[Offsets], progress: Progress) -> RebuildReport:
        context = multiprocessing.get_context("spawn")
        reports = context.Queue()
        workers = [
            context.Process(
                target=_work,
                args=(self._settings, pg_schema, dict(limits), reports, i, self._dead_letters),
                name=f"projections-rebuild-{i}",
                daemon=True,
            )
            for i, limits in enumerate(slices)
        ]
        for worker in workers:
            worker.start()
        total = RebuildReport(pg_schema)
        done: set[int] = set()
        try:
            while len(done) < len(workers):
                try:
                    kind, index, value = await asyncio.to_thread(reports.get, True, POLL_SECONDS)
                except queue.Empty:
                    kind, index, value = "quiet", -1, None
                if kind == "quiet":
                    for i, worker in enumerate(workers):
                        if i not in done and worker.exitcode is not None and reports.empty():
                            raise RuntimeError(f"rebuild worker {i} exited ({worker.exitcode}) without its counts")
                elif kind == "progress":
                    progress(value, 0)
                elif kind == "failed":
                    raise RuntimeError(f"rebuild worker {index} failed: {value}")
                else:
                    total.add(value)
                    done.add(index)
        finally:
            for worker in workers:
                if worker.is_alive() and len(done) < len(workers):
                    worker.terminate()
            for worker in workers:
                await asyncio.to_thread(worker.join)
            reports.close()
        # the largest of this process's children so far (they are these workers): what a worker needs
        total.peak_worker_rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        log.info(
            "worker processes replayed their slices",
            workers=len(workers),
            records=total.read,
            peak_worker_rss_mb=round(total.peak_worker_rss_mb),
        )
        return total
