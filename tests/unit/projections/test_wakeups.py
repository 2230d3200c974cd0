"""Read-your-writes wake-ups: a batch committing while a query looks at the database must
end that query's next wait at once (it used to sleep a whole poll interval)."""

import asyncio

from services.projections.adapters.notifications import Generations


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
    waiter = asyncio.create_task(batches.wait_past(seen, timeout=5.0, reaching=100))
    everyone = asyncio.create_task(batches.wait_past(seen, timeout=5.0))
    batches.advance(99)  # other clients' events, all before 100
    batches.advance(float("-inf"))  # a batch that applied nothing
    await asyncio.wait_for(everyone, 1.0)  # a global waiter looks again on any batch
    await asyncio.sleep(0.01)
    assert not waiter.done()
    batches.advance(140)  # the batch that can hold position 100
    await asyncio.wait_for(waiter, 1.0)


async def test_a_waiter_further_behind_than_the_window_looks_again() -> None:
    batches = Generations()
    seen = batches.current
    for _ in range(Generations.WINDOW + 5):
        batches.advance(1)
    await asyncio.wait_for(batches.wait_past(seen, timeout=5.0, reaching=100), 1.0)
