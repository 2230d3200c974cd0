"""The price list in PostgreSQL (migration 0003)."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from services.tickets.application.ports import StoredPriceItem
from services.tickets.domain.price_list import PriceItem

_COLUMNS = "code, name, unit, price, currency, active, version, updated_at"


def _stored(r: asyncpg.Record) -> StoredPriceItem:
    return StoredPriceItem(
        PriceItem(r["code"], r["name"], r["unit"], r["price"], r["currency"], r["active"]),
        r["version"],
        r["updated_at"],
    )


class PostgresPriceList:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def get(self, code: str) -> PriceItem | None:
        row = await self._pool.fetchrow(f"SELECT {_COLUMNS} FROM price_list WHERE code = $1", code)
        return None if row is None else _stored(row).item

    async def define(self, item: PriceItem) -> tuple[StoredPriceItem, bool]:
        row = await self._pool.fetchrow(
            f"""INSERT INTO price_list AS p (code, name, unit, price, currency, active)
                VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT (code) DO UPDATE SET
                    name = EXCLUDED.name, unit = EXCLUDED.unit, price = EXCLUDED.price,
                    currency = EXCLUDED.currency, active = EXCLUDED.active,
                    version = p.version + 1, updated_at = clock_timestamp()
                WHERE (p.name, p.unit, p.price, p.currency, p.active)
                      IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.unit, EXCLUDED.price,
                                        EXCLUDED.currency, EXCLUDED.active)
                RETURNING {_COLUMNS}, (xmax = 0) AS created""",
            item.code,
            item.name,
            item.unit,
            item.price,
            item.currency,
            item.active,
        )
        if row is None:  # the same definition again: nothing to change
            row = await self._pool.fetchrow(
                f"SELECT {_COLUMNS}, false AS created FROM price_list WHERE code = $1", item.code
            )
        return _stored(row), row["created"]

    async def items(self, active: bool | None = None) -> Sequence[StoredPriceItem]:
        rows = await self._pool.fetch(
            f"SELECT {_COLUMNS} FROM price_list WHERE $1::boolean IS NULL OR active = $1 ORDER BY code", active
        )
        return [_stored(r) for r in rows]
