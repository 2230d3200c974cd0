"""Read-your-writes wake-ups: a batch committing while a query looks at the database must
end that query's next wait at once (it used to sleep a whole poll interval)."""

import asyncio
from uuid import UUID

from services.projections.adapters.notifications import (
    ANYTHING,
    AppliedNotifications,
    Generations,
    applied_payload,
    reached_of,
)
from services.projections.application.reached import BUCKETS, note_applied


async def test_a_batch_committed_during_the_look_ends_the_wait_at_once() -> None:
    batches = Generations()
    seen = batches.current  # read before looking at the database
    batches.advance()  # the batch commits while the query looks
    loop = asyncio.get_running_loop()
    started = loop.time()
    await batches.wait_past(seen, timeout=5.0)
    assert loop.time() - started < 0.1


async def test_every_waiter_wakes_on_the_next_batch_and_a_timeout_wakes_only_its_own() -> None:
    batches = Generations()
    seen = batches.current
    impatient = asyncio.create_task(batches.wait_past(seen, timeout=0.01))
    patient = [asyncio.create_task(batches.wait_past(seen, timeout=5.0)) for _ in range(3)]
    await impatient
    assert not any(t.done() for t in patient)
    batches.advance()
    await asyncio.wait_for(asyncio.gather(*patient), 1.0)


async def test_no_batch_means_waiting_the_whole_timeout() -> None:
    batches = Generations()
    loop = asyncio.get_running_loop()
    started = loop.time()
    await batches.wait_past(batches.current, timeout=0.05)
    assert loop.time() - started >= 0.04


async def test_a_client_waiter_sleeps_through_batches_below_its_position() -> None:
    batches = Generations()
    seen = batches.current
    waiter = asyncio.create_task(batches.wait_past(seen, timeout=5.0, reaching=(7, 100)))
    everyone = asyncio.create_task(batches.wait_past(seen, timeout=5.0))
    batches.advance({7: 99})  # the client's bucket, all before 100
    batches.advance({})  # a batch that applied nothing
    await asyncio.wait_for(everyone, 1.0)  # a global waiter looks again on any batch
    await asyncio.sleep(0.01)
    assert not waiter.done()
    batches.advance({7: 140})  # the batch that can hold position 100
    await asyncio.wait_for(waiter, 1.0)


async def test_a_client_waiter_sleeps_through_other_buckets_whatever_their_positions() -> None:
    """Under load nearly every batch applies some position above a waiter's: only one in its
    own client's bucket can have answered it."""
    batches = Generations()
    seen = batches.current
    waiter = asyncio.create_task(batches.wait_past(seen, timeout=5.0, reaching=(7, 100)))
    for bucket in range(BUCKETS):
        if bucket != 7:
            batches.advance({bucket: 10_000 + bucket})
    await asyncio.sleep(0.01)
    assert not waiter.done()
    batches.advance({3: 500, 7: 100})
    await asyncio.wait_for(waiter, 1.0)


async def test_a_batch_of_unknown_reach_wakes_every_waiter() -> None:
    """A rebuilt read model swapped in, or a lost LISTEN connection: anything may have changed."""
    batches = Generations()
    seen = batches.current
    waiter = asyncio.create_task(batches.wait_past(seen, timeout=5.0, reaching=(7, 100)))
    await asyncio.sleep(0.01)
    batches.advance(reached_of(ANYTHING))
    await asyncio.wait_for(waiter, 1.0)


async def test_a_waiter_further_behind_than_the_window_looks_again() -> None:
    batches = Generations()
    seen = batches.current
    for _ in range(Generations.WINDOW + 5):
        batches.advance({7: 1})
    await asyncio.wait_for(batches.wait_past(seen, timeout=5.0, reaching=(7, 100)), 1.0)


def test_the_payload_carries_each_buckets_highest_position() -> None:
    reached: dict[int, int] = {}
    a, b = UUID(int=BUCKETS * 5 + 7), UUID(int=BUCKETS * 9 + 7)  # both in bucket 7
    note_applied(reached, [(a, 120), (b, 101), (UUID(int=3), 90), (UUID(int=4), None)])
    assert reached == {7: 120, 3: 90}
    assert reached_of(applied_payload(reached)) == reached
    assert reached_of("") == {}  # a batch that applied nothing
    assert reached_of(ANYTHING) is None


def test_every_bucket_fits_one_notification() -> None:
    """PostgreSQL refuses a NOTIFY payload of 8,000 bytes or more."""
    assert len(applied_payload(dict.fromkeys(range(BUCKETS), 2**63 - 1))) < 8000


def test_an_earlier_releases_payload_reads_as_its_highest_position_in_every_bucket() -> None:
    """During a rolling upgrade a replica of the earlier release sends a bare position."""
    reached = reached_of("1234")
    assert reached is not None and set(reached) == set(range(BUCKETS)) and set(reached.values()) == {1234}


def test_a_payload_counting_buckets_differently_wakes_every_waiter() -> None:
    """A later release with another bucket count: replicas that disagree cost looks, never a
    wake-up slept through."""
    assert reached_of(f"{BUCKETS * 2}/3:100") is None
    assert reached_of(f"{BUCKETS}/{BUCKETS}:100") is None  # no such bucket
    assert reached_of(f"{BUCKETS}/3:100 junk") is None
    assert reached_of(f"{BUCKETS}/3:100 3:50") == {3: 100}  # the highest of a bucket counts


async def test_a_waiter_for_one_bucket_is_not_even_resumed_by_other_buckets() -> None:
    batches = Generations()
    seen = batches.current
    resumed = 0
    original = batches._arrived

    def counting(seen: int, reaching: tuple[int, int] | None) -> bool:
        nonlocal resumed
        resumed += 1
        return original(seen, reaching)

    batches._arrived = counting  # type: ignore[method-assign]  # counts the waiter's looks at the batches
    waiter = asyncio.create_task(batches.wait_past(seen, timeout=5.0, reaching=(7, 100)))
    await asyncio.sleep(0.01)
    for n in range(50):
        batches.advance({8: 1_000 + n})
        await asyncio.sleep(0)
    assert resumed == 1 and not waiter.done()  # the look before it slept, none since
    batches.advance({7: 100})
    await asyncio.wait_for(waiter, 1.0)


async def test_without_a_listen_connection_a_waiter_polls() -> None:
    """Nothing listening (PostgreSQL unreachable): the wait ends after ``poll_every``, so the
    query looks at the database again instead of sleeping its whole wait."""
    heard = AppliedNotifications("postgresql://nobody@127.0.0.1:1/none", poll_every=0.05, connect_timeout=0.5)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await heard.wait(5.0, since=heard.seen, reaching=(7, 100))
    assert not heard.listening and loop.time() - started < 2.0
    await heard.close()


async def test_a_closed_listen_connection_wakes_every_waiter() -> None:
    heard = AppliedNotifications("postgresql://nobody@127.0.0.1:1/none")
    seen = heard.seen
    waiters = [asyncio.create_task(heard._batches.wait_past(seen, 5.0, (b, 100))) for b in (1, 2, 3)]
    await asyncio.sleep(0.01)
    heard._on_closed(None)  # what asyncpg calls when the connection goes
    await asyncio.wait_for(asyncio.gather(*waiters), 1.0)
