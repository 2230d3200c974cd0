"""Outbox rows the broker refuses for good: moved aside so the rest of the outbox goes on.

A row the broker will never take — larger than the topic's ``max.message.bytes``, for a topic
that does not exist, refused by the topic's ACL — used to be retried forever, and nothing
behind it was published (issue 15). Now:

* a batch failing with one of :data:`REFUSED_FOR_GOOD` is published again row by row
  (:func:`isolate`); the first row refused again on its own is moved, with the broker's error,
  to ``outbox_quarantine`` (logged, ``relay_quarantined_total``), the rows before it are
  published and deleted as usual;
* per-key order holds: while a key has a quarantined row, the relay leaves every later row of
  that key in the outbox (:data:`SELECT_BATCH`); :func:`report` counts them for the service's
  readiness page;
* an operator fixes the cause (creates the topic, raises the limit) and calls :func:`release`
  with ``retry`` — the row goes back under its own id, ahead of the rows that waited behind
  it — or ``discard``.

A failure of any other kind (broker down, timeout) rolls the batch back and is retried, as
before: only the broker's own "never" moves a row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    InvalidTopicError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
    TopicAuthorizationFailedError,
    UnknownTopicOrPartitionError,
)
from prometheus_client import Counter

from shared.logging import get_logger
from shared.outbox.messages import NOTIFY_CHANNEL

log = get_logger("outbox.quarantine")

QUARANTINED = Counter("relay_quarantined_total", "Outbox rows the broker refused for good, quarantined", ["service"])

REFUSED_FOR_GOOD: tuple[type[Exception], ...] = (
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
    UnknownTopicOrPartitionError,
    InvalidTopicError,
    TopicAuthorizationFailedError,
)
"""Errors the same row meets again on every try; any other error is a passing outage."""

_NOT_WAITING = "NOT EXISTS (SELECT 1 FROM outbox_quarantine q WHERE q.key = o.key)"

SELECT_BATCH = f"""
    SELECT id, topic, key, payload, headers FROM outbox o
    WHERE id >= $2 AND {_NOT_WAITING}
    ORDER BY id LIMIT $1"""
"""The next rows in id order from the scan floor $2 (``shared.outbox.scan_floor``), but none of a
key with a quarantined row (they wait behind it)."""

DELETE_AND_SELECT_AFTER = f"""
    WITH published AS (DELETE FROM outbox WHERE id = ANY($1::bigint[]))
    SELECT id, topic, key, payload, headers FROM outbox o
    WHERE id > $2 AND {_NOT_WAITING}
    ORDER BY id LIMIT $3"""
"""Delete rows Kafka acknowledged ($1) and read the next rows after id $2, in one round trip.

A row with a smaller id that commits later is left for the next transaction's
:data:`SELECT_BATCH`, and so are its key's later rows: they commit after it (writers lock per
key), after the relay transaction's one snapshot (it is REPEATABLE READ), so none of them can
go ahead of it. Under READ COMMITTED this read would see the key's later row and not the
earlier one (``test_a_row_that_commits_late_goes_before_its_keys_later_rows_even_mid_transaction``)."""

MOVE = """
    WITH moved AS (DELETE FROM outbox WHERE id = $1 RETURNING *)
    INSERT INTO outbox_quarantine (id, topic, key, event_id, payload, headers, created_at, error)
    SELECT id, topic, key, event_id, payload, headers, created_at, $2 FROM moved"""


async def isolate(
    conn: asyncpg.Connection,
    producer: AIOKafkaProducer,
    rows: Sequence[asyncpg.Record],
    service: str,
    publish: Any,
) -> tuple[int, int]:
    """Publish ``rows`` one at a time, in order, inside the caller's transaction; stop at the
    first one refused for good and quarantine it. Returns (published, quarantined).

    ``publish(producer, rows)`` is the relay's own sender. Rows of the refused row's key after
    it are not sent (they wait behind it); the rows already sent are deleted by the caller.
    """
    published: list[int] = []
    for row in rows:
        try:
            await publish(producer, [row])
        except REFUSED_FOR_GOOD as exc:
            await conn.execute("DELETE FROM outbox WHERE id = ANY($1::bigint[])", published)
            error = f"{type(exc).__name__}: {exc}"[:1000]
            await conn.execute(MOVE, row[0], error)
            QUARANTINED.labels(service).inc()
            log.error(
                "outbox row refused by the broker for good: quarantined; later rows of its key wait",
                outbox_id=row[0],
                topic=row[1],
                key=row[2],
                bytes=len(row[3]),
                error=error,
            )
            return len(published), 1
        published.append(row[0])
    await conn.execute("DELETE FROM outbox WHERE id = ANY($1::bigint[])", published)
    return len(published), 0


WAITING = """
    SELECT count(*) FROM outbox o
    WHERE o.id > $1 AND EXISTS (SELECT 1 FROM outbox_quarantine q WHERE q.key = o.key)"""
"""The rows the relay holds back, found from the first quarantined row's id on along the primary
key: a walk over the whole outbox would read every page a large drain left behind (the table
keeps its size until a vacuum truncates it — 800 MB after a million rows, a few seconds a read
at docs/design.md §7 scale — and readiness probes give up after a second or two). A row of
a held key with a smaller id would have been published before the quarantined one; only one
still uncommitted when the relay passed its id could wait there, uncounted."""


async def report(pool: asyncpg.Pool) -> dict[str, int]:
    """What the readiness page shows: quarantined rows and the rows waiting behind them. With
    nothing quarantined (the usual case) the outbox is not read at all."""
    row = await pool.fetchrow("SELECT count(*) AS quarantined, min(id) AS first FROM outbox_quarantine")
    assert row is not None
    waiting = await pool.fetchval(WAITING, row["first"]) if row["quarantined"] else 0
    return {"quarantined": row["quarantined"], "waiting_behind_quarantine": waiting}


async def release(pool: asyncpg.Pool, outbox_id: int, action: Literal["retry", "discard"]) -> bool:
    """``retry``: back into the outbox under its own id (so ahead of the rows that waited);
    ``discard``: dropped for good (the event stays in the event store). False: no such row."""
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow("DELETE FROM outbox_quarantine WHERE id = $1 RETURNING *", outbox_id)
        if row is None:
            return False
        if action == "retry":
            await conn.execute(
                """INSERT INTO outbox (id, topic, key, event_id, payload, headers, created_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7)""",
                row["id"],
                row["topic"],
                row["key"],
                row["event_id"],
                row["payload"],
                row["headers"],
                row["created_at"],
            )
            await conn.execute("SELECT pg_notify($1, '')", NOTIFY_CHANNEL)
    log.info("quarantined outbox row released", outbox_id=outbox_id, action=action)
    return True
