"""Every command a client was told was accepted, checked against the event stores and Kafka.

The load sends each command with an ``X-Correlation-ID`` of its own (``Ledger.new_id``); the
services write it into every event the command appends (``events.correlation_id``) and into
the events' Kafka headers. So, after the load, for every 201 the clients got:

* **not lost**: the store holds the command's events, the answered ``position`` among them;
* **not done twice**: they were written by ONE transaction (one ``xmin``) — a command run
  twice (a retried request, two replicas both acting on it) is two transactions;
* **on Kafka exactly once**: each of those events is on its topic once (by event id, on
  ``contracts.events.v1``/``contracts.schedule.v1`` or ``tickets.events.v1``; the public copy
  on ``payments.v1`` at most once), and each key's events in position order.

Commands that got no answer (a timeout) but committed are counted apart: not a difference,
the client just does not know. Used by ``bench.scale_out`` and ``tests/e2e/test_scale_out.py``.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition

from shared.topics import ALL_TOPICS, CONTRACTS_EVENTS, CONTRACTS_SCHEDULE, PAYMENTS, TICKETS_EVENTS

REPO = Path(__file__).resolve().parents[1]
TOPICS = {"contracts": (CONTRACTS_EVENTS, CONTRACTS_SCHEDULE), "tickets": (TICKETS_EVENTS,)}
"""Where each service's events go, each event exactly once (its own event id)."""
PUBLIC_TOPICS = (PAYMENTS,)
"""Public copies under another event id: at most once each."""


@dataclass
class Ledger:
    """What the clients sent and what they were told, by correlation id."""

    prefix: str = field(default_factory=lambda: f"scale-{uuid.uuid4().hex[:8]}")
    accepted: dict[str, tuple[str, int]] = field(default_factory=dict)
    """correlation id → (service, answered position) for every 2xx answer that wrote something."""

    def new_id(self) -> str:
        return f"{self.prefix}-{uuid.uuid4().hex}"

    def record(self, service: str, correlation_id: str, answer: Any) -> None:
        position = answer.get("position") if isinstance(answer, dict) else None
        if position is not None:
            self.accepted[correlation_id] = (service, int(position))


@dataclass
class Verdict:
    checked: dict[str, int] = field(default_factory=dict)
    differences: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.differences.values())

    def add(self, what: str, found: Sequence[str]) -> None:
        self.differences[what] = len(found)
        self.examples += [f"{what}: {x}" for x in list(found)[:3]]

    def lines(self) -> list[str]:
        return [
            *(f"checked {what}: {n:,}" for what, n in self.checked.items()),
            *(f"difference {what}: {n}" for what, n in self.differences.items()),
            *self.examples,
        ]


@dataclass(frozen=True)
class Stored:
    event_id: str
    correlation_id: str
    partition_key: str
    position: int


