"""The four services over HTTP (httpx), one pooled client per service, the person's token per call.

A 401 is ``SignInAgain``; any other 4xx is ``Refused`` with the body's ``errors`` (the shape every
service answers: ``{"errors": [{field, rule, message}]}``, also read as an RFC 9457 problem's
extension member, with ``detail`` when there is no list); no connection, a timeout or a 5xx is
``ServiceDown`` naming the service.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from services.console.application.ports import (
    Apis,
    Download,
    FieldError,
    Json,
    Params,
    Refused,
    ServiceDown,
    SignInAgain,
    User,
)


def _errors(body: Any, status: int) -> list[FieldError]:
    if isinstance(body, dict):
        listed = body.get("errors")
        if isinstance(listed, list) and listed:
            return [
                FieldError(e.get("field"), str(e.get("rule", "invalid")), str(e.get("message", "")))
                for e in listed
                if isinstance(e, dict)
            ]
        if body.get("detail"):
            return [FieldError(None, str(body.get("title", "refused")), str(body["detail"]))]
    return [FieldError(None, "http_error", f"HTTP {status}")]


Observe = Callable[[str, str, str, float], None]
"""``observe(service, method, path, seconds)`` after every call (the page's Server-Timing)."""


class Service:
    """One service's base URL and connection pool."""

    def __init__(
        self,
        name: str,
        base_url: str,
        timeout: float,
        transport: httpx.AsyncBaseTransport | None = None,
        observe: Observe | None = None,
    ):
        self.name, self.observe = name, observe
        self.http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": "abonent-console"},
        )

    async def close(self) -> None:
        await self.http.aclose()

    def _auth(self, user: User) -> dict[str, str]:
        return {"Authorization": f"Bearer {user.token}"}

    def _check(self, response: httpx.Response) -> None:
        if response.status_code == 401:
            raise SignInAgain()
        if response.status_code >= 500:
            raise ServiceDown(self.name, f"HTTP {response.status_code}")
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = None
            raise Refused(self.name, response.status_code, _errors(body, response.status_code), body)

    async def call(
        self, method: str, path: str, user: User, *, params: Params | None = None, body: Json | None = None
    ) -> Json:
        started = time.perf_counter()
        try:
            response = await self.http.request(method, path, params=params, json=body, headers=self._auth(user))
        except httpx.TimeoutException:
            raise ServiceDown(self.name, "no answer in time") from None
        except httpx.TransportError as exc:
            raise ServiceDown(self.name, f"unreachable ({type(exc).__name__})") from None
        finally:
            if self.observe is not None:
                self.observe(self.name, method, path, time.perf_counter() - started)
        self._check(response)
        result = response.json()
        return result if isinstance(result, dict) else {"items": result}

    async def stream(self, path: str, user: User, params: Params) -> Download:
        request = self.http.build_request("GET", path, params=params, headers=self._auth(user))
        try:
            response = await self.http.send(request, stream=True)
        except httpx.TimeoutException:
            raise ServiceDown(self.name, "no answer in time") from None
        except httpx.TransportError as exc:
            raise ServiceDown(self.name, f"unreachable ({type(exc).__name__})") from None
        if response.status_code >= 400:
            await response.aread()
            await response.aclose()
            self._check(response)
        disposition = response.headers.get("content-disposition", "")
        filename = disposition.partition("filename=")[2].strip('"') or "export"
        return Download(
            response.headers.get("content-type", "application/octet-stream"),
            filename,
            response.aiter_raw(),
            response.aclose,
        )


