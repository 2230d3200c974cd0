"""Fixtures for integration tests: a fresh database with the event store, a fresh topic."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool

EVENTSTORE_SQL = Path(__file__).resolve().parents[2] / "shared" / "eventstore" / "sql"


def server_url(database_url: str, dbname: str) -> str:
    return database_url.rsplit("/", 1)[0] + "/" + dbname


@pytest.fixture
async def eventstore_db(stack) -> AsyncIterator[str]:
    """A new database holding only the event store schema; dropped afterwards."""
    name = f"es_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server_url(stack.database_urls["contracts"], "postgres"))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = server_url(stack.database_urls["contracts"], name)
        await apply_migrations(url, EVENTSTORE_SQL)
        yield url
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def eventstore_pool(eventstore_db) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(eventstore_db, min_size=2, max_size=12)
    yield pool
    await pool.close()


@pytest.fixture
async def fresh_topic(stack) -> str:
    name = f"test.{uuid.uuid4().hex[:10]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, num_partitions=6, replication_factor=1)])
    finally:
        await admin.close()
    return name
