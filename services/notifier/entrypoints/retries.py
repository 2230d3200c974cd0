"""The retry worker: sends the deliveries on the retry schedule when they are due.

It runs beside the consumer in every notifier replica (the claims keep each e-mail to one
sender). The schedule is rows in the delivery log, so a restart loses nothing: the next
process picks up where the last one stopped. ``notifier_retry_queue_size`` shows how many
deliveries wait on it.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress
from typing import Protocol

from services.notifier.entrypoints import metrics
from shared.logging import get_logger

log = get_logger("notifier.retries")


class Retrying(Protocol):
    async def retry_due(self, limit: int = 50) -> int: ...


class QueueSize(Protocol):
    async def retry_queue_size(self) -> int: ...


class RetryWorker:
    def __init__(self, notifier: Retrying, queue: QueueSize, *, every: float = 1.0, batch: int = 50) -> None:
        self._notifier, self._queue, self._every, self._batch = notifier, queue, every, batch
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start (or start again after :meth:`stop`) the rounds."""
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="notifier-retries")

    async def _run(self) -> None:
        while not self._stopping.is_set():
            due = 0
            try:
                due = await self._notifier.retry_due(self._batch)
                metrics.RETRY_QUEUE.set(await self._queue.retry_queue_size())
            except Exception:
                log.exception("retry round failed; the deliveries stay due")
            if due < self._batch:  # a full batch: more may be due at once
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self._every)

    async def stop(self) -> None:
        self._stopping.set()
        task, self._task = self._task, None
        if task is not None:
            with suppress(asyncio.CancelledError):
                await task
