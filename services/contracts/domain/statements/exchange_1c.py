"""The 1C client-bank exchange format (``1CClientBankExchange``, versions 1.01-1.03), read
line by line. Facts: ``/work/shared/BANK-STATEMENTS.md`` in the team's notes, in short:

- ``Key=Value`` per line, split at the first ``=``; keys compared case-insensitively;
- a header (our accounts in ``РасчСчет``), account sections ``СекцияРасчСчет``…``КонецРасчСчет``,
  documents ``СекцияДокумент=<type>``…``КонецДокумента``, then ``КонецФайла``. A file without
  its end marker was cut off and is refused whole;
- money in: ``ПолучательСчет`` is one of our accounts (``Outgoing`` when ``ПлательщикСчет`` is);
  booked on ``ДатаПоступило``, else ``ДатаСписано``, else ``Дата`` (dd.mm.yyyy);
- ``Сумма`` has a decimal point and at most two decimals; the currency is our account's
  (digits 6-8 of the account number).
"""

from __future__ import annotations

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

SIGNATURE = "1cclientbankexchange"
HEADER_KEYS = frozenset(
    k.lower()
    for k in (
        "ВерсияФормата",
        "Кодировка",
        "Отправитель",
        "Получатель",
        "ДатаСоздания",
        "ВремяСоздания",
        "ДатаНачала",
        "ДатаКонца",
        "РасчСчет",
        "Документ",
    )
)
ACCOUNT_SECTION = "секциярасчсчет"
ACCOUNT_SECTION_END = "конецрасчсчет"
DOCUMENT = "секциядокумент"
DOCUMENT_END = "конецдокумента"
FILE_END = "конецфайла"
CURRENCY_CODES = {"810": "RUB", "643": "RUB", "840": "USD", "978": "EUR", "156": "CNY"}
_AMOUNT = re.compile(r"\d{1,15}(\.\d{1,2})?")
_DATE = re.compile(r"(\d{2})\.(\d{2})\.(\d{4})")
_LEADING_TAX_ID = re.compile(r"^ИНН\s*\d+\s*", re.IGNORECASE)

Fields = dict[str, tuple[str, int]]
"""A document's keys (lower case) -> (value, line number)."""


def _date(fields: Fields, key: str) -> date | None | LineRejected:
    value, line = fields.get(key.lower(), ("", 0))
    if not value:
        return None
    match = _DATE.fullmatch(value)
    try:
        if match is None:
            raise ValueError
        return date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError:
        return LineRejected(line, "invalid_date", f'{key} "{value[:40]}" is not a date (dd.mm.yyyy)')


def _purpose(fields: Fields) -> str:
    full = fields.get("назначениеплатежа", ("", 0))[0]
    if full:
        return full
    return " ".join(fields[k][0] for k in (f"назначениеплатежа{i}" for i in range(1, 7)) if fields.get(k, ("", 0))[0])


def _first(fields: Fields, *keys: str) -> str | None:
    for key in keys:
        value = fields.get(key.lower(), ("", 0))[0]
        if value:
            return value
    return None


