"""The reference scenario of docs/design.md §1, played over HTTP through the running services.

An IT outsourcer signs ООО «Ромашка» for 1 January – 31 December, quarterly prepaid, and
pays Q1; the manager is reminded before each quarter ends; Q2 is never paid, so tickets in
Q2 show the delay; after 31 December, with no prolongation, service cannot be provided.
Three more clients make the debtors list and the income non-trivial: a postpaid monthly
client who stops paying in March, a client who pays late, and one with no contract. A fifth,
ООО «Гамма», is entered late — in June, for a contract running since January — so the old
reminders and debt notices are recorded as ``skipped_late`` instead of mailed; its contract is
terminated on 16 August with the running quarter prorated, so the fourth quarter is void.

Renewals and invoices (issue 17): Сидоров's contract renews itself in December for the next
year with 5 % indexation (Ромашка's does not: after 31 December it has no service). Every
period's invoice is issued 10 days before it falls due (``CONTRACTS_INVOICE_DAYS_BEFORE_DUE``
on the local stack); Ромашка's Q2 invoice, dated 22 March, is mailed to its accountant
(``billing_email``) with the PDF, the manager getting a copy.

Bank statements (issue 17): the accountant imports the bank's statements (1C client-bank
exchange files). April's pays Сидоров's Q2, matched by its contract number and tax id. May's
overlaps it (banks re-export documents): Сидоров's payment again (skipped: already imported),
Ромашка's Q2 payment naming its invoice (matched by the invoice number: Q2 becomes paid) and a
payer nobody knows, which waits in ``GET /payments/unallocated`` until the accountant, who knows
it paid for АО «Вектор», allocates it to Вектор's contract by hand (its March is paid).

The story is a timeline of dated steps; the scheduler is moved to each date with
``POST /scheduler/tick``. ``make demo`` prints it; ``tests/e2e`` asserts every answer.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from deploy.demo.client import Abonent
from deploy.demo.statement import Doc, exchange_1c

Say = Callable[[str, Any], None]


@dataclass
class Client:
    name: str
    manager_name: str
    manager_email: str
    tax_id: str | None = None
    billing_email: str | None = None
    address: str | None = None
    id: str = ""
    contract_id: str = ""
    number: str = ""
    period_ids: list[str] = field(default_factory=list)
    position: int = 0  # the last position our writes for this client got

    def saw(self, answer: dict[str, Any]) -> dict[str, Any]:
        if answer.get("position") is not None:
            self.position = max(self.position, answer["position"])
        return answer


@dataclass
class Story:
    year: int
    clients: dict[str, Client]
    answers: dict[str, Any] = field(default_factory=dict)
    stranger: Doc | None = None
    """The bank payment from a payer nobody knows (allocated by hand)."""

    @property
    def position(self) -> int:
        return max(c.position for c in self.clients.values())


def _quiet(_: str, __: Any) -> None:
    pass


async def play(api: Abonent, year: int, say: Say = _quiet) -> Story:
    run = uuid.uuid4().hex[:6]  # unique names and numbers per run: the demo can run twice
    y, next_y = str(year), str(year + 1)
    story = Story(
        year,
        {
            "romashka": Client(
                f"ООО «Ромашка» [{run}]",
                "Ирина Петрова",
                f"irina.petrova+{run}@romashka.example",
                tax_id="7712345678",
                billing_email=f"buh+{run}@romashka.example",
                address="115054, Москва, ул. Садовая, д. 5",
            ),
            "vector": Client(f"АО «Вектор» [{run}]", "Олег Смирнов", f"oleg+{run}@vector.example"),
            "sidorov": Client(
                f"ИП Сидоров [{run}]", "Анна Сидорова", f"anna+{run}@sidorov.example", tax_id="500100732259"
            ),
            "no_contract": Client(f"ООО «Без договора» [{run}]", "Пётр Иванов", f"petr+{run}@nocontract.example"),
            "gamma": Client(f"ООО «Гамма» [{run}]", "Мария Котова", f"maria+{run}@gamma.example"),
        },
    )
    c = story.clients

    # --- signing ------------------------------------------------------------------------
    async def sign(key: str, every: str, amount: str, terms: str, title: str) -> None:
        client = c[key]
        client.id = client.saw(
            await api.register_client(
                client.name,
                client.manager_name,
                client.manager_email,
                tax_id=client.tax_id,
                billing_email=client.billing_email,
                address=client.address,
            )
        )["id"]
        client.number = f"{key[:3].upper()}-{y}/{run}"
        opened = client.saw(await api.open_contract(client.id, client.number, title, f"{year - 1}-12-20"))
        client.contract_id = opened["id"]
        scheduled = client.saw(
            await api.schedule(
                client.contract_id,
                starts_on=f"{y}-01-01",
                ends_on=f"{y}-12-31",
                every=every,
                amount=amount,
                currency="RUB",
                payment_terms=terms,
                remind_days_before=10,
            )
        )
        client.period_ids = scheduled["period_ids"]
        say(
            "signed",
            {
                "client": client.name,
                "every": every,
                "amount": amount,
                "terms": terms,
                "periods": len(client.period_ids),
            },
        )

    for key, plan in {
        "romashka": ("quarter", "30000.00", "prepaid", "IT outsourcing"),
        "vector": ("month", "12000.00", "postpaid", "Printer fleet maintenance"),
        "sidorov": ("quarter", "45000.00", "prepaid", "Office IT support"),
    }.items():
        await sign(key, *plan)
    # Сидоров's contract renews itself 30 days before it ends (1 December), 5 % dearer.
    c["sidorov"].saw(await api.auto_renew(c["sidorov"].contract_id, notice_days=30, indexation_percent="5"))
    say("auto-renewal", {"client": c["sidorov"].name, "notice_days": 30, "indexation_percent": "5"})
    no_contract = c["no_contract"]
    no_contract.id = no_contract.saw(
        await api.register_client(no_contract.name, no_contract.manager_name, no_contract.manager_email)
    )["id"]

    async def pay(key: str, period: int, paid_on: str, reference: str) -> None:
        client = c[key]
        client.saw(await api.pay(client.contract_id, client.period_ids[period], paid_on, reference=reference))
        say("paid", {"client": client.name, "period": period + 1, "paid_on": paid_on})

    async def tick(as_of: str) -> None:
        # Time events go to the schedule topic; coverage does not wait for them, so a tick's
        # position (the last of many clients' events) is not any one client's position.
        say("tick", await api.tick(as_of))

    async def enter_late() -> None:
        # In June the manager enters a contract that has run since January, and the accountant
        # the payment of Q1 it came with: the next tick emits the whole history, but what is
        # older than ABONENT_LATE_EVENT_DAYS is old news (skipped_late), not mail.
        await sign("gamma", "quarter", "20000.00", "prepaid", "Facility maintenance")
        await pay("gamma", 0, f"{y}-01-15", "п/п 5")

    async def terminate() -> None:
        # Гамма leaves: 16 August is the first day without service. Q3 is cut to 15 August and
        # prorated (46 of 92 days: 10000.00); Q4 is void — no time events, no debt, no income.
        client = c["gamma"]
        answer = client.saw(await api.terminate(client.contract_id, f"{y}-08-16", "client moved", prorate=True))
        story.answers["gamma_terminated"] = answer
        say("terminated", {"client": client.name, "on": f"{y}-08-16"})

    # --- bank statements ------------------------------------------------------------------
    def sidorov_q2() -> Doc:
        """Сидоров's payment of 10 April for Q2, as both statements export it."""
        return Doc(
            f"19-{run}",
            "45000.00",
            c["sidorov"].tax_id or "",
            f"Оплата по договору {c['sidorov'].number} за 2 квартал",
            on=date(year, 4, 10),
            payer="ИП Сидоров Алексей Викторович",
            payer_account="40802810500000000019",
        )

    async def import_statement(name: str, docs: list[Doc]) -> None:
        on = max(d.on for d in docs).isoformat()
        answer = await api.import_statement(exchange_1c(docs).encode("cp1251"), f"{name}.txt")
        story.answers[name] = answer
        for client in c.values():  # a read about a client waits for that client's own last event
            if client.contract_id and any(client.tax_id == d.payer_tax_id for d in docs):
                client.position = max(client.position, await api.last_position(client.contract_id))
        say("statement", {"name": name, "on": on, "answer": answer})

    async def statement_april() -> None:
        await import_statement("statement_april", [sidorov_q2()])

    async def statement_may() -> None:
        romashka = c["romashka"]
        invoice = (await api.contract(romashka.contract_id))["periods"][1]["invoice"]["number"]
        stranger = Doc(
            f"318-{run}",
            "12000.00",
            f"77{int(run, 16) % 10**8:08d}",
            "Оплата за АО «Вектор» по письму № 14: обслуживание принтеров, март",
            on=date(year, 5, 19),
            payer="ООО «Вектор-Лизинг»",
            payer_account="40702810400000000318",
        )
        story.stranger = stranger
        await import_statement(
            "statement_may",
            [
                sidorov_q2(),  # the bank exported 10 April again: already imported
                Doc(
                    f"245-{run}",
                    "30000.00",
                    romashka.tax_id or "",
                    f"Оплата по счёту № {invoice} за ИТ-аутсорсинг, 2 квартал",
                    on=date(year, 5, 18),
                    payer="ООО «Ромашка»",
                    payer_account="40702810100000000245",
                ),
                stranger,
            ],
        )

    async def allocate_by_hand() -> None:
        # The accountant finds the payer nobody knows among the unallocated receipts, reads its
        # purpose, and records it on Вектор's contract (oldest debt first: March).
        assert story.stranger is not None
        number = story.stranger.number
        waiting: list[dict[str, Any]] = []
        page: int | None = 1
        while page is not None:
            answer = await api.unallocated(page)
            waiting += [r for r in answer["items"] if r["document_number"] == number]
            page = answer.get("next_page")
        (receipt,) = waiting
        story.answers["unallocated_stranger"] = receipt
        vector = c["vector"]
        written = vector.saw(await api.allocate(receipt["id"], vector.contract_id))
        story.answers["allocated_stranger"] = written
        say("allocated", {"receipt": receipt, "client": vector.name, "answer": written})

    async def ticket(name: str, key: str, on: str, title: str) -> None:
        client = c[key]
        answer = await api.register_ticket(client.id, title, on, min_position=client.position)
        story.answers[name] = answer
        say("ticket", {"client": client.name, "on": on, "answer": answer})

    timeline: list[tuple[str, Callable[[], Awaitable[None]]]] = [
        (f"{y}-01-01", lambda: pay("romashka", 0, f"{y}-01-01", "п/п 101")),
        (f"{y}-01-01", lambda: tick(f"{y}-01-01")),
        (f"{y}-02-03", lambda: pay("vector", 0, f"{y}-02-03", "п/п 2201")),
        (f"{y}-02-10", lambda: ticket("ticket_q1", "romashka", f"{y}-02-10", "Не печатает принтер в бухгалтерии")),
        (f"{y}-02-20", lambda: pay("sidorov", 0, f"{y}-02-20", "п/п 7")),
        (f"{y}-03-04", lambda: pay("vector", 1, f"{y}-03-04", "п/п 2245")),
        (f"{y}-03-21", lambda: tick(f"{y}-03-21")),
        (f"{y}-03-22", lambda: tick(f"{y}-03-22")),  # Q2's invoices: 10 days before 1 April
        (f"{y}-04-01", lambda: tick(f"{y}-04-01")),
        (f"{y}-04-15", statement_april),  # Сидоров paid Q2 on 10 April
        (f"{y}-04-15", lambda: tick(f"{y}-04-15")),
        (f"{y}-04-15", lambda: _debtors(api, story, f"{y}-04-15", say)),
        (
            f"{y}-05-15",
            lambda: ticket("ticket_q2", "romashka", f"{y}-05-15", "Новый сотрудник: настроить рабочее место"),
        ),
        (f"{y}-05-20", statement_may),  # Ромашка paid Q2 on 18 May; a stranger paid on 19 May
        (f"{y}-05-20", allocate_by_hand),
        (f"{y}-06-20", enter_late),
        (f"{y}-06-20", lambda: tick(f"{y}-06-20")),
        (f"{y}-07-01", lambda: pay("sidorov", 2, f"{y}-07-01", "п/п 33")),
        (f"{y}-07-01", lambda: tick(f"{y}-07-01")),
        (f"{y}-09-20", terminate),
        (f"{y}-09-20", lambda: tick(f"{y}-09-20")),
        (f"{y}-10-01", lambda: pay("sidorov", 3, f"{y}-10-01", "п/п 41")),
        (f"{y}-10-01", lambda: tick(f"{y}-10-01")),
        (f"{y}-12-01", lambda: tick(f"{y}-12-01")),  # Сидоров's contract renews itself
        (f"{y}-12-21", lambda: tick(f"{y}-12-21")),
        (f"{next_y}-01-01", lambda: tick(f"{next_y}-01-01")),
        (f"{next_y}-01-10", lambda: ticket("ticket_after_year", "romashka", f"{next_y}-01-10", "Сервер не отвечает")),
        (
            f"{next_y}-01-10",
            lambda: ticket("ticket_no_contract", "no_contract", f"{next_y}-01-10", "Нужна консультация"),
        ),
    ]
    for when, step in timeline:
        say("date", when)
        await step()

    for name, on in (
        ("coverage_q1", f"{y}-02-10"),
        ("coverage_q2", f"{y}-05-15"),
        ("coverage_after_year", f"{next_y}-01-10"),
    ):
        story.answers[name] = await api.coverage(c["romashka"].id, on, min_position=c["romashka"].position)
    # Asked "later" (on the story's last day) about a past day: as at 10 February, Сидоров's Q1,
    # paid on 20 February, was still owed (only payments made by the day asked count).
    await _debtors(api, story, f"{y}-02-10", say, name="debtors_feb10_asked_later")
    await _debtors(api, story, f"{next_y}-01-10", say, name="debtors_after_year")
    gamma = c["gamma"]
    story.answers["gamma_coverage_oct"] = await api.coverage(gamma.id, f"{y}-10-10", min_position=gamma.position)
    story.answers["gamma_contract"] = await api.contract(gamma.contract_id)
    story.answers["sidorov_contract"] = await api.contract(c["sidorov"].contract_id)
    romashka_contract = story.answers["romashka_contract"] = await api.contract(c["romashka"].contract_id)
    story.answers["vector_contract"] = await api.contract(c["vector"].contract_id)
    q2_invoice = romashka_contract["periods"][1]["invoice"]
    story.answers["romashka_q2_invoice"] = q2_invoice and await api.invoice(q2_invoice["invoice_id"])
    say("invoice", story.answers["romashka_q2_invoice"])
    # Outstanding as at the story's last day (the default, today, may be before the story's year).
    story.answers["income"] = await api.income(f"{y}-01", f"{y}-12", min_position=story.position, on=f"{next_y}-01-10")
    say("income", story.answers["income"])
    return story


async def _debtors(api: Abonent, story: Story, on: str, say: Say, name: str = "debtors_apr15") -> None:
    """Every page of the debtors list, narrowed to this run's clients (the database may hold more)."""
    ours = {cl.id for cl in story.clients.values()}
    items: list[dict[str, Any]] = []
    page: int | None = 1
    while page is not None:
        answer = await api.debtors(on, min_position=story.position, page=page, page_size=500)
        items += [i for i in answer["items"] if i["client_id"] in ours]
        page = answer.get("next_page")
    answer = {**answer, "items": items}
    story.answers[name] = answer
    say("debtors", {"on": on, "answer": answer})


def story_year() -> int:
    """Last year: every date of the story is past, so payments are never dated ahead of today
    (refused: paid_on_in_future) and ticks need no future allowance."""
    return date.today().year - 1
