"""The contracts service running in-process on a real socket, on the real stack."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from services.contracts.bootstrap import create_app
from services.contracts.settings import ContractsSettings
from tests.support.servers import serving


def contracts_settings(stack, **overrides) -> ContractsSettings:
    return ContractsSettings(
        database_url=stack.database_urls["contracts"],
        http_port=0,
        kafka={"bootstrap_servers": stack.kafka_bootstrap},
        **overrides,
    )


@pytest.fixture(scope="session")
async def contracts_api(stack) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(create_app(contracts_settings(stack))) as client:
        yield client
