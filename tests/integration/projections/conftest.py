"""The projections service in-process (HTTP + consumer) on the real stack, and a producer
that publishes like the contracts service's outbox relay."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from services.projections.bootstrap import create_app
from services.projections.settings import ProjectionsSettings
from tests.support.servers import serving


def projections_settings(stack, **overrides: Any) -> ProjectionsSettings:
    values: dict[str, Any] = {
        "database_url": stack.database_urls["projections"],
        "http_port": 0,
        "kafka": {"bootstrap_servers": stack.kafka_bootstrap},
        "batch_timeout_ms": 50,
    }
    return ProjectionsSettings(**(values | overrides))


@pytest.fixture(scope="session")
async def projections_api(stack) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(projections_settings(stack))
    async with serving(app) as client:
        client.projections_app = app  # type: ignore[attr-defined]  # for tests that steer its consumer
        runtime = app.state.consumer
        deadline = asyncio.get_running_loop().time() + 60
        while runtime.client is None or not runtime.client.assignment():
            assert asyncio.get_running_loop().time() < deadline, "consumer got no partitions"
            await asyncio.sleep(0.1)
        yield client


@pytest.fixture(scope="session")
async def producer(stack) -> AsyncIterator[AIOKafkaProducer]:
    p = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap, enable_idempotence=True, acks="all")
    await p.start()
    yield p
    await p.stop()


@pytest.fixture(scope="session")
def projections_dsn(stack) -> str:
    return stack.database_urls["projections"]
