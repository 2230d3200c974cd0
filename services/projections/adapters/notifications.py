"""Wake-ups when a batch commits: one LISTEN connection per process on ``projections_applied``.

Each live batch runs ``pg_notify`` inside its transaction, so the notification arrives only
after the commit — whichever replica consumed the partition. Waiters still re-check the
database and also poll briefly, so a lost notification (reconnect) only costs latency.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from contextlib import suppress
from typing import Any

import asyncpg

from services.projections.adapters.db import NOTIFY_CHANNEL
from shared.logging import get_logger

log = get_logger("projections.notifications")


class Generations:
    """A count of the batches committed since start that a waiter can wait *past*, with the
    highest position each of the recent ones applied.

    A waiter reads :attr:`current` before it looks at the database and then waits for the
    count to move on from that value. A batch that commits while it is looking still wakes it
    at once; "wait for the next notification" would miss that one and sleep until the next
    batch or the poll interval (a lost wake-up).

    A waiter for one client's position N (``reaching``) is only woken by a batch that applied
    some position ≥ N — the batch that applies N does — so that a batch of other clients'
    events does not send every waiting query back to the database (under load, most of them).
    """

    WINDOW = 1024
    """Recent batches remembered; a waiter that fell further behind just looks again."""

    def __init__(self) -> None:
        self.current = 0
        self._recent: deque[tuple[int, float]] = deque(maxlen=self.WINDOW)
        self._moved: asyncio.Future[None] | None = None

    def advance(self, position: float = math.inf) -> None:
        """A batch committed; ``position``: the highest it applied (-inf: none, inf: unknown)."""
        self.current += 1
        self._recent.append((self.current, position))
        moved, self._moved = self._moved, None
        if moved is not None and not moved.done():
            moved.set_result(None)

    def _arrived(self, seen: int, reaching: int | None) -> bool:
        if self.current == seen:
            return False
        if reaching is None or not self._recent or self._recent[0][0] > seen + 1:
            return True
        return any(position >= reaching for generation, position in reversed(self._recent) if generation > seen)

    async def wait_past(self, seen: int, timeout: float, reaching: int | None = None) -> None:
        """Return once a batch after ``seen`` has committed (one that applied a position ≥
        ``reaching``, when given), or after ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self._arrived(seen, reaching):
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            if self._moved is None:
                self._moved = loop.create_future()
            with suppress(TimeoutError):  # shielded: one waiter's timeout must not cancel the others'
                await asyncio.wait_for(asyncio.shield(self._moved), remaining)


def _position(payload: str) -> float:
    """The NOTIFY payload: the batch's highest applied position, "" when it applied none."""
    try:
        return int(payload) if payload else -math.inf
    except ValueError:
        return math.inf


class AppliedNotifications:
    def __init__(self, dsn: str, reconnect_every: float = 5.0) -> None:
        self._dsn = dsn
        self._conn: asyncpg.Connection | None = None
        self._batches = Generations()
        self._reconnect_every = reconnect_every
        self._next_attempt = 0.0

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        self._batches.advance(_position(payload))

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

    async def wait(self, timeout: float, since: int, reaching: int | None = None) -> None:
        """Return once a batch committed after ``since`` was read from :attr:`seen` (at once if
        one already has; for ``reaching``, one that applied a position ≥ it), or after
        ``timeout`` seconds."""
        await self.start()
        await self._batches.wait_past(since, timeout, reaching)

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()
