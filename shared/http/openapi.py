"""What every operation can answer, added to the generated OpenAPI document (FastAPI's
documented way to extend it), so the document matches the wire:

* every error as ``application/problem+json`` with the ``ErrorBody`` schema (FastAPI's own
  ``HTTPValidationError`` is not what the services send, so it is replaced);
* 400 on every operation (a body that is not JSON, a malformed id header);
* 422 on every operation that takes parameters or a body; 404 on every operation with path
  parameters and every write (what it names may not exist); 409 on every write (a state that
  forbids it, a concurrent change, an idempotency key in use); 503 with ``Retry-After`` on
  every operation that needs the database (all but ``/health/live`` and ``/metrics``).
The 401/403 answers come from ``shared.auth.document_auth``; the 413/431 of the request limits
(body and header size) can happen anywhere and are described once, in the document's
description (docs/http.md).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from shared.http.errors import PROBLEM_JSON, ErrorBody

WRITES = ("post", "put", "patch", "delete")
OPEN = ("/health/live", "/metrics")
_DESCRIPTIONS = {
    "400": "a body that is not JSON, or a malformed X-Correlation-ID, X-Causation-ID or Content-Length",
    "404": "something the request names does not exist",
    "409": "the current state forbids it, another change won, or the idempotency key is in use",
    "422": "a parameter or the body breaks a rule (each one named in errors)",
    "503": "a dependency (the database) is unavailable; retry after Retry-After seconds",
}
RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds to wait before retrying"}}


def operation_id(route: APIRoute) -> str:
    """The route function's name (``register_client``): readable, and unique per service
    (``document_errors`` refuses a document where two operations share one)."""
    return route.name


def _problem(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
    }
    if headers:
        answer["headers"] = headers
    return answer


def _document(document: dict[str, Any]) -> None:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    body = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(body.pop("$defs", {}))
    schemas["ErrorBody"] = body
    seen: dict[str, str] = {}
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or path in OPEN:
                continue
            op_id = str(operation.get("operationId"))
            if op_id in seen:
                raise RuntimeError(f"operationId {op_id!r} of {method.upper()} {path} is also {seen[op_id]}")
            seen[op_id] = f"{method.upper()} {path}"
            responses = operation.setdefault("responses", {})
            if path == "/health/ready":
                continue
            wanted = {"400", "503"}
            if operation.get("parameters") or operation.get("requestBody"):
                wanted.add("422")
            if "{" in path or method in WRITES:
                wanted.add("404")
            if method in WRITES:
                wanted.add("409")
            for status in sorted(wanted | {s for s in responses if s[0] in "45"}):
                described = responses.get(status, {}).get("description") or _DESCRIPTIONS.get(status, "an error")
                if status == "422" and "HTTPValidationError" in str(responses.get(status)):
                    described = _DESCRIPTIONS["422"]
                headers = responses.get(status, {}).get("headers") or (RETRY_AFTER if status == "503" else None)
                responses[status] = _problem(described, headers)
    for unused in ("HTTPValidationError", "ValidationError"):
        if unused not in str(document.get("paths")):
            schemas.pop(unused, None)


def document_errors(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = generate()
        _document(document)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the schema
