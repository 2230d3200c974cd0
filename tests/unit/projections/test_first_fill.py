"""When the projections service fills its read model by the bulk replay before consuming live
(``application.first_fill``): only a read model that consumed nothing, only for a backlog of
at least the threshold, and one replica at a time."""

from __future__ import annotations

import asyncio

import pytest

from services.projections.application.first_fill import FirstFill
from services.projections.application.ports import RebuildBusy
from services.projections.application.rebuild import RebuildReport


class FakeRebuild:
    """``Rebuild.run``: refused while ``busy`` counts down, then replays ``records``."""

    def __init__(self, records: int = 0, busy: int = 0, fails: bool = False) -> None:
        self.records, self.busy, self.fails = records, busy, fails
        self.runs: list[bool] = []

    async def run(self, *, swap: bool, progress=lambda *_: None) -> RebuildReport:
        if self.busy:
            self.busy -= 1
            raise RebuildBusy("another rebuild or check is running")
        self.runs.append(swap)
        if self.fails:
            raise RuntimeError("the broker went away")
        for _ in range(self.records // 100):
            progress(100, self.records)
        return RebuildReport(
            "projections_rebuild_x",
            read=self.records,
            applied=self.records,
            seconds=1.0,
            workers=2,
            peak_worker_rss_mb=123.4,
        )


def fill(rebuild: FakeRebuild, *, fresh: list[bool], backlog: int, threshold: int = 1000) -> FirstFill:
    """``fresh``: the answers of ``is_fresh``, one per call (the last one repeats)."""

    async def is_fresh() -> bool:
        return fresh.pop(0) if len(fresh) > 1 else fresh[0]

    async def records() -> int:
        return backlog

    return FirstFill(lambda: rebuild, is_fresh, records, threshold, busy_retry_seconds=0.0)  # type: ignore[arg-type,return-value]  # a fake Rebuild


async def test_a_fresh_read_model_with_a_large_backlog_is_filled_and_swapped_in() -> None:
    rebuild = FakeRebuild(records=5000)
    first = fill(rebuild, fresh=[True], backlog=5000)
    report = await first.run()
    assert rebuild.runs == [True]  # swap=True: the filled schema replaces the empty one
    assert report is not None and report.read == 5000
    assert first.status.as_dict() == {
        "state": "done",
        "done": 5000,
        "total": 5000,
        "workers": 2,
        "peak_worker_rss_mb": 123,  # what ops size the pod's memory by (/health/ready)
    }


@pytest.mark.parametrize(
    ("fresh", "backlog", "threshold"),
    [
        ([False], 10**6, 1000),  # consumed something: live, however far behind
        ([True], 999, 1000),  # a small backlog: the live consumer is quicker than a rebuild's start
        ([True], 10**6, 0),  # turned off
    ],
)
async def test_no_fill_unless_fresh_with_a_backlog_at_the_threshold(
    fresh: list[bool], backlog: int, threshold: int
) -> None:
    rebuild = FakeRebuild(records=backlog)
    first = fill(rebuild, fresh=fresh, backlog=backlog, threshold=threshold)
    assert await first.run() is None
    assert rebuild.runs == []
    assert first.status.state == "skipped"


async def test_a_replica_finding_the_lock_taken_waits_and_fills_nothing_once_the_other_filled() -> None:
    """Replicas started together: the lock's holder fills; the other waits, then finds the read
    model no longer fresh and consumes live from the offsets the fill stored."""
    rebuild = FakeRebuild(records=5000, busy=2)
    first = fill(rebuild, fresh=[True, True, False], backlog=5000)
    assert await first.run() is None
    assert rebuild.runs == []  # never replayed: the other replica's fill is the read model


async def test_a_replica_fills_when_the_lock_holder_gave_up_without_filling() -> None:
    rebuild = FakeRebuild(records=5000, busy=1)
    first = fill(rebuild, fresh=[True], backlog=5000)
    report = await first.run()
    assert report is not None and rebuild.runs == [True]


async def test_a_failed_fill_is_reported_to_the_caller_and_shown_as_failed() -> None:
    rebuild = FakeRebuild(records=5000, fails=True)
    first = fill(rebuild, fresh=[True], backlog=5000)
    with pytest.raises(RuntimeError, match="broker went away"):
        await first.run()
    assert first.status.state == "failed"


async def test_waiting_for_the_lock_can_be_cancelled_at_shutdown() -> None:
    rebuild = FakeRebuild(records=5000, busy=10**9)
    first = FirstFill(
        lambda: rebuild,  # type: ignore[arg-type,return-value]  # a fake Rebuild
        lambda: asyncio.sleep(0, True),
        lambda: asyncio.sleep(0, 5000),
        1000,
        busy_retry_seconds=0.01,
    )
    task = asyncio.create_task(first.run())
    await asyncio.sleep(0.05)
    assert first.status.state == "waiting"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
