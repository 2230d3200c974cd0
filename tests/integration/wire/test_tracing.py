"""One trace, end to end, through the real services, PostgreSQL and Kafka (in-memory exporter).

POST …/payments → the event-store append and its queries → the outbox row (traceparent in its
headers) → the Kafka record's headers → the projection applying it; POST /scheduler/tick →
… → the notifier handling the reminder and sending its e-mails; POST /tickets → the coverage
call to projections.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

YEAR = 2023  # a year no other test ticks through


async def _spans_until(
    exporter: InMemorySpanExporter, trace_id: int, done: Callable[[list[ReadableSpan]], bool], timeout: float = 60
) -> list[ReadableSpan]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        spans = [s for s in exporter.get_finished_spans() if s.context.trace_id == trace_id]
        if done(spans):
            return spans
        assert loop.time() < deadline, f"trace incomplete: {sorted(s.name for s in spans)}"
        await asyncio.sleep(0.2)


def _server_span(exporter: InMemorySpanExporter, method: str, route_part: str) -> ReadableSpan:
    found = [
        s
        for s in exporter.get_finished_spans()
        if s.kind == SpanKind.SERVER and s.name.startswith(method) and route_part in s.name
    ]
    assert found, f"no server span for {method} {route_part}: {[s.name for s in exporter.get_finished_spans()]}"
    return found[-1]


def _named(spans: list[ReadableSpan], prefix: str) -> list[ReadableSpan]:
    return [s for s in spans if s.name.startswith(prefix)]


def _ancestors(span: ReadableSpan, spans: list[ReadableSpan]) -> list[str]:
    by_id = {s.context.span_id: s for s in spans}
    names, parent = [], span.parent
    while parent is not None and parent.span_id in by_id:
        node = by_id[parent.span_id]
        names.append(node.name)
        parent = node.parent
    return names


async def test_a_payment_is_one_trace_from_the_request_to_the_projection(system, spans) -> None:
    api = system.contracts
    tag = uuid.uuid4().hex[:8]
    client = (
        await api.post(
            "/clients", json={"name": f"Trace {tag}", "manager_name": "M", "manager_email": f"m.{tag}@example.com"}
        )
    ).json()["id"]
    contract = (
        await api.post(
            "/contracts",
            json={"client_id": client, "number": f"T-{tag}", "title": "t", "signed_on": f"{YEAR - 1}-12-01"},
        )
    ).json()["id"]
    period = (
        await api.post(
            f"/contracts/{contract}/periods",
            json={
                "starts_on": f"{YEAR}-01-01",
                "ends_on": f"{YEAR}-03-31",
                "amount": "9000.00",
                "currency": "RUB",
                "payment_terms": "prepaid",
                "remind_on": f"{YEAR}-03-21",
            },
        )
    ).json()["period_id"]
    spans.clear()

    r = await api.post(f"/contracts/{contract}/periods/{period}/payments", json={"paid_on": f"{YEAR}-01-05"})
    assert r.status_code == 201, r.text
    request = _server_span(spans, "POST", "/payments")
    trace = await _spans_until(spans, request.context.trace_id, lambda s: bool(_named(s, "projections apply")))

    [append] = _named(trace, "eventstore append")
    assert _ancestors(append, trace)[-1] == request.name
    assert any(s.attributes and s.attributes.get("db.system") == "postgresql" for s in trace), "no asyncpg span"
    [apply] = _named(trace, "projections apply PaymentRecorded")
    assert apply.kind == SpanKind.CONSUMER
    assert (apply.attributes or {})["messaging.destination.name"] == "contracts.events.v1"
    assert apply.parent is not None and apply.parent.span_id == append.context.span_id  # via the Kafka headers

    # The reminder: tick → time event → outbox → contracts.schedule.v1 → notifier → SMTP.
    spans.clear()
    r = await api.post("/scheduler/tick", json={"as_of": f"{YEAR}-03-21"})
    assert r.status_code == 200, r.text
    tick = _server_span(spans, "POST", "/scheduler/tick")
    trace = await _spans_until(
        spans,
        tick.context.trace_id,
        lambda s: len(_named(s, "notifier send")) >= 2 and bool(_named(s, "notifier handle ServicePeriodEndingSoon")),
    )
    [handled] = _named(trace, "notifier handle ServicePeriodEndingSoon")
    assert _ancestors(handled, trace)[-1] == tick.name
    assert all(s.parent and s.parent.span_id == handled.context.span_id for s in _named(trace, "notifier send"))


async def test_a_ticket_carries_its_trace_to_the_coverage_lookup(system, spans) -> None:
    client = (
        await system.contracts.post(
            "/clients", json={"name": "Trace tickets", "manager_name": "M", "manager_email": "t@example.com"}
        )
    ).json()["id"]
    spans.clear()
    r = await system.tickets.post("/tickets", json={"client_id": client, "title": "printer"})
    assert r.status_code == 201, r.text
    request = _server_span(spans, "POST", "/tickets")
    trace = await _spans_until(spans, request.context.trace_id, lambda s: bool(_named(s, "GET /clients/")))
    [coverage] = [s for s in _named(trace, "GET /clients/") if s.kind == SpanKind.SERVER]
    assert request.name in _ancestors(coverage, trace)
