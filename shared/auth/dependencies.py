"""FastAPI side: the bearer scheme, ``allow(...)`` for each route, 401/403 in the docs.

A route declares its roles in one line, and OpenAPI shows them as the operation's bearer
requirement (OpenAPI 3.1 lets a non-OAuth requirement list role names)::

    @router.post("/clients", dependencies=[allow(Role.MANAGER)])

``admin`` may do everything, so it is added to every declaration. The verified Principal is
left on ``request.state.principal``; its ``actor`` goes into the events' metadata.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI, Request, Security
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.security import SecurityScopes
from fastapi.security.base import SecurityBase
from prometheus_client import Counter

from shared.auth.keys import AuthFailure
from shared.auth.principal import Principal, Role
from shared.auth.verify import Verifier
from shared.http.errors import PROBLEM_JSON, ApiError, ErrorBody
from shared.logging import get_logger

log = get_logger("auth")

AUTH_FAILURES = Counter("auth_failures_total", "Requests refused: 401 by reason, 403", ["reason"])

UNAUTHORIZED = {
    "description": "no valid bearer token (a short reason is in the body)",
    "headers": {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer"}},
}
FORBIDDEN = {"description": "the token's roles may not do this"}


def _route(request: Request) -> str:
    return getattr(request.scope.get("route"), "path", request.url.path[:200])


class BearerScheme(SecurityBase):
    """Verifies the ``Authorization: Bearer`` token with the app's Verifier (``app.state.auth``)."""

    def __init__(self) -> None:
        self.model = HTTPBearerModel(
            bearerFormat="JWT",
            description=(
                "A JWT from the installation's key (HS256 secret, RSA/EC key or the SSO's JWKS). "
                "Claims: iss, aud, exp, sub, roles (list), optional name and nbf."
            ),
        )
        self.scheme_name = "bearer"

    async def __call__(self, request: Request) -> Principal:
        verifier: Verifier = request.app.state.auth
        try:
            principal = await verifier.verify(request.headers.get("Authorization"))
        except AuthFailure as exc:
            AUTH_FAILURES.labels(exc.reason).inc()
            log.warning("authentication failed", reason=exc.reason, method=request.method, route=_route(request))
            raise ApiError(
                401,
                "unauthenticated",
                exc.reason,
                field="Authorization",
                headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{exc.reason}"'},
            ) from None
        request.state.principal = principal
        return principal


bearer = BearerScheme()


async def _authorize(scopes: SecurityScopes, request: Request, principal: Principal = Depends(bearer)) -> Principal:
    if not principal.may(frozenset(scopes.scopes)):
        AUTH_FAILURES.labels("forbidden").inc()
        log.warning(
            "forbidden",
            sub=principal.sub,
            roles=sorted(principal.roles),
            method=request.method,
            route=_route(request),
            needs=scopes.scopes,
        )
        raise ApiError(
            403, "forbidden", f"this needs one of the roles {', '.join(scopes.scopes)}", field="Authorization"
        )
    return principal


def allow(*roles: Role) -> Any:
    """The dependency a route declares: callers need one of ``roles`` (or ``admin``)."""
    return Security(_authorize, scopes=sorted({Role.ADMIN.value, *(r.value for r in roles)}))


def document_auth(app: FastAPI) -> None:
    """401 and 403 (the error shape, ``WWW-Authenticate``) on every operation that declares
    roles, added to the generated document (FastAPI's documented way to extend OpenAPI)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = generate()
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        body = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(body.pop("$defs", {}))
        schemas["ErrorBody"] = body
        content = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                if isinstance(operation, dict) and operation.get("security"):
                    responses = operation.setdefault("responses", {})
                    responses.setdefault("401", {**UNAUTHORIZED, "content": content})
                    responses.setdefault("403", {**FORBIDDEN, "content": content})
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the schema
