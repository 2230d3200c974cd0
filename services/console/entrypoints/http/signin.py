"""Signing in and out, and the language switch.

Local stack: ``/sign-in`` issues a token for a chosen role and name, signed with the
installation's HS256 secret (development only: refused — 404 — once single sign-on is
configured). With single sign-on: the OIDC authorization-code flow (Authlib): ``/sign-in``
redirects to the provider, ``/sign-in/callback`` exchanges the code, and the provider's
token (verified here as the services verify it) becomes the session.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.console.application.access import home
from services.console.application.ports import User
from services.console.entrypoints.http.web import LANG, SESSION, current_user, form, render, safe_next
from services.console.settings import ConsoleSettings
from shared.auth import Role, mint
from shared.auth.keys import AuthFailure

router = APIRouter(include_in_schema=False)
PEOPLE_ROLES = (Role.MANAGER, Role.ACCOUNTANT, Role.DISPATCHER, Role.ADMIN)
_NAME = re.compile(r"^[\w .@'-]{1,80}$", re.UNICODE)


def _settings(request: Request) -> ConsoleSettings:
    settings: ConsoleSettings = request.app.state.settings
    return settings


def _signed_in(request: Request, token: str, next_url: str | None, default: str) -> Response:
    settings = _settings(request)
    response = RedirectResponse(safe_next(next_url) if next_url and next_url != "/" else default, status_code=303)
    response.set_cookie(
        SESSION, token, httponly=True, samesite="lax", secure=settings.cookie_secure, max_age=7 * 24 * 3600
    )
    return response


@router.get("/sign-in")
async def sign_in_page(request: Request, next: str = "/", expired: int = 0) -> Response:
    settings = _settings(request)
    if settings.sso:
        request.session["next"] = safe_next(next)
        oidc = request.app.state.oidc
        redirect: Response = await oidc.authorize_redirect(request, str(request.url_for("oidc_callback")))
        return redirect
    if settings.auth.hs256_secret is None:
        return render(request, "refused.html", None, status=404, refusal=None)
    return render(
        request,
        "sign_in.html",
        None,
        next=safe_next(next),
        expired=bool(expired),
        roles=[r.value for r in PEOPLE_ROLES],
        values={},
        errors={},
    )


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    settings = _settings(request)
    if settings.sso or settings.auth.hs256_secret is None:
        return render(request, "refused.html", None, status=404, refusal=None)
    given = await form(request)
    role, name = given.get("role", ""), given.get("name", "").strip()
    errors: dict[str, str] = {}
    if role not in {r.value for r in PEOPLE_ROLES}:
        errors["role"] = "choose one of the roles"
    if not _NAME.match(name):
        errors["name"] = "1 to 80 letters, digits, spaces or . @ ' -"
    if errors:
        return render(
            request,
            "sign_in.html",
            None,
            status=422,
            next=safe_next(given.get("next")),
            expired=False,
            roles=[r.value for r in PEOPLE_ROLES],
            values=given,
            errors=errors,
        )
    sub = name.lower().replace(" ", ".")
    token = mint(settings.auth, [role], sub, name=name, ttl=timedelta(minutes=settings.token_ttl_minutes))
    user = User(sub, frozenset([role]), token, name)
    return _signed_in(request, token, given.get("next"), home(user))


@router.get("/sign-in/callback", name="oidc_callback")
async def oidc_callback(request: Request) -> Response:
    settings = _settings(request)
    if not settings.sso:
        return render(request, "refused.html", None, status=404, refusal=None)
    answer: dict[str, Any] = await request.app.state.oidc.authorize_access_token(request)
    token = answer.get(settings.oidc_token)
    if not isinstance(token, str):
        return render(request, "refused.html", None, status=401, refusal=None)
    try:
        principal = await request.app.state.auth.verify(f"Bearer {token}")
    except AuthFailure:
        return render(request, "refused.html", None, status=401, refusal=None)
    user = User(principal.sub, principal.roles, token, principal.name)
    return _signed_in(request, token, request.session.pop("next", None), home(user))


@router.post("/sign-out")
async def sign_out() -> Response:
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(SESSION)
    return response


@router.get("/lang/{language}")
async def switch_language(language: str, next: str = "/") -> Response:
    response = RedirectResponse(safe_next(next), status_code=303)
    if language in ("en", "ru"):
        response.set_cookie(LANG, language, max_age=365 * 24 * 3600, samesite="lax")
    return response


@router.get("/")
async def start(request: Request) -> Response:
    user = await current_user(request)
    return RedirectResponse(home(user), status_code=303)
