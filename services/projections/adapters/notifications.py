"""Wake-ups when a batch commits: one LISTEN connection per process on ``projections_applied``.

Each live batch runs ``pg_notify`` inside its transaction, so the notification arrives only
after the commit — whichever replica consumed the partition — and names the highest position
it applied per client bucket, so a query waiting for one client wakes only for its bucket.
Waiters still re-check the database now and then, and poll while the LISTEN connection is
down, so a lost notification (reconnect) only costs latency.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Mapping
from contextlib import suppress
from typing import Any

import asyncpg

from services.projections.adapters.db import NOTIFY_CHANNEL
from services.projections.application.reached import BUCKETS
from shared.logging import get_logger

log = get_logger("projections.notifications")


class Generations:
    """A count of the batches committed since start that a waiter can wait *past*, with what
    each of the recent ones applied: the highest position per client bucket
    (``application.reached``), or None when that is not known (anything may have changed).

    A waiter reads :attr:`current` before it looks at the database and then waits for the
    count to move on from that value. A batch that commits while it is looking still wakes it
    at once; "wait for the next notification" would miss that one and sleep until the next
    batch or the poll interval (a lost wake-up).

    A waiter for one client's position N (``reaching`` = (the client's bucket, N)) is only
    woken by a batch that applied a position ≥ N in that bucket — the batch that applies N
    does — so that batches of other clients' events do not send every waiting query back to
    the database (under load, most of them).
    """

    WINDOW = 1024
    """Recent batches remembered; a waiter that fell further behind just looks again."""

    def __init__(self) -> None:
        self.current = 0
        self._recent: deque[tuple[int, Mapping[int, int] | None]] = deque(maxlen=self.WINDOW)
        self._moved: asyncio.Future[None] | None = None

    def advance(self, reached: Mapping[int, int] | None = None) -> None:
        """A batch committed; ``reached``: what it applied ({}: nothing, None: not known)."""
        self.current += 1
        self._recent.append((self.current, reached))
        moved, self._moved = self._moved, None
        if moved is not None and not moved.done():
            moved.set_result(None)

    def _arrived(self, seen: int, reaching: tuple[int, int] | None) -> bool:
        if self.current == seen:
            return False
        if reaching is None or not self._recent or self._recent[0][0] > seen + 1:
            return True
        bucket, position = reaching
        for generation, reached in reversed(self._recent):
            if generation <= seen:
                return False
            if reached is None or reached.get(bucket, -1) >= position:
                return True
        return False

    async def wait_past(self, seen: int, timeout: float, reaching: tuple[int, int] | None = None) -> None:
        """Return once a batch after ``seen`` has committed (when ``reaching`` = (bucket,
        position) is given, one that applied a position ≥ it in that bucket), or after
        ``timeout`` seconds."""
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


ANYTHING = "*"
"""The payload of a notification after which every waiter looks again (a rebuilt read model
swapped in)."""


def applied_payload(reached: Mapping[int, int]) -> str:
    """The NOTIFY payload of a batch: ``bucket:position`` pairs, space-separated ("" when it
    applied nothing). At most ``BUCKETS`` pairs: well under PostgreSQL's 8,000 bytes."""
    return " ".join(f"{bucket}:{position}" for bucket, position in reached.items())


def reached_of(payload: str) -> Mapping[int, int] | None:
    """A payload read back (None: not known, every waiter looks again). A bare position is what
    a replica of the earlier release sends during a rolling upgrade: its batch's highest
    position, in any bucket."""
    try:
        if ":" in payload:
            return {int(b): int(p) for b, p in (pair.split(":", 1) for pair in payload.split())}
        return dict.fromkeys(range(BUCKETS), int(payload)) if payload else {}
    except ValueError:
        return None


class AppliedNotifications:
    def __init__(
        self, dsn: str, reconnect_every: float = 5.0, poll_every: float = 0.25, look_every: float = 1.0
    ) -> None:
        """A waiter looks at the database again at least every ``poll_every`` seconds while
        nothing is heard (no LISTEN connection), and every ``look_every`` seconds while
        listening: notifications are not lost on a live connection, and a closed one wakes
        every waiter, so that look is only a safety net."""
        self._dsn = dsn
        self._conn: asyncpg.Connection | None = None
        self._batches = Generations()
        self._reconnect_every = reconnect_every
        self._poll_every, self._look_every = poll_every, look_every
        self._next_attempt = 0.0

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        self._batches.advance(reached_of(payload))

    def _on_closed(self, _conn: Any) -> None:
        self._batches.advance()  # batches may commit unheard from now: waiters look again

    @property
    def listening(self) -> bool:
        return self._conn is not None and not self._conn.is_closed()

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
            conn.add_termination_listener(self._on_closed)
            self._conn = conn
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("cannot LISTEN for applied batches; polling instead", error=repr(exc))
            return
        self._batches.advance()  # batches may have committed unheard: waiters look again

    async def wait(self, timeout: float, since: int, reaching: tuple[int, int] | None = None) -> None:
        """Return once a batch committed after ``since`` was read from :attr:`seen` (at once if
        one already has; for ``reaching`` = (bucket, position), one that applied a position ≥
        it in that bucket), or after ``timeout`` seconds — sooner to let the waiter look again:
        ``look_every`` while listening, ``poll_every`` while not."""
        await self.start()
        timeout = min(timeout, self._look_every if self.listening else self._poll_every)
        await self._batches.wait_past(since, timeout, reaching)

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()
