"""The whole system as processes: the four services, the console and the scheduler on the test stack.

Module-scoped: the processes stop when the e2e module ends, so their consumer groups do not
share partitions with the in-process services of the integration tests that run later.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from deploy.demo.client import Abonent
from deploy.local.layout import StackPorts
from deploy.local.services import start_services, stop_services


@pytest.fixture(scope="module")
def system(stack) -> Iterator[dict[str, str]]:
    free = StackPorts.free()
    ports = {"contracts": free.kafka, "projections": free.controller, "tickets": free.postgres, "notifier": free.smtp}
    ports["scheduler"] = StackPorts.free().kafka  # its probes and metrics
    ports["console"] = next(p for p in StackPorts.free().__dict__.values() if p not in ports.values())
    env = {**stack.env(), "NOTIFY_GENERAL_EMAIL": "service-desk@example.com"}
    urls = start_services(stack.run_dir, env, ports, progress=lambda _: None)
    try:
        yield urls
    finally:
        stop_services(stack.run_dir)


@pytest.fixture
async def abonent(system) -> AsyncIterator[Abonent]:
    api = Abonent.connect(system, actor="e2e-test")
    yield api
    await api.close()
