"""The shared pool releases connections without asyncpg's reset query: what it must still
guarantee is that nothing of one user's transaction reaches the next."""

from __future__ import annotations

import uuid

from shared.db.pool import create_pool


async def test_a_connection_released_inside_a_transaction_comes_back_rolled_back(eventstore_db):
    pool = await create_pool(eventstore_db, min_size=1, max_size=1)
    stream = f"pool-{uuid.uuid4()}"
    try:
        async with pool.acquire() as conn:
            await conn.execute("BEGIN")  # a writer that failed between BEGIN and COMMIT
            await conn.execute(
                """INSERT INTO events (event_id, stream_id, stream_version, event_type, schema_version,
                                       partition_key, data, occurred_at, correlation_id, actor)
                   VALUES ($1, $2, 1, 'T', 1, 'k', '{}', now(), 'c', 'a')""",
                uuid.uuid4(),
                stream,
            )
        async with pool.acquire() as conn:  # max_size=1: the same connection
            assert not conn.is_in_transaction()
            assert await conn.fetchval("SELECT count(*) FROM events WHERE stream_id = $1", stream) == 0
    finally:
        await pool.close()
