"""The console's HTTP clients: how a service's answer becomes a page's failure."""

from __future__ import annotations

import socket

import httpx
import pytest

from services.console.adapters.http_apis import HttpContracts, HttpProjections, Service
from services.console.application.ports import Refused, ServiceDown, SignInAgain, User

USER = User("maria", frozenset({"manager"}), "the-token")


def answering(status: int, body: object) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == "Bearer the-token"
        return httpx.Response(status, json=body)

    return httpx.MockTransport(handle)


async def test_a_refusal_carries_the_fields_and_rules():
    body = {"errors": [{"field": "paid_on", "rule": "date_format", "message": "not a date"}]}
    api = HttpContracts(Service("contracts", "http://contracts", 1, answering(422, body)))
    with pytest.raises(Refused) as refused:
        await api.record_payment(USER, "c", "p", {"paid_on": "2026-02-30"})
    assert refused.value.status == 422 and refused.value.errors[0].field == "paid_on"


async def test_a_problem_document_without_a_list_still_gives_its_detail():
    body = {"type": "about:blank", "title": "Conflict", "status": 409, "detail": "reference used"}
    api = HttpContracts(Service("contracts", "http://contracts", 1, answering(409, body)))
    with pytest.raises(Refused) as refused:
        await api.terminate(USER, "c", {})
    assert refused.value.errors[0].message == "reference used"


async def test_401_means_sign_in_again_and_5xx_means_down():
    with pytest.raises(SignInAgain):
        await HttpProjections(Service("projections", "http://p", 1, answering(401, {}))).debtors(USER, {})
    with pytest.raises(ServiceDown) as down:
        await HttpProjections(Service("projections", "http://p", 1, answering(503, {}))).debtors(USER, {})
    assert down.value.service == "projections"


async def test_a_service_nobody_listens_on_is_down_by_name():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again below: nothing listens there
    service = Service("notifier", f"http://127.0.0.1:{port}", 2)
    try:
        with pytest.raises(ServiceDown) as down:
            await HttpContracts(service).contract(USER, "x")
    finally:
        await service.close()
    assert down.value.service == "notifier" and "unreachable" in down.value.reason


async def test_every_call_a_page_makes_shows_in_its_server_timing():
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from services.console.entrypoints.http import timing

    service = Service("projections", "http://projections", 1, answering(200, {"name": "x"}), observe=timing.observe)

    async def page(request):
        await service.call("GET", "/clients/11111111-1111-1111-1111-111111111111", USER)
        await service.call("GET", "/contracts", USER, params={"client_id": "x"})
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/card", page)])
    app.add_middleware(timing.ServerTiming)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console") as web:
        value = (await web.get("/card")).headers["server-timing"]
    parts = [p.strip() for p in value.split(",")]
    assert parts[0].startswith("app;dur=") and float(parts[0].split("=")[1]) >= 0
    assert parts[1].startswith('api;desc="projections GET /clients/{id}";dur=')
    assert parts[2].startswith('api;desc="projections GET /contracts";dur=') and len(parts) == 3
    timing.observe("projections", "GET", "/elsewhere", 0.1)  # outside a request: nowhere to go, no error
