"""Cross-site request forgery: every POST carries a token bound to the person's session.

SameSite=Lax keeps the session cookie off cross-*site* POSTs, but not off requests from the
same site: another port of the same host, or another subdomain of the company's domain, is
the same site, and a form there could make a signed-in person record a payment. So each
form carries ``csrf_token`` = HMAC(key, the session cookie) — a synchronizer token kept
nowhere (the session is the state), unknowable without the HttpOnly session cookie, new with
every sign-in. Before sign-in (the sign-in form itself) it is bound instead to
``abonent_csrf``, a random HttpOnly, SameSite=Strict cookie set on the first page.

``CsrfCheck`` is a plain ASGI middleware placed innermost (after the body-size limit): any
method but GET/HEAD/OPTIONS without the right token gets a 403 page saying nothing was saved;
the route never runs. No route can opt out by forgetting.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

FIELD = "csrf_token"
BROWSER = "abonent_csrf"
"""The pre-session cookie: what the token is bound to before sign-in."""
SCOPE_KEY = "abonent.csrf"
"""Where the middleware leaves (key, session cookie name, browser cookie value) for ``token_for``."""
SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


def derive_key(*secrets_in_order: str | None) -> bytes:
    """The HMAC key from the first configured secret (a random one when none is: tokens then
    hold for this process only — enough for a console nobody can sign in to)."""
    for secret in secrets_in_order:
        if secret:
            return hashlib.sha256(b"abonent-console-csrf\0" + secret.encode()).digest()
    return secrets.token_bytes(32)


def form_token(key: bytes, session: str | None, browser: str | None) -> str:
    """The token a form of this session (or, signed out, of this browser) must carry."""
    binder = f"session\0{session}" if session else f"browser\0{browser or ''}"
    digest = hmac.new(key, binder.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def token_for(request: Request) -> str:
    """The token for the forms of the page being rendered (``render`` puts it in every page)."""
    key, session, browser = request.scope[SCOPE_KEY]
    return form_token(key, request.cookies.get(session), browser)


class CsrfCheck:
    """``session``: the session cookie's name; ``refuse``: the 403 page."""

    def __init__(
        self, app: ASGIApp, key: bytes, session: str, refuse: Callable[[Request], Response], secure: bool = False
    ) -> None:
        self.app, self.key, self.session, self.refuse, self.secure = app, key, session, refuse, secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        browser = request.cookies.get(BROWSER)
        fresh = None if browser else secrets.token_urlsafe(24)
        scope[SCOPE_KEY] = (self.key, self.session, browser or fresh)

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and fresh:
                cookie = f"{BROWSER}={fresh}; Path=/; HttpOnly; SameSite=Strict" + ("; Secure" if self.secure else "")
                message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", cookie.encode())]}
            await send(message)

        if scope["method"] in SAFE:
            await self.app(scope, receive, send_with_cookie)
            return
        body, replay = await _read_body(receive)
        given = _field(body) if _is_form(request) else None
        session = request.cookies.get(self.session)
        bound = session or browser  # neither: no page of ours was ever shown to this browser
        expected = form_token(self.key, session, browser) if bound else None
        if given is None or expected is None or not hmac.compare_digest(given.encode(), expected.encode()):
            await self.refuse(request)(scope, replay, send_with_cookie)
            return
        await self.app(scope, replay, send_with_cookie)


def _is_form(request: Request) -> bool:
    return request.headers.get("content-type", "").split(";")[0].strip() == "application/x-www-form-urlencoded"


def _field(body: bytes) -> str | None:
    for name, value in parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True):
        if name == FIELD:
            return value
    return None


async def _read_body(receive: Receive) -> tuple[bytes, Receive]:
    """The whole body (already capped by the request limits outside), and a receive that
    hands it to the route again."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away: let the app see it
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay
