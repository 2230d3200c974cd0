"""``Server-Timing`` on every answer: the page's own time and each call it made to a service.

``app;dur=…`` is the time from the request's arrival to the start of the answer (the calls,
the rendering); then one ``api;desc="<service> <METHOD> <path>";dur=…`` per call, ids shown
as ``{id}``. The browser's developer tools show them; the console's benchmark
(``make bench-console``) reads them. ``observe`` is what the HTTP adapter calls after each call.
"""

from __future__ import annotations

import re
import time
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_CALLS: ContextVar[list[tuple[str, float]] | None] = ContextVar("console_calls", default=None)
_ID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def observe(service: str, method: str, path: str, seconds: float) -> None:
    """One finished call to a service, counted in the answer of the request that made it."""
    calls = _CALLS.get()
    if calls is not None:
        calls.append((f"{service} {method} {_ID.sub('{id}', path)}", seconds))


def header(total: float, calls: list[tuple[str, float]]) -> str:
    parts = [f"app;dur={total * 1000:.1f}"]
    parts += [f'api;desc="{what}";dur={seconds * 1000:.1f}' for what, seconds in calls]
    return ", ".join(parts)


class ServerTiming:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        calls: list[tuple[str, float]] = []
        reset = _CALLS.set(calls)

        async def timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                value = header(time.perf_counter() - started, calls).encode()
                message = {**message, "headers": [*message.get("headers", []), (b"server-timing", value)]}
            await send(message)

        try:
            await self.app(scope, receive, timed)
        finally:
            _CALLS.reset(reset)
