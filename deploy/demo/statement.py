"""A bank statement as a Russian bank exports it for accounting software: the 1C client-bank
exchange text (``1CClientBankExchange``; encode it as cp1251, what banks send). The demo
imports one; the tests build theirs with it (``tests/support/statements.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

OUR_ACCOUNT = "40702810900000012345"


@dataclass(frozen=True)
class Doc:
    """One payment document of the statement (money in to ``OUR_ACCOUNT``)."""

    number: str
    amount: str
    payer_tax_id: str
    purpose: str
    on: date = date(2026, 4, 3)
    payer: str = 'ООО "Альфа"'
    payer_account: str = "40702810100000000777"
    kind: str = "Платежное поручение"


def fmt(d: date) -> str:
    return d.strftime("%d.%m.%Y")


def exchange_1c(docs: list[Doc], *, end: bool = True, account: str = OUR_ACCOUNT) -> str:
    """The statement's text: a header naming ``account`` for the days of ``docs``, one account
    section, the documents, and (``end``) the end marker — without it the file is cut off."""
    first, last = (min(d.on for d in docs), max(d.on for d in docs)) if docs else (date.today(), date.today())
    lines = [
        "1CClientBankExchange",
        "ВерсияФормата=1.03",
        "Кодировка=Windows",
        "Отправитель=Бухгалтерия предприятия",
        f"ДатаНачала={fmt(first)}",
        f"ДатаКонца={fmt(last)}",
        f"РасчСчет={account}",
        "СекцияРасчСчет",
        f"ДатаНачала={fmt(first)}",
        f"РасчСчет={account}",
        "НачальныйОстаток=0.00",
        "КонецРасчСчет",
    ]
    for d in docs:
        lines += [
            f"СекцияДокумент={d.kind}",
            f"Номер={d.number}",
            f"Дата={fmt(d.on)}",
            f"Сумма={d.amount}",
            f"ПлательщикСчет={d.payer_account}",
            f"Плательщик1={d.payer}",
            f"ПлательщикИНН={d.payer_tax_id}",
            f"ПолучательСчет={account}",
            f"ДатаПоступило={fmt(d.on)}",
            f"НазначениеПлатежа={d.purpose}",
            "КонецДокумента",
        ]
    if end:
        lines.append("КонецФайла")
    return "\r\n".join(lines) + "\r\n"
