"""Offsets committed to Kafka after the effect, in the background, one commit at a time.

The next fetch does not wait for a broker round trip; the newest offsets of every partition
are merged while a commit is in flight, and for ``every`` seconds after one (at most one
commit a second by default: at a trickle of records a commit per batch was a fifth of the
broker's work, issue 20). ``flush`` (partitions revoked, consumer stopping) commits at once.
A failed or skipped commit is only logged: the partition's new owner gets the records again
and the handler's idempotence absorbs them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from contextlib import suppress

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from shared.logging import get_logger

log = get_logger("consumer.commits")

Offsets = Mapping[tuple[str, int], int]
"""``(topic, partition) → next offset`` (the offset of the next record to consume)."""


class BackgroundCommits:
    def __init__(self, client: Callable[[], AIOKafkaConsumer | None], group: str, every: float = 1.0) -> None:
        self._client, self._group, self._every = client, group, every
        self._uncommitted: dict[tuple[str, int], int] = {}
        self._committer: asyncio.Task[None] | None = None
        self._now = asyncio.Event()
        """Set by ``flush``: commit what is pending without waiting out the interval."""

    def soon(self, offsets: Offsets) -> None:
        self._uncommitted.update(offsets)
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_pending(), name=f"consumer-commit-{self._group}")

    async def _commit_pending(self) -> None:
        while self._uncommitted and (client := self._client()) is not None:
            offsets, self._uncommitted = self._uncommitted, {}
            # a partition revoked since it settled is its new owner's to commit; and aiokafka
            # refuses a whole commit naming one that is not assigned
            assigned = client.assignment()
            owned = {TopicPartition(t, p): o for (t, p), o in offsets.items() if TopicPartition(t, p) in assigned}
            if not owned:
                continue
            try:
                await client.commit(owned)
            except KafkaError as exc:
                log.warning("offset commit failed after handling", error=repr(exc), group=self._group)
            if self._every > 0 and not self._now.is_set():
                with suppress(TimeoutError):  # what settles meanwhile goes in the next commit
                    await asyncio.wait_for(self._now.wait(), self._every)

    async def flush(self, timeout: float | None = None) -> None:
        committer = self._committer
        if committer is not None and not committer.done():
            self._now.set()
            try:
                with suppress(TimeoutError):  # a commit left behind: idempotence absorbs it
                    await asyncio.wait_for(asyncio.shield(committer), timeout)
            finally:
                self._now.clear()
