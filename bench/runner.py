"""The order a bench run goes in, and which steps every benchmark needs first.

1. a stack of its own (temp dir, free ports); 2. the data set through the event store;
3. (relay) keep a sample of the outbox; publish the generated outbox with a standalone
relay; (relay) the relay runs and Kafka's producer tool; 4. the projections service
applies everything (a first fill when fresh); (projections) replays and their ceilings, then
the live consumer from offset 0 into a database of its own; 5. the other services start
— contracts with its in-process relay, tickets, notifier, the scheduler — and the write,
end-to-end, ticket and query benchmarks run against them; 6. peak RSS of every service;
7. stop everything, print the table, save it.
"""

from __future__ import annotations

import asyncio
import os

import uvloop
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench import datagen, end_to_end, projections, queries, relay, tickets, write_path
from bench.context import Ctx
from bench.environment import BenchEnv, close_env, keep_logs, open_env
from bench.profiles import Profile
from bench.results import Report, Target
from services.notifier.entrypoints.consumer import TOPICS as NOTIFIER_TOPICS
from shared.topics import ALL_TOPICS, NOTIFIER_GROUP

BENCHMARKS = ("write", "relay", "projections", "e2e", "tickets", "queries", "memory")
ONLINE = {"write": write_path.run, "e2e": end_to_end.run, "tickets": tickets.run, "queries": queries.run}
RSS_TARGET_MB = 150


def _memory(ctx: Ctx) -> None:
    peaks = ctx.env.sample_rss()
    for name, kb in sorted(peaks.items()):
        ctx.report.add(
            "7 memory",
            f"peak RSS of {name} (VmHWM over the whole run)",
            "MB",
            [kb / 1024],
            target=Target("<=", RSS_TARGET_MB, f"≤ {RSS_TARGET_MB} MB"),
            note="1 run",
        )


async def notifier_starts_at_the_end(ctx: Ctx) -> None:
    """Commit the notifier group's offsets at the end of every topic it reads.

    The generated history contains every reminder up to today; a live notifier would have
    mailed each on its day. Without this it would mail them all now, during the benchmarks
    (its own throughput is not one of them), and read the whole history of
    contracts.events.v1 for its invoices (7.3 million events at full scale: about a third of a
    core for the length of the benchmarks)."""
    tps = [TopicPartition(s.name, p) for s in ALL_TOPICS if s.name in NOTIFIER_TOPICS for p in range(s.partitions)]
    consumer = AIOKafkaConsumer(bootstrap_servers=ctx.env.bootstrap, group_id=NOTIFIER_GROUP, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        await consumer.commit({tp: end for tp, end in ends.items()})
    finally:
        await consumer.stop()


async def _online(ctx: Ctx, selected: set[str]) -> None:
    if "relay" in selected:
        await relay.run(ctx)
    await projections.catch_up(ctx)
    if "projections" in selected:
        ctx.say("benchmark 3: projections replay")
        await projections.run(ctx)
        ctx.say("benchmark 3: the live consumer's catch-up")
        await projections.live_catch_up(ctx)
    if selected & set(ONLINE) or "memory" in selected:
        await notifier_starts_at_the_end(ctx)
        ctx.report.notes.append(
            "the notifier starts at the end of the topics it reads: the generated history's "
            "reminders count as mailed on their day, not during the benchmarks"
        )
        for name in ("contracts", "tickets", "notifier", "scheduler"):
            await asyncio.to_thread(ctx.env.start, name)
        for name, bench in ONLINE.items():
            if name in selected:
                ctx.say(f"benchmark: {name}")
                await bench(ctx)
                ctx.env.sample_rss()


async def _prepare_relay(ctx: Ctx, selected: set[str]) -> None:
    if "relay" in selected:
        await relay.sample_outbox(ctx)
    await relay.drain_generated(ctx)


def run(
    profile: Profile, selected: set[str], command: str, say=print, keep: bool = False, py_spy: bool = False
) -> Report:
    report = Report(profile.name, command)
    report.notes.append(
        "latency percentiles are exact (every sample sorted), measured from each request's "
        "due time in an open-loop fixed-rate schedule"
    )
    env: BenchEnv = open_env(say)
    try:
        ctx = Ctx(env, profile, report, say)
        if py_spy:
            from bench.profiling import py_spy as find_py_spy

            ctx.data["py_spy"] = find_py_spy() is not None
            report.notes.append(
                "py-spy sampled the last run of each benchmark (100 Hz, non-blocking)"
                if ctx.data["py_spy"]
                else "--py-spy asked for, but py-spy was not found"
            )
        say(f"data: {profile.scale}")
        loaded = datagen.load(env.dsn("contracts"), profile.scale, today=env.today())
        report.data = f"{profile.scale}, {loaded.events:,} events"
        report.add(
            "0 data load",
            f"events/s written by the generator ({loaded.events:,} events, {loaded.streams:,} streams)",
            "ev/s",
            [loaded.events_per_second],
            note="1 run",
        )
        say(f"  {loaded.events:,} events in {loaded.seconds:.0f}s; by type: {loaded.event_types}")
        uvloop.run(_prepare_relay(ctx, selected))
        uvloop.run(_online(ctx, selected))
        if "memory" in selected:
            _memory(ctx)
        for name in ("projections", "contracts", "tickets", "notifier", "scheduler"):
            log = env.services_dir / f"{name}.log"
            if log.exists() and "Traceback" in log.read_text(errors="replace"):
                report.notes.append(f"{name} logged a Traceback during the run (see its log)")
    finally:
        report.load_at_end = f"{os.getloadavg()[0]:.1f}"
        if not keep:
            env.stop_all()  # first, so the logs are complete
        say(f"logs kept in {keep_logs(env)}")
        close_env(env, keep=keep)
        if keep:
            say(f"stack kept running in {env.run_dir} (stop it with python -m deploy.local down --run-dir ...)")
    return report
