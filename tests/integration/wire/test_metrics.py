"""The metrics ops asked for first (docs/operations.md, "Metrics and alerts"), read from the
services' own /metrics after real work."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import asyncpg
import httpx
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from shared.eventstore.errors import ConcurrencyError
from shared.eventstore.records import NEW_STREAM, CommandContext, NewEvent
from shared.eventstore.store import PostgresEventStore
from tests.integration.contracts.scenario import sign_client_for_a_year


async def samples(api: httpx.AsyncClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = (await api.get("/metrics")).text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(found: dict, name: str, **labels: str) -> float | None:
    return found.get((name, tuple(sorted(labels.items()))))


async def test_relay_outbox_scheduler_and_pool_metrics_move_with_real_work(system) -> None:
    api = system.contracts
    before = await samples(api)
    signed = await sign_client_for_a_year(api, year=2022)
    r = await api.post("/scheduler/tick", json={"as_of": "2022-01-01"})  # Q1 starts and is owed: due, emitted
    assert r.status_code == 200 and r.json()["emitted"] > 0, r.text
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while True:  # the relay measures the outbox every few seconds once it has published
        after = await samples(api)
        published = (value(after, "relay_published_total", service="contracts") or 0) - (
            value(before, "relay_published_total", service="contracts") or 0
        )
        if published >= 4 + 4 and value(after, "outbox_backlog_rows", service="contracts") is not None:
            break
        assert loop.time() < deadline, f"relay metrics did not move: {published}"
        await asyncio.sleep(0.5)
    assert signed.period_ids
    assert value(after, "outbox_oldest_age_seconds", service="contracts") is not None
    assert (value(after, "scheduler_due_total") or 0) > (value(before, "scheduler_due_total") or 0)
    assert (value(after, "scheduler_emitted_total") or 0) >= (value(before, "scheduler_emitted_total") or 0) + 2
    assert value(after, "db_pool_connections_max", service="contracts") == 10
    assert 0 <= (value(after, "db_pool_connections_in_use", service="contracts") or 0) <= 10
    for service in ("projections", "tickets", "notifier"):
        other = await samples(getattr(system, service))
        assert value(other, "db_pool_connections_max", service=service) == 10, service


async def test_a_version_conflict_is_counted(eventstore_pool: asyncpg.Pool) -> None:
    service = f"test-{uuid.uuid4().hex[:6]}"
    store = PostgresEventStore(eventstore_pool, service=service)
    ctx = CommandContext(correlation_id="c", actor="test", now=datetime.now(UTC))

    def event() -> list[NewEvent]:
        return [NewEvent(uuid.uuid4(), "Happened", 1, {}, datetime.now(UTC))]

    await store.append("s-1", NEW_STREAM, event(), partition_key="k", ctx=ctx)
    with pytest.raises(ConcurrencyError):
        await store.append("s-1", NEW_STREAM, event(), partition_key="k", ctx=ctx)
    assert REGISTRY.get_sample_value("eventstore_version_conflicts_total", {"service": service}) == 1
