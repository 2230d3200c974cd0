"""RS256/ES256 through a JWKS URL served by a local HTTP server: cached, fetched again on an
unknown ``kid``, and a key set that does not answer refuses only the keys it would have given."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from fastapi import APIRouter
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from shared.auth import AuthFailure, Role, Verifier, allow
from shared.auth.keys import JWKS_FETCH_FAILURES
from shared.http.app import create_service_app
from tests.support.servers import free_port
from tests.unit.shared.auth_keys import EC_KEY, OTHER_RSA_KEY, RSA_KEY, SECRET, only, signed


def jwk(private_key: Any, kid: str) -> dict[str, Any]:
    algorithm = RSAAlgorithm if kid.startswith("rsa") else ECAlgorithm
    return {**algorithm.to_jwk(private_key.public_key(), as_dict=True), "kid": kid, "use": "sig"}


class Sso:
    def __init__(self) -> None:
        self.keys = [jwk(RSA_KEY, "rsa-1"), {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"}]
        self.fetches = 0
        self.failing = False

    async def jwks(self, _: web.Request) -> web.Response:
        self.fetches += 1
        if self.failing:
            return web.Response(status=503)
        return web.json_response({"keys": self.keys})


@pytest.fixture
async def sso() -> AsyncIterator[tuple[Sso, str]]:
    state = Sso()
    app = web.Application()
    app.router.add_get("/jwks", state.jwks)
    async with TestServer(app, port=free_port()) as server:
        yield state, str(server.make_url("/jwks"))


def verifier(url: str) -> Verifier:
    return Verifier(only(jwks_url=url, jwks_min_refresh_seconds=0))


async def test_keys_are_fetched_once_and_an_unknown_kid_fetches_again(sso):
    state, url = sso
    v = verifier(url)
    assert (await v.verify(f"Bearer {signed(RSA_KEY, 'RS256', headers={'kid': 'rsa-1'})}")).sub == "irina"
    await v.verify(f"Bearer {signed(RSA_KEY, 'RS256', headers={'kid': 'rsa-1'})}")
    assert state.fetches == 1
    state.keys.append(jwk(EC_KEY, "ec-2"))  # the SSO rotates in a new key
    assert (await v.verify(f"Bearer {signed(EC_KEY, 'ES256', headers={'kid': 'ec-2'})}")).sub == "irina"
    assert state.fetches == 2
    with pytest.raises(AuthFailure, match="unknown signing key"):
        await v.verify(f"Bearer {signed(OTHER_RSA_KEY, 'RS256', headers={'kid': 'rsa-9'})}")


async def test_a_symmetric_key_in_the_set_cannot_be_used(sso):
    _, url = sso
    with pytest.raises(AuthFailure, match="unknown signing key"):
        await verifier(url).verify(f"Bearer {signed('k' * 40, 'HS256', headers={'kid': 'hmac'})}")


async def test_when_the_jwks_does_not_answer_new_keys_get_401_and_held_keys_still_work(sso):
    state, url = sso
    v = verifier(url)
    await v.verify(f"Bearer {signed(RSA_KEY, 'RS256', headers={'kid': 'rsa-1'})}")
    state.failing = True
    before = JWKS_FETCH_FAILURES.labels("HTTP 503")._value.get()
    with pytest.raises(AuthFailure, match="signing keys unavailable"):
        await v.verify(f"Bearer {signed(EC_KEY, 'ES256', headers={'kid': 'ec-2'})}")
    assert JWKS_FETCH_FAILURES.labels("HTTP 503")._value.get() == before + 1
    assert (await v.verify(f"Bearer {signed(RSA_KEY, 'RS256', headers={'kid': 'rsa-1'})}")).sub == "irina"


async def test_a_service_whose_jwks_url_is_down_answers_401_and_stays_up():
    router = APIRouter()

    @router.get("/things", dependencies=[allow(Role.MANAGER)])
    async def things() -> dict[str, str]:
        return {"ok": "yes"}

    url = f"http://127.0.0.1:{free_port()}/jwks"  # nothing listens there
    app = create_service_app(
        title="t", description="t", routers=[router], checks={}, auth=only(jwks_url=url, jwks_timeout_seconds=0.5)
    )
    before = JWKS_FETCH_FAILURES.labels("unreachable (ConnectError)")._value.get()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        r = await c.get("/things", headers={"Authorization": f"Bearer {signed(RSA_KEY, 'RS256')}"})
        assert r.status_code == 401
        assert r.json()["errors"][0] == {
            "field": "Authorization",
            "rule": "unauthenticated",
            "message": "signing keys unavailable",
        }
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
        assert (await c.get("/health/live")).status_code == 200
    assert JWKS_FETCH_FAILURES.labels("unreachable (ConnectError)")._value.get() == before + 1
    assert SECRET not in r.text
