"""What every page shares: who is signed in, the language, rendering, and the three failures.

* The person is the bearer token in the ``abonent_session`` cookie (HttpOnly, SameSite=Lax),
  verified here with the installation's key exactly as the services verify it. No cookie, or
  a token that no longer verifies (expired) -> the sign-in page, then back to the page.
* A service's 401 (``SignInAgain``) does the same; a service that does not answer
  (``ServiceDown``) gives a page naming it and listing the pages that do not need it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from services.console.application.access import allowed
from services.console.application.ports import Apis, Refused, ServiceDown, SignInAgain, User
from services.console.entrypoints.http.csrf import FIELD as CSRF_FIELD
from services.console.entrypoints.http.csrf import token_for
from services.console.entrypoints.http.i18n import Texts, pick_language
from shared.auth.keys import AuthFailure
from shared.auth.verify import Verifier

SESSION = "abonent_session"
LANG = "lang"
TEMPLATES = Path(__file__).resolve().parents[2] / "templates"

env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]), enable_async=False)

NEEDS: dict[str, tuple[str, ...]] = {
    "/clients": ("projections",),
    "/contracts": ("projections",),
    "/debtors": ("projections",),
    "/income": ("projections",),
    "/tickets/new": ("tickets", "projections"),
    "/notifications": ("notifier",),
}
"""Which services each page of the menu needs (the 'what still works' list)."""


class SignIn(Exception):
    """No valid session: go to the sign-in page and come back to ``next``. ``expired``: there
    was one, and it no longer verifies (the page then says so)."""

    def __init__(self, next_url: str, expired: bool = False) -> None:
        super().__init__(next_url)
        self.next_url, self.expired = next_url, expired


class Forbidden(Exception):
    pass


def apis(request: Request) -> Apis:
    apis: Apis = request.app.state.apis
    return apis


def texts(request: Request) -> Texts:
    return Texts(pick_language(request.cookies.get(LANG), request.headers.get("accept-language")))


def here(request: Request) -> str:
    """This page's path and query, where sign-in returns to (a form's POST returns to its page)."""
    if request.method != "GET":
        referer = request.headers.get("referer", "")
        base = str(request.base_url)
        return referer[len(base) - 1 :] if referer.startswith(base) else "/"
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


async def current_user(request: Request) -> User:
    token = request.cookies.get(SESSION)
    if not token:
        raise SignIn(here(request))
    verifier: Verifier = request.app.state.auth
    try:
        principal = await verifier.verify(f"Bearer {token}")
    except AuthFailure:
        raise SignIn(here(request), expired=True) from None
    return User(principal.sub, principal.roles, token, principal.name)


def safe_next(value: str | None) -> str:
    """Only a path on this site (no ``//host``, no scheme): sign-in must not redirect elsewhere."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


async def form(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body (the only kind the pages send)."""
    body = (await request.body()).decode("utf-8", errors="replace")
    return {k: v for k, v in parse_qsl(body, keep_blank_values=True)}


def render(request: Request, template: str, user: User | None = None, status: int = 200, **context: Any) -> Response:
    t = texts(request)
    html = env.get_template(template).render(
        _=t,
        t=t,
        user=user,
        can=allowed(user) if user else {},
        path=here(request),
        quote=quote,
        csrf_field=CSRF_FIELD,
        csrf_token=token_for(request),
        **context,
    )
    return HTMLResponse(html, status_code=status)


def forged(request: Request) -> Response:
    """A POST without this session's form token (another site's form, or a page from before
    signing in again): refused before any service is called."""
    return render(request, "csrf.html", None, status=403)


def field_errors(exc: Refused) -> tuple[dict[str, str], list[str]]:
    """(message per field, messages for no particular field) of a refusal."""
    by_field: dict[str, str] = {}
    general: list[str] = []
    for e in exc.errors:
        name = (e.field or "").split(".")[-1].split("[")[0]
        if name and name not in ("body", "Authorization"):
            by_field.setdefault(name, e.message)
        else:
            general.append(e.message)
    return by_field, general


def install_page_errors(app: FastAPI) -> None:
    async def sign_in(request: Request, exc: Exception) -> Response:
        next_url = exc.next_url if isinstance(exc, SignIn) else here(request)
        expired = "&expired=1" if not isinstance(exc, SignIn) or exc.expired else ""
        response = RedirectResponse(f"/sign-in?next={quote(safe_next(next_url), safe='')}{expired}", status_code=303)
        response.delete_cookie(SESSION)
        return response

    async def down(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ServiceDown)
        working = [page for page, needs in NEEDS.items() if exc.service not in needs]
        return render(request, "down.html", None, status=503, service=exc.service, reason=exc.reason, working=working)

    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Refused)
        return render(request, "refused.html", None, status=exc.status, refusal=exc)

    async def forbidden(request: Request, exc: Exception) -> Response:
        return render(request, "refused.html", None, status=403, refusal=None)

    app.add_exception_handler(SignIn, sign_in)
    app.add_exception_handler(SignInAgain, sign_in)
    app.add_exception_handler(ServiceDown, down)
    app.add_exception_handler(Refused, refused)
    app.add_exception_handler(Forbidden, forbidden)
