"""The shared HTTP shell through a real server (uvicorn + httptools, as the services run):
every error is RFC 9457 problem JSON carrying the ``errors`` list and the correlation id —
an unexpected exception (500), a dependency that is down (503 with Retry-After), a method the
path does not answer (405 with every allowed method in ``Allow``), an unknown path (404)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from fastapi import APIRouter

from shared.auth import Role, allow
from shared.http.app import create_service_app
from shared.http.faults import DependencyUnavailable
from tests.support.servers import serving

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance", "correlation_id", "errors"}


def app():
    router = APIRouter()

    @router.get("/boom", dependencies=[allow(Role.MANAGER)])
    async def boom() -> None:
        raise RuntimeError("a bug")

    @router.get("/database", dependencies=[allow(Role.MANAGER)])
    async def database() -> None:
        raise asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation")

    @router.get("/shutting-down", dependencies=[allow(Role.MANAGER)])
    async def shutting_down() -> None:  # what the fault suite saw while PostgreSQL stopped
        raise asyncpg.InternalClientError("cannot switch to state 12; another operation (2) is in progress")

    @router.get("/refused", dependencies=[allow(Role.MANAGER)])
    async def refused() -> None:
        raise ConnectionRefusedError(111, "Connect call failed")

    @router.get("/dependency", dependencies=[allow(Role.MANAGER)])
    async def dependency() -> None:
        raise DependencyUnavailable("projections")

    @router.patch("/things/{thing_id}", dependencies=[allow(Role.MANAGER)])
    async def change_thing(thing_id: str) -> None:
        return None

    @router.delete("/things/{thing_id}", dependencies=[allow(Role.MANAGER)])
    async def remove_thing(thing_id: str) -> None:
        return None

    return create_service_app(title="t", description="t", routers=[router], checks={})


@pytest.fixture(scope="module")
async def api() -> AsyncIterator[httpx.AsyncClient]:
    async with serving(app()) as client:
        yield client


def problem(r: httpx.Response, status: int, rule: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert PROBLEM_KEYS <= body.keys()
    assert (body["status"], body["type"], body["errors"][0]["rule"]) == (status, f"urn:abonent:problem:{rule}", rule)
    assert body["correlation_id"] == r.headers["x-correlation-id"]
    return body


async def test_an_unexpected_error_is_a_500_problem_with_the_correlation_id(api):
    r = await api.get("/boom", headers={"X-Correlation-ID": "support-call-42"})
    body = problem(r, 500, "internal_error")
    assert body["correlation_id"] == "support-call-42" and body["instance"] == "/boom"
    assert "a bug" not in r.text  # internals stay in the log


@pytest.mark.parametrize("path", ["/database", "/shutting-down", "/refused", "/dependency"])
async def test_a_dependency_down_is_a_503_with_retry_after(api, path):
    r = await api.get(path)
    problem(r, 503, "dependency_unavailable")
    assert int(r.headers["retry-after"]) > 0


async def test_405_names_every_allowed_method(api):
    r = await api.put("/things/1")
    problem(r, 405, "method_not_allowed")
    assert r.headers["allow"] == "DELETE, PATCH"


async def test_validation_and_not_found_are_problems(api):
    body = problem(await api.get("/nowhere"), 404, "not_found")
    assert body["title"] == "Not Found" and body["instance"] == "/nowhere"
    r = await api.get("/boom", headers={"Authorization": "Bearer nope"})
    assert problem(r, 401, "unauthenticated")["errors"][0]["field"] == "Authorization"
