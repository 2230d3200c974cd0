"""Single sign-on through the console: the OIDC authorization-code flow (Authlib) against a small
provider served on a real socket (discovery, authorize, token, JWKS; RS256). The provider's
access token becomes the session and is verified exactly as the services verify it (JWKS); the
development sign-in is refused meanwhile."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse

from services.console.bootstrap import create_app
from services.console.entrypoints.http.csrf import BROWSER, derive_key, form_token
from services.console.entrypoints.http.web import SESSION
from services.console.settings import ConsoleSettings
from shared.auth import AuthSettings
from tests.support.servers import free_port, serving
from tests.unit.console.fakes import CLIENT, Calls, fake_apis

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def provider(issuer: str) -> FastAPI:
    app = FastAPI()
    codes: dict[str, dict[str, Any]] = {}

    def signed(claims: dict[str, Any]) -> str:
        now = int(time.time())
        return jwt.encode({"iss": issuer, "iat": now, "exp": now + 600, **claims}, KEY, "RS256", {"kid": "k1"})

    @app.get("/.well-known/openid-configuration")
    async def discovery() -> dict[str, Any]:
        return {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/token",
            "jwks_uri": f"{issuer}/jwks",
            "response_types_supported": ["code"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "subject_types_supported": ["public"],
        }

    @app.get("/jwks")
    async def jwks() -> dict[str, Any]:
        key = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key()))
        return {"keys": [{**key, "kid": "k1", "use": "sig", "alg": "RS256"}]}

    @app.get("/authorize")
    async def authorize(request: Request) -> RedirectResponse:
        asked = request.query_params
        assert asked["response_type"] == "code" and asked["client_id"] == "console"
        code = secrets.token_urlsafe(8)
        codes[code] = {"nonce": asked.get("nonce"), "redirect_uri": asked["redirect_uri"]}
        return RedirectResponse(f"{asked['redirect_uri']}?{urlencode({'code': code, 'state': asked['state']})}")

    @app.post("/token")
    async def token(request: Request) -> dict[str, Any]:
        given = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        assert given["grant_type"] == "authorization_code"
        grant = codes.pop(given["code"])
        assert given["redirect_uri"] == grant["redirect_uri"]
        person = {"sub": "irina", "name": "Irina Ivanova"}
        return {
            "token_type": "Bearer",
            "expires_in": 600,
            "access_token": signed({**person, "aud": "abonent", "roles": ["accountant"]}),
            "id_token": signed({**person, "aud": "console", "nonce": grant["nonce"]}),
        }

    return app


@pytest.fixture
async def sso() -> AsyncIterator[tuple[str, httpx.AsyncClient]]:
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    async with serving(provider(issuer), port, role=None):
        settings = ConsoleSettings(
            oidc_issuer=issuer,
            oidc_client_id="console",
            oidc_client_secret="console-secret",
            session_secret="x" * 40,
            auth=AuthSettings(hs256_secret=None, jwks_url=f"{issuer}/jwks", issuer=issuer, audience="abonent"),
        )
        async with serving(create_app(settings, fake_apis(Calls())), role=None) as console:
            yield issuer, console


async def test_the_authorization_code_flow_signs_the_person_in_and_returns_to_the_page(sso) -> None:
    issuer, console = sso
    sent = await console.get(f"/clients/{CLIENT}")
    assert sent.status_code == 303
    to_provider = await console.get(sent.headers["location"])
    assert to_provider.status_code == 302 and to_provider.headers["location"].startswith(f"{issuer}/authorize?")
    async with httpx.AsyncClient() as browser_at_provider:
        back = await browser_at_provider.get(to_provider.headers["location"])
    assert back.status_code == 307
    callback = urlsplit(back.headers["location"])
    assert callback.path == "/sign-in/callback" and "code" in parse_qs(callback.query)
    signed_in = await console.get(f"{callback.path}?{callback.query}")
    assert signed_in.status_code == 303 and signed_in.headers["location"] == f"/clients/{CLIENT}"
    assert jwt.decode(signed_in.cookies[SESSION], options={"verify_signature": False})["roles"] == ["accountant"]
    card = await console.get(f"/clients/{CLIENT}")
    assert card.status_code == 200 and "Irina Ivanova" in card.text and "Record a payment" in card.text


async def test_the_development_sign_in_is_refused_under_single_sign_on(sso) -> None:
    _, console = sso
    await console.get("/lang/en")  # any page: the browser gets its pre-session cookie
    token = form_token(derive_key("x" * 40), None, console.cookies[BROWSER])
    refused = await console.post("/sign-in", data={"role": "admin", "name": "Eve", "csrf_token": token})
    assert refused.status_code == 404 and SESSION not in refused.cookies
