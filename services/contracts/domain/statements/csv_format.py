"""A plain CSV statement: a header naming the columns ``date, amount, currency, payer,
payer_tax_id, purpose, document_number`` (any order, more columns allowed), one payment per
row. The delimiter is the header's: comma, semicolon or tab. Dates are ``YYYY-MM-DD`` or
``dd.mm.yyyy``; amounts use a point or a comma before the decimals and no thousands
separator; a negative amount is money out and is skipped.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

from services.contracts.domain.statements.decoding import TextLine
from services.contracts.domain.statements.lines import (
    BankLine,
    LineRejected,
    Outgoing,
    Parsed,
    StatementUnreadable,
    tax_id,
)
from shared.money import fits_currency, is_active_currency, minor_units

COLUMNS = ("date", "amount", "currency", "payer", "payer_tax_id", "purpose", "document_number")
_AMOUNT = re.compile(r"-?\d{1,15}(\.\d{1,3})?")
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")
_RU = re.compile(r"(\d{2})\.(\d{2})\.(\d{4})")


def delimiter_of(header: str) -> str:
    return max((",", ";", "\t"), key=header.count)


def _date(text: str) -> date | None:
    try:
        if _ISO.fullmatch(text):
            return date.fromisoformat(text)
        match = _RU.fullmatch(text)
        return date(int(match[3]), int(match[2]), int(match[1])) if match else None
    except ValueError:
        return None


def row(values: dict[str, str], number: int) -> Parsed:
    """One row (``values`` by column name) of the line ``number``."""
    booked = _date(values["date"])
    if booked is None:
        return LineRejected(number, "invalid_date", f'date "{values["date"][:40]}" is not a date (YYYY-MM-DD)')
    text = values["amount"].replace(",", ".") if "." not in values["amount"] else values["amount"]
    if not _AMOUNT.fullmatch(text) or Decimal(text) == 0:
        return LineRejected(
            number, "invalid_amount", f'amount "{values["amount"][:40]}" is not an amount (such as 1000.00)'
        )
    amount = Decimal(text)
    if amount < 0:
        return Outgoing(number)
    currency = values["currency"].upper()
    if not is_active_currency(currency):
        return LineRejected(
            number, "invalid_currency", f'currency "{values["currency"][:40]}" is not an ISO 4217 code such as RUB'
        )
    if not fits_currency(amount, currency):
        return LineRejected(
            number, "invalid_amount", f"amount {text} has more than {minor_units(currency)} decimals for {currency}"
        )
    if not values["document_number"]:
        return LineRejected(number, "missing_value", "document_number is empty: it names the bank document")
    return BankLine(
        line=number,
        document_number=values["document_number"][:60],
        document_date=booked,
        booked_on=booked,
        amount=amount,
        currency=currency,
        payer=values["payer"],
        payer_tax_id=tax_id(values["payer_tax_id"]),
        payer_account=None,
        purpose=values["purpose"],
    )


def parse(header: TextLine, lines: Iterator[TextLine], encoding: str) -> Iterator[Parsed]:
    """The rows of a CSV whose first non-empty line is ``header``."""
    assert header.text is not None
    delimiter = delimiter_of(header.text)
    names = [n.strip().lower() for n in next(csv.reader([header.text], delimiter=delimiter))]
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        raise StatementUnreadable(
            header.number,
            "missing_columns",
            f"the CSV header lacks the column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"(a CSV statement has: {', '.join(COLUMNS)})",
        )
    index = {c: names.index(c) for c in COLUMNS}
    bad: set[int] = set()

    def texts() -> Iterator[str]:
        for line in lines:  # every line, numbered on from the header's
            if line.text is None:
                bad.add(line.number)
                yield "\n"
            else:
                yield line.text + "\n"  # the end of line keeps a quoted field's line break

    reader = csv.reader(texts(), delimiter=delimiter)
    read = 0
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            read = reader.line_num
            yield LineRejected(header.number + read, "invalid_csv", str(exc))
            continue
        first, last, read = header.number + read + 1, header.number + reader.line_num, reader.line_num
        if bad:
            spoilt = any(first <= n <= last for n in bad)
            bad.difference_update([n for n in bad if n <= last])
            if spoilt:
                yield LineRejected(
                    first, "invalid_text", f"the line is not valid {encoding} text (the file mixes encodings)"
                )
                continue
        if not any(v.strip() for v in values):
            continue
        if len(values) < len(names):
            yield LineRejected(first, "missing_fields", f"the row has {len(values)} fields, the header {len(names)}")
            continue
        yield row({c: values[i].strip() for c, i in index.items()}, first)
