"""Cross-site request forgery: a form from elsewhere (another port or subdomain is the same
*site*, so SameSite=Lax still sends the session cookie) must not act as the signed-in person."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.routing import APIRoute

from services.console.bootstrap import create_app
from services.console.entrypoints.http import clients, lists, signin, tickets
from services.console.entrypoints.http.csrf import BROWSER
from services.console.entrypoints.http.web import SESSION
from services.console.settings import ConsoleSettings
from shared.auth import AuthSettings, mint
from tests.unit.console.fakes import CLIENT, CONTRACT, PERIODS, Calls, fake_apis, form_token, post_form

SECRET = "a-console-test-secret-of-at-least-32-bytes"
PAY = f"/clients/{CLIENT}/contracts/{CONTRACT}/periods/{PERIODS[1]}/pay"
TEMPLATES = Path(__file__).resolve().parents[3] / "services" / "console" / "templates"


def session(role: str, sub: str) -> str:
    return mint(AuthSettings(hs256_secret=SECRET), [role], sub, ttl=timedelta(hours=1))


@pytest.fixture
def calls() -> Calls:
    return Calls()


@pytest.fixture
def app(calls):
    return create_app(ConsoleSettings(auth=AuthSettings(hs256_secret=SECRET)), fake_apis(calls))


@pytest.fixture
async def accountant(app) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://console",
        cookies={SESSION: session("accountant", "anna")},
    ) as web:
        yield web


def payments(calls: Calls) -> list:
    return [c for c in calls.made if c[1] == "record_payment"]


async def test_a_post_from_another_page_of_the_same_site_records_no_payment(accountant, calls):
    # what a page on http://console:9999 (same site, other origin) makes the browser send:
    # the session cookie (SameSite=Lax lets it through) and the form's fields, no token
    forged = await accountant.post(
        PAY,
        data={"amount": "30000", "paid_on": "2026-04-10", "reference": "forged"},
        headers={"Origin": "http://console:9999", "Referer": "http://console:9999/win-a-prize"},
    )
    assert forged.status_code == 403
    assert 'id="csrf-refused"' in forged.text and "Nothing was saved." in forged.text
    assert payments(calls) == [], "no call reached contracts"


async def test_a_wrong_token_or_another_sessions_token_is_refused(accountant, calls):
    wrong = await accountant.post(PAY, data={"paid_on": "2026-04-10", "csrf_token": "x" * 43})
    assert wrong.status_code == 403
    theirs = await form_token(accountant)  # this browser's token for the signed-in accountant ...
    accountant.cookies.set(SESSION, session("accountant", "boris"))  # ... and another session
    stale = await accountant.post(PAY, data={"paid_on": "2026-04-10", "csrf_token": theirs})
    assert stale.status_code == 403 and payments(calls) == []


async def test_the_token_of_the_page_records_the_payment(accountant, calls):
    form = await accountant.get(PAY)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token, "the payment form carries the token"
    done = await accountant.post(PAY, data={"paid_on": "2026-04-10", "csrf_token": token.group(1)})
    assert done.status_code == 303 and len(payments(calls)) == 1


async def test_the_token_is_per_session(app):
    anna = session("manager", "anna")
    tokens = []
    for cookie in (anna, anna, session("manager", "boris")):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://c", cookies={SESSION: cookie}
        ) as web:
            tokens.append(await form_token(web))
    assert tokens[0] == tokens[1], "one session, one token (in every browser tab, on every page)"
    assert tokens[2] != tokens[0], "another session (a new sign-in) has its own"


async def test_every_state_changing_route_refuses_a_post_without_the_token(accountant, calls):
    routes = [r for router in (signin.router, clients.router, lists.router, tickets.router) for r in router.routes]
    posts = [r for r in routes if isinstance(r, APIRoute) and r.methods - {"GET", "HEAD", "OPTIONS"}]
    assert len(posts) >= 10
    for route in posts:
        path = re.sub(r"\{[^}]+\}", "11111111-1111-1111-1111-111111111111", route.path)
        answer = await accountant.post(path, data={"reason": "x"})
        assert answer.status_code == 403 and "csrf-refused" in answer.text, route.path
    assert calls.made == []


def test_every_post_form_of_every_template_carries_the_token():
    forms = 0
    for template in TEMPLATES.glob("*.html"):
        for tag in re.finditer(r'<form method="post"[^>]*>(.{0,120})', template.read_text(), re.S):
            forms += 1
            assert tag.group(1).startswith('<input type="hidden" name="{{ csrf_field }}"'), template.name
    assert forms >= 7


async def test_the_sign_in_form_is_protected_too_and_the_cookies_are_same_site(app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://c") as web:
        page = await web.get("/sign-in")
        browser_cookie = next(h for h in page.headers.get_list("set-cookie") if h.startswith(f"{BROWSER}="))
        assert "HttpOnly" in browser_cookie and "SameSite=Strict" in browser_cookie
        forged = await web.post("/sign-in", data={"role": "admin", "name": "Eve"})
        assert forged.status_code == 403 and SESSION not in forged.cookies
        signed = await post_form(web, "/sign-in", {"role": "accountant", "name": "Anna"})
        assert signed.status_code == 303
        session_cookie = next(h for h in signed.headers.get_list("set-cookie") if h.startswith(f"{SESSION}="))
        assert "HttpOnly" in session_cookie and "samesite=lax" in session_cookie.lower()


async def test_the_refusal_is_in_the_readers_language(accountant):
    page = await accountant.post(PAY, data={"paid_on": "2026-04-10"}, headers={"Accept-Language": "ru"})
    assert page.status_code == 403 and "Ничего не сохранено." in page.text
