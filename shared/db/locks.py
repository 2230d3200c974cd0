"""Every PostgreSQL advisory lock Abonent takes: its id, who takes it, and why.

Advisory locks are per database. PostgreSQL keeps one-key (``bigint``) and two-key
(``int, int``) locks in separate spaces, so ``PARTITION_LOCK_CLASS`` cannot meet a one-key id.
The fixed ids share the prefix ``0x0AB0`` ("AB0nent") so that they are easy to spot in
``pg_locks``; a partition key's lock (``key_lock``) is a 64-bit hash, which meets one of the
fixed ids with a probability of about 4 in 2**64 — a wait, never a wrong answer.

| lock | database | taken by | how |
|---|---|---|---|
| ``MIGRATION_LOCK`` | every service's | ``shared.db.migrations`` | per session (polled), exclusive |
| ``key_lock(key)`` | contracts, tickets | eventstore append, append_many (ascending) | per transaction, exclusive |
| ``RELAY_LOCK`` | contracts, tickets | ``shared.outbox.relay`` | try, per transaction |
| ``SWAP_LOCK`` | projections | live batches (shared), rebuild swap (exclusive) | per transaction / session |
| ``REBUILD_LOCK`` | projections | ``cli rebuild`` / ``cli check`` | try, per session |
| ``(PARTITION_LOCK_CLASS, n)`` | projections | live batches, per Kafka partition ``n`` | per transaction |
"""

from __future__ import annotations

import hashlib

MIGRATION_LOCK = 0x0AB0_7E57_0001
"""Migrating this database: two starters at once (the launcher and a service's start-up, or
two replicas) never apply a file twice; each re-checks ``schema_migrations`` under it."""

RELAY_LOCK = 0x0AB0_0E17
"""The outbox relay of this database: one relay publishes at a time, so messages leave in
order; another replica (or a restarted process) finds it taken and waits its turn."""

SWAP_LOCK = 0x0AB0_5A7E
"""Every live projections batch holds it *shared* for its transaction; the rebuild takes it
*exclusive* to catch up and swap schemas, so no batch commits into a schema being replaced."""

REBUILD_LOCK = 0x0AB0_5A7F
"""Held for a whole projections rebuild/check run: one at a time."""

PARTITION_LOCK_CLASS = 0x0AB0
"""Two-key locks ``(class, partition number)``. The projections consumer reads two
co-partitioned topics (same key, same partition count) with the range assignor, so one member
owns partition N of both; the lock serialises two members that briefly both own it during a
rebalance."""


def key_lock(partition_key: str) -> int:
    """The lock of a partition key (a client): appends for one key insert — and so commit and
    publish — in order. A stable signed 64-bit hash, computed here rather than with
    ``hashtextextended`` in SQL so that it can be taken in the same round trip as BEGIN (a plain
    integer is safe to put in the query text)."""
    return int.from_bytes(hashlib.blake2b(partition_key.encode(), digest_size=8).digest(), "big", signed=True)
