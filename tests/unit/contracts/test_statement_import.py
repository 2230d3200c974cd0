"""Importing a statement into the contracts application on the in-memory store (issue 17):
the matching rules in order, receipts under the bank document, re-import, unallocated receipts
allocated by hand, and which lines apply when some are rejected."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from services.contracts.adapters.memory import (
    MemoryInvoiceBook,
    MemoryPayerDirectory,
    MemoryStatementLedger,
    MemoryTimeEventsDue,
)
from services.contracts.adapters.outbox_routing import route
from services.contracts.application.commands import ContractsApplication
from services.contracts.application.statements import StatementImport
from services.contracts.domain import commands as cmd
from services.contracts.domain.statements.lines import StatementUnreadable
from shared.domain_errors import Conflict, RuleViolated
from shared.eventstore.errors import ConcurrencyError
from shared.eventstore.memory import MemoryEventStore
from shared.eventstore.records import CommandContext
from tests.support.statements import Doc, csv_text, exchange_1c

NOW = datetime(2026, 4, 10, 9, 0, tzinfo=UTC)
TAX = "7701000001"


def ctx() -> CommandContext:
    return CommandContext(correlation_id=str(uuid4()), actor="accountant-1", now=NOW)


class CountingStore(MemoryEventStore):
    """The memory store counting its transactions (every append is one ``append_many``);
    ``clash``: the next one finds its first stream moved on (another writer got there first)."""

    def __init__(self) -> None:
        super().__init__(router=route)
        self.streams_per_transaction: list[int] = []
        self.clash = False

    async def append_many(self, appends, *, ctx, in_transaction=None):
        self.streams_per_transaction.append(len(appends))
        if self.clash:
            self.clash = False
            first = appends[0]
            raise ConcurrencyError(first.stream_id, first.expected_version, first.expected_version + 1)
        return await super().append_many(appends, ctx=ctx, in_transaction=in_transaction)


class World:
    def __init__(self, store: MemoryEventStore | None = None) -> None:
        self.store = store or MemoryEventStore(router=route)
        self.directory = MemoryPayerDirectory()
        self.ledger = MemoryStatementLedger()
        self.app = ContractsApplication(
            self.store,
            MemoryTimeEventsDue(),
            directory=self.directory,
            invoices=MemoryInvoiceBook(),
            company=cmd.CompanyDetails("ООО «Сервис»", "7701234567"),
        )
        self.statements = StatementImport(self.app, self.directory, self.ledger, batch=2)

    async def client(self, tax_id: str | None = TAX) -> UUID:
        client_id = uuid4()
        await self.app.handle_client(
            cmd.RegisterClient(client_id, "ООО Альфа", "Ирина", "irina@example.com", tax_id), ctx()
        )
        return client_id

    async def contract(self, client_id: UUID, number: str, amount: str = "30000.00") -> tuple[UUID, list[UUID]]:
        """Quarterly prepaid periods for 2026."""
        contract_id, ids = uuid4(), [uuid4() for _ in range(4)]
        await self.app.handle_contract(
            cmd.OpenContract(contract_id, client_id, number, "IT", date(2025, 12, 20)), ctx()
        )
        await self.app.handle_contract(
            cmd.SchedulePeriods(
                contract_id, ids, date(2026, 1, 1), date(2026, 12, 31), "quarter", Decimal(amount), "RUB", "prepaid"
            ),
            ctx(),
        )
        return contract_id, ids

    async def paid(self, contract_id: UUID) -> list[str]:
        state, _ = await self.app.get_contract(contract_id)
        return [str(p.paid_amount) for p in state.periods]

    async def run(self, text: str, encoding: str = "cp1251"):
        data = text.encode(encoding)
        return await self.statements.run(lambda: [data], ctx(), date(2026, 4, 11))


async def test_a_contract_number_and_the_payers_tax_id_pay_oldest_first():
    w = World()
    client = await w.client()
    contract, _ = await w.contract(client, "AB-17")
    report = await w.run(exchange_1c([Doc("57", "45000.00", TAX, "Оплата по договору AB-17 за 1-2 кв.")]))
    assert (report.matched, report.unallocated, report.matched_by) == (1, 0, {"contract_number": 1})
    assert await w.paid(contract) == ["30000.00", "15000.00", "0.00", "0.00"]
    state, events = await w.app.get_contract(contract)
    receipt = [e.data for e in events if e.event_type == "PaymentRecorded"]
    assert {r["reference"] for r in receipt} == {"bank 57 of 2026-04-03 from 7701000001"}
    assert len({r["receipt_id"] for r in receipt}) == 1


async def test_a_number_inside_a_longer_one_does_not_match():
    w = World()
    client = await w.client()
    await w.contract(client, "AB-1")
    other, _ = await w.contract(client, "AB-17")
    report = await w.run(exchange_1c([Doc("1", "5000", TAX, "по договору AB-17")]))
    assert report.matched_by == {"contract_number": 1}
    assert (await w.paid(other))[0] == "5000.00"


async def test_the_tax_id_alone_pays_the_one_period_owed_of_that_amount():
    w = World()
    client = await w.client()
    contract, ids = await w.contract(client, "AB-2")
    await w.app.record_payment(cmd.RecordPayment(contract, ids[0], uuid4(), date(2026, 1, 5)), ctx())
    # on 3 April only Q2 is owed (Q3, Q4 are not due yet): exactly one period of 30 000
    report = await w.run(exchange_1c([Doc("9", "30000.00", TAX, "оплата услуг")]))
    assert report.matched_by == {"owed_period": 1}
    assert await w.paid(contract) == ["30000.00", "30000.00", "0.00", "0.00"]


async def test_two_periods_owing_that_amount_are_not_guessed_between():
    w = World()
    client = await w.client()
    contract, _ = await w.contract(client, "AB-3")  # Q1 and Q2 both owe 30 000 on 3 April
    report = await w.run(exchange_1c([Doc("9", "30000.00", TAX, "оплата услуг")]))
    assert (report.matched, report.unallocated) == (0, 1)
    [kept] = await w.statements.unallocated()
    assert kept.reason is not None and "has contracts AB-3" in kept.reason and "not exactly one period" in kept.reason
    assert await w.paid(contract) == ["0.00"] * 4


async def test_re_importing_records_nothing_new_whatever_was_matched_or_kept():
    w = World()
    client = await w.client()
    contract, _ = await w.contract(client, "AB-4")
    text = exchange_1c([Doc("1", "30000.00", TAX, "AB-4"), Doc("2", "10.00", "7800000002", "кто это?")])
    first = await w.run(text)
    again = await w.run(text.replace("\r\n", "\n"), "utf-8")  # the same documents, exported again
    assert (first.matched, first.unallocated, first.already_imported) == (1, 1, 0)
    assert (again.matched, again.unallocated, again.already_imported) == (0, 0, 2)
    assert await w.paid(contract) == ["30000.00", "0.00", "0.00", "0.00"]
    assert len(await w.statements.unallocated()) == 1


async def test_the_same_document_twice_in_one_file_counts_once():
    w = World()
    client = await w.client()
    contract, _ = await w.contract(client, "AB-5")
    doc = Doc("1", "100.00", TAX, "AB-5")
    report = await w.run(
        exchange_1c([doc, doc, Doc("2", "5.00", "7800000002", "?"), Doc("2", "5.00", "7800000002", "?")])
    )
    assert (report.matched, report.already_imported, report.unallocated) == (1, 2, 1)
    assert (await w.paid(contract))[0] == "100.00"


async def test_an_unknown_payer_waits_and_is_allocated_by_hand_once():
    w = World()
    client = await w.client(tax_id=None)
    contract, _ = await w.contract(client, "AB-6")
    report = await w.run(exchange_1c([Doc("77", "45000.00", "7800000002", "за ООО Альфа")]))
    assert report.unallocated == 1
    [kept] = await w.statements.unallocated()
    assert kept.reason == "no client is registered with tax id 7800000002"
    written = await w.statements.allocate(kept.id, contract, None, ctx(), date(2026, 4, 11))
    assert [a for _, _, a in written.payments] == [Decimal("30000.00"), Decimal("15000.00")]
    assert await w.paid(contract) == ["30000.00", "15000.00", "0.00", "0.00"]
    assert await w.statements.unallocated() == []
    with pytest.raises(Conflict):
        await w.statements.allocate(kept.id, contract, None, ctx(), date(2026, 4, 11))
    again = await w.run(exchange_1c([Doc("77", "45000.00", "7800000002", "за ООО Альфа")]))
    assert again.already_imported == 1 and await w.paid(contract) == ["30000.00", "15000.00", "0.00", "0.00"]


async def test_allocating_more_than_is_owed_is_refused_and_the_receipt_still_waits():
    w = World()
    client = await w.client(tax_id=None)
    contract, _ = await w.contract(client, "AB-7", amount="10.00")
    await w.run(exchange_1c([Doc("1", "1000.00", "7800000002", "?")]))
    [kept] = await w.statements.unallocated()
    with pytest.raises(RuleViolated) as refused:
        await w.statements.allocate(kept.id, contract, None, ctx(), date(2026, 4, 11))
    assert refused.value.rule == "payment_exceeds_owed"
    assert [k.id for k in await w.statements.unallocated()] == [kept.id]


async def test_a_match_the_contract_refuses_is_kept_with_the_reason():
    w = World()
    client = await w.client()
    contract, _ = await w.contract(client, "AB-8", amount="10.00")
    report = await w.run(exchange_1c([Doc("1", "1000.00", TAX, "AB-8")]))
    assert (report.matched, report.unallocated) == (0, 1)
    [kept] = await w.statements.unallocated()
    assert kept.reason is not None and kept.reason.startswith("matched contract AB-8 by contract_number, but payment")


async def test_rejected_lines_are_reported_and_the_lines_around_them_applied():
    w = World()
    client = await w.client()
    contract, _ = await w.contract(client, "AB-9")
    rows = [Doc("1", "100", TAX, "AB-9"), Doc("2", "1OO", TAX, "AB-9"), Doc("3", "200", TAX, "AB-9")]
    report = await w.run(csv_text(rows), "utf-8")
    assert (report.payments, report.matched, report.rejected) == (3, 2, 1)
    assert [(r.line, r.rule) for r in report.rejections] == [(3, "invalid_amount")]
    assert (await w.paid(contract))[0] == "300.00"


async def test_an_unreadable_file_applies_nothing():
    w = World()
    client = await w.client()
    contract, _ = await w.contract(client, "AB-10")
    text = exchange_1c([Doc("1", "100", TAX, "AB-10"), Doc("2", "100", TAX, "AB-10")], end=False)
    with pytest.raises(StatementUnreadable):
        await w.run(text)
    assert await w.paid(contract) == ["0.00"] * 4 and w.ledger.rows == {}


async def test_progress_counts_every_payment():
    w = World()
    seen: list[int] = []
    data = exchange_1c([Doc(str(i), "1.00", "7800000002", "?") for i in range(5)]).encode("cp1251")
    report = await w.statements.run(lambda: [data], ctx(), None, progress=seen.append)
    assert sum(seen) == report.payments == 5 and report.unallocated == 5


async def test_an_invoice_number_in_the_purpose_pays_that_invoices_period_whoever_pays():
    """Rule 1 comes first: Q3's invoice named by a payer we do not know (another tax id) pays Q3,
    although Q1 and Q2 are older and owed."""
    w = World()
    client = await w.client()
    contract, ids = await w.contract(client, "AB-17")
    _, invoice, _ = await w.app.issue_invoice(contract, ids[2], date(2026, 4, 1), ctx())
    purpose = f"Оплата по счёту № {invoice.number} за услуги"
    report = await w.run(exchange_1c([Doc("61", "30000.00", "7702999999", purpose)]))
    assert (report.matched, report.unallocated, report.matched_by) == (1, 0, {"invoice_number": 1})
    assert await w.paid(contract) == ["0.00", "0.00", "30000.00", "0.00"]


async def test_an_invoice_paid_with_another_amount_pays_its_contract_oldest_first():
    w = World()
    client = await w.client()
    contract, ids = await w.contract(client, "AB-17")
    _, invoice, _ = await w.app.issue_invoice(contract, ids[1], date(2026, 4, 1), ctx())
    report = await w.run(exchange_1c([Doc("62", "45000.00", TAX, f"Счёт {invoice.number}")]))
    assert report.matched_by == {"invoice_number": 1}
    assert await w.paid(contract) == ["30000.00", "15000.00", "0.00", "0.00"]


async def test_a_number_shaped_like_an_invoice_that_was_never_issued_falls_through_to_the_next_rules():
    w = World()
    client = await w.client()
    contract, _ = await w.contract(client, "AB-17")
    report = await w.run(exchange_1c([Doc("63", "30000.00", TAX, "Счёт 2026-999999 по договору AB-17")]))
    assert report.matched_by == {"contract_number": 1}
    assert await w.paid(contract) == ["30000.00", "0.00", "0.00", "0.00"]


async def test_a_batch_of_receipts_on_several_contracts_is_one_transaction_in_file_order():
    """The group commit: four payments to three contracts of two payers are one transaction
    (one append per contract); a contract's two payments apply in file order, the second on
    the state the first left (Q1 paid, so it pays Q2 and part of Q3)."""
    store = CountingStore()
    w = World(store)
    w.statements.batch = 500
    alpha, beta = await w.client(), await w.client(tax_id="7701000002")
    (a1, _), (a2, _), (b1, _) = [
        await w.contract(c, n) for c, n in ((alpha, "AB-21"), (alpha, "AB-22"), (beta, "BE-1"))
    ]
    before = len(store.streams_per_transaction)
    report = await w.run(
        exchange_1c(
            [
                Doc("1", "30000.00", TAX, "AB-21 за 1 кв."),
                Doc("2", "20000.00", "7701000002", "по договору BE-1"),
                Doc("3", "45000.00", TAX, "AB-21 за 2-3 кв."),
                Doc("4", "5.00", "7800000002", "?"),
                Doc("5", "100.00", TAX, "AB-22"),
            ]
        )
    )
    assert (report.matched, report.unallocated, report.matched_by) == (4, 1, {"contract_number": 4})
    assert store.streams_per_transaction[before:] == [3]
    assert await w.paid(a1) == ["30000.00", "30000.00", "15000.00", "0.00"]
    assert (await w.paid(a2))[0] == "100.00" and (await w.paid(b1))[0] == "20000.00"
    assert report.position == (await w.store.read_all())[-1].position
    assert {r.status for r in w.ledger.rows.values()} == {"matched", "unallocated"} and len(w.ledger.rows) == 5


async def test_a_batch_another_writer_got_in_the_way_of_is_recorded_line_by_line_once():
    """The group's transaction fails (a contract moved on): nothing of it was written, and the
    one-by-one path records every payment once, in file order."""
    store = CountingStore()
    w = World(store)
    w.statements.batch = 500
    contract, _ = await w.contract(await w.client(), "AB-23")
    store.clash = True
    before = len(store.streams_per_transaction)
    report = await w.run(exchange_1c([Doc("1", "30000.00", TAX, "AB-23"), Doc("2", "45000.00", TAX, "AB-23")]))
    assert store.streams_per_transaction[before:] == [1, 1, 1]  # the failed group, then each line
    assert (report.matched, report.already_imported, report.matched_by) == (2, 0, {"contract_number": 2})
    assert await w.paid(contract) == ["30000.00", "30000.00", "15000.00", "0.00"]
    _, events = await w.app.get_contract(contract)
    assert len({e.data["receipt_id"] for e in events if e.event_type == "PaymentRecorded"}) == 2
    assert len(w.ledger.rows) == 2


async def test_a_line_recorded_meanwhile_by_another_import_is_not_recorded_twice():
    """Two imports of one statement at once: the ledger said "new" to both, but the receipt is
    the contract's already (same reference, same values), so the second records nothing."""
    w = World()
    w.statements.batch = 500
    contract, _ = await w.contract(await w.client(), "AB-24")
    text = exchange_1c([Doc("1", "30000.00", TAX, "AB-24")])
    assert (await w.run(text)).matched == 1
    w.ledger.rows.clear()  # as if the other import had not committed its ledger row yet
    again = await w.run(text)
    assert (again.matched, again.already_imported) == (0, 1)
    assert await w.paid(contract) == ["30000.00", "0.00", "0.00", "0.00"]
