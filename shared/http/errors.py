"""One error shape for every service: RFC 9457 ``application/problem+json`` that keeps the
``errors`` list every client already reads (docs/http.md)::

    {"type": "urn:abonent:problem:ends_before_start", "title": "Unprocessable Content",
     "status": 422, "detail": "...", "instance": "/contracts/…/periods",
     "correlation_id": "…", "errors": [{"field": "ends_on", "rule": "ends_before_start", "message": "..."}]}

The one mapping of errors to answers, registered on every service's app (``create_service_app``),
so routes raise and never translate: request validation -> 422; a domain refusal
(``shared.domain_errors``): NotFound -> 404, Conflict -> 409, any other -> 422; a version clash
the repository kept losing (``ConcurrencyError``) -> 409 ``concurrent_modification``; a path
without that method -> 405 with ``Allow``. What nothing maps is ``shared.http.faults``' job
(503 when a dependency is down, else 500 — the same shape, never a plain-text page).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.domain_errors import Conflict, DomainError, NotFound
from shared.eventstore.errors import ConcurrencyError
from shared.http.routes import matching

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:abonent:problem:"


class ApiError(Exception):
    """Raised by routes and mapped to ``status`` with one error entry (and ``headers``)."""

    def __init__(
        self, status: int, rule: str, message: str, field: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.rule, self.message, self.field = status, rule, message, field
        self.headers = headers


class ErrorEntry(BaseModel):
    field: str | None = Field(description="the field, parameter or header at fault (null: the request as a whole)")
    rule: str = Field(description="a stable machine code, e.g. ends_before_start")
    message: str


class ErrorBody(BaseModel):
    """Every error answer (RFC 9457 problem details; ``errors`` and ``correlation_id`` are
    extension members). Clients may read ``errors`` as before."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"additionalProperties": True})

    type: str = Field(description="urn:abonent:problem:<rule> of the first error", examples=[f"{TYPE_PREFIX}not_found"])
    title: str = Field(description="the status' reason phrase")
    status: int
    detail: str = Field(description="the first error's message (and how many more there are)")
    instance: str = Field(description="the request's path")
    correlation_id: str | None = Field(default=None, description="the X-Correlation-ID of the request, for support")
    errors: list[ErrorEntry]


def problem(
    status: int,
    errors: list[dict[str, Any]],
    instance: str = "",
    correlation_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The problem document for ``errors`` (each ``{field, rule, message}``)."""
    first = errors[0] if errors else {"rule": "error", "message": HTTPStatus(status).phrase}
    detail = first["message"] + (f" (and {len(errors) - 1} more in errors)" if len(errors) > 1 else "")
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + first["rule"],
        "title": _phrase(status),
        "status": status,
        "detail": detail,
        "instance": instance,
        "correlation_id": correlation_id,
        "errors": errors,
    }
    body.update(extra)
    return body


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def error_body(field: str | None, rule: str, message: str) -> dict[str, Any]:
    """One error entry in a list: what ``problem`` and older callers build on."""
    return {"errors": [{"field": field, "rule": rule, "message": message}]}


def problem_response(
    request: Request, status: int, errors: list[dict[str, Any]], headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    correlation_id = getattr(request.state, "correlation_id", None)
    return JSONResponse(
        status_code=status,
        content=problem(status, errors, request.url.path, correlation_id, **extra),
        headers=headers,
        media_type=PROBLEM_JSON,
    )


def _field_name(loc: tuple[Any, ...]) -> str:
    # ("body", "periods", 0, "amount") -> "periods[0].amount"; query/path params keep their name
    parts = [p for p in loc if p not in ("body", "query", "path", "header")]
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "body"


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [
        {
            "field": _field_name(tuple(e.get("loc", ()))),
            "rule": e.get("type", "invalid"),
            "message": e.get("msg", "invalid value"),
        }
        for e in exc.errors()
    ]
    return problem_response(request, 422, errors)


async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
    return problem_response(request, exc.status, error_body(exc.field, exc.rule, exc.message)["errors"], exc.headers)


def domain_status(exc: DomainError) -> int:
    return 404 if isinstance(exc, NotFound) else 409 if isinstance(exc, Conflict) else 422


async def _domain_error(request: Request, exc: DomainError) -> JSONResponse:
    return problem_response(request, domain_status(exc), error_body(exc.field, exc.rule, exc.message)["errors"])


async def _concurrency_error(request: Request, exc: ConcurrencyError) -> JSONResponse:
    message = f"{exc}; another change won repeatedly, retry the request"
    return problem_response(request, 409, error_body(None, "concurrent_modification", message)["errors"])


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app answers on this path (RFC 9110 ``Allow``): a path
    may have several routes, one per method."""
    table = getattr(request.app.state, "route_table", ())
    return sorted({method for entry in matching(table, request.url.path) for method in entry.methods})


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    rule = getattr(exc, "rule", None) or {404: "not_found", 405: "method_not_allowed"}.get(
        exc.status_code, "http_error"
    )
    headers = dict(exc.headers or {})
    message = str(exc.detail)
    if exc.status_code == 405:
        allowed = allowed_methods(request)
        headers["Allow"] = ", ".join(allowed)
        message = f"{request.method} is not allowed here; allowed: {', '.join(allowed)}"
    elif exc.status_code == 404 and message == "Not Found":
        message = f"no resource at {request.url.path[:200]}"
    elif exc.status_code == 400 and rule == "http_error":  # FastAPI: a body that is not UTF-8 JSON
        rule, message = "invalid_body", f"the body is not JSON: {message}"
    return problem_response(request, exc.status_code, error_body(None, rule, message)["errors"], headers or None)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]  # Starlette types handlers for Exception
    app.add_exception_handler(ApiError, _api_error)  # type: ignore[arg-type]  # Starlette types handlers for Exception
    app.add_exception_handler(DomainError, _domain_error)  # type: ignore[arg-type]  # Starlette types handlers for Exception
    app.add_exception_handler(ConcurrencyError, _concurrency_error)  # type: ignore[arg-type]  # Starlette types handlers for Exception
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]  # Starlette types handlers for Exception


async def send_problem(
    send: Any,
    status: int,
    errors: list[dict[str, Any]],
    instance: str,
    correlation_id: str | None = None,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """The problem document straight onto an ASGI ``send`` (for plain-ASGI middleware)."""
    body = orjson.dumps(problem(status, errors, instance[:200], correlation_id))
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
