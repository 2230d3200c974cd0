"""Waiting queries share Kafka's end offsets only when the request was sent after each asked
(read-your-writes rule (b)): one ListOffsets per round trip under load, not one per query."""

from __future__ import annotations

import asyncio

import pytest

from services.projections.adapters.kafka_offsets import EndOffsets
from shared.kafka_security import plaintext


class Counted(EndOffsets):
    def __init__(self) -> None:
        super().__init__(plaintext("127.0.0.1:1"), ("t",), "test")
        self.sent: list[int] = []
        self.asked = 0
        self.answer = asyncio.Event()

    async def _ask(self) -> dict[tuple[str, int], int]:
        self.sent.append(self.asked)  # how many callers had asked when this request went out
        n = len(self.sent)
        await self.answer.wait()
        return {("t", 0): n}

    async def __call__(self) -> dict[tuple[str, int], int]:
        self.asked += 1
        return await super().__call__()


async def test_callers_during_a_request_share_the_next_one_sent_after_they_asked() -> None:
    ends = Counted()
    first = asyncio.create_task(ends())
    await asyncio.sleep(0)
    later = [asyncio.create_task(ends()) for _ in range(5)]
    await asyncio.sleep(0.01)
    assert ends.sent == [1]  # the five wait: the request in flight may predate them
    ends.answer.set()
    assert await first == {("t", 0): 1}
    assert [await t for t in later] == [{("t", 0): 2}] * 5
    assert ends.sent == [1, 6]  # one more request, sent after all six had asked


async def test_a_caller_that_gives_up_does_not_fail_the_others() -> None:
    ends = Counted()
    impatient = asyncio.create_task(ends())
    patient = asyncio.create_task(ends())
    await asyncio.sleep(0.01)
    impatient.cancel()
    ends.answer.set()
    assert await patient == {("t", 0): 1}


async def test_a_failed_request_fails_everyone_who_shared_it_and_the_next_one_is_asked_afresh() -> None:
    class Failing(Counted):
        async def _ask(self) -> dict[tuple[str, int], int]:
            if not self.sent:
                self.sent.append(self.asked)
                await self.answer.wait()
                raise ConnectionError("broker gone")
            return await super()._ask()

    ends = Failing()
    sharers = [asyncio.create_task(ends()) for _ in range(3)]
    await asyncio.sleep(0.01)
    ends.answer.set()
    results = await asyncio.gather(*sharers, return_exceptions=True)
    assert all(isinstance(r, ConnectionError) for r in results)
    assert await ends() == {("t", 0): 2}


async def test_close_cancels_what_is_in_flight_and_waiting() -> None:
    ends = Counted()
    first = asyncio.create_task(ends())
    await asyncio.sleep(0)
    second = asyncio.create_task(ends())
    await asyncio.sleep(0.01)
    await ends.close()
    for caller in (first, second):
        with pytest.raises(asyncio.CancelledError):
            await caller
    assert not ends._requests
