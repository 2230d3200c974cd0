"""The catch-all: an error nothing else mapped still answers in the problem shape.

* a dependency that is down — PostgreSQL refusing or dropping connections, a pool or connect
  timeout, a socket error — answers ``503 dependency_unavailable`` with ``Retry-After``, at
  once: the pool makes new connections when PostgreSQL is back, so the service recovers by
  itself;
* anything else answers ``500 internal_error`` and is logged once with its traceback.

Both carry the request's correlation id, so a support call can find the log line. Plain ASGI
(inside RequestContext, outside everything that touches a database), so nothing reaches
Starlette's ServerErrorMiddleware and its plain-text ``Internal Server Error``.
"""

from __future__ import annotations

import asyncio

import asyncpg
import structlog
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.http.errors import send_problem

RETRY_AFTER_SECONDS = 5

log = structlog.get_logger("http.faults")


class DependencyUnavailable(Exception):
    """An adapter's way to say "what I need is down" (answered 503, like a lost database)."""


_UNAVAILABLE: tuple[type[BaseException], ...] = (
    DependencyUnavailable,
    asyncpg.PostgresConnectionError,  # refused, dropped, "cannot connect now", "too many connections"
    asyncpg.exceptions.OperatorInterventionError,  # admin shutdown, crash shutdown, cannot connect now
    asyncpg.exceptions.InsufficientResourcesError,  # too many connections, out of memory or disk
    asyncpg.InterfaceError,  # "connection is closed", "pool is closing"
    # The driver's state machine broken by a connection lost mid-operation ("cannot switch to
    # state 12; another operation is in progress", seen while PostgreSQL shut down): the
    # connection is discarded and a retry gets a fresh one.
    asyncpg.InternalClientError,
    OSError,  # connection refused, reset, unreachable (ConnectionError is one)
    asyncio.TimeoutError,  # a connect or command that did not answer in time
)


def classify(exc: BaseException) -> tuple[int, str, str]:
    """(status, rule, message) for an exception no handler mapped."""
    if isinstance(exc, HTTPException):  # raised by a middleware (a body over the limit), outside the handlers
        return exc.status_code, getattr(exc, "rule", None) or "http_error", str(exc.detail)
    if isinstance(exc, _UNAVAILABLE):
        return 503, "dependency_unavailable", "a service this request needs is unavailable; retry later"
    return 500, "internal_error", "an unexpected error; the correlation id names it in the service's logs"


class UnhandledErrors:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            if started:  # half an answer is on the wire: nothing better to do than drop it
                raise
            status, rule, message = classify(exc)
            correlation_id = scope.get("state", {}).get("correlation_id")
            fields = {"method": scope["method"], "path": scope["path"][:200], "status": status}
            if status == 503:
                log.warning("dependency unavailable", error=repr(exc)[:300], **fields)
            elif status < 500:
                log.info("request refused", error=str(exc)[:300], **fields)
            else:
                log.exception("unhandled error", **fields)
            headers = [(b"retry-after", str(RETRY_AFTER_SECONDS).encode())] if status == 503 else []
            errors = [{"field": None, "rule": rule, "message": message}]
            await send_problem(send, status, errors, scope["path"], correlation_id, headers)
