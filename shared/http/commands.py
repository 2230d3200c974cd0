"""What a write route needs from the request (who, why, when) and how refusals become 4xx."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from fastapi import Request

from shared.domain_errors import Conflict, DomainError, NotFound
from shared.eventstore.errors import ConcurrencyError
from shared.eventstore.records import CommandContext
from shared.http.errors import ApiError


def command_context(request: Request) -> CommandContext:
    """The actor is the verified token's subject (``allow(...)`` on the route put it there)."""
    principal = getattr(request.state, "principal", None)
    if principal is None:
        raise RuntimeError(f"{request.url.path}: a write route without allow(...) has no actor")
    return CommandContext(
        correlation_id=request.state.correlation_id, actor=principal.actor,
        now=datetime.now(UTC), causation_id=request.headers.get("X-Causation-ID"))


@contextmanager
def domain_errors() -> Iterator[None]:
    """Domain refusals become 404 / 409 / 422 naming the field and the rule."""
    try:
        yield
    except NotFound as exc:
        raise ApiError(404, exc.rule, exc.message, exc.field) from exc
    except Conflict as exc:
        raise ApiError(409, exc.rule, exc.message, exc.field) from exc
    except DomainError as exc:
        raise ApiError(422, exc.rule, exc.message, exc.field) from exc
    except ConcurrencyError as exc:
        raise ApiError(409, "concurrent_modification",
                       f"{exc}; another change won repeatedly, retry the request") from exc
