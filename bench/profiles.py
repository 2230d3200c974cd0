"""Benchmark profiles: how much data, which rates, how long, how many runs.

``quick`` checks the harness and gives indicative numbers in about ten minutes on 2 cores;
``full`` is the scale of docs/design.md §7 (100,000 clients, 300,000 contracts, 2,000,000
periods, about 7.4 million events) and takes hours, most of it loading, publishing and
projecting the data; its replay runs once (one replay is already ~7.4 million events).
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.datagen import Scale


@dataclass(frozen=True)
class Profile:
    name: str
    scale: Scale
    runs: int
    """Repetitions of every measurement: the table shows their median and min–max."""
    window: float
    """Seconds of load per fixed-rate run."""
    write_rates: tuple[int, ...]
    """Offered command rates (per second) for the write path (its capacity is probed apart)."""
    ticket_rates: tuple[int, ...]
    relay_messages: int
    """Outbox rows per relay run (copies of the generated outbox rows)."""
    producer_records: int
    """Records per Kafka ProducerPerformance run."""
    query_rates: dict[str, int]
    pgbench_seconds: int
    replay_runs: int = 3
    """Runs of the projections rebuild (each replays the whole data set)."""


PROFILES = {
    "smoke": Profile(  # the harness itself, in about three minutes: numbers mean little
        name="smoke",
        scale=Scale(200, 600, 4_000),
        runs=1,
        window=3.0,
        write_rates=(250, 500),
        ticket_rates=(300,),
        relay_messages=10_000,
        producer_records=20_000,
        query_rates={"coverage": 200, "debtors": 20, "income": 10, "contracts": 20},
        pgbench_seconds=3,
    ),
    "quick": Profile(
        name="quick",
        scale=Scale(2_000, 6_000, 40_000),
        runs=3,
        window=5.0,
        write_rates=(250, 500),
        ticket_rates=(300,),
        relay_messages=60_000,
        producer_records=1_000_000,  # 100,000 read Kafka cold: 22–82 k rec/s against 89–171 k
        query_rates={"coverage": 300, "debtors": 20, "income": 10, "contracts": 30},
        pgbench_seconds=5,
    ),
    "full": Profile(
        name="full",
        scale=Scale(100_000, 300_000, 2_000_000),
        runs=3,
        window=30.0,
        write_rates=(250, 500, 1_000, 2_000),
        ticket_rates=(300, 800),
        relay_messages=1_000_000,
        producer_records=1_000_000,
        query_rates={"coverage": 500, "debtors": 20, "income": 10, "contracts": 50},
        pgbench_seconds=30,
        replay_runs=1,
    ),  # one replay of ~7.4M events takes ~30 min
}
