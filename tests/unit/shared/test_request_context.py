"""The request-context middleware: correlation id in and out, actor, per-route metrics."""

from __future__ import annotations

import httpx
from fastapi import FastAPI, Request

from shared.http.observability import CORRELATION_HEADER, HTTP_REQUESTS, install_request_context


def _app() -> FastAPI:
    app = FastAPI()
    install_request_context(app)

    @app.get("/echo/{item}")
    async def echo(item: str, request: Request) -> dict[str, str]:
        return {"correlation_id": request.state.correlation_id, "actor": request.state.actor}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    return app


def _count(path: str, status: str) -> float:
    return HTTP_REQUESTS.labels("GET", path, status)._value.get()  # noqa: SLF001 - the metric's value


async def test_a_given_correlation_id_and_actor_reach_the_handler_and_come_back() -> None:
    before = _count("/echo/{item}", "200")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url="http://t") as client:
        response = await client.get("/echo/x", headers={CORRELATION_HEADER: "corr-42", "X-Actor": "ops"})
    assert response.json() == {"correlation_id": "corr-42", "actor": "ops"}
    assert response.headers[CORRELATION_HEADER] == "corr-42"
    assert _count("/echo/{item}", "200") == before + 1  # counted under the route, not the raw path


async def test_a_missing_correlation_id_is_made_up_and_echoed() -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url="http://t") as client:
        response = await client.get("/echo/y")
    body = response.json()
    assert body["actor"] == "anonymous"
    assert len(body["correlation_id"]) == 36 and response.headers[CORRELATION_HEADER] == body["correlation_id"]


async def test_an_escaping_exception_is_counted_as_500() -> None:
    before = _count("/boom", "500")
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/boom")
    assert response.status_code == 500
    assert _count("/boom", "500") == before + 1
