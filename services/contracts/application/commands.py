"""The contracts application: one coroutine per command, over the event store.

Each command loads the aggregate, lets the domain decide, and appends with the version it
read (``AggregateRepository.execute`` retries a clash against fresh state). Contract appends
also rewrite the scheduler's pending time events in the same transaction. It depends on the
ports only (``shared.eventstore.ports.EventStore``, ``application.ports.TimeEventsDue``).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from services.contracts.application.pending import PendingOfRecentStates
from services.contracts.application.ports import (
    InvoiceBook,
    InvoiceNumberTaken,
    InvoiceRef,
    PayerDirectory,
    TimeEventsDue,
)
from services.contracts.domain import client as client_agg
from services.contracts.domain import contract as contract_agg
from services.contracts.domain.client import ClientState
from services.contracts.domain.commands import (
    ClientCommand,
    CompanyDetails,
    ContractCommand,
    EmitDueTimeEvents,
    InvoiceNumbering,
    Invoicing,
    IssueInvoice,
    OpenContract,
    RecordPayment,
    RecordReceipt,
    RegisterClient,
    SchedulePeriods,
)
from services.contracts.domain.contract import ContractState
from services.contracts.domain.periods import Payment
from services.contracts.domain.schedule_plan import periods_needed
from services.contracts.domain.time_events import issued_on
from shared.calendar import CompanyCalendar
from shared.domain_errors import NotFound, RuleViolated
from shared.events import contracts as ev_contracts
from shared.events.base import EventData
from shared.events.contracts import InvoiceIssued
from shared.eventstore.aggregates import AggregateRepository, Decided, Executed
from shared.eventstore.ports import EventStore, InTransaction, Transaction
from shared.eventstore.records import CommandContext, RecordedEvent
from shared.eventstore.row_write import together

NUMBERING_ATTEMPTS = 20
"""How often a decision is made again when other writers took its invoice numbers first."""


_INDEXED = frozenset({InvoiceIssued.event_type, ev_contracts.ContractOpened.event_type})
"""Events ``ContractsApplication._index`` writes an index row for (the invoice book, the payer directory)."""


def _tax_id_changed(before: ClientState | None, after: ClientState, events: Sequence[EventData]) -> bool:
    """The payer directory keeps a client's tax id as of its last append: only a change is written."""
    return (before.tax_id if before is not None else None) != after.tax_id


def client_stream(client_id: UUID) -> str:
    return f"client-{client_id}"


def contract_stream(contract_id: UUID) -> str:
    return f"contract-{contract_id}"


AlsoWrite = Callable[[Transaction], Awaitable[None]]
"""A write of the caller's that commits with the command's events or not at all."""


@dataclass(frozen=True)
class CommandWritten:
    """What a command wrote: the id it made (or ``ids``, several), at which position."""

    id: UUID | None
    position: int | None
    ids: Sequence[UUID] = ()
    retried: bool = False
    """Nothing was written: the command repeated one already recorded (the answer is its)."""


@dataclass(frozen=True)
class ReceiptWritten:
    receipt_id: UUID
    payments: Sequence[tuple[UUID, UUID, Decimal]]
    """(payment_id, period_id, amount) of each part, in the order recorded."""
    currency: str
    position: int | None
    retried: bool = False


STATE_CACHE_SIZE = 1024
"""Client and contract states (each) a process keeps by default. 4,096 put the contracts
process at 182 MB peak RSS in the quick benchmark profile; 1,024 at 139 MB (target 150).
A command on a stream not kept reads and folds it (bench/results/notes-20261201-contracts-memory.md)."""


