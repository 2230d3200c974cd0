"""Connections to the projections database: which schema, which locks, which channel.

The read model lives in one schema (``projections`` by default). Connections find its
tables through ``search_path`` so that the rebuild can fill a fresh schema with the very
same SQL and then swap it in by renaming schemas — PostgreSQL re-resolves the names of
cached statements when a schema is renamed, so open pools follow the swap.

In code such a PostgreSQL namespace is a ``pg_schema`` (docs/glossary.md: "schema" alone is a
pydantic model); the setting ``PROJECTIONS_READ_MODEL_SCHEMA`` keeps its configured name.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg

from shared.db.pool import connect, create_pool

LIVE_PG_SCHEMA = "projections"
META_PG_SCHEMA = "projections_meta"
NOTIFY_CHANNEL = "projections_applied"


_PG_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def quote_pg_schema(name: str) -> str:
    if not _PG_SCHEMA_NAME.match(name):
        raise ValueError(f"not a plain schema name: {name!r}")
    return f'"{name}"'


def with_search_path(dsn: str, pg_schema: str) -> str:
    """The DSN with ``search_path`` set as a connection parameter (asyncpg server setting)."""
    quote_pg_schema(pg_schema)
    parts = urlsplit(dsn)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "search_path"]
    query.append(("search_path", pg_schema))
    return urlunsplit(parts._replace(query=urlencode(query)))


async def open_pool(
    dsn: str, pg_schema: str = LIVE_PG_SCHEMA, *, min_size: int = 2, max_size: int = 10, service: str | None = None
) -> asyncpg.Pool:
    return await create_pool(with_search_path(dsn, pg_schema), min_size=min_size, max_size=max_size, service=service)


async def open_connection(dsn: str, pg_schema: str = LIVE_PG_SCHEMA) -> asyncpg.Connection:
    return await connect(with_search_path(dsn, pg_schema))
