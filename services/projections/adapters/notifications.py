"""Wake-ups when a batch commits: one LISTEN connection per process on ``projections_applied``.

Each live batch runs ``pg_notify`` inside its transaction, so the notification arrives only
after the commit — whichever replica consumed the partition. Waiters still re-check the
database and also poll briefly, so a lost notification (reconnect) only costs latency.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from services.projections.adapters.db import NOTIFY_CHANNEL
from shared.logging import get_logger

log = get_logger("projections.notifications")


class AppliedNotifications:
    def __init__(self, dsn: str, reconnect_every: float = 5.0) -> None:
        self._dsn = dsn
        self._conn: asyncpg.Connection | None = None
        self._future: asyncio.Future[None] | None = None
        self._reconnect_every = reconnect_every
        self._next_attempt = 0.0

    def _on_notify(self, *_: Any) -> None:
        future, self._future = self._future, None
        if future is not None and not future.done():
            future.set_result(None)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        if self._conn is not None and not self._conn.is_closed():
            return
        if loop.time() < self._next_attempt:
            return
        self._next_attempt = loop.time() + self._reconnect_every
        try:
            conn = await asyncpg.connect(self._dsn)
            await conn.add_listener(NOTIFY_CHANNEL, self._on_notify)
            self._conn = conn
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("cannot LISTEN for applied batches; polling instead", error=repr(exc))

    async def wait(self, timeout: float) -> None:
        """Return on the next committed batch, or after ``timeout`` seconds."""
        await self.start()
        if self._future is None or self._future.done():
            self._future = asyncio.get_running_loop().create_future()
        try:
            await asyncio.wait_for(asyncio.shield(self._future), timeout)
        except TimeoutError:
            pass

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()
