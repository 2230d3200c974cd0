"""Which format a statement is in, by its first line: ``1CClientBankExchange`` or a CSV header."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from services.contracts.domain.statements import csv_format, exchange_1c
from services.contracts.domain.statements.decoding import open_text
from services.contracts.domain.statements.lines import Parsed, StatementUnreadable


@dataclass(frozen=True)
class Statement:
    format: str
    """``1c`` or ``csv``."""
    encoding: str
    items: Iterator[Parsed]


def read_statement(chunks: Iterable[bytes]) -> Statement:
    """The statement in ``chunks`` (the file's bytes in any pieces), read as it is iterated.
    ``StatementUnreadable`` here or while iterating means: import nothing of it."""
    encoding, lines = open_text(chunks)
    for first in lines:
        if first.text is None:
            raise StatementUnreadable(first.number, "invalid_text", f"the line is not valid {encoding} text")
        if not first.text:
            continue
        if first.text.lower() == exchange_1c.SIGNATURE:
            return Statement("1c", encoding, exchange_1c.parse(lines, encoding))
        if any(d in first.text for d in (",", ";", "\t")):
            return Statement("csv", encoding, csv_format.parse(first, lines, encoding))
        raise StatementUnreadable(
            first.number,
            "unknown_format",
            f'"{first.text[:60]}" starts neither a 1C statement (1CClientBankExchange) nor a CSV header '
            f"({', '.join(csv_format.COLUMNS)})",
        )
    raise StatementUnreadable(1, "empty", "the file is empty")
