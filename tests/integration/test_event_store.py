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
    def __init__(self, pool: asyncpg.Pool, group_commit: bool = False) -> None:
        self._pool = pool
        self._group_commit = group_commit

    def store(self, router: OutboxRouter | None = None) -> PostgresEventStore:
        return PostgresEventStore(self._pool, router=router, group_commit=self._group_commit)

    async def outbox_of(self, event_ids: Sequence[UUID]) -> list[QueuedMessage]:
        rows = await self._pool.fetch(
            "SELECT event_id, key, headers FROM outbox WHERE event_id = ANY($1::uuid[]) ORDER BY id", list(event_ids)
        )
        return [QueuedMessage(r["event_id"], r["key"], r["headers"]) for r in rows]


@pytest.fixture(params=[False, True], ids=["one-call", "group-commit"])
def backend(eventstore_pool: asyncpg.Pool, request: pytest.FixtureRequest) -> PostgresBackend:
    """Every contract test runs on the store as the services use it (group commit on) and without."""
    return PostgresBackend(eventstore_pool, group_commit=request.param)
