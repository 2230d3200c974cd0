"""Issue 20: the outbox is vacuumed as a queue — after a fixed number of dead rows whatever its
size, not after 20 % of it — in every database that has one (contracts, tickets, and the event
store's own migrations)."""

from __future__ import annotations

import asyncpg
import pytest

QUEUE = {
    "autovacuum_vacuum_scale_factor=0",
    "autovacuum_vacuum_threshold=10000",
    "autovacuum_analyze_scale_factor=0",
    "autovacuum_vacuum_cost_delay=0",
}


async def _options(url: str) -> set[str]:
    conn = await asyncpg.connect(url)
    try:
        return set(await conn.fetchval("SELECT reloptions FROM pg_class WHERE oid = 'outbox'::regclass") or [])
    finally:
        await conn.close()


@pytest.mark.parametrize("service", ["contracts", "tickets"])
async def test_the_services_outbox_is_vacuumed_as_a_queue(stack, service: str) -> None:
    assert QUEUE <= await _options(stack.database_urls[service])


async def test_the_event_store_migrations_make_it_so(eventstore_db: str) -> None:
    assert QUEUE <= await _options(eventstore_db)
