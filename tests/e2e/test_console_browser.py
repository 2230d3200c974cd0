"""The console in a real browser (Playwright driving Debian's Chromium, ``make browser``), on the
whole system as processes: the reference scenario played through the pages, the two downloads
opened and read, and every service's /docs and /redoc working with no network but 127.0.0.1.

Screenshots of each page go to ``test-artifacts/console/`` (git-ignored); the README's two
pictures (docs/img/console-card.png, docs/img/console-debtors.png) are copies of two of them.
"""

from __future__ import annotations

import csv
import io
import os
import uuid
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from openpyxl import load_workbook
from playwright.async_api import Browser, BrowserContext, Page, Route, async_playwright, expect

from tests.support.auth import bearer

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "console"
CHROMIUM = os.environ.get("ABONENT_CHROMIUM", "/usr/bin/chromium")
REDOCLY_BADGE = "https://cdn.redoc.ly/redoc/logo-mini.svg"
WAIT = 20_000  # ms: a page waits for the projections to catch up (min_position), bounded


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make browser` installs Debian's Chromium")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        # --no-sandbox: the suite runs as root, where Chromium's sandbox refuses to start
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        await launched.close()


async def offline(browser: Browser, outside: list[str]) -> BrowserContext:
    """A browser context for which only 127.0.0.1 exists: anything else is refused and noted."""
    context = await browser.new_context(accept_downloads=True, locale="en-GB", viewport={"width": 1280, "height": 900})

    async def only_local(route: Route) -> None:
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
            await route.continue_()
        else:
            outside.append(route.request.url)
            await route.abort()

    await context.route("**/*", only_local)
    # a loaded CI machine (2 cores shared) can take longer than Playwright's 30 s to parse
    # Swagger UI's 1.4 MB bundle: deadlines that tell a hang from a slow machine
    context.set_default_navigation_timeout(120_000)
    context.set_default_timeout(60_000)
    return context


async def shot(page: Page, name: str, full_page: bool = True) -> None:
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


async def sign_in(page: Page, console: str, role: str, name: str) -> None:
    """Through the development sign-in page, as a fresh person (the previous session dropped)."""
    await page.context.clear_cookies()
    await page.goto(f"{console}/sign-in")
    await page.select_option("#role", role)
    await page.fill("#name", name)
    await page.click("form.form button[type=submit]")


def scenario_year(today: date) -> int:
    """A year whose second quarter is over (a ticket in Q2 is in the past)."""
    return today.year if today >= date(today.year, 7, 1) else today.year - 1


@pytest.mark.parametrize("service", ["contracts", "projections", "tickets", "notifier", "console"])
async def test_every_service_documents_its_operations_with_no_network(browser, system, service):
    url = system[service]
    outside: list[str] = []
    context = await offline(browser, outside)
    page = await context.new_page()
    document = httpx.get(f"{url}/openapi.json", timeout=30).json()
    operation = next(
        op for ops in document["paths"].values() for op in ops.values() if isinstance(op, dict) and "summary" in op
    )
    await page.goto(f"{url}/docs")
    await expect(page.locator(".opblock").first).to_be_visible(timeout=WAIT * 3)
    assert await page.locator(".opblock").count() >= len(document["paths"]) >= 1
    await expect(page.get_by_text(operation["summary"], exact=True).first).to_be_attached()
    await shot(page, f"docs-{service}", full_page=False)
    await page.goto(f"{url}/redoc")
    await expect(page.get_by_text(operation["summary"], exact=True).first).to_be_attached(timeout=WAIT * 3)
    await shot(page, f"redoc-{service}", full_page=False)
    await context.close()
    # ReDoc's bundle links the "API docs by Redocly" badge in its menu footer to an image on
    # Redocly's site (no option turns it off); refused, the page is complete. Nothing else leaves.
    assert [u for u in outside if u != REDOCLY_BADGE] == [], f"the docs pages asked for {outside}"


async def test_the_reference_scenario_through_the_console(browser, system):
    console = system["console"]
    today = date.today()
    year = scenario_year(today)
    tag = uuid.uuid4().hex[:6]
    number, client_name = f"C-{tag}", f"Ромашка {tag}"
    outside: list[str] = []
    context = await offline(browser, outside)
    page = await context.new_page()

    # the manager signs the client: one contract, four quarterly prepaid periods
    await sign_in(page, console, "manager", "Maria Manager")
    await page.goto(f"{console}/clients/new")
    await page.fill("#name", client_name)
    await page.fill("#manager_name", "Maria Manager")
    await page.fill("#manager_email", "maria@example.com")
    await page.click("form.form button[type=submit]")
    await expect(page.locator("h1")).to_have_text(client_name, timeout=WAIT)
    card = page.url.split("?")[0]
    await page.click("text=Open a contract")
    await page.fill("#number", number)
    await page.fill("#title", "IT outsourcing")
    await page.fill("#signed_on", f"{year}-01-01")
    await page.click("form.form button[type=submit]")
    await page.click("text=Schedule periods")
    await page.fill("#starts_on", f"{year}-01-01")
    await page.fill("#ends_on", f"{year}-12-31")
    await page.select_option("#every", "quarter")
    await page.fill("#amount", "30000")
    await page.select_option("#payment_terms", "prepaid")
    await page.click("form.form button[type=submit]")
    periods = page.locator("table.periods tbody tr")
    await expect(periods).to_have_count(4, timeout=WAIT)
    await expect(page.locator("h3")).to_contain_text(number)
    await shot(page, "1-manager-contract-four-quarters")

    # the accountant, sent to sign in by the card, comes back to it and records Q1's payment;
    # a date that does not exist gets contracts' own message beside the field, the input kept
    await page.context.clear_cookies()
    await page.goto(card)
    await expect(page).to_have_url(f"{console}/sign-in?next=%2Fclients%2F{card.rsplit('/', 1)[1]}")
    await page.select_option("#role", "accountant")
    await page.fill("#name", "Anna Accountant")
    await page.click("form.form button[type=submit]")
    await expect(page).to_have_url(card)
    await periods.nth(0).locator("text=Record a payment").click()
    await page.fill("#paid_on", f"{year}-02-30")
    await page.click("form.form button[type=submit]")
    await expect(page.locator("#paid_on-error")).to_be_visible()
    await expect(page.locator("#paid_on")).to_have_value(f"{year}-02-30")
    await shot(page, "2-accountant-wrong-date")
    await page.fill("#paid_on", f"{year}-01-10")
    await page.click("form.form button[type=submit]")
    await expect(periods.nth(0)).to_have_class("paid", timeout=WAIT)
    await expect(periods.nth(1)).to_have_class("unpaid")
    await shot(page, "3-accountant-q1-paid")

    # the dispatcher registers a ticket in Q2: the verdict shows on choosing the client
    await sign_in(page, console, "dispatcher", "Dmitry Dispatcher")
    await page.goto(f"{console}/tickets/new?q={number}")
    await page.fill("#registered_at", f"{year}-05-15")
    await page.select_option("#client_id", label=client_name)
    banner = page.locator("#coverage [data-status]")
    await expect(banner).to_have_attribute("data-status", "unpaid", timeout=WAIT)
    await page.fill("#title", "Printer does not print")
    await shot(page, "4-dispatcher-ticket-form")
    await page.click("#ticket-form > button[type=submit]")
    await expect(page.locator("h1")).to_contain_text("Printer does not print", timeout=WAIT)
    await expect(page.locator(".banner")).to_have_attribute("data-status", "unpaid")
    owed = page.locator(".banner table.owed-periods tbody tr")
    await expect(owed).to_have_count(1)
    await expect(owed.locator(".days-overdue")).to_have_text("44")  # 15 May - 1 April
    await expect(owed).to_contain_text("30,000.00")
    await shot(page, "5-dispatcher-ticket-unpaid")

    # the manager's card, with today's banner (README picture)
    await sign_in(page, console, "manager", "Maria Manager")
    await page.goto(card)
    await expect(page.locator(".banner")).to_be_visible(timeout=WAIT)
    await shot(page, "6-client-card")
    await page.click("details.history summary")  # read when opened, not with the card
    history = page.locator("details.history table.history tbody tr")
    await expect(history.first).to_be_visible(timeout=WAIT)
    await expect(page.locator("details.history")).to_contain_text("PaymentRecorded")

    # the prepay-debtors reading, downloaded as CSV and XLSX
    await page.goto(f"{console}/contracts")
    await page.click("#reading-prepay")
    await expect(page.locator("table.contracts")).to_contain_text(number, timeout=WAIT)
    await shot(page, "7-prepay-debtors")
    started = [q for q in range(4) if date(year, 1 + 3 * q, 1) <= today]
    expected = {date(year, 1 + 3 * q, 1).isoformat() for q in started if q != 0}
    async with page.expect_download() as csv_download:
        await page.click("#download-csv")
    assert (await csv_download.value).suggested_filename == "contracts.csv"
    text = Path(await (await csv_download.value).path()).read_text(encoding="utf-8-sig")
    rows = [r for r in csv.DictReader(io.StringIO(text)) if r["contract_number"] == number]
    assert {r["starts_on"] for r in rows} == expected and all(r["paid"] == "false" for r in rows)
    assert {r["amount"] for r in rows} == {"30000.00"}
    async with page.expect_download() as xlsx_download:
        await page.click("#download-xlsx")
    xlsx = await xlsx_download.value
    assert xlsx.suggested_filename == "contracts.xlsx"
    sheet = load_workbook(io.BytesIO(Path(await xlsx.path()).read_bytes()), read_only=True).active
    header, *data = list(sheet.iter_rows(values_only=True))
    mine = [dict(zip(header, r, strict=True)) for r in data if r[header.index("contract_number")] == number]
    assert {r["starts_on"].date().isoformat() for r in mine} == expected
    assert all(r["amount"] == 30000 and r["paid"] is False for r in mine)

    # debtors as at today (README picture)
    await page.goto(f"{console}/debtors")
    await expect(page.locator("table.debtors")).to_contain_text(client_name, timeout=WAIT)
    await shot(page, "8-debtors")
    await context.close()
    assert outside == [], f"the console asked for {outside}"


async def test_the_projections_api_streams_the_same_lists_as_csv_and_xlsx(system):
    accountant = bearer("accountant")
    async with httpx.AsyncClient(base_url=system["projections"], timeout=30, headers=accountant) as api:
        listed = await api.get("/contracts", params={"paid": "false"}, headers={"Accept": "text/csv"})
        assert listed.status_code == 200 and listed.headers["content-type"].startswith("text/csv")
        assert listed.text.lstrip("\ufeff").startswith("contract_number,contract_id,client_id,")
        debtors = await api.get("/debtors", params={"format": "csv", "on": date.today().isoformat()})
        assert debtors.text.lstrip("\ufeff").splitlines()[0].startswith("client_name,client_id,contract_id")
        income = await api.get("/income", params={"from": "2020-01", "to": "2020-03", "format": "xlsx"})
        assert income.headers["content-disposition"] == 'attachment; filename="income.xlsx"'
        sheet = load_workbook(io.BytesIO(income.content), read_only=True).active
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0] == ("month", "currency", "due", "received", "outstanding") and len(rows) >= 4
        as_json = await api.get("/income", params={"from": "2020-01", "to": "2020-03"})
        assert as_json.headers["content-type"] == "application/json" and len(as_json.json()["months"]) >= 3


async def test_the_dispatcher_prices_a_ticket_from_the_price_list(browser, system, abonent):
    tag = uuid.uuid4().hex[:6]
    admin = bearer("admin")
    async with httpx.AsyncClient(base_url=system["tickets"], timeout=30, headers=admin) as tickets:
        for code, name, unit, price in (
            (f"visit-{tag}", "On-site visit", "visit", "2500"),
            (f"hour-{tag}", "Engineer's hour", "hour", "1800.50"),
        ):
            answer = await tickets.post(
                "/price-list", json={"code": code, "name": name, "unit": unit, "price": price, "currency": "RUB"}
            )
            assert answer.status_code == 201, answer.text
    client = await abonent.register_client(f"Прайс {tag}", "Maria Manager", f"maria.{tag}@example.com")
    ticket = await abonent.register_ticket(
        client["id"], "Server room audit", date.today().isoformat(), min_position=client.get("position")
    )
    outside: list[str] = []
    context = await offline(browser, outside)
    page = await context.new_page()
    await sign_in(page, system["console"], "dispatcher", "Dmitry Dispatcher")
    await page.goto(f"{system['console']}/tickets/{ticket['id']}")
    lines = page.locator("table.lines tbody tr")
    await expect(lines).to_have_count(0)

    # two on-site visits, then a quantity the API refuses (kept, its message beside the field),
    # then an hour and a half of an engineer
    await page.select_option("#code", f"visit-{tag}")
    await page.fill("#quantity", "2")
    await page.click("form.row button[type=submit]")
    await expect(lines).to_have_count(1, timeout=WAIT)
    await expect(lines.nth(0)).to_contain_text("On-site visit")
    await expect(lines.nth(0).locator("td").nth(3)).to_contain_text("5,000.00")
    await page.select_option("#code", f"hour-{tag}")
    await page.fill("#quantity", "-1")
    await page.click("form.row button[type=submit]")
    await expect(page.locator("#quantity-error")).to_be_visible()
    await expect(page.locator("#quantity")).to_have_value("-1")
    await expect(lines).to_have_count(1)
    await page.select_option("#code", f"hour-{tag}")
    await page.fill("#quantity", "1.5")
    await page.click("form.row button[type=submit]")
    await expect(lines).to_have_count(2, timeout=WAIT)
    await expect(lines.nth(1)).to_contain_text("Engineer's hour")
    await expect(lines.nth(1).locator("td").nth(3)).to_contain_text("2,700.75")
    await expect(page.locator("table.lines tfoot tr.total")).to_contain_text("7,700.75")
    await shot(page, "9-dispatcher-ticket-cost")
    answer = await abonent.tickets.get(f"/tickets/{ticket['id']}")
    assert answer.json()["totals"] == [{"amount": "7700.75", "currency": "RUB"}]
    await context.close()
    assert outside == [], f"the console asked for {outside}"


ATTACKER = """<!doctype html><html><body><h1>You won a prize</h1>
<form id="f" method="post" action="{action}">
  <input name="amount" value="30000"><input name="paid_on" value="{paid_on}"><input name="reference" value="forged">
</form><script>document.getElementById("f").submit()</script></body></html>"""


async def test_a_form_on_another_port_of_the_same_host_records_no_payment(browser, system, abonent):
    """127.0.0.1:<another port> is another origin but the same site: SameSite=Lax sends the
    session cookie with its POST. The form token is what refuses it."""
    from fastapi import FastAPI
    from fastapi.responses import HTMLResponse

    from tests.support.servers import serving

    year = date.today().year
    tag = uuid.uuid4().hex[:6]
    client = await abonent.register_client(f"Подделка {tag}", "Maria Manager", f"maria.{tag}@example.com")
    contract = await abonent.open_contract(client["id"], f"F-{tag}", "IT outsourcing", f"{year}-01-01")
    scheduled = await abonent.schedule(
        contract["id"],
        starts_on=f"{year}-01-01",
        ends_on=f"{year}-12-31",
        every="quarter",
        amount="30000.00",
        currency="RUB",
        payment_terms="prepaid",
    )
    period = scheduled["period_ids"][0]
    action = f"{system['console']}/clients/{client['id']}/contracts/{contract['id']}/periods/{period}/pay"
    site = FastAPI()

    @site.get("/prize")
    async def prize() -> HTMLResponse:
        return HTMLResponse(ATTACKER.format(action=action, paid_on=f"{year}-01-10"))

    outside: list[str] = []
    context = await offline(browser, outside)
    page = await context.new_page()
    await sign_in(page, system["console"], "accountant", "Anna Accountant")
    await expect(page.locator("h1")).to_be_visible(timeout=WAIT)
    async with serving(site, role=None) as attacker:
        await page.goto(f"{str(attacker.base_url).rstrip('/')}/prize")
        await expect(page.locator("#csrf-refused")).to_be_visible(timeout=WAIT)
    assert page.url == action
    await shot(page, "10-forged-form-refused")
    await context.close()
    periods = (await abonent.contract(contract["id"]))["periods"]
    assert not any(p["payments"] for p in periods), "nothing was recorded"
