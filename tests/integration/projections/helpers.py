"""Events as the contracts service publishes them, and ways to look at the read model."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer

from services.projections.adapters.pg_schemas import COMPARED
from services.projections.adapters.replay import TopicReplay
from shared.db.migrations import apply_migrations, migrations_dir
from shared.events.envelope import Envelope
from shared.kafka_security import plaintext
from shared.topics import CONTRACTS_EVENTS, CONTRACTS_SCHEDULE

TOPICS = (CONTRACTS_EVENTS, CONTRACTS_SCHEDULE)
_positions = itertools.count(int(time.time() * 1000))
"""Global positions, growing across tests and runs (per client they must only grow)."""


class ClientFeed:
    """One client's history, built like the contracts service would record it."""

    def __init__(self, name: str = "Romashka LLC") -> None:
        self.client_id = uuid4()
        self.name = name
        self.versions: dict[str, int] = defaultdict(int)
        self.published: list[tuple[str, Envelope]] = []

    def envelope(self, stream_id: str, event_type: str, data: dict[str, Any], version: int | None = None) -> Envelope:
        if version is None:
            self.versions[stream_id] += 1
            version = self.versions[stream_id]
        now = datetime.now(UTC)
        return Envelope(
            event_id=uuid4(),
            event_type=event_type,
            schema_version=1,
            stream_id=stream_id,
            stream_version=version,
            position=next(_positions),
            partition_key=str(self.client_id),
            occurred_at=now,
            recorded_at=now,
            correlation_id=str(uuid4()),
            causation_id=None,
            actor="test",
            data={"client_id": str(self.client_id), **data},
        )

    def registered(self) -> Envelope:
        return self.envelope(
            f"client-{self.client_id}",
            "ClientRegistered",
            {"name": self.name, "manager_name": "Ivan Petrov", "manager_email": "ivan@example.com"},
        )

    def contract_opened(self, contract_id: UUID, number: str, signed_on: date) -> Envelope:
        return self.envelope(
            f"contract-{contract_id}",
            "ContractOpened",
            {
                "contract_id": str(contract_id),
                "number": number,
                "title": "IT outsourcing",
                "signed_on": signed_on.isoformat(),
            },
        )

    def period_added(
        self,
        contract_id: UUID,
        period_id: UUID,
        starts: date,
        ends: date,
        amount: str = "30000.00",
        terms: str = "prepaid",
        currency: str = "RUB",
        event_type: str = "ServicePeriodAdded",
    ) -> Envelope:
        return self.envelope(
            f"contract-{contract_id}",
            event_type,
            {
                "contract_id": str(contract_id),
                "period_id": str(period_id),
                "starts_on": starts.isoformat(),
                "ends_on": ends.isoformat(),
                "amount": amount,
                "currency": currency,
                "payment_terms": terms,
                "remind_on": None,
            },
        )

    def payment(
        self, contract_id: UUID, period_id: UUID, amount: str, paid_on: date, period_paid_amount: str, period_paid: bool
    ) -> Envelope:
        return self.envelope(
            f"contract-{contract_id}",
            "PaymentRecorded",
            {
                "contract_id": str(contract_id),
                "period_id": str(period_id),
                "payment_id": str(uuid4()),
                "amount": amount,
                "currency": "RUB",
                "paid_on": paid_on.isoformat(),
                "reference": "pp",
                "period_paid_amount": period_paid_amount,
                "period_paid": period_paid,
            },
        )

    def terminated(self, contract_id: UUID, on: date) -> Envelope:
        return self.envelope(
            f"contract-{contract_id}",
            "ContractTerminated",
            {"contract_id": str(contract_id), "terminated_on": on.isoformat(), "reason": "moved"},
        )

    def termination_took_effect(self, contract_id: UUID, on: date) -> Envelope:
        return self.envelope(
            f"contract-{contract_id}",
            "ContractTerminationTookEffect",
            {"contract_id": str(contract_id), "terminated_on": on.isoformat()},
        )

    def period_started(
        self, contract_id: UUID, period_id: UUID, starts: date, ends: date, version: int | None = None
    ) -> Envelope:
        """A time event (schedule topic) appended to the contract's stream."""
        return self.envelope(
            f"contract-{contract_id}",
            "ServicePeriodStarted",
            {
                "contract_id": str(contract_id),
                "client_name": self.name,
                "manager_name": "Ivan Petrov",
                "manager_email": "ivan@example.com",
                "contract_number": "A-1",
                "contract_title": "IT outsourcing",
                "period_id": str(period_id),
                "starts_on": starts.isoformat(),
                "ends_on": ends.isoformat(),
                "amount": "30000.00",
                "currency": "RUB",
                "payment_terms": "prepaid",
                "paid_amount": "0.00",
                "paid": False,
            },
            version,
        )

    @property
    def last_position(self) -> int:
        return max(e.position or 0 for _, e in self.published)


