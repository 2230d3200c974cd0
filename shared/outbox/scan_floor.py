"""The relay's scan floor: an outbox id below which no row is left, or will ever be committed.

The outbox is a queue: rows are inserted at the right of the primary key and deleted from its
left within milliseconds. After a large drain the left of the index is dead entries until a
vacuum removes them, and every relay transaction began with an ``ORDER BY id LIMIT n`` from
there (at docs/design.md §7 scale: recorded → produced p50 161 ms at 50 commands/s, against
10.6 ms at quick scale; bench/results/notes-20261203-full-scale-evening.md). The relay's scans
start at the floor instead, so what a drain left behind is walked once, not once a wake-up.

The last published id is not a floor: ids are drawn at insert and commits land in another
order, so a row with a smaller id can still be committed (by a writer of another key) after
larger ones were published. The floor is raised in two steps, at least ``every`` seconds apart:

1. **A candidate**: ``L``, the highest id the sequence has handed out, then the virtual
   transaction ids of every client transaction running in this database, read in that order.
   A row with an id at or below ``L`` was drawn before ``L`` was read, by a transaction that
   was running then: it is among them, unless it had already ended.
2. **The raise**, once none of them is running and no prepared transaction is pending: every
   row with an id at or below ``L`` that will ever be committed is committed, and a statement
   that starts now sees it (a transaction ends in the process array before it releases its
   virtual id's lock; ``CREATE INDEX CONCURRENTLY`` waits for older transactions the same way).
   The new floor is the least of ``L + 1``, the first outbox row at or above the floor and the
   first quarantined row — a released row goes back under its own id
   (:func:`shared.outbox.quarantine.release`), so the floor never passes one.

The floor lives in memory and is the same fact for every relay of the database: a restarted
relay (or a new leader) starts at 0 and walks the dead entries once. It only rises, except when
the database is no longer the one it was read from: a sequence found below the floor (a database
restored from a backup) or any failure of the relay (a lost connection, PostgreSQL restarted)
sends it back to 0.

Assumptions, checked where they can be: the sequence hands out one value at a time (``CACHE
1``, bigserial's default; with a session cache an id is drawn long before it is used, and the
floor stays at 0); only client sessions write the outbox (autovacuum workers are not waited
for, so a vacuum of the events table does not hold the floor back).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import asyncpg

from shared.logging import get_logger

log = get_logger("outbox.scan_floor")

EVERY = 1.0
"""Seconds between two steps: the floor trails the published ids by about twice this."""

HIGHEST_DRAWN = """
    SELECT CASE WHEN s.is_called THEN s.last_value ELSE s.last_value - 1 END AS drawn, q.seqcache AS cache
    FROM outbox_id_seq s, pg_sequence q
    WHERE q.seqrelid = 'outbox_id_seq'::regclass"""
"""``L``: the last id handed out (a fresh sequence has handed out none: ``is_called`` is false)."""

RUNNING = """
    SELECT coalesce(array_agg(l.virtualxid), '{}')
    FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
    WHERE l.locktype = 'virtualxid' AND l.mode = 'ExclusiveLock' AND l.granted
      AND a.backend_type = 'client backend' AND a.datname = current_database()
      AND l.pid <> pg_backend_pid()"""
"""The virtual transaction ids of the client transactions running in this database now."""

STILL_RUNNING = """
    SELECT EXISTS (SELECT 1 FROM pg_locks
                   WHERE locktype = 'virtualxid' AND mode = 'ExclusiveLock' AND virtualxid = ANY($1::text[]))
        OR EXISTS (SELECT 1 FROM pg_prepared_xacts WHERE database = current_database())"""

RAISED = """
    SELECT least($1::bigint + 1,
                 (SELECT min(id) FROM outbox WHERE id >= $2),
                 (SELECT min(id) FROM outbox_quarantine))"""
"""The new floor; run only after every transaction of the candidate has ended."""


@dataclass(frozen=True)
class Candidate:
    drawn: int  # L
    running: list[str]  # the virtual transaction ids running when L had been read


class ScanFloor:
    def __init__(self, every: float = EVERY) -> None:
        self.value = 0
        self._every = every
        self._candidate: Candidate | None = None
        self._stepped_at = float("-inf")
        self._disabled = False

    def due(self) -> bool:
        return not self._disabled and time.monotonic() - self._stepped_at >= self._every

    def reset(self) -> None:
        """Back to 0: the next scans start at the left of the primary key again."""
        self.value = 0
        self._candidate = None

    async def step(self, pool: asyncpg.Pool) -> int:
        """Raise the floor if the candidate's transactions have all ended, then take the next
        candidate. Returns the floor."""
        self._stepped_at = time.monotonic()
        async with pool.acquire() as conn:
            candidate = self._candidate
            if candidate is not None and not await conn.fetchval(STILL_RUNNING, candidate.running):
                raised = await conn.fetchval(RAISED, candidate.drawn, self.value)
                self.value = max(self.value, raised)
                self._candidate = None
            if self._candidate is None:
                row = await conn.fetchrow(HIGHEST_DRAWN)
                if row["drawn"] + 1 < self.value:
                    log.warning(
                        "the outbox id sequence is below the scan floor: back to 0",
                        drawn=row["drawn"],
                        floor=self.value,
                    )
                    self.reset()
                    return self.value
                if row["cache"] != 1:
                    self._disabled = True
                    log.warning(
                        "the outbox id sequence caches ids per session: the scan floor stays at 0", cache=row["cache"]
                    )
                    return self.value
                self._candidate = Candidate(row["drawn"], await conn.fetchval(RUNNING))
        return self.value
