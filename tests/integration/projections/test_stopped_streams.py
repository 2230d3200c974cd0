"""Issue 15, silent freezes in projections: an event the projections cannot apply (an event
type this version does not know, an unexpected error in the fold) stops THAT client's stream
honestly — dead-lettered, answers about the client say stale and why, a metric counts the
client — and once the fix is deployed the held event and its successors apply without a
rebuild. Before, the unknown event was dead-lettered, its successors parked forever and
coverage answered stale=false; an unexpected error was retried forever."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar
from uuid import UUID

import asyncpg
import pytest

from services.projections.adapters.db import open_connection
from services.projections.adapters.store import ReadModelStore
from services.projections.application import projector as projector_module
from services.projections.application.projector import Projector
from shared.events.base import EventData, EventRegistry, registry
from shared.topics import CONTRACTS_EVENTS
from tests.integration.projections.helpers import ClientFeed, fresh, publish
from tests.integration.projections.test_dead_letters import dead_letter_for

ON = {"on": "2026-01-01"}


class ClientNicknamed(EventData):
    """An event type a newer contracts service writes before projections knows it."""

    event_type: ClassVar[str] = "ClientNicknamed"
    schema_version: ClassVar[int] = 1
    client_id: UUID
    nickname: str


def upgraded_registry() -> EventRegistry:
    """The registry of the fixed projections: today's types plus the new one."""
    fixed = EventRegistry()
    fixed._models = dict(registry._models)
    fixed._upcasters = dict(registry._upcasters)
    fixed.event(ClientNicknamed)
    return fixed


async def stopped(conn: asyncpg.Connection, stream: str, timeout: float = 60.0) -> asyncpg.Record:
    deadline = asyncio.get_running_loop().time() + timeout
    while (
        row := await conn.fetchrow("SELECT * FROM projections.stopped_streams WHERE stream_id = $1", stream)
    ) is None:
        assert asyncio.get_running_loop().time() < deadline, f"{stream} was not stopped"
        await asyncio.sleep(0.1)
    return row


async def no_sink(_: Any) -> None:
    return None


async def resume_with(dsn: str, projector: Projector) -> int:
    """What the start-up of the fixed projections service does (bootstrap: Projector.resume)."""
    conn = await open_connection(dsn)
    try:
        return await projector.resume(conn)
    finally:
        await conn.close()


async def test_an_unknown_event_type_stops_the_clients_stream_until_the_fix_is_deployed(
    projections_api, producer, projections_dsn, stack
) -> None:
    feed = ClientFeed("Newer Contracts Ltd")
    stream = f"client-{feed.client_id}"
    await publish(producer, feed, feed.registered())  # v1
    nicknamed = feed.envelope(stream, "ClientNicknamed", {"nickname": "Newer"})  # v2: unknown here
    await publish(producer, feed, nicknamed)
    updated = feed.envelope(
        stream, "ClientUpdated", {"name": "Newer Ltd", "manager_name": "A", "manager_email": "a@example.com"}
    )  # v3: known, but must not jump over v2
    await publish(producer, feed, updated)

    conn = await asyncpg.connect(projections_dsn)
    try:
        stop = await stopped(conn, stream)
        assert (stop["stream_version"], stop["event_type"]) == (2, "ClientNicknamed")
        assert "unknown event type" in stop["reason"]
        body = (await projections_api.get(f"/clients/{feed.client_id}/coverage", params=ON)).json()
        assert body["stale"] is True and "ClientNicknamed" in body["stale_reason"], body
        debtors = await projections_api.get("/debtors", params={**ON, "client_id": str(feed.client_id)})
        assert debtors.json()["stale"] is True  # every answer about the client says so
        assert "projections_stale_clients" in (await projections_api.get("/metrics")).text
        ready = (await projections_api.get("/health/ready")).json()
        assert ready["consumer"]["stale_clients"] >= 1
        versions = await conn.fetchval("SELECT version FROM projections.stream_versions WHERE stream_id = $1", stream)
        assert versions == 1  # v3 waits behind v2
        dead = await dead_letter_for_event(stack.kafka_bootstrap, feed, nicknamed.stream_version)
        assert dead is not None and dead["dlq_error"].startswith(b"unknown event type")

        # the fix is deployed: the new version starts and knows the type
        assert await resume_with(projections_dsn, Projector(ReadModelStore(), no_sink, upgraded_registry())) >= 1
        body = await fresh(
            projections_api, f"/clients/{feed.client_id}/coverage", {**ON, "min_position": updated.position}
        )
        assert body["stale"] is False and body["stale_reason"] is None
        assert await conn.fetchval("SELECT version FROM projections.stream_versions WHERE stream_id = $1", stream) == 3
        assert await conn.fetchval("SELECT count(*) FROM projections.parked_events WHERE stream_id = $1", stream) == 0
        name = await conn.fetchval("SELECT name FROM projections.clients WHERE client_id = $1", feed.client_id)
        assert name == "Newer Ltd"  # applied without a rebuild
    finally:
        await conn.close()


async def dead_letter_for_event(bootstrap: str, feed: ClientFeed, version: int) -> dict[str, bytes] | None:
    topic, env = next((t, e) for t, e in feed.published if e.stream_version == version and t == CONTRACTS_EVENTS)
    # the partition and offset the producer got are not kept by publish(): find them by event id
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    try:
        deadline = asyncio.get_running_loop().time() + 30
        while asyncio.get_running_loop().time() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for r in records:
                    if dict(r.headers).get("event_id") == str(env.event_id).encode():
                        return await dead_letter_for(bootstrap, r.partition, r.offset)
        return None
    finally:
        await consumer.stop()


async def test_an_unexpected_error_is_retried_a_bounded_number_of_times_then_stops_the_stream(
    projections_api, producer, projections_dsn, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed = ClientFeed("Buggy Fold Ltd")
    stream = f"client-{feed.client_id}"
    real_evolve = projector_module.evolve

    def buggy_evolve(ws: Any, fact: Any) -> None:  # a bug that meets only this client's events
        if fact.client_id == feed.client_id:
            raise ZeroDivisionError("a bug in the fold")
        real_evolve(ws, fact)

    monkeypatch.setattr(projector_module, "evolve", buggy_evolve)
    await publish(producer, feed, feed.registered())
    other = ClientFeed("Healthy Neighbour Ltd")  # the partition goes on for everybody else
    await publish(producer, other, other.registered())

    conn = await asyncpg.connect(projections_dsn)
    try:
        stop = await stopped(conn, stream)
        assert stop["stream_version"] == 1 and "ZeroDivisionError" in stop["reason"]
        response = await projections_api.get(f"/clients/{feed.client_id}/coverage", params=ON)
        assert response.status_code == 404 and response.json()["errors"][0]["rule"] == "client_not_yet_projected"
        await fresh(
            projections_api, f"/clients/{other.client_id}/coverage", {**ON, "min_position": other.last_position}
        )

        monkeypatch.setattr(projector_module, "evolve", real_evolve)  # the fix is deployed
        assert await resume_with(projections_dsn, Projector(ReadModelStore(), no_sink)) >= 1
        body = await fresh(
            projections_api, f"/clients/{feed.client_id}/coverage", {**ON, "min_position": feed.last_position}
        )
        assert body["stale"] is False
        assert await conn.fetchval("SELECT count(*) FROM projections.stopped_streams WHERE stream_id = $1", stream) == 0
    finally:
        await conn.close()
