"""What a statement costs PostgreSQL, read from its plan: for tests that hold a read to a few pages."""

from __future__ import annotations

import json
from typing import Any


def top_plan(plan: Any) -> dict[str, Any]:
    """The top node of an ``EXPLAIN (FORMAT JSON)`` answer (the pool may have decoded the json)."""
    return (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]


async def blocks_touched(conn, sql: str, *args) -> int:
    """Shared buffers ``sql`` hit or read, run once under ``EXPLAIN (ANALYZE, BUFFERS)``."""
    top = top_plan(await conn.fetchval(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}", *args))
    return top["Shared Hit Blocks"] + top["Shared Read Blocks"]
