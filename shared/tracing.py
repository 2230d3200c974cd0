"""OpenTelemetry tracing, end to end and off by default.

On when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (spans go there over OTLP/HTTP; the exporter
reads the standard ``OTEL_EXPORTER_OTLP_*`` variables itself, ``OTEL_SERVICE_NAME`` overrides
the service name), or when the process already installed an SDK tracer provider (a test with
the in-memory exporter). Off, nothing is instrumented and every helper here is a no-op.

The path of one trace: the HTTP request (``opentelemetry-instrumentation-fastapi``) → the
event-store append (a span here, its queries by ``-asyncpg``) → the outbox row, whose headers
keep the request's ``traceparent`` (:func:`inject`) → the relay copies the row's headers onto
the Kafka record → a consumer continues the trace from the record's headers
(:func:`consuming`, :func:`consuming_batch`). Tickets' coverage calls carry it over HTTP
(``-aiohttp-client``) to projections' FastAPI. aiokafka's own instrumentation is not used:
the relay sends hand-built record batches (not ``send``) and the consumers handle whole
fetches, so its per-``send``/per-``getone`` spans would miss both; the W3C headers do the same
job here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any

from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

if TYPE_CHECKING:
    from fastapi import FastAPI

ENDPOINT_VARIABLE = "OTEL_EXPORTER_OTLP_ENDPOINT"
EXCLUDED_URLS = "health/live,health/ready,metrics"

_state = {"on": False}
tracer = trace.get_tracer("abonent")


def enabled() -> bool:
    return _state["on"]


def configure(service: str) -> bool:
    """Turn tracing on for this process if it is asked for (see the module doc); idempotent.
    Returns whether it is on."""
    if _state["on"]:
        return True
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        if not os.environ.get(ENDPOINT_VARIABLE):
            return False
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        name = os.environ.get("OTEL_SERVICE_NAME") or f"abonent-{service}"
        provider = TracerProvider(resource=Resource.create({"service.name": name}))
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        trace.set_tracer_provider(provider)
    from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor

    AsyncPGInstrumentor().instrument()  # type: ignore[no-untyped-call]  # its __init__ is not annotated
    AioHttpClientInstrumentor().instrument()
    _state["on"] = True
    return True


def instrument_app(app: FastAPI, service: str) -> None:
    """Trace ``app``'s requests when tracing is on (health and metrics are left out)."""
    if configure(service):
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        FastAPIInstrumentor.instrument_app(app, excluded_urls=EXCLUDED_URLS)


def inject(headers: MutableMapping[str, str]) -> None:
    """Add the current trace context (``traceparent``…) to ``headers`` (an outbox row's)."""
    if _state["on"]:
        propagate.inject(headers)


@contextmanager
def span(name: str, **attributes: Any) -> Iterator[Span | None]:
    """A span around a block, when tracing is on."""
    if not _state["on"]:
        yield None
        return
    with tracer.start_as_current_span(name, attributes=_clean(attributes)) as current:
        yield current


def _clean(attributes: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, (str, int, float, bool)) else str(v) for k, v in attributes.items() if v is not None}


def _record_headers(record: Any) -> dict[str, str]:
    return {
        name: value.decode(errors="replace") if isinstance(value, bytes) else str(value)
        for name, value in (record.headers or ())
    }


def _consumer_span(name: str, record: Any) -> Span:
    headers = _record_headers(record)
    event_type = headers.get("event_type", "?")
    return tracer.start_span(
        f"{name} {event_type}",
        context=propagate.extract(headers),
        kind=SpanKind.CONSUMER,
        attributes=_clean(
            {
                "messaging.system": "kafka",
                "messaging.destination.name": record.topic,
                "messaging.destination.partition.id": str(record.partition),
                "messaging.kafka.offset": record.offset,
                "messaging.message.id": headers.get("event_id"),
                "abonent.event_type": event_type,
            }
        ),
    )


@contextmanager
def consuming(name: str, record: Any) -> Iterator[Span | None]:
    """A consumer span for one Kafka record, continuing the trace its headers carry."""
    if not _state["on"]:
        yield None
        return
    current = _consumer_span(name, record)
    with trace.use_span(current, end_on_exit=True, record_exception=True, set_status_on_exception=True):
        yield current


@contextmanager
def consuming_batch(name: str, records: Sequence[Any]) -> Iterator[None]:
    """One consumer span per record of a batch handled in one transaction, each in the trace
    its record's headers carry; all end when the batch does (marked failed if it raises)."""
    if not _state["on"]:
        yield
        return
    spans = [_consumer_span(name, r) for r in records if any(h[0] == "traceparent" for h in (r.headers or ()))]
    with ExitStack() as stack:
        for s in spans:
            stack.callback(s.end)
        try:
            yield
        except BaseException as exc:
            for s in spans:
                s.record_exception(exc)
                s.set_status(Status(StatusCode.ERROR, repr(exc)[:200]))
            raise
