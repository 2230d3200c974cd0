"""The tickets service in-process on the real stack, with the contracts service (to create the
seed scenario) and the projections service (to answer coverage) running beside it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI

from services.contracts.bootstrap import create_app as create_contracts_app
from services.contracts.settings import ContractsSettings
from services.projections.bootstrap import create_app as create_projections_app
from services.projections.settings import ProjectionsSettings
from services.tickets.bootstrap import create_app as create_tickets_app
from services.tickets.settings import TicketsSettings
from tests.support.servers import free_port, serving


def projections_settings(stack, **overrides) -> ProjectionsSettings:
    return ProjectionsSettings(
        database_url=stack.database_urls["projections"],
        http_port=0,
        kafka={"bootstrap_servers": stack.kafka_bootstrap},
        batch_timeout_ms=50,
        **overrides,
    )


def tickets_settings(stack, projections_url: str, **overrides) -> TicketsSettings:
    return TicketsSettings(
        database_url=stack.database_urls["tickets"],
        http_port=0,
        projections_url=projections_url,
        kafka={"bootstrap_servers": stack.kafka_bootstrap},
        **overrides,
    )


async def consuming(app: FastAPI) -> None:
    """Wait until the projections consumer has its partitions (it then reads from the start)."""
    runtime = app.state.consumer
    deadline = asyncio.get_running_loop().time() + 60
    while runtime.client is None or not runtime.client.assignment():
        assert asyncio.get_running_loop().time() < deadline, "projections consumer got no partitions"
        await asyncio.sleep(0.1)


@pytest.fixture(scope="session")
async def contracts_api(stack) -> AsyncIterator[httpx.AsyncClient]:
    settings = ContractsSettings(
        database_url=stack.database_urls["contracts"], http_port=0, kafka={"bootstrap_servers": stack.kafka_bootstrap}
    )
    async with serving(create_contracts_app(settings)) as client:
        yield client


@pytest.fixture(scope="session")
async def projections_url(stack) -> AsyncIterator[str]:
    """The projections service (HTTP + consumer), answering coverage on a real socket."""
    app = create_projections_app(projections_settings(stack))
    async with serving(app) as client:
        await consuming(app)
        yield str(client.base_url)


TicketsFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture(scope="session")
def tickets_service(stack) -> TicketsFactory:
    """Start a tickets service with some settings: ``async with tickets_service(url, ...) as api``."""

    @asynccontextmanager
    async def start(projections: str, **overrides) -> AsyncIterator[httpx.AsyncClient]:
        async with serving(create_tickets_app(tickets_settings(stack, projections, **overrides))) as api:
            yield api

    return start


@pytest.fixture(scope="session")
async def tickets_api(tickets_service, projections_url) -> AsyncIterator[httpx.AsyncClient]:
    """Policy ``warn`` (the default)."""
    async with tickets_service(projections_url) as api:
        yield api


@pytest.fixture(scope="session")
async def blocking_tickets_api(tickets_service, projections_url) -> AsyncIterator[httpx.AsyncClient]:
    """Policy ``block``: not covered → 409 unless an override reason is given."""
    async with tickets_service(projections_url, not_covered_policy="block") as api:
        yield api


@pytest.fixture
def unused_url() -> str:
    """An address where nothing listens: a stopped projections service."""
    return f"http://127.0.0.1:{free_port()}"
