"""Many bank receipts, on many contracts, in one transaction: the statement import's group commit.

Recorded one by one, every matched payment is a transaction of its own — a key lock, the
events, the outbox rows, the scheduler's rows, the ledger row and a commit — and a large
statement crawls (~19 payments/s on the loaded 2-core CI machine). A ``ReceiptGroup`` decides a
batch's receipts one after another, each with the domain's own rule (``contract.decide``) on
the state the receipts before it made, so a contract's payments keep the file's order; then
``commit`` writes the batch in one transaction: one append per contract (the store holds every
client's key lock, so per key commit order is still position order), the outbox, the
scheduler's rows and the ledger rows. It commits whole or not at all: a payment is never
half-written, and its ledger row never lands without it.

A group of the import's 500-payment batch holds at most 500 key locks for one transaction:
PostgreSQL's lock table has ``max_locks_per_transaction`` (64) × ``max_connections`` slots
(19,200 on the local stack), shared by all.

What the group does not take stays with the caller's one-by-one path, which reads afresh and
decides again: a payment the contract refuses or that records nothing new (a retry), every
later payment to that contract, and — when the commit fails (another writer moved a contract on,
another import recorded a line meanwhile) — the whole batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from uuid import UUID

from services.contracts.application.commands import ContractsApplication, contract_stream
from services.contracts.application.ports import StatementLedger
from services.contracts.domain import contract as contract_agg
from services.contracts.domain.commands import RecordReceipt
from services.contracts.domain.contract import ContractState
from services.contracts.domain.statements.lines import BankLine
from services.contracts.domain.statements.matching import Match
from shared.domain_errors import DomainError
from shared.events.base import EventData
from shared.eventstore.aggregates import Decided, Loaded
from shared.eventstore.ports import Transaction
from shared.eventstore.records import CommandContext


@dataclass
class _Contract:
    start: Loaded[ContractState]
    state: ContractState
    events: list[EventData] = field(default_factory=list)


@dataclass(frozen=True)
class Taken:
    line: BankLine
    match: Match


class ReceiptGroup:
    def __init__(self, app: ContractsApplication) -> None:
        self._app = app
        self._contracts: dict[UUID, _Contract] = {}
        self._held: set[UUID] = set()
        self.taken: list[Taken] = []
        """The receipts decided into the group, in the order they were taken."""

    def __len__(self) -> int:
        return len(self.taken)

    async def states(self, contract_ids: Sequence[UUID]) -> list[ContractState]:
        """The contracts as the receipts taken so far leave them (for matching the next line)."""
        states = []
        for contract_id in contract_ids:
            pending = self._contracts.get(contract_id)
            state = pending.state if pending else await self._app.contracts.current(contract_stream(contract_id))
            if state is not None:
                states.append(state)
        return states

    def hold(self, contract_ids: Sequence[UUID]) -> None:
        """Take nothing more for these contracts: one of their receipts went the one-by-one way."""
        self._held.update(contract_ids)

    async def take(self, line: BankLine, found: Match, command: RecordReceipt) -> bool:
        """Decide ``command`` (``line``'s receipt on ``found.contract_id``) into the group; False
        (and the contract held) when the group cannot take it as it is."""
        contract_id = found.contract_id
        if contract_id in self._held:
            return False
        pending = self._contracts.get(contract_id)
        if pending is None:
            start = await self._app.contracts.start(contract_stream(contract_id))
            if start.state is None:
                self._held.add(contract_id)
                return False
            pending = _Contract(start, start.state)
        try:
            events = contract_agg.decide(command, pending.state)
        except DomainError:
            events = []
        if not events:  # refused, or a retry of a receipt recorded before: the one-by-one path says which
            self._held.add(contract_id)
            return False
        state = pending.state
        for event in events:
            state = contract_agg.evolve(state, event)
        pending.state = state
        pending.events.extend(events)
        self._contracts[contract_id] = pending
        self.taken.append(Taken(line, found))
        return True

    async def commit(self, ctx: CommandContext, ledger: StatementLedger) -> int | None:
        """Write every receipt taken, with its ledger row, in one transaction; the position of
        the last event written. Raises (nothing written) when it cannot."""
        decided = [
            Decided(contract_stream(contract_id), c.start, c.events, c.state, str(c.state.client_id))
            for contract_id, c in self._contracts.items()
        ]

        async def ledger_rows(tx: Transaction) -> None:
            await ledger.record_matched_many(
                tx, [(t.line, t.match.contract_id, t.match.rule) for t in self.taken], ctx.actor
            )

        written = await self._app.write_decided(decided, ctx, also=ledger_rows)
        return max((w.position for w in written if w.position is not None), default=None)
