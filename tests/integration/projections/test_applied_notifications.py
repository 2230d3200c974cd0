"""The wake-ups of ``min_position`` waits through real PostgreSQL: a batch's NOTIFY, written by
the read-model store in its transaction, wakes a waiter of its client bucket on commit and not
one of another bucket; a LISTEN connection the server drops wakes every waiter, and the next
wait listens again; one that goes silent without a reset is found by its check and dialled
again. (The waits also look at least once a second whatever they hear, so the
read-your-writes tests would pass on a broken payload, only slower: these use a long look.)"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit
from uuid import uuid4

import asyncpg

from services.projections.adapters.db import with_search_path
from services.projections.adapters.notifications import AppliedNotifications
from services.projections.adapters.store import ReadModelStore
from tests.support.tcp_proxy import TcpProxy, through

HIGH = 10**15
"""A position no real batch of the test session reaches: only the test's own NOTIFY wakes."""


def listener(dsn: str, name: str) -> AppliedNotifications:
    return AppliedNotifications(
        f"{dsn}{'&' if '?' in dsn else '?'}application_name={name}", look_every=60.0, reconnect_every=0.0
    )


async def commit_batch(dsn: str, reached: dict[int, int]) -> None:
    conn = await asyncpg.connect(with_search_path(dsn, "projections"))
    try:
        store = ReadModelStore()
        async with conn.transaction():
            await store.save_offsets(conn, {}, notify=True, reached=reached)
    finally:
        await conn.close()


async def test_a_batch_wakes_the_waiters_of_its_bucket_and_no_other(projections_dsn) -> None:
    heard = listener(projections_dsn, f"wakeups-{uuid4().hex[:8]}")
    await heard.start()
    try:
        assert heard.listening
        seen = heard.seen
        mine = asyncio.create_task(heard.wait(30.0, since=seen, reaching=(7, HIGH)))
        other = asyncio.create_task(heard.wait(30.0, since=seen, reaching=(8, HIGH)))
        await asyncio.sleep(0.1)
        await commit_batch(projections_dsn, {7: HIGH, 3: 5})
        await asyncio.wait_for(mine, 5.0)
        await asyncio.sleep(0.3)
        assert not other.done()  # bucket 8 heard nothing it waits for
        other.cancel()
    finally:
        await heard.close()


async def test_a_dropped_listen_connection_wakes_every_waiter_and_the_next_wait_listens_again(
    projections_dsn,
) -> None:
    name = f"wakeups-{uuid4().hex[:8]}"
    heard = listener(projections_dsn, name)
    await heard.start()
    admin = await asyncpg.connect(projections_dsn)
    try:
        seen = heard.seen
        waiters = [asyncio.create_task(heard.wait(30.0, since=seen, reaching=(b, HIGH))) for b in (1, 2)]
        await asyncio.sleep(0.1)
        dropped = await admin.fetchval(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = $1) t",
            name,
        )
        assert dropped == 1
        await asyncio.wait_for(asyncio.gather(*waiters), 5.0)  # batches may now commit unheard

        await heard.start()  # what the next wait does first: dial again
        assert heard.listening
        seen = heard.seen
        again = asyncio.create_task(heard.wait(30.0, since=seen, reaching=(5, HIGH)))
        other = asyncio.create_task(heard.wait(30.0, since=seen, reaching=(6, HIGH)))
        await asyncio.sleep(0.1)
        await commit_batch(projections_dsn, {5: HIGH})
        await asyncio.wait_for(again, 5.0)  # heard on the new connection
        await asyncio.sleep(0.3)
        assert not other.done()
        other.cancel()
    finally:
        await admin.close()
        await heard.close()


async def test_a_listen_connection_gone_silent_is_checked_wakes_every_waiter_and_is_dialled_again(
    projections_dsn,
) -> None:
    """A connection cut without a reset (a failover, a dropped NAT entry) stays "open" and
    hears nothing: after ``check_every`` seconds of silence a ``SELECT 1`` that gets no answer
    drops it, which wakes the waiters, and the next wait dials again."""
    target = urlsplit(projections_dsn)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 5432)
    await proxy.start()
    heard = AppliedNotifications(
        through(projections_dsn, proxy.port), look_every=60.0, reconnect_every=0.0, check_every=0.5, connect_timeout=1.0
    )
    try:
        await heard.start()
        assert heard.listening
        proxy.stall()
        seen = heard.seen
        waiter = asyncio.create_task(heard.wait(30.0, since=seen, reaching=(3, HIGH)))
        await asyncio.sleep(0.1)
        await commit_batch(projections_dsn, {3: HIGH})  # its NOTIFY is held in the silent connection
        await asyncio.sleep(0.6)
        assert not waiter.done() and heard.listening  # nothing says the connection is dead yet

        await heard.start()  # what any wait does first: silent for over check_every, so check it
        await asyncio.wait_for(waiter, 5.0)  # the check got no answer: every waiter looks again
        assert not heard.listening

        proxy.resume()
        await heard.start()
        assert heard.listening
        seen = heard.seen
        again = asyncio.create_task(heard.wait(30.0, since=seen, reaching=(4, HIGH)))
        await asyncio.sleep(0.1)
        await commit_batch(projections_dsn, {4: HIGH})
        await asyncio.wait_for(again, 5.0)  # heard on the new connection
    finally:
        proxy.resume()
        await heard.close()
        await proxy.cut()
