"""asyncpg pools with JSON codecs set once, so every query gets dicts in and out."""

from __future__ import annotations

import asyncpg
import orjson


async def _init_connection(conn: asyncpg.Connection) -> None:
    for typename in ("json", "jsonb"):
        await conn.set_type_codec(
            typename,
            schema="pg_catalog",
            encoder=lambda v: orjson.dumps(v).decode(),
            decoder=orjson.loads,
            format="text",
        )


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Release without asyncpg's default reset query (``pg_advisory_unlock_all(); CLOSE ALL;
    UNLISTEN *; RESET ALL``): one more round trip on every release, for session state this
    code never leaves on a pooled connection. What asyncpg still does first: roll back an open
    transaction and drop the connection's listeners. Session-level locks, ``SET``s and cursors
    live on dedicated connections (``connect``), and the one pooled LISTEN (the outbox relay)
    UNLISTENs before it is released.
    """


CONNECT_TIMEOUT_SECONDS = 5.0
"""A new connection that PostgreSQL does not accept in this time fails (a request answers 503
at once instead of hanging on asyncpg's default 60 s); the pool retries on the next acquire."""


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        reset=_keep_session,
        command_timeout=30,
        timeout=CONNECT_TIMEOUT_SECONDS,
    )
    assert pool is not None
    return pool


async def connect(dsn: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(dsn)
    await _init_connection(conn)
    return conn