class HttpContracts:
    def __init__(self, service: Service) -> None:
        self.s = service

    async def register_client(self, user: User, body: Json) -> Json:
        return await self.s.call("POST", "/clients", user, body=body)

    async def open_contract(self, user: User, body: Json) -> Json:
        return await self.s.call("POST", "/contracts", user, body=body)

    async def contract(self, user: User, contract_id: str) -> Json:
        return await self.s.call("GET", f"/contracts/{contract_id}", user)

    async def events(self, user: User, contract_id: str) -> Json:
        return await self.s.call("GET", f"/contracts/{contract_id}/events", user)

    async def add_period(self, user: User, contract_id: str, body: Json) -> Json:
        return await self.s.call("POST", f"/contracts/{contract_id}/periods", user, body=body)

    async def schedule_periods(self, user: User, contract_id: str, body: Json) -> Json:
        return await self.s.call("POST", f"/contracts/{contract_id}/periods/schedule", user, body=body)

    async def record_payment(self, user: User, contract_id: str, period_id: str, body: Json) -> Json:
        return await self.s.call("POST", f"/contracts/{contract_id}/periods/{period_id}/payments", user, body=body)

    async def cancel_payment(self, user: User, contract_id: str, period_id: str, payment_id: str, reason: str) -> Json:
        return await self.s.call(
            "DELETE",
            f"/contracts/{contract_id}/periods/{period_id}/payments/{payment_id}",
            user,
            params={"reason": reason},
        )

    async def terminate(self, user: User, contract_id: str, body: Json) -> Json:
        return await self.s.call("POST", f"/contracts/{contract_id}/terminate", user, body=body)


class HttpProjections:
    def __init__(self, service: Service) -> None:
        self.s = service

    async def clients(self, user: User, params: Params) -> Json:
        return await self.s.call("GET", "/clients", user, params=params)

    async def client(self, user: User, client_id: str, params: Params) -> Json:
        return await self.s.call("GET", f"/clients/{client_id}", user, params=params)

    async def coverage(self, user: User, client_id: str, params: Params) -> Json:
        return await self.s.call("GET", f"/clients/{client_id}/coverage", user, params=params)

    async def contracts(self, user: User, params: Params) -> Json:
        return await self.s.call("GET", "/contracts", user, params=params)

    async def debtors(self, user: User, params: Params) -> Json:
        return await self.s.call("GET", "/debtors", user, params=params)

    async def income(self, user: User, params: Params) -> Json:
        return await self.s.call("GET", "/income", user, params=params)

    async def download(self, user: User, what: str, params: Params) -> Download:
        if what not in ("contracts", "debtors", "income"):
            raise ValueError(what)
        return await self.s.stream(f"/{what}", user, params)


class HttpTickets:
    def __init__(self, service: Service) -> None:
        self.s = service

    async def register(self, user: User, body: Json) -> Json:
        return await self.s.call("POST", "/tickets", user, body=body)

    async def ticket(self, user: User, ticket_id: str) -> Json:
        return await self.s.call("GET", f"/tickets/{ticket_id}", user)

    async def tickets(self, user: User, params: Params) -> Json:
        return await self.s.call("GET", "/tickets", user, params=params)

    async def price_list(self, user: User) -> Json:
        return await self.s.call("GET", "/price-list", user)

    async def add_item(self, user: User, ticket_id: str, body: Json) -> Json:
        return await self.s.call("POST", f"/tickets/{ticket_id}/items", user, body=body)


class HttpNotifier:
    def __init__(self, service: Service) -> None:
        self.s = service

    async def notifications(self, user: User, params: Params) -> Json:
        return await self.s.call("GET", "/notifications", user, params=params)

    async def retry(self, user: User, event_id: str) -> Json:
        return await self.s.call("POST", f"/notifications/{event_id}/retry", user)


def http_apis(urls: dict[str, str], timeout: float, observe: Observe | None = None) -> tuple[Apis, list[Service]]:
    """The four APIs and their pools (closed by the caller at shutdown)."""
    services = {
        name: Service(name, urls[name], timeout, observe=observe)
        for name in ("contracts", "projections", "tickets", "notifier")
    }
    apis = Apis(
        HttpContracts(services["contracts"]),
        HttpProjections(services["projections"]),
        HttpTickets(services["tickets"]),
        HttpNotifier(services["notifier"]),
    )
    return apis, list(services.values())
