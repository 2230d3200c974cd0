"""The coverage client against a fake projections service (httpx.MockTransport, no sockets)."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import date
from decimal import Decimal

import httpx
import pytest

from services.tickets.adapters.circuit_breaker import OPEN, CircuitBreaker
from services.tickets.adapters.coverage_client import HttpCoverageSource
from services.tickets.application.ports import ClientUnknown, Known, Unavailable
from tests.unit.tickets.tickets_helpers import NOW

CLIENT = uuid.uuid4()
ON = date(2026, 5, 15)


def unpaid_answer(client_id: uuid.UUID = CLIENT) -> dict:
    period = {"contract_id": str(uuid.uuid4()), "period_id": str(uuid.uuid4()),
              "starts_on": "2026-04-01", "ends_on": "2026-06-30", "payment_terms": "prepaid"}
    return {
        "client_id": str(client_id), "on": "2026-05-15", "status": "unpaid",
        "active_period": {**period, "contract_number": "AB-1", "amount": "30000.00",
                          "paid_amount": "0.00", "paid": False, "currency": "RUB"},
        "owed": [{**period, "due_on": "2026-04-01", "amount_due": "30000.00", "currency": "RUB",
                  "days_overdue": 44, "a_field_added_later": True}],
        "total_owed": "30000.00", "currency": "RUB",
        "totals": [{"amount": "30000.00", "currency": "RUB"}],
        "warnings": [{"code": "CURRENT_PERIOD_UNPAID", "message": "the current period 2026-04-01 – "
                      "2026-06-30 is unpaid: 30000.00 RUB due since 2026-04-01 (44 days ago)"}],
        "position": 812, "stale": False}


class Fake:
    """A projections service: answers with ``respond`` and counts the calls."""

    def __init__(self, respond) -> None:  # type: ignore[no-untyped-def]
        self.respond = respond
        self.calls: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        result = self.respond(request)
        if asyncio.iscoroutine(result):
            result = await result
        return result


def source(fake: Fake, **kwargs) -> HttpCoverageSource:  # type: ignore[no-untyped-def]
    kwargs.setdefault("breaker", CircuitBreaker(failure_threshold=3, reset_after=60))
    return HttpCoverageSource("http://projections.test", transport=httpx.MockTransport(fake),
                              now=lambda: NOW, **kwargs)


async def test_an_answer_becomes_the_snapshot():
    fake = Fake(lambda r: httpx.Response(200, json=unpaid_answer()))
    client = source(fake)
    lookup = await client.coverage(CLIENT, ON, None)
    assert isinstance(lookup, Known)
    s = lookup.snapshot
    assert (s.status, s.on, s.source_position, s.stale, s.checked_at) == ("unpaid", ON, 812, False, NOW)
    assert s.owed[0].amount_due == Decimal("30000.00") and s.owed[0].days_overdue == 44
    assert [(t.amount, t.currency) for t in s.totals] == [(Decimal("30000.00"), "RUB")]
    assert s.warnings[0].code == "CURRENT_PERIOD_UNPAID"
    assert s.active_period is not None and s.active_period.contract_number == "AB-1"
    assert fake.calls[0].url.path == f"/clients/{CLIENT}/coverage"
    assert dict(fake.calls[0].url.params) == {"on": "2026-05-15"}
    await client.close()


async def test_min_position_is_forwarded():
    fake = Fake(lambda r: httpx.Response(200, json=unpaid_answer()))
    client = source(fake)
    await client.coverage(CLIENT, ON, 811)
    assert dict(fake.calls[0].url.params) == {"on": "2026-05-15", "min_position": "811"}
    await client.close()


async def test_unknown_client_is_an_answer_not_a_failure():
    body = {"errors": [{"field": "client_id", "rule": "unknown_client", "message": "..."}]}
    fake = Fake(lambda r: httpx.Response(404, json=body))
    client = source(fake, breaker=CircuitBreaker(failure_threshold=1, reset_after=60))
    assert isinstance(await client.coverage(CLIENT, ON, None), ClientUnknown)
    assert isinstance(await client.coverage(CLIENT, ON, None), ClientUnknown)
    assert len(fake.calls) == 2
    await client.close()


@pytest.mark.parametrize("response, words", [
    (httpx.Response(500, text="boom"), "HTTP 500"),
    (httpx.Response(503, json={"errors": []}), "HTTP 503"),
    (httpx.Response(404, json={"errors": [{"rule": "not_found"}]}), "HTTP 404"),
    (httpx.Response(200, text="<html>"), "not JSON"),
    (httpx.Response(200, json={"status": "fantastic", "on": "2026-05-15"}), "cannot read"),
])
async def test_errors_are_unavailable_with_a_reason(response, words):
    client = source(Fake(lambda r: response))
    lookup = await client.coverage(CLIENT, ON, None)
    assert isinstance(lookup, Unavailable) and words in lookup.reason
    await client.close()


async def test_a_refused_connection_is_unavailable():
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    client = source(Fake(refuse))
    lookup = await client.coverage(CLIENT, ON, None)
    assert isinstance(lookup, Unavailable) and "unreachable" in lookup.reason
    await client.close()


async def test_a_slow_service_costs_at_most_the_timeout():
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return httpx.Response(200, json=unpaid_answer())

    client = source(Fake(slow), timeout=0.1, wait_timeout=0.3)
    started = time.perf_counter()
    lookup = await client.coverage(CLIENT, ON, None)
    assert isinstance(lookup, Unavailable) and "within 100 ms" in lookup.reason
    assert time.perf_counter() - started < 0.5
    started = time.perf_counter()
    lookup = await client.coverage(CLIENT, ON, 5)  # waiting for a position: the longer deadline
    assert isinstance(lookup, Unavailable) and "within 300 ms" in lookup.reason
    assert 0.25 < time.perf_counter() - started < 0.8
    await client.close()


async def test_after_repeated_failures_the_dead_service_is_not_called_at_all():
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    fake = Fake(refuse)
    breaker = CircuitBreaker(failure_threshold=3, reset_after=60)
    client = source(fake, breaker=breaker)
    for _ in range(3):
        await client.coverage(CLIENT, ON, None)
    assert breaker.state == OPEN and len(fake.calls) == 3
    started = time.perf_counter()
    lookups = [await client.coverage(CLIENT, ON, None) for _ in range(100)]
    assert time.perf_counter() - started < 0.05
    assert len(fake.calls) == 3
    assert all(isinstance(x, Unavailable) and "circuit open" in x.reason for x in lookups)
    await client.close()


async def test_the_circuit_closes_when_the_service_answers_again():
    clock = [0.0]
    answers = iter([httpx.ConnectError("down"), httpx.Response(200, json=unpaid_answer())])

    def flaky(request: httpx.Request) -> httpx.Response:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    fake = Fake(flaky)
    client = source(fake, breaker=CircuitBreaker(failure_threshold=1, reset_after=5,
                                                 clock=lambda: clock[0]))
    assert isinstance(await client.coverage(CLIENT, ON, None), Unavailable)
    assert isinstance(await client.coverage(CLIENT, ON, None), Unavailable)  # open: not called
    assert len(fake.calls) == 1
    clock[0] = 5.0
    assert isinstance(await client.coverage(CLIENT, ON, None), Known)       # the trial succeeds
    assert client.breaker.state == "closed"
    await client.close()
