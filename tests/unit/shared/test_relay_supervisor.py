"""Issue 15: the in-process relay task could die (an error nobody expected) while the service
stayed ready and its outbox grew. The supervisor notices, restarts it with back-off, and the
readiness report is not ready while it is down."""

from __future__ import annotations

import asyncio

from shared.backoff import Backoff
from shared.outbox.supervisor import RELAY_UP, SupervisedRelay, readiness_report


class DyingRelay:
    """Dies ``deaths`` times with an error the relay does not handle, then runs until stopped."""

    service = "test-supervisor"

    def __init__(self, deaths: int) -> None:
        self.deaths, self.runs = deaths, 0
        self.stopping = asyncio.Event()
        self.may_die = asyncio.Event()

    async def run(self) -> None:
        self.runs += 1
        if self.runs <= self.deaths:
            await self.may_die.wait()
            raise RuntimeError("an error nobody expected")
        await self.stopping.wait()

    def stop(self) -> None:
        self.stopping.set()


class NoQuarantine:
    async def fetchrow(self, sql: str) -> dict[str, int]:
        return {"quarantined": 0, "waiting": 0}


async def test_a_dead_relay_is_noticed_reported_and_restarted() -> None:
    relay = DyingRelay(deaths=1)
    supervised = SupervisedRelay(relay, NoQuarantine(), Backoff(0.3, 0.3))  # type: ignore[arg-type]  # fakes of the relay and pool
    report = readiness_report(lambda: supervised)
    gauge = RELAY_UP.labels("test-supervisor")
    task = asyncio.create_task(supervised.run())
    try:
        await asyncio.sleep(0.05)
        assert (await report())[0] is True and gauge._value.get() == 1
        relay.may_die.set()
        await asyncio.sleep(0.1)  # dead, waiting for the back-off
        ready, details = await report()
        assert ready is False and details["up"] is False and "nobody expected" in details["last_error"]
        assert gauge._value.get() == 0
        await asyncio.sleep(0.4)  # restarted after the back-off
        ready, details = await report()
        assert ready is True and details["restarts"] == 1 and relay.runs == 2
        assert details["quarantined"] == 0
    finally:
        supervised.stop()
        await asyncio.wait_for(task, 2)
    assert gauge._value.get() == 0


async def test_a_service_without_an_in_process_relay_is_ready_and_says_so() -> None:
    assert await readiness_report(lambda: None)() == (True, {"in_process": False})
