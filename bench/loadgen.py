"""Open-loop load at a fixed arrival rate.

Request ``i`` is due at ``start + i / rate`` whether or not earlier requests have answered
(slow answers are not hidden by clients that wait before sending the next one), and its
latency is measured from that due time, not from when the generator got round to sending
it: if the generator itself falls behind, the delay is charged to the latency
(no coordinated omission), and the report says how far behind it fell.

Percentiles are exact (every sample is kept and sorted; see ``bench.stats``).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bench.stats import latency_summary

Operation = Callable[[int], Awaitable[object]]
"""``op(i)`` performs request number ``i``; raising counts it as an error (by exception type)."""


@dataclass
class LoadResult:
    offered_rate: float
    duration: float
    sent: int = 0
    ok: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    """Seconds from each successful request's due time to its answer."""
    elapsed: float = 0.0
    """From the first due time to the last answer (at least ``duration``)."""
    max_send_lag: float = 0.0
    """How late the generator sent the latest of its requests (seconds)."""
    values: list[object] = field(default_factory=list)
    """What each successful ``op`` returned (when ``keep_values``)."""
    cpu: dict[str, float] = field(default_factory=dict)
    """CPU seconds each process of the stack spent on this run (filled in by ``bench.measure``)."""

    @property
    def throughput(self) -> float:
        """Successful requests per second over the whole window."""
        return self.ok / self.elapsed if self.elapsed else 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def percentiles(self) -> dict[str, float]:
        return latency_summary(self.latencies)

    def describe(self) -> str:
        p = self.percentiles()
        errors = f", errors {dict(self.errors)}" if self.errors else ""
        return (
            f"offered {self.offered_rate:,.0f}/s for {self.duration:.0f}s: {self.throughput:,.0f}/s ok, "
            f"p50 {p['p50']:.1f} ms, p99 {p['p99']:.1f} ms, max {p['max']:.1f} ms{errors}"
            f", generator lag max {self.max_send_lag * 1000:.0f} ms"
        )


async def open_loop(
    op: Operation,
    rate: float,
    duration: float,
    *,
    max_in_flight: int = 256,
    timeout: float = 10.0,
    keep_values: bool = False,
) -> LoadResult:
    """Send ``rate * duration`` requests at their due times; wait for every answer.

    A request not answered within ``timeout`` counts as an error (``TimeoutError``); one due
    while ``max_in_flight`` are still waiting is not sent and counts as ``too_many_in_flight``
    — so an overloaded service shows up as errors and a lower throughput, in bounded time."""
    result = LoadResult(rate, duration)
    total = max(1, int(rate * duration))
    clock = time.perf_counter
    in_flight = 0
    last_done = 0.0
    tasks: set[asyncio.Task[None]] = set()

    async def one(i: int, due: float) -> None:
        nonlocal in_flight, last_done
        try:
            value = await asyncio.wait_for(op(i), timeout)
        except Exception as exc:  # noqa: BLE001 - counted, by kind
            result.errors[type(exc).__name__] += 1
        else:
            result.latencies.append(clock() - due)
            result.ok += 1
            if keep_values:
                result.values.append(value)
        finally:
            in_flight -= 1
            last_done = max(last_done, clock())

    start = clock() + 0.01
    for i in range(total):
        due = start + i / rate
        delay = due - clock()
        if delay > 0:
            await asyncio.sleep(delay)
        elif i % 64 == 0:
            await asyncio.sleep(0)  # behind schedule: still let answers be read
        result.max_send_lag = max(result.max_send_lag, clock() - due)
        if in_flight >= max_in_flight:
            result.errors["too_many_in_flight"] += 1
            continue
        in_flight += 1
        result.sent += 1
        task = asyncio.create_task(one(i, due))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.wait(set(tasks))
    result.elapsed = max(last_done - start, duration)
    return result


async def closed_loop(op: Operation, concurrency: int, duration: float, timeout: float = 10.0) -> LoadResult:
    """``concurrency`` workers back to back for ``duration`` seconds: the capacity probe
    (latency here is per request from its own send, and says little: queueing is hidden)."""
    result = LoadResult(0.0, duration)
    clock = time.perf_counter
    start = clock()
    stop_at = start + duration
    counter = iter(range(10**12))

    async def worker() -> None:
        for i in counter:
            if clock() >= stop_at:
                return
            sent = clock()
            result.sent += 1
            try:
                await asyncio.wait_for(op(i), timeout)
            except Exception as exc:  # noqa: BLE001 - counted, by kind
                result.errors[type(exc).__name__] += 1
            else:
                result.latencies.append(clock() - sent)
                result.ok += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.elapsed = clock() - start
    result.offered_rate = result.throughput
    return result
