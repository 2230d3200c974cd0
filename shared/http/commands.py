"""What a write route needs from the request: who, why and when, for the events' metadata.

Refusals need nothing here: ``shared.http.errors`` maps them for every route.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request

from shared.eventstore.records import CommandContext


def command_context(request: Request) -> CommandContext:
    """The actor is the verified token's subject (``allow(...)`` on the route put it there)."""
    principal = getattr(request.state, "principal", None)
    if principal is None:
        raise RuntimeError(f"{request.url.path}: a write route without allow(...) has no actor")
    return CommandContext(
        correlation_id=request.state.correlation_id,
        actor=principal.actor,
        now=datetime.now(UTC),
        causation_id=request.headers.get("X-Causation-ID"),
    )


async def _context(request: Request) -> CommandContext:
    # async: FastAPI runs a plain ``def`` dependency in its thread pool, a hand-off per request
    return command_context(request)


Context = Annotated[CommandContext, Depends(_context)]
"""A route parameter: the command context (resolved after the route's ``allow(...)``)."""
