"""Wake-ups when a batch commits: one LISTEN connection per process on ``projections_applied``.

Each live batch runs ``pg_notify`` inside its transaction, so the notification arrives only
after the commit — whichever replica consumed the partition. Waiters still re-check the
database and also poll briefly, so a lost notification (reconnect) only costs latency.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress
from typing import Any

import asyncpg

from services.projections.adapters.db import NOTIFY_CHANNEL
from shared.logging import get_logger

log = get_logger("projections.notifications")


class Generations:
    """A count of the batches committed since start that a waiter can wait *past*.

    A waiter reads :attr:`current` before it looks at the database and then waits for the
    count to move on from that value. A batch that commits while it is looking still wakes it
    at once; "wait for the next notification" would miss that one and sleep until the next
    batch or the poll interval (a lost wake-up that cost up to 250 ms per query).
    """

    def __init__(self) -> None:
        self.current = 0
        self._moved: asyncio.Future[None] | None = None

    def advance(self) -> None:
        self.current += 1
        moved, self._moved = self._moved, None
        if moved is not None and not moved.done():
            moved.set_result(None)

    async def wait_past(self, seen: int, timeout: float) -> None:
        """Return once :attr:`current` is not ``seen`` any more, or after ``timeout`` seconds."""
        if self.current != seen:
            return
        if self._moved is None:
            self._moved = asyncio.get_running_loop().create_future()
        with suppress(TimeoutError):  # shielded: one waiter's timeout must not cancel the others'
            await asyncio.wait_for(asyncio.shield(self._moved), timeout)


class AppliedNotifications:
    def __init__(self, dsn: str, reconnect_every: float = 5.0) -> None:
        self._dsn = dsn
        self._conn: asyncpg.Connection | None = None
        self._batches = Generations()
        self._reconnect_every = reconnect_every
        self._next_attempt = 0.0

    def _on_notify(self, *_: Any) -> None:
        self._batches.advance()

    @property
    def seen(self) -> int:
        """Read before checking the database; pass to :meth:`wait` as ``since``."""
        return self._batches.current

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
            return
        self._batches.advance()  # batches may have committed unheard: waiters look again

    async def wait(self, timeout: float, since: int) -> None:
        """Return once a batch committed after ``since`` was read from :attr:`seen` (at once if
        one already has), or after ``timeout`` seconds."""
        await self.start()
        await self._batches.wait_past(since, timeout)

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()
