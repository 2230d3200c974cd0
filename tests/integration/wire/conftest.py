"""The four services in-process on the real stack, traced into an in-memory exporter, and a
reader of the real records on the topics.

Tracing is turned on for this package (and, the tracer provider being process-wide, for what
runs after it: this package is the last of the integration tests) by installing an SDK tracer
provider before the services are built, exactly as a deployment with
``OTEL_EXPORTER_OTLP_ENDPOINT`` gets one: ``shared.tracing.configure`` sees it and instruments.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.contracts.bootstrap import create_app as contracts_app
from services.contracts.settings import ContractsSettings
from services.notifier.bootstrap import create_app as notifier_app
from services.notifier.entrypoints.consumer import TOPICS as NOTIFIER_TOPICS
from services.notifier.settings import NotifierSettings
from services.projections.bootstrap import create_app as projections_app
from services.projections.settings import ProjectionsSettings
from services.tickets.bootstrap import create_app as tickets_app
from services.tickets.settings import TicketsSettings
from tests.integration.wire.scenario import Played, play
from tests.support.kafka import catch_up
from tests.support.servers import serving


@dataclass
class System:
    contracts: httpx.AsyncClient
    projections: httpx.AsyncClient
    tickets: httpx.AsyncClient
    notifier: httpx.AsyncClient
    general_email: str


@pytest.fixture(scope="package")
def spans() -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "abonent-tests"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    assert trace.get_tracer_provider() is provider, "a tracer provider was installed before this package"
    return exporter


async def _until_assigned(app: Any) -> None:
    runtime = app.state.consumer
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while runtime.client is None or not runtime.client.assignment():
        assert loop.time() < deadline, "a consumer got no partitions"
        await asyncio.sleep(0.1)


@pytest.fixture(scope="package")
async def system(stack, spans) -> AsyncIterator[System]:
    kafka = {"bootstrap_servers": stack.kafka_bootstrap}
    group = f"abonent.notifier.wire-{uuid.uuid4().hex[:6]}"
    general = f"desk-{uuid.uuid4().hex[:6]}@example.com"
    await catch_up(stack.kafka_bootstrap, group, NOTIFIER_TOPICS)
    async with AsyncExitStack() as services:
        contracts = await services.enter_async_context(
            serving(
                contracts_app(
                    ContractsSettings(database_url=stack.database_urls["contracts"], http_port=0, kafka=kafka)
                )
            )
        )
        p_app = projections_app(
            ProjectionsSettings(
                database_url=stack.database_urls["projections"], http_port=0, kafka=kafka, batch_timeout_ms=50
            )
        )
        projections = await services.enter_async_context(serving(p_app))
        await _until_assigned(p_app)
        tickets = await services.enter_async_context(
            serving(
                tickets_app(
                    TicketsSettings(
                        database_url=stack.database_urls["tickets"],
                        http_port=0,
                        projections_url=str(projections.base_url),
                        kafka=kafka,
                    )
                )
            )
        )
        n_app = notifier_app(
            NotifierSettings(
                database_url=stack.database_urls["notifier"],
                http_port=0,
                kafka=kafka,
                group_id=group,
                smtp_host=stack.smtp_host,
                smtp_port=stack.smtp_port,
                smtp_tls="none",
                from_email="abonent@example.com",
                general_email=general,
                locale="en",
            )
        )
        notifier = await services.enter_async_context(serving(n_app))
        await _until_assigned(n_app)
        yield System(contracts, projections, tickets, notifier, general)


@pytest.fixture(scope="package")
async def played(system: System) -> Played:
    """The scenario that makes every event type, played once for the package."""
    return await play(system.contracts, system.tickets)
