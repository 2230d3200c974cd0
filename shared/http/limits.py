"""Request limits every service applies before anything else reads the request.

* headers over 16 KiB in all -> 431;
* a body over 1 MiB -> 413 (at once by ``Content-Length``; while reading for chunked bodies),
  or over the limit a service sets for one path (an upload: ``body_limits``);
* ``X-Correlation-ID`` / ``X-Causation-ID`` longer than 128 characters or outside
  ``[A-Za-z0-9._:-]`` -> 400. These ids are copied into every event and its Kafka headers,
  so an unbounded one could make an event the relay can never publish.

Plain ASGI, like RequestContext (no BaseHTTPMiddleware task and stream per request).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import orjson
import structlog
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.http.errors import PROBLEM_JSON, problem

MAX_HEADER_BYTES = 16 * 1024
MAX_BODY_BYTES = 1024 * 1024
MAX_ID_LENGTH = 128
ID_HEADERS = (b"x-correlation-id", b"x-causation-id")
_ID = re.compile(rb"^[A-Za-z0-9._:\-]{1,128}$")

log = structlog.get_logger("http.limits")


class BodyTooLarge(HTTPException):
    rule = "body_too_large"

    def __init__(self, limit: int = MAX_BODY_BYTES) -> None:
        super().__init__(413, f"the request body is over {limit} bytes")


async def _refuse(send: Send, path: str, status: int, field: str | None, rule: str, message: str) -> None:
    # before RequestContext: the correlation id may be what was refused, so none is echoed
    body = orjson.dumps(problem(status, [{"field": field, "rule": rule, "message": message}], path[:200]))
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def refusal(
    headers: list[tuple[bytes, bytes]], max_body: int = MAX_BODY_BYTES
) -> tuple[int, str | None, str, str] | None:
    """(status, field, rule, message) when the request's headers break a limit."""
    if sum(len(k) + len(v) + 4 for k, v in headers) > MAX_HEADER_BYTES:
        return 431, None, "headers_too_large", f"the request headers are over {MAX_HEADER_BYTES} bytes"
    for name, value in headers:
        if name in ID_HEADERS and not _ID.match(value):
            field = "X-Correlation-ID" if name == b"x-correlation-id" else "X-Causation-ID"
            return 400, field, "invalid_id", (f"{field} must be 1-{MAX_ID_LENGTH} characters of A-Z a-z 0-9 . _ : -")
        if name == b"content-length":
            if not value.isdigit():
                return 400, "Content-Length", "invalid_length", "Content-Length must be a number"
            if int(value) > max_body:
                return 413, None, "body_too_large", f"the request body is over {max_body} bytes"
    return None


class RequestLimits:
    def __init__(self, app: ASGIApp, body_limits: Mapping[str, int] | None = None) -> None:
        """``body_limits``: a larger (or smaller) body limit for an exact path, such as an upload."""
        self.app = app
        self.body_limits = dict(body_limits or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_body = self.body_limits.get(scope["path"], MAX_BODY_BYTES)
        refused = refusal(scope["headers"], max_body)
        if refused is not None:
            status, field, rule, message = refused
            log.warning("request refused", status=status, rule=rule, method=scope["method"], path=scope["path"][:200])
            await _refuse(send, scope["path"], status, field, rule, message)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_body:
                    raise BodyTooLarge(max_body)
            return message

        await self.app(scope, counted, send)
