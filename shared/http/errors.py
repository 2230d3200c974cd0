"""One JSON shape for every 4xx, naming the field and the rule that was broken.

    {"errors": [{"field": "ends_on", "rule": "ends_before_start", "message": "..."}]}

The one mapping of errors to answers, registered on every service's app (``create_service_app``),
so routes raise and never translate: request validation -> 422; a domain refusal
(``shared.domain_errors``): NotFound -> 404, Conflict -> 409, any other -> 422; a version clash
the repository kept losing (``ConcurrencyError``) -> 409 ``concurrent_modification``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.domain_errors import Conflict, DomainError, NotFound
from shared.eventstore.errors import ConcurrencyError


class ApiError(Exception):
    """Raised by routes and mapped to ``status`` with one error entry (and ``headers``)."""

    def __init__(
        self, status: int, rule: str, message: str, field: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.rule, self.message, self.field = status, rule, message, field
        self.headers = headers


class ErrorEntry(BaseModel):
    field: str | None
    rule: str
    message: str


class ErrorBody(BaseModel):
    """The shape of every 4xx (documented on the 401/403 answers)."""

    errors: list[ErrorEntry]


def error_body(field: str | None, rule: str, message: str) -> dict[str, Any]:
    return {"errors": [{"field": field, "rule": rule, "message": message}]}


def _field_name(loc: tuple[Any, ...]) -> str:
    # ("body", "periods", 0, "amount") -> "periods[0].amount"; query/path params keep their name
    parts = [p for p in loc if p not in ("body", "query", "path", "header")]
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "body"


async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [
        {
            "field": _field_name(tuple(e.get("loc", ()))),
            "rule": e.get("type", "invalid"),
            "message": e.get("msg", "invalid value"),
        }
        for e in exc.errors()
    ]
    return JSONResponse(status_code=422, content={"errors": errors})


async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
    return JSONResponse(
        status_code=exc.status, content=error_body(exc.field, exc.rule, exc.message), headers=exc.headers
    )


def domain_status(exc: DomainError) -> int:
    return 404 if isinstance(exc, NotFound) else 409 if isinstance(exc, Conflict) else 422


async def _domain_error(_: Request, exc: DomainError) -> JSONResponse:
    return JSONResponse(status_code=domain_status(exc), content=error_body(exc.field, exc.rule, exc.message))


async def _concurrency_error(_: Request, exc: ConcurrencyError) -> JSONResponse:
    return JSONResponse(
        status_code=409,
        content=error_body(None, "concurrent_modification", f"{exc}; another change won repeatedly, retry the request"),
    )


async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    rule = getattr(exc, "rule", None) or {404: "not_found", 405: "method_not_allowed"}.get(
        exc.status_code, "http_error"
    )
    return JSONResponse(status_code=exc.status_code, content=error_body(None, rule, str(exc.detail)))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]  # Starlette types handlers for Exception
    app.add_exception_handler(ApiError, _api_error)  # type: ignore[arg-type]  # Starlette types handlers for Exception
    app.add_exception_handler(DomainError, _domain_error)  # type: ignore[arg-type]  # Starlette types handlers for Exception
    app.add_exception_handler(ConcurrencyError, _concurrency_error)  # type: ignore[arg-type]  # Starlette types handlers for Exception
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]  # Starlette types handlers for Exception