def document(fields: Fields, start: int, ours: set[str]) -> Parsed:
    """One document between ``СекцияДокумент`` (line ``start``) and ``КонецДокумента``."""
    payer_account = _first(fields, "ПлательщикСчет", "ПлательщикРасчСчет")
    recipient_account = _first(fields, "ПолучательСчет", "ПолучательРасчСчет")
    if payer_account in ours:
        return Outgoing(start)
    if recipient_account not in ours:
        return LineRejected(
            start,
            "not_our_account",
            f"the document names neither its payer's account ({payer_account or 'none'}) nor its "
            f"recipient's ({recipient_account or 'none'}) as one of the statement's accounts",
        )
    for key in ("Номер", "Дата", "Сумма"):
        if not fields.get(key.lower(), ("", 0))[0]:
            return LineRejected(start, "missing_key", f"the document has no {key}")
    amount_text, amount_line = fields["сумма"]
    if not _AMOUNT.fullmatch(amount_text) or Decimal(amount_text) == 0:
        return LineRejected(
            amount_line,
            "invalid_amount",
            f'Сумма "{amount_text[:40]}" is not an amount (digits, a point and at most two decimals, such as 1000.00)',
        )
    dates: dict[str, date | None] = {}
    for key in ("Дата", "ДатаПоступило", "ДатаСписано"):
        parsed = _date(fields, key)
        if isinstance(parsed, LineRejected):
            return parsed
        dates[key] = parsed
    document_date = dates["Дата"]
    assert document_date is not None
    assert recipient_account is not None
    currency = CURRENCY_CODES.get(recipient_account[5:8])
    if currency is None:
        return LineRejected(
            start, "unknown_currency", f"account {recipient_account} is in currency {recipient_account[5:8]!r}"
        )
    payer = _first(fields, "Плательщик1", "Плательщик") or ""
    return BankLine(
        line=start,
        document_number=fields["номер"][0],
        document_date=document_date,
        booked_on=dates["ДатаПоступило"] or dates["ДатаСписано"] or document_date,
        amount=Decimal(amount_text),
        currency=currency,
        payer=_LEADING_TAX_ID.sub("", payer).strip() or payer,
        payer_tax_id=tax_id(_first(fields, "ПлательщикИНН")),
        payer_account=payer_account,
        purpose=_purpose(fields),
        account=recipient_account,
    )


def _split(text: str) -> tuple[str, str]:
    key, _, value = text.partition("=")
    return key.strip().lower(), value.strip()


def parse(lines: Iterator[TextLine], encoding: str) -> Iterator[Parsed]:
    """The documents of a 1C file whose first line (``1CClientBankExchange``) was read."""
    ours: set[str] = set()
    known = unknown = 0
    section: str | None = None  # None: header; "account"; "document"
    start = 0
    fields: Fields = {}
    broken: LineRejected | None = None
    last = 1
    for line in lines:
        last = line.number
        if line.text is None:
            if section == "document":
                broken = broken or LineRejected(
                    line.number, "invalid_text", f"the line is not valid {encoding} text (the file mixes encodings)"
                )
                continue
            raise StatementUnreadable(
                line.number, "invalid_text", f"the line is not valid {encoding} text (the file mixes encodings)"
            )
        if not line.text:
            continue
        key, value = _split(line.text)
        if section == "document":
            if key == DOCUMENT_END:
                yield broken or document(fields, start, ours)
                section, fields, broken = None, {}, None
                continue
            if key in (DOCUMENT, FILE_END):
                yield LineRejected(start, "unterminated_document", "the document has no КонецДокумента")
                section, fields, broken = None, {}, None
            else:
                fields.setdefault(key, (value, line.number))
                continue
        if section == "account":
            if key == ACCOUNT_SECTION_END:
                section = None
            elif key == "расчсчет" and value:
                ours.add(value)
            continue
        if key == FILE_END:
            return
        if key == ACCOUNT_SECTION:
            section = "account"
        elif key == DOCUMENT:
            if not ours:
                raise StatementUnreadable(
                    line.number,
                    "no_account",
                    "the header names no РасчСчет before the first document: money in cannot be told from money out",
                )
            section, start = "document", line.number
        elif key in HEADER_KEYS:
            known += 1
            if key == "расчсчет" and value:
                ours.add(value)
        elif not key.isascii():
            unknown += 1
            if unknown >= 3 and known == 0:
                raise _unreadable(encoding)
    if known == 0 and unknown > 0:
        raise _unreadable(encoding)
    if section == "document":
        raise StatementUnreadable(
            last,
            "truncated",
            f"the file ends inside the document that starts on line {start} (no КонецДокумента, no КонецФайла): "
            "it was cut off; nothing was imported",
        )
    raise StatementUnreadable(last, "truncated", "the file has no КонецФайла: it was cut off; nothing was imported")


def _unreadable(encoding: str) -> StatementUnreadable:
    return StatementUnreadable(
        2,
        "encoding_unreadable",
        f"read as {encoding}, the header holds none of the format's keys (ВерсияФормата, Кодировка, РасчСчет…): "
        "the file is in another encoding; export it as Windows-1251 (or DOS, or UTF-8)",
    )
