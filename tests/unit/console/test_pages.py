"""The console's pages over fake services (no I/O): sign-in, roles, forms keeping what was typed
with the service's message beside the field, an expired session, a service down, languages."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest

from services.console.bootstrap import create_app
from services.console.entrypoints.http.csrf import BROWSER, derive_key, form_token
from services.console.entrypoints.http.web import SESSION
from services.console.settings import ConsoleSettings
from shared.auth import AuthSettings, mint
from tests.unit.console.fakes import CLIENT, CONTRACT, PERIODS, Calls, fake_apis, post_form

SECRET = "a-console-test-secret-of-at-least-32-bytes"


def settings(**extra) -> ConsoleSettings:
    return ConsoleSettings(auth=AuthSettings(hs256_secret=SECRET), **extra)


def token(role: str, ttl: timedelta = timedelta(hours=1)) -> str:
    return mint(AuthSettings(hs256_secret=SECRET), [role], f"test-{role}", name=f"Test {role}", ttl=ttl)


@pytest.fixture
def calls() -> Calls:
    return Calls()


async def client_for(app, role: str | None) -> httpx.AsyncClient:
    cookies = {SESSION: token(role)} if role else {}
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console", cookies=cookies)


@pytest.fixture
async def as_role(calls) -> AsyncIterator:
    opened: list[httpx.AsyncClient] = []

    async def make(role: str | None, **kwargs) -> httpx.AsyncClient:
        app = create_app(settings(), fake_apis(calls, **kwargs))
        client = await client_for(app, role)
        opened.append(client)
        return client

    yield make
    for c in opened:
        await c.aclose()


async def test_sign_in_issues_a_token_for_the_chosen_role_and_returns_to_the_page(as_role):
    web = await as_role(None)
    page = await web.get(f"/clients/{CLIENT}")
    assert page.status_code == 303 and page.headers["location"].startswith("/sign-in?next=")
    assert parse_qs(urlsplit(page.headers["location"]).query)["next"] == [f"/clients/{CLIENT}"]
    form = await web.get(page.headers["location"])
    assert form.status_code == 200 and 'name="role"' in form.text and '<label for="name">' in form.text
    signed = await post_form(
        web, "/sign-in", {"role": "accountant", "name": "Anna Accountant", "next": f"/clients/{CLIENT}"}
    )
    assert signed.status_code == 303 and signed.headers["location"] == f"/clients/{CLIENT}"
    claims = jwt.decode(signed.cookies[SESSION], SECRET, algorithms=["HS256"], audience="abonent")
    assert claims["roles"] == ["accountant"] and claims["name"] == "Anna Accountant"


async def test_sign_in_refuses_an_unknown_role_and_keeps_the_name(as_role):
    web = await as_role(None)
    answer = await post_form(web, "/sign-in", {"role": "root", "name": "Eve", "next": "/"})
    assert answer.status_code == 422 and "choose one of the roles" in answer.text and 'value="Eve"' in answer.text


async def test_development_sign_in_is_refused_when_single_sign_on_is_configured(calls):
    sso = settings(oidc_issuer="https://sso.example", oidc_client_id="console", session_secret="s" * 40)
    app = create_app(sso, fake_apis(calls))
    async with await client_for(app, None) as web:
        await web.get("/lang/en")  # any page: the browser gets its pre-session cookie
        token = form_token(derive_key("s" * 40), None, web.cookies[BROWSER])
        refused = await web.post("/sign-in", data={"role": "admin", "name": "Eve", "csrf_token": token})
        assert refused.status_code == 404 and SESSION not in refused.cookies


async def test_an_expired_session_goes_to_sign_in_and_then_back(calls):
    app = create_app(settings(), fake_apis(calls))
    old = mint(AuthSettings(hs256_secret=SECRET), ["manager"], "m", ttl=timedelta(seconds=1), now=time.time() - 3600)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://console", cookies={SESSION: old}
    ) as web:
        page = await web.get("/debtors?on=2026-05-15")
        assert page.status_code == 303
        location = page.headers["location"]
        assert parse_qs(urlsplit(location).query) == {"next": ["/debtors?on=2026-05-15"], "expired": ["1"]}
        assert "Your session has ended" in (await web.get(location)).text
        back = await post_form(web, "/sign-in", {"role": "manager", "name": "Maria", "next": "/debtors?on=2026-05-15"})
        assert back.headers["location"] == "/debtors?on=2026-05-15"


async def test_the_card_offers_only_what_the_role_may_do(as_role, calls):
    manager = await as_role("manager")
    page = await manager.get(f"/clients/{CLIENT}")
    assert page.status_code == 200
    assert "Open a contract" in page.text and "Schedule periods" in page.text and "Record a payment" not in page.text
    assert "CURRENT_PERIOD_UNPAID" in page.text and "History" in page.text
    asked = sum(1 for _, what, _ in calls.made if what == "coverage")
    accountant = await as_role("accountant")
    page = await accountant.get(f"/clients/{CLIENT}")
    assert "Record a payment" in page.text and "Open a contract" not in page.text
    assert "CURRENT_PERIOD_UNPAID" not in page.text, "accountants may not read coverage"
    assert sum(1 for _, what, _ in calls.made if what == "coverage") == asked, "so it is not asked for"
    dispatcher = await as_role("dispatcher")
    assert (await dispatcher.get("/contracts")).status_code == 403
    assert (await post_form(dispatcher, "/clients/new", {"name": "x"})).status_code == 403


async def test_a_refused_payment_shows_the_api_message_beside_the_field_and_keeps_the_input(as_role):
    web = await as_role("accountant")
    url = f"/clients/{CLIENT}/contracts/{CONTRACT}/periods/{PERIODS[1]}/pay"
    answer = await post_form(web, url, {"amount": "30000", "paid_on": "2026-02-30", "reference": "PP-1"})
    assert answer.status_code == 422
    assert 'id="paid_on-error">paid_on must be a real date in YYYY-MM-DD<' in answer.text
    assert 'value="2026-02-30"' in answer.text and 'value="PP-1"' in answer.text and 'value="30000"' in answer.text
    done = await post_form(web, url, {"amount": "", "paid_on": "2026-04-10", "reference": ""})
    assert done.status_code == 303 and done.headers["location"] == f"/clients/{CLIENT}?min_position=10"


async def test_a_service_down_is_named_with_what_still_works(as_role):
    web = await as_role("manager", projections_down=True)
    page = await web.get("/debtors")
    assert page.status_code == 503 and 'data-service="projections"' in page.text
    assert 'href="/notifications"' in page.text and 'href="/debtors"' not in page.text.split("What still works")[1]


async def test_russian_from_the_browser_and_switchable(as_role):
    web = await as_role("manager")
    page = await web.get("/debtors?on=2026-05-15", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.8"})
    assert "Должники на" in page.text and "15 мая 2026" in page.text and "60\xa0000,00\xa0₽" in page.text
    assert "€" in page.text, "totals per currency"
    switched = await web.get("/lang/en?next=/debtors")
    assert switched.headers["location"] == "/debtors" and switched.cookies["lang"] == "en"
    page = await web.get("/debtors?on=2026-05-15", headers={"Accept-Language": "ru"}, cookies={"lang": "en"})
    assert "Debtors on" in page.text and "15 May 2026" in page.text and "RUB\xa060,000.00" in page.text


async def test_income_is_drawn_as_svg_beside_the_table(as_role):
    web = await as_role("accountant")
    page = await web.get("/income?from=2026-01&to=2026-06")
    assert page.status_code == 200 and page.text.count("<rect") >= 6 and '<table class="income">' in page.text


async def test_the_prepay_debtors_reading_and_its_download_use_the_same_filters(as_role, calls):
    web = await as_role("manager")
    assert (await web.get("/contracts?reading=prepay")).status_code == 200
    listed = next(d for s, w, d in calls.made if w == "contracts")
    assert listed["paid"] == "false" and listed["payment_terms"] == "prepaid" and "period_starts_to" in listed
    download = await web.get("/contracts/export?format=csv&reading=prepay")
    assert download.status_code == 200 and download.headers["content-disposition"].endswith('"contracts.csv"')
    _, _, (what, params) = next(c for c in calls.made if c[1] == "download")
    assert what == "contracts" and params == {**{k: listed[k] for k in params if k != "format"}, "format": "csv"}


async def test_the_dispatcher_sees_coverage_as_soon_as_a_client_is_chosen(as_role, calls):
    web = await as_role("dispatcher")
    fragment = await web.get(f"/tickets/coverage?client_id={CLIENT}&on=2026-05-15")
    assert 'data-status="unpaid"' in fragment.text and "44" in fragment.text
    assert ("projections", "coverage", {"on": "2026-05-15"}) in calls.made
    registered = await post_form(web, "/tickets/new", {"client_id": CLIENT, "title": "Printer", "registered_at": ""})
    assert registered.status_code == 303
    assert ("tickets", "register", {"client_id": CLIENT, "title": "Printer"}) in calls.made


async def test_without_script_the_coverage_check_posts_the_form_and_registers_nothing(as_role, calls):
    web = await as_role("dispatcher")
    form_page = await web.get("/tickets/new")
    assert 'formmethod="get"' not in form_page.text, "a GET would put the form's CSRF token in the URL"
    assert 'name="check"' in form_page.text
    checked = await post_form(
        web, "/tickets/new", {"client_id": CLIENT, "title": "Printer", "registered_at": "2026-05-15", "check": "1"}
    )
    assert checked.status_code == 200 and 'data-status="unpaid"' in checked.text and 'value="Printer"' in checked.text
    assert ("projections", "coverage", {"on": "2026-05-15"}) in calls.made
    assert not [c for c in calls.made if c[:2] == ("tickets", "register")]


async def test_the_card_asks_contracts_once_per_contract_and_the_history_when_opened(as_role, calls):
    manager = await as_role("manager")
    page = await manager.get(f"/clients/{CLIENT}")
    assert page.status_code == 200 and "History" in page.text
    asked = [what for service, what, _ in calls.made if service == "contracts"]
    assert asked == ["contract"], "the card reads each contract's view, not its history"
    url = f"/clients/{CLIENT}/contracts/{CONTRACT}/history"
    assert f'data-history="{url}"' in page.text
    fragment = await manager.get(url, headers={"X-Console-Fragment": "1"})
    assert fragment.status_code == 200 and "ContractOpened" in fragment.text and "<html" not in fragment.text
    whole = await manager.get(url)
    assert "<html" in whole.text and "ContractOpened" in whole.text
    accountant = await as_role("accountant")
    assert "data-history" not in (await accountant.get(f"/clients/{CLIENT}")).text
    assert (await accountant.get(url)).status_code == 403