class ContractsApplication:
    def __init__(
        self,
        store: EventStore,
        time_events: TimeEventsDue,
        grace_days: int = 0,
        *,
        invoices: InvoiceBook | None = None,
        company: CompanyDetails | None = None,
        invoice_days_before_due: int | None = None,
        directory: PayerDirectory | None = None,
        state_cache_size: int = STATE_CACHE_SIZE,
    ) -> None:
        """``grace_days``: the company's ``ABONENT_GRACE_DAYS`` (when an unpaid period's overdue
        event falls due: ``due_on + grace_days``). ``invoices``: the invoice numbers and index
        (None: this application issues no invoices); ``company``: who issues them;
        ``invoice_days_before_due``: ``CONTRACTS_INVOICE_DAYS_BEFORE_DUE`` (None: only by hand);
        ``directory``: where clients' tax ids and contracts' numbers are kept for matching bank
        statements (written with each append); ``state_cache_size``: ``CONTRACTS_STATE_CACHE_SIZE``."""
        self.store = store
        self.time_events = time_events
        self.grace_days = grace_days
        self.invoices = invoices
        self.company = company or CompanyDetails("Abonent")
        self.invoice_days = invoice_days_before_due if invoices is not None else None
        self.directory = directory
        self.pending = PendingOfRecentStates(grace_days, self.invoice_days)
        self.clients: AggregateRepository[ClientState] = AggregateRepository(
            store, client_agg.evolve, cache_size=state_cache_size
        )
        self.contracts: AggregateRepository[ContractState] = AggregateRepository(
            store, contract_agg.evolve, cache_size=state_cache_size
        )

    # --- clients -------------------------------------------------------------------
    async def handle_client(self, command: ClientCommand, ctx: CommandContext) -> Executed[ClientState]:
        return await self.clients.execute(
            client_stream(command.client_id),
            lambda s: client_agg.decide(command, s),
            partition_key=lambda *_: str(command.client_id),
            ctx=ctx,
            writes=self._index_client,
            creates=isinstance(command, RegisterClient),
        )

    def _index_client(
        self, before: ClientState | None, after: ClientState, events: Sequence[EventData]
    ) -> InTransaction | None:
        if self.directory is None or not _tax_id_changed(before, after, events):
            return None
        return self.directory.recording_client(after.id, after.tax_id)  # a cleared one leaves it too

    async def get_client(self, client_id: UUID) -> ClientState:
        loaded = await self.clients.load(client_stream(client_id))
        if loaded.state is None:
            raise NotFound("client_not_found", f"client {client_id} does not exist", "client_id")
        return loaded.state

    async def _require_client(self, client_id: UUID) -> None:
        """Refuse a contract for an unknown client. Clients are never deleted, so one this
        process has seen (cached) exists; only an unknown one is looked up."""
        if await self.clients.current(client_stream(client_id)) is None:
            raise NotFound("client_not_found", f"client {client_id} does not exist", "client_id")

    # --- contracts -----------------------------------------------------------------
    async def handle_contract(
        self, command: ContractCommand, ctx: CommandContext, also: AlsoWrite | None = None
    ) -> Executed[ContractState]:
        """``also``: written in the append's transaction (only when the command writes events)."""
        if isinstance(command, OpenContract):
            await self._require_client(command.client_id)

        def key(state: ContractState | None, events: Sequence[EventData]) -> str:
            return str(state.client_id if state is not None else command.client_id)  # type: ignore[union-attr]  # a command for an unknown stream is one that names its client

        return await self.contracts.execute(
            contract_stream(command.contract_id),
            lambda s: contract_agg.decide(command, s),
            partition_key=key,
            ctx=ctx,
            writes=self._contract_writes if also is None else None,
            in_transaction=None if also is None else self._rearm_and(also),
            creates=isinstance(command, OpenContract),
        )

    def _contract_writes(
        self, before: ContractState | None, after: ContractState, events: Sequence[EventData]
    ) -> InTransaction | None:
        """What a contract command writes beside its events: the scheduler's rows and the payer
        directory as SQL of their own (in the append's statement on PostgreSQL: one round trip),
        or, when it issues invoices, the invoice book's numbers too (in the append's transaction)."""
        if not self._rearm_needed(before, after, events):
            return None
        if any(e.event_type == InvoiceIssued.event_type for e in events):

            async def rearm(tx: Transaction, recorded: list[RecordedEvent]) -> None:
                await self._rearm(tx, after, recorded)

            return rearm
        return together(
            self._scheduler_rows(after, new=before is None), self._directory_row(after, events[0].event_type)
        )

    def _scheduler_rows(self, state: ContractState, *, new: bool) -> InTransaction | None:
        """The write of the contract's pending time events (a contract opened just now has no
        rows to clear)."""
        due = self.pending(state)
        return self.time_events.replacing(state.id, due) if due or not new else None

    def _directory_row(self, state: ContractState, first_event_type: str) -> InTransaction | None:
        """The payer directory's row of a contract the append opens."""
        if self.directory is None or first_event_type != ev_contracts.ContractOpened.event_type:
            return None
        return self.directory.recording_contract(state.id, state.client_id, state.number)

    def _rearm_needed(self, before: ContractState | None, after: ContractState, events: Sequence[EventData]) -> bool:
        """Whether ``_rearm`` has anything to write. The scheduler's rows of a contract are its
        pending time events as of its last append (each append writes them in its transaction,
        and an append from a state that is not the stream's head fails on its version), so a
        command that leaves them as they were — a part payment, a renaming — has nothing to
        write there, and its append is one round trip. (So a changed ``ABONENT_GRACE_DAYS``
        reaches a contract's rows with the next command that changes its pending events, not
        with any command.)"""
        if any(e.event_type in _INDEXED for e in events):
            return True
        return (() if before is None else self.pending(before)) != self.pending(after)

    async def _rearm(self, tx: Transaction, state: ContractState, recorded: list[RecordedEvent]) -> None:
        if (rows := self._scheduler_rows(state, new=recorded[0].stream_version == 1)) is not None:
            await rows(tx, recorded)
        await self._index(tx, state, recorded)

    async def _index(self, tx: Transaction, state: ContractState, recorded: list[RecordedEvent]) -> None:
        """Keep the invoice book and the payer directory up with what the append recorded."""
        issued = [r for r in recorded if r.event_type == InvoiceIssued.event_type]
        if issued:
            if self.invoices is None:
                raise RuntimeError("an invoice was issued by an application without an invoice book")
            docs = [state.invoice(UUID(r.data["invoice"]["invoice_id"])) for r in issued]
            await self.invoices.record(
                tx,
                self.company.series,
                [
                    InvoiceRef(d.invoice_id, d.number, d.contract_id, d.period_id, d.amount, d.currency)
                    for d in docs
                    if d is not None
                ],
            )
        if recorded and (row := self._directory_row(state, recorded[0].event_type)) is not None:
            await row(tx, recorded)

    # --- invoices and time events -------------------------------------------------------
    async def _numbered(
        self, build: Callable[[InvoiceNumbering | None], ContractCommand], year: int | None, ctx: CommandContext
    ) -> Executed[ContractState]:
        """Run the command ``build`` makes with the next free invoice numbers of ``year``
        (None: no invoices); numbers claimed meanwhile by another writer: decide again."""
        for _ in range(NUMBERING_ATTEMPTS - 1):
            numbering = await self._numbering(year)
            try:
                return await self.handle_contract(build(numbering), ctx)
            except InvoiceNumberTaken:
                continue
        return await self.handle_contract(build(await self._numbering(year)), ctx)

    async def _numbering(self, year: int | None) -> InvoiceNumbering | None:
        if year is None or self.invoices is None:
            return None
        return InvoiceNumbering(year, await self.invoices.next_seq(self.company.series, year))

    async def issue_invoice(
        self, contract_id: UUID, period_id: UUID, issued_on: date, ctx: CommandContext
    ) -> tuple[ContractState, ev_contracts.InvoiceDocument, int | None]:
        """Issue the period's invoice (or answer the one issued): (state, invoice, position)."""
        if self.invoices is None:
            raise RuleViolated("invoicing_off", "this installation issues no invoices")
        state, _ = await self.get_contract(contract_id)
        client = await self.get_client(state.client_id)
        result = await self._numbered(
            lambda n: IssueInvoice(contract_id, period_id, uuid.uuid4(), issued_on, client, self.company, n),  # type: ignore[arg-type]  # numbering is read for a year
            issued_on.year,
            ctx,
        )
        assert result.state is not None
        doc = result.state.invoice_of(period_id)
        assert doc is not None
        return result.state, doc, result.position

    async def emit_due(
        self, contract_id: UUID, as_of: date, now: datetime | None, calendar: CompanyCalendar, ctx: CommandContext
    ) -> Executed[ContractState]:
        """The scheduler's command for one contract, with the invoice numbers it may need."""
        state, _ = await self.get_contract(contract_id)
        client = await self.get_client(state.client_id)
        probe = EmitDueTimeEvents(contract_id, as_of, client, now=now, calendar=calendar)
        year = issued_on(probe).year if self.invoice_days is not None else None

        def build(numbering: InvoiceNumbering | None) -> ContractCommand:
            invoicing = None if self.invoice_days is None else Invoicing(self.invoice_days, self.company, numbering)
            return replace(probe, invoicing=invoicing)

        return await self._numbered(build, year, ctx)

    async def invoice_by_number(self, number: str) -> InvoiceRef | None:
        """``application.ports.InvoiceLookup``: which contract, period, amount and currency an
        invoice number stands for (the bank-statement import matches purposes with it)."""
        return None if self.invoices is None else await self.invoices.by_number(self.company.series, number)

    async def find_invoice(self, invoice_id: UUID) -> tuple[ContractState, ev_contracts.InvoiceDocument]:
        contract_id = None if self.invoices is None else await self.invoices.contract_of(invoice_id)
        doc = None
        if contract_id is not None:
            state, _ = await self.get_contract(contract_id)
            doc = state.invoice(invoice_id)
        if contract_id is None or doc is None:
            raise NotFound("invoice_not_found", f"invoice {invoice_id} does not exist", "invoice_id")
        return state, doc

    def _rearm_and(
        self, also: AlsoWrite
    ) -> Callable[[Transaction, ContractState, list[RecordedEvent]], Awaitable[None]]:
        async def both(tx: Transaction, state: ContractState, recorded: list[RecordedEvent]) -> None:
            await self._rearm(tx, state, recorded)
            await also(tx)

        return both

    async def get_contract(self, contract_id: UUID) -> tuple[ContractState, list[RecordedEvent]]:
        loaded = await self.contracts.load(contract_stream(contract_id))
        if loaded.state is None:
            raise NotFound("contract_not_found", f"contract {contract_id} does not exist", "contract_id")
        return loaded.state, loaded.events

    async def schedule_periods(self, command: SchedulePeriods, ctx: CommandContext) -> CommandWritten:
        result = await self.handle_contract(command, ctx)
        return CommandWritten(None, result.position, tuple(command.period_ids))

    async def record_payment(self, command: RecordPayment, ctx: CommandContext) -> CommandWritten:
        """Record a payment; the retry of one recorded under its reference answers with the
        original payment and the position it got (the domain decided it is the same)."""
        result = await self.handle_contract(command, ctx)
        if result.recorded or result.state is None or command.reference is None:
            return CommandWritten(command.payment_id, result.position)
        recorded = result.state.payments_under(command.reference)
        return CommandWritten(
            recorded[0].payment_id, await self._position_of(command.contract_id, recorded), retried=True
        )

    async def record_receipt(
        self, command: RecordReceipt, ctx: CommandContext, also: AlsoWrite | None = None
    ) -> ReceiptWritten:
        """One bank payment over several periods; a retry answers with the original receipt."""
        result = await self.handle_contract(command, ctx, also)
        assert result.state is not None and result.state.currency is not None
        recorded = result.state.payments_under(command.reference)
        parts = [(p.payment_id, p.period_id, p.amount) for p in recorded]
        if result.recorded:
            return ReceiptWritten(command.receipt_id, parts, result.state.currency, result.position)
        receipt_id = recorded[0].receipt_id
        assert receipt_id is not None
        return ReceiptWritten(
            receipt_id,
            parts,
            result.state.currency,
            await self._position_of(command.contract_id, recorded),
            retried=True,
        )

    async def write_decided(
        self, decided: Sequence[Decided[ContractState]], ctx: CommandContext, also: AlsoWrite | None = None
    ) -> list[Executed[ContractState]]:
        """Commands on several contracts, decided by the caller on the states it read
        (``contracts.start``), in one transaction with each contract's scheduler rows and
        ``also``; ConcurrencyError (nothing written) when any contract moved on meanwhile."""

        async def hook(tx: Transaction, results: list[tuple[ContractState, list[RecordedEvent]]]) -> None:
            await self.time_events.replace_many(tx, {s.id: self.pending(s) for s, _ in results})
            for state, recorded in results:
                await self._index(tx, state, recorded)
            if also is not None:
                await also(tx)

        return await self.contracts.append_decided(decided, ctx=ctx, in_transaction=hook)

    async def _position_of(self, contract_id: UUID, payments: Sequence[Payment]) -> int | None:
        """The position of the last event the original command wrote: its last PaymentRecorded
        or the DebtSettled that followed. The aggregate remembers each payment's stream
        version as it folds (pure, no positions in the domain); the store maps it to the
        position, one indexed lookup on (stream_id, stream_version), and only for retries."""
        version = max(max(p.version, p.settled_version) for p in payments)
        return await self.store.position_at(contract_stream(contract_id), version)


def new_period_ids(starts_on, ends_on, every: str) -> list[UUID]:
    return [uuid.uuid4() for _ in range(periods_needed(starts_on, ends_on, every))]