async def stored_events(dsn: str, prefix: str) -> tuple[list[Stored], dict[str, set[int]], dict[str, set[int]]]:
    """The events the ledger's commands wrote: the rows, and per correlation id the positions
    and the transactions (``xmin``) that wrote them."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            """SELECT event_id::text, correlation_id, partition_key, position, xmin::text::bigint AS tx
               FROM events WHERE correlation_id LIKE $1 || '-%' ORDER BY position""",
            prefix,
        )
    finally:
        await conn.close()
    positions: dict[str, set[int]] = defaultdict(set)
    transactions: dict[str, set[int]] = defaultdict(set)
    for r in rows:
        positions[r["correlation_id"]].add(r["position"])
        transactions[r["correlation_id"]].add(r["tx"])
    return [Stored(r[0], r[1], r[2], r[3]) for r in rows], positions, transactions


def partitions_of(topics: Sequence[str]) -> list[TopicPartition]:
    """Every partition of ``topics``, as the launcher creates them (``shared.topics``)."""
    return [TopicPartition(s.name, p) for s in ALL_TOPICS if s.name in topics for p in range(s.partitions)]


async def published(bootstrap: str, topics: Sequence[str], prefix: str) -> dict[str, list[tuple[str, str, int]]]:
    """Every record on ``topics`` (to their end now) whose correlation id is the ledger's:
    topic → [(event id, key, position)] in partition order, repeats included."""
    tps = partitions_of(topics)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    out: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
    mine = prefix.encode() + b"-"
    try:
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        done = {tp for tp in tps if ends[tp] == 0}
        deadline = asyncio.get_running_loop().time() + 300
        while len(done) < len(tps):
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("could not read the topics to their end in 300 s")
            for tp, records in (await consumer.getmany(timeout_ms=500, max_records=5000)).items():
                for r in records:
                    headers = dict(r.headers)
                    if headers.get("correlation_id", b"").startswith(mine):
                        out[tp.topic].append(
                            (headers["event_id"].decode(), (r.key or b"").decode(), int(headers.get("position", b"0")))
                        )
                    if r.offset + 1 >= ends[tp]:
                        done.add(tp)
    finally:
        await consumer.stop()
    return out


async def drained(dsns: dict[str, str], projections_dsn: str, bootstrap: str, timeout: float = 180.0) -> None:
    """Until the outboxes of ``dsns`` are empty and the read model has consumed everything on
    its topics (what the checks need: nothing still on its way)."""
    from services.projections.entrypoints.consumer import TOPICS as PROJECTED

    tps = partitions_of(PROJECTED)
    conns = {name: await asyncpg.connect(dsn) for name, dsn in {**dsns, "projections": projections_dsn}.items()}
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            pending = [await conns[name].fetchval("SELECT count(*) FROM outbox") for name in dsns]
            ends = await consumer.end_offsets(tps)
            rows = await conns["projections"].fetch(
                "SELECT topic, partition, next_offset FROM projections.consumed_offsets"
            )
            done = {(r["topic"], r["partition"]): r["next_offset"] for r in rows}
            if not any(pending) and all(done.get((tp.topic, tp.partition), 0) >= end for tp, end in ends.items()):
                return
            if loop.time() > deadline:
                raise TimeoutError(f"not drained after {timeout:.0f} s: outbox rows {pending}")
            await asyncio.sleep(0.3)
    finally:
        await consumer.stop()
        for conn in conns.values():
            await conn.close()


async def check(ledger: Ledger, dsns: dict[str, str], bootstrap: str) -> Verdict:
    """The three promises of the module doc for every service in ``dsns`` (contracts, tickets)."""
    verdict = Verdict()
    on_kafka = await published(
        bootstrap,
        [t for s in dsns for t in TOPICS[s]] + list(PUBLIC_TOPICS if "contracts" in dsns else ()),
        ledger.prefix,
    )
    for service, dsn in dsns.items():
        rows, positions, transactions = await stored_events(dsn, ledger.prefix)
        accepted = {cid: pos for cid, (s, pos) in ledger.accepted.items() if s == service}
        verdict.checked[f"{service} commands accepted"] = len(accepted)
        verdict.checked[f"{service} events written by them"] = len(rows)
        verdict.add(
            f"{service} accepted commands missing from the store",
            [cid for cid, pos in accepted.items() if pos not in positions.get(cid, ())],
        )
        verdict.add(
            f"{service} commands written by more than one transaction",
            [cid for cid, txs in transactions.items() if len(txs) > 1],
        )
        verdict.checked[f"{service} commands committed without an answer (timeouts)"] = len(
            set(positions) - set(accepted)
        )
        copies = Counter(event_id for topic in TOPICS[service] for event_id, _, _ in on_kafka.get(topic, []))
        verdict.add(f"{service} events missing on Kafka", [r.event_id for r in rows if copies[r.event_id] == 0])
        verdict.add(f"{service} events on Kafka more than once", [e for e, n in copies.items() if n > 1])
        verdict.add(f"{service} events out of key order on Kafka", out_of_order(on_kafka, TOPICS[service]))
    public = Counter(event_id for topic in PUBLIC_TOPICS for event_id, _, _ in on_kafka.get(topic, []))
    if "contracts" in dsns:
        verdict.checked["public copies on payments.v1"] = len(public)
        verdict.add("public copies on Kafka more than once", [e for e, n in public.items() if n > 1])
    return verdict


def out_of_order(on_kafka: dict[str, list[tuple[str, str, int]]], topics: Sequence[str]) -> list[str]:
    """Event ids that came after a later position of their key on their topic."""
    found = []
    for topic in topics:
        last: dict[str, int] = {}
        for event_id, key, position in on_kafka.get(topic, []):
            if position < last.get(key, 0):
                found.append(event_id)
            last[key] = max(last.get(key, 0), position)
    return found


def read_model_check(stack_env: dict[str, str], timeout: float = 600) -> tuple[bool, str]:
    """``python -m services.projections.entrypoints.cli check``: the live read model against a
    fresh replay of both topics. (True, its summary) when they are equal."""
    result = subprocess.run(
        [sys.executable, "-m", "services.projections.entrypoints.cli", "check"],
        env={**os.environ, **stack_env, "ABONENT_LOG_FORMAT": "json", "COLUMNS": "200"},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return result.returncode == 0, (result.stdout + result.stderr)[-3000:]
