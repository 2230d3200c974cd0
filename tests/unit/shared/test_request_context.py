"""The request context middleware: correlation ids in and out, metrics by route; the actor
comes from the bearer token, never from an ``X-Actor`` header."""

from __future__ import annotations

import httpx
import structlog
from fastapi import APIRouter, FastAPI, Request

from shared.auth import Role, allow
from shared.http.app import create_service_app
from shared.http.commands import command_context
from shared.http.observability import CORRELATION_HEADER, HTTP_REQUESTS
from tests.support.auth import bearer


def app() -> FastAPI:
    router = APIRouter()

    @router.get("/echo/{name}", dependencies=[allow(Role.MANAGER)])
    async def echo(name: str, request: Request) -> dict[str, str]:
        return {
            "correlation_id": request.state.correlation_id,
            "actor": command_context(request).actor,
            "logged_with": structlog.contextvars.get_contextvars()["correlation_id"],
        }

    return create_service_app(title="t", description="t", routers=[router], checks={})


def client() -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app()),
        base_url="http://t",
        headers=bearer("manager", sub="irina", name="Ирина Петрова"),
    )


def count(path: str, status: str) -> float:
    return HTTP_REQUESTS.labels("GET", path, status)._value.get()


async def test_the_callers_correlation_id_is_used_and_echoed_and_the_actor_is_the_tokens():
    async with client() as c:
        r = await c.get("/echo/x", headers={CORRELATION_HEADER: "corr-1", "X-Actor": "mallory"})
    assert r.json() == {"correlation_id": "corr-1", "actor": "irina (Ирина Петрова)", "logged_with": "corr-1"}
    assert r.headers[CORRELATION_HEADER] == "corr-1"


async def test_without_one_an_id_is_made_and_answered():
    async with client() as c:
        r = await c.get("/echo/x")
    made = r.json()["correlation_id"]
    assert made and r.headers[CORRELATION_HEADER] == made and r.json()["actor"] == "irina (Ирина Петрова)"


async def test_requests_are_counted_by_route_template_and_status():
    before = count("/echo/{name}", "200"), count("unmatched", "404")
    async with client() as c:
        await c.get("/echo/a")
        await c.get("/echo/b")
        r = await c.get("/nowhere")
    assert r.headers[CORRELATION_HEADER]
    assert (count("/echo/{name}", "200"), count("unmatched", "404")) == (before[0] + 2, before[1] + 1)


async def test_an_escaping_exception_is_counted_as_500():
    router = APIRouter()

    @router.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    failing = create_service_app(title="t", description="t", routers=[router], checks={})
    before = count("/boom", "500")
    transport = httpx.ASGITransport(app=failing, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        r = await c.get("/boom")
    assert r.status_code == 500 and count("/boom", "500") == before + 1
