"""A ticket is never lost: projections stopped, slow or dead still gives 201 with `unknown`."""

from __future__ import annotations

import asyncio
import time

from services.projections.bootstrap import create_app as create_projections_app
from shared.topics import TICKETS_EVENTS
from tests.integration.tickets.conftest import projections_settings
from tests.integration.tickets.seed import Q1_DAY, Q2_DAY, reference_client
from tests.support.kafka import collect
from tests.support.servers import free_port, serving


async def test_with_projections_stopped_the_ticket_is_registered_with_unknown_coverage(
    contracts_api, tickets_service, unused_url, stack
):
    seed = await reference_client(contracts_api)
    async with tickets_service(unused_url) as api:
        started = time.perf_counter()
        r = await api.post(
            "/tickets", json={"client_id": seed.client_id, "title": "PC will not boot", "registered_at": Q2_DAY}
        )
        assert r.status_code == 201, r.text
        assert time.perf_counter() - started < 2
        ticket = r.json()
        assert ticket["coverage"]["status"] == "unknown"
        [warning] = ticket["coverage"]["warnings"]
        assert warning["code"] == "COVERAGE_UNKNOWN" and "unreachable" in warning["message"]
        assert ticket["coverage"]["total_owed"] is None and ticket["billable"] is False
        stored = (await api.get(f"/tickets/{ticket['id']}")).json()
        assert stored["coverage"] == ticket["coverage"]

    [event] = await collect(
        stack.kafka_bootstrap, TICKETS_EVENTS, key=seed.client_id, until=lambda found: len(found) >= 1
    )
    assert event.data["ticket_id"] == ticket["id"]
    assert event.data["coverage"]["status"] == "unknown"
    assert event.data["coverage"]["warnings"][0]["code"] == "COVERAGE_UNKNOWN"


async def test_projections_going_down_and_coming_back(contracts_api, projections_url, tickets_service, stack):
    """A second projections instance (same read model) is stopped and restarted under the
    tickets service: tickets keep being registered, the breaker stops calling the dead
    service, and coverage comes back once it answers again."""
    seed = await reference_client(contracts_api)
    port = free_port()
    settings = projections_settings(stack, consume=False)  # the session's instance consumes
    body = {"client_id": seed.client_id, "title": "Scanner", "registered_at": Q1_DAY}

    async with tickets_service(
        f"http://127.0.0.1:{port}", coverage_breaker_failures=2, coverage_breaker_reset_seconds=1.0
    ) as api:
        async with serving(create_projections_app(settings), port=port):
            r = await api.post("/tickets", json={**body, "min_position": seed.position})
            assert r.json()["coverage"]["status"] == "covered", r.text

        # stopped: refused connections, then an open circuit that answers at once
        statuses = []
        for _ in range(5):
            started = time.perf_counter()
            r = await api.post("/tickets", json=body)
            assert r.status_code == 201, r.text
            statuses.append((r.json()["coverage"]["status"], r.json()["coverage"]["warnings"][0]["message"]))
            assert time.perf_counter() - started < 1.0
        assert {s for s, _ in statuses} == {"unknown"}
        assert "circuit open" in statuses[-1][1]

        registered = 6
        async with serving(create_projections_app(settings), port=port):
            deadline = time.monotonic() + 10
            while True:  # after the reset time one trial goes through and closes the circuit
                r = await api.post("/tickets", json=body)
                assert r.status_code == 201, r.text
                registered += 1
                if r.json()["coverage"]["status"] == "covered":
                    break
                assert time.monotonic() < deadline, r.text
                await asyncio.sleep(0.2)

        listed = (await api.get("/tickets", params={"client_id": seed.client_id})).json()["items"]
        assert len(listed) == registered  # not one ticket lost


async def test_a_hanging_projections_service_costs_at_most_the_timeout(contracts_api, tickets_service):
    """Projections accept the connection but never answer: registration still answers fast."""
    from fastapi import FastAPI

    hanging = FastAPI()

    @hanging.get("/clients/{client_id}/coverage")
    async def never(client_id: str) -> dict:
        await asyncio.sleep(2)  # far past the 300 ms deadline
        return {}

    seed = await reference_client(contracts_api)
    async with serving(hanging) as fake, tickets_service(str(fake.base_url)) as api:
        for _ in range(2):
            started = time.perf_counter()
            r = await api.post("/tickets", json={"client_id": seed.client_id, "title": "Slow", "registered_at": Q2_DAY})
            assert r.status_code == 201, r.text
            assert time.perf_counter() - started < 1.0
            [warning] = r.json()["coverage"]["warnings"]
            assert warning["code"] == "COVERAGE_UNKNOWN" and "within 300 ms" in warning["message"]
