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
    the database (under load, most of them). It sleeps on its bucket's future, so those
    batches do not even resume it.
    """

    WINDOW = 1024
    """Recent batches remembered; a waiter that fell further behind just looks again."""

    def __init__(self) -> None:
        self.current = 0
        self._recent: deque[tuple[int, Mapping[int, int] | None]] = deque(maxlen=self.WINDOW)
        self._everyone: asyncio.Future[None] | None = None
        """Waiters woken by any batch (global queries, a client already at its position)."""
        self._bucket: dict[int, asyncio.Future[None]] = {}
        """Waiters for one client bucket, woken by batches that applied something in it."""

    def advance(self, reached: Mapping[int, int] | None = None) -> None:
        """A batch committed; ``reached``: what it applied ({}: nothing, None: not known)."""
        self.current += 1
        self._recent.append((self.current, reached))
        woken = [self._everyone]
        self._everyone = None
        if reached is None:
            woken += self._bucket.values()
            self._bucket = {}
        else:
            woken += (self._bucket.pop(b) for b in reached if b in self._bucket)
        for moved in woken:
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

    def _future(self, loop: asyncio.AbstractEventLoop, reaching: tuple[int, int] | None) -> asyncio.Future[None]:
        if reaching is None:
            if self._everyone is None:
                self._everyone = loop.create_future()
            return self._everyone
        bucket = reaching[0]
        if bucket not in self._bucket:
            self._bucket[bucket] = loop.create_future()
        return self._bucket[bucket]

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
            moved = self._future(loop, reaching)
            with suppress(TimeoutError):  # shielded: one waiter's timeout must not cancel the others'
                await asyncio.wait_for(asyncio.shield(moved), remaining)


ANYTHING = "*"
"""The payload of a notification after which every waiter looks again (a rebuilt read model
swapped in)."""


def applied_payload(reached: Mapping[int, int]) -> str:
    """The NOTIFY payload of a batch: the bucket count, then ``bucket:position`` pairs
    (``64/3:1200 17:1187``; ``64/`` when it applied nothing). At most ``BUCKETS`` pairs, about
    1.5 kB at the largest positions: well under PostgreSQL's 8,000 bytes."""
    return f"{BUCKETS}/" + " ".join(f"{bucket}:{position}" for bucket, position in reached.items())


def reached_of(payload: str) -> Mapping[int, int] | None:
    """A payload read back; None: not known, every waiter looks again (``*``, a malformed
    payload, or one counting buckets differently — a later release — so that disagreeing
    replicas cost looks, never a wake-up slept through). A bare position is what the earlier
    release sends during a rolling upgrade: its batch's highest position, in any bucket; ""
    is a batch that applied nothing (or the earlier release's swap: waiters look within
    ``look_every``)."""
    try:
        if "/" in payload:
            count, pairs = payload.split("/", 1)
            if int(count) != BUCKETS:
                return None
            reached: dict[int, int] = {}
            for pair in pairs.split():
                bucket, position = (int(x) for x in pair.split(":"))
                if not 0 <= bucket < BUCKETS:
                    return None
                reached[bucket] = max(position, reached.get(bucket, position))
            return reached
        return dict.fromkeys(range(BUCKETS), int(payload)) if payload else {}
    except ValueError:
        return None


class AppliedNotifications:
    def __init__(
        self,
        dsn: str,
        reconnect_every: float = 5.0,
        poll_every: float = 0.25,
        look_every: float = 1.0,
        check_every: float = 5.0,
        connect_timeout: float = 2.0,
    ) -> None:
        """A waiter looks at the database again at least every ``poll_every`` seconds while
        nothing is heard (no LISTEN connection), and every ``look_every`` seconds while
        listening: notifications are not lost on a live connection, and a closed one wakes
        every waiter. A connection cut without a reset (failover, an idle timeout on the way)
        stays "open", so after ``check_every`` seconds with nothing heard a ``SELECT 1`` with
        a timeout checks it, and a dead one is dropped and dialled again."""
        self._dsn = dsn
        self._conn: asyncpg.Connection | None = None
        self._batches = Generations()
        self._reconnect_every, self._connect_timeout = reconnect_every, connect_timeout
        self._poll_every, self._look_every, self._check_every = poll_every, look_every, check_every
        self._next_attempt = 0.0
        self._heard = 0.0
        self._checking: asyncio.Task[None] | None = None

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        self._heard = asyncio.get_running_loop().time()
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
        if self.listening:
            if loop.time() - self._heard > self._check_every and (self._checking is None or self._checking.done()):
                self._checking = asyncio.create_task(self._check(), name="projections-listen-check")
            return
        if loop.time() < self._next_attempt:
            return
        self._next_attempt = loop.time() + self._reconnect_every
        try:
            conn = await asyncpg.connect(self._dsn, timeout=self._connect_timeout)
            await conn.add_listener(NOTIFY_CHANNEL, self._on_notify)
            conn.add_termination_listener(self._on_closed)
            self._conn, self._heard = conn, loop.time()
        except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
            log.warning("cannot LISTEN for applied batches; polling instead", error=repr(exc))
            return
        self._batches.advance()  # batches may have committed unheard: waiters look again

    async def _check(self) -> None:
        conn = self._conn
        if conn is None:
            return
        try:
            await asyncio.wait_for(conn.fetchval("SELECT 1"), self._connect_timeout)
            self._heard = asyncio.get_running_loop().time()
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("the LISTEN connection does not answer; dialling again", error=repr(exc))
            conn.terminate()
            if self._conn is conn:
                self._conn = None
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
        if self._checking is not None:
            self._checking.cancel()
            with suppress(asyncio.CancelledError):
                await self._checking
        if conn is not None:
            await conn.close()
