"""Importing a bank statement, and allocating by hand what it could not match.

An import reads the file twice. The first pass only parses: a file that cannot be read as a
whole — not a statement, an encoding we cannot read, cut off in the middle, a CSV without its
columns — raises ``StatementUnreadable`` and nothing of it is applied. The second pass applies
every line that parsed, in batches: a line already imported is skipped (the ledger knows its
bank document); a line that matches a contract (``domain.statements.matching``) becomes a
receipt on it — oldest debt first, under the bank document as reference — with its ledger row
in the same transaction; any other line is kept as an unallocated receipt with the reason. A
line that did not parse (an amount, a date) is reported with its line number and the problem,
and the lines before and after it are imported as if it were not there.

A batch's receipts are matched and decided in file order, each on the state the ones before
it left, and written in one transaction (``receipt_group``: a group commit, one per batch
instead of one per payment); what the group cannot take — a payment its contract refuses, a
batch another writer got in the way of — is recorded one by one after it, each payer's and
each contract's lines still in file order.

A crash in the second pass leaves the lines applied so far applied; importing the same file
again applies the rest and records nothing twice.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from uuid import UUID

from services.contracts.application.commands import ContractsApplication, ReceiptWritten, contract_stream
from services.contracts.application.ports import (
    KeptReceipt,
    LineAlreadyImported,
    PayerDirectory,
    StatementLedger,
)
from services.contracts.application.receipt_group import ReceiptGroup
from services.contracts.domain.commands import Allocation, RecordReceipt
from services.contracts.domain.contract import ContractState
from services.contracts.domain.statements.lines import BankLine, LineRejected, Outgoing, Parsed
from services.contracts.domain.statements.matching import RULES, Match, Rule, by_invoice, invoice_numbers_in, match
from services.contracts.domain.statements.parse import read_statement
from shared.domain_errors import Conflict, DomainError, NotFound, RuleViolated
from shared.eventstore.ports import Transaction
from shared.eventstore.records import CommandContext
from shared.logging import get_logger
from shared.money import money_text

log = get_logger("contracts.statements")

Source = Callable[[], Iterable[bytes]]
"""Opens the file afresh: its bytes in pieces (the import reads it twice)."""
Progress = Callable[[int], None]
"""Told how many more lines (payments) were applied."""

MAX_LISTED = 1000
"""Rejected lines listed one by one in the answer; beyond that they are only counted."""


@dataclass(frozen=True)
class Checked:
    format: str
    encoding: str
    payments: int
    """Documents (1C) or rows (CSV) found, whatever their fate."""


@dataclass
class ImportReport:
    format: str
    encoding: str
    payments: int = 0
    matched: int = 0
    already_imported: int = 0
    unallocated: int = 0
    rejected: int = 0
    outgoing: int = 0
    matched_by: Counter[str] = field(default_factory=Counter)
    rejections: list[LineRejected] = field(default_factory=list)
    position: int | None = None
    """The position of the last event the import wrote (None: it wrote none)."""

    def saw(self, position: int | None) -> None:
        if position is not None:
            self.position = max(self.position or 0, position)


def check(source: Source) -> Checked:
    """The first pass: parse the whole file without applying anything (CPU only; a caller on
    an event loop runs it in a thread). Raises ``StatementUnreadable``."""
    statement = read_statement(source())
    count = sum(1 for _ in statement.items)
    return Checked(statement.format, statement.encoding, count)


def batches(items: Iterator[Parsed], size: int) -> Iterator[list[Parsed]]:
    while batch := list(islice(items, size)):
        yield batch


class StatementImport:
    def __init__(
        self,
        contracts: ContractsApplication,
        directory: PayerDirectory,
        ledger: StatementLedger,
        *,
        rules: Sequence[Rule] = RULES,
        batch: int = 500,
    ) -> None:
        """``batch``: payments read, matched and written together (``ReceiptGroup``: one
        transaction for the batch's receipts)."""
        self.contracts = contracts
        self.directory = directory
        self.ledger = ledger
        self.rules = rules
        self.batch = batch

    async def run(
        self,
        source: Source,
        ctx: CommandContext,
        latest_paid_on: date | None,
        progress: Progress | None = None,
        checked: Checked | None = None,
    ) -> ImportReport:
        """Import the statement ``source`` opens (``checked``: its first pass, if done already)."""
        if checked is None:
            checked = await asyncio.to_thread(check, source)
        statement = read_statement(source())
        report = ImportReport(checked.format, checked.encoding)
        for batch in batches(statement.items, self.batch):
            await self._apply(batch, report, ctx, latest_paid_on)
            report.payments += len(batch)
            if progress is not None:
                progress(len(batch))
        return report

    async def _apply(
        self, batch: list[Parsed], report: ImportReport, ctx: CommandContext, latest_paid_on: date | None
    ) -> None:
        lines: list[BankLine] = []
        for item in batch:
            if isinstance(item, LineRejected):
                report.rejected += 1
                if len(report.rejections) < MAX_LISTED:
                    report.rejections.append(item)
            elif isinstance(item, Outgoing):
                report.outgoing += 1
            else:
                lines.append(item)
        known = await self.ledger.imported([line.id for line in lines])
        fresh: list[BankLine] = []
        for line in lines:
            if line.id in known:
                report.already_imported += 1
                continue
            known.add(line.id)  # the same document twice in one file
            fresh.append(line)
        payers = await self.directory.contracts_paid_by({line.payer_tax_id for line in fresh if line.payer_tax_id})
        unmatched: list[tuple[BankLine, str]] = []
        group = ReceiptGroup(self.contracts)
        later: list[BankLine] = []  # the one-by-one path, after the group
        held: set[str] = set()
        for line in fresh:  # in file order: each decision sees the receipts before it
            payer = line.payer_tax_id or ""
            if payer in held:  # one payer's lines keep their order
                later.append(line)
                continue
            contracts = await group.states(payers.get(payer, []))
            found = await self._by_invoice(line) or match(line, contracts, self.rules)
            if found is None:
                unmatched.append((line, why_unmatched(line, contracts)))
            elif not await group.take(line, found, self._command(line, found, latest_paid_on)):
                held.add(payer)
                group.hold([found.contract_id, *payers.get(payer, [])])
                later.append(line)
        if group:
            try:
                position = await group.commit(ctx, self.ledger)
            except Exception as failed:  # noqa: BLE001 - whatever it was, the one-by-one path decides afresh
                log.warning("statement batch not written together; recording it line by line", error=repr(failed))
                later = sorted([t.line for t in group.taken] + later, key=lambda line: line.line)
            else:
                report.matched += len(group)
                report.matched_by.update(t.match.rule for t in group.taken)
                report.saw(position)
        for line in later:
            await self._settle(line, payers.get(line.payer_tax_id or "", []), report, unmatched, ctx, latest_paid_on)
        if unmatched:
            kept = await self.ledger.keep_unallocated(unmatched, ctx.actor)
            report.unallocated += len(kept)
            report.already_imported += len(unmatched) - len(kept)

    async def _settle(
        self,
        line: BankLine,
        contract_ids: Sequence[UUID],
        report: ImportReport,
        unmatched: list[tuple[BankLine, str]],
        ctx: CommandContext,
        latest_paid_on: date | None,
    ) -> None:
        """Record one line on the contract it matches, or add it to ``unmatched``."""
        contracts = await self._contracts(contract_ids)
        found = await self._by_invoice(line) or match(line, contracts, self.rules)
        if found is not None and all(c.id != found.contract_id for c in contracts):
            contracts += await self._contracts([found.contract_id])  # an invoice of another payer's
        if found is None:
            unmatched.append((line, why_unmatched(line, contracts)))
            return
        try:
            written = await self._record(line, found, ctx, latest_paid_on)
        except LineAlreadyImported:
            report.already_imported += 1
        except DomainError as refused:
            number = next(c.number for c in contracts if c.id == found.contract_id)
            unmatched.append((line, f"matched contract {number} by {found.rule}, but {refused.message}"))
        else:
            if written.retried:
                report.already_imported += 1
            else:
                report.matched += 1
                report.matched_by[found.rule] += 1
                report.saw(written.position)

    async def _by_invoice(self, line: BankLine) -> Match | None:
        """Rule 1: the invoices the purpose names by number (the lookup is I/O, the rule is not)."""
        numbers = invoice_numbers_in(line.purpose)
        if not numbers:
            return None
        found = [ref for n in numbers if (ref := await self.contracts.invoice_by_number(n)) is not None]
        return by_invoice(line, found)

    async def _contracts(self, ids: Sequence[UUID]) -> list[ContractState]:
        states = [await self.contracts.contracts.current(contract_stream(i)) for i in ids]
        return [s for s in states if s is not None]

    @staticmethod
    def _command(line: BankLine, found: Match, latest_paid_on: date | None) -> RecordReceipt:
        """The receipt ``line`` makes on the contract ``found`` names, under the bank document."""
        return RecordReceipt(
            found.contract_id,
            line.id,
            line.amount,
            line.booked_on,
            line.reference,
            list(found.allocations) if found.allocations is not None else None,
            latest_paid_on,
        )

    async def _record(
        self, line: BankLine, found: Match, ctx: CommandContext, latest_paid_on: date | None
    ) -> ReceiptWritten:
        async def ledger_row(tx: Transaction) -> None:
            await self.ledger.record_matched(tx, line, found.contract_id, found.rule, ctx.actor)

        return await self.contracts.record_receipt(self._command(line, found, latest_paid_on), ctx, also=ledger_row)

    # --- unallocated receipts ---------------------------------------------------------

    async def unallocated(self, limit: int = 100, offset: int = 0) -> list[KeptReceipt]:
        return await self.ledger.unallocated(limit, offset)

    async def allocate(
        self,
        receipt_id: UUID,
        contract_id: UUID,
        allocations: Sequence[Allocation] | None,
        ctx: CommandContext,
        latest_paid_on: date | None,
    ) -> ReceiptWritten:
        """Record an unallocated receipt on ``contract_id`` (oldest debt first, or as
        ``allocations`` say) and mark it allocated, in one transaction."""
        kept = await self.ledger.get(receipt_id)
        if kept is None:
            raise NotFound("receipt_not_found", f"no bank receipt {receipt_id} was imported", "receipt_id")
        if kept.status != "unallocated":
            raise Conflict(
                "receipt_allocated",
                f"bank receipt {receipt_id} is {kept.status} (contract {kept.contract_id}), not unallocated",
                "receipt_id",
            )
        state = await self.contracts.contracts.current(contract_stream(contract_id))
        if state is None:
            raise NotFound("contract_not_found", f"contract {contract_id} does not exist", "contract_id")
        if state.currency is not None and state.currency != kept.line.currency:
            raise RuleViolated(
                "currency_mismatch",
                f"the receipt is {money_text(kept.line.amount, kept.line.currency)}; contract {state.number} "
                f"is in {state.currency}",
                "contract_id",
            )

        async def allocated(tx: Transaction) -> None:
            await self.ledger.mark_allocated(tx, receipt_id, contract_id, ctx.actor)

        command = RecordReceipt(
            contract_id,
            receipt_id,
            kept.line.amount,
            kept.line.booked_on,
            kept.reference,
            list(allocations) if allocations is not None else None,
            latest_paid_on,
        )
        written = await self.contracts.record_receipt(command, ctx, also=allocated)
        if written.retried:  # recorded by hand under the same reference before: only the ledger is behind
            await self.ledger.mark_allocated(None, receipt_id, contract_id, ctx.actor)
        return written


def why_unmatched(line: BankLine, contracts: Sequence[ContractState]) -> str:
    """The reason an accountant reads next to an unallocated receipt."""
    amount = money_text(line.amount, line.currency)
    if line.payer_tax_id is None:
        return "the payer has no tax id (ИНН) in the statement"
    if not contracts:
        return f"no client is registered with tax id {line.payer_tax_id}"
    numbers = ", ".join(c.number for c in contracts[:5]) + (" …" if len(contracts) > 5 else "")
    return (
        f"tax id {line.payer_tax_id} has contracts {numbers}: the purpose names none of them (or several), "
        f"and not exactly one period owes {amount} on {line.booked_on.isoformat()}"
    )
