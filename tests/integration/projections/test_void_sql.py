"""The SQL condition for "not void" answers as ``shared.owed.is_void`` does, in PostgreSQL."""

from datetime import date

import asyncpg

from shared.owed import is_void, not_void_sql

START = date(2026, 3, 1)
CASES = [None, date(2026, 2, 28), START, date(2026, 3, 2)]
"""No termination; terminated before, on and after the period's first day."""


async def test_not_void_in_sql_is_not_is_void(stack) -> None:
    conn = await asyncpg.connect(stack.database_urls["projections"])
    try:
        for terminated_on in CASES:
            live = await conn.fetchval(f"SELECT {not_void_sql('$1::date', '$2::date')}", START, terminated_on)
            assert live is (not is_void(START, terminated_on)), terminated_on
    finally:
        await conn.close()
