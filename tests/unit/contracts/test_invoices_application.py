"""Invoice numbers in the application (memory ports): no gaps, no repeats, even when
concurrent decisions read the same next number; the tick issues numbered invoices."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

from services.contracts.adapters.memory import MemoryInvoiceBook, MemoryTimeEventsDue
from services.contracts.adapters.outbox_routing import route
from services.contracts.application.commands import ContractsApplication
from services.contracts.application.scheduler import tick
from services.contracts.domain import commands as cmd
from shared.eventstore.memory import MemoryEventStore
from shared.eventstore.records import CommandContext
from shared.topics import CONTRACTS_EVENTS, PAYMENTS

COMPANY = cmd.CompanyDetails("ООО «Сервис»", "7701234567")


def ctx(now: datetime = datetime(2026, 3, 22, 9, 0, tzinfo=UTC)) -> CommandContext:
    return CommandContext(correlation_id=str(uuid4()), actor="test", now=now)


async def world(days: int | None = 10) -> tuple[ContractsApplication, MemoryInvoiceBook, MemoryEventStore]:
    store, book = MemoryEventStore(router=route), MemoryInvoiceBook()
    app = ContractsApplication(
        store, MemoryTimeEventsDue(), invoices=book, company=COMPANY, invoice_days_before_due=days
    )
    return app, book, store


async def contract(app: ContractsApplication, starts: str = "2026-04-01") -> tuple:
    client_id, contract_id = uuid4(), uuid4()
    await app.handle_client(cmd.RegisterClient(client_id, "ООО Ромашка", "Ivan", "ivan@example.com"), ctx())
    await app.handle_contract(cmd.OpenContract(contract_id, client_id, "A-1", "IT", date(2025, 12, 20)), ctx())
    period_id = uuid4()
    start = date.fromisoformat(starts)
    await app.handle_contract(
        cmd.AddServicePeriod(
            contract_id,
            period_id,
            start,
            start.replace(month=start.month + 2, day=30),
            Decimal("30000.00"),
            "RUB",
            "prepaid",
        ),
        ctx(),
    )
    return contract_id, period_id


async def test_concurrent_issues_get_consecutive_numbers_without_gaps():
    app, book, _ = await world(days=None)
    contracts = [await contract(app) for _ in range(8)]
    results = await asyncio.gather(*(app.issue_invoice(c, p, date(2026, 3, 20), ctx()) for c, p in contracts))
    numbers = sorted(doc.number for _, doc, _ in results)
    assert numbers == [f"2026-{n:06d}" for n in range(1, 9)]
    assert book.counters[("7701234567", 2026)] == 8
    ref = await app.invoice_by_number("2026-000003")
    assert ref is not None and ref.amount == Decimal("30000.00") and ref.currency == "RUB"


async def test_issuing_again_answers_the_same_invoice_and_uses_no_number():
    app, book, _ = await world(days=None)
    c, p = await contract(app)
    _, first, position = await app.issue_invoice(c, p, date(2026, 3, 20), ctx())
    _, again, none = await app.issue_invoice(c, p, date(2026, 3, 21), ctx())
    assert (again.invoice_id, again.number, none) == (first.invoice_id, first.number, None) and position
    assert book.counters[("7701234567", 2026)] == 1


async def test_the_tick_issues_invoices_ten_days_before_due_on_both_topics():
    app, book, store = await world(days=10)
    c, p = await contract(app)
    await tick(app, date(2026, 3, 21), ctx())
    assert not book.invoices  # its day is 22 March
    await tick(app, date(2026, 3, 22), ctx(datetime(2026, 3, 22, 12, 0, tzinfo=UTC)))
    (ref,) = book.invoices.values()
    assert (ref.number, ref.period_id, ref.contract_id) == ("2026-000001", p, c)
    topics = [m.topic for m in store.outbox if b"InvoiceIssued" in m.payload]
    assert sorted(topics) == sorted([CONTRACTS_EVENTS, PAYMENTS])
    state, _ = await app.get_contract(c)
    assert state.invoice_of(p).issued_on == date(2026, 3, 22)
