"""One JSON shape for every 4xx, naming the field and the rule that was broken.

    {"errors": [{"field": "ends_on", "rule": "ends_before_start", "message": "..."}]}
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException


class ApiError(Exception):
    """Raised by routes and mapped to ``status`` with one error entry (and ``headers``)."""

    def __init__(self, status: int, rule: str, message: str, field: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
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
        {"field": _field_name(tuple(e.get("loc", ()))), "rule": e.get("type", "invalid"),
         "message": e.get("msg", "invalid value")}
        for e in exc.errors()
    ]
    return JSONResponse(status_code=422, content={"errors": errors})


async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
    return JSONResponse(status_code=exc.status, content=error_body(exc.field, exc.rule, exc.message),
                        headers=exc.headers)


async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    rule = getattr(exc, "rule", None) or {404: "not_found", 405: "method_not_allowed"}.get(
        exc.status_code, "http_error")
    return JSONResponse(status_code=exc.status_code, content=error_body(None, rule, str(exc.detail)))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(ApiError, _api_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
