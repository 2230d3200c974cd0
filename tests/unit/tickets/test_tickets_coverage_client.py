"""The coverage client against a fake projections service on a local port (aiohttp test server)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from decimal import Decimal

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from services.tickets.adapters.circuit_breaker import OPEN, CircuitBreaker
from services.tickets.adapters.coverage_client import HttpCoverageSource
from services.tickets.application.ports import ClientUnknown, Known, Unavailable
from tests.support.servers import free_port
from tests.unit.tickets.tickets_helpers import NOW

CLIENT = uuid.uuid4()
ON = date(2026, 5, 15)


def unpaid_answer(client_id: uuid.UUID = CLIENT) -> dict:
    period = {
        "contract_id": str(uuid.uuid4()),
        "period_id": str(uuid.uuid4()),
        "starts_on": "2026-04-01",
        "ends_on": "2026-06-30",
        "payment_terms": "prepaid",
    }
    return {
        "client_id": str(client_id),
        "on": "2026-05-15",
        "status": "unpaid",
        "active_period": {
            **period,
            "contract_number": "AB-1",
            "amount": "30000.00",
            "paid_amount": "0.00",
            "paid": False,
            "currency": "RUB",
        },
        "owed": [
            {
                **period,
                "due_on": "2026-04-01",
                "amount_due": "30000.00",
                "currency": "RUB",
                "days_overdue": 44,
                "a_field_added_later": True,
            }
        ],
        "total_owed": "30000.00",
        "currency": "RUB",
        "totals": [{"amount": "30000.00", "currency": "RUB"}],
        "warnings": [
            {
                "code": "CURRENT_PERIOD_UNPAID",
                "message": "the current period 2026-04-01 – "
                "2026-06-30 is unpaid: 30000.00 RUB due since 2026-04-01 (44 days ago)",
            }
        ],
        "position": 812,
        "stale": False,
    }


class Fake:
    """A projections service: answers every GET with ``respond`` and counts the calls."""

    def __init__(self, respond) -> None:
        self.respond = respond
        self.calls: list[web.Request] = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.calls.append(request)
        result = self.respond(request)
        if asyncio.iscoroutine(result):
            result = await result
        return result


def json_answer(status: int, body: object) -> web.Response:
    return web.json_response(body, status=status)


def drop(request: web.Request) -> web.Response:
    """The connection is cut before an answer (a projections process dying mid-call).

    aiohttp retries a GET once on a fresh connection when that happens (RFC 9112 §9.3.1.1), so
    a lookup that meets ``drop`` calls the fake twice.
    """
    assert request.transport is not None
    request.transport.close()
    return web.Response()


@asynccontextmanager
async def source(fake: Fake, **kwargs) -> AsyncIterator[HttpCoverageSource]:
    app = web.Application()
    app.router.add_get("/{path:.*}", fake.handle)
    server = TestServer(app)
    await server.start_server()
    kwargs.setdefault("breaker", CircuitBreaker(failure_threshold=3, reset_after=60))
    client = HttpCoverageSource(str(server.make_url("")), now=lambda: NOW, **kwargs)
    try:
        yield client
    finally:
        await client.close()
        await server.close()


async def test_an_answer_becomes_the_snapshot():
    fake = Fake(lambda r: json_answer(200, unpaid_answer()))
    async with source(fake) as client:
        lookup = await client.coverage(CLIENT, ON, None)
    assert isinstance(lookup, Known)
    s = lookup.snapshot
    assert (s.status, s.on, s.source_position, s.stale, s.checked_at) == ("unpaid", ON, 812, False, NOW)
    assert s.owed[0].amount_due == Decimal("30000.00") and s.owed[0].days_overdue == 44
    assert [(t.amount, t.currency) for t in s.totals] == [(Decimal("30000.00"), "RUB")]
    assert s.warnings[0].code == "CURRENT_PERIOD_UNPAID"
    assert s.active_period is not None and s.active_period.contract_number == "AB-1"
    assert fake.calls[0].path == f"/clients/{CLIENT}/coverage"
    assert dict(fake.calls[0].query) == {"on": "2026-05-15"}


async def test_min_position_is_forwarded_without_a_server_side_wait():
    fake = Fake(lambda r: json_answer(200, unpaid_answer()))
    async with source(fake) as client:
        await client.coverage(CLIENT, ON, 811)
    assert dict(fake.calls[0].query) == {"on": "2026-05-15", "min_position": "811", "max_wait_ms": "0"}


class Projecting:
    """A projections service that applies position ``reached_after`` seconds from now and
    waits for a ``min_position`` the way the real one does: up to 2 s holding the request,
    unless the caller asks for ``max_wait_ms`` less."""

    def __init__(self, reached_after: float) -> None:
        self.reached_at = time.monotonic() + reached_after

    async def __call__(self, request: web.Request) -> web.Response:
        if "min_position" in request.query:
            wait = min(2.0, int(request.query.get("max_wait_ms", "2000")) / 1000)
            until = min(time.monotonic() + wait, self.reached_at)
            await asyncio.sleep(max(until - time.monotonic(), 0))
        return json_answer(200, {**unpaid_answer(), "stale": time.monotonic() < self.reached_at})


async def test_waiting_for_a_position_asks_again_until_the_answer_is_fresh():
    fake = Fake(Projecting(reached_after=0.3))
    async with source(fake, timeout=1.0, wait_timeout=3.0) as client:
        lookup = await client.coverage(CLIENT, ON, 811)
    assert isinstance(lookup, Known) and lookup.snapshot.stale is False
    assert len(fake.calls) >= 2


async def test_a_position_never_reached_ends_at_the_deadline_with_the_stale_answer():
    fake = Fake(Projecting(reached_after=60))
    async with source(fake, timeout=0.1, wait_timeout=0.6) as client:
        started = time.perf_counter()
        lookup = await client.coverage(CLIENT, ON, 811)
        elapsed = time.perf_counter() - started
    assert isinstance(lookup, Known) and lookup.snapshot.stale is True
    assert 0.3 < elapsed < 2.0  # the registration's deadline, not the server's 2 s wait


async def test_fifty_waits_for_a_position_do_not_exhaust_the_pool():
    """Issue 15: each min_position lookup held one of the pool's connections while projections
    waited for it (up to 2 s); fifty of them took the whole pool and every other registration's
    lookup timed out into coverage ``unknown``."""
    async with source(Fake(Projecting(reached_after=60)), timeout=1.0, wait_timeout=2.5, max_connections=50) as client:
        waits = [asyncio.create_task(client.coverage(CLIENT, ON, 811)) for _ in range(50)]
        await asyncio.sleep(0.2)  # every wait is under way
        plain = await asyncio.gather(*(client.coverage(CLIENT, ON, None) for _ in range(10)))
        assert all(isinstance(x, Known) for x in plain), [getattr(x, "reason", x) for x in plain]
        assert all(isinstance(x, Known) for x in await asyncio.gather(*waits))


async def test_unknown_client_is_an_answer_not_a_failure():
    body = {"errors": [{"field": "client_id", "rule": "unknown_client", "message": "..."}]}
    fake = Fake(lambda r: json_answer(404, body))
    async with source(fake, breaker=CircuitBreaker(failure_threshold=1, reset_after=60)) as client:
        assert isinstance(await client.coverage(CLIENT, ON, None), ClientUnknown)
        assert isinstance(await client.coverage(CLIENT, ON, None), ClientUnknown)
    assert len(fake.calls) == 2


@pytest.mark.parametrize(
    "status, body, words",
    [
        (500, "boom", "HTTP 500"),
        (503, {"errors": []}, "HTTP 503"),
        (404, {"errors": [{"rule": "not_found"}]}, "HTTP 404"),
        (200, "<html>", "not JSON"),
        (200, {"status": "fantastic", "on": "2026-05-15"}, "cannot read"),
    ],
)
async def test_errors_are_unavailable_with_a_reason(status, body, words):
    def respond(request: web.Request) -> web.Response:
        if isinstance(body, str):
            return web.Response(status=status, text=body)
        return json_answer(status, body)

    async with source(Fake(respond)) as client:
        lookup = await client.coverage(CLIENT, ON, None)
    assert isinstance(lookup, Unavailable) and words in lookup.reason


async def test_a_refused_connection_is_unavailable():
    client = HttpCoverageSource(f"http://127.0.0.1:{free_port()}")  # nothing listens there
    lookup = await client.coverage(CLIENT, ON, None)
    await client.close()
    assert isinstance(lookup, Unavailable) and "unreachable" in lookup.reason


async def test_a_dropped_connection_is_unavailable():
    async with source(Fake(drop)) as client:
        lookup = await client.coverage(CLIENT, ON, None)
    assert isinstance(lookup, Unavailable) and "unreachable" in lookup.reason


async def test_a_slow_service_costs_at_most_the_timeout():
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return json_answer(200, unpaid_answer())

    async with source(Fake(slow), timeout=0.1, wait_timeout=0.3) as client:
        started = time.perf_counter()
        lookup = await client.coverage(CLIENT, ON, None)
        assert isinstance(lookup, Unavailable) and "within 100 ms" in lookup.reason
        assert time.perf_counter() - started < 2.0  # not the fake's 5 s
        started = time.perf_counter()
        lookup = await client.coverage(CLIENT, ON, 5)  # waiting for a position: the longer deadline
        assert isinstance(lookup, Unavailable) and "within 300 ms" in lookup.reason
        assert 0.25 < time.perf_counter() - started < 2.0  # gave up at the deadline, not after the fake's 5 s


async def test_concurrent_lookups_share_the_pool_and_keep_their_connections():
    """32 lookups at once over a pool of 50: none waits for a connection, and a second round
    reuses the kept-alive ones instead of connecting again."""
    peers: set[object] = set()

    async def answer(request: web.Request) -> web.Response:
        peers.add(request.transport)
        await asyncio.sleep(0.05)  # long enough for all 32 to be in flight together
        return json_answer(200, unpaid_answer())

    async with source(Fake(answer), timeout=5.0) as client:  # a deadline no loaded CI machine trips
        for _ in range(2):
            lookups = await asyncio.gather(*(client.coverage(CLIENT, ON, None) for _ in range(32)))
            assert all(isinstance(x, Known) for x in lookups)
    assert len(peers) == 32


async def test_after_repeated_failures_the_dead_service_is_not_called_at_all():
    fake = Fake(drop)
    breaker = CircuitBreaker(failure_threshold=3, reset_after=60)
    async with source(fake, breaker=breaker) as client:
        for _ in range(3):
            await client.coverage(CLIENT, ON, None)
        assert breaker.state == OPEN
        calls = len(fake.calls)
        started = time.perf_counter()
        lookups = [await client.coverage(CLIENT, ON, None) for _ in range(100)]
        assert time.perf_counter() - started < 0.5  # no call waited for a timeout (each would be 0.3 s)
    assert len(fake.calls) == calls
    assert all(isinstance(x, Unavailable) and "circuit open" in x.reason for x in lookups)


async def test_the_circuit_closes_when_the_service_answers_again():
    clock = [0.0]
    down = [True]
    fake = Fake(lambda r: drop(r) if down[0] else json_answer(200, unpaid_answer()))
    breaker = CircuitBreaker(failure_threshold=1, reset_after=5, clock=lambda: clock[0])
    async with source(fake, breaker=breaker) as client:
        assert isinstance(await client.coverage(CLIENT, ON, None), Unavailable)
        calls = len(fake.calls)
        assert isinstance(await client.coverage(CLIENT, ON, None), Unavailable)  # open: not called
        assert len(fake.calls) == calls
        down[0] = False
        clock[0] = 5.0
        assert isinstance(await client.coverage(CLIENT, ON, None), Known)  # the trial succeeds
        assert client.breaker.state == "closed"


async def test_every_lookup_carries_this_services_token_and_a_refusal_says_so():
    tokens = iter(["first-token", "second-token"])
    fake = Fake(lambda _: json_answer(200, unpaid_answer()))
    async with source(fake, token=lambda: next(tokens)) as client:
        await client.coverage(CLIENT, ON, None)
        await client.coverage(CLIENT, ON, None)
    assert [c.headers["Authorization"] for c in fake.calls] == ["Bearer first-token", "Bearer second-token"]
    refusing = Fake(
        lambda _: json_answer(
            401, {"errors": [{"field": "Authorization", "rule": "unauthenticated", "message": "token expired"}]}
        )
    )
    async with source(refusing, token=lambda: "stale") as client:
        answer = await client.coverage(CLIENT, ON, None)
    assert isinstance(answer, Unavailable) and "refused this service's token" in answer.reason
    assert "token expired" in answer.reason and "stale" not in answer.reason
