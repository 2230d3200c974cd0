"""Which contract an incoming bank payment pays: an ordered list of rules, the first that
answers wins; none answering leaves the payment unallocated (kept for an accountant).

The rules see the line and the contracts of every client registered with the payer's tax id
(ИНН). In the order of issue 17:

1. ``invoice_number``: an invoice number (``YYYY-NNNNNN``) in the purpose names exactly one
   issued invoice in the payment's currency, whoever paid it (``invoice_numbers_in`` here; the
   lookup is I/O, so the application asks it before these rules): the payment goes to that
   invoice's period when it is the invoice's amount, otherwise oldest debt first on its contract;
2. ``contract_number``: the number of exactly one of the payer's contracts stands in the
   purpose. The payment becomes a receipt on that contract, oldest debt first (a payment
   larger than a period spreads over the next ones);
3. ``owed_period``: among the payer's contracts exactly one period is owed on the day the money
   arrived (``shared.owed.is_owed``) and still owes exactly the amount paid.

A contract in another currency than the payment is never a match.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol
from uuid import UUID

from services.contracts.domain.commands import Allocation
from services.contracts.domain.contract import ContractState
from services.contracts.domain.statements.lines import BankLine
from shared.owed import is_owed


@dataclass(frozen=True)
class Match:
    contract_id: UUID
    rule: str
    allocations: tuple[Allocation, ...] | None = None
    """None: the receipt pays the oldest owed periods first."""


Rule = Callable[[BankLine, Sequence[ContractState]], Match | None]

_WORD = "0-9A-Za-zА-Яа-яЁё"


def names_contract(purpose: str, number: str) -> bool:
    """Whether ``number`` stands in ``purpose`` as a whole word (``AB-12`` is not in ``AB-123``)."""
    pattern = rf"(?<![{_WORD}]){re.escape(number.strip())}(?![{_WORD}])"
    return bool(number.strip()) and re.search(pattern, purpose, re.IGNORECASE) is not None


INVOICE_NUMBER = re.compile(r"(?<![0-9])([0-9]{4}-[0-9]{6})(?![0-9])")
"""How an invoice number looks (``domain.commands.InvoiceNumbering``: year, dash, six digits)."""


def invoice_numbers_in(purpose: str) -> list[str]:
    """The invoice numbers a payment's purpose names, in order, each once."""
    return list(dict.fromkeys(INVOICE_NUMBER.findall(purpose)))


class NamedInvoice(Protocol):
    """An issued invoice as rule 1 needs it (the application's ``InvoiceRef`` is one)."""

    @property
    def invoice_id(self) -> UUID: ...
    @property
    def contract_id(self) -> UUID: ...
    @property
    def period_id(self) -> UUID: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def currency(self) -> str: ...


def by_invoice(line: BankLine, invoices: Sequence[NamedInvoice]) -> Match | None:
    """Rule 1 over the invoices the purpose's numbers stand for."""
    hits = {i.invoice_id: i for i in invoices if i.currency == line.currency}
    if len(hits) != 1:
        return None
    (invoice,) = hits.values()
    exact = (Allocation(invoice.period_id, line.amount),) if line.amount == invoice.amount else None
    return Match(invoice.contract_id, "invoice_number", exact)


def by_contract_number(line: BankLine, contracts: Sequence[ContractState]) -> Match | None:
    hits = [c for c in contracts if c.currency == line.currency and names_contract(line.purpose, c.number)]
    return Match(hits[0].id, "contract_number") if len(hits) == 1 else None


def by_owed_period(line: BankLine, contracts: Sequence[ContractState]) -> Match | None:
    hits = [
        (c, p)
        for c in contracts
        for p in c.periods
        if p.currency == line.currency
        and p.owed == line.amount
        and is_owed(p.payment_terms, p.starts_on, p.ends_on, p.amount, p.paid_amount, line.booked_on, c.terminated_on)
    ]
    if len(hits) != 1:
        return None
    contract, period = hits[0]
    return Match(contract.id, "owed_period", (Allocation(period.period_id, line.amount),))


RULES: tuple[Rule, ...] = (by_contract_number, by_owed_period)


def match(line: BankLine, contracts: Sequence[ContractState], rules: Sequence[Rule] = RULES) -> Match | None:
    if line.payer_tax_id is None or not contracts:
        return None
    for rule in rules:
        found = rule(line, contracts)
        if found is not None:
            return found
    return None
