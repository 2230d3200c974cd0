"""Request limits through a real server (uvicorn + httptools, as the services run):
headers over 16 KiB -> 431, a body over 1 MiB -> 413, bad correlation/causation ids -> 400."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter, Request

from shared.auth import Role, allow
from shared.http.app import create_service_app
from shared.http.commands import command_context
from tests.support.servers import serving


def app():
    router = APIRouter()

    @router.post("/echo", dependencies=[allow(Role.MANAGER)])
    async def echo(request: Request) -> dict[str, object]:
        ctx = command_context(request)
        return {
            "bytes": len(await request.body()),
            "correlation_id": ctx.correlation_id,
            "causation_id": ctx.causation_id,
        }

    return create_service_app(title="t", description="t", routers=[router], checks={})


@pytest.fixture(scope="module")
async def api() -> AsyncIterator[httpx.AsyncClient]:
    async with serving(app()) as client:
        yield client


def rule(r: httpx.Response) -> str:
    return r.json()["errors"][0]["rule"]


async def test_within_the_limits_everything_passes(api):
    ok_id = "a" * 100 + "._:-0123456789ABCDEFGHIJKLMNOPQ"[:28]
    r = await api.post(
        "/echo",
        content=b"x" * (1024 * 1024),
        headers={"X-Correlation-ID": ok_id, "X-Causation-ID": "evt:1.2_3-4", "X-Pad": "p" * 15000},
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"bytes": 1024 * 1024, "correlation_id": ok_id, "causation_id": "evt:1.2_3-4"}


async def test_headers_over_16_kib_get_431(api):
    r = await api.post("/echo", headers={"X-Pad": "p" * (16 * 1024)})
    assert (r.status_code, rule(r)) == (431, "headers_too_large")
    r = await api.post("/echo", headers={"X-Correlation-ID": "c" * 600_000})  # the relay-killer of issue 13
    assert r.status_code == 431


async def test_a_body_over_1_mib_gets_413_by_length_and_while_streaming(api):
    r = await api.post("/echo", content=b"x" * (1024 * 1024 + 1))
    assert (r.status_code, rule(r)) == (413, "body_too_large")

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b"y" * 65536

    r = await api.post("/echo", content=chunks())  # chunked: no Content-Length to refuse by
    assert (r.status_code, rule(r)) == (413, "body_too_large")


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("X-Correlation-ID", "c" * 129),
        ("X-Correlation-ID", "has space"),
        ("X-Correlation-ID", "<script>"),
        ("X-Causation-ID", "c" * 129),
        ("X-Causation-ID", "a/b"),
        ("X-Correlation-ID", "ид"),
    ],
)
async def test_bad_correlation_and_causation_ids_get_400_naming_the_header(api, header, value):
    r = await api.post("/echo", headers={header: value.encode()})  # bytes: non-ASCII too
    assert r.status_code == 400
    assert r.json()["errors"][0]["field"] == header and rule(r) == "invalid_id"
