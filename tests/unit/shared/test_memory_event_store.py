"""The in-memory event store passes the same contract as PostgreSQL's
(``tests/support/eventstore_contract.py``; the PostgreSQL run is tests/integration/test_event_store.py)."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import pytest

from shared.eventstore.memory import MemoryEventStore
from shared.outbox.messages import OutboxRouter
from tests.support.eventstore_contract import *  # noqa: F403 - the contract's test bodies
from tests.support.eventstore_contract import QueuedMessage


class MemoryBackend:
    def __init__(self) -> None:
        self._stores: list[MemoryEventStore] = []

    def store(self, router: OutboxRouter | None = None) -> MemoryEventStore:
        self._stores.append(MemoryEventStore(router=router))
        return self._stores[-1]

    async def outbox_of(self, event_ids: Sequence[UUID]) -> list[QueuedMessage]:
        wanted = set(event_ids)
        return [
            QueuedMessage(m.event_id, m.key, m.headers) for s in self._stores for m in s.outbox if m.event_id in wanted
        ]


@pytest.fixture
def backend() -> MemoryBackend:
    return MemoryBackend()
