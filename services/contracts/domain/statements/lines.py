"""What a statement is read into: one ``BankLine`` per incoming payment, or a rejection
naming the line of the file and the problem.

A file whose structure is broken (not a statement, an encoding we cannot read, cut off in the
middle, a CSV without its columns) is a ``StatementUnreadable``: nothing of it is applied.
A single bad payment (an amount or a date that does not parse, a key missing) is a
``LineRejected``: reported, and the other lines are imported as if it were not there.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cached_property
from uuid import UUID, uuid5

MAX_LINE_BYTES = 64 * 1024
"""A longer line is not a statement (a binary file, a file without line breaks)."""

_TAX_ID = re.compile(r"\d{10}|\d{12}")
STATEMENT_NAMESPACE = UUID("0d6a4f1e-2b7c-5a8e-9f3d-6c1b2a4e8f70")


class StatementUnreadable(Exception):
    """The file as a whole cannot be imported; ``line`` is where that became clear."""

    def __init__(self, line: int, rule: str, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.rule = rule
        self.message = f"line {line}: {message}"


@dataclass(frozen=True)
class LineRejected:
    """One payment of the file that cannot be imported; the rest of the file can."""

    line: int
    rule: str
    message: str


@dataclass(frozen=True)
class Outgoing:
    """A document that is not money in: a payment of ours, or a transfer between our accounts."""

    line: int


@dataclass(frozen=True)
class BankLine:
    """One incoming payment of a statement. ``line`` is where its document starts in the file."""

    line: int
    document_number: str
    document_date: date
    booked_on: date
    """The day the money arrived (1C: ДатаПоступило, else ДатаСписано, else Дата)."""
    amount: Decimal
    currency: str
    payer: str
    payer_tax_id: str | None
    payer_account: str | None
    purpose: str
    account: str | None = None
    """Our account the money came to (1C), None for a CSV."""

    @cached_property  # the line is immutable; its id is asked for at every step of an import
    def key(self) -> str:
        """What makes this payment the same payment in another export (overlapping periods
        re-export documents; ``Номер`` alone repeats): our account, the document's number,
        date and amount, and who paid."""
        parts = (
            self.account or "",
            self.document_number,
            self.document_date.isoformat(),
            str(self.amount.normalize()),
            self.currency,
            self.payer_tax_id or "",
            self.payer_account or "",
            "" if (self.payer_tax_id or self.payer_account) else self.payer,
        )
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()

    @cached_property
    def id(self) -> UUID:
        """The line's id as an imported receipt: the same for every import of the document."""
        return uuid5(STATEMENT_NAMESPACE, self.key)

    @property
    def reference(self) -> str:
        """The payment reference the line is recorded under (at most 100 characters): the bank
        document as an accountant names it."""
        who = self.payer_tax_id or self.payer_account or self.payer[:30]
        return f"bank {self.document_number[:30]} of {self.document_date.isoformat()} from {who}"[:100]


Parsed = BankLine | LineRejected | Outgoing


def tax_id(value: str | None) -> str | None:
    """A Russian ИНН (10 or 12 digits, not all zeros) or None: foreign payers carry junk."""
    digits = (value or "").strip()
    return digits if _TAX_ID.fullmatch(digits) and digits.strip("0") else None
