"""Which waiting queries a committed batch can have answered: positions applied, by client bucket.

A query waiting for client C's ``min_position`` N can only be answered by a batch that applied
an event of C at a position ≥ N. Positions are global, though, and the partitions are
consumed side by side, so under load nearly every batch applies *some* position ≥ N: a waiter
woken by the batch's highest position alone went back to the database after almost every
batch of other clients' events (issue 20: the looks cost more than the query).

So a batch reports the highest position it applied per bucket of clients (``bucket_of``: the
client id modulo ``BUCKETS``), and a waiter wakes only for its own client's bucket. The buckets
depend on nothing but the client id, so the writer and the waiter agree whatever the topics'
partitioning.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

BUCKETS = 64
"""One notification names at most this many (bucket, position) pairs: about 1.5 kB at most."""


def bucket_of(client_id: UUID) -> int:
    return client_id.int % BUCKETS


def note_applied(reached: dict[int, int], applied: Iterable[tuple[UUID, int | None]]) -> None:
    """Raise ``reached`` (the highest position applied per bucket) by the (client id, position)
    of applied events."""
    for client_id, position in applied:
        if position is None:
            continue
        bucket = bucket_of(client_id)
        if position > reached.get(bucket, -1):
            reached[bucket] = position
