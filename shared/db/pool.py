"""asyncpg pools with JSON codecs set once, so every query gets dicts in and out."""

from __future__ import annotations

from collections.abc import Iterator

import asyncpg
import orjson
from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector


class PoolGauges(Collector):
    """``db_pool_connections_in_use`` and ``db_pool_connections_max`` per service, read from
    the live pools at scrape time (nothing to update on the query path)."""

    def __init__(self) -> None:
        self._pools: dict[str, asyncpg.Pool] = {}  # the latest pool per service (asyncpg's take no weakref)

    def watch(self, service: str, pool: asyncpg.Pool) -> None:
        self._pools[service] = pool

    def collect(self) -> Iterator[GaugeMetricFamily]:
        in_use = GaugeMetricFamily(
            "db_pool_connections_in_use", "Connections of the pool lent out right now", labels=["service"]
        )
        ceiling = GaugeMetricFamily("db_pool_connections_max", "The pool's size limit", labels=["service"])
        for service, pool in sorted(self._pools.items()):
            if pool.is_closing():  # closed: reported no more
                continue
            in_use.add_metric([service], pool.get_size() - pool.get_idle_size())
            ceiling.add_metric([service], pool.get_max_size())
        yield in_use
        yield ceiling


POOLS = PoolGauges()
REGISTRY.register(POOLS)


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


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 10, service: str | None = None) -> asyncpg.Pool:
    """``service``: report the pool's use on /metrics under that label."""
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
    if service is not None:
        POOLS.watch(service, pool)
    return pool


async def connect(dsn: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(dsn)
    await _init_connection(conn)
    return conn