def topic_of(env: Envelope) -> str:
    return (
        CONTRACTS_SCHEDULE
        if env.event_type.startswith("ServicePeriod")
        and env.event_type not in ("ServicePeriodAdded", "ServicePeriodChanged", "ServicePeriodRemoved")
        else CONTRACTS_EVENTS
    )


async def publish(producer: AIOKafkaProducer, feed: ClientFeed, *envelopes: Envelope, topic: str | None = None) -> None:
    """Publish as the outbox relay does: envelope JSON, key = client id, envelope headers."""
    for env in envelopes:
        t = topic or topic_of(env)
        await producer.send_and_wait(
            t, value=env.to_bytes(), key=env.partition_key.encode(), headers=env.kafka_headers()
        )
        feed.published.append((t, env))


async def fresh(client: httpx.AsyncClient, url: str, params: dict[str, Any], timeout: float = 30.0) -> dict[str, Any]:
    """GET with ``min_position``; repeat while the answer is stale (each call waits server-side)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        response = await client.get(url, params=params)
        late = asyncio.get_running_loop().time() > deadline
        if (
            response.status_code == 404
            and not late
            and response.json()["errors"][0]["rule"] == "client_not_yet_projected"
        ):
            continue
        assert response.status_code == 200, response.text
        body = response.json()
        if not body["stale"] or late:
            assert not body["stale"], f"still stale after {timeout}s: {body}"
            return body


async def end_offsets(bootstrap: str) -> dict[tuple[str, int], int]:
    replay = TopicReplay(plaintext(bootstrap), TOPICS, "test-end-offsets")
    await replay.start()
    try:
        return await replay.end_offsets()
    finally:
        await replay.stop()


@asynccontextmanager
async def scratch_database(server_dsn: str, prefix: str) -> AsyncIterator[str]:
    """A new projections database on the stack's server, migrated; dropped after."""
    name = f"{prefix}_{uuid4().hex[:8]}"
    admin = await asyncpg.connect(server_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    dsn = server_dsn.rsplit("/", 1)[0] + f"/{name}"
    await apply_migrations(dsn, migrations_dir("projections"))
    try:
        yield dsn
    finally:
        admin = await asyncpg.connect(server_dsn)
        try:
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def wait_consumed(dsn: str, bootstrap: str, timeout: float = 60.0) -> None:
    """Until the live read model has consumed everything now on both topics."""
    ends = await end_offsets(bootstrap)
    conn = await asyncpg.connect(dsn)
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            rows = await conn.fetch("SELECT topic, partition, next_offset FROM projections.consumed_offsets")
            done = {(r["topic"], r["partition"]): r["next_offset"] for r in rows}
            behind = {k: v for k, v in ends.items() if v > 0 and done.get(k, 0) < v}
            if not behind:
                return
            assert asyncio.get_running_loop().time() < deadline, f"not consumed: {behind}"
            await asyncio.sleep(0.1)
    finally:
        await conn.close()


async def snapshot(dsn: str, pg_schema: str = "projections") -> dict[str, tuple[int, str]]:
    """Row count and checksum of every read-model table."""
    conn = await asyncpg.connect(dsn)
    try:
        out = {}
        for table in COMPARED:
            row = await conn.fetchrow(
                f"SELECT count(*) AS n, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS h "
                f"FROM {pg_schema}.{table} t"
            )
            out[table] = (row["n"], row["h"])
        return out
    finally:
        await conn.close()
