"""The notifier in-process (HTTP + Kafka consumer) on the real stack, a real SMTP server on
loopback that the tests can stop and start, and a producer that publishes like the contracts
service's outbox relay."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI

from services.notifier.bootstrap import create_app
from services.notifier.entrypoints.consumer import TOPICS as NOTIFIER_TOPICS
from services.notifier.settings import NotifierSettings
from tests.integration.notifier.mailbox import Mailbox
from tests.support.kafka import catch_up
from tests.support.servers import free_port, serving


def notifier_settings(stack: Any, smtp_port: int, **overrides: Any) -> NotifierSettings:
    values: dict[str, Any] = {
        "database_url": stack.database_urls["notifier"],
        "http_port": 0,
        "kafka": {"bootstrap_servers": stack.kafka_bootstrap},
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp_port,
        "smtp_timeout": 5.0,
        "smtp_tls": "none",
        "from_email": "abonent@example.com",
        "general_email": f"ops-{uuid.uuid4().hex[:8]}@example.com",
        "locale": "ru",
        "max_attempts": 40,
        "retry_initial_seconds": 0.2,
        "retry_max_seconds": 1.0,
    }
    values.update(overrides)
    return NotifierSettings(**values)


@pytest.fixture(scope="package")
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox(free_port())
    box.start()
    yield box
    box.stop()


@pytest.fixture(scope="package")
def settings(stack: Any, mailbox: Mailbox) -> NotifierSettings:
    return notifier_settings(stack, mailbox.port)


@pytest.fixture(scope="package")
async def notifier_app(settings: NotifierSettings) -> FastAPI:
    """The package's notifier service (a healthy replica: its SMTP is the test mailbox)."""
    return create_app(settings)


@pytest.fixture(scope="package")
async def notifier_api(settings: NotifierSettings, notifier_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    await catch_up(settings.kafka.bootstrap_servers, settings.group_id, NOTIFIER_TOPICS)
    async with serving(notifier_app) as client:
        runtime = notifier_app.state.consumer
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while runtime.client is None or not runtime.client.assignment():
            assert loop.time() < deadline, "the notifier's consumer got no partitions"
            await asyncio.sleep(0.1)
        yield client


@pytest.fixture(scope="package")
async def producer(stack: Any) -> AsyncIterator[AIOKafkaProducer]:
    p = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap, enable_idempotence=True, acks="all")
    await p.start()
    yield p
    await p.stop()
