"""The event store against real PostgreSQL: versions, concurrency, atomicity, ordering.

The test bodies are the contract every backend passes (``tests/support/eventstore_contract.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import asyncpg
import pytest

from shared.eventstore.store import PostgresEventStore
from shared.outbox.messages import OutboxRouter
from tests.support.eventstore_contract import *  # noqa: F403 - the contract's test bodies
from tests.support.eventstore_contract import QueuedMessage


class PostgresBackend:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    def store(self, router: OutboxRouter | None = None) -> PostgresEventStore:
        return PostgresEventStore(self._pool, router=router)

    async def outbox_of(self, event_ids: Sequence[UUID]) -> list[QueuedMessage]:
        rows = await self._pool.fetch(
            "SELECT event_id, key, headers FROM outbox WHERE event_id = ANY($1::uuid[]) ORDER BY id", list(event_ids)
        )
        return [QueuedMessage(r["event_id"], r["key"], r["headers"]) for r in rows]


@pytest.fixture
def backend(eventstore_pool: asyncpg.Pool) -> PostgresBackend:
    return PostgresBackend(eventstore_pool)
